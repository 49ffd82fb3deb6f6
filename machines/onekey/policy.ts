/**
 * OneKey (Directa24 v3) rules on top of the lifecycle: refunds only over a completed deposit, any
 * number of full or partial refunds while their cumulative total stays within the deposit (the
 * ledger's ceiling counts PENDING, INCORRECT_DETAILS, DELIVERED and COMPLETED ones), a bank account
 * for cash and bank methods, full refunds only for cards (seed 002), and `amount` always sent.
 */
import { createPaymentMachine, totals, type PaymentPolicy } from "../lifecycle/index.js"

/** Card payment method codes (refunded to the card). */
const CARDS = new Set(["VI", "MC", "AE", "DC", "EL", "CL", "JC", "DI", "HI", "CS", "MS"])

/** The OneKey policy. Deposits are captured by the customer paying; paystate cannot capture or cancel them. */
export const onekeyPolicy: PaymentPolicy = {
  id: "onekey",
  planRefund: (ctx, event) => {
    const card = CARDS.has(String(ctx.method ?? "").toUpperCase())
    const amount = event.amount ?? totals(ctx).refundable
    if (card && amount !== ctx.capturedAmount) {
      return {
        ok: false,
        refusal: { code: "INVALID_INPUT", message: `Card deposits are refunded in full only (${ctx.capturedAmount}); OneKey answers 802 to a partial card refund.`, details: { providerCode: 802 } },
      }
    }
    if (!card && !event.options.bank_account) {
      return {
        ok: false,
        refusal: { code: "INVALID_INPUT", message: "A refund of a cash or bank deposit needs bank_account (beneficiary, bank_code, account_number, account_type); OneKey answers 804 without it.", details: { providerCode: 804 } },
      }
    }
    return {
      ok: true,
      entry: { kind: "refund", amount, details: { card } },
      effect: { op: "refund", payload: { amount, ...event.options } },
    }
  },
  // Mirrors OneKey's own notification retries (5, 25, 125, 625 minutes), then a person looks.
  refundPollDelaysMs: [5, 25, 125, 625].map((m) => m * 60_000),
}

/** The OneKey payment machine. */
export const onekeyMachine = createPaymentMachine(onekeyPolicy)
