/**
 * Refund identity under faults, as a property: two engines on one store and one provider, equal
 * refund amounts, lost requests and dropped answers, provider reports that name only the provider's
 * refund id (early, duplicated, reordered), and restarts. After recovery the library's ledger is the
 * provider's, refund by refund: Σ refunded = Σ moved, every provider refund on exactly one entry, no
 * key performed twice. PAYSTATE_DEEP=1 runs thousands of cases.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { postgresStore } from "../../adapters/stores/postgres.js"
import type { Store } from "../../src/store.js"
import { manualClock } from "../../src/clock.js"
import { createEngine, type Engine } from "../../src/engine.js"
import { PG_URL, pgReachable } from "../support/postgres.js"
import { fakeProvider, type FakeOutcome } from "../../src/testing/fake-provider.js"

const DEEP = !!process.env.PAYSTATE_DEEP
const dir = mkdtempSync(join(tmpdir(), "paystate-identity-"))
const shared: Store[] = []
afterAll(async () => {
  for (const s of shared) await s.close()
  rmSync(dir, { recursive: true, force: true })
})

/** One store per kind for the whole file (payments have fresh ids per run); engines do not close it. */
const kept = (make: () => Store): (() => Store) => {
  let store: Store | undefined
  return () => {
    if (!store) shared.push((store = make()))
    return { ...store, close: async () => {} }
  }
}

const STORES: { name: string; runs: number; store: () => Store }[] = [
  { name: "memory", runs: DEEP ? 3000 : 200, store: memoryStore },
  { name: "pglite", runs: DEEP ? 500 : 30, store: kept(() => pgliteStore({ dataDir: join(dir, "pglite") })) },
  ...(pgReachable || process.env.CI ? [{ name: "postgres", runs: DEEP ? 500 : 30, store: kept(() => postgresStore({ connectionString: PG_URL, schema: "identity_property" })) }] : []),
]

const outcome = fc.constantFrom<FakeOutcome>("ok", "reject", "unavailable", "perform-then-unavailable", "perform-then-unavailable")
const action = fc.oneof(
  fc.record({ kind: fc.constant("refund" as const), engine: fc.nat(1), amount: fc.constantFrom(100, 100, 250), key: fc.constantFrom("a", "b", "c", "d", undefined), outcome }),
  fc.record({ kind: fc.constant("pair" as const), amount: fc.constantFrom(100, 300), first: outcome, second: outcome }),
  fc.record({ kind: fc.constant("report" as const), engine: fc.nat(1), index: fc.nat(6), dup: fc.boolean() }),
  fc.record({ kind: fc.constant("recover" as const), engine: fc.nat(1), advance: fc.integer({ min: 0, max: 900_000 }), lookupFails: fc.boolean() }),
  fc.record({ kind: fc.constant("restart" as const) }),
)

describe.each(STORES)("refund identity under faults on $name", ({ runs, store: storeOf }) => {
  it("after recovery the library's ledger is the provider's, refund by refund", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 16 }), async (actions) => {
        const fake = fakeProvider()
        const store = storeOf()
        const clock = manualClock("2026-12-01T00:00:00.000Z")
        const make = (): Engine => createEngine({ store, providers: { fake }, clock, backgroundIntervalMs: 0, recoverOnStart: false, retryBackoffMs: 1000, onError: () => {} })
        const engines: Engine[] = [make(), make()]
        const p = await engines[0]!.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
        const expected = ["REFUND_EXCEEDS_REFUNDABLE", "PROVIDER_REJECTED", "PROVIDER_UNAVAILABLE", "INVALID_TRANSITION"]
        const refund = (e: Engine, amount: number, key?: string) =>
          e.payments.refund({ paymentId: p.id, amount, ...(key ? { idempotencyKey: key } : {}) }).catch((err) => expect(expected).toContain(err.code))
        let evt = 0
        const sent: string[] = []
        for (const a of actions) {
          switch (a.kind) {
            case "refund":
              fake.script("refund", a.outcome)
              await refund(engines[a.engine]!, a.amount, a.key)
              break
            case "pair":
              fake.script("refund", a.first, a.second)
              await Promise.all([refund(engines[0]!, a.amount), refund(engines[1]!, a.amount)])
              break
            case "report": {
              // The provider's webhook names its own refund id only; duplicates and old ones arrive too.
              const made = fake.ledger.filter((m) => m.refundRef)
              const m = made[a.index % Math.max(made.length, 1)]
              if (!m) break
              const raw = JSON.stringify({ id: `evt_${++evt}`, providerRef: p.providerRef, refunds: [{ providerRef: m.refundRef, amount: m.amount, status: "succeeded" }] })
              sent.push(raw)
              const deliver = (body: string) => engines[a.engine]!.webhooks.handle("fake", { headers: { "x-fake-signature": fake.sign(body) }, rawBody: body })
              await deliver(raw)
              if (a.dup && sent.length > 1) await deliver(sent[0]!)
              break
            }
            case "recover":
              clock.advance(a.advance)
              if (a.lookupFails) fake.script("reconcile", "reject")
              await engines[a.engine]!.recover()
              break
            case "restart":
              await engines[1]!.close()
              engines[1] = make()
              break
          }
          const v = await engines[0]!.payments.get(p.id)
          // Conservative ceiling: what is settled, reserved or held aside never exceeds what was captured.
          expect(v.refundedAmount + v.reservedAmount + v.unattributedAmount).toBeLessThanOrEqual(v.capturedAmount + v.unattributedAmount)
          expect(v.refundableAmount).toBe(Math.max(0, v.capturedAmount - v.refundedAmount - v.reservedAmount - v.unattributedAmount))
        }
        // Recovery until nothing is left in the outbox.
        for (let i = 0; i < 30 && (await store.outbox(p.id, "pending")).length > 0; i++) {
          clock.advance(600_000)
          await engines[0]!.recover()
        }
        expect(await store.outbox(p.id, "pending")).toEqual([])
        const v = await engines[0]!.payments.get(p.id)
        const made = fake.ledger.filter((m) => m.op === "refund")
        expect(v.refundedAmount).toBe(made.reduce((s, m) => s + m.amount, 0))
        expect(v.reservedAmount).toBe(0)
        expect(v.unattributedAmount).toBe(0)
        for (const m of made) expect(v.refunds.filter((r) => r.providerRef === m.refundRef)).toHaveLength(1)
        // Every refund paystate settled is one the provider made; none is external (all were ours).
        expect(v.refunds.filter((r) => r.status === "succeeded").map((r) => r.providerRef).sort()).toEqual(made.map((m) => m.refundRef).sort())
        expect(v.refunds.some((r) => r.external)).toBe(false)
        expect(new Set(fake.ledger.map((m) => m.idempotencyKey)).size).toBe(fake.ledger.length)
        for (const e of engines) await e.close()
      }),
      { numRuns: runs },
    )
  }, 600_000)
})
