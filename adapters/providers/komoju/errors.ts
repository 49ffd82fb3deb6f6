/**
 * The KOMOJU client's one error type: a `reason` chosen from the HTTP status and the
 * `{"error": {"message", "code", "param"}}` envelope, and whether a retry could help.
 */
import { Schema } from "effect"
import { paystateError, type PaystateError } from "../../../src/errors.js"

/** Why a KOMOJU call failed. */
export const KOMOJU_ERROR_REASONS = [
  "BadRequest",
  "Unauthorized",
  "RequestFailed",
  "Forbidden",
  "NotFound",
  "Conflict",
  "Unprocessable",
  "ServerError",
  "Unavailable",
  "InvalidResponse",
] as const

/** One of the reasons. */
export type KomojuErrorReason = (typeof KOMOJU_ERROR_REASONS)[number]

/** A failed KOMOJU call. `retryable` is true only where KOMOJU's outcome is unknown or transient. */
export class KomojuError extends Schema.TaggedError<KomojuError>()("KomojuError", {
  reason: Schema.Literals(KOMOJU_ERROR_REASONS),
  /** HTTP status, or 0 when no answer arrived. */
  status: Schema.Number,
  /** KOMOJU's error code (`not_found`, `unprocessable_entity`, `missing_parameter`, …). */
  code: Schema.String,
  message: Schema.String,
  param: Schema.NullOr(Schema.String),
  retryable: Schema.Boolean,
  body: Schema.optional(Schema.Unknown),
}) {}

/** The reason of a definite HTTP answer. */
export const reasonOf = (status: number): KomojuErrorReason => {
  if (status === 400) return "BadRequest"
  if (status === 401) return "Unauthorized"
  if (status === 402) return "RequestFailed"
  if (status === 403) return "Forbidden"
  if (status === 404) return "NotFound"
  if (status === 409) return "Conflict"
  if (status === 422) return "Unprocessable"
  if (status >= 500) return "ServerError"
  return "BadRequest"
}

/** Builds the error of a KOMOJU error answer. */
export const fromAnswer = (status: number, body: unknown): KomojuError => {
  const e = (body as { error?: { message?: unknown; code?: unknown; param?: unknown } } | undefined)?.error
  const reason = reasonOf(status)
  return new KomojuError({
    reason,
    status,
    code: typeof e?.code === "string" ? e.code : `http_${status}`,
    message: typeof e?.message === "string" ? e.message : `KOMOJU answered HTTP ${status}.`,
    param: typeof e?.param === "string" ? e.param : null,
    retryable: status >= 500 || status === 409,
    body,
  })
}

/**
 * Maps a client error to the engine's contract: a definite 4xx is PROVIDER_REJECTED (the engine
 * records the failure); anything whose outcome is unknown is PROVIDER_UNAVAILABLE (reconciled later).
 */
export const toPaystateError = (e: KomojuError, what: string): PaystateError =>
  e.retryable || e.reason === "Unavailable" || e.reason === "InvalidResponse"
    ? paystateError("PROVIDER_UNAVAILABLE", `KOMOJU ${what}: ${e.message}`, { code: e.code, status: e.status, param: e.param }, true)
    : paystateError("PROVIDER_REJECTED", `KOMOJU refused ${what}: ${e.message}`, { code: e.code, status: e.status, param: e.param, body: e.body })
