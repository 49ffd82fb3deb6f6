/**
 * The store contract: one suite, called once per store (memory, PGlite, PostgreSQL). Any store that
 * passes it can back the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { StoreConflict, type Commit, type Store } from "../../src/store.js"

let n = 0
const uid = (p: string) => `${p}_${process.pid}_${Date.now().toString(36)}_${++n}`

const commitFor = (id: string, version: number, over: Partial<Commit> & { at?: string; status?: any; ref?: string | null; currency?: string; order?: string | null } = {}): Commit => {
  const at = over.at ?? "2026-01-01T00:00:00.000Z"
  return {
    expectedVersion: version,
    payment: {
      id,
      provider: "fake",
      providerRef: over.ref ?? null,
      status: over.status ?? "pending",
      currency: over.currency ?? "JPY",
      amount: 1000,
      externalOrderNum: over.order ?? null,
      createdAt: at,
      updatedAt: at,
      snapshot: { value: over.status ?? "pending", context: { id, n: version } },
    },
    journal: { at, event: { type: "E", v: version }, status: over.status ?? "pending" },
    ...over,
  }
}

/** Runs the contract suite against the store `make` returns (one instance for the whole file). */
export const storeContract = (name: string, make: () => Store | Promise<Store>) => {
  describe(`store contract: ${name}`, () => {
    let store: Store
    beforeAll(async () => {
      store = await make()
      await store.init()
      await store.init() // init is idempotent
    })
    afterAll(async () => {
      await store?.close()
    })

    it("creates a payment at version 1 and loads it back unchanged", async () => {
      const id = uid("p")
      const saved = await store.commit(commitFor(id, 0))
      expect(saved.version).toBe(1)
      const loaded = await store.load(id)
      expect(loaded).toEqual(saved)
      expect(loaded?.snapshot).toEqual({ value: "pending", context: { id, n: 0 } })
      expect(await store.load(uid("missing"))).toBeUndefined()
    })

    it("refuses a stale version and writes nothing of that commit", async () => {
      const id = uid("p")
      await store.commit(commitFor(id, 0))
      await store.commit(commitFor(id, 1, { status: "captured" }))
      const stale = commitFor(id, 1, { status: "failed", outboxAdd: [{ id: `${id}/x`, paymentId: id, provider: "fake", opId: "x", op: "refund", payload: {}, idempotencyKey: "k", availableAt: "2026-01-01T00:00:00.000Z", createdAt: "2026-01-01T00:00:00.000Z" }] })
      await expect(store.commit(stale)).rejects.toBeInstanceOf(StoreConflict)
      expect((await store.load(id))?.status).toBe("captured")
      expect(await store.outbox(id)).toEqual([])
      expect((await store.journal(id)).map((j) => j.version)).toEqual([1, 2])
      await expect(store.commit(commitFor(id, 0))).rejects.toMatchObject({ kind: "version" })
    })

    it("only one of two concurrent writers of the same version wins", async () => {
      const id = uid("p")
      await store.commit(commitFor(id, 0))
      const results = await Promise.allSettled([store.commit(commitFor(id, 1, { status: "captured" })), store.commit(commitFor(id, 1, { status: "cancelled" }))])
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1)
      expect((await store.load(id))?.version).toBe(2)
    })

    it("journals every version with its event and snapshot", async () => {
      const id = uid("p")
      await store.commit(commitFor(id, 0))
      await store.commit(commitFor(id, 1, { status: "authorized" }))
      const j = await store.journal(id)
      expect(j.map((e) => [e.version, e.status, (e.event as any).v])).toEqual([
        [1, "pending", 0],
        [2, "authorized", 1],
      ])
      expect(j[1]?.snapshot).toEqual({ value: "authorized", context: { id, n: 1 } })
      const all = await store.allJournal()
      expect(all.filter((e) => e.paymentId === id)).toHaveLength(2)
    })

    it("finds a payment by the provider's reference", async () => {
      const id = uid("p")
      const ref = uid("ref")
      await store.commit(commitFor(id, 0, { ref }))
      expect((await store.findByProviderRef("fake", ref))?.id).toBe(id)
      expect(await store.findByProviderRef("other", ref)).toBeUndefined()
    })

    it("leases outbox entries: a claimed entry is not claimed again until its lease ends", async () => {
      const id = uid("p")
      const t0 = "2030-01-01T00:00:00.000Z"
      await store.commit(
        commitFor(id, 0, {
          outboxAdd: [{ id: `${id}/op1`, paymentId: id, provider: "fake", opId: "op1", op: "refund", payload: { amount: 5 }, idempotencyKey: "key-1", availableAt: t0, createdAt: t0 }],
        }),
      )
      const before = await store.claimOutbox("2029-12-31T23:59:59.000Z", 1000, 10, [`${id}/op1`])
      expect(before).toEqual([])
      const claimed = await store.claimOutbox(t0, 1000, 10, [`${id}/op1`])
      expect(claimed.map((c) => [c.id, c.attempts, c.idempotencyKey, c.payload])).toEqual([[`${id}/op1`, 2, "key-1", { amount: 5 }]])
      expect(await store.claimOutbox(t0, 1000, 10, [`${id}/op1`])).toEqual([])
      const again = await store.claimOutbox("2030-01-01T00:00:01.000Z", 1000, 10, [`${id}/op1`])
      expect(again.map((c) => c.attempts)).toEqual([3])
      await store.releaseOutbox(`${id}/op1`, { availableAt: "2030-01-01T00:00:05.000Z", lastError: "timeout" })
      expect((await store.outbox(id))[0]).toMatchObject({ state: "pending", lastError: "timeout", availableAt: "2030-01-01T00:00:05.000Z" })
      await store.commit(commitFor(id, 1, { outboxDone: [`${id}/op1`] }))
      expect((await store.outbox(id))[0]?.state).toBe("done")
      expect(await store.claimOutbox("2031-01-01T00:00:00.000Z", 1000, 10, [`${id}/op1`])).toEqual([])
    })

    it("parks an entry so that no runner takes it again", async () => {
      const id = uid("p")
      const t0 = "2030-01-01T00:00:00.000Z"
      await store.commit(commitFor(id, 0, { outboxAdd: [{ id: `${id}/op`, paymentId: id, provider: "fake", opId: "op", op: "refund", payload: {}, idempotencyKey: "k", availableAt: t0, createdAt: t0 }] }))
      await store.releaseOutbox(`${id}/op`, { availableAt: t0, lastError: "gave up", park: true })
      expect((await store.outbox(id))[0]?.state).toBe("parked")
      expect(await store.claimOutbox("2031-01-01T00:00:00.000Z", 1000, 10, [`${id}/op`])).toEqual([])
    })

    it("stores, replaces, fires and cancels durable timers", async () => {
      const id = uid("p")
      await store.commit(commitFor(id, 0, { timersSet: [{ paymentId: id, timerId: "deadline", name: "deadline", fireAt: "2030-01-02T00:00:00.000Z", data: { a: 1 } }] }))
      await store.commit(commitFor(id, 1, { timersSet: [{ paymentId: id, timerId: "deadline", name: "deadline", fireAt: "2030-01-03T00:00:00.000Z", data: { a: 2 } }] }))
      const mine = async (now: string) => (await store.dueTimers(now, 1000)).filter((t) => t.paymentId === id)
      expect(await mine("2030-01-02T12:00:00.000Z")).toEqual([])
      expect(await mine("2030-01-03T00:00:00.000Z")).toEqual([{ paymentId: id, timerId: "deadline", name: "deadline", fireAt: "2030-01-03T00:00:00.000Z", data: { a: 2 } }])
      await store.commit(commitFor(id, 2, { timersCancel: ["deadline"] }))
      expect(await mine("2031-01-01T00:00:00.000Z")).toEqual([])
    })

    it("remembers seen webhook keys and refuses a commit that repeats one, writing nothing", async () => {
      const id = uid("p")
      const key = uid("evt")
      await store.commit(commitFor(id, 0))
      expect(await store.hasSeen(key)).toBe(false)
      await store.commit(commitFor(id, 1, { seen: [key] }))
      expect(await store.hasSeen(key)).toBe(true)
      await expect(store.commit(commitFor(id, 2, { seen: [key], status: "failed" }))).rejects.toMatchObject({ kind: "duplicate" })
      expect((await store.load(id))?.version).toBe(2)
      const other = uid("evt")
      await store.markSeen([other, other])
      await store.markSeen([other])
      expect(await store.hasSeen(other)).toBe(true)
      await expect(store.commit(commitFor(id, 2, { seen: [other] }))).rejects.toMatchObject({ kind: "duplicate" })
    })

    it("lists with KOMOJU-like filters and pagination, newest first", async () => {
      const order = uid("order")
      const ids: string[] = []
      for (let i = 0; i < 5; i++) {
        const id = uid("l")
        ids.push(id)
        await store.commit(commitFor(id, 0, { order, at: `2031-0${i + 1}-01T00:00:00.000Z`, status: i % 2 ? "captured" : "pending", currency: i === 4 ? "USD" : "JPY" }))
      }
      const all = await store.list({ externalOrderNum: order })
      expect(all.total).toBe(5)
      expect(all.data.map((p) => p.id)).toEqual([...ids].reverse())
      expect(all).toMatchObject({ page: 1, perPage: 10, lastPage: 1 })
      const p2 = await store.list({ externalOrderNum: order, page: 2, perPage: 2 })
      expect(p2).toMatchObject({ total: 5, page: 2, perPage: 2, lastPage: 3 })
      expect(p2.data.map((p) => p.id)).toEqual([ids[2], ids[1]])
      expect((await store.list({ externalOrderNum: order, status: "captured" })).data.map((p) => p.id)).toEqual([ids[3], ids[1]])
      expect((await store.list({ externalOrderNum: order, currency: "USD" })).data.map((p) => p.id)).toEqual([ids[4]])
      const window = await store.list({ externalOrderNum: order, startTime: "2031-02-01T00:00:00Z", endTime: "2031-04-01T00:00:00+00:00" })
      expect(window.data.map((p) => p.id)).toEqual([ids[2], ids[1]])
      expect((await store.list({ externalOrderNum: order, page: 9 })).data).toEqual([])
    })
  })
}
