/**
 * What the SQL stores write for a payment's refund entries (migration 4), checked on the tables
 * themselves: the payment row keeps a small snapshot, each entry is a row, and a commit rewrites only
 * the rows of the entries that changed. Run by test/stores/postgres.test.ts and pglite.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ScalableStore } from "../../adapters/stores/types.js"
import { StoreConflict, type Commit } from "../../src/store.js"

/** Two store instances on one database (each with its own memory of what it wrote) and raw SQL on it. */
export interface RefundRowsSetup {
  readonly store: ScalableStore
  readonly other: ScalableStore
  readonly sql: (text: string, params?: readonly unknown[]) => Promise<any[]>
  readonly close: () => Promise<void>
}

let n = 0
const at = "2026-01-01T00:00:00.000Z"

/** Registers the refund-row tests for one SQL store. */
export const refundRowsSuite = (name: string, open: () => Promise<RefundRowsSetup>) => {
  describe(`refund entries as rows: ${name}`, () => {
    let s: RefundRowsSetup
    beforeAll(async () => {
      s = await open()
      await s.store.init()
      await s.other.init()
    })
    afterAll(async () => s?.close())

    const payment = () => {
      const id = `rr_${process.pid}_${++n}`
      const entry = (i: number, rev = 0) => ({ id: `${id}/r${i}`, kind: "refund", amount: i + 1, status: rev ? "succeeded" : "pending", rev, createdAt: at, updatedAt: at, details: { i, note: "n".repeat(300) } })
      type Entry = ReturnType<typeof entry>
      const snapshotOf = (refunds: readonly Entry[]) => ({ machine: "lifecycle", version: "1", value: "captured", context: { id, refunds } })
      const commitOf = (refunds: readonly Entry[], expectedVersion: number, status: "captured" | "refunded" = "captured"): Commit => ({
        expectedVersion,
        payment: { id, provider: "fake", providerRef: null, status, currency: "JPY", amount: 1000, externalOrderNum: null, createdAt: at, updatedAt: at, snapshot: snapshotOf(refunds) as never },
        journal: { at, event: { type: "STEP" }, status },
      })
      /** Each entry row's transaction id: it changes when, and only when, the row is written. */
      const stamps = async () => new Map((await s.sql("select refund_id, xmin::text as x from paystate_refund_entries where payment_id = $1", [id])).map((r) => [r.refund_id as string, r.x as string]))
      const rewritten = (before: Map<string, string>, after: Map<string, string>) => [...after].filter(([k, x]) => before.get(k) !== x).map(([k]) => k).sort()
      const head = async () => (await s.sql("select pg_column_size(snapshot) as size, snapshot from paystate_payments where id = $1", [id]))[0]
      return { id, entry, snapshotOf, commitOf, stamps, rewritten, head }
    }

    it("keeps the payment row small and rewrites only the entries a commit changed, whichever instance writes", async () => {
      const p = payment()
      let refunds = Array.from({ length: 300 }, (_, i) => p.entry(i))
      expect(JSON.stringify(refunds).length).toBeGreaterThan(120_000)
      let v = (await s.store.commit(p.commitOf(refunds, 0))).version
      const first = await p.head()
      // The snapshot without its refunds: a few hundred bytes, whatever the number of refunds.
      expect(first.size).toBeLessThan(1000)
      expect(first.snapshot.context.refunds).toBeUndefined()
      expect(first.snapshot.refundsInRows).toBe(true)
      expect((await s.sql("select refund_id from paystate_refund_entries where payment_id = $1 order by seq", [p.id])).map((r) => r.refund_id)).toEqual(refunds.map((r) => r.id))

      const step = async (next: typeof refunds, via: ScalableStore = s.store, status?: "refunded") => {
        const before = await p.stamps()
        v = (await via.commit(p.commitOf(next, v, status))).version
        refunds = next
        expect((await s.store.load(p.id))?.snapshot).toEqual(p.snapshotOf(refunds))
        return p.rewritten(before, await p.stamps())
      }
      // One entry changed: one row written.
      expect(await step(refunds.map((r, i) => (i === 10 ? p.entry(10, 1) : r)))).toEqual([`${p.id}/r10`])
      // One added: one row.
      expect(await step([...refunds, p.entry(300)])).toEqual([`${p.id}/r300`])
      // Nothing of the refunds changed: no row.
      expect(await step(refunds, s.store, "refunded")).toEqual([])
      // Another instance, that has not written this payment and sends every entry (as fresh objects):
      // still only the changed row.
      expect(await step(structuredClone(refunds).map((r, i) => (i === 20 ? p.entry(20, 1) : r)), s.other)).toEqual([`${p.id}/r20`])
      // Back to this instance, whose memory of the rows is now stale: again only the changed row.
      expect(await step(refunds.map((r, i) => (i === 30 ? p.entry(30, 1) : r)))).toEqual([`${p.id}/r30`])
      // One removed near the end: its row goes, the two after it move up.
      const before = await p.stamps()
      expect(await step(refunds.filter((_, i) => i !== 298))).toEqual([`${p.id}/r299`, `${p.id}/r300`])
      expect([...before.keys()].filter((k) => !refunds.some((r) => r.id === k))).toEqual([`${p.id}/r298`])
      expect((await p.stamps()).has(`${p.id}/r298`)).toBe(false)
      // The last one removed: its row goes, no other row is written.
      expect(await step(refunds.slice(0, -1))).toEqual([])
      expect([...(await p.stamps()).keys()].sort()).toEqual(refunds.map((r) => r.id).sort())

      // A stale commit writes no row at all.
      const stamps = await p.stamps()
      const snapshot = (await p.head()).snapshot
      await expect(s.store.commit(p.commitOf(refunds.map((r) => p.entry(r.details.i, 7)).slice(3), v - 1))).rejects.toBeInstanceOf(StoreConflict)
      await expect(s.other.commit(p.commitOf([p.entry(999)], v - 1))).rejects.toBeInstanceOf(StoreConflict)
      expect(await p.stamps()).toEqual(stamps)
      expect((await p.head()).snapshot).toEqual(snapshot)
      // Nor does one this instance makes from what it wrote last, after the other instance moved the payment on.
      await step(refunds.map((r, i) => (i === 40 ? p.entry(40, 1) : r)))
      const mine = v
      await step(refunds.map((r, i) => (i === 41 ? p.entry(41, 1) : r)), s.other)
      const theirs = await p.stamps()
      await expect(s.store.commit(p.commitOf(refunds.map((r, i) => (i === 42 ? p.entry(42, 1) : r)), mine))).rejects.toBeInstanceOf(StoreConflict)
      expect(await p.stamps()).toEqual(theirs)
      expect((await s.store.load(p.id))?.snapshot).toEqual(p.snapshotOf(refunds))
      expect((await p.head()).size).toBeLessThan(1000)
    })

    it("reads a row written before migration 4 as it is, and its next commit moves the refunds to rows", async () => {
      const p = payment()
      const refunds = Array.from({ length: 5 }, (_, i) => p.entry(i))
      const whole = p.snapshotOf(refunds)
      await s.sql(
        `insert into paystate_payments (id, provider, provider_ref, status, currency, amount, external_order_num, created_at, updated_at, version, snapshot, needs_review)
         values ($1, 'fake', null, 'captured', 'JPY', 1000, null, $2, $2, 1, $3::jsonb, false)`,
        [p.id, at, JSON.stringify(whole)],
      )
      expect((await s.store.load(p.id))?.snapshot).toEqual(whole)
      const locked = await s.store.mutate(p.id, (row) => ({ result: row?.snapshot }))
      expect(locked.result).toEqual(whole)
      const next = [...refunds, p.entry(5)]
      await s.store.commit(p.commitOf(next, 1))
      expect((await p.head()).snapshot.context.refunds).toBeUndefined()
      expect((await p.stamps()).size).toBe(6)
      expect((await s.other.load(p.id))?.snapshot).toEqual(p.snapshotOf(next))
    })

    it("refuses a snapshot that carries the key marking moved refunds, writing nothing", async () => {
      const p = payment()
      const c = p.commitOf([p.entry(0)], 0)
      const marked = { ...c, payment: { ...c.payment, snapshot: { ...c.payment.snapshot, refundsInRows: true } } }
      await expect(s.store.commit(marked as Commit)).rejects.toBeInstanceOf(TypeError)
      expect(await s.store.load(p.id)).toBeUndefined()
    })
  })
}
