/**
 * OneKey (Directa24 v3) refund rules on top of the lifecycle (seed 002, PROVIDERS.md):
 * - refunds only over a COMPLETED deposit (the lifecycle's `captured`; else OneKey answers 801);
 * - any number of full or partial refunds while their cumulative total stays within the deposit
 *   (802 otherwise). PENDING, INCORRECT_DETAILS, DELIVERED and COMPLETED refunds hold their amount
 *   (ledger `pending` / `succeeded`); REJECTED and CANCELLED ones release it (`failed`), and a
 *   COMPLETED refund the bank later rejects is `reversed`: released, kept on record;
 * - cash and bank methods need `bank_account` (804 otherwise); card deposits are refunded to the
 *   card, in full (seed 002) unless `cardPartialRefunds` is set (D24's newer pages: "depending on
 *   the market");
 * - the effect always carries an explicit `amount`: OneKey reads an omitted one as the whole
 *   deposit, whatever was refunded before.
 */
import { createPaymentMachine, totals, type Details, type Json, type PaymentPolicy, type RefundPlan } from "../lifecycle/index.js"
import { isCardMethod, LOCAL_REFUSALS } from "./methods.js"
import { onekeyRefundMachine } from "./refund.js"

/** Options of the OneKey policy. */
export interface OnekeyPolicyOptions {
  /** Allow partial refunds of card deposits (D24 enables them per market). Default false (seed 002). */
  readonly cardPartialRefunds?: boolean
  /** Delays after which a refund still pending is looked up; after the last it needs review. */
  readonly refundPollDelaysMs?: readonly number[]
}

/** OneKey retries its own notifications at 5, 25, 125 and 625 minutes; paystate looks at the same times. */
export const ONEKEY_POLL_DELAYS_MS: readonly number[] = [5, 25, 125, 625].map((m) => m * 60_000)

/** OneKey caps `comments` at 200 characters. */
const COMMENTS_MAX = 200

const refuse = (code: "INVALID_INPUT" | "REFUND_EXCEEDS_REFUNDABLE", providerCode: keyof typeof LOCAL_REFUSALS, message: string, extra: Details = {}): RefundPlan => ({
  ok: false,
  // `code` and `type` are OneKey's, so a host branches the same way on a local refusal and on the
  // provider's own answer; `providerCode` stays for hosts that read it.
  refusal: { code, message, details: { code: providerCode, type: LOCAL_REFUSALS[providerCode], providerCode, ...extra } },
})

/** Builds the OneKey policy. */
export const createOnekeyPolicy = (options: OnekeyPolicyOptions = {}): PaymentPolicy => ({
  id: "onekey",
  refundMachines: { onekeyRefund: onekeyRefundMachine },
  // A deposit is pending until the customer pays it: there is no authorization to capture or void.
  authorizes: false,
  // A deposit is captured by the customer paying it; paystate cannot capture, cancel or update one.
  planRefund: (ctx, event) => {
    const card = isCardMethod(ctx.method)
    const t = totals(ctx)
    const amount = event.amount ?? t.refundable
    const o = event.options as { bank_account?: { [k: string]: Json }; comments?: string; notification_url?: string }
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > t.refundable) {
      return refuse(
        "REFUND_EXCEEDS_REFUNDABLE",
        802,
        `A refund of ${amount} exceeds the ${t.refundable} left of the deposit (settled ${t.settled}, in flight ${t.reserved} of ${t.captured}); OneKey would answer 802.`,
        { requested: amount, ...t },
      )
    }
    if (card && !options.cardPartialRefunds && amount !== ctx.capturedAmount) {
      return refuse(
        "INVALID_INPUT",
        802,
        `A card deposit is refunded in full (${ctx.capturedAmount}) or not at all (seed 002); ${amount} was asked. Enable cardPartialRefunds where OneKey allows partial card refunds.`,
        { requested: amount, captured: ctx.capturedAmount },
      )
    }
    if (!card && !o.bank_account) {
      return refuse(
        "INVALID_INPUT",
        804,
        `A ${ctx.method ?? "cash"} deposit is paid back by bank transfer: pass bank_account {beneficiary, bank_code, account_number, account_type, branch?} (codes from GET /v3/banks).`,
      )
    }
    const comments = o.comments ?? (event.description ? event.description.slice(0, COMMENTS_MAX) : undefined)
    return {
      ok: true,
      entry: { kind: "refund", amount, details: { card } },
      machine: "onekeyRefund",
      facts: { card },
      effect: {
        op: "refund",
        payload: {
          amount,
          // A card refund goes back to the card: a bank account there would only be ignored.
          ...(!card && o.bank_account ? { bank_account: o.bank_account } : {}),
          ...(comments ? { comments } : {}),
          ...(o.notification_url ? { notification_url: o.notification_url } : {}),
        },
      },
    }
  },
  refundPollDelaysMs: options.refundPollDelaysMs ?? ONEKEY_POLL_DELAYS_MS,
})

/** The OneKey policy with the seed's defaults (card deposits refunded in full). */
export const onekeyPolicy: PaymentPolicy = createOnekeyPolicy()

/** Builds a OneKey machine for the given options. */
export const createOnekeyMachine = (options: OnekeyPolicyOptions = {}) => createPaymentMachine(createOnekeyPolicy(options))

/** The OneKey payment machine with the default policy. */
export const onekeyMachine = createPaymentMachine(onekeyPolicy)
