/**
 * Translating KOMOJU payment bodies into what the machine understands: the payment's state, and one
 * report per refund and refund request. A report names paystate's refund only by identity: the
 * refund id paystate wrote into the refund's `description` (KOMOJU echoes it on the refund and the
 * refund request objects), and KOMOJU's own refund id. Never by amount, kind or age.
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

/**
 * The marker that carries paystate's refund id through KOMOJU: appended to the refund's (or refund
 * request's) `description`, which KOMOJU echoes on the object (komoju-node-sdk docs/Models/Refund.md
 * and RefundRequest.md: `description`; seed 001 refund examples show the field). KOMOJU has no
 * metadata on refunds, so the description is the only field a request can carry and a webhook echo.
 */
const MARKER = /(?:^|\s)\[paystate:([A-Za-z0-9_-]{1,64})\]$/

/** The description KOMOJU receives for refund `refundId`: the host's own text, then the marker. */
export const carrierDescription = (refundId: string, description?: string | null): string =>
  description ? `${description} [paystate:${refundId}]` : `[paystate:${refundId}]`

/** The paystate refund id a KOMOJU refund or refund request carries, if paystate made it. */
export const refundIdOf = (r: { readonly description?: string | null | undefined }): string | undefined =>
  typeof r.description === "string" ? MARKER.exec(r.description)?.[1] : undefined

/** A refund's report (seed: completed, or pending until a cash refund is collected). */
export const refundReport = (r: KomojuRefund): ProviderRefundState => {
  const refundId = refundIdOf(r)
  return {
    ...(refundId ? { refundId } : {}),
    providerRef: r.id,
    kind: "refund",
    amount: r.amount,
    status: refundStatus(r.status),
    providerStatus: r.status,
    details: { redirect_url: r.redirect_url ?? null, chargeback: r.chargeback ?? false },
  }
}

/** A refund request's report (seed 000: pending → completed | rejected; it carries no amount). */
export const requestReport = (r: KomojuRefundRequest): ProviderRefundState => {
  const refundId = refundIdOf(r)
  return {
    ...(refundId ? { refundId } : {}),
    providerRef: r.id,
    kind: "refund_request",
    status: requestStatus(r.status),
    providerStatus: r.status,
    ...(r.status === "rejected" ? { reason: "rejected by KOMOJU" } : {}),
  }
}

/** Reports of every refund and refund request of a payment, each naming paystate's refund only where KOMOJU echoes it. */
export const allReports = (p: KomojuPayment): ProviderRefundState[] => [...p.refunds.map(refundReport), ...p.refund_requests.map(requestReport)]

/** The refund or refund request of `kind` in a KOMOJU answer that carries paystate's `refundId`. */
export const carriedBy = (p: KomojuPayment, kind: string, refundId: string): KomojuRefund | KomojuRefundRequest | undefined =>
  (kind === "refund_request" ? p.refund_requests : p.refunds).find((r) => refundIdOf(r) === refundId)

/**
 * KOMOJU refunds (or refund requests) of `kind` that nothing identifies: no paystate id in their
 * description, and no ledger entry holding their KOMOJU id. Any one of them could be a refund whose
 * echo was lost, so a lookup that finds some cannot prove that a refund was never made.
 */
export const unidentified = (p: KomojuPayment, kind: string, ledger: readonly LedgerEntry[]): (KomojuRefund | KomojuRefundRequest)[] =>
  (kind === "refund_request" ? p.refund_requests : p.refunds).filter((r) => !refundIdOf(r) && !ledger.some((e) => e.providerRef === r.id && !e.unattributed))
