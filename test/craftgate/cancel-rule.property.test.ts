/**
 * Craftgate through the engine against the sandbox, under random clocks, partial amounts and
 * interleavings (WAITING refunds settled either way, webhooks, polls, dropped answers reconciled):
 * a CANCEL happens only when seed 003's rule allows it, no transaction is refunded beyond its paid
 * price, and once everything has settled the engine's ledger matches the money Craftgate moved.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { sameDay } from "../../machines/craftgate/index.js"
import { isPaystateError } from "../../src/errors.js"
import type { PaymentView } from "../../src/types.js"
import { card, startWorld, type World } from "./helpers.js"

const RUNS = process.env.PAYSTATE_DEEP ? 1000 : 60
const PRICES = [3000, 2000, 1500]

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(() => world.close())

const action = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant("advance" as const), minutes: fc.integer({ min: 1, max: 30 * 60 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("partial" as const), tx: fc.nat(2), amount: fc.option(fc.integer({ min: 1, max: 3200 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("amount" as const), amount: fc.integer({ min: 1, max: 6600 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("full" as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("next" as const), status: fc.constantFrom("WAITING", "FAILURE") }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("settle" as const), pick: fc.nat(), ok: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("drop" as const), path: fc.constantFrom("/payment/v1/refunds", "/payment/v1/refund-transactions") }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("poll" as const) }) },
)

/** WAITING refunds at the sandbox for a payment: transaction refund ids and CANCEL ids. */
const waiting = async (providerRef: string) => {
  const txs = (await world.api("GET", `/payment-reporting/v1/refund-transactions?paymentId=${providerRef}&status=WAITING&size=100`)).body.data.items as { id: number }[]
  // The payment's refunds with an id are its CANCELs (a REFUND has none, seed 003).
  const cancels = ((await world.api("GET", `/payment-reporting/v1/payments/${providerRef}/refunds`)).body.data.items as { id: number; status: string }[]).filter((r) => r.status === "WAITING")
  return [...txs.map((t) => `/_sandbox/refund-transactions/${t.id}`), ...cancels.map((c) => `/_sandbox/refunds/${c.id}`)]
}

const catchUp = async (paymentId: string) => {
  world.clock.advance(13 * 3600_000)
  await world.sandbox.kernel.setClock(world.clock.now())
  await world.engine!.runDueTimers()
  await world.engine!.recover()
  await world.settle()
}

describe("Craftgate CANCEL rule, ceilings and ledger under interleavings", () => {
  it("cancels only when allowed, never over-refunds a transaction, and agrees with Craftgate once settled", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 24 * 60 - 1 }), fc.array(action, { minLength: 1, maxLength: 10 }), async (startMinute, actions) => {
        await world.settle()
        await world.control("/_sandbox/reset")
        await world.control("/_sandbox/webhook-url", { url: `${world.receiver.url}/webhooks/craftgate` })
        world.engine = world.newEngine({ adapter: { timeoutMs: 1000 } })
        const engine = world.engine
        try {
          await world.setTime(new Date(Date.parse("2026-11-23T00:00:00+03:00") + startMinute * 60_000).toISOString())
          let p = await engine.payments.create({ provider: "craftgate", amount: 6500, currency: "TRY", card, items: PRICES.map((price, i) => ({ name: `item ${i}`, price })) })
          const ref = p.providerRef!
          const txs = (p.details.transactions as { id: string }[]).map((t) => t.id)
          const paidAt = String(p.details.paidAt)

          for (const a of actions) {
            if (a.t === "advance") {
              await world.setTime(new Date(world.clock.now().getTime() + a.minutes * 60_000).toISOString())
            } else if (a.t === "next") {
              await world.control("/_sandbox/refunds/next-status", { status: a.status })
            } else if (a.t === "settle") {
              const open = await waiting(ref)
              if (open.length) await world.control(`${open[a.pick % open.length]}/${a.ok ? "succeed" : "fail"}`)
              await world.settle()
            } else if (a.t === "drop") {
              await world.control("/_sandbox/faults", { path: a.path, method: "POST", mode: "drop_response", count: 1 })
            } else if (a.t === "poll") {
              await catchUp(p.id)
            } else {
              const before: PaymentView = await engine.payments.get(p.id)
              const at = world.clock.now().toISOString()
              const result = await engine.payments
                .refund({ paymentId: p.id, ...(a.t === "partial" ? { paymentTransactionId: txs[a.tx], ...(a.amount ? { amount: a.amount } : {}) } : a.t === "amount" ? { amount: a.amount } : {}) })
                .catch((e: unknown) => e)
              if (result instanceof Error && !isPaystateError(result)) throw result
              const after = await engine.payments.get(p.id)
              const added = after.refunds.filter((r) => !before.refunds.some((b) => b.id === r.id) && !r.id.includes("~"))
              for (const r of added) {
                if (a.t === "partial") expect(r.kind).toBe("refund_tx")
                if (r.kind === "cancel" || r.kind === "refund") {
                  const allowed = before.refunds.every((b) => b.status === "failed") && sameDay(paidAt, at)
                  expect(r.kind, `whole refund at ${at}, payment at ${paidAt}`).toBe(allowed ? "cancel" : "refund")
                }
              }
            }
          }

          // Let everything settle: Craftgate finishes what is WAITING, paystate polls and reconciles.
          for (let i = 0; i < 4; i++) {
            for (const path of await waiting(ref)) await world.control(`${path}/succeed`)
            await world.settle()
            await catchUp(p.id)
          }
          p = await engine.payments.get(p.id)
          expect(p.reservedAmount).toBe(0)
          const { movements } = (await (await fetch(`${world.sandbox.url}/_sandbox/ledger`)).json()) as { movements: { type: string; amount: number; paymentId: string; paymentTransactionId?: number }[] }
          const moved = movements.filter((m) => m.paymentId === ref && (m.type === "refund" || m.type === "cancel"))
          expect(moved.reduce((s, m) => s + m.amount, 0)).toBe(p.refundedAmount)
          const cancels = moved.filter((m) => m.type === "cancel")
          expect(cancels.length).toBeLessThanOrEqual(1)
          // A CANCEL takes everything and follows no partial refund: nothing else ever moved.
          if (cancels.length) expect(moved).toHaveLength(1)
          for (const [i, id] of txs.entries()) {
            const onTx = moved.filter((m) => String(m.paymentTransactionId) === id).reduce((s, m) => s + m.amount, 0)
            expect(onTx).toBeLessThanOrEqual(PRICES[i]!)
          }
          // Craftgate's own records: every CANCEL was made on the payment's Istanbul day, with no refund before it that did not fail.
          const payment = (await world.api("GET", `/payment/v1/card-payments/${ref}`)).body.data
          const listed = (await world.api("GET", `/payment-reporting/v1/payments/${ref}/refunds`)).body.data.items as { id: number }[]
          const records = await Promise.all(listed.map(async (r) => (await world.api("GET", `/payment/v1/refunds/${r.id}`)).body.data as { id: number; refundType: string; createdDate: string; status: string }))
          const parts = (await world.api("GET", `/payment-reporting/v1/refund-transactions?paymentId=${ref}&size=100`)).body.data.items as { id: number; status: string }[]
          for (const c of records.filter((r) => r.refundType === "CANCEL")) {
            expect(c.createdDate.slice(0, 10)).toBe(String(payment.createdDate).slice(0, 10))
            expect(parts.filter((t) => t.id < c.id!).every((t) => t.status === "FAILURE")).toBe(true)
          }
        } finally {
          await world.settle()
          await engine.close()
        }
      }),
      { numRuns: RUNS },
    )
  }, 600_000)
})
