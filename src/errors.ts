import { Schema } from "effect"

/** The stable error codes of paystate; hosts branch on these, never on messages. */
export const ERROR_CODES = [
  "INVALID_INPUT",
  "PAYMENT_NOT_FOUND",
  "INVALID_TRANSITION",
  "REFUND_EXCEEDS_REFUNDABLE",
  "PROVIDER_REJECTED",
  "PROVIDER_UNAVAILABLE",
  "CONCURRENT_MODIFICATION",
  "WEBHOOK_REJECTED",
  "UNKNOWN_PROVIDER",
  "ENGINE_CLOSED",
  "CARD_DATA_UNAVAILABLE",
  "REVIEW_ITEM_NOT_FOUND",
  "STORE_UNAVAILABLE",
] as const

/** One of the stable error codes. */
export type ErrorCode = (typeof ERROR_CODES)[number]

/**
 * The single error type paystate raises, in Promises and in Effects alike. `code` is stable;
 * `details` carries the zod issues, the provider's own error body, or the refundable figures.
 */
export class PaystateError extends Schema.TaggedError<PaystateError>()("PaystateError", {
  code: Schema.Literals(ERROR_CODES),
  message: Schema.String,
  details: Schema.optional(Schema.Unknown),
  retryable: Schema.optional(Schema.Boolean),
}) {}

/** Builds a PaystateError. */
export const paystateError = (code: ErrorCode, message: string, details?: unknown, retryable?: boolean): PaystateError =>
  new PaystateError({ code, message, details, retryable: retryable ?? (code === "PROVIDER_UNAVAILABLE" || code === "CONCURRENT_MODIFICATION" || code === "STORE_UNAVAILABLE") })

/** True when the value is a PaystateError, optionally of the given code. */
export const isPaystateError = (value: unknown, code?: ErrorCode): value is PaystateError =>
  value instanceof PaystateError && (code === undefined || value.code === code)
