/**
 * `paystate/testing/store-contract`: the store contract suite, shipped for third-party stores. One
 * suite, called once per store (this repository runs it on memory, PGlite and PostgreSQL); any store
 * that passes it can back the engine. It registers vitest tests (`describe`/`it`), so import it from a
 * vitest test file; vitest is an optional peer dependency of paystate, needed only here.
 *
 * @example
 * // my-store.test.ts
 * import { storeContract } from "paystate/testing/store-contract"
 * storeContract("my store", (options) => myStore({ url: process.env.DB_URL!, ...options }))
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ScalableStore } from "../../adapters/stores/types.js"
import { isPaystateError } from "../errors.js"
import { StoreConflict, type Commit, type Store, type StoredPayment } from "../store.js"

/** The store interface the suite checks (the engine's `Store` plus paging, cursors and `mutate`). */
export type { ScalableStore } from "../../adapters/stores/types.js"

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

/** Options a contract store is made with. */
export interface ContractStoreOptions {
  readonly countLimit?: number
}

/** How the suite gets its stores. */
export interface ContractSetup {
  /**
   * A second store on the same data (another process's view: a second pool on one PostgreSQL).
   * Default: the first store itself (one PGlite directory or memory store has one owner).
   */
  readonly twin?: (first: ScalableStore) => ScalableStore | Promise<ScalableStore>
}

/** A payment whose snapshot is a list of tokens, one appended per step. */
const tokens = (row: StoredPayment | undefined): string[] => ((row?.snapshot.context as { tokens?: string[] } | undefined)?.tokens ?? []) as string[]
const appendToken = (id: string, token: string, row: StoredPayment | undefined): Commit => {
  const list = [...tokens(row), token]
  const at = "2026-01-01T00:00:00.000Z"
  return {
    expectedVersion: row?.version ?? 0,
    payment: {
      id,
      provider: "fake",
      providerRef: null,
      status: "captured",
      currency: "JPY",
      amount: 1000,
      externalOrderNum: null,
      createdAt: row?.createdAt ?? at,
      updatedAt: at,
      snapshot: { value: "captured", context: { id, tokens: list } },
    },
    journal: { at, event: { type: "APPEND", token }, status: "captured" },
  }
}

/**
 * Runs the contract suite against the store `make` returns (one instance for the whole file; a
 * second one with options where a test needs them).
 */
export const storeContract = (name: string, make: (options?: ContractStoreOptions) => ScalableStore | Promise<ScalableStore>, setup: ContractSetup = {}) => {
  describe(`store contract: ${name}`, () => {
    let store: ScalableStore
    let twin: ScalableStore
    beforeAll(async () => {
      store = await make()
      await store.init()
      await store.init() // init is idempotent
      twin = setup.twin ? await setup.twin(store) : store
      await twin.init()
    })
    afterAll(async () => {
      if (twin && twin !== store) await twin.close()
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

    it("journals every version with its event", async () => {
      const id = uid("p")
      await store.commit(commitFor(id, 0))
      await store.commit(commitFor(id, 1, { status: "authorized" }))
      const j = await store.journal(id)
      expect(j.map((e) => [e.paymentId, e.version, e.status, (e.event as any).v, e.at])).toEqual([
        [id, 1, "pending", 0, "2026-01-01T00:00:00.000Z"],
        [id, 2, "authorized", 1, "2026-01-01T00:00:00.000Z"],
      ])
      const all = await store.allJournal()
      expect(all.filter((e) => e.paymentId === id).map((e) => e.version)).toEqual([1, 2])
    })

    it("keeps the journal O(1) per step: an entry holds the event, not the growing snapshot", async () => {
      const id = uid("p")
      // A snapshot that grows by ~2 KB a step, as a payment's refund list does.
      let row: StoredPayment | undefined
      for (let i = 0; i < 40; i++) {
        const c = appendToken(id, `${i}:${"x".repeat(2000)}`, row)
        row = await store.commit({ ...c, journal: { ...c.journal, event: { type: "APPEND", i } } })
      }
      expect(JSON.stringify(row!.snapshot).length).toBeGreaterThan(80_000)
      const j = await store.journal(id)
      expect(j.map((e) => (e.event as any).i)).toEqual([...Array(40).keys()])
      // 40 full snapshots would be ~1.6 MB; 40 events are a few KB.
      expect(JSON.stringify(j).length).toBeLessThan(10_000)
      expect(j.every((e) => e.snapshot === undefined)).toBe(true)
    })

    it("keeps a snapshot's refund list exactly as committed: 300 entries, 20 commits changing, adding and removing one", async () => {
      const id = uid("rf")
      const ref = uid("ref")
      const order = uid("order")
      const at = "2026-01-01T00:00:00.000Z"
      // About 400 bytes each, like a settled refund.
      const entry = (n: number, rev = 0) => ({
        id: `${id}/r${n}`,
        kind: "refund",
        amount: n + 1,
        status: rev ? "succeeded" : "pending",
        providerRef: rev ? `pr_${n}_${rev}` : null,
        path: ["requested", "pending", ...(rev ? ["succeeded"] : [])],
        createdAt: at,
        updatedAt: at,
        details: { n, rev, note: "n".repeat(200) },
      })
      type Entry = ReturnType<typeof entry>
      const snapshotOf = (refunds: readonly Entry[]) => ({ machine: "lifecycle", version: "1", value: { captured: "partiallyRefunded" }, context: { id, amount: 1000, refunds, other: { kept: true } } })
      const commitOf = (refunds: readonly Entry[], expectedVersion: number): Commit => ({
        expectedVersion,
        payment: { id, provider: "fake", providerRef: ref, status: "captured", currency: "JPY", amount: 1000, externalOrderNum: order, createdAt: at, updatedAt: at, snapshot: snapshotOf(refunds) as never },
        journal: { at, event: { type: "STEP", n: expectedVersion }, status: "captured" },
      })
      const sees = async (refunds: readonly Entry[], version: number) => {
        const expected = snapshotOf(refunds)
        for (const s of new Set([store, twin])) {
          const loaded = await s.load(id)
          expect(loaded?.version).toBe(version)
          expect(loaded?.snapshot).toEqual(expected)
        }
        expect((await store.list({ externalOrderNum: order })).data.map((p) => p.snapshot)).toEqual([expected])
        expect((await store.findByProviderRef("fake", ref))?.snapshot).toEqual(expected)
        // Ids in the committed order (toEqual compares arrays in order; this names the first difference).
        expect(((await store.load(id))?.snapshot.context as { refunds: Entry[] }).refunds.map((r) => r.id)).toEqual(refunds.map((r) => r.id))
      }
      let refunds = Array.from({ length: 300 }, (_, n) => entry(n))
      let version = (await store.commit(commitOf(refunds, 0))).version
      await sees(refunds, version)
      let next = 300
      for (let k = 0; k < 20; k++) {
        const before = refunds
        const i = (k * 37) % refunds.length
        // Unchanged entries stay the same objects from commit to commit, as the engine's do.
        if (k % 3 === 0) refunds = refunds.map((r, j) => (j === i ? entry(r.details.n, k + 1) : r))
        else if (k % 3 === 1) refunds = [...refunds, entry(next++)]
        else if (k % 6 === 5) refunds = refunds.slice(0, -1) // the last one
        else refunds = refunds.filter((_, j) => j !== i) // the entries after it move up one place
        if (k % 5 === 4) {
          // Through mutate: it decides on the list as last committed.
          let decidedOn: unknown
          const m = await store.mutate(id, (row) => {
            decidedOn = row?.snapshot
            return { commit: commitOf(refunds, row?.version ?? 0), result: row?.version }
          })
          expect(decidedOn).toEqual(snapshotOf(before))
          expect(m.result).toBe(version)
          version = m.saved!.version
        } else {
          // Every fourth write comes from the other store instance (another process on a shared database).
          version = (await (k % 4 === 3 ? twin : store).commit(commitOf(refunds, version))).version
        }
        await sees(refunds, version)
      }
      expect(refunds).toHaveLength(301)
      // A stale commit writes no entry: not from a stale version, nor after another instance moved the
      // payment on since this one last wrote it.
      const spoiled = refunds.map((r) => ({ ...r, status: "failed" })).slice(2)
      await expect(store.commit(commitOf(spoiled, version - 1))).rejects.toBeInstanceOf(StoreConflict)
      await sees(refunds, version)
      const mine = await store.commit(commitOf(refunds, version))
      const theirs = refunds.map((r, j) => (j === 5 ? entry(r.details.n, 99) : r))
      version = (await twin.commit(commitOf(theirs, mine.version))).version
      await expect(store.commit(commitOf([...spoiled, entry(next++)], mine.version))).rejects.toBeInstanceOf(StoreConflict)
      await sees(theirs, version)
      // The list this instance wrote last, the very same objects, on top of the other's change: written
      // back as it is, the other's change undone.
      version = (await store.commit(commitOf(refunds, version))).version
      version = (await twin.commit(commitOf(theirs, version))).version
      await sees(theirs, version)
      version = (await store.commit(commitOf(refunds, version))).version
      await sees(refunds, version)
      // And it writes on from the row as it is.
      const last = [...refunds.slice(1), entry(next++)]
      version = (await store.commit(commitOf(last, version))).version
      await sees(last, version)
    })

    it("keeps refund lists it cannot key by id as they are", async () => {
      const at = "2026-01-01T00:00:00.000Z"
      const odd: unknown[] = [
        [{ id: "a", n: 1 }, { id: "a", n: 2 }], // one id twice
        [{ id: "a" }, { n: 2 }], // an entry without an id
        [{ id: 7 }], // a number for an id
        [{ id: "a" }, "b", null, [1]], // not all objects
        [{ id: "a" }, { id: randomBytes(2400).toString("base64") }], // an id longer than any key (and incompressible)
        [],
        "not a list",
      ]
      for (const refunds of odd) {
        const id = uid("odd")
        const snapshot = { value: "captured", context: { id, refunds } }
        const commit = (v: number): Commit => ({
          expectedVersion: v,
          payment: { id, provider: "fake", providerRef: null, status: "captured", currency: "JPY", amount: 1, externalOrderNum: null, createdAt: at, updatedAt: at, snapshot: snapshot as never },
          journal: { at, event: { type: "E" }, status: "captured" },
        })
        await store.commit(commit(0))
        expect((await store.load(id))?.snapshot).toEqual(snapshot)
        await store.commit(commit(1))
        expect((await store.load(id))?.snapshot).toEqual(snapshot)
      }
      // A list that could be keyed, then one that cannot, then one that can again: each reads back as committed.
      const id = uid("odd")
      // The second list repeats an id beside the very entry object committed before (a store may tell
      // unchanged entries by identity); the fourth takes it back.
      const a = { id: "a", n: 1 }
      const lists: unknown[][] = [[a, { id: "b" }], [a, { id: "a", n: 2 }], [{ id: "a" }, { id: "a" }], [{ id: "b", x: 1 }], [a, { id: "b", x: 1 }]]
      for (const [v, refunds] of lists.entries()) {
        const snapshot = { value: "captured", context: { id, refunds } }
        await store.commit({
          expectedVersion: v,
          payment: { id, provider: "fake", providerRef: null, status: "captured", currency: "JPY", amount: 1, externalOrderNum: null, createdAt: at, updatedAt: at, snapshot: snapshot as never },
          journal: { at, event: { type: "E" }, status: "captured" },
        })
        expect((await store.load(id))?.snapshot).toEqual(snapshot)
      }
    })

    it("writes a commit of several journal entries (a batched step) at consecutive versions, or none of them", async () => {
      const id = uid("b")
      await store.commit(commitFor(id, 0))
      const at = "2026-01-01T00:00:01.000Z"
      const batch = (expected: number): Commit => ({
        ...commitFor(id, expected, { status: "captured" }),
        journal: [
          { at, event: { type: "B", i: 0 }, status: "pending" },
          { at, event: { type: "B", i: 1 }, status: "captured" },
          { at, event: { type: "B", i: 2 }, status: "captured" },
        ],
      })
      const saved = await store.commit(batch(1))
      expect(saved.version).toBe(4)
      expect((await store.load(id))?.version).toBe(4)
      const j = await store.journal(id)
      expect(j.map((e) => [e.version, (e.event as { i?: number }).i ?? null, e.status])).toEqual([
        [1, null, "pending"],
        [2, 0, "pending"],
        [3, 1, "captured"],
        [4, 2, "captured"],
      ])
      // A stale batch writes none of its entries.
      await expect(store.commit(batch(1))).rejects.toBeInstanceOf(StoreConflict)
      expect((await store.journal(id)).length).toBe(4)
      // The next single commit follows the batch.
      expect((await store.commit(commitFor(id, 4))).version).toBe(5)
    })

    it("pages a journal by version, and the one-argument call still returns all of it", async () => {
      const id = uid("p")
      for (let v = 0; v < 7; v++) await store.commit(commitFor(id, v))
      const versions = async (page?: { afterVersion?: number; limit?: number }) => (await store.journal(id, page)).map((e) => e.version)
      expect(await versions()).toEqual([1, 2, 3, 4, 5, 6, 7])
      expect(await versions({ limit: 3 })).toEqual([1, 2, 3])
      expect(await versions({ afterVersion: 3, limit: 2 })).toEqual([4, 5])
      expect(await versions({ afterVersion: 5 })).toEqual([6, 7])
      expect(await versions({ afterVersion: 7, limit: 10 })).toEqual([])
      expect(await store.journal(uid("none"), { limit: 5 })).toEqual([])
    })

    it("mutate: decides on the row it loads, writes the commit it is given, returns the result", async () => {
      const id = uid("m")
      const created = await store.mutate(id, (row) => ({ commit: appendToken(id, "a", row), result: row === undefined }))
      expect(created.result).toBe(true)
      expect(created.saved?.version).toBe(1)
      expect(created.saved?.snapshot).toEqual({ value: "captured", context: { id, tokens: ["a"] } })
      const next = await store.mutate(id, (row) => ({ commit: appendToken(id, "b", row), result: row?.version }))
      expect(next.result).toBe(1)
      expect(next.saved?.version).toBe(2)
      expect(await store.load(id)).toEqual(next.saved)
      expect((await store.journal(id)).map((e) => (e.event as any).token)).toEqual(["a", "b"])
    })

    it("mutate without a commit writes nothing; a decision that throws writes nothing", async () => {
      const id = uid("m")
      await store.mutate(id, (row) => ({ commit: appendToken(id, "a", row), result: 0 }))
      const none = await store.mutate(id, (row) => ({ result: tokens(row).length }))
      expect(none).toEqual({ result: 1 })
      await expect(
        store.mutate(id, () => {
          throw new Error("refused")
        }),
      ).rejects.toThrow("refused")
      expect(await store.mutate(uid("absent"), (row) => ({ result: row }))).toEqual({ result: undefined })
      expect(await store.load(id)).toMatchObject({ version: 1 })
      expect(await store.journal(id)).toHaveLength(1)
      // The row is free again: a later mutate is not stuck behind the ones that wrote nothing.
      expect((await store.mutate(id, (row) => ({ commit: appendToken(id, "b", row), result: 0 }))).saved?.version).toBe(2)
    })

    it("mutate refuses a commit made for another version than the row it was given", async () => {
      const id = uid("m")
      await store.mutate(id, (row) => ({ commit: appendToken(id, "a", row), result: 0 }))
      await expect(store.mutate(id, (row) => ({ commit: { ...appendToken(id, "b", row), expectedVersion: 5 }, result: 0 }))).rejects.toBeInstanceOf(StoreConflict)
      expect((await store.load(id))?.version).toBe(1)
    })

    it("concurrent mutates on one payment from two store instances all land, in order, none lost", async () => {
      const id = uid("m")
      const n = 24
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) => (i % 2 ? twin : store).mutate(id, (row) => ({ commit: appendToken(id, `t${i}`, row), result: row?.version ?? 0 }))),
      )
      expect(results.filter((r) => r.status === "rejected")).toEqual([])
      const row = await store.load(id)
      expect(row?.version).toBe(n)
      const list = tokens(row)
      expect([...list].sort()).toEqual(Array.from({ length: n }, (_, i) => `t${i}`).sort())
      // Each decision saw the version before its own: the journal is the snapshot's order, gap-free.
      const j = await twin.journal(id)
      expect(j.map((e) => e.version)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
      expect(j.map((e) => (e.event as any).token)).toEqual(list)
      const seenVersions = results.map((r) => (r as PromiseFulfilledResult<{ result: number }>).value.result).sort((a, b) => a - b)
      expect(seenVersions).toEqual(Array.from({ length: n }, (_, i) => i))
    })

    it("mutate and plain commits racing on one payment: every mutate lands", async () => {
      const id = uid("m")
      await store.mutate(id, (row) => ({ commit: appendToken(id, "start", row), result: 0 }))
      const plain = async (k: number) => {
        for (;;) {
          const row = await twin.load(id)
          try {
            return await twin.commit(appendToken(id, `c${k}`, row))
          } catch (e) {
            if (!(e instanceof StoreConflict)) throw e
          }
        }
      }
      const ops = [...Array(6).keys()].flatMap((k) => [store.mutate(id, (row) => ({ commit: appendToken(id, `m${k}`, row), result: 0 })), plain(k)])
      const settled = await Promise.allSettled(ops)
      expect(settled.filter((r) => r.status === "rejected")).toEqual([])
      expect((await store.load(id))?.version).toBe(13)
      expect(tokens(await store.load(id)).filter((t) => t.startsWith("m"))).toHaveLength(6)
    })

    it("two mutates creating one payment at once: one creates it, the other decides again on it", async () => {
      const id = uid("m")
      const [a, b] = await Promise.all([store, twin].map((s, i) => s.mutate(id, (row) => ({ commit: appendToken(id, `c${i}`, row), result: row?.version ?? 0 }))))
      expect([a!.saved?.version, b!.saved?.version].sort()).toEqual([1, 2])
      expect([a!.result, b!.result].sort()).toEqual([0, 1])
      expect(tokens(await store.load(id))).toHaveLength(2)
    })

    it("commit rejects a repeated seen key inside a commit with outbox, timers and done entries, writing none of it", async () => {
      const id = uid("p")
      const key = uid("evt")
      const t0 = "2030-01-01T00:00:00.000Z"
      await store.commit(
        commitFor(id, 0, {
          seen: [key],
          outboxAdd: [{ id: `${id}/a`, paymentId: id, provider: "fake", opId: "a", op: "refund", payload: { n: 1 }, idempotencyKey: "ka", availableAt: t0, createdAt: t0 }],
          timersSet: [{ paymentId: id, timerId: "t", name: "t", fireAt: t0, data: {} }],
        }),
      )
      const dup = commitFor(id, 1, {
        seen: [uid("evt"), key],
        outboxAdd: [{ id: `${id}/b`, paymentId: id, provider: "fake", opId: "b", op: "refund", payload: {}, idempotencyKey: "kb", availableAt: t0, createdAt: t0 }],
        outboxDone: [`${id}/a`],
        timersCancel: ["t"],
      })
      await expect(store.commit(dup)).rejects.toMatchObject({ kind: "duplicate" })
      expect((await store.load(id))?.version).toBe(1)
      expect((await store.outbox(id)).map((o) => [o.id, o.state])).toEqual([[`${id}/a`, "pending"]])
      expect((await store.dueTimers("2031-01-01T00:00:00.000Z", 1000)).filter((t) => t.paymentId === id)).toHaveLength(1)
      expect(await store.journal(id)).toHaveLength(1)
      // A fired timer cancelled and set again in one commit ends set (the new one), not deleted.
      await store.commit(commitFor(id, 1, { timersCancel: ["t"], timersSet: [{ paymentId: id, timerId: "t", name: "t2", fireAt: "2030-02-01T00:00:00.000Z", data: { again: true } }] }))
      expect((await store.dueTimers("2031-01-01T00:00:00.000Z", 1000)).filter((t) => t.paymentId === id)).toEqual([
        { paymentId: id, timerId: "t", name: "t2", fireAt: "2030-02-01T00:00:00.000Z", data: { again: true } },
      ])
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
      expect(all).toMatchObject({ totalIsEstimate: false, nextCursor: null })
    })

    it("walks a list with keyset cursors: every row once, in order, ties on the creation time broken by id", async () => {
      const order = uid("order")
      const ids: string[] = []
      for (let i = 0; i < 11; i++) {
        const id = `${uid("k")}_${String(i).padStart(2, "0")}`
        ids.push(id)
        // Pairs share a creation time: the cursor must not skip or repeat either of them.
        await store.commit(commitFor(id, 0, { order, at: `2032-01-0${1 + Math.floor(i / 2)}T00:00:00.000Z`, status: i % 3 ? "captured" : "pending" }))
      }
      const expected = (await store.list({ externalOrderNum: order, perPage: 100 })).data.map((p) => p.id)
      expect(expected).toHaveLength(11)
      const walked: string[] = []
      let after: string | undefined
      for (let pages = 0; pages < 20; pages++) {
        const page = await store.list({ externalOrderNum: order, perPage: 3, ...(after ? { after } : {}) })
        expect(page.total).toBe(11)
        walked.push(...page.data.map((p) => p.id))
        if (!page.nextCursor) break
        after = page.nextCursor
      }
      expect(walked).toEqual(expected)
      // A cursor continues under other filters too, and an offset page hands out a cursor as well.
      const captured = (await store.list({ externalOrderNum: order, status: "captured", perPage: 100 })).data.map((p) => p.id)
      const first = await store.list({ externalOrderNum: order, status: "captured", perPage: 2 })
      const rest = await store.list({ externalOrderNum: order, status: "captured", perPage: 100, after: first.nextCursor! })
      expect([...first.data, ...rest.data].map((p) => p.id)).toEqual(captured)
      expect(rest.nextCursor).toBeNull()
      const p2 = await store.list({ externalOrderNum: order, perPage: 4, page: 2 })
      const after2 = await store.list({ externalOrderNum: order, perPage: 4, after: p2.nextCursor! })
      expect(after2.data.map((p) => p.id)).toEqual(expected.slice(8, 12))
    })

    it("refuses a cursor it did not make with INVALID_INPUT", async () => {
      for (const after of ["nope!", Buffer.from("[1,2]").toString("base64url"), Buffer.from('["2026-13-45","x"]').toString("base64url"), "x".repeat(700)]) {
        const e = await store.list({ after }).catch((err: unknown) => err)
        expect(isPaystateError(e, "INVALID_INPUT")).toBe(true)
      }
    })

    it("counts exactly up to its count limit, then answers an estimate it says is one", async () => {
      const capped = await make({ countLimit: 3 })
      try {
        await capped.init()
        const order = uid("order")
        for (let i = 0; i < 5; i++) await capped.commit(commitFor(uid("c"), 0, { order, at: `2033-01-0${i + 1}T00:00:00.000Z` }))
        const over = await capped.list({ externalOrderNum: order, perPage: 2 })
        expect(over.totalIsEstimate).toBe(true)
        expect(over.total).toBeGreaterThanOrEqual(4)
        expect(over.lastPage).toBe(Math.ceil(over.total / 2))
        expect(over.data).toHaveLength(2)
        const under = await capped.list({ externalOrderNum: order, startTime: "2033-01-04T00:00:00Z" })
        expect(under).toMatchObject({ total: 2, totalIsEstimate: false })
      } finally {
        if (capped !== store) await capped.close()
      }
    })
  })
}
