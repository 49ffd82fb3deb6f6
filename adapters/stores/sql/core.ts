/**
 * The SQL store core, shared by the PGlite and PostgreSQL drivers. Drivers only open connections and
 * run statements; every query, and every quirk of timestamps and bigints, is handled here once.
 *
 * Cost model (docs/performance.md): a commit is ONE statement (sql/commit.ts: a data-modifying CTE that writes the
 * payment, its journal entry, outbox, timers, seen keys and changed refund entries, each part reading
 * the payment part's RETURNING so a stale version writes nothing), the snapshot is serialised once and
 * never read back. `mutate` on PostgreSQL is two pipelined round trips: [BEGIN, SELECT … FOR UPDATE,
 * the refund entries] then [write, COMMIT].
 *
 * Refund entries (migration 4): a snapshot's `context.refunds` is kept as one row per entry in
 * `paystate_refund_entries`, and the payment row's snapshot holds the rest, marked `refundsInRows`.
 * A payment's refunds only ever grow, and most of them settle and never change again, so a commit
 * writes the entries that changed instead of rewriting (and TOASTing, and WAL-logging) all of them.
 * Every read puts the entries back, in order: callers see the snapshot exactly as committed.
 */
import {
  StoreConflict,
  type Commit,
  type JournalEntry,
  type OutboxRow,
  type StoredPayment,
  type TimerRow,
} from "../../../src/store.js"
import { commitStatement, conflictOf, iso, savedOf, writeCommit } from "./commit.js"
import { entriesOf, isObject, joinRefunds, refundsOf, REFUNDS_IN_ROWS, writtenCache, writtenFromRead } from "./refund-rows.js"
import { countLimitOf, decodeCursor, encodeCursor } from "../list.js"
import type { CursorListPage, CursorListQuery, Decision, JournalPageQuery, ScalableStore } from "../types.js"
import { MIGRATIONS } from "./migrations.js"

/** Runs one statement; `name` lets a driver prepare it once per connection. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], name?: string): Promise<{ rows: T[]; affectedRows?: number }>
}

/** What a driver provides. */
export interface SqlDriver extends Queryable {
  readonly name: string
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * One dedicated connection on which statements are sent without waiting for the answer to the one
   * before (PostgreSQL pipeline mode), so `begin` and a select cost one round trip. Absent on drivers
   * with a single in-process connection (PGlite), where `mutate` serialises per payment instead.
   */
  session?<T>(fn: (s: Queryable) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** Options of the SQL store core. */
export interface SqlStoreOptions {
  /** How many matching rows `list` counts exactly before it estimates (default 1000). */
  readonly countLimit?: number
  /**
   * Keep a payment's refund entries as rows of their own and write only the ones a commit changed
   * (default true). Off, new commits store the snapshot whole, as before migration 4; rows written
   * either way are read correctly.
   */
  readonly refundRows?: boolean
}

const json = (v: unknown): any => (typeof v === "string" ? JSON.parse(v) : v)

/** Every payment column but the snapshot, in one place, so no statement depends on `select *`. */
const PAYMENT_COLS = "id, provider, provider_ref, status, currency, amount, external_order_num, created_at, updated_at, version, needs_review"

/** A payment row as every read returns it: the columns, the snapshot, and its refund entries. */
const PAYMENT_ROW = `${PAYMENT_COLS}, snapshot, ${refundsOf("paystate_payments")}`


const OUTBOX_COLS = "id, payment_id, provider, op_id, op, payload, idempotency_key, attempts, state, available_at, created_at, last_error, retry_since"

const toPayment = (r: any, snapshot?: StoredPayment["snapshot"]): StoredPayment => ({
  id: r.id,
  provider: r.provider,
  providerRef: r.provider_ref ?? null,
  status: r.status,
  currency: r.currency,
  amount: Number(r.amount),
  externalOrderNum: r.external_order_num ?? null,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  needsReview: r.needs_review === true,
  version: Number(r.version),
  snapshot: snapshot ?? joinRefunds(json(r.snapshot), r.paystate_refunds == null ? r.paystate_refunds : json(r.paystate_refunds)),
})

const toOutbox = (r: any): OutboxRow => ({
  id: r.id,
  paymentId: r.payment_id,
  provider: r.provider,
  opId: r.op_id,
  op: r.op,
  payload: json(r.payload),
  idempotencyKey: r.idempotency_key,
  attempts: Number(r.attempts),
  state: r.state,
  availableAt: iso(r.available_at),
  createdAt: iso(r.created_at),
  lastError: r.last_error ?? null,
  retrySince: r.retry_since == null ? null : iso(r.retry_since),
})

// Rows written since migration 3 carry no snapshot (the journal is event-only; replaySnapshots in
// src/replay.ts derives one per version); older rows keep theirs.
const toJournal = (r: any): JournalEntry =>
  ({
    paymentId: r.payment_id,
    version: Number(r.version),
    at: iso(r.at),
    event: json(r.event),
    status: r.status,
    ...(r.snapshot == null ? {} : { snapshot: json(r.snapshot) }),
  }) as JournalEntry

const toTimer = (r: any): TimerRow => ({ paymentId: r.payment_id, timerId: r.timer_id, name: r.name, fireAt: iso(r.fire_at), data: json(r.data) })

/** Applies pending migrations in one transaction, under an advisory lock. */
export const migrate = async (db: SqlDriver): Promise<number> =>
  db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock(7243911)")
    await tx.query("create table if not exists paystate_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())")
    const done = new Set((await tx.query<{ version: number }>("select version from paystate_migrations")).rows.map((r) => Number(r.version)))
    let applied = 0
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue
      for (const statement of m.sql) await tx.query(statement)
      await tx.query("insert into paystate_migrations (version, name) values ($1, $2)", [m.version, m.name])
      applied++
    }
    return applied
  })

/** The newest migration version; a data directory at it needs no migration. */
export const LATEST_MIGRATION = Math.max(...MIGRATIONS.map((m) => m.version))

/** Awaits every promise (none left unhandled), then throws the first failure. */
const all = async <T extends readonly Promise<unknown>[]>(ps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> => {
  const settled = await Promise.allSettled(ps)
  const failed = settled.find((s) => s.status === "rejected")
  if (failed) throw (failed as PromiseRejectedResult).reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as never
}

/** Builds a Store over a SQL driver. */
export const sqlStore = (db: SqlDriver, options: SqlStoreOptions = {}): ScalableStore => {
  const countLimit = countLimitOf(options.countLimit)
  const refundRows = options.refundRows ?? true
  let initialized: Promise<void> | undefined
  // What this store wrote of each recently written payment's refund entries (see refundParts).
  const cache = writtenCache()
  // Without the row layout, reads skip the entries subquery (PGlite plans every statement anew, so
  // each part costs at every call); a row an earlier store wrote in the row layout gets its entries
  // in a second statement.
  const ROW = refundRows ? PAYMENT_ROW : `${PAYMENT_COLS}, snapshot`
  const complete = async (q: Queryable, raw: any): Promise<StoredPayment> => {
    if (refundRows || !isObject(json(raw.snapshot)) || json(raw.snapshot)[REFUNDS_IN_ROWS] !== true) return toPayment(raw)
    const e = await q.query(`select ${entriesOf("$1")} as paystate_refunds`, [raw.id], "paystate_entries")
    return toPayment({ ...raw, paystate_refunds: e.rows[0]?.paystate_refunds })
  }
  // A row read in the row layout tells exactly which entry rows it has: remembered, the next commit
  // on it sends only what changed (the engine keeps the entries it read when it steps on them).
  const remember = (raw: any, p: StoredPayment): StoredPayment => {
    if (refundRows && raw.paystate_refunds != null && json(raw.snapshot)?.[REFUNDS_IN_ROWS] === true) {
      const w = writtenFromRead(p.snapshot, p.version)
      if (w) cache.set(p.id, w)
    }
    return p
  }
  /** One row as `load` and `findByProviderRef` answer it: completed, and remembered when in the row layout. */
  const readOne = async (q: Queryable, raw: any): Promise<StoredPayment | undefined> => (raw ? remember(raw, await complete(q, raw)) : undefined)
  const load = async (q: Queryable, id: string) => readOne(q, (await q.query(`select ${ROW} from paystate_payments where id = $1`, [id], "paystate_load")).rows[0])

  // Without a pipelined session (PGlite: one connection in this process, no other process on the
  // directory) mutates on one payment take turns here, and the version check catches a plain
  // `commit` that slipped in between.
  const turns = new Map<string, Promise<unknown>>()
  const inTurn = async <T>(id: string, fn: () => Promise<T>): Promise<T> => {
    const prior = turns.get(id) ?? Promise.resolve()
    const run = prior.then(fn, fn)
    const tail = run.catch(() => undefined)
    turns.set(id, tail)
    try {
      return await run
    } finally {
      if (turns.get(id) === tail) turns.delete(id)
    }
  }

  const mutateLocked = async <T>(session: NonNullable<SqlDriver["session"]>, id: string, decide: (row: StoredPayment | undefined) => Decision<T>) => {
    for (let attempt = 0; ; attempt++) {
      const out = await session(async (s) => {
        // The entries come in a statement of their own, after the lock: a `for update` that waited
        // for another writer returns that writer's row, but anything else it reads (a subquery) would
        // still be from before it. Pipelined, it costs no round trip.
        const [, locked, entries] = await all([
          s.query("begin"),
          s.query(`select ${PAYMENT_COLS}, snapshot from paystate_payments where id = $1 for update`, [id], "paystate_lock"),
          s.query<{ paystate_refunds: unknown }>(`select ${entriesOf("$1")} as paystate_refunds`, [id], "paystate_lock_refunds"),
        ] as const)
        const raw = locked.rows[0] ? { ...locked.rows[0], paystate_refunds: entries.rows[0]?.paystate_refunds } : undefined
        const row = raw ? remember(raw, toPayment(raw)) : undefined
        let d: Decision<T>
        try {
          d = decide(row)
        } catch (e) {
          await s.query("rollback")
          throw e
        }
        if (!d.commit) {
          await s.query("commit")
          return { result: d.result } as { saved?: StoredPayment; result: T; retry?: boolean }
        }
        const commit = d.commit
        const st = commitStatement(commit, cache.get(id), refundRows)
        cache.drop(id)
        const [written, committed] = await Promise.allSettled([s.query(st.text, st.values, st.name), s.query("commit")])
        if (written.status === "rejected") throw conflictOf(written.reason, commit)
        // A write that its COMMIT did not make durable was not saved.
        if (committed.status === "rejected") throw committed.reason
        if (written.value.rows.length > 0) {
          if (st.written) cache.set(id, st.written())
          return { saved: savedOf(commit, Number((written.value.rows[0] as { version: unknown }).version)), result: d.result }
        }
        // Nothing to lock yet and another process created the payment meanwhile: decide again on it.
        if (!row && commit.expectedVersion === 0) return { result: d.result, retry: true }
        throw new StoreConflict("version", `Payment ${id} is not at version ${commit.expectedVersion}.`)
      })
      if (!out.retry) return out
      if (attempt >= 5) throw new StoreConflict("version", `Payment ${id} was created concurrently.`)
    }
  }

  const mutateInTurn = <T>(id: string, decide: (row: StoredPayment | undefined) => Decision<T>) =>
    inTurn(id, async () => {
      for (let attempt = 0; ; attempt++) {
        const row = await load(db, id)
        const d = decide(row)
        if (!d.commit) return { result: d.result }
        try {
          return { saved: await writeCommit(db, d.commit, cache, refundRows), result: d.result }
        } catch (e) {
          // A concurrent plain commit moved the row: decide again on the fresh one. A decision made
          // against another version than the row it got is the caller's conflict, not a race.
          const raced = e instanceof StoreConflict && e.kind === "version" && d.commit.expectedVersion === (row?.version ?? 0)
          if (!raced || attempt >= 50) throw e
        }
      }
    })

  const journalPage = async (paymentId: string, page: JournalPageQuery = {}) => {
    const after = page.afterVersion ?? 0
    const limit = page.limit ?? null
    const r = await db.query(
      "select payment_id, version, at, event, status, snapshot from paystate_journal where payment_id = $1 and version > $2 order by version limit $3",
      [paymentId, after, limit],
      "paystate_journal_page",
    )
    return r.rows.map(toJournal)
  }

  const list = async (q: CursorListQuery): Promise<CursorListPage<StoredPayment>> => {
    const where: string[] = []
    const params: unknown[] = []
    const add = (sql: string, v: unknown) => {
      params.push(v)
      where.push(sql.replace("?", `$${params.length}`))
    }
    if (q.provider) add("provider = ?", q.provider)
    if (q.status) add("status = ?", q.status)
    if (q.currency) add("currency = ?", q.currency)
    if (q.externalOrderNum) add("external_order_num = ?", q.externalOrderNum)
    if (q.needsReview !== undefined) add("needs_review = ?", q.needsReview)
    if (q.startTime) add("created_at >= ?", new Date(q.startTime).toISOString())
    if (q.endTime) add("created_at < ?", new Date(q.endTime).toISOString())
    const filter = where.length ? where.join(" and ") : "true"
    const perPage = q.perPage ?? 10
    const page = q.page ?? 1
    let pageWhere = filter
    const pageParams = [...params]
    if (q.after) {
      const at = decodeCursor(q.after)
      // An index bound on created_at, then the id tie-break (works with every (x, created_at desc, id desc) index).
      const a = `$${pageParams.push(at.createdAt)}`
      const b = `$${pageParams.push(at.id)}`
      pageWhere = `${filter} and created_at <= ${a}::timestamptz and (created_at < ${a}::timestamptz or id < ${b})`
    }
    const offset = q.after ? 0 : (page - 1) * perPage
    // One statement: the capped count and the page (one row more than asked, to know if another follows).
    // Refund entries are gathered in the outer select, so only for the rows the page returns (not
    // for the ones an offset skips).
    const capAt = `$${pageParams.push(countLimit + 1)}`
    const lim = `$${pageParams.push(perPage + 1)}`
    const off = `$${pageParams.push(offset)}`
    const pageSql = `with c as (select count(*)::int as n from (select 1 from paystate_payments where ${filter} limit ${capAt}) x),
            pg as (select ${PAYMENT_COLS}, snapshot from paystate_payments where ${pageWhere} order by created_at desc, id desc limit ${lim} offset ${off})
       select c.n as paystate_total, pg.*${refundRows ? `, ${refundsOf("pg")}` : ""} from c left join pg on true order by pg.created_at desc, pg.id desc`
    // Past the cap the planner's estimate stands in for a count that would scan every matching row.
    const explainSql = `explain (format json) select 1 from paystate_payments where ${filter}`
    const estimateOf = (plan: { rows: any[] }) => {
      const raw = plan.rows[0]?.["QUERY PLAN"]
      return Number((typeof raw === "string" ? JSON.parse(raw) : raw)?.[0]?.Plan?.["Plan Rows"] ?? 0)
    }
    let r: { rows: any[] }
    let estimate: number | undefined
    if (db.session) {
      // Pipelined on one connection: the estimate costs planning time, not another round trip.
      ;[r, estimate] = await db.session(async (s) => {
        const [page, plan] = await all([s.query<any>(pageSql, pageParams), s.query<any>(explainSql, params)] as const)
        return [page, estimateOf(plan)] as const
      })
    } else r = await db.query<any>(pageSql, pageParams)
    const counted = Number(r.rows[0]?.paystate_total ?? 0)
    const rows = r.rows.filter((x) => x.id != null)
    const more = rows.length > perPage
    const data = await Promise.all(rows.slice(0, perPage).map((x) => complete(db, x)))
    let total = counted
    const totalIsEstimate = counted > countLimit
    if (totalIsEstimate) {
      estimate ??= estimateOf(await db.query<any>(explainSql, params))
      total = Math.max(countLimit + 1, Math.round(estimate))
    }
    const last = data.at(-1)
    return {
      data,
      total,
      totalIsEstimate,
      page: q.after ? 1 : page,
      perPage,
      lastPage: Math.max(1, Math.ceil(total / perPage)),
      nextCursor: more && last ? encodeCursor(last) : null,
    }
  }

  return {
    name: db.name,
    init: () => (initialized ??= migrate(db).then(() => undefined)),
    load: (id) => load(db, id),
    findByProviderRef: async (provider, ref) => {
      const r = await db.query(`select ${ROW} from paystate_payments where provider = $1 and provider_ref = $2 order by created_at limit 1`, [provider, ref], "paystate_by_ref")
      return readOne(db, r.rows[0])
    },
    commit: (c: Commit) => writeCommit(db, c, cache, refundRows),
    mutate: (id, decide) => (db.session ? mutateLocked(db.session.bind(db), id, decide) : mutateInTurn(id, decide)),
    list,
    journal: (paymentId, page) => journalPage(paymentId, page),
    allJournal: async () => (await db.query("select payment_id, version, at, event, status, snapshot from paystate_journal order by seq")).rows.map(toJournal),
    machineVersions: async () =>
      (
        await db.query(
          `select distinct provider, machine, version from (
             select provider, snapshot->>'machine' as machine, coalesce(snapshot->>'version', '1') as version from paystate_payments
             union all
             select p.provider, c.value->>'machine', coalesce(c.value->>'version', '1')
               from paystate_payments p, jsonb_each(case when jsonb_typeof(p.snapshot->'children') = 'object' then p.snapshot->'children' else '{}'::jsonb end) c
           ) v where machine is not null`,
        )
      ).rows.map((r: any) => ({ provider: String(r.provider), machine: String(r.machine), version: String(r.version) })),
    claimOutbox: async (now, leaseMs, limit, ids) => {
      const lease = new Date(Date.parse(now) + leaseMs).toISOString()
      const r = await db.query(
        `update paystate_outbox set attempts = attempts + 1, available_at = $2
         where id in (select id from paystate_outbox where state = 'pending' and available_at <= $1 ${ids ? "and id = any($4::text[])" : ""}
                      order by created_at limit $3 for update skip locked)
         returning ${OUTBOX_COLS}`,
        ids ? [now, lease, limit, ids] : [now, lease, limit],
      )
      return r.rows.map(toOutbox).sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    },
    releaseOutbox: async (id, u) => {
      await db.query("update paystate_outbox set available_at = $2, last_error = $3, state = $4 where id = $1 and state = 'pending'", [
        id,
        u.availableAt,
        u.lastError,
        u.park ? "parked" : "pending",
      ])
    },
    unparkOutbox: async (id, availableAt) =>
      (await db.query("update paystate_outbox set state = 'pending', available_at = $2, retry_since = $2 where id = $1 and state = 'parked' returning id", [id, availableAt])).rows.length > 0,
    outbox: async (paymentId, state) => {
      const where: string[] = []
      const params: unknown[] = []
      if (paymentId) where.push(`payment_id = $${params.push(paymentId)}`)
      if (state) where.push(`state = $${params.push(state)}`)
      return (await db.query(`select ${OUTBOX_COLS} from paystate_outbox ${where.length ? `where ${where.join(" and ")}` : ""} order by created_at`, params)).rows.map(toOutbox)
    },
    dueTimers: async (now, limit) => (await db.query("select payment_id, timer_id, name, fire_at, data from paystate_timers where fire_at <= $1 order by fire_at limit $2", [now, limit])).rows.map(toTimer),
    markSeen: async (keys) => {
      if (keys.length) await db.query("insert into paystate_seen (key) select unnest($1::text[]) on conflict do nothing", [keys])
    },
    hasSeen: async (key) => (await db.query("select 1 from paystate_seen where key = $1", [key], "paystate_has_seen")).rows.length > 0,
    close: () => db.close(),
  }
}
