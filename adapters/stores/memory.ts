/**
 * The in-memory store: for tests, simulations and short-lived processes. It keeps the same contract
 * as the durable stores (atomic commits, version checks, leases) so code tested on it behaves the
 * same on PGlite and PostgreSQL.
 */
import {
  StoreConflict,
  type Commit,
  type JournalEntry,
  type ListPage,
  type ListQuery,
  type OutboxRow,
  type Store,
  type StoredPayment,
  type TimerRow,
} from "../../src/store.js"

const clone = <T>(v: T): T => structuredClone(v)

/** Filters and pages payments the way every store does (newest first). */
export const pageOf = <T extends StoredPayment>(rows: readonly T[], q: ListQuery): ListPage<T> => {
  const filtered = rows
    .filter(
      (p) =>
        (!q.provider || p.provider === q.provider) &&
        (!q.status || p.status === q.status) &&
        (!q.currency || p.currency === q.currency) &&
        (!q.externalOrderNum || p.externalOrderNum === q.externalOrderNum) &&
        (q.needsReview === undefined || (p.needsReview ?? false) === q.needsReview) &&
        (!q.startTime || Date.parse(p.createdAt) >= Date.parse(q.startTime)) &&
        (!q.endTime || Date.parse(p.createdAt) < Date.parse(q.endTime)),
    )
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : -1))
  const perPage = q.perPage ?? 10
  const page = q.page ?? 1
  return {
    data: filtered.slice((page - 1) * perPage, page * perPage),
    total: filtered.length,
    page,
    perPage,
    lastPage: Math.max(1, Math.ceil(filtered.length / perPage)),
  }
}

/** Creates an empty in-memory store. */
export const memoryStore = (): Store => {
  const payments = new Map<string, StoredPayment>()
  const journal: JournalEntry[] = []
  const outbox = new Map<string, OutboxRow>()
  const timers = new Map<string, TimerRow>()
  const seen = new Set<string>()
  const timerKey = (paymentId: string, timerId: string) => `${paymentId}\u0000${timerId}`

  return {
    name: "memory",
    init: async () => {},
    load: async (id) => clone(payments.get(id)),
    findByProviderRef: async (provider, ref) => clone([...payments.values()].find((p) => p.provider === provider && p.providerRef === ref)),
    commit: async (c: Commit) => {
      // Check everything before changing anything: a commit lands whole or not at all.
      const current = payments.get(c.payment.id)
      if ((current?.version ?? 0) !== c.expectedVersion) {
        throw new StoreConflict("version", `Payment ${c.payment.id} is at version ${current?.version ?? 0}, not ${c.expectedVersion}.`)
      }
      for (const k of c.seen ?? []) if (seen.has(k)) throw new StoreConflict("duplicate", `Already seen: ${k}`)
      for (const o of c.outboxAdd ?? []) if (outbox.has(o.id)) throw new StoreConflict("duplicate", `Outbox entry ${o.id} exists.`)
      const saved: StoredPayment = clone({ ...c.payment, version: c.expectedVersion + 1 })
      payments.set(saved.id, saved)
      journal.push(clone({ ...c.journal, paymentId: saved.id, version: saved.version, snapshot: c.journal.snapshot ?? saved.snapshot }))
      for (const o of c.outboxAdd ?? []) outbox.set(o.id, clone({ ...o, attempts: 1, state: "pending", lastError: null, retrySince: null }))
      for (const id of c.outboxDone ?? []) {
        const o = outbox.get(id)
        if (o) outbox.set(id, { ...o, state: "done" })
      }
      for (const t of c.timersCancel ?? []) timers.delete(timerKey(saved.id, t))
      for (const t of c.timersSet ?? []) timers.set(timerKey(t.paymentId, t.timerId), clone(t))
      for (const k of c.seen ?? []) seen.add(k)
      return clone(saved)
    },
    list: async (q) => clone(pageOf([...payments.values()], q)),
    journal: async (paymentId) => clone(journal.filter((j) => j.paymentId === paymentId)),
    allJournal: async () => clone(journal),
    claimOutbox: async (now, leaseMs, limit, ids) => {
      const t = Date.parse(now)
      const claimed: OutboxRow[] = []
      const rows = [...outbox.values()].filter((o) => o.state === "pending" && Date.parse(o.availableAt) <= t && (!ids || ids.includes(o.id)))
      rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      for (const o of rows.slice(0, limit)) {
        const next: OutboxRow = { ...o, attempts: o.attempts + 1, availableAt: new Date(t + leaseMs).toISOString() }
        outbox.set(o.id, next)
        claimed.push(clone(next))
      }
      return claimed
    },
    releaseOutbox: async (id, u) => {
      const o = outbox.get(id)
      if (o && o.state === "pending") outbox.set(id, { ...o, availableAt: u.availableAt, lastError: u.lastError, state: u.park ? "parked" : "pending" })
    },
    unparkOutbox: async (id, availableAt) => {
      const o = outbox.get(id)
      if (!o || o.state !== "parked") return false
      outbox.set(id, { ...o, state: "pending", availableAt, retrySince: availableAt })
      return true
    },
    outbox: async (paymentId, state) => clone([...outbox.values()].filter((o) => (!paymentId || o.paymentId === paymentId) && (!state || o.state === state))),
    dueTimers: async (now, limit) =>
      clone(
        [...timers.values()]
          .filter((t) => Date.parse(t.fireAt) <= Date.parse(now))
          .sort((a, b) => a.fireAt.localeCompare(b.fireAt))
          .slice(0, limit),
      ),
    hasSeen: async (key) => seen.has(key),
    markSeen: async (keys) => {
      for (const k of keys) seen.add(k)
    },
    close: async () => {},
  }
}
