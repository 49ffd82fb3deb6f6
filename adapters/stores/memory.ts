/**
 * The in-memory store: for tests, simulations and short-lived processes. It keeps the same contract
 * as the durable stores (atomic commits, version checks, leases, event-only journal, cursors, capped
 * totals) so code tested on it behaves the same on PGlite and PostgreSQL.
 *
 * No copies: a commit's objects become the store's (deep-frozen in place), and stored rows are handed
 * out as they are. A read costs nothing, and a caller that changes a row it was given, or a commit it
 * passed, gets a TypeError instead of silently changing the store.
 */
import {
  journalOf,
  StoreConflict,
  type Commit,
  type JournalEntry,
  type OutboxRow,
  type StoredPayment,
  type TimerRow,
} from "../../src/store.js"
import { deepFreeze as freeze } from "../../src/freeze.js"
import { countLimitOf, decodeCursor, encodeCursor } from "./list.js"
import type { CursorListPage, CursorListQuery, Decision, ScalableStore } from "./types.js"


const newestFirst = (a: StoredPayment, b: StoredPayment) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : Date.parse(b.createdAt) - Date.parse(a.createdAt))

/** Filters and pages payments the way every store does (newest first, keyset cursor, capped total). */
export const pageOf = <T extends StoredPayment>(rows: readonly T[], q: CursorListQuery, countLimit = countLimitOf(undefined)): CursorListPage<T> => {
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
    .sort(newestFirst)
  const perPage = q.perPage ?? 10
  const page = q.page ?? 1
  let start = (page - 1) * perPage
  if (q.after) {
    const at = decodeCursor(q.after)
    const t = Date.parse(at.createdAt)
    const i = filtered.findIndex((p) => Date.parse(p.createdAt) < t || (Date.parse(p.createdAt) === t && p.id < at.id))
    start = i === -1 ? filtered.length : i
  }
  const data = filtered.slice(start, start + perPage)
  const last = data.at(-1)
  // Same rule as the SQL stores; the memory store knows the exact figure, so its "estimate" is it.
  const totalIsEstimate = filtered.length > countLimit
  return {
    data,
    total: filtered.length,
    totalIsEstimate,
    page: q.after ? 1 : page,
    perPage,
    lastPage: Math.max(1, Math.ceil(filtered.length / perPage)),
    nextCursor: last && start + perPage < filtered.length ? encodeCursor(last) : null,
  }
}

/** Options of the memory store. */
export interface MemoryStoreOptions {
  /** How many matching payments `list` counts before `totalIsEstimate` (default 1000, as the SQL stores). */
  readonly countLimit?: number
}

/** Creates an empty in-memory store. */
export const memoryStore = (options: MemoryStoreOptions = {}): ScalableStore => {
  const countLimit = countLimitOf(options.countLimit)
  const payments = new Map<string, StoredPayment>()
  const journals = new Map<string, JournalEntry[]>()
  const journal: JournalEntry[] = []
  const outbox = new Map<string, OutboxRow>()
  // Indexes, so no call walks every row: outbox ids per payment, pending ids, provider references.
  const outboxOf = new Map<string, string[]>()
  const pending = new Set<string>()
  const byRef = new Map<string, string>()
  const refKey = (provider: string, ref: string) => `${provider}\u0000${ref}`
  const putOutbox = (o: OutboxRow) => {
    if (!outbox.has(o.id)) {
      let ids = outboxOf.get(o.paymentId)
      if (!ids) outboxOf.set(o.paymentId, (ids = []))
      ids.push(o.id)
    }
    outbox.set(o.id, freeze(o))
    if (o.state === "pending") pending.add(o.id)
    else pending.delete(o.id)
  }
  const timers = new Map<string, TimerRow>()
  const seen = new Set<string>()
  const timerKey = (paymentId: string, timerId: string) => `${paymentId}\u0000${timerId}`

  /** Checks then writes a commit; its objects become the store's (frozen in place, never copied). */
  const write = (c: Commit): StoredPayment => {
    // Check everything before changing anything: a commit lands whole or not at all.
    const current = payments.get(c.payment.id)
    if ((current?.version ?? 0) !== c.expectedVersion) {
      throw new StoreConflict("version", `Payment ${c.payment.id} is at version ${current?.version ?? 0}, not ${c.expectedVersion}.`)
    }
    for (const k of c.seen ?? []) if (seen.has(k)) throw new StoreConflict("duplicate", `Already seen: ${k}`)
    for (const o of c.outboxAdd ?? []) if (outbox.has(o.id)) throw new StoreConflict("duplicate", `Outbox entry ${o.id} exists.`)
    const entries = journalOf(c)
    const saved: StoredPayment = freeze({ ...c.payment, version: c.expectedVersion + entries.length })
    payments.set(saved.id, saved)
    // The first payment to carry a reference keeps it, as the SQL stores answer the oldest.
    if (saved.providerRef !== null && !byRef.has(refKey(saved.provider, saved.providerRef))) byRef.set(refKey(saved.provider, saved.providerRef), saved.id)
    // Event-only, like the SQL stores: a journal row does not repeat the snapshot.
    let mine = journals.get(saved.id)
    if (!mine) journals.set(saved.id, (mine = []))
    for (const [i, j] of entries.entries()) {
      const entry: JournalEntry = freeze({ paymentId: saved.id, version: c.expectedVersion + 1 + i, at: j.at, event: j.event, status: j.status } as JournalEntry)
      journal.push(entry)
      mine.push(entry)
    }
    for (const o of c.outboxAdd ?? []) putOutbox({ ...o, attempts: 1, state: "pending", lastError: null, retrySince: null })
    for (const id of c.outboxDone ?? []) {
      const o = outbox.get(id)
      if (o) putOutbox({ ...o, state: "done" })
    }
    for (const t of c.timersCancel ?? []) timers.delete(timerKey(saved.id, t))
    for (const t of c.timersSet ?? []) timers.set(timerKey(t.paymentId, t.timerId), freeze(t))
    for (const k of c.seen ?? []) seen.add(k)
    return saved
  }

  return {
    name: "memory",
    init: async () => {},
    load: async (id) => payments.get(id),
    findByProviderRef: async (provider, ref) => {
      const id = byRef.get(refKey(provider, ref))
      const p = id === undefined ? undefined : payments.get(id)
      // A payment whose reference changed since is no longer found by the old one.
      return p && p.providerRef === ref ? p : [...payments.values()].find((x) => x.provider === provider && x.providerRef === ref)
    },
    commit: async (c: Commit) => write(freeze(c)),
    // Synchronous from load to write: nothing else can run on the payment in between.
    mutate: async <T>(id: string, decide: (row: StoredPayment | undefined) => Decision<T>) => {
      const d = decide(payments.get(id))
      return d.commit ? { saved: write(freeze(d.commit)), result: d.result } : { result: d.result }
    },
    list: async (q) => pageOf([...payments.values()], q, countLimit),
    journal: async (paymentId, page = {}) => {
      const mine = journals.get(paymentId) ?? []
      const after = page.afterVersion ?? 0
      // Versions are 1, 2, 3…: version v sits at index v - 1.
      const from = Math.max(0, Math.min(mine.length, Math.floor(after)))
      return mine.slice(from, page.limit === undefined ? undefined : from + page.limit)
    },
    allJournal: async () => [...journal],
    machineVersions: async () => {
      const seen = new Map<string, { provider: string; machine: string; version: string }>()
      const note = (provider: string, s: { machine?: string; version?: string } | undefined) => {
        if (s?.machine) seen.set(`${provider}\u0000${s.machine}\u0000${s.version ?? "1"}`, { provider, machine: s.machine, version: s.version ?? "1" })
      }
      for (const p of payments.values()) {
        note(p.provider, p.snapshot)
        for (const c of Object.values(p.snapshot.children ?? {})) note(p.provider, c)
      }
      return [...seen.values()]
    },
    claimOutbox: async (now, leaseMs, limit, ids) => {
      const t = Date.parse(now)
      const claimed: OutboxRow[] = []
      const candidates = ids ? ids.filter((id) => pending.has(id)) : [...pending]
      const rows = candidates.map((id) => outbox.get(id)!).filter((o) => Date.parse(o.availableAt) <= t)
      rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      for (const o of rows.slice(0, limit)) {
        const next: OutboxRow = { ...o, attempts: o.attempts + 1, availableAt: new Date(t + leaseMs).toISOString() }
        putOutbox(next)
        claimed.push(next)
      }
      return claimed
    },
    releaseOutbox: async (id, u) => {
      const o = outbox.get(id)
      if (o && o.state === "pending") putOutbox({ ...o, availableAt: u.availableAt, lastError: u.lastError, state: u.park ? "parked" : "pending" })
    },
    unparkOutbox: async (id, availableAt) => {
      const o = outbox.get(id)
      if (!o || o.state !== "parked") return false
      putOutbox({ ...o, state: "pending", availableAt, retrySince: availableAt })
      return true
    },
    outbox: async (paymentId, state) =>
      (paymentId ? (outboxOf.get(paymentId) ?? []).map((id) => outbox.get(id)!) : [...outbox.values()])
        .filter((o) => !state || o.state === state)
        .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0)),
    dueTimers: async (now, limit) =>
      [...timers.values()]
        .filter((t) => Date.parse(t.fireAt) <= Date.parse(now))
        .sort((a, b) => a.fireAt.localeCompare(b.fireAt))
        .slice(0, limit),
    hasSeen: async (key) => seen.has(key),
    markSeen: async (keys) => {
      for (const k of keys) seen.add(k)
    },
    close: async () => {},
  }
}
