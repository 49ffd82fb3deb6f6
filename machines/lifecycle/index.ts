export * from "./types.js"
export { totals, fits, canMove, matchEntry, applyReport, applyReports, failEntry, RESERVING, type LedgerTotals, type RouteReport } from "./ledger.js"
export { createPaymentMachine, impliedStatus, mergePayment, refundMachinesOf, type MachineContext, type PaymentMachine, type PaymentPolicy, type RefundPlan } from "./machine.js"
export { basicPolicy, lifecycleMachine } from "./policy.js"
export {
  lifecycleRefundMachine,
  refundActions,
  refundGuards,
  refundContext,
  refundSetup,
  refundStatusOf,
  inFlight,
  settledOn,
  REFUND_TAGS,
  type RefundContext,
  type RefundEvent,
  type RefundInput,
  type RefundMachine,
  type RefundReport,
  type RefundReview,
  type RefundSnapshot,
} from "./refund.js"
