/**
 * OneKey under random refund amounts, concurrent requests, bank outcomes, duplicate notifications and
 * injected faults (timeouts, dropped responses): the non-released refunds never exceed the deposit,
 * in the engine or in the sandbox ledger, and no logical refund is paid twice.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { onekey, ONEKEY_SANDBOX_DEFAULTS, startOnekeySandbox } from "../../adapters/providers/onekey/index.js"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock } from "../../src/clock.js"
import { createEngine, type Engine } from "../../src/engine.js"
import { startWebhookReceiver, type WebhookReceiver } from "../../src/testing/webhook-receiver.js"

const RUNS = process.env.PAYSTATE_DEEP ? 1000 : 100
const payer = { email: "c@example.com", first_name: "C", last_name: "R" }
const bank_account = { beneficiary: "C R", bank_code: 1, account_number: "1", account_type: "CHECKING" as const }

let sandbox: RunningSandbox
let receiver: WebhookReceiver
let engine: Engine | undefined
beforeAll(async () => {
  receiver = await startWebhookReceiver(() => engine)
  sandbox = await startOnekeySandbox({ webhookUrl: `${receiver.url}/webhooks/onekey` })
})
afterAll(async () => {
  await sandbox.close()
  await receiver.close()
})

const control = (path: string, body: unknown = {}) => fetch(sandbox.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

const step = fc.oneof(
  fc.record({ kind: fc.constant("refunds" as const), amounts: fc.array(fc.integer({ min: 1, max: 6000 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant("fault" as const), mode: fc.constantFrom("timeout" as const, "drop_response" as const, "error500" as const) }),
  fc.record({ kind: fc.constant("bank" as const), index: fc.nat(6), status: fc.constantFrom("DELIVERED", "COMPLETED", "REJECTED", "CANCELLED", "INCORRECT_DETAILS") }),
  fc.record({ kind: fc.constant("webhooks" as const), mode: fc.constantFrom("duplicate" as const, "reorder" as const, "normal" as const) }),
  fc.record({ kind: fc.constant("recover" as const) }),
)

describe("OneKey ceiling under faults", () => {
  it("never lets non-released refunds exceed the deposit, and pays no logical refund twice", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        await control("/_sandbox/reset")
        await control("/_sandbox/webhook-url", { url: `${receiver.url}/webhooks/onekey` })
        const clock = manualClock()
        engine = createEngine({
          store: memoryStore(),
          providers: { onekey: onekey({ baseUrl: sandbox.url, ...ONEKEY_SANDBOX_DEFAULTS, timeoutMs: 150, retries: 1 }) },
          clock,
          backgroundIntervalMs: 0,
          retryBackoffMs: 10,
          onError: () => {},
        })
        const deposit = 10000
        const p = await engine.payments.create({ provider: "onekey", amount: deposit, currency: "MXN", country: "MX", payment_method: "OX", payer })
        await control(`/_sandbox/deposits/${p.providerRef}/complete`)
        await engine.payments.sync(p.id)
        for (const s of steps) {
          if (s.kind === "refunds") {
            await Promise.allSettled(s.amounts.map((amount) => engine!.payments.refund({ paymentId: p.id, amount, bank_account })))
          } else if (s.kind === "fault") {
            await control("/_sandbox/faults", { path: "/v3/refunds", method: "POST", mode: s.mode, count: 1 })
          } else if (s.kind === "bank") {
            const r = (await engine.payments.get(p.id)).refunds[s.index]
            if (r?.providerRef) await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: s.status })
          } else if (s.kind === "webhooks") {
            await control("/_sandbox/webhooks", { mode: s.mode })
          } else {
            clock.advance(60_000)
            await engine.recover()
          }
          await sandbox.kernel.settled()
          const v = await engine.payments.get(p.id)
          expect(v.refundedAmount + v.reservedAmount).toBeLessThanOrEqual(deposit)
          const ledger = (await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: { type: string; amount: number; cause: string }[] }
          const refundRows = ledger.movements.filter((m) => m.type !== "capture")
          expect(refundRows.reduce((sum, m) => sum + m.amount, 0)).toBeLessThanOrEqual(deposit)
          const paid = refundRows.filter((m) => m.type === "refund").map((m) => m.cause)
          expect(new Set(paid).size).toBe(paid.length)
        }
        // Once every fault has passed and the outbox is reconciled, engine and provider agree.
        for (let i = 0; i < 3; i++) {
          clock.advance(600_000)
          await engine.recover()
        }
        await control("/_sandbox/webhooks/flush")
        await sandbox.kernel.settled()
        await engine.payments.sync(p.id)
        const v = await engine.payments.get(p.id)
        const ledger = (await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: { type: string; amount: number }[] }
        const providerHeld = ledger.movements.filter((m) => m.type !== "capture").reduce((sum, m) => sum + m.amount, 0)
        expect(v.refundedAmount + v.reservedAmount).toBe(providerHeld)
        await engine.close()
        engine = undefined
      }),
      { numRuns: RUNS },
    )
  }, 600_000)
})
