/**
 * Many commands on one payment at once: the events waiting for the payment's lock go in one step
 * (one commit, a journal entry each), each accepted or refused exactly as it would be alone. A hundred
 * refunds of one payment that can take half of them: fifty settle, fifty are refused for the ceiling,
 * nothing is refunded twice, the journal replays — in a handful of commits instead of a hundred.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { postgresStore } from "../../adapters/stores/postgres.js"
import { createEngine, type Engine } from "../../src/engine.js"
import { isPaystateError } from "../../src/errors.js"
import type { ProviderAdapter } from "../../src/provider.js"
import { checkReplay } from "../../src/replay.js"
import { journalOf, type Commit, type Store } from "../../src/store.js"
import { PG_URL, pgReachable } from "../support/postgres.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-batching-"))
const opened: Store[] = []
afterAll(async () => {
  for (const s of opened) await s.close().catch(() => undefined)
  rmSync(dir, { recursive: true, force: true })
})

/** Counts commits and the journal entries they carry. */
const counting = (inner: Store) => {
  const n = { commits: 0, entries: 0, stale: 0, reserving: 0 }
  const count = (c: Commit) => {
    n.commits++
    n.entries += journalOf(c).length
    if (journalOf(c).some((j) => (j.event as { type?: string }).type === "REFUND")) n.reserving++
  }
  const store: Store = {
    ...inner,
    commit: async (c) => {
      try {
        const saved = await inner.commit(c)
        count(c)
        return saved
      } catch (e) {
        n.stale++
        throw e
      }
    },
    // A step decided on the locked row writes through mutate: count what it wrote too.
    ...(inner.mutate
      ? {
          mutate: async (id, decide) => {
            let written: Commit | undefined
            const out = await inner.mutate!(id, (row) => {
              const d = decide(row)
              written = d.commit
              return d
            })
            if (out.saved && written) count(written)
            return out
          },
        }
      : {}),
  }
  return { store, n }
}

/** The fake provider answering after `ms`, as one over HTTP does: outcomes of concurrent refunds arrive together. */
const slow = (inner: ReturnType<typeof fakeProvider>, ms: number): ProviderAdapter => ({
  ...inner,
  execute: (effect, ctx) => Effect.flatMap(Effect.sleep(ms), () => inner.execute(effect, ctx)),
})

const hundredRefunds = async (engines: readonly Engine[], fake: ReturnType<typeof fakeProvider>) => {
  const p = await engines[0]!.payments.create({ provider: "fake", amount: 5000, currency: "JPY" })
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      engines[i % engines.length]!.payments.refund({ paymentId: p.id, amount: 100, idempotencyKey: `k${i}` }).then(
        () => "accepted",
        (e: unknown) => (isPaystateError(e) ? e.code : String(e)),
      ),
    ),
  )
  const view = await engines[0]!.payments.get(p.id)
  const moved = fake.ledger.filter((m) => m.paymentRef === view.providerRef && m.op === "refund").reduce((s, m) => s + m.amount, 0)
  return { p, answers, view, moved }
}

const counts = (answers: readonly string[]) => answers.reduce<Record<string, number>>((o, a) => ({ ...o, [a]: (o[a] ?? 0) + 1 }), {})

describe("events waiting for one payment go in one step", () => {
  const cases: { name: string; make: () => Store }[] = [
    { name: "memory", make: () => memoryStore() },
    { name: "pglite", make: () => pgliteStore({ dataDir: join(dir, "pglite") }) },
    ...(pgReachable || process.env.CI ? [{ name: "postgres", make: () => postgresStore({ connectionString: PG_URL, schema: "engine_batching" }) }] : []),
  ]
  for (const c of cases) {
    it(`${c.name}: 100 concurrent refunds, 50 fit — 50 settle, 50 refused for the ceiling, in far fewer commits, and the journal replays`, async () => {
      const inner = c.make()
      opened.push(inner)
      const { store, n } = counting({ ...inner, close: async () => {} })
      const fake = fakeProvider()
      const engine = createEngine({ store, providers: { fake: slow(fake, 20) }, backgroundIntervalMs: 0, onError: () => {} })
      await engine.ready
      const before = { ...n }
      const { p, answers, view, moved } = await hundredRefunds([engine], fake)
      expect(counts(answers)).toEqual({ accepted: 50, REFUND_EXCEEDS_REFUNDABLE: 50 })
      expect(view.refundedAmount).toBe(5000)
      expect(view.reservedAmount).toBe(0)
      expect(moved).toBe(5000)
      expect(fake.calls.filter((x) => x.op === "refund")).toHaveLength(50)
      // One at a time the 100 refunds queue for 100 steps (50 reservation commits); batched, the
      // refunds waiting for the lock share a few. (Outcomes batch only when they arrive together.)
      expect(n.reserving - before.reserving).toBeLessThan(10)
      expect(n.commits - before.commits).toBeLessThan(101)
      // The engine starts each batch from the row it saved last, not from a caller's older copy.
      expect(n.stale - before.stale).toBeLessThanOrEqual(1)
      // Still one journal entry per event: the create, 50 refunds, 50 outcomes (refusals write nothing).
      const journal = await store.journal(p.id)
      expect(n.entries - before.entries).toBe(journal.length)
      expect(journal.map((e) => e.version)).toEqual(journal.map((_, i) => i + 1))
      expect(journal.filter((e) => (e.event as { type: string }).type === "REFUND")).toHaveLength(50)
      expect(view.version).toBe(journal.length)
      const replay = await checkReplay(store, () => ({ machine: fake.machine }))
      expect(replay.divergences).toEqual([])
      await engine.close()
    })
  }

  if (pgReachable || process.env.CI) {
    it("postgres, two engines (two processes' pools) on one payment: each accepted or refused for the ceiling, none conflicting, none twice", async () => {
      const fake = fakeProvider()
      const stores = [0, 1].map(() => postgresStore({ connectionString: PG_URL, schema: "engine_batching_two" }))
      opened.push(...stores)
      const engines = stores.map((s) => createEngine({ store: { ...s, close: async () => {} }, providers: { fake: slow(fake, 20) }, backgroundIntervalMs: 0, onError: () => {} }))
      await Promise.all(engines.map((e) => e.ready))
      const { answers, view, moved } = await hundredRefunds(engines, fake)
      expect(counts(answers)).toEqual({ accepted: 50, REFUND_EXCEEDS_REFUNDABLE: 50 })
      expect(view.refundedAmount).toBe(5000)
      expect(moved).toBe(5000)
      for (const e of engines) await e.close()
    })
  }

  it("a refused event in the middle of a batch changes nothing for the events around it", async () => {
    const fake = fakeProvider()
    const { store, n } = counting(memoryStore())

    const engine = createEngine({ store, providers: { fake: slow(fake, 5) }, backgroundIntervalMs: 0, onError: () => {} })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    // Sent together: 100 and 600 fit, the next 600 does not (700 reserved), 300 fits, 2000 never does.
    const answers = await Promise.all(
      [100, 600, 600, 300, 2000].map((amount, i) =>
        engine.payments.refund({ paymentId: p.id, amount, idempotencyKey: `m${i}` }).then(
          () => "accepted",
          (e: unknown) => (isPaystateError(e) ? e.code : String(e)),
        ),
      ),
    )
    expect(answers).toEqual(["accepted", "accepted", "REFUND_EXCEEDS_REFUNDABLE", "accepted", "REFUND_EXCEEDS_REFUNDABLE"])
    const view = await engine.payments.get(p.id)
    expect(view.refunds.map((r) => [r.amount, r.status])).toEqual([
      [100, "succeeded"],
      [600, "succeeded"],
      [300, "succeeded"],
    ])
    expect(view.status).toBe("refunded")
    // The refused ones left no trace; the others are journaled once each, version after version.
    const journal = await store.journal(p.id)
    expect(journal.filter((e) => (e.event as { type: string }).type === "REFUND").map((e) => (e.event as { amount: number }).amount)).toEqual([100, 600, 300])
    expect(journal.map((e) => e.version)).toEqual(journal.map((_, i) => i + 1))
    expect(n.reserving).toBeLessThanOrEqual(3)
    await engine.close()
  })
})
