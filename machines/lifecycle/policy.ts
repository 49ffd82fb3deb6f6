/**
 * The plain lifecycle policy: capture and cancel where the lifecycle allows them, refunds of any
 * amount up to what is left (none given = everything left). Providers start from it and narrow it.
 */
import { totals } from "./ledger.js"
import { createPaymentMachine, type PaymentPolicy } from "./machine.js"

/** Allows every lifecycle operation and plain refunds. */
export const basicPolicy: PaymentPolicy = {
  id: "lifecycle",
  capture: () => undefined,
  cancel: () => undefined,
  update: () => undefined,
  planRefund: (ctx, event) => {
    const amount = event.amount ?? totals(ctx).refundable
    return { ok: true, entry: { kind: event.kind, amount }, effect: { op: event.kind, payload: { amount, ...event.options } } }
  },
  refundPollDelaysMs: [60_000, 300_000, 1_800_000],
}

/** The shared lifecycle machine, with the basic policy. */
export const lifecycleMachine = createPaymentMachine(basicPolicy)
