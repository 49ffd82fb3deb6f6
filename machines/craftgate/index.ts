export {
  craftgatePolicy,
  craftgateMachine,
  createCraftgatePolicy,
  createCraftgateMachine,
  wholeRefundType,
  paymentTime,
  CRAFTGATE_POLL_DELAYS_MS,
  type CraftgatePolicyOptions,
  type CraftgateRefundOptions,
} from "./policy.js"
export { activeCancel, isCancel, partsOf, transactionsLeft, transactionsOf, type CraftgateTransaction, type TransactionLeft, type TransactionPart } from "./transactions.js"
export { businessDay, checkDayRule, sameDay, DEFAULT_DAY_RULE, type DayRule } from "./same-day.js"
