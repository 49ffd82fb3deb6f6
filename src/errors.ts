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
  "REVIEW_REQUIRED",
  "STORE_UNAVAILABLE",
  "MACHINE_VERSION_MISSING",
  "PROVIDER_AUTH_FAILED",
  "CONFIGURATION_INVALID",
] as const

/** One of the stable error codes. */
export type ErrorCode = (typeof ERROR_CODES)[number]

/** The `_tag` of each code's reason, for `Effect.catchReason("PaystateError", "<Tag>", …)`. */
export const REASON_TAGS = {
  INVALID_INPUT: "InvalidInput",
  PAYMENT_NOT_FOUND: "PaymentNotFound",
  INVALID_TRANSITION: "InvalidTransition",
  REFUND_EXCEEDS_REFUNDABLE: "RefundExceedsRefundable",
  PROVIDER_REJECTED: "ProviderRejected",
  PROVIDER_UNAVAILABLE: "ProviderUnavailable",
  CONCURRENT_MODIFICATION: "ConcurrentModification",
  WEBHOOK_REJECTED: "WebhookRejected",
  UNKNOWN_PROVIDER: "UnknownProvider",
  ENGINE_CLOSED: "EngineClosed",
  CARD_DATA_UNAVAILABLE: "CardDataUnavailable",
  REVIEW_ITEM_NOT_FOUND: "ReviewItemNotFound",
  REVIEW_REQUIRED: "ReviewRequired",
  STORE_UNAVAILABLE: "StoreUnavailable",
  MACHINE_VERSION_MISSING: "MachineVersionMissing",
  PROVIDER_AUTH_FAILED: "ProviderAuthFailed",
  CONFIGURATION_INVALID: "ConfigurationInvalid",
} as const satisfies Record<ErrorCode, string>

/** A PaystateError's code as a tagged reason: narrow with `Effect.catchReason` or a `switch` on `_tag`. */
export type PaystateReason = {
  readonly [C in ErrorCode]: { readonly _tag: (typeof REASON_TAGS)[C]; readonly code: C; readonly message: string; readonly details: unknown; readonly retryable: boolean }
}[ErrorCode]

/**
 * The single error type paystate raises, in Promises and in Effects alike. `code` is stable;
 * `details` carries the zod issues, the provider's own error body, or the refundable figures.
 */
export class PaystateError extends Schema.TaggedError<PaystateError>()("PaystateError", {
  code: Schema.Literals(ERROR_CODES),
  message: Schema.String,
  details: Schema.optional(Schema.Unknown),
  retryable: Schema.optional(Schema.Boolean),
}) {
  /** The code as a tagged reason: `Effect.catchReason("PaystateError", "RefundExceedsRefundable", (r) => …)`. */
  get reason(): PaystateReason {
    return { _tag: REASON_TAGS[this.code], code: this.code, message: this.message, details: this.details, retryable: this.retryable ?? false } as PaystateReason
  }
}

/** Builds a PaystateError. */
export const paystateError = (code: ErrorCode, message: string, details?: unknown, retryable?: boolean): PaystateError =>
  new PaystateError({ code, message, details, retryable: retryable ?? (code === "PROVIDER_UNAVAILABLE" || code === "CONCURRENT_MODIFICATION" || code === "STORE_UNAVAILABLE") })

/** True when the value is a PaystateError, optionally of the given code. */
export const isPaystateError = (value: unknown, code?: ErrorCode): value is PaystateError =>
  value instanceof PaystateError && (code === undefined || value.code === code)
