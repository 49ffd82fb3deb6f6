/**
 * Craftgate's answers that are not `{data}`, as PaystateErrors. A 4xx is a definite refusal
 * (PROVIDER_REJECTED, never retried), except a 401/403 (PROVIDER_AUTH_FAILED: not performed); a 5xx or a body that cannot be read leaves the outcome unknown
 * (PROVIDER_UNAVAILABLE, reconciled before anything is sent again).
 */
import { paystateError, type PaystateError } from "../../../src/errors.js"
import type { HttpReply } from "../http.js"
import { errorEnvelope } from "./wire.js"

/** Why Craftgate refused, so a host can branch without a table of codes. */
export type CraftgateErrorReason = "authentication" | "not_found" | "validation" | "payment" | "business"

/** What `details` of a Craftgate refusal holds. */
export interface CraftgateErrorDetails {
  readonly status: number
  /** Craftgate's `errorCode`, e.g. "10051". */
  readonly code: string
  readonly description: string | null
  /** Craftgate's `errorGroup` (bank and payment errors), e.g. "NOT_SUFFICIENT_FUNDS". */
  readonly group: string | null
  readonly reason: CraftgateErrorReason
}

/** Classifies a refusal: codes above 10000 are bank/payment errors, lower ones validation errors. */
export const craftgateErrorReason = (status: number, code: string): CraftgateErrorReason => {
  if (status === 401 || status === 403) return "authentication"
  if (status === 404) return "not_found"
  const n = Number(code)
  if (Number.isFinite(n) && n > 10000) return "payment"
  return status === 422 ? "business" : "validation"
}

/** The error for a 4xx answer. */
export const rejection = (reply: HttpReply, what: string): PaystateError => {
  const e = errorEnvelope.safeParse(reply.json)
  const code = e.success ? e.data.errors.errorCode : String(reply.status)
  const description = e.success ? (e.data.errors.errorDescription ?? null) : reply.text.slice(0, 500) || null
  const details: CraftgateErrorDetails = { status: reply.status, code, description, group: e.success ? (e.data.errors.errorGroup ?? null) : null, reason: craftgateErrorReason(reply.status, code) }
  // 401/403: Craftgate refused the credentials without looking at the request, so nothing was
  // performed; it must not be recorded as failed, and the host must learn that a key is wrong.
  if (details.reason === "authentication") {
    return paystateError("PROVIDER_AUTH_FAILED", `Craftgate refused paystate's credentials for ${what}: ${code}${description ? ` ${description}` : ""} (HTTP ${reply.status}). Check apiKey and secretKey given to craftgate(); nothing was performed, and the operation is retried once they are right.`, { provider: "craftgate", ...details })
  }
  return paystateError("PROVIDER_REJECTED", `Craftgate refused ${what}: ${code}${description ? ` ${description}` : ""} (HTTP ${reply.status}).`, details)
}

/** The error for an answer whose body is not what Craftgate documents: the outcome is unknown. */
export const unreadable = (reply: HttpReply, what: string, issues?: unknown): PaystateError =>
  paystateError("PROVIDER_UNAVAILABLE", `Craftgate answered ${what} with a body paystate cannot read (HTTP ${reply.status}).`, { status: reply.status, body: reply.json ?? reply.text.slice(0, 500), issues }, true)

/** True when the error is Craftgate's definite refusal, optionally for a given reason. */
export const isCraftgateRejection = (e: unknown, reason?: CraftgateErrorReason): e is PaystateError & { details: CraftgateErrorDetails } =>
  !!e && typeof e === "object" && (e as PaystateError).code === "PROVIDER_REJECTED" && (reason === undefined || ((e as PaystateError).details as CraftgateErrorDetails | undefined)?.reason === reason)
