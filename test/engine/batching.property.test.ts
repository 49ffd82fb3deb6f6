/**
 * Batched steps as a property: bursts of refunds of random amounts sent at once to one payment, the
 * provider answering late and sometimes refusing or failing, then recovery. Whatever way the bursts
 * were cut into batches: settled + reserved never exceed what was captured, what the provider moved is
 * what the ledger says was refunded, no refund reaches the provider twice, every event is journaled
 * once at consecutive versions, and the journal replays to the stored snapshot.
 */
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock } from "../../src/clock.js"
import { createEngine } from "../../src/engine.js"
import type { ProviderAdapter } from "../../src/provider.js"
import { checkReplay } from "../../src/replay.js"
import { fakeProvider, type FakeOutcome } from "../../src/testing/fake-provider.js"

const DEEP = !!process.env.PAYSTATE_DEEP

const burst = fc.array(fc.record({ amount: fc.integer({ min: 1, max: 700 }), outcome: fc.constantFrom<FakeOutcome>("ok", "ok", "ok", "reject", "unavailable") }), { minLength: 1, maxLength: 40 })

describe("batched steps", () => {
  it("keep the ceiling, pay nothing twice and replay, however bursts are cut into batches", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(burst, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 8 }), async (bursts, latency) => {
        const fake = fakeProvider()
        const slow: ProviderAdapter = { ...fake, execute: (effect, ctx) => Effect.flatMap(Effect.sleep(latency), () => fake.execute(effect, ctx)) }
        const store = memoryStore()
        const clock = manualClock("2026-11-23T03:00:00.000Z")
        const engine = createEngine({ store, providers: { fake: slow }, clock, backgroundIntervalMs: 0, retryBackoffMs: 1, onError: () => {} })
        const p = await engine.payments.create({ provider: "fake", amount: 5000, currency: "JPY" })
        for (const b of bursts) {
          fake.script("refund", ...b.map((x) => x.outcome))
          await Promise.all(b.map((x) => engine.payments.refund({ paymentId: p.id, amount: x.amount }).catch(() => undefined)))
        }
        // The unavailable ones are reconciled and, if the provider never saw them, sent once more.
        clock.advance(60_000)
        await engine.recover()
        const view = await engine.payments.get(p.id)
        expect(view.refundedAmount + view.reservedAmount).toBeLessThanOrEqual(5000)
        const moved = fake.ledger.filter((m) => m.paymentRef === view.providerRef && m.op === "refund")
        expect(moved.reduce((s, m) => s + m.amount, 0)).toBe(view.refundedAmount)
        const keys = moved.map((m) => m.idempotencyKey)
        expect(new Set(keys).size).toBe(keys.length)
        const journal = await store.journal(p.id)
        expect(journal.map((e) => e.version)).toEqual(journal.map((_, i) => i + 1))
        expect(view.version).toBe(journal.length)
        expect((await checkReplay(store, () => ({ machine: fake.machine }))).divergences).toEqual([])
        await engine.close()
      }),
      { numRuns: DEEP ? 1000 : 60 },
    )
  }, 120_000)
})
