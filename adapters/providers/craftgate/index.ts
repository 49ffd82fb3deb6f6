/**
 * Craftgate for paystate: the adapter (`craftgate(config)`), the Effect client (`CraftgateClient`),
 * the sandbox (`startCraftgateSandbox`), the signers (`signCraftgateWebhook` for test webhooks) and
 * the demo journey.
 */
export { craftgate, type CraftgateAdapterConfig, type CraftgateInputs } from "./adapter.js"
export type { Secret } from "../config.js"
export { CraftgateClient, craftgateQuery, layer, make, type CraftgateConfig, type CraftgateClientShape } from "./client.js"
export { craftgateErrorReason, isCraftgateRejection, type CraftgateErrorDetails, type CraftgateErrorReason } from "./errors.js"
export { craftgateCreateSchema, craftgateRefundSchema, CRAFTGATE_MAX_AMOUNT, type CardSecret, type StoredCardRequest } from "./inputs.js"
export { asTransactionRefund, ours as parseConversationId, paymentState, refundReports, transactionReports } from "./reports.js"
export { CRAFTGATE_SENSITIVE } from "./sensitive.js"
export { startCraftgateSandbox, CRAFTGATE_SANDBOX_DEFAULTS, type CraftgateSandboxOptions, type RunningCraftgateSandbox } from "./sandbox.js"
export { CRAFTGATE_DECLINED_CARD_SUFFIX } from "./sandbox-book.js"
export {
  signCraftgateRequest,
  signCraftgateWebhook,
  craftgateWebhookSignature,
  craftgateHeaders,
  DEFAULT_WEBHOOK_SIGNATURE_HEADER,
  type CraftgateWebhookFields,
} from "./signing.js"
export { parseWebhook, DEFAULT_WEBHOOK_TOLERANCE_SECONDS, type CraftgateWebhookConfig } from "./webhooks.js"
export {
  CRAFTGATE_CURRENCIES,
  REFUND_STATUSES,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_STATUSES,
  craftgateInstant,
  craftgateDate,
  ledgerStatus,
  type CardPayment,
  type PaymentRefund,
  type TransactionRefund,
  type ReportingPayment,
  type ReportingRefund,
  type ReportingTransactionRefund,
  type CraftgateWebhook,
  type CraftgateRefundStatus,
  type CreateCardPaymentBody,
  type PostAuthBody,
  type RefundPaymentBody,
  type RefundTransactionBody,
  type RefundSearch,
} from "./wire.js"
export {
  craftgateMachine,
  craftgatePolicy,
  createCraftgateMachine,
  createCraftgatePolicy,
  businessDay,
  sameDay,
  checkDayRule,
  wholeRefundType,
  transactionsLeft,
  CRAFTGATE_POLL_DELAYS_MS,
  DEFAULT_DAY_RULE,
  type DayRule,
  type CraftgatePolicyOptions,
} from "../../../machines/craftgate/index.js"
export { demoCraftgate } from "./demo.js"
