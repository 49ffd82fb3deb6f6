/**
 * fast-check over random interleavings of refunds, refund requests, customer and bank actions,
 * duplicate, delayed, reordered and replayed webhooks, injected faults and recoveries, against the
 * sandbox over HTTP. Whatever happens: KOMOJU's ledger never moves more than the payment's total,
 * each logical refund appears in it at most once, and once everything is reconciled paystate's
 * ledger agrees with KOMOJU's.
 */
import fc from "fast-check"
import { afterAll, beforeAll, expect, test } from "vitest"
import { signKomojuWebhook } from "../../adapters/providers/komoju/index.js"
import { totals, type MachineContext } from "../../machines/lifecycle/index.js"
import { isPaystateError } from "../../src/errors.js"
import { BANK, startWorld, type KomojuWorld } from "./helpers.js"
import { DETAILS } from "./seeds.js"

const DEEP = !!process.env.PAYSTATE_DEEP
let w: KomojuWorld
let hookUrl: string | undefined
beforeAll(async () => {
  w = await startWorld({ sandbox: { paymentMethodFees: { pay_easy: 190 } }, adapter: { timeoutMs: 150, retries: 1 } })
  hookUrl = w.sandbox.kernel.webhookUrl
})
afterAll(() => w.close())

type Action =
  | { t: "refund"; amount?: number }
  | { t: "request"; amount?: number; fee: boolean }
  | { t: "collect"; pick: number }
  | { t: "bank"; pick: number; to: "complete" | "reject" }
  | { t: "fault"; path: "refund" | "refund_request"; mode: "timeout" | "error500" | "drop_response"; count: number }
  | { t: "webhooks"; mode: "normal" | "duplicate" | "delay" | "reorder" }
  | { t: "replay"; pick: number }
  | { t: "recover" }
  | { t: "sync" }

const amount = fc.option(fc.integer({ min: 1, max: 1400 }), { nil: undefined })
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("refund" as const), amount }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("request" as const), amount, fee: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("collect" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("bank" as const), pick: fc.nat(), to: fc.constantFrom("complete" as const, "reject" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("fault" as const),
      path: fc.constantFrom("refund" as const, "refund_request" as const),
      mode: fc.constantFrom("error500" as const, "drop_response" as const, "drop_response" as const, "timeout" as const),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("webhooks" as const), mode: fc.constantFrom("normal" as const, "duplicate" as const, "delay" as const, "reorder" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("replay" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ t: "recover" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "sync" as const }) },
)

const EXPECTED = new Set(["REFUND_EXCEEDS_REFUNDABLE", "PROVIDER_UNAVAILABLE", "INVALID_TRANSITION", "INVALID_INPUT"])

const settle = async () => {
  await w.control("/_sandbox/webhooks/flush")
  await w.settle()
}

test("refunds under faults, webhooks in any order and recoveries never exceed the total, each at most once", async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom("credit_card", "konbini", "bank_transfer", "pay_easy", "bit_cash"), fc.array(action, { minLength: 1, maxLength: DEEP ? 20 : 9 }), async (method, actions) => {
      w.sandbox.kernel.webhookUrl = hookUrl
      w.sandbox.kernel.faults.length = 0
      await w.control("/_sandbox/webhooks", { mode: "normal" })
      let p = await w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: DETAILS[method] })
      if (p.status === "authorized") await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
      await w.settle()
      await w.engine.payments.sync(p.id)
      const ref = p.providerRef!
      const at = async () => (await w.api("GET", `/payments/${ref}`)).json
      const rejected: string[] = []
      for (const a of actions) {
        try {
          switch (a.t) {
            case "refund":
              await w.engine.payments.refund({ paymentId: p.id, ...(a.amount !== undefined ? { amount: a.amount } : {}) })
              break
            case "request":
              await w.engine.payments.refundRequest({ paymentId: p.id, ...(a.amount !== undefined ? { amount: a.amount } : {}), ...BANK, include_payment_method_fee: a.fee })
              break
            case "collect": {
              const pending = (await at()).refunds.filter((r: any) => r.status === "pending")
              if (pending.length) await w.control(`/_sandbox/refunds/${pending[a.pick % pending.length].id}/complete`)
              break
            }
            case "bank": {
              const pending = (await at()).refund_requests.filter((r: any) => r.status === "pending")
              if (pending.length) await w.control(`/_sandbox/refund_requests/${pending[a.pick % pending.length].id}/${a.to}`)
              break
            }
            case "fault":
              await w.control("/_sandbox/faults", { path: `/api/v1/payments/${ref}/${a.path}`, method: "POST", mode: a.mode, count: a.count })
              break
            case "webhooks":
              await w.control("/_sandbox/webhooks", { mode: a.mode, delayMs: 30 })
              break
            case "replay": {
              const mine = w.sandbox.kernel.delivered.filter((d) => d.body.includes(ref))
              const d = mine[a.pick % Math.max(1, mine.length)]
              if (d) {
                const signed = signKomojuWebhook(w.sandbox.webhookSecret, d.body, { deliveryId: `replay-${a.pick}` })
                expect((await w.engine.webhooks.handle("komoju", signed)).status).toBe("duplicate")
              }
              break
            }
            case "recover":
              w.clock.advance(60_000)
              await w.engine.recover()
              break
            case "sync":
              await w.engine.payments.sync(p.id)
              break
          }
        } catch (e) {
          if (!isPaystateError(e) || !EXPECTED.has(e.code)) throw e
          rejected.push(e.code)
        }
        // paystate's own ledger never promises more than was captured
        const ctx = (await w.engine.store.load(p.id))!.snapshot.context as unknown as MachineContext
        const t = totals(ctx)
        expect(t.settled + t.reserved).toBeLessThanOrEqual(ctx.capturedAmount)
      }
      // Quiet the world, then let recovery reconcile whatever is still unknown.
      w.sandbox.kernel.faults.length = 0
      await w.control("/_sandbox/webhooks", { mode: "normal" })
      await settle()
      for (let i = 0; i < 3; i++) {
        w.clock.advance(120_000)
        await w.engine.recover()
        await settle()
      }
      p = await w.engine.payments.sync(p.id)
      const komoju = await at()
      const movements = ((await (await fetch(`${w.sandbox.url}/_sandbox/ledger`)).json()) as { movements: any[] }).movements.filter((m) => m.paymentId === ref)
      const outflows = movements.filter((m) => m.type === "refund" || m.type === "refund_request_payout")
      // KOMOJU never moved more than the payment's total
      expect(outflows.reduce((s, m) => s + m.amount, 0)).toBeLessThanOrEqual(komoju.total)
      // each logical refund (one idempotency key) moved money at most once
      const causes = outflows.map((m) => m.cause)
      expect(new Set(causes).size).toBe(causes.length)
      // every refund and refund request at KOMOJU is exactly one entry of paystate's ledger, none invented
      const komojuIds = [...komoju.refunds.map((r: any) => r.id), ...komoju.refund_requests.map((r: any) => r.id)].sort()
      const ours = p.refunds.filter((r) => r.providerRef).map((r) => r.providerRef!).sort()
      expect(ours).toEqual(komojuIds)
      expect(p.refunds.filter((r) => r.external)).toEqual([])
      expect(p.refunds.filter((r) => r.status === "requested")).toEqual([])
      // and the money agrees
      const settled =
        komoju.refunds.filter((r: any) => r.status === "completed").reduce((s: number, r: any) => s + r.amount, 0) +
        movements.filter((m) => m.type === "refund_request_payout").reduce((s, m) => s + m.amount, 0)
      expect(p.refundedAmount).toBe(settled)
      expect(p.status).toBe(komoju.status === "refunded" ? "refunded" : "captured")
    }),
    { numRuns: DEEP ? 400 : 60, endOnFailure: true },
  )
}, 600_000)
