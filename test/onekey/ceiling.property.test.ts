/**
 * OneKey under random refund amounts, concurrent requests from two engines sharing one store (two
 * processes of one host), bank and issuer outcomes, duplicated, delayed and reordered notifications,
 * and injected faults (timeouts, dropped responses, 500s): the refunds that are not released never
 * exceed the deposit, in the engine or in the sandbox's ledger, and no logical refund is paid twice.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signOnekeyWebhook, type OnekeyRefundStatus } from "../../adapters/providers/onekey/index.js"
import { BANK_GRAPH, CARD_GRAPH } from "../../adapters/providers/onekey/sandbox-model.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock } from "../../src/clock.js"
import type { Engine } from "../../src/engine.js"
import { bank_account, heldAtProvider, payer, startWorld, type World } from "./helpers.js"

const RUNS = process.env.PAYSTATE_DEEP ? 1000 : 150

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(() => world.close())

const step = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("refunds" as const),
      // A share of the deposit in percent; none means "what is left" (a full refund for a card).
      requests: fc.array(fc.record({ engine: fc.nat(1), percent: fc.option(fc.integer({ min: 1, max: 70 }), { nil: undefined, freq: 3 }) }), { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("fault" as const),
      mode: fc.constantFrom("timeout" as const, "drop_response" as const, "error500" as const),
      target: fc.constantFrom(["POST", "/v3/refunds"] as const, ["GET", "/v3/refunds/:id"] as const),
      count: fc.integer({ min: 1, max: 2 }),
    }),
  },
  // A move the status graph allows for the refund's current status at OneKey (`choice` picks which).
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("bank" as const), index: fc.nat(6), choice: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("card" as const), result: fc.constantFrom("SUCCESS", "REJECTED", "IN_PROGRESS") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("webhooks" as const), mode: fc.constantFrom("duplicate" as const, "reorder" as const, "delay" as const, "normal" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("replay" as const), index: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("later" as const), engine: fc.nat(1), minutes: fc.constantFrom(1, 6, 30, 130) }) },
)

describe("OneKey ceiling under concurrency, bank outcomes, duplicate notifications and faults", () => {
  it("never lets non-released refunds exceed the deposit, and pays no logical refund twice", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("OX", "SE", "VI"), fc.integer({ min: 100, max: 20000 }), step, fc.array(step, { maxLength: 12 }), async (method, deposit, first, rest) => {
        // Starting with refunds keeps most runs about refunds, whatever comes next.
        const steps = [first.kind === "refunds" ? first : { kind: "refunds" as const, requests: [{ engine: 0, percent: 40 }] }, ...(first.kind === "refunds" ? [] : [first]), ...rest]
        await world.control("/_sandbox/reset")
        await world.control("/_sandbox/webhook-url", { url: `${world.receiver.url}/webhooks/onekey` })
        const clock = manualClock()
        const store = memoryStore()
        const options = { store, clock, adapter: { timeoutMs: 150, retries: 1, backoffMs: 5 }, engine: { retryBackoffMs: 10, leaseMs: 30_000 } }
        const engines: Engine[] = [world.newEngine(options), world.newEngine(options)]
        world.engine = engines[0]
        const e0 = engines[0]!
        let t = Date.now()
        const p = await e0.payments.create({ provider: "onekey", amount: deposit, currency: "MXN", country: "MX", payment_method: method, payer })
        await world.control(`/_sandbox/deposits/${p.providerRef}/complete`)
        await world.settle()
        await e0.payments.sync(p.id)
        const check = async () => {
          await world.settle()
          const v = await e0.payments.get(p.id)
          expect(v.refundedAmount + v.reservedAmount).toBeLessThanOrEqual(deposit)
          const movements = await world.ledger()
          expect(heldAtProvider(movements)).toBeLessThanOrEqual(deposit)
          // One movement per logical refund, caused by the idempotency key of one ledger entry.
          const paid = movements.filter((m) => m.type === "refund").map((m) => m.cause)
          expect(new Set(paid).size).toBe(paid.length)
          const keys = new Set(v.refunds.map((r) => `ps-${p.id}-${r.id}`))
          for (const cause of paid) expect(keys.has(cause)).toBe(true)
          return v
        }
        try {
          for (const s of steps) {
            if (s.kind === "refunds") {
              const bodyFor = (percent: number | undefined) => ({
                paymentId: p.id,
                ...(percent !== undefined ? { amount: Math.max(1, Math.round((deposit * percent) / 100)) } : {}),
                ...(method === "VI" ? {} : { bank_account }),
              })
              await Promise.allSettled(s.requests.map((r) => engines[r.engine]!.payments.refund(bodyFor(r.percent))))
            } else if (s.kind === "fault") {
              await world.control("/_sandbox/faults", { method: s.target[0], path: s.target[1], mode: s.mode, count: s.count })
            } else if (s.kind === "bank") {
              const atOneKey = ((await (await fetch(`${world.sandbox.url}/_sandbox/deposits/${p.providerRef}/refunds`)).json()) as { refunds: { refund_id: string | number; status: OnekeyRefundStatus; card: boolean }[] }).refunds
              const r = atOneKey[s.index % Math.max(1, atOneKey.length)]
              const allowed = r ? (r.card ? CARD_GRAPH : BANK_GRAPH)[r.status] : []
              if (r && allowed.length) expect((await world.control(`/_sandbox/refunds/${r.refund_id}/status`, { status: allowed[s.choice % allowed.length] })).status).toBe(200)
            } else if (s.kind === "card") {
              await world.control("/_sandbox/cards/next-result", { result: s.result })
            } else if (s.kind === "webhooks") {
              await world.control("/_sandbox/webhooks", { mode: s.mode, delayMs: 20 })
            } else if (s.kind === "replay") {
              const r = (await e0.payments.get(p.id)).refunds[s.index]
              if (r?.providerRef) await e0.webhooks.handle("onekey", signOnekeyWebhook({ refund_id: r.providerRef })).catch(() => undefined)
            } else {
              // Time passes: polls fall due, leases lapse, OneKey retries unanswered notifications.
              t += s.minutes * 60_000
              clock.set(new Date(t).toISOString())
              await world.control("/_sandbox/clock", { now: new Date(t).toISOString() })
              await engines[s.engine]!.runDueTimers()
              await engines[s.engine]!.recover()
            }
            await check()
          }
          // Faults spent and the outbox reconciled, paystate and OneKey agree on what is held.
          await world.control("/_sandbox/webhooks", { mode: "normal" })
          world.sandbox.kernel.faults.length = 0
          for (let i = 0; i < 4; i++) {
            t += 10 * 60_000
            clock.set(new Date(t).toISOString())
            await engines[i % 2]!.recover()
          }
          await world.settle()
          await e0.payments.sync(p.id)
          const v = await check()
          expect(v.refundedAmount + v.reservedAmount).toBe(heldAtProvider(await world.ledger()))
        } finally {
          world.engine = undefined
          for (const e of engines) await e.close()
        }
      }),
      { numRuns: RUNS },
    )
  }, 600_000)
})
