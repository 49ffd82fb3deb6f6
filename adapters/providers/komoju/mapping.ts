/**
 * Translating KOMOJU payment bodies into what the machine understands: the payment's state, and one
 * report per refund and refund request, matched to the ledger by KOMOJU's ids.
 */
import type { Json, LedgerEntry, ProviderPaymentState, ProviderRefundState, RefundStatus } from "../../../machines/lifecycle/types.js"
import type { KomojuPayment, KomojuRefund, KomojuRefundRequest } from "./wire.js"

/** The metadata key that carries paystate's payment id through KOMOJU (echoed in webhooks). */
export const PAYSTATE_ID_KEY = "paystate_payment_id"

/** The paystate payment id a KOMOJU payment carries, if paystate made it. */
export const paystateIdOf = (p: KomojuPayment): string | undefined => {
  const v = p.metadata[PAYSTATE_ID_KEY]
  return typeof v === "string" ? v : undefined
}

const hostMetadata = (m: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(m).filter(([k]) => k !== PAYSTATE_ID_KEY).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]))

/**
 * The payment's state. `authoritative` answers (API calls, lookups) also carry description and
 * metadata; a webhook's snapshot may be older than what paystate has, so it does not.
 */
export const paymentState = (p: KomojuPayment, authoritative: boolean): ProviderPaymentState => ({
  status: p.status,
  providerRef: p.id,
  // The machine's amount is what the customer pays: amount + tax + payment_method_fee.
  amount: p.total,
  ...(p.status === "captured" || p.status === "refunded" ? { capturedAmount: p.total } : {}),
  ...(p.payment_details?.type ? { method: p.payment_details.type } : {}),
  deadline: p.payment_deadline,
  ...(authoritative ? { description: p.description, metadata: hostMetadata(p.metadata) } : {}),
  details: {
    komoju: {
      amount: p.amount,
      tax: p.tax,
      payment_method_fee: p.payment_method_fee,
      total: p.total,
      amount_refunded: p.amount_refunded,
      captured_at: p.captured_at,
      customer: p.customer ?? null,
      locale: p.locale ?? null,
      payment_details: (p.payment_details ?? null) as Json,
    },
  },
})

const refundStatus = (s: string): RefundStatus => (s === "completed" ? "succeeded" : s === "pending" ? "pending" : "failed")
const requestStatus = (s: string): RefundStatus => (s === "completed" ? "succeeded" : s === "pending" ? "pending" : "failed")

/** A refund's report (seed: completed, or pending until a cash refund is collected). */
export const refundReport = (r: KomojuRefund, refundId?: string): ProviderRefundState => ({
  ...(refundId ? { refundId } : {}),
  providerRef: r.id,
  kind: "refund",
  amount: r.amount,
  status: refundStatus(r.status),
  providerStatus: r.status,
  details: { redirect_url: r.redirect_url ?? null, chargeback: r.chargeback ?? false },
})

/** A refund request's report (seed 000: pending → completed | rejected; it carries no amount). */
export const requestReport = (r: KomojuRefundRequest, refundId?: string): ProviderRefundState => ({
  ...(refundId ? { refundId } : {}),
  providerRef: r.id,
  kind: "refund_request",
  status: requestStatus(r.status),
  providerStatus: r.status,
  ...(r.status === "rejected" ? { reason: "rejected by KOMOJU" } : {}),
})

/** Reports of every refund and refund request of a payment; `first` (ours) goes first so nothing else pairs with its entry. */
export const allReports = (p: KomojuPayment, first?: ProviderRefundState): ProviderRefundState[] => {
  const rest = [...p.refunds.map((r) => refundReport(r)), ...p.refund_requests.map((r) => requestReport(r))].filter((r) => r.providerRef !== first?.providerRef)
  return first ? [first, ...rest] : rest
}

/**
 * Finds which refund (or refund request) in a KOMOJU answer is the one a ledger entry asked for: its
 * known id, else one no other ledger entry has claimed (same amount for refunds), the newest for an
 * API answer and the oldest for a reconciliation lookup.
 */
export const findOurs = <T extends { id: string; amount?: number }>(
  list: readonly T[],
  entry: LedgerEntry,
  ledger: readonly LedgerEntry[],
  pick: "newest" | "oldest",
): T | undefined => {
  if (entry.providerRef) return list.find((r) => r.id === entry.providerRef)
  const claimed = new Set(ledger.map((r) => r.providerRef).filter((x): x is string => !!x))
  const wanted = entry.kind === "refund" ? entry.amount : undefined
  const free = list.filter((r) => !claimed.has(r.id) && (wanted === undefined || r.amount === wanted))
  return pick === "newest" ? free[free.length - 1] : free[0]
}
