/**
 * paystate: the payment lifecycle and every provider's refund path as durable state machines inside
 * your application. Start with `createEngine`; add a store from `paystate/stores/*` and providers from
 * `paystate/providers/*`.
 */
export { createEngine, type Engine, type EngineOptions } from "./engine.js"
export { Paystate, layer, layerConfig, fromEngine, type PaystateService, type Configured, type ConfiguredEngineOptions } from "./effect.js"
export { PaystateError, paystateError, isPaystateError, ERROR_CODES, REASON_TAGS, type ErrorCode, type PaystateReason } from "./errors.js"
export { CURRENCY_EXPONENTS, exponentOf, isKnownCurrency, isExactOnWire, toMinor, toMajorString, toMajorNumber, formatMoney } from "./money.js"
export { systemClock, manualClock, type Clock, type ManualClock } from "./clock.js"
export { replaySnapshots, replayInto } from "./replay.js"
export { toMermaid, toJson } from "./diagram.js"
export { toView } from "./view.js"
export type { InspectFn } from "./inspect.js"
export type * from "./types.js"
export type * from "./store.js"
export { StoreConflict } from "./store.js"
export type { ScalableStore, CursorListQuery, CursorListPage } from "../adapters/stores/types.js"
export type * from "./provider.js"
export {
  createPaymentMachine,
  lifecycleMachine,
  basicPolicy,
  totals,
  PAYMENT_STATUSES,
  type PaymentPolicy,
  type RefundPlan,
  type PaymentMachine,
  type MachineContext,
  type PaymentEvent,
  type PaymentStatus,
  type RefundStatus,
  type LedgerEntry,
} from "../machines/lifecycle/index.js"
