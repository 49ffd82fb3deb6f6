/**
 * KOMOJU for paystate: the adapter (`komoju(config)`), the Effect client (`KomojuClient`), the
 * sandbox (`startKomojuSandbox`), the test-webhook signer (`signKomojuWebhook`) and the demo journey.
 */
export { komoju, type KomojuConfig } from "./adapter.js"
export type { Secret } from "../config.js"
export { KomojuClient, makeKomojuClient, transientStatus, type KomojuClientConfig, type KomojuClientShape, type PostOptions } from "./client.js"
export { KomojuError, KOMOJU_ERROR_REASONS, type KomojuErrorReason } from "./errors.js"
export {
  komojuCreateSchema,
  komojuRefundSchema,
  komojuRefundRequestSchema,
  type KomojuInputs,
  type KomojuCreateFields,
  type KomojuPaymentDetails,
  type KomojuPaymentDetailsOf,
  type KomojuRefundOptions,
  type KomojuRefundRequestOptions,
} from "./inputs.js"
export { PAYSTATE_ID_KEY, carrierDescription, refundIdOf } from "./mapping.js"
export { KOMOJU_SENSITIVE, SECRET_PAYMENT_DETAILS } from "./sensitive.js"
export { signKomojuWebhook, komojuSignature, verifyKomojuSignature, type SignedKomojuWebhook } from "./signing.js"
export {
  startKomojuSandbox,
  DEFAULT_KOMOJU_SECRET_KEY,
  DEFAULT_KOMOJU_WEBHOOK_SECRET,
  KOMOJU_SANDBOX_DEFAULTS,
  type KomojuSandboxOptions,
  type RunningKomojuSandbox,
} from "./sandbox.js"
export { DECLINED_CARD, type KomojuEventType } from "./sandbox-book.js"
export { demoKomoju } from "./demo.js"
export type { KomojuPayment, KomojuRefund, KomojuRefundRequest, KomojuList, KomojuEvent, CreatePaymentBody, UpdatePaymentBody, RefundBody, RefundRequestBody, ListQuery } from "./wire.js"
