/**
 * Craftgate rules on top of the lifecycle (seed 003). A payment is made of payment transactions
 * (basket items). Refunding the whole payment on the day it was made, with no earlier partial refund,
 * is a CANCEL; otherwise it is a REFUND made of one transaction refund per transaction with something
 * left. Partial refunds go per transaction, each capped by what that transaction has left, and never
 * turn into a cancel.
 */
import { createPaymentMachine, totals, type Details, type PaymentContext, type PaymentPolicy, type RefundPlan } from "../lifecycle/index.js"
import { sameDay, type DayRule } from "./same-day.js"

/** A payment transaction as the machine keeps it (amounts in minor units). */
export interface CraftgateTransaction {
  readonly id: string
  readonly name: string | null
  readonly paidPrice: number
}

/** Each transaction with what is left to refund of it (non-failed ledger entries hold their share). */
export const transactionsLeft = (ctx: PaymentContext): (CraftgateTransaction & { readonly left: number })[] => {
  const txs = (ctx.details.transactions ?? []) as unknown as CraftgateTransaction[]
  return txs.map((tx) => {
    let taken = 0
    for (const r of ctx.refunds) {
      if (r.status === "failed" || r.status === "reversed") continue
      for (const part of (r.details.transactions ?? []) as unknown as { id: string; amount: number }[]) if (part.id === tx.id) taken += part.amount
    }
    return { ...tx, left: tx.paidPrice - taken }
  })
}

const refuse = (code: "INVALID_INPUT" | "REFUND_EXCEEDS_REFUNDABLE" | "INVALID_TRANSITION", message: string, details?: Details): RefundPlan => ({ ok: false, refusal: { code, message, details } })

/** Builds the Craftgate policy for a day rule. */
export const craftgatePolicy = (rule: DayRule = {}): PaymentPolicy => ({
  id: "craftgate",
  capture: (ctx) =>
    ctx.details.paymentPhase === "PRE_AUTH" ? undefined : { code: "INVALID_TRANSITION", message: "Only a PRE_AUTH Craftgate payment can be captured (post-auth)." },
  planRefund: (ctx, event) => {
    const o = event.options as { paymentTransactionId?: string | number; refundDestinationType?: string; chargeFromMe?: boolean }
    const passthrough: Details = {
      ...(o.refundDestinationType ? { refundDestinationType: o.refundDestinationType } : {}),
      ...(o.chargeFromMe !== undefined ? { chargeFromMe: o.chargeFromMe } : {}),
    }
    const txs = transactionsLeft(ctx)
    const perTransaction = (tx: (typeof txs)[number], amount: number): RefundPlan => {
      if (amount > tx.left) {
        return refuse("REFUND_EXCEEDS_REFUNDABLE", `Payment transaction ${tx.id} has ${tx.left} left to refund; ${amount} asked.`, { paymentTransactionId: tx.id, left: tx.left, requested: amount })
      }
      return {
        ok: true,
        entry: { kind: "refund_tx", amount, details: { paymentTransactionId: tx.id, transactions: [{ id: tx.id, amount }] } },
        effect: { op: "refund-transaction", payload: { paymentTransactionId: tx.id, refundPrice: amount, ...passthrough } },
      }
    }
    if (o.paymentTransactionId !== undefined) {
      const tx = txs.find((t) => t.id === String(o.paymentTransactionId))
      if (!tx) return refuse("INVALID_INPUT", `Payment ${ctx.providerRef} has no payment transaction ${o.paymentTransactionId}.`, { transactions: txs.map((t) => t.id) })
      return perTransaction(tx, event.amount ?? tx.left)
    }
    const left = totals(ctx).refundable
    const amount = event.amount ?? left
    if (amount === left && left > 0) {
      // "No earlier partial refund": any refund that was not definitively refused counts.
      const earlier = ctx.refunds.some((r) => r.status !== "failed")
      const cancel = !earlier && sameDay(ctx.createdAt, event.at, rule)
      const parts = txs.filter((t) => t.left > 0).map((t) => ({ id: t.id, amount: t.left }))
      return {
        ok: true,
        entry: { kind: cancel ? "cancel" : "refund", amount, details: { refundType: cancel ? "CANCEL" : "REFUND", transactions: parts } },
        effect: { op: "refund", payload: { expectedRefundType: cancel ? "CANCEL" : "REFUND", ...passthrough } },
      }
    }
    const open = txs.filter((t) => t.left > 0)
    if (open.length === 1) return perTransaction(open[0]!, amount)
    return refuse(
      "INVALID_INPUT",
      `A partial refund of a Craftgate payment goes to one payment transaction: pass paymentTransactionId (one of ${open.map((t) => `${t.id} with ${t.left} left`).join(", ")}).`,
      { transactions: open.map((t) => ({ id: t.id, left: t.left })) },
    )
  },
  // WAITING refunds send no webhook when they fail: look them up.
  refundPollDelaysMs: [60_000, 300_000, 1_800_000, 7_200_000, 43_200_000],
})

/** Builds the Craftgate machine for a day rule. */
export const createCraftgateMachine = (rule: DayRule = {}) => createPaymentMachine(craftgatePolicy(rule))

/** The Craftgate machine with the default rule (Europe/Istanbul, midnight). */
export const craftgateMachine = createCraftgateMachine()
