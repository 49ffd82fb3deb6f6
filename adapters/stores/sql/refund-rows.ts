/**
 * The refund-entry layout of the SQL stores (migration 4): a snapshot's `context.refunds` kept as one
 * row per entry in `paystate_refund_entries`, the payment row holding the rest, marked. Here: how a
 * commit's entries are planned against what the store last wrote, the statement parts that write
 * them, and how a read puts them back. core.ts builds the statements around it.
 */
import { deepFreeze } from "../../../src/freeze.js"
import type { StoredPayment } from "../../../src/store.js"

/**
 * The top-level key that marks a stored snapshot whose `context.refunds` lives in
 * `paystate_refund_entries`. Rows without it (written before migration 4, or snapshots without a
 * refunds list) hold their snapshot whole, as before.
 */
export const REFUNDS_IN_ROWS = "refundsInRows"

/** A payment's refund entries, in order, as one JSON array (json_agg: no jsonb to build, only text out). */
export const entriesOf = (idExpr: string) =>
  `(select coalesce(json_agg(r.entry order by r.seq), '[]'::json) from paystate_refund_entries r where r.payment_id = ${idExpr})`
/** The entries of a marked row, null for any other: read in the same statement as the row itself. */
export const refundsOf = (table: string) => `case when ${table}.snapshot ? '${REFUNDS_IN_ROWS}' then ${entriesOf(`${table}.id`)} end as paystate_refunds`

/** A refund entry as the layout sees it: an object keyed by its own id. */
export type Entry = { readonly id: string }

/** A plain object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** Longer ids would not fit a btree key (about 2,700 bytes); real refund ids are tens of characters. */
const MAX_REFUND_ID = 500
const isEntry = (e: unknown): e is Entry => isObject(e) && typeof e.id === "string" && e.id.length <= MAX_REFUND_ID

/**
 * What a store last wrote of one payment's refund entries, true of its rows while the payment is at
 * `version`: the entries as committed, deep-frozen (so the same object is the same entry), and the
 * index of each id.
 */
export interface Written {
  readonly version: number
  readonly list: readonly Entry[]
  readonly index: Map<string, number>
}

/** A commit's refund entries, planned: the payment row's snapshot without them, and what to write. */
export interface RefundPlan {
  readonly head: unknown
  /** Every entry: the statement compares each with its row, and deletes the rows of ids not in the list. */
  readonly all?: readonly Entry[]
  /** Or, against what this store wrote at the expected version: the entries that changed or moved, and the ids that left. */
  readonly sent?: readonly { readonly seq: number; readonly entry: Entry }[]
  readonly removed?: readonly string[]
  /** What the store knows of the rows once the commit has landed. */
  readonly written: () => Written
}


/**
 * Splits `context.refunds` off a snapshot when every entry is an object with its own string id (the
 * key of its row); any other snapshot is stored whole (undefined), as before migration 4. With what
 * this store wrote at the expected version (`prior`), an entry that is the very object written at the
 * same index is unchanged and not looked at again: a step costs O(what changed) plus one pass of
 * identity checks, however many refunds the payment has.
 */
export const planRefunds = (snapshot: StoredPayment["snapshot"], prior: Written | undefined, expectedVersion: number, version: number): RefundPlan | undefined => {
  if (Object.hasOwn(snapshot, REFUNDS_IN_ROWS)) {
    // Stored, it would read back as a marked row: refuse it rather than lose the caller's data.
    throw new TypeError(`A persisted snapshot cannot have a top-level "${REFUNDS_IN_ROWS}" key: the SQL stores reserve it.`)
  }
  const context = snapshot.context
  if (!isObject(context) || !Array.isArray(context.refunds)) return undefined
  const refunds = context.refunds as unknown[]
  const { refunds: _, ...rest } = context
  const head = { ...snapshot, context: rest, [REFUNDS_IN_ROWS]: true }
  if (prior && prior.version === expectedVersion) {
    const changed = new Map<string, number>()
    for (let i = 0; i < refunds.length; i++) {
      const e = refunds[i]
      if (e === prior.list[i]) continue
      if (!isEntry(e) || changed.has(e.id)) return undefined
      // An id an unchanged entry still holds, at another index, would be there twice.
      const j = prior.index.get(e.id)
      if (j !== undefined && j !== i && refunds[j] === prior.list[j]) return undefined
      changed.set(e.id, i)
    }
    // The entries that were at a changed index, or past the end, are gone unless they moved.
    const removed: string[] = []
    for (const i of changed.values()) if (i < prior.list.length && !changed.has(prior.list[i]!.id)) removed.push(prior.list[i]!.id)
    for (let i = refunds.length; i < prior.list.length; i++) if (!changed.has(prior.list[i]!.id)) removed.push(prior.list[i]!.id)
    const sent = [...changed.values()].map((seq) => ({ seq, entry: refunds[seq] as Entry }))
    // Kept to be recognised next time: a change made in place would go unnoticed, so it fails loudly
    // instead (as the memory store's frozen commits do).
    for (const x of sent) deepFreeze(x.entry)
    return {
      head,
      sent,
      removed,
      // The store dropped `prior` when it planned this commit: from here on the index is this plan's to update.
      written: () => {
        for (const id of removed) prior.index.delete(id)
        for (const [id, i] of changed) prior.index.set(id, i)
        return { version, list: refunds.slice() as Entry[], index: prior.index }
      },
    }
  }
  const all = writtenOf(refunds, version)
  return all && { head, all: all.list, written: () => all }
}

/** A list of entries as a store's memory of its rows: frozen and indexed by id; undefined if any is no entry or an id repeats. */
const writtenOf = (refunds: readonly unknown[], version: number): Written | undefined => {
  const index = new Map<string, number>()
  for (let i = 0; i < refunds.length; i++) {
    const e = refunds[i]
    if (!isEntry(e) || index.has(e.id)) return undefined
    index.set(e.id, i)
  }
  for (const e of refunds) deepFreeze(e)
  return { version, list: refunds.slice() as Entry[], index }
}

/**
 * What a store knows of a payment's rows after reading it in the row layout (the entries came from
 * their rows in the same statement): the entries as read, deep-frozen, so that a step on that read
 * sends only the entries it changes. Undefined for a list that could not have come from rows.
 */
export const writtenFromRead = (snapshot: StoredPayment["snapshot"], version: number): Written | undefined => {
  const context = snapshot.context
  return isObject(context) && Array.isArray(context.refunds) ? writtenOf(context.refunds, version) : undefined
}

/** Puts a marked row's entries back into `context.refunds`, and takes the mark off. */
export const joinRefunds = (stored: any, refunds: unknown): StoredPayment["snapshot"] => {
  if (refunds == null || !isObject(stored) || stored[REFUNDS_IN_ROWS] !== true) return stored
  const { [REFUNDS_IN_ROWS]: _, ...rest } = stored
  return { ...rest, context: { ...(rest.context as object), refunds } } as unknown as StoredPayment["snapshot"]
}

/** At most this many payments' written entries are remembered, and at most this many entries in all. */
const WRITTEN_PAYMENTS = 1000
const WRITTEN_ENTRIES = 200_000

/** The bounded memory of what a store wrote, per payment. */
export type WrittenCache = ReturnType<typeof writtenCache>
/** What this store wrote, by payment, oldest first (a Map keeps insertion order). */
export const writtenCache = () => {
  const byId = new Map<string, Written>()
  let total = 0
  const drop = (id: string) => {
    const w = byId.get(id)
    if (w) total -= w.list.length
    byId.delete(id)
  }
  return {
    get: (id: string) => byId.get(id),
    drop,
    set: (id: string, w: Written) => {
      drop(id)
      byId.set(id, w)
      total += w.list.length
      for (const [old] of byId) {
        if (byId.size <= WRITTEN_PAYMENTS && total <= WRITTEN_ENTRIES) break
        drop(old)
      }
    },
  }
}

/**
 * The refund-entry parts of a commit, as planned: with a delta, an upsert of the entries sent and a
 * delete of the ids that left; otherwise every entry, of which the statement writes only those that
 * differ from their rows and deletes the rows whose id left the list. Either way the parts read `p`,
 * so a stale version writes no entry.
 */
export const refundParts = (create: boolean, plan: RefundPlan, $: (v: unknown) => string, parts: string[]): string => {
  const upsert = `insert into paystate_refund_entries as t (payment_id, refund_id, seq, entry)`
  const onConflict = `on conflict (payment_id, refund_id) do update set seq = excluded.seq, entry = excluded.entry
      where (t.entry, t.seq) is distinct from (excluded.entry, excluded.seq)`
  if (!plan.all) {
    let shape = ""
    if (plan.sent?.length) {
      shape += "a"
      parts.push(`ru as (${upsert}
        select p.id, x.entry->>'id', x.seq, x.entry from p, jsonb_to_recordset(${$(JSON.stringify(plan.sent))}::jsonb) as x(seq int, entry jsonb)
        ${onConflict})`)
    }
    if (plan.removed?.length) {
      shape += "x"
      parts.push(`rd as (delete from paystate_refund_entries where payment_id = $1 and refund_id = any(${$(plan.removed)}::text[]) and exists (select 1 from p))`)
    }
    return shape
  }
  // Every entry at its index; an unchanged row is filtered out before the upsert, so it is not even locked.
  parts.push(`re as (select p.id as payment_id, x.entry->>'id' as refund_id, (x.n - 1)::int as seq, x.entry
      from p, jsonb_array_elements(${$(JSON.stringify(plan.all))}::jsonb) with ordinality as x(entry, n))`)
  parts.push(`ru as (${upsert}
      select re.payment_id, re.refund_id, re.seq, re.entry from re
      left join paystate_refund_entries o on o.payment_id = $1 and o.refund_id = re.refund_id
      where o.refund_id is null or (o.entry, o.seq) is distinct from (re.entry, re.seq)
      ${onConflict})`)
  // A new payment has no rows to remove. The rows deleted are never the upsert's: one statement
  // does not touch a row twice.
  if (create) return "r"
  parts.push(`rd as (delete from paystate_refund_entries t where t.payment_id = $1 and exists (select 1 from p)
      and not exists (select 1 from re where re.refund_id = t.refund_id))`)
  return "rd"
}
