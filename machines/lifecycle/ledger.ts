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
  /** Refunds paystate knows are settled (its own and external ones). */
  readonly settled: number
  /** Refunds in flight (requested, pending). */
  readonly reserved: number
  /** Provider refunds not yet attributed to a paystate refund: held against the ceiling, not counted as refunded. */
  readonly unattributed: number
  /** What a new refund may still take: captured - settled - reserved - unattributed. */
  readonly refundable: number
}

// Ledger arrays are never changed in place (every change makes a new array), so a sum is computed once
// per array: guards and views ask for the totals several times a step.
const sums = new WeakMap<readonly LedgerEntry[], { readonly settled: number; readonly reserved: number; readonly unattributed: number }>()

/** Sums the ledger. */
export const totals = (ctx: Pick<PaymentContext, "capturedAmount" | "refunds">): LedgerTotals => {
  let sum = sums.get(ctx.refunds)
  if (!sum) {
    let settled = 0
    let reserved = 0
    let unattributed = 0
    for (const r of ctx.refunds) {
      const holds = r.status === "succeeded" || RESERVING.includes(r.status)
      if (r.unattributed) unattributed += holds ? r.amount : 0
      else if (r.status === "succeeded") settled += r.amount
      else if (RESERVING.includes(r.status)) reserved += r.amount
    }
    sum = { settled, reserved, unattributed }
    if (typeof ctx.refunds === "object" && ctx.refunds !== null) sums.set(ctx.refunds, sum)
  }
  const { settled, reserved, unattributed } = sum
  return { captured: ctx.capturedAmount, settled, reserved, unattributed, refundable: ctx.capturedAmount - settled - reserved - unattributed }
}

/** True when a refund of `amount` fits under the ceiling. */
export const fits = (ctx: Pick<PaymentContext, "capturedAmount" | "refunds">, amount: number): boolean =>
  Number.isSafeInteger(amount) && amount > 0 && amount <= totals(ctx).refundable

/** The id an unattributed provider refund is held under. */
export const unattributedId = (providerRef: string): string => `ua:${providerRef}`

/**
 * True when a paystate refund is in flight without a provider id: its answer may still name a
 * provider refund that a report has already shown, so unattributed refunds must wait for it.
 */
const mayClaim = (r: LedgerEntry): boolean => !r.unattributed && !r.external && !r.providerRef && RESERVING.includes(r.status)

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

/** Finds the ledger entry a provider report is about: by paystate's id, then by the provider's id. Nothing else. */
export const matchEntry = (refunds: readonly LedgerEntry[], report: ProviderRefundState): LedgerEntry | undefined => {
  if (report.refundId) {
    const byId = refunds.find((r) => r.id === report.refundId)
    if (byId) return byId
  }
  return report.providerRef ? refunds.find((r) => r.providerRef === report.providerRef) : undefined
}

const flag = (refunds: readonly LedgerEntry[], id: string, reason: string, at: string): readonly LedgerEntry[] =>
  refunds.map((r) => (r.id === id && r.reviewReason !== reason ? { ...r, needsReview: true, reviewReason: reason, updatedAt: at } : r))

/**
 * Applies one provider report to the ledger, by identity only. A report that names a paystate refund
 * and a provider refund held as unattributed attributes it (the unattributed entry merges away); one
 * provider refund id is never recorded on two refunds (the report is refused and the refund flagged).
 * A report that names no known refund is held as unattributed while some refund is in flight without a
 * provider id, and recorded as external otherwise. Known entries move only forward (see ALLOWED).
 * Returns the same array when nothing changed.
 */
export const applyReport = (
  refunds: readonly LedgerEntry[],
  report: ProviderRefundState,
  at: string,
  route?: RouteReport,
): readonly LedgerEntry[] => {
  const entry = matchEntry(refunds, report)
  let merged: LedgerEntry | undefined
  if (entry && report.providerRef) {
    const holder = refunds.find((r) => r !== entry && r.providerRef === report.providerRef)
    if (holder?.unattributed) {
      // The answer names both ids: the provider refund held aside is this refund.
      refunds = refunds.filter((r) => r !== holder)
      merged = holder
    } else if (holder) {
      return flag(refunds, entry.id, `The provider reported its refund ${report.providerRef} for ${entry.id}, but it is already recorded on ${holder.id}: one provider refund belongs to one refund.`, at)
    }
  }
  if (!entry) {
    if (report.status === "failed" || !report.providerRef) return refunds
    const held = refunds.some(mayClaim) && !report.refundId
    const created: LedgerEntry = {
      id: report.refundId ?? (held ? unattributedId(report.providerRef) : `ext_${report.providerRef}`),
      kind: report.kind ?? "refund",
      amount: report.amount ?? 0,
      status: report.status,
      providerStatus: report.providerStatus ?? null,
      providerRef: report.providerRef,
      reason: report.reason ?? null,
      // An entry the adapter names with paystate's own id (a split part of our refund) is ours, not external.
      ...(report.refundId ? {} : held ? { unattributed: true } : { external: true }),
      createdAt: at,
      updatedAt: at,
      details: report.details ?? {},
    }
    return created.amount > 0 ? [...refunds, created] : refunds
  }
  if (entry.machine && route) {
    // A refund with a machine of its own: where it goes is the machine's to decide (its states are the
    // provider's path); the ledger keeps the identity it learnt and hears back in the same step.
    route(entry.id, report)
    if (merged) route(entry.id, { status: merged.status, providerStatus: merged.providerStatus ?? undefined, providerRef: merged.providerRef ?? undefined, reason: merged.reason, details: merged.details })
    const providerRef = entry.providerRef ?? report.providerRef ?? null
    if (!merged && providerRef === (entry.providerRef ?? null)) return refunds
    return refunds.map((r) => (r === entry ? { ...entry, providerRef, updatedAt: at } : r))
  }
  // A provider that now calls a settled refund failed (OneKey: COMPLETED, then REJECTED by the bank)
  // has had it reversed: the money came back, and the refund stays on record.
  const reported = entry.status === "succeeded" && report.status === "failed" ? "reversed" : report.status
  let status = canMove(entry.status, reported) ? reported : entry.status
  // What the held-aside report already knew may be newer than this answer (a webhook said
  // COMPLETED before the API answer said PENDING): the furthest status wins.
  const newer = merged && merged.status !== status && canMove(status, merged.status) ? merged : undefined
  if (newer) status = newer.status
  const next: LedgerEntry = {
    ...entry,
    status,
    // A stale status never overwrites a newer one, but provider ids and details still fill in.
    providerStatus: newer ? (newer.providerStatus ?? null) : status === reported ? (report.providerStatus ?? entry.providerStatus ?? null) : entry.providerStatus ?? null,
    providerRef: entry.providerRef ?? report.providerRef ?? null,
    reason: status === reported && report.reason !== undefined ? report.reason : entry.reason ?? null,
    needsReview: status === "pending" || status === "requested" ? entry.needsReview : false,
    details: report.details ? { ...entry.details, ...report.details } : entry.details,
  }
  if (!merged && JSON.stringify(next) === JSON.stringify(entry)) return refunds
  return refunds.map((r) => (r === entry ? { ...next, updatedAt: at } : r))
}

/**
 * Once no refund is in flight without a provider id, nothing can claim the provider refunds held as
 * unattributed any more: they are external (made outside paystate, e.g. in the provider's dashboard).
 */
export const settleUnattributed = (refunds: readonly LedgerEntry[], at: string): readonly LedgerEntry[] => {
  if (!refunds.some((r) => r.unattributed) || refunds.some(mayClaim)) return refunds
  return refunds.map((r) => (r.unattributed ? { ...r, unattributed: false, external: true, updatedAt: at } : r))
}

/** Receives a report matched to a refund that has a machine of its own (the payment routes it there). */
export type RouteReport = (refundId: string, report: ProviderRefundState) => void

/** Applies several reports in order. */
export const applyReports = (
  refunds: readonly LedgerEntry[],
  reports: readonly ProviderRefundState[] | undefined,
  at: string,
  route?: RouteReport,
): readonly LedgerEntry[] => {
  const next = (reports ?? []).reduce((acc, r) => applyReport(acc, r, at, route), refunds)
  return next === refunds ? refunds : settleUnattributed(next, at)
}

/** Marks an in-flight entry failed because its effect was definitively refused. */
export const failEntry = (refunds: readonly LedgerEntry[], id: string, reason: string, at: string): readonly LedgerEntry[] =>
  settleUnattributed(
    refunds.map((r) => (r.id === id && RESERVING.includes(r.status) ? { ...r, status: "failed", reason, updatedAt: at } : r)),
    at,
  )
