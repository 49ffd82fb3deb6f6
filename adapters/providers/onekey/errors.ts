/**
 * OneKey's `{code, description, type}` errors as typed paystate errors. A 4xx answer is definite
 * (`PROVIDER_REJECTED`, never retried) and carries OneKey's code in `details.code`, with one
 * exception: "this X-Idempotency-Key was used with another body" says nothing about the operation
 * (the first request with that key may well have been performed), so it is `PROVIDER_UNAVAILABLE`.
 * What cannot be read as an answer (timeouts, 5xx, a 409 for a request still running, a 2xx body we
 * cannot parse) is `PROVIDER_UNAVAILABLE` too: the outcome is unknown and must be reconciled.
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

/**
 * True for an answer refusing a reused idempotency key: D24 documents no code for it, so any 4xx
 * whose text names the idempotency key (the sandbox's 202 "X-Idempotency-Key was already used with
 * another body" among them) is read as that, never as a refusal of the operation.
 */
export const isKeyReuse = (reply: HttpReply): boolean => reply.status >= 400 && reply.status < 500 && /idempotency/i.test(reply.text)

/** Maps a non-2xx answer to the typed error. */
export const rejection = (reply: HttpReply, what: string): PaystateError => {
  if (isKeyReuse(reply)) {
    return paystateError(
      "PROVIDER_UNAVAILABLE",
      `OneKey refused ${what}: its X-Idempotency-Key was already used with another body. That is no answer to the operation (the first request with this key may have been performed); the outcome is unknown.`,
      { status: reply.status, reason: "idempotency_key_reused", body: reply.json ?? reply.text.slice(0, 500) },
    )
  }
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

/**
 * True when an error of a request is OneKey's definite refusal of the operation itself: a 4xx with a
 * OneKey code that is not about authentication (1xx: credentials, headers, signature, X-Date say
 * nothing about the operation) — 8xx refund codes, 208 unknown deposit or invoice, 2xx invalid body.
 * Used on the idempotent replay that reconciles an effect: only such an answer may fail it.
 */
export const isDefiniteRefusal = (e: PaystateError): boolean => {
  if (e.code !== "PROVIDER_REJECTED" || !e.details || typeof e.details !== "object") return false
  const d = e.details as Partial<OnekeyErrorDetails>
  return typeof d.status === "number" && d.status >= 400 && d.status < 500 && d.code !== null && d.code !== undefined && d.kind !== "authentication"
}

/**
 * True for OneKey's refusal of paystate's request before looking at it: an authentication code (1xx:
 * unknown login, bad signature, missing header, X-Date out of range) or a 401/403 without a OneKey body.
 */
export const isAuthRefusal = (e: PaystateError): boolean => {
  if (e.code !== "PROVIDER_REJECTED" || !e.details || typeof e.details !== "object") return false
  const d = e.details as Partial<OnekeyErrorDetails>
  return d.kind === "authentication" || ((d.code === null || d.code === undefined) && (d.status === 401 || d.status === 403))
}

/**
 * The client's refusals of the credentials as PROVIDER_AUTH_FAILED, every other error unchanged. The
 * client reports OneKey's answers as they are; the adapter says what they mean for the engine: an
 * operation OneKey never looked at was not performed, so it must not be recorded as failed.
 */
export const asAuthFailure = (e: PaystateError): PaystateError =>
  isAuthRefusal(e)
    ? paystateError(
        "PROVIDER_AUTH_FAILED",
        `OneKey refused paystate's credentials (${e.message}) Check login and secretKey given to onekey() (and the clock, for X-Date); nothing was performed, and the operation is retried once they are right.`,
        { provider: "onekey", ...(e.details as OnekeyErrorDetails) },
      )
    : e

/** The client with every call's credential refusal mapped by `asAuthFailure`. */
export const authChecked = <C extends object>(client: C): C =>
  Object.fromEntries(
    Object.entries(client).map(([k, f]) => [k, typeof f === "function" ? (...args: unknown[]) => (f as (...a: unknown[]) => Effect.Effect<unknown, PaystateError>)(...args).pipe(Effect.mapError(asAuthFailure)) : f]),
  ) as C

/**
 * A failed lookup as "cannot tell": whatever a read answers (208, 4xx, 5xx), it is no answer to the
 * operation it looks at, so it must never reach the engine as `PROVIDER_REJECTED`.
 */
export const lookupFailure = (what: string) => (e: PaystateError): PaystateError =>
  // A credential refusal keeps its code: the host must learn that its key is wrong.
  e.code === "PROVIDER_UNAVAILABLE" || e.code === "PROVIDER_AUTH_FAILED"
    ? e
    : paystateError("PROVIDER_UNAVAILABLE", `OneKey could not tell ${what}: ${e.message} A failed lookup is not an answer to the operation; it is asked again later.`, { lookup: what, cause: e.code, provider: e.details as never }, true)

/** Reads an object OneKey may not know: its 208 becomes `undefined`; anything else stays an error. */
export const unlessNotFound = <A>(e: Effect.Effect<A, PaystateError>): Effect.Effect<A | undefined, PaystateError> =>
  e.pipe(Effect.catch((err: PaystateError) => (isOnekeyError(err, 208) ? Effect.succeed(undefined) : Effect.fail(err))))
