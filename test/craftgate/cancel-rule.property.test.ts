/**
 * Craftgate under random clocks, partial amounts and interleavings: a CANCEL happens only when the
 * rule allows it (same Istanbul day, no earlier partial refund), no transaction is refunded beyond its
 * paid price, and the engine's ledger matches the sandbox's.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { craftgate, CRAFTGATE_SANDBOX_DEFAULTS, sameDay, startCraftgateSandbox } from "../../adapters/providers/craftgate/index.js"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock } from "../../src/clock.js"
import { createEngine } from "../../src/engine.js"

const RUNS = process.env.PAYSTATE_DEEP ? 1000 : 100
const card = { cardHolderName: "A B", cardNumber: "5528790000000008", expireYear: "2044", expireMonth: "07", cvc: "000" }

let sandbox: RunningSandbox
beforeAll(async () => {
  sandbox = await startCraftgateSandbox()
})
afterAll(async () => {
  await sandbox.close()
})

const action = fc.oneof(
  fc.record({ kind: fc.constant("advance" as const), minutes: fc.integer({ min: 0, max: 36 * 60 }) }),
  fc.record({ kind: fc.constant("partial" as const), tx: fc.nat(2), amount: fc.integer({ min: 1, max: 4000 }) }),
  fc.record({ kind: fc.constant("full" as const) }),
)

describe("Craftgate CANCEL rule and per-transaction ceilings", () => {
  it("cancels only when allowed, never over-refunds a transaction, and agrees with the provider", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 24 * 60 - 1 }), fc.array(action, { minLength: 1, maxLength: 8 }), async (startMinute, actions) => {
        await fetch(`${sandbox.url}/_sandbox/reset`, { method: "POST" })
        const start = new Date(Date.UTC(2026, 10, 23) + startMinute * 60_000)
        const clock = manualClock(start)
        await sandbox.kernel.setClock(start)
        const engine = createEngine({ store: memoryStore(), providers: { craftgate: craftgate({ baseUrl: sandbox.url, ...CRAFTGATE_SANDBOX_DEFAULTS }) }, clock, backgroundIntervalMs: 0 })
        const prices = [3000, 2000, 1500]
        const p = await engine.payments.create({ provider: "craftgate", amount: 6500, currency: "TRY", card, items: prices.map((price, i) => ({ name: `i${i}`, price })) })
        const txs = (p.details.transactions as { id: string }[]).map((t) => t.id)
        for (const a of actions) {
          if (a.kind === "advance") {
            clock.advance(a.minutes * 60_000)
            await sandbox.kernel.setClock(clock.now())
            continue
          }
          const before = await engine.payments.get(p.id)
          const result = await engine.payments
            .refund({ paymentId: p.id, ...(a.kind === "partial" ? { amount: a.amount, paymentTransactionId: txs[a.tx] } : {}) })
            .catch((e) => e)
          if (a.kind === "full" && !(result instanceof Error)) {
            const entry = result.refunds.at(-1)!
            const allowed = before.refunds.every((r: { status: string }) => r.status === "failed") && sameDay(p.createdAt, clock.now())
            expect(entry.kind === "cancel").toBe(allowed)
            expect(entry.details.refundType).toBe(allowed ? "CANCEL" : "REFUND")
          }
          if (a.kind === "partial" && !(result instanceof Error)) expect(result.refunds.at(-1)!.kind).toBe("refund_tx")
        }
        const v = await engine.payments.get(p.id)
        const ledger = (await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: { type: string; amount: number; paymentTransactionId?: number }[] }
        const moved = ledger.movements.filter((m) => m.type !== "capture")
        expect(moved.reduce((s, m) => s + m.amount, 0)).toBe(v.refundedAmount)
        for (const [i, id] of txs.entries()) {
          const onTx = moved.filter((m) => String(m.paymentTransactionId) === id).reduce((s, m) => s + m.amount, 0)
          expect(onTx).toBeLessThanOrEqual(prices[i]!)
        }
        expect(v.refundedAmount).toBeLessThanOrEqual(6500)
        await engine.close()
      }),
      { numRuns: RUNS },
    )
  }, 600_000)
})
