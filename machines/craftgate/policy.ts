/**
 * Craftgate rules on top of the lifecycle (seed 003, PROVIDERS.md):
 * - refunding the whole payment on the day it was made, with no earlier partial refund, is a CANCEL
 *   (all of it; nothing is left afterwards); otherwise it is a REFUND made of one transaction refund
 *   per payment transaction that has something left;
 * - partial refunds go per transaction (`refund-transactions`), each capped by what that transaction
 *   has left, and never turn into a cancel of the whole payment;
 * - a PRE_AUTH payment is captured by post-auth (up to the pre-authorized amount) or voided by a
 *   cancel, which Craftgate carries out through the refund endpoint.
 * The machine never reads a clock: "same day" compares the payment's time with the event's `at`.
 */
import { createPaymentMachine, type Details, type MachineContext, type PaymentContext, type PaymentPolicy, type RefundPlan, type Refusal } from "../lifecycle/index.js"
import { checkDayRule, sameDay, type DayRule } from "./same-day.js"
import { activeCancel, transactionsLeft, type TransactionLeft } from "./transactions.js"
import { craftgateRefundMachine } from "./refund.js"

/** Options of the Craftgate policy. */
export interface CraftgatePolicyOptions extends DayRule {
  /** Alias of `cutoff`, the name the adapter factory uses. */
  readonly dayCutoff?: string
  /** Delays after which a WAITING refund is looked up (Craftgate sends no webhook when one fails). */
  readonly refundPollDelaysMs?: readonly number[]
}

/** 1 min, 5 min, 30 min, 2 h, 12 h; then the refund is flagged for review. */
export const CRAFTGATE_POLL_DELAYS_MS: readonly number[] = [1, 5, 30, 120, 720].map((m) => m * 60_000)

/** Refund options paystate passes through to Craftgate. */
export interface CraftgateRefundOptions {
  readonly paymentTransactionId?: string | number
  readonly refundDestinationType?: "PROVIDER" | "WALLET"
  readonly chargeFromMe?: boolean
}

const refuse = (code: Refusal["code"], message: string, details?: Details): RefundPlan => ({ ok: false, refusal: { code, message, ...(details ? { details } : {}) } })

/**
 * The time the payment was made: Craftgate's own `createdDate` when the adapter reported it (a create
 * retried after a crash can land later than paystate's record), else when paystate created it.
 */
export const paymentTime = (ctx: Pick<PaymentContext, "createdAt" | "details">): string =>
  typeof ctx.details.paidAt === "string" && !Number.isNaN(Date.parse(ctx.details.paidAt)) ? ctx.details.paidAt : ctx.createdAt

/** CANCEL or REFUND for a whole-payment refund at `at`, by seed 003's rule. */
export const wholeRefundType = (ctx: Pick<PaymentContext, "createdAt" | "details" | "refunds">, at: string, rule: DayRule = {}): "CANCEL" | "REFUND" => {
  // "No partial refund made before": anything Craftgate did not refuse counts, settled or waiting.
  const earlier = ctx.refunds.some((r) => r.status !== "failed")
  return !earlier && sameDay(paymentTime(ctx), at, rule) ? "CANCEL" : "REFUND"
}

const describe = (txs: readonly TransactionLeft[]) => txs.map((t) => ({ paymentTransactionId: t.id, name: t.name, left: t.left }))

/** Builds the Craftgate policy for a day rule. Throws a RangeError for a bad zone or cut-off. */
export const createCraftgatePolicy = (options: CraftgatePolicyOptions = {}): PaymentPolicy => {
  const rule = checkDayRule({ timeZone: options.timeZone, cutoff: options.dayCutoff ?? options.cutoff })
  return {
    id: "craftgate",
    refundMachines: { craftgateRefund: craftgateRefundMachine },
    ruleNames: { capture: "preAuthWithinAmount", cancel: "preAuth" },
    capture: (ctx, event) => {
      if (ctx.details.paymentPhase !== "PRE_AUTH") return { code: "INVALID_TRANSITION", message: "Only a PRE_AUTH Craftgate payment is captured (post-auth); an AUTH payment is captured when it is made." }
      if (event.amount !== undefined && event.amount > ctx.amount) {
        return { code: "INVALID_INPUT", message: `Post-auth can capture at most the ${ctx.amount} pre-authorized; ${event.amount} was asked.`, details: { requested: event.amount, authorized: ctx.amount } }
      }
      return undefined
    },
    // Craftgate voids a pre-authorization through its refund endpoint (a CANCEL).
    cancel: (ctx) =>
      ctx.details.paymentPhase === "PRE_AUTH" && ctx.providerRef
        ? undefined
        : { code: "INVALID_TRANSITION", message: "Only a pre-authorized (PRE_AUTH) Craftgate payment can be cancelled; refund a captured one instead." },
    planRefund: (ctx, event) => plan(ctx as MachineContext, event, rule),
    refundPollDelaysMs: options.refundPollDelaysMs ?? CRAFTGATE_POLL_DELAYS_MS,
  }
}

const plan = (ctx: MachineContext, event: Parameters<PaymentPolicy["planRefund"]>[1], rule: Required<DayRule>): RefundPlan => {
  const o = event.options as CraftgateRefundOptions
  const passthrough: Details = {
    ...(o.refundDestinationType ? { refundDestinationType: o.refundDestinationType } : {}),
    ...(o.chargeFromMe !== undefined ? { chargeFromMe: o.chargeFromMe } : {}),
  }
  // What the refund machine's guards decide by: seed 003's "same day, no earlier refund".
  const facts: Details = { paidAt: paymentTime(ctx), earlierRefund: ctx.refunds.some((r) => r.status !== "failed"), dayRule: { ...rule }, passthrough: passthrough as never }
  const cancel = activeCancel(ctx)
  if (cancel) {
    return refuse("REFUND_EXCEEDS_REFUNDABLE", `The payment was cancelled (CANCEL ${cancel.id}, ${cancel.status}): nothing is left to refund.`, { cancelRefundId: cancel.id, refundable: 0 })
  }
  const txs = transactionsLeft(ctx)
  if (txs.length === 0) return refuse("INVALID_TRANSITION", "Craftgate has not reported the payment's transactions yet; sync the payment and try again.")
  const open = txs.filter((t) => t.left > 0)
  const leftTotal = open.reduce((s, t) => s + t.left, 0)

  const perTransaction = (tx: TransactionLeft, amount: number): RefundPlan => {
    if (tx.left === 0) return refuse("REFUND_EXCEEDS_REFUNDABLE", `Payment transaction ${tx.id} has nothing left to refund.`, { paymentTransactionId: tx.id, left: 0, requested: amount })
    if (amount > tx.left) {
      return refuse("REFUND_EXCEEDS_REFUNDABLE", `Payment transaction ${tx.id} has ${tx.left} left to refund; ${amount} was asked.`, { paymentTransactionId: tx.id, left: tx.left, requested: amount })
    }
    return {
      ok: true,
      entry: { kind: "refund_tx", amount, details: { paymentTransactionId: tx.id, transactions: [{ id: tx.id, amount }] } },
      effect: { op: "refund-transaction", payload: { paymentTransactionId: tx.id, refundPrice: amount, ...passthrough } },
      machine: "craftgateRefund",
      facts: { ...facts, paymentTransactionId: tx.id },
    }
  }

  if (o.paymentTransactionId !== undefined) {
    const tx = txs.find((t) => t.id === String(o.paymentTransactionId))
    if (!tx) return refuse("INVALID_INPUT", `Payment ${ctx.providerRef} has no payment transaction ${o.paymentTransactionId}.`, { transactions: describe(txs) })
    return perTransaction(tx, event.amount ?? tx.left)
  }

  if (event.amount === undefined || event.amount === leftTotal) {
    if (leftTotal === 0) return refuse("REFUND_EXCEEDS_REFUNDABLE", "Every payment transaction is refunded or held by a refund in flight: nothing is left to refund.", { refundable: 0 })
    // A whole-payment refund refunds what Craftgate thinks is left; with a refund whose outcome is
    // still unknown, that could be more than paystate plans, so it waits until that one is settled.
    const unknown = ctx.refunds.find((r) => r.status === "requested")
    if (unknown) {
      return refuse("INVALID_TRANSITION", `Refund ${unknown.id} is still in flight with an unknown outcome; a refund of the whole payment waits until it is reconciled (or refund per transaction).`, { inFlight: unknown.id })
    }
    // The refund machine decides CANCEL or REFUND (`sameDayWithoutPartial`); the kind follows its choice.
    return {
      ok: true,
      entry: { kind: "refund", amount: leftTotal, details: { transactions: open.map((t) => ({ id: t.id, amount: t.left })) } },
      effect: { op: "refund", payload: passthrough },
      machine: "craftgateRefund",
      facts,
    }
  }

  if (event.amount > leftTotal) {
    return refuse("REFUND_EXCEEDS_REFUNDABLE", `A refund of ${event.amount} exceeds the ${leftTotal} left across the payment's transactions.`, { requested: event.amount, refundable: leftTotal, transactions: describe(open) })
  }
  // A part of the payment goes to one transaction. With one transaction left it is unambiguous;
  // with several, paystate does not guess a split: the host names the transaction.
  if (open.length === 1) return perTransaction(open[0]!, event.amount)
  return refuse(
    "INVALID_INPUT",
    `A partial Craftgate refund goes to one payment transaction: pass paymentTransactionId (${open.map((t) => `${t.id} has ${t.left} left`).join(", ")}), or no amount to refund everything left.`,
    { requested: event.amount, transactions: describe(open) },
  )
}

/** The Craftgate policy with the default day rule (Europe/Istanbul, midnight). */
export const craftgatePolicy: PaymentPolicy = createCraftgatePolicy()

/** Builds the Craftgate machine for a day rule. */
export const createCraftgateMachine = (options: CraftgatePolicyOptions = {}) => createPaymentMachine(createCraftgatePolicy(options))

/** The Craftgate machine with the default day rule. */
export const craftgateMachine = createCraftgateMachine()
