/**
 * How the SQL stores write a commit: ONE statement (a data-modifying CTE that writes the payment, its
 * journal entries, outbox, timers, seen keys and changed refund entries, each part reading the payment
 * part's RETURNING so a stale version writes nothing), the snapshot serialised once and never read
 * back, and the saved row built from what was written.
 */
import { journalOf, StoreConflict, type Commit, type StoredPayment } from "../../../src/store.js"
import type { Queryable } from "./core.js"
import { planRefunds, refundParts, type Written, type WrittenCache } from "./refund-rows.js"

/** A timestamp as every read returns it (ISO 8601, UTC, milliseconds). */
export const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString())

/** A unique violation as the store's conflict (version or duplicate); anything else as it is. */
export const conflictOf = (e: unknown, commit: Commit): unknown => {
  const err = e as { code?: string; constraint?: string; message?: string }
  if (err?.code !== "23505") return e
  // A repeated webhook key or outbox id is a duplicate; a journal or payment key taken means another
  // writer got this version first.
  const c = String(err.constraint ?? err.message ?? "")
  const kind = c.includes("journal") || c.includes("payments") ? "version" : "duplicate"
  return new StoreConflict(kind, `Payment ${commit.payment.id}: ${err.message ?? "unique violation"}`)
}

/**
 * Builds the one statement that writes a commit. The text depends only on which parts are present,
 * so each shape is prepared once per connection (`name`).
 */
export const commitStatement = (c: Commit, prior?: Written, refundRows = true): { text: string; values: unknown[]; name: string; written?: () => Written } => {
  const p = c.payment
  const values: unknown[] = []
  const $ = (v: unknown) => `$${values.push(v)}`
  const entries = journalOf(c)
  const version = c.expectedVersion + entries.length
  const create = c.expectedVersion === 0
  const plan = refundRows ? planRefunds(p.snapshot, prior, c.expectedVersion, version) : undefined
  const head = [p.id, p.provider, p.providerRef, p.status, p.currency, p.amount, p.externalOrderNum, p.createdAt, p.updatedAt, version, JSON.stringify(plan ? plan.head : p.snapshot), p.needsReview ?? false]
  head.forEach($)
  const parts: string[] = []
  let shape = create ? "i" : "u"
  parts.push(
    create
      ? `p as (insert into paystate_payments (id, provider, provider_ref, status, currency, amount, external_order_num, created_at, updated_at, version, snapshot, needs_review)
              values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11::jsonb,$12) on conflict (id) do nothing returning id, version)`
      : `p as (update paystate_payments set provider=$2, provider_ref=$3, status=$4, currency=$5, amount=$6, external_order_num=$7, created_at=$8, updated_at=$9, version=$10, snapshot=$11::jsonb, needs_review=$12
              where id = $1 and version = ${$(c.expectedVersion)} returning id, version)`,
  )
  if (entries.length === 1) {
    const j = entries[0]!
    parts.push(`j as (insert into paystate_journal (payment_id, version, at, event, status) select id, version, ${$(j.at)}::timestamptz, ${$(JSON.stringify(j.event))}::jsonb, ${$(j.status)} from p)`)
  } else {
    // A batched step: its events take the versions after the expected one, in order.
    shape += "m"
    parts.push(`j as (insert into paystate_journal (payment_id, version, at, event, status)
      select p.id, ${$(c.expectedVersion)}::int + e.n::int, e.at, e.event, e.status
      from p, jsonb_to_recordset(${$(JSON.stringify(entries.map((j, i) => ({ n: i + 1, at: j.at, event: j.event, status: j.status }))))}::jsonb) as e(n int, at timestamptz, event jsonb, status text))`)
  }
  const seen = [...new Set(c.seen ?? [])]
  if (seen.length) {
    shape += "s"
    // No "on conflict": a key already seen aborts the whole statement (unique violation → duplicate).
    parts.push(`s as (insert into paystate_seen (key) select k from p, unnest(${$(seen)}::text[]) as k)`)
  }
  const done = new Set(c.outboxDone ?? [])
  if (c.outboxAdd?.length) {
    shape += "o"
    const rows = c.outboxAdd.map((o) => ({
      id: o.id,
      payment_id: o.paymentId,
      provider: o.provider,
      op_id: o.opId,
      op: o.op,
      payload: o.payload,
      idempotency_key: o.idempotencyKey,
      state: done.has(o.id) ? "done" : "pending",
      available_at: o.availableAt,
      created_at: o.createdAt,
    }))
    for (const o of c.outboxAdd) done.delete(o.id)
    parts.push(`o as (insert into paystate_outbox (id, payment_id, provider, op_id, op, payload, idempotency_key, attempts, state, available_at, created_at, last_error)
      select r.id, r.payment_id, r.provider, r.op_id, r.op, r.payload, r.idempotency_key, 1, r.state, r.available_at, r.created_at, null
      from p, jsonb_to_recordset(${$(JSON.stringify(rows))}::jsonb) as r(id text, payment_id text, provider text, op_id text, op text, payload jsonb, idempotency_key text, state text, available_at timestamptz, created_at timestamptz))`)
  }
  if (done.size) {
    shape += "d"
    parts.push(`d as (update paystate_outbox set state = 'done' where payment_id = $1 and id = any(${$([...done])}::text[]) and exists (select 1 from p))`)
  }
  // A timer set again in this commit is replaced by the upsert; deleting it in the same statement
  // would touch one row twice.
  const timersSet = new Map((c.timersSet ?? []).map((t) => [`${t.paymentId}\u0000${t.timerId}`, t]))
  const cancel = (c.timersCancel ?? []).filter((id) => !timersSet.has(`${p.id}\u0000${id}`))
  if (cancel.length) {
    shape += "c"
    parts.push(`tc as (delete from paystate_timers where payment_id = $1 and timer_id = any(${$(cancel)}::text[]) and exists (select 1 from p))`)
  }
  if (timersSet.size) {
    shape += "t"
    const rows = [...timersSet.values()].map((t) => ({ payment_id: t.paymentId, timer_id: t.timerId, name: t.name, fire_at: t.fireAt, data: t.data }))
    parts.push(`ts as (insert into paystate_timers (payment_id, timer_id, name, fire_at, data)
      select r.payment_id, r.timer_id, r.name, r.fire_at, r.data from p, jsonb_to_recordset(${$(JSON.stringify(rows))}::jsonb) as r(payment_id text, timer_id text, name text, fire_at timestamptz, data jsonb)
      on conflict (payment_id, timer_id) do update set name = excluded.name, fire_at = excluded.fire_at, data = excluded.data)`)
  }
  if (plan) shape += refundParts(create, plan, $, parts)
  return { text: `with ${parts.join(",\n")}\nselect version from p`, values, name: `paystate_commit_${shape}`, written: plan?.written }
}

const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
/**
 * The row a commit saved, from what it wrote: the statement returns only the version, so nothing is
 * parsed back (its timestamps were 2 of the 11 columns a commit used to return and parse). Times are
 * given as a read would return them.
 */
export const savedOf = (c: Commit, version: number): StoredPayment => {
  const p = c.payment
  return {
    id: p.id,
    provider: p.provider,
    providerRef: p.providerRef ?? null,
    status: p.status,
    currency: p.currency,
    amount: Number(p.amount),
    externalOrderNum: p.externalOrderNum ?? null,
    createdAt: CANONICAL_TIME.test(p.createdAt) ? p.createdAt : iso(p.createdAt),
    updatedAt: CANONICAL_TIME.test(p.updatedAt) ? p.updatedAt : iso(p.updatedAt),
    needsReview: p.needsReview === true,
    version,
    snapshot: p.snapshot,
  }
}

/** Writes a commit in one statement; the saved row takes the commit's snapshot (not read back). */
export const writeCommit = async (q: Queryable, c: Commit, cache: WrittenCache, refundRows = true): Promise<StoredPayment> => {
  const id = c.payment.id
  const st = commitStatement(c, cache.get(id), refundRows)
  // Until it is known to have landed, nothing of it is remembered (a failure leaves the rows unknown).
  cache.drop(id)
  let r: { rows: any[] }
  try {
    r = await q.query(st.text, st.values, st.name)
  } catch (e) {
    throw conflictOf(e, c)
  }
  if (r.rows.length === 0) throw new StoreConflict("version", `Payment ${id} is not at version ${c.expectedVersion}.`)
  if (st.written) cache.set(id, st.written())
  return savedOf(c, Number(r.rows[0].version))
}
