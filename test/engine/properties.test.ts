/**
 * Random command sequences against the runtime (fake provider with scripted failures): the ledger
 * invariant holds after every step, states stay valid, no logical refund moves money twice, and the
 * journal alone rebuilds every snapshot. PAYSTATE_DEEP=1 runs thousands of cases.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { PAYMENT_STATUSES } from "../../machines/lifecycle/index.js"
import { replayInto, replaySnapshots } from "../../src/replay.js"
import { fakeProvider, type FakeOutcome } from "../../src/testing/fake-provider.js"
import { setup } from "./helpers.js"

const RUNS = process.env.PAYSTATE_DEEP ? 3000 : 300

const outcome = fc.constantFrom<FakeOutcome>("ok", "ok", "ok", "reject", "unavailable", "perform-then-unavailable")
const action = fc.oneof(
  fc.record({ kind: fc.constant("refund" as const), amount: fc.option(fc.integer({ min: 1, max: 1200 }), { nil: undefined }), key: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }), outcome }),
  fc.record({ kind: fc.constant("recover" as const), advance: fc.integer({ min: 0, max: 120_000 }) }),
  fc.record({ kind: fc.constant("timers" as const), advance: fc.integer({ min: 0, max: 2_000_000 }) }),
  fc.record({ kind: fc.constant("settle" as const), index: fc.nat(5), to: fc.constantFrom("succeeded" as const, "failed" as const) }),
  fc.record({ kind: fc.constant("webhook" as const), status: fc.constantFrom("captured" as const, "authorized" as const, "refunded" as const), dup: fc.boolean() }),
  fc.record({ kind: fc.constant("cancel" as const) }),
)

describe("runtime properties", () => {
  it("settled + reserved never exceed what was captured, states stay valid, the journal replays", async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(action, { minLength: 1, maxLength: 18 }), async (pending, actions) => {
        const fake = fakeProvider({ pendingRefunds: pending })
        const { engine, clock, store } = setup({ fake })
        const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
        let evt = 0
        for (const a of actions) {
          switch (a.kind) {
            case "refund":
              fake.script("refund", a.outcome)
              await engine.payments.refund({ paymentId: p.id, amount: a.amount, idempotencyKey: a.key }).catch((e) => {
                expect(["REFUND_EXCEEDS_REFUNDABLE", "PROVIDER_REJECTED", "PROVIDER_UNAVAILABLE", "INVALID_TRANSITION"]).toContain(e.code)
              })
              break
            case "recover":
              clock.advance(a.advance)
              await engine.recover()
              break
            case "timers":
              clock.advance(a.advance)
              await engine.runDueTimers()
              break
            case "settle": {
              const r = (await engine.payments.get(p.id)).refunds[a.index]
              if (r?.providerRef) fake.settleRefund(r.providerRef, a.to)
              break
            }
            case "webhook": {
              const raw = JSON.stringify({ id: `evt_${++evt}`, providerRef: p.providerRef, status: a.status })
              const req = { headers: { "x-fake-signature": fake.sign(raw) }, rawBody: raw }
              await engine.webhooks.handle("fake", req)
              if (a.dup) expect((await engine.webhooks.handle("fake", req)).status).toBe("duplicate")
              break
            }
            case "cancel":
              await expect(engine.payments.cancel({ paymentId: p.id })).rejects.toMatchObject({ code: "INVALID_TRANSITION" })
              break
          }
          const v = await engine.payments.get(p.id)
          expect(v.refundedAmount + v.reservedAmount).toBeLessThanOrEqual(v.capturedAmount)
          expect(v.refundableAmount).toBe(v.capturedAmount - v.refundedAmount - v.reservedAmount)
          expect(PAYMENT_STATUSES).toContain(v.status)
          expect(v.status === "refunded").toBe(v.refundedAmount === v.capturedAmount)
          const byKey = new Map<string, number>()
          for (const m of fake.ledger) byKey.set(m.idempotencyKey, (byKey.get(m.idempotencyKey) ?? 0) + 1)
          expect([...byKey.values()].every((n) => n === 1)).toBe(true)
          const moved = fake.ledger.filter((m) => m.op === "refund").reduce((s, m) => s + m.amount, 0)
          expect(moved).toBeLessThanOrEqual(1000)
        }
        const row = await store.load(p.id)
        const journal = await store.journal(p.id)
        expect(replaySnapshots(journal, fake).at(-1)).toEqual(row!.snapshot)
        const rebuilt = memoryStore()
        await replayInto(store, rebuilt, { fake })
        expect((await rebuilt.load(p.id))?.snapshot).toEqual(row!.snapshot)
        await engine.close()
      }),
      { numRuns: RUNS },
    )
  }, 600_000)
})
