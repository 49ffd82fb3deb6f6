/**
 * How the CLI puts payments into words. The words follow the payment's state, never the amount it
 * was created for: an authorized konbini payment is "awaiting the customer", not "paid"; "paid" is
 * what was captured.
 */
import { totals, type LedgerEntry, type MachineContext } from "../../machines/lifecycle/index.js"
import { formatMoney } from "../money.js"
import type { JournalEntry, StoredPayment } from "../store.js"
import type { PaymentView, ReviewItem } from "../types.js"
import { statePath } from "../view.js"
import { cliProvider } from "./providers.js"

/** A state path in words: "captured.partiallyRefunded" → "captured, partially refunded". */
export const stateWords = (path: string): string =>
  path
    .split(".")
    .filter((s, i) => i === 0 || s !== "unrefunded")
    .map((s) => s.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase())
    .join(", ")

/** What a payment that is not paid yet waits for, in the provider's terms. */
const awaitingOf = (p: PaymentView): string | undefined => cliProvider(p.provider)?.awaiting(p)

/** The payment's state and money in one line, in words that match its state. */
export const describePayment = (p: PaymentView): string => {
  const m = (n: number) => formatMoney(n, p.currency)
  const waiting = awaitingOf(p)
  const parts: string[] = []
  switch (p.status) {
    case "pending":
      parts.push(waiting ? `pending, ${waiting}` : "pending", `${m(p.amount)}, nothing paid yet`)
      break
    case "authorized":
      parts.push(`authorized, ${waiting ?? "not captured yet"}`, waiting === "awaiting capture" ? `${m(p.amount)} held, nothing captured` : `${m(p.amount)} to pay, nothing paid yet`)
      break
    case "cancelled":
      parts.push("cancelled", p.capturedAmount ? `paid ${m(p.capturedAmount)}, all of it given back` : "nothing paid")
      break
    case "expired":
      parts.push("expired", p.capturedAmount ? `paid ${m(p.capturedAmount)}` : `nothing paid${p.deadline ? ` by ${p.deadline}` : ""}`)
      break
    case "failed":
      parts.push("failed", p.capturedAmount ? `paid ${m(p.capturedAmount)}` : "nothing paid")
      break
    default:
      parts.push(stateWords(p.state), `paid ${m(p.capturedAmount)}`)
  }
  if (p.refundedAmount) parts.push(`refunded ${m(p.refundedAmount)}`)
  if (p.reservedAmount) parts.push(`in flight ${m(p.reservedAmount)}`)
  if (p.unattributedAmount) parts.push(`unattributed ${m(p.unattributedAmount)}`)
  if (p.status === "captured") parts.push(`refundable ${m(p.refundableAmount)}`)
  if (p.refunds.some((r) => r.needsReview || r.unattributed)) parts.push("NEEDS REVIEW")
  return parts.join(" · ")
}

/** A refund in one line: kind, id, amount, status, the provider's id and word, review flags. */
export const describeRefund = (r: Pick<LedgerEntry, "id" | "kind" | "amount" | "status" | "providerRef" | "providerStatus" | "external" | "unattributed" | "needsReview" | "reviewReason">, currency: string): string =>
  [
    `${r.kind} ${r.id}`,
    formatMoney(r.amount, currency),
    r.status,
    ...(r.providerRef ? [`provider ${r.providerRef}${r.providerStatus ? ` ${r.providerStatus}` : ""}`] : r.providerStatus ? [r.providerStatus] : []),
    ...(r.external ? ["external"] : []),
    ...(r.unattributed ? ["unattributed"] : []),
    ...(r.needsReview ? [`NEEDS REVIEW${r.reviewReason ? `: ${r.reviewReason}` : ""}`] : []),
  ].join("  ")

const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s.padEnd(n))

/** A page of payments as a table, ids first. */
export const paymentTable = (rows: readonly PaymentView[]): string[] => {
  const w = Math.max(2, ...rows.map((p) => p.id.length)) + 2
  const head = `${pad("ID", w)}${pad("PROVIDER", 11)}${pad("STATE", 28)}${pad("AMOUNT", 18)}${pad("REFUNDED", 18)}${pad("CREATED", 22)}ORDER`
  return [
    head,
    ...rows.map(
      (p) =>
        `${pad(p.id, w)}${pad(p.provider, 11)}${pad(stateWords(p.state) + (p.refunds.some((r) => r.needsReview || r.unattributed) ? " !" : ""), 28)}${pad(formatMoney(p.amount, p.currency), 18)}${pad(formatMoney(p.refundedAmount, p.currency), 18)}${pad(p.createdAt.slice(0, 19).replace("T", " "), 22)}${p.externalOrderNum ?? ""}`,
    ),
  ]
}

/** One refund's change between two journal versions. */
export interface RefundChange {
  readonly id: string
  readonly kind: string
  readonly amount: number
  /** null: the refund is new at this version. */
  readonly from: string | null
  readonly to: string
  readonly providerRef: string | null
  readonly providerStatus: string | null
  readonly needsReview: boolean
  readonly unattributed: boolean
  /** Gone at this version (an unattributed entry merged into the refund it turned out to be). */
  readonly merged?: boolean
}

/** One line of `paystate history`: the event, the state after it, the money after it, refunds that changed. */
export interface HistoryLine {
  readonly version: number
  readonly at: string
  readonly event: string
  /** What the event names: amounts, refund and operation ids, outcomes, who. */
  readonly summary: string
  readonly state: string
  readonly status: string
  readonly amounts: { readonly captured: number; readonly refunded: number; readonly reserved: number; readonly unattributed: number; readonly refundable: number }
  readonly refunds: readonly RefundChange[]
  /** The event as stored, with the provider's sensitive fields masked. */
  readonly detail: unknown
}

const refundState = (r: LedgerEntry) => `${r.status}${r.providerStatus ? ` (${r.providerStatus})` : ""}${r.needsReview ? " needs review" : ""}`

const diffRefunds = (before: readonly LedgerEntry[], after: readonly LedgerEntry[]): RefundChange[] => {
  const prior = new Map(before.map((r) => [r.id, r]))
  const changes: RefundChange[] = []
  for (const r of after) {
    const b = prior.get(r.id)
    prior.delete(r.id)
    const from = b ? refundState(b) : null
    const to = refundState(r)
    if (b && from === to && b.amount === r.amount && (b.providerRef ?? null) === (r.providerRef ?? null) && !!b.unattributed === !!r.unattributed && !!b.external === !!r.external) continue
    changes.push({ id: r.id, kind: r.kind, amount: r.amount, from, to: `${to}${r.external ? " external" : ""}`, providerRef: r.providerRef ?? null, providerStatus: r.providerStatus ?? null, needsReview: !!r.needsReview, unattributed: !!r.unattributed })
  }
  for (const b of prior.values()) changes.push({ id: b.id, kind: b.kind, amount: b.amount, from: refundState(b), to: "merged", providerRef: b.providerRef ?? null, providerStatus: b.providerStatus ?? null, needsReview: false, unattributed: !!b.unattributed, merged: true })
  return changes
}

const summarize = (e: Record<string, unknown>, currency: string): string => {
  const m = (n: unknown) => (typeof n === "number" ? formatMoney(n, currency) : "")
  const parts: string[] = []
  const input = e.input as { amount?: number; method?: string } | undefined
  if (e.type === "CREATE" && input) parts.push(m(input.amount), ...(input.method ? [input.method] : []))
  if (typeof e.refundId === "string") parts.push(e.refundId)
  if (typeof e.kind === "string" && e.type === "REFUND") parts.unshift(e.kind)
  if (e.type === "REFUND") parts.push(typeof e.amount === "number" ? m(e.amount) : "everything left")
  else if (typeof e.amount === "number") parts.push(m(e.amount))
  if (typeof e.opId === "string") parts.push(`op ${e.opId}`)
  if (typeof e.name === "string" && e.type === "TIMER") parts.push(e.name)
  if (typeof e.code === "string") parts.push(e.code)
  if (typeof e.outcome === "string") parts.push(`outcome ${e.outcome}`)
  const payment = e.payment as { status?: string; capturedAmount?: number } | undefined
  if (payment?.status) parts.push(`provider says ${payment.status}`)
  const review = (e.review as { by?: string; note?: string } | undefined) ?? (typeof e.by === "string" ? { by: e.by as string, note: e.note as string | undefined } : undefined)
  if (review?.by) parts.push(`by ${review.by}${review.note ? `: "${review.note}"` : ""}`)
  if (typeof e.reason === "string") parts.push(e.reason)
  return parts.filter(Boolean).join(" ")
}

/** Builds the history lines of a payment from its journal; `maskedEvent` gives each entry's event as the app may show it. */
export const historyLines = (row: StoredPayment, journal: readonly JournalEntry[], maskedEvent: (entry: JournalEntry) => unknown): HistoryLine[] => {
  let before: readonly LedgerEntry[] = []
  return journal.map((j) => {
    const ctx = j.snapshot.context as unknown as MachineContext
    const t = totals(ctx)
    const event = (maskedEvent(j) ?? {}) as Record<string, unknown>
    const line: HistoryLine = {
      version: j.version,
      at: j.at,
      event: String(event.type ?? "?"),
      summary: summarize(event, row.currency),
      state: statePath(j.snapshot.value),
      status: j.status,
      amounts: { captured: ctx.capturedAmount, refunded: t.settled, reserved: t.reserved, unattributed: t.unattributed, refundable: Math.max(0, t.refundable) },
      refunds: diffRefunds(before, ctx.refunds),
      detail: event,
    }
    before = ctx.refunds
    return line
  })
}

/** A history line as text (the first row is the event, then one row per refund that changed). */
export const historyText = (l: HistoryLine, currency: string): string[] => {
  const m = (n: number) => formatMoney(n, currency)
  const money = [`captured ${m(l.amounts.captured)}`, ...(l.amounts.refunded ? [`refunded ${m(l.amounts.refunded)}`] : []), ...(l.amounts.reserved ? [`in flight ${m(l.amounts.reserved)}`] : []), ...(l.amounts.unattributed ? [`unattributed ${m(l.amounts.unattributed)}`] : [])].join(", ")
  return [
    `v${l.version}  ${l.at}  ${l.event}${l.summary ? `  ${l.summary}` : ""}  → ${l.state}  (${money})`,
    ...l.refunds.map((r) => `      ${r.kind} ${r.id}  ${m(r.amount)}  ${r.from ? `${r.from} → ` : "new: "}${r.to}${r.providerRef ? `  provider ${r.providerRef}` : ""}`),
  ]
}

/** A review item as text lines. */
export const reviewText = (i: ReviewItem): string[] => [
  `${i.id}  ${i.kind}  ${i.provider}${i.amount !== undefined ? `  ${formatMoney(i.amount, i.currency)}` : ""}${i.status ? `  ${i.status}` : ""}${i.providerRef ? `  provider ${i.providerRef}` : ""}  since ${i.since}`,
  ...i.reasons.map((r) => `    - ${r}`),
]
