/**
 * A Craftgate payment is made of payment transactions, one per basket item, each with its paid price.
 * Refunds are counted per transaction: every ledger entry says in `details.transactions` how much it
 * takes from which transaction, and a CANCEL takes everything.
 */
import type { Json, LedgerEntry, PaymentContext } from "../lifecycle/index.js"

/** A payment transaction as the machine keeps it in `details.transactions` (amounts in minor units). */
export interface CraftgateTransaction {
  /** Craftgate's paymentTransactionId, as a string. */
  readonly id: string
  readonly name: string | null
  readonly externalId?: string | null
  /** The item's price. */
  readonly price?: number
  /** What the customer paid for the item: the transaction's refund ceiling. */
  readonly paidPrice: number
}

/** How much of one transaction a refund takes. */
export interface TransactionPart {
  readonly id: string
  readonly amount: number
}

/** A transaction with what is left to refund of it. */
export type TransactionLeft = CraftgateTransaction & { readonly left: number }

/** The transactions Craftgate reported for the payment. */
export const transactionsOf = (ctx: Pick<PaymentContext, "details">): readonly CraftgateTransaction[] =>
  (Array.isArray(ctx.details.transactions) ? ctx.details.transactions : []) as unknown as CraftgateTransaction[]

/** Entries that hold or took money: failed ones gave it back. */
const holding = (r: LedgerEntry): boolean => r.status !== "failed" && r.status !== "reversed"

/** True when the entry is a CANCEL (planned or reported): it takes the whole payment. */
export const isCancel = (r: LedgerEntry): boolean => r.details.refundType === "CANCEL"

/** The CANCEL that holds the payment, if any (settled, or still waiting at Craftgate). */
export const activeCancel = (ctx: Pick<PaymentContext, "refunds">): LedgerEntry | undefined => ctx.refunds.find((r) => holding(r) && isCancel(r))

/** The parts an entry takes, as recorded in its details. */
export const partsOf = (r: LedgerEntry): readonly TransactionPart[] =>
  (Array.isArray(r.details.transactions) ? r.details.transactions : []).flatMap((p: Json) => {
    const o = p as { id?: unknown; amount?: unknown }
    return o && typeof o === "object" && o.id !== undefined && typeof o.amount === "number" ? [{ id: String(o.id), amount: o.amount }] : []
  })

/** Each transaction with what is left to refund of it; pending and settled refunds hold their share. */
export const transactionsLeft = (ctx: Pick<PaymentContext, "details" | "refunds">): TransactionLeft[] => {
  const txs = transactionsOf(ctx)
  if (activeCancel(ctx)) return txs.map((tx) => ({ ...tx, left: 0 }))
  const taken = new Map<string, number>()
  for (const r of ctx.refunds) {
    if (!holding(r)) continue
    for (const part of partsOf(r)) taken.set(part.id, (taken.get(part.id) ?? 0) + part.amount)
  }
  return txs.map((tx) => ({ ...tx, left: Math.max(0, tx.paidPrice - (taken.get(tx.id) ?? 0)) }))
}
