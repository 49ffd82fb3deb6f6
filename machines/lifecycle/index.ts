export * from "./types.js"
export { totals, fits, canMove, matchEntry, applyReport, applyReports, failEntry, RESERVING, type LedgerTotals } from "./ledger.js"
export { createPaymentMachine, impliedStatus, mergePayment, type MachineContext, type PaymentMachine, type PaymentPolicy, type RefundPlan } from "./machine.js"
export { basicPolicy, lifecycleMachine } from "./policy.js"
