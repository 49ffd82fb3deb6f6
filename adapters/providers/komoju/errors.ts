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
  "IdempotencyConflict",
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

/**
 * True for an answer about the idempotency key rather than the operation: KOMOJU documents a 409 for
 * a key still in use and is silent on a key reused with another body (docs: idempotent-requests);
 * any 4xx whose `param` names the header is read as such, and never as a refusal of the operation.
 */
const aboutTheKey = (param: unknown): boolean => typeof param === "string" && /idempotency/i.test(param)

/** Builds the error of a KOMOJU error answer. */
export const fromAnswer = (status: number, body: unknown): KomojuError => {
  const e = (body as { error?: { message?: unknown; code?: unknown; param?: unknown } } | undefined)?.error
  const reason = status >= 400 && status < 500 && aboutTheKey(e?.param) ? "IdempotencyConflict" : reasonOf(status)
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
 * Reasons that are KOMOJU's definite answer to the operation itself: a bad request (400, or a body
 * our own client refused before sending), a declined payment (402) and a rule KOMOJU applied (422).
 * Everything else says nothing about the operation: no answer, 5xx, 409 (key in use), a key reused
 * with another body, 401/403 (credentials: the request was not looked at) and 404 (a payment KOMOJU
 * already answered for cannot have vanished; a wrong base URL answers 404 too).
 */
const DEFINITE: readonly KomojuErrorReason[] = ["BadRequest", "RequestFailed", "Unprocessable"]

/**
 * Maps a client error to the engine's contract. For an `operation` (create, capture, cancel, update,
 * refund, refund request) a definite answer is PROVIDER_REJECTED (the engine records the failure);
 * anything else is PROVIDER_UNAVAILABLE (the outcome is unknown; reconciled later). For a `lookup`
 * nothing is ever a refusal: a lookup that fails cannot tell. A 401/403 is PROVIDER_AUTH_FAILED for both.
 */
export const toPaystateError = (e: KomojuError, what: string, kind: "operation" | "lookup" = "operation"): PaystateError =>
  // 401/403: KOMOJU did not look at the request, so nothing was performed and nothing may be failed;
  // the host must see that its key is wrong rather than a provider outage.
  e.reason === "Unauthorized" || e.reason === "Forbidden"
    ? paystateError("PROVIDER_AUTH_FAILED", `KOMOJU refused paystate's credentials for ${what} (HTTP ${e.status}: ${e.message}). Check the secretKey given to komoju(); nothing was performed, and the operation is retried once the key is right.`, {
        provider: "komoju",
        status: e.status,
        code: e.code,
      })
    : kind === "operation" && !e.retryable && DEFINITE.includes(e.reason)
    ? paystateError("PROVIDER_REJECTED", `KOMOJU refused ${what}: ${e.message}`, { code: e.code, status: e.status, param: e.param, body: e.body })
    : paystateError("PROVIDER_UNAVAILABLE", `KOMOJU ${what}: ${e.message}`, { code: e.code, status: e.status, param: e.param }, true)
