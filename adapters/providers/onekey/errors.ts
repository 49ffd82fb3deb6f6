/**
 * OneKey's `{code, description, type}` errors as typed paystate errors. Every 4xx answer is definite
 * (`PROVIDER_REJECTED`, never retried) and carries OneKey's code in `details.code`; what cannot be
 * read as an answer (timeouts, 5xx, a 409 for a request still running, a 2xx body we cannot parse)
 * is `PROVIDER_UNAVAILABLE`: the outcome is unknown and must be reconciled, not assumed.
 */
import { Effect } from "effect"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import type { HttpReply } from "../http.js"
import { ERRORS, errorBody, type OnekeyErrorCode } from "./wire.js"

/** What kind of refusal a OneKey code is, so a host can branch without a table of numbers. */
export type OnekeyErrorKind = "authentication" | "request" | "not_found" | "refund" | "other"

/** The `details` of a PROVIDER_REJECTED raised from a OneKey answer. */
export interface OnekeyErrorDetails {
  readonly status: number
  /** OneKey's code (802, 804, 208, 102, …), or null when the answer had no OneKey error body. */
  readonly code: number | string | null
  readonly type: string | null
  readonly description: string | null
  readonly kind: OnekeyErrorKind
}

/** Classifies a OneKey code: 1xx headers and signature, 2xx request, 208 not found, 8xx refunds. */
export const onekeyErrorKind = (code: number | string | null): OnekeyErrorKind => {
  const n = Number(code)
  if (n === 208) return "not_found"
  if (n >= 100 && n < 200) return "authentication"
  if (n >= 200 && n < 300) return "request"
  if (n >= 800 && n < 900) return "refund"
  return "other"
}

/** True when the error is OneKey's refusal with the given code (e.g. 802). */
export const isOnekeyError = (e: unknown, code?: OnekeyErrorCode | number): e is PaystateError & { details: OnekeyErrorDetails } =>
  e instanceof Error &&
  (e as PaystateError).code === "PROVIDER_REJECTED" &&
  typeof (e as PaystateError).details === "object" &&
  (code === undefined || Number(((e as PaystateError).details as OnekeyErrorDetails).code) === Number(code))

/** HTTP answers that say nothing definite: retried with the same idempotency key, else unknown. */
export const transientStatus = (status: number): boolean => status >= 500 || status === 409 || status === 429

/** Maps a non-2xx answer to the typed error. */
export const rejection = (reply: HttpReply, what: string): PaystateError => {
  const parsed = errorBody.safeParse(reply.json)
  const body = parsed.success ? parsed.data : undefined
  const code = body ? (Number.isFinite(Number(body.code)) ? Number(body.code) : body.code) : null
  const known = typeof code === "number" ? (ERRORS as Record<number, { type: string } | undefined>)[code] : undefined
  const details: OnekeyErrorDetails = {
    status: reply.status,
    code,
    type: body?.type ?? known?.type ?? null,
    description: body?.description ?? body?.message ?? (body ? null : reply.text.slice(0, 500) || null),
    kind: onekeyErrorKind(code),
  }
  const label = code === null ? `HTTP ${reply.status}` : `${code} ${details.type ?? ""} ${details.description ?? ""}`.trim()
  return paystateError("PROVIDER_REJECTED", `OneKey refused ${what}: ${label}.`, details, false)
}

/** A 2xx answer whose body is not what OneKey documents: the call may have taken effect. */
export const unreadable = (reply: HttpReply, what: string): PaystateError =>
  paystateError("PROVIDER_UNAVAILABLE", `OneKey answered ${what} with a body paystate cannot read; the outcome is unknown.`, { status: reply.status, body: reply.json ?? reply.text.slice(0, 500) }, true)

/** Reads an object OneKey may not know: its 208 becomes `undefined`; anything else stays an error. */
export const unlessNotFound = <A>(e: Effect.Effect<A, PaystateError>): Effect.Effect<A | undefined, PaystateError> =>
  e.pipe(Effect.catch((err: PaystateError) => (isOnekeyError(err, 208) ? Effect.succeed(undefined) : Effect.fail(err))))
