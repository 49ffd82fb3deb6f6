/**
 * The SQL store core, shared by the PGlite and PostgreSQL drivers. Drivers only open connections and
 * run transactions; every query, and every quirk of timestamps and bigints, is handled here once.
 */
import {
  StoreConflict,
  type Commit,
  type JournalEntry,
  type OutboxRow,
  type Store,
  type StoredPayment,
  type TimerRow,
} from "../../../src/store.js"
import { MIGRATIONS } from "./migrations.js"

/** Runs one statement. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: T[]; affectedRows?: number }>
}

/** What a driver provides. */
export interface SqlDriver extends Queryable {
  readonly name: string
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  close(): Promise<void>
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString())
const json = (v: unknown): any => (typeof v === "string" ? JSON.parse(v) : v)

const toPayment = (r: any): StoredPayment => ({
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
  snapshot: json(r.snapshot),
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

const toJournal = (r: any): JournalEntry => ({
  paymentId: r.payment_id,
  version: Number(r.version),
  at: iso(r.at),
  event: json(r.event),
  status: r.status,
  snapshot: json(r.snapshot),
})

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

const isUniqueViolation = (e: unknown) => (e as { code?: string })?.code === "23505"

/** Builds a Store over a SQL driver. */
export const sqlStore = (db: SqlDriver): Store => {
  let initialized: Promise<void> | undefined
  return {
    name: db.name,
    init: () => (initialized ??= migrate(db).then(() => undefined)),
    load: async (id) => {
      const r = await db.query("select * from paystate_payments where id = $1", [id])
      return r.rows[0] ? toPayment(r.rows[0]) : undefined
    },
    findByProviderRef: async (provider, ref) => {
      const r = await db.query("select * from paystate_payments where provider = $1 and provider_ref = $2 order by created_at limit 1", [provider, ref])
      return r.rows[0] ? toPayment(r.rows[0]) : undefined
    },
    commit: (c: Commit) =>
      db
        .transaction(async (tx) => {
          const p = c.payment
          const version = c.expectedVersion + 1
          const values = [p.id, p.provider, p.providerRef, p.status, p.currency, p.amount, p.externalOrderNum, p.createdAt, p.updatedAt, version, JSON.stringify(p.snapshot), p.needsReview ?? false]
          const written =
            c.expectedVersion === 0
              ? await tx.query(
                  `insert into paystate_payments (id, provider, provider_ref, status, currency, amount, external_order_num, created_at, updated_at, version, snapshot, needs_review)
                   values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11::jsonb,$12) on conflict (id) do nothing returning *`,
                  values,
                )
              : await tx.query(
                  `update paystate_payments set provider=$2, provider_ref=$3, status=$4, currency=$5, amount=$6, external_order_num=$7, created_at=$8, updated_at=$9, version=$10, snapshot=$11::jsonb, needs_review=$12
                   where id = $1 and version = $13 returning *`,
                  [...values, c.expectedVersion],
                )
          if (written.rows.length === 0) throw new StoreConflict("version", `Payment ${p.id} is not at version ${c.expectedVersion}.`)
          for (const k of c.seen ?? []) {
            const r = await tx.query("insert into paystate_seen (key) values ($1) on conflict do nothing returning key", [k])
            if (r.rows.length === 0) throw new StoreConflict("duplicate", `Already seen: ${k}`)
          }
          await tx.query("insert into paystate_journal (payment_id, version, at, event, status, snapshot) values ($1,$2,$3,$4::jsonb,$5,$6::jsonb)", [
            p.id,
            version,
            c.journal.at,
            JSON.stringify(c.journal.event),
            c.journal.status,
            JSON.stringify(c.journal.snapshot ?? p.snapshot),
          ])
          for (const o of c.outboxAdd ?? []) {
            await tx.query(
              `insert into paystate_outbox (id, payment_id, provider, op_id, op, payload, idempotency_key, attempts, state, available_at, created_at, last_error)
               values ($1,$2,$3,$4,$5,$6::jsonb,$7,1,'pending',$8,$9,null)`,
              [o.id, o.paymentId, o.provider, o.opId, o.op, JSON.stringify(o.payload), o.idempotencyKey, o.availableAt, o.createdAt],
            )
          }
          if (c.outboxDone?.length) await tx.query("update paystate_outbox set state = 'done' where id = any($1::text[])", [c.outboxDone])
          if (c.timersCancel?.length) await tx.query("delete from paystate_timers where payment_id = $1 and timer_id = any($2::text[])", [p.id, c.timersCancel])
          for (const t of c.timersSet ?? []) {
            await tx.query(
              `insert into paystate_timers (payment_id, timer_id, name, fire_at, data) values ($1,$2,$3,$4,$5::jsonb)
               on conflict (payment_id, timer_id) do update set name = excluded.name, fire_at = excluded.fire_at, data = excluded.data`,
              [t.paymentId, t.timerId, t.name, t.fireAt, JSON.stringify(t.data)],
            )
          }
          return toPayment(written.rows[0])
        })
        .catch((e) => {
          if (isUniqueViolation(e)) throw new StoreConflict(c.expectedVersion === 0 ? "version" : "duplicate", String((e as Error).message))
          throw e
        }),
    list: async (q) => {
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
      const clause = where.length ? `where ${where.join(" and ")}` : ""
      const perPage = q.perPage ?? 10
      const page = q.page ?? 1
      const total = Number((await db.query<{ n: string }>(`select count(*) as n from paystate_payments ${clause}`, params)).rows[0]?.n ?? 0)
      const rows = await db.query(`select * from paystate_payments ${clause} order by created_at desc, id desc limit ${perPage} offset ${(page - 1) * perPage}`, params)
      return { data: rows.rows.map(toPayment), total, page, perPage, lastPage: Math.max(1, Math.ceil(total / perPage)) }
    },
    journal: async (paymentId) => (await db.query("select * from paystate_journal where payment_id = $1 order by version", [paymentId])).rows.map(toJournal),
    allJournal: async () => (await db.query("select * from paystate_journal order by seq")).rows.map(toJournal),
    claimOutbox: async (now, leaseMs, limit, ids) => {
      const lease = new Date(Date.parse(now) + leaseMs).toISOString()
      const r = await db.query(
        `update paystate_outbox set attempts = attempts + 1, available_at = $2
         where id in (select id from paystate_outbox where state = 'pending' and available_at <= $1 ${ids ? "and id = any($4::text[])" : ""}
                      order by created_at limit $3 for update skip locked)
         returning *`,
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
      return (await db.query(`select * from paystate_outbox ${where.length ? `where ${where.join(" and ")}` : ""} order by created_at`, params)).rows.map(toOutbox)
    },
    dueTimers: async (now, limit) => (await db.query("select * from paystate_timers where fire_at <= $1 order by fire_at limit $2", [now, limit])).rows.map(toTimer),
    markSeen: async (keys) => {
      if (keys.length) await db.query("insert into paystate_seen (key) select unnest($1::text[]) on conflict do nothing", [keys])
    },
    hasSeen: async (key) => (await db.query("select 1 from paystate_seen where key = $1", [key])).rows.length > 0,
    close: () => db.close(),
  }
}
