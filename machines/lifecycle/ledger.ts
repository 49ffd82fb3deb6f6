/**
 * The refund ledger: pure functions over a payment's refund entries. The one invariant every machine
 * keeps is `settled + reserved <= capturedAmount`; everything here either preserves it or refuses.
 */
import type { LedgerEntry, PaymentContext, ProviderRefundState, RefundStatus } from "./types.js"

/** Statuses that hold their amount against the ceiling without having moved money yet. */
export const RESERVING: readonly RefundStatus[] = ["requested", "pending"]

/** The ledger's figures, in minor units. */
export interface LedgerTotals {
  readonly captured: number
  readonly settled: number
  readonly reserved: number
  /** What a new refund may still take: captured - settled - reserved. */
  readonly refundable: number
}

/** Sums the ledger. */
export const totals = (ctx: Pick<PaymentContext, "capturedAmount" | "refunds">): LedgerTotals => {
  let settled = 0
  let reserved = 0
  for (const r of ctx.refunds) {
    if (r.status === "succeeded") settled += r.amount
    else if (RESERVING.includes(r.status)) reserved += r.amount
  }
  return { captured: ctx.capturedAmount, settled, reserved, refundable: ctx.capturedAmount - settled - reserved }
}

/** True when a refund of `amount` fits under the ceiling. */
export const fits = (ctx: Pick<PaymentContext, "capturedAmount" | "refunds">, amount: number): boolean =>
  Number.isSafeInteger(amount) && amount > 0 && amount <= totals(ctx).refundable

/** Which status changes a provider may report; anything else is stale or reordered and is ignored. */
const ALLOWED: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  requested: ["pending", "succeeded", "failed"],
  pending: ["succeeded", "failed"],
  succeeded: ["reversed"],
  failed: [],
  reversed: [],
}

/** True when a refund may move from one status to another. */
export const canMove = (from: RefundStatus, to: RefundStatus): boolean => from === to || ALLOWED[from].includes(to)

/** Finds the ledger entry a provider report is about: by our id, by the provider's id, then by shape. */
export const matchEntry = (refunds: readonly LedgerEntry[], report: ProviderRefundState): LedgerEntry | undefined => {
  if (report.refundId) {
    const byId = refunds.find((r) => r.id === report.refundId)
    if (byId) return byId
  }
  if (report.providerRef) {
    const byRef = refunds.find((r) => r.providerRef === report.providerRef)
    if (byRef) return byRef
  }
  // A webhook can arrive before the API answer that names the refund: pair it with the oldest
  // in-flight entry of the same kind and amount that has no provider id yet.
  return refunds.find(
    (r) =>
      !r.providerRef &&
      r.status === "requested" &&
      (report.amount === undefined || r.amount === report.amount) &&
      (report.kind === undefined || r.kind === report.kind),
  )
}

/**
 * Applies one provider report to the ledger. Known entries move only forward (see ALLOWED); a
 * report about a refund paystate never asked for is recorded as external, so it still counts
 * against the ceiling. Returns the same array when nothing changed.
 */
export const applyReport = (
  refunds: readonly LedgerEntry[],
  report: ProviderRefundState,
  at: string,
): readonly LedgerEntry[] => {
  const entry = matchEntry(refunds, report)
  if (!entry) {
    if (report.status === "failed") return refunds
    const id = report.refundId ?? `ext_${report.providerRef ?? refunds.length}`
    const created: LedgerEntry = {
      id,
      kind: report.kind ?? "refund",
      amount: report.amount ?? 0,
      status: report.status,
      providerStatus: report.providerStatus ?? null,
      providerRef: report.providerRef ?? null,
      reason: report.reason ?? null,
      external: true,
      createdAt: at,
      updatedAt: at,
      details: report.details ?? {},
    }
    return created.amount > 0 ? [...refunds, created] : refunds
  }
  // A provider that now calls a settled refund failed (OneKey: COMPLETED, then REJECTED by the bank)
  // has had it reversed: the money came back, and the refund stays on record.
  const reported = entry.status === "succeeded" && report.status === "failed" ? "reversed" : report.status
  const status = canMove(entry.status, reported) ? reported : entry.status
  const next: LedgerEntry = {
    ...entry,
    status,
    // A stale status never overwrites a newer one, but provider ids and details still fill in.
    providerStatus: status === reported ? (report.providerStatus ?? entry.providerStatus ?? null) : entry.providerStatus ?? null,
    providerRef: entry.providerRef ?? report.providerRef ?? null,
    reason: status === reported && report.reason !== undefined ? report.reason : entry.reason ?? null,
    needsReview: status === "pending" || status === "requested" ? entry.needsReview : false,
    details: report.details ? { ...entry.details, ...report.details } : entry.details,
  }
  if (JSON.stringify(next) === JSON.stringify(entry)) return refunds
  return refunds.map((r) => (r === entry ? { ...next, updatedAt: at } : r))
}

/** Applies several reports in order. */
export const applyReports = (
  refunds: readonly LedgerEntry[],
  reports: readonly ProviderRefundState[] | undefined,
  at: string,
): readonly LedgerEntry[] => (reports ?? []).reduce((acc, r) => applyReport(acc, r, at), refunds)

/** Marks an in-flight entry failed because its effect was definitively refused. */
export const failEntry = (refunds: readonly LedgerEntry[], id: string, reason: string, at: string): readonly LedgerEntry[] =>
  refunds.map((r) => (r.id === id && RESERVING.includes(r.status) ? { ...r, status: "failed", reason, updatedAt: at } : r))
