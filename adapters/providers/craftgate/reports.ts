/**
 * Craftgate answers as the machine's reports. A CANCEL is one refund with an id; a REFUND is a set of
 * transaction refunds, each with its own status, that all carry paystate's `conversationId`.
 *
 * Identity only: a report names a paystate refund (`refundId`) only when Craftgate's own record proves
 * it — the answer to paystate's call for that refund, or the `conversationId` Craftgate echoes, which is
 * the effect's idempotency key `ps-<paymentId>-<refundId>`. Every report carries `providerRef`,
 * Craftgate's id: the CANCEL's id, `tx:<ids>` for a paystate refund's transaction refunds, `txr:<id>`
 * for one transaction refund on its own (a part split off, or one made outside paystate). A record
 * without paystate's conversationId is reported by `providerRef` alone, and the ledger holds it as
 * unattributed (then external); nothing is ever paired by amount, kind or age.
 *
 * One ledger entry stands for a whole REFUND while its parts agree. When they part ways (one fails,
 * another succeeds) or Craftgate refunded another amount than paystate planned, the entry is split:
 * it is released (`failed`, providerStatus SPLIT) and each part that did not fail becomes an entry of
 * its own (`<refundId>~<transaction refund id>`), so the ledger keeps what Craftgate actually moved.
 */
import type { Details, LedgerEntry, MachineContext, ProviderPaymentState, ProviderRefundState } from "../../../machines/lifecycle/index.js"
import { toMinor } from "../../../src/money.js"
import { craftgateInstant, ledgerStatus, type CardPayment, type PaymentRefund, type ReportingTransactionRefund, type TransactionRefund } from "./wire.js"

/** paystate's conversationIds are the effects' idempotency keys: `ps-<paymentId>-<refundId>`. */
export const ours = (conversationId: string | null | undefined): { paymentId: string; refundId: string } | undefined => {
  const m = /^ps-(pay_[A-Za-z0-9_-]{22})-(.+)$/.exec(conversationId ?? "")
  return m ? { paymentId: m[1]!, refundId: m[2]! } : undefined
}

/** The paystate payment a Craftgate payment belongs to (its conversationId), if any. */
export const paystateIdOf = (p: { conversationId?: string | null }): string | undefined => (/^pay_[A-Za-z0-9_-]{22}$/.test(p.conversationId ?? "") ? p.conversationId! : undefined)

const minor = (v: number | string, currency: string) => toMinor(v, currency)

/**
 * A transaction refund of the reporting API as the payment API's shape: the reporting record has no
 * `currency` and no `paymentId`, which the caller knows from the payment it asked about.
 */
export const asTransactionRefund = (t: ReportingTransactionRefund, currency: string, paymentId: number): TransactionRefund => ({
  ...t,
  currency: t.currency ?? currency,
  paymentId: t.paymentId ?? paymentId,
})

/**
 * What Craftgate says about a payment. `voided`: the caller knows that a CANCEL of this PRE_AUTH
 * payment succeeded (the card payment answer has no refund status; the reporting one has).
 */
export const paymentState = (p: CardPayment, options: { voided?: boolean } = {}): ProviderPaymentState => {
  const captured = p.paymentStatus === "SUCCESS" && p.paymentPhase !== "PRE_AUTH"
  // A pre-authorization is voided through the refund endpoint: Craftgate then shows it fully refunded.
  const voided = p.paymentStatus === "SUCCESS" && p.paymentPhase === "PRE_AUTH" && (options.voided === true || p.refundStatus === "FULLY_REFUNDED")
  const status = voided ? "cancelled" : p.paymentStatus === "SUCCESS" ? (captured ? "captured" : "authorized") : p.paymentStatus === "FAILURE" ? "failed" : "pending"
  return {
    status,
    providerRef: String(p.id),
    amount: minor(p.paidPrice, p.currency),
    ...(captured ? { capturedAmount: minor(p.paidPrice, p.currency) } : {}),
    details: {
      paymentPhase: p.paymentPhase ?? null,
      paymentStatus: p.paymentStatus,
      refundStatus: p.refundStatus ?? null,
      createdDate: p.createdDate ?? null,
      paidAt: craftgateInstant(p.createdDate) ?? null,
      price: minor(p.price, p.currency),
      // What a PCI SAQ-A merchant may keep: the last four digits and the brand, never the number.
      lastFourDigits: p.lastFourDigits ?? null,
      cardBrand: p.cardBrand ?? null,
      // A stored card's keys, for later payments without card data (masked wherever shown).
      ...(p.cardUserKey && p.cardToken ? { storedCard: { cardUserKey: p.cardUserKey, cardToken: p.cardToken } } : {}),
      transactions: (p.paymentTransactions ?? []).map((t) => ({
        id: String(t.id),
        name: t.name ?? null,
        externalId: t.externalId ?? null,
        price: minor(t.price, p.currency),
        paidPrice: minor(t.paidPrice, p.currency),
      })),
    },
  }
}

const txSummary = (t: TransactionRefund) => ({ id: t.id, paymentTransactionId: t.paymentTransactionId, status: t.status, amount: minor(t.refundPrice, t.currency) })

/** The report of a CANCEL (or of a REFUND answer, see refundReports). */
export const cancelReport = (r: PaymentRefund, refundId?: string): ProviderRefundState => ({
  ...(refundId ? { refundId } : {}),
  kind: "cancel",
  ...(r.id != null ? { providerRef: String(r.id) } : {}),
  amount: minor(r.refundPrice, r.currency),
  status: ledgerStatus(r.status),
  providerStatus: r.status,
  details: {
    refundType: "CANCEL",
    craftgateRefundId: r.id ?? null,
    conversationId: r.conversationId ?? null,
    refundDestinationType: r.refundDestinationType ?? null,
    authCode: r.authCode ?? null,
    hostReference: r.hostReference ?? null,
    transId: r.transId ?? null,
  },
})

/** One transaction refund as an entry of its own (an external one, or a part of a split REFUND). */
const partReport = (t: TransactionRefund, refundId: string | undefined, kind: string, extra: Details = {}): ProviderRefundState => ({
  ...(refundId ? { refundId } : {}),
  kind,
  providerRef: `txr:${t.id}`,
  amount: minor(t.refundPrice, t.currency),
  status: ledgerStatus(t.status),
  providerStatus: t.status,
  details: {
    refundType: "REFUND",
    transactionRefundId: t.id,
    paymentTransactionId: String(t.paymentTransactionId),
    conversationId: t.conversationId ?? null,
    refundDestinationType: t.refundDestinationType ?? null,
    isAfterSettlement: t.isAfterSettlement ?? null,
    transactions: [{ id: String(t.paymentTransactionId), amount: minor(t.refundPrice, t.currency) }],
    ...extra,
  },
})

/** The id of a part of a split REFUND. */
export const partId = (refundId: string, transactionRefundId: number | string): string => `${refundId}~${transactionRefundId}`

/**
 * Reports for the transaction refunds behind one paystate refund (a per-transaction refund, or the
 * parts of a whole-payment REFUND). `entry` is the ledger entry when the caller has the payment.
 */
export const transactionReports = (txs: readonly TransactionRefund[], refundId: string | undefined, entry?: LedgerEntry): ProviderRefundState[] => {
  if (txs.length === 0) return []
  if (!refundId) return txs.map((t) => partReport(t, undefined, "refund_tx"))
  // Already split: every part reports on its own entry.
  if (entry?.details.split === true) return txs.map((t) => partReport(t, partId(refundId, t.id), "refund", { splitFrom: refundId }))
  const amount = txs.reduce((s, t) => s + minor(t.refundPrice, t.currency), 0)
  const statuses = txs.map((t) => t.status)
  const failed = statuses.filter((s) => s === "FAILURE").length
  const mixed = failed > 0 && failed < txs.length
  const mismatch = entry !== undefined && entry.amount !== amount
  const summary = txs.map(txSummary)
  const common = { refundId, providerRef: `tx:${txs.map((t) => t.id).join(",")}`, conversationId: txs[0]!.conversationId ?? null }
  if (mixed || mismatch) {
    const why = mixed
      ? `Craftgate settled the parts differently (${summary.map((t) => `${t.id} ${t.status}`).join(", ")}); each part that did not fail is its own entry now.`
      : `Craftgate refunded ${amount}, not the ${entry!.amount} planned; each part is its own entry now.`
    return [
      { refundId, providerRef: common.providerRef, status: "failed", providerStatus: "SPLIT", reason: why, details: { split: true, conversationId: common.conversationId, transactionRefunds: summary } },
      ...txs.filter((t) => t.status !== "FAILURE").map((t) => partReport(t, partId(refundId, t.id), "refund", { splitFrom: refundId })),
    ]
  }
  const providerStatus = statuses.includes("WAITING") ? "WAITING" : statuses.every((s) => s === "SUCCESS") ? "SUCCESS" : "FAILURE"
  return [
    {
      refundId,
      // A CANCEL paystate planned that Craftgate made a REFUND (clocks apart at midnight).
      ...(entry?.kind === "cancel" ? { kind: "refund" } : {}),
      providerRef: common.providerRef,
      amount,
      status: ledgerStatus(providerStatus),
      providerStatus,
      details: {
        refundType: "REFUND",
        conversationId: common.conversationId,
        refundDestinationType: txs[0]!.refundDestinationType ?? null,
        transactionRefunds: summary,
        ...(txs.length === 1 ? { transactionRefundId: txs[0]!.id } : {}),
        transactions: txs.map((t) => ({ id: String(t.paymentTransactionId), amount: minor(t.refundPrice, t.currency) })),
      },
    },
  ]
}

/**
 * Reports for a CANCEL. When Craftgate cancelled more than paystate planned (a WAITING partial refund
 * had failed without paystate knowing, so Craftgate saw no earlier refund), the planned entry is
 * split off and the CANCEL becomes an entry of its own (`<refundId>~cancel`) with Craftgate's amount.
 */
export const cancelReports = (r: PaymentRefund, refundId: string | undefined, entry?: LedgerEntry): ProviderRefundState[] => {
  if (!refundId) return [cancelReport(r)]
  if (entry?.details.split === true) return [{ ...cancelReport(r, partId(refundId, "cancel")), details: { ...cancelReport(r).details, splitFrom: refundId } }]
  const amount = minor(r.refundPrice, r.currency)
  if (!entry || entry.amount === amount) return [cancelReport(r, refundId)]
  return [
    {
      refundId,
      // Not the CANCEL's id: that names the entry split off, and reports are matched by it.
      providerRef: `split:${r.id}`,
      status: "failed",
      providerStatus: "SPLIT",
      reason: `Craftgate answered with a CANCEL of ${amount}, not the ${entry.amount} planned; the CANCEL is its own entry now.`,
      details: { split: true, refundType: "CANCEL", craftgateRefundId: r.id ?? null, conversationId: r.conversationId ?? null },
    },
    { ...cancelReport(r, partId(refundId, "cancel")), details: { ...cancelReport(r).details, splitFrom: refundId } },
  ]
}

/** Reports for a `POST /payment/v1/refunds` answer (or a refund fetched later). */
export const refundReports = (r: PaymentRefund, refundId: string | undefined, entry?: LedgerEntry): ProviderRefundState[] =>
  r.refundType === "CANCEL" ? cancelReports(r, refundId, entry) : transactionReports(r.paymentTransactionRefunds, refundId, entry)

/** True when the reports split the planned entry: Craftgate did something else than planned. */
export const splits = (reports: readonly ProviderRefundState[]): boolean => reports.some((r) => r.providerStatus === "SPLIT")

/**
 * Groups what Craftgate holds for a payment (transaction refunds and CANCELs) into reports: paystate's
 * own by conversationId (each with its ledger entry), anything else as external entries.
 */
export const paymentRefundReports = (ctx: MachineContext, cancels: readonly PaymentRefund[], txs: readonly TransactionRefund[]): ProviderRefundState[] => {
  const reports: ProviderRefundState[] = []
  for (const c of cancels) {
    // A CANCEL of a payment never captured voided a pre-authorization: no money came back.
    if (c.refundType !== "CANCEL" || ctx.details.paymentPhase === "PRE_AUTH") continue
    const o = ours(c.conversationId)
    const refundId = o?.paymentId === ctx.id ? o.refundId : undefined
    reports.push(...cancelReports(c, refundId, refundId ? ctx.refunds.find((r) => r.id === refundId) : undefined))
  }
  const groups = new Map<string, TransactionRefund[]>()
  for (const t of txs) {
    const o = ours(t.conversationId)
    const key = o?.paymentId === ctx.id ? o.refundId : ""
    groups.set(key, [...(groups.get(key) ?? []), t])
  }
  for (const [refundId, group] of groups) {
    reports.push(...transactionReports(group, refundId || undefined, refundId ? ctx.refunds.find((r) => r.id === refundId) : undefined))
  }
  return reports
}
