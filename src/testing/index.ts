/**
 * Test helpers for hosts: an in-process fake provider, a manual clock, the providers' webhook
 * signers (so a host's tests can post webhooks its engine will accept), invariant checkers and a
 * schedule runner for property tests against the sandboxes. None of this needs fast-check or vitest:
 * the arbitraries are in `paystate/testing/arbitraries` (fast-check), the store contract suite in
 * `paystate/testing/store-contract` (vitest).
 */
export { fakeProvider, type FakeProvider, type FakeOutcome, type FakeMovement } from "./fake-provider.js"
export { manualClock, type ManualClock } from "../clock.js"
export { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js"
export { signKomojuWebhook, DECLINED_CARD } from "../../adapters/providers/komoju/index.js"
export { signOnekeyWebhook, onekeyNotification } from "../../adapters/providers/onekey/index.js"
export { signCraftgateWebhook, CRAFTGATE_DECLINED_CARD_SUFFIX } from "../../adapters/providers/craftgate/index.js"
export {
  assertNoViolations,
  checkCeiling,
  checkCraftgateCancelRule,
  checkLedgerAgrees,
  checkNoDoubleEffect,
  InvariantViolation,
  keyOfMovement,
  LEDGER_CONVENTIONS,
  sandboxLedger,
  type InvariantName,
  type LedgerConvention,
  type Movement,
  type Violation,
} from "./invariants.js"
export {
  checkWorld,
  runSchedule,
  settleEverything,
  SANDBOX_BANK_ACCOUNTS,
  TOLERATED_CODES,
  type FaultMode,
  type FaultTarget,
  type RunOptions,
  type SandboxKind,
  type ScheduleEngine,
  type ScheduleRun,
  type ScheduleSandbox,
  type ScheduleWorld,
  type Step,
  type WebhookMode,
} from "./schedule.js"
