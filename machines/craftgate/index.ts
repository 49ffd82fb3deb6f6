export { craftgatePolicy, craftgateMachine, createCraftgateMachine, transactionsLeft, type CraftgateTransaction } from "./policy.js"
export { businessDay, sameDay, type DayRule } from "./same-day.js"
