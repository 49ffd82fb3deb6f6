/**
 * KOMOJU's rules plugged into the lifecycle machine. Every rule cites the seed that states it:
 * seed 001 (Payments API) and seed 000 (refund requests).
 */
import { totals } from "../lifecycle/ledger.js"
import type { PaymentPolicy, RefundPlan } from "../lifecycle/machine.js"
import type { Details, LedgerEntry, PaymentContext, Refusal } from "../lifecycle/types.js"
import { CASH_METHODS, isKomojuMethod, METHOD_RULES } from "./methods.js"
import { komojuRefundMachine, komojuRefundRequestMachine } from "./refund.js"

/** Options of the KOMOJU policy. */
export interface KomojuPolicyOptions {
  /**
   * When a refund or refund request still pending is looked up again (ms after it became pending).
   * Cash refunds wait for the customer and refund requests for a bank transfer, so the default
   * schedule spreads over a week: 1 h, 6 h, 1 d, 3 d, 7 d; after the last one it is flagged for review.
   */
  readonly refundPollDelaysMs?: readonly number[]
}

/** The default poll schedule of pending refunds and refund requests. */
export const KOMOJU_REFUND_POLL_DELAYS_MS: readonly number[] = [3_600_000, 21_600_000, 86_400_000, 259_200_000, 604_800_000]

/** The KOMOJU facts the adapter keeps in `details.komoju` (from the latest payment body). */
export interface KomojuDetails {
  readonly amount?: number
  readonly tax?: number
  readonly payment_method_fee?: number
  readonly total?: number
}

const komojuDetails = (ctx: PaymentContext): KomojuDetails => (ctx.details.komoju ?? {}) as KomojuDetails

const refuse = (code: Refusal["code"], message: string, details?: Details): RefundPlan => ({ ok: false, refusal: { code, message, details } })

/** The fee a refund request already took back, if any (seed 000: the fee is the customer's, refunded at most once). */
const feeAlreadyRequested = (refunds: readonly LedgerEntry[]): LedgerEntry | undefined =>
  refunds.find((r) => r.kind === "refund_request" && r.status !== "failed" && r.status !== "reversed" && Number(r.details.payment_method_fee ?? 0) > 0)

const pick = (options: Details, keys: readonly string[]): Details => Object.fromEntries(keys.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]))

/** Fields of a refund request (seed 000 params). */
export const REFUND_REQUEST_FIELDS = [
  "customer_name",
  "bank_code",
  "bank_name",
  "branch_number",
  "branch_name",
  "account_type",
  "account_number",
  "include_payment_method_fee",
] as const

/** Optional customer fields of a refund (seed 001 refund params: name, email, phone). */
export const REFUND_FIELDS = ["name", "email", "phone"] as const

const planRefund = (ctx: PaymentContext, event: { refundId: string; kind: string; amount?: number; description?: string | null; options: Details }): RefundPlan => {
  const left = totals(ctx).refundable
  const description = event.description ? { description: event.description } : {}
  if (event.kind === "refund") {
    // Seed 001 refund: "If no amount is specified, the whole payment is refunded" — what is left of it.
    // The amount counts tax in (bit_cash: amount 100 + tax 10 refunds 110), so the ceiling is `total`.
    const amount = event.amount ?? left
    // Cash refunds stay pending until the customer collects them (seed: konbini/pay_easy/bank_transfer answer "pending").
    const cash = ctx.method !== null && isKomojuMethod(ctx.method) && METHOD_RULES[ctx.method].cash
    return {
      ok: true,
      entry: { kind: "refund", amount, details: { cash } },
      effect: { op: "refund", payload: { amount, ...description, ...pick(event.options, REFUND_FIELDS) } },
      machine: "komojuRefund",
      facts: { cash },
    }
  }
  if (event.kind === "refund_request") {
    // Seed 000: refund requests are for methods that do not support refunds (cash), paid back by bank transfer.
    if (!ctx.method || !(CASH_METHODS as readonly string[]).includes(ctx.method)) {
      return refuse(
        "INVALID_TRANSITION",
        `KOMOJU refund requests are only for cash payments (${CASH_METHODS.join(", ")}); this is a ${ctx.method ?? "customer"} payment: use payments.refund instead.`,
        { method: ctx.method },
      )
    }
    const include = event.options.include_payment_method_fee === true
    const fee = include ? (komojuDetails(ctx).payment_method_fee ?? 0) : 0
    if (fee > 0) {
      const earlier = feeAlreadyRequested(ctx.refunds)
      if (earlier) return refuse("INVALID_INPUT", `The payment method fee was already refunded by refund request ${earlier.id}; send include_payment_method_fee: false.`, { refundId: earlier.id })
    }
    // The payout is the amount plus, when asked, the payment method fee; both count against what is left.
    const amount = event.amount ?? left - fee
    if (amount < 0) return refuse("REFUND_EXCEEDS_REFUNDABLE", `Nothing is left to refund (${left} left, fee ${fee}).`, { refundable: left, fee })
    return {
      ok: true,
      entry: { kind: "refund_request", amount: amount + fee, details: { amount, payment_method_fee: fee } },
      effect: { op: "refund_request", payload: { amount, ...description, ...pick(event.options, REFUND_REQUEST_FIELDS) } },
      machine: "komojuRefundRequest",
    }
  }
  return refuse("INVALID_INPUT", `KOMOJU has no "${event.kind}" refunds: use payments.refund or payments.refundRequest.`)
}

/** Builds KOMOJU's policy. */
export const createKomojuPolicy = (options: KomojuPolicyOptions = {}): PaymentPolicy => ({
  id: "komoju",
  refundMachines: { komojuRefund: komojuRefundMachine, komojuRefundRequest: komojuRefundRequestMachine },
  ruleNames: { capture: "creditCard", cancel: "pendingOrAuthorized", update: "descriptionOrMetadata" },
  // Seed 001 capture: "Only works on payments with a payment_type of credit_card"; the lifecycle only offers it from authorized.
  capture: (ctx, event) => {
    if (ctx.method !== "credit_card") {
      return {
        code: "INVALID_TRANSITION",
        message: `KOMOJU captures only credit_card payments; a ${ctx.method ?? "customer"} payment is captured when the customer pays.`,
        details: { method: ctx.method },
      }
    }
    // KOMOJU's capture takes no amount: the whole authorization is captured.
    if (event.amount !== undefined && event.amount !== ctx.amount) {
      return { code: "INVALID_INPUT", message: `KOMOJU captures the whole authorization (${ctx.amount}); it cannot capture ${event.amount}.`, details: { amount: ctx.amount } }
    }
    return undefined
  },
  // Seed 001 cancel: "must have a state of pending or authorized"; the lifecycle refuses every other state.
  cancel: () => undefined,
  // Seed 001 update: "Only a payment's description and metadata can be changed"; the UPDATE event carries nothing else.
  update: () => undefined,
  planRefund,
  // A konbini paid in the last second may have a delayed webhook: KOMOJU decides whether it expired.
  confirmExpiry: true,
  refundPollDelaysMs: options.refundPollDelaysMs ?? KOMOJU_REFUND_POLL_DELAYS_MS,
})

/** KOMOJU's policy with the default poll schedule. */
export const komojuPolicy: PaymentPolicy = createKomojuPolicy()
