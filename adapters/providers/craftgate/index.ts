/** Craftgate: adapter, Effect client, sandbox, signers. */
export { craftgate, type CraftgateAdapterConfig } from "./adapter.js"
export { CraftgateClient, layer, make, type CraftgateConfig, type CraftgateClientShape } from "./client.js"
export { startCraftgateSandbox, CRAFTGATE_SANDBOX_DEFAULTS, type CraftgateSandboxOptions } from "./sandbox.js"
export { signCraftgateRequest, signCraftgateWebhook } from "./signing.js"
export { craftgateMachine, createCraftgateMachine, craftgatePolicy, businessDay, sameDay, type DayRule } from "../../../machines/craftgate/index.js"
