/** OneKey Payments (Directa24 v3): adapter, Effect client, notifications, sandbox, test helpers. */
export { onekey, type OnekeyAdapterConfig, type OnekeyInputs } from "./adapter.js"
export type { Secret } from "../config.js"
export { OnekeyClient, layer, make, onekeyHeaders, type OnekeyConfig, type OnekeyClientShape, type OnekeyDepositBody, type OnekeyRefundBody } from "./client.js"
export { isDefiniteRefusal, isKeyReuse, isOnekeyError, onekeyErrorKind, type OnekeyErrorDetails, type OnekeyErrorKind } from "./errors.js"
export { parseNotification, readNotification, MAX_NOTIFICATION_BYTES } from "./notifications.js"
export { ONEKEY_SENSITIVE } from "./sensitive.js"
export { startOnekeySandbox, ONEKEY_SANDBOX_DEFAULTS, type OnekeySandboxOptions, type RunningOnekeySandbox } from "./sandbox.js"
export { signOnekey, signOnekeyWebhook } from "./signing.js"
export { ERRORS as ONEKEY_ERRORS, REFUND_STATUSES, DEPOSIT_STATUSES, CARD_RESULTS, ledgerStatus, paymentStatusOf, xDate, type OnekeyErrorCode, type OnekeyRefundStatus } from "./wire.js"
export { onekeyMachine, onekeyPolicy, createOnekeyMachine, createOnekeyPolicy, isCardMethod, CARD_METHODS, type OnekeyPolicyOptions } from "../../../machines/onekey/index.js"

/** The body OneKey posts to a notification URL (it carries no signature: paystate fetches the status). */
export const onekeyNotification = (refundId: number | string): string => JSON.stringify({ refund_id: refundId })
