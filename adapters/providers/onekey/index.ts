/** OneKey Payments (Directa24 v3): adapter, Effect client, sandbox. */
export { onekey, type OnekeyAdapterConfig } from "./adapter.js"
export { OnekeyClient, layer, make, type OnekeyConfig, type OnekeyClientShape } from "./client.js"
export { startOnekeySandbox, ONEKEY_SANDBOX_DEFAULTS, type OnekeySandboxOptions } from "./sandbox.js"
export { signOnekey } from "./signing.js"
export { ERRORS as ONEKEY_ERRORS, xDate } from "./wire.js"
export { onekeyMachine, onekeyPolicy } from "../../../machines/onekey/index.js"

/** The body OneKey posts to a notification URL (it carries no signature: paystate fetches the status). */
export const onekeyNotification = (refundId: number | string): string => JSON.stringify({ refund_id: refundId })
