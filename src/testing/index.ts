/**
 * Test helpers for hosts: an in-process fake provider, a manual clock, and the providers' webhook
 * signers (so a host's tests can post webhooks its engine will accept).
 */
export { fakeProvider, type FakeProvider, type FakeOutcome, type FakeMovement } from "./fake-provider.js"
export { manualClock, type ManualClock } from "../clock.js"
export { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js"
export { signKomojuWebhook, DECLINED_CARD } from "../../adapters/providers/komoju/index.js"
export { signOnekeyWebhook, onekeyNotification } from "../../adapters/providers/onekey/index.js"
export { signCraftgateWebhook, CRAFTGATE_DECLINED_CARD_SUFFIX } from "../../adapters/providers/craftgate/index.js"
