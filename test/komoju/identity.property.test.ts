/**
 * KOMOJU refund identity as a property, against the sandbox over HTTP, on memory, PGlite and
 * PostgreSQL: per payment, refunds of EQUAL amounts (some concurrent, from two engines on one store),
 * timeouts, dropped answers and 500s, webhooks early, duplicated, delayed, reordered, replayed or
 * sent to the other engine, failing lookups and restarts. After recovery: Σ library = Σ KOMOJU for the
 * payment, every KOMOJU refund is on exactly one paystate refund (the one whose idempotency key made
 * it), none was sent twice, none was lost. PAYSTATE_DEEP=1 runs many more cases.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signKomojuWebhook } from "../../adapters/providers/komoju/index.js"
import { isPaystateError } from "../../src/errors.js"
import { DETAILS } from "./seeds.js"
import { cleanupDirs, notePostgresSkip, refundIdOfCause, startShared, storeKinds, type SharedWorld } from "./world.js"

const DEEP = !!process.env.PAYSTATE_DEEP
const RUNS: Record<string, number> = { memory: DEEP ? 1500 : 50, pglite: DEEP ? 400 : 25, postgres: DEEP ? 400 : 25 }
afterAll(cleanupDirs)
notePostgresSkip()

type Fault = "none" | "timeout" | "drop" | "error500"
type Action =
  | { t: "refund"; engine: number; amount: number; fault: Fault; count: number }
  | { t: "pair"; amount: number; faults: [Fault, Fault] }
  | { t: "webhooks"; mode: "normal" | "duplicate" | "delay" | "reorder"; route: number | null }
  | { t: "replay"; engine: number; pick: number }
  | { t: "recover"; engine: number; lookupFails: boolean }
  | { t: "restart"; engine: number }
  | { t: "collect"; pick: number }

const fault = fc.constantFrom<Fault>("none", "none", "timeout", "drop", "drop", "error500")
const amount = fc.constantFrom(100, 100, 200)
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("refund" as const), engine: fc.nat(1), amount, fault, count: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("pair" as const), amount, faults: fc.tuple(fault, fault) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("webhooks" as const), mode: fc.constantFrom("normal" as const, "duplicate" as const, "delay" as const, "reorder" as const), route: fc.constantFrom(0, 1, null) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("replay" as const), engine: fc.nat(1), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("recover" as const), engine: fc.nat(1), lookupFails: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("restart" as const), engine: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("collect" as const), pick: fc.nat() }) },
)

const EXPECTED = new Set(["REFUND_EXCEEDS_REFUNDABLE", "PROVIDER_UNAVAILABLE", "CONCURRENT_MODIFICATION"])

describe.each(storeKinds("prop"))("KOMOJU refund identity under faults on $name", ({ name, make }) => {
  let w: SharedWorld
  beforeAll(async () => {
    // PGlite runs on this thread, beside the sandbox: its answers need more time there.
    w = await startShared({ store: make(), adapter: { timeoutMs: name === "memory" ? 150 : 500, retries: 1, backoffMs: 2 }, engine: { retryWindowMs: 30 * 24 * 3_600_000 } })
  })
  afterAll(() => w?.close())

  it("after recovery the library's ledger is KOMOJU's, refund by refund", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("credit_card", "konbini"), fc.array(action, { minLength: 1, maxLength: DEEP ? 16 : 10 }), async (method, actions) => {
        w.clearFaults()
        w.proxy.override = undefined
        w.sandbox.kernel.webhookMode = "normal"
        w.routeWebhooks(0)
        const command = { provider: "komoju", amount: 1000, currency: "JPY", payment_details: DETAILS[method], idempotencyKey: `prop-${Math.random()}` }
        let p = await w.engines[0]!.payments.create(command).catch(async (e: unknown) => {
          // A slow answer is no part of the property: the create is reconciled until KOMOJU has it.
          if (!isPaystateError(e, "PROVIDER_UNAVAILABLE")) throw e
          return w.engines[0]!.payments.get((e.details as { paymentId: string }).paymentId)
        })
        for (let i = 0; i < 5 && !p.providerRef; i++) {
          await w.recover(0, 310_000)
          p = await w.engines[0]!.payments.get(p.id)
        }
        const ref = p.providerRef!
        if (method === "konbini") {
          await w.control(`/_sandbox/payments/${ref}/pay`)
          await w.settle()
          await w.engines[0]!.payments.sync(p.id)
        }
        const path = `/api/v1/payments/${ref}/refund`
        const arm = (f: Fault, count: number) => {
          if (f !== "none") w.fault(path, f === "drop" ? "drop_response" : f, count)
        }
        const refund = (engine: number, value: number) =>
          w.engines[engine]!.payments.refund({ paymentId: p.id, amount: value }).catch((e: unknown) => {
            if (!isPaystateError(e) || !EXPECTED.has(e.code)) throw e
          })
        for (const a of actions) {
          switch (a.t) {
            case "refund":
              arm(a.fault, a.count)
              await refund(a.engine, a.amount)
              break
            case "pair":
              arm(a.faults[0], 2)
              arm(a.faults[1], 2)
              await Promise.all([refund(0, a.amount), refund(1, a.amount)])
              break
            case "webhooks":
              if (w.sandbox.kernel.webhookMode === "reorder" && a.mode !== "reorder") w.sandbox.kernel.flushWebhooks()
              w.sandbox.kernel.webhookMode = a.mode
              w.sandbox.kernel.webhookDelayMs = 20
              w.routeWebhooks(a.route)
              break
            case "replay": {
              // An old delivery arrives again, possibly at the other engine.
              const mine = w.sandbox.kernel.delivered.filter((d) => d.body.includes(ref))
              const d = mine[a.pick % Math.max(1, mine.length)]
              // A webhook whose payment must be read again may meet a failing lookup: the host answers 5xx and KOMOJU retries.
              if (d)
                await w.engines[a.engine]!.webhooks.handle("komoju", signKomojuWebhook(w.sandbox.webhookSecret, d.body, { deliveryId: `replay-${a.pick}-${Math.random()}` })).catch((e: unknown) => {
                  if (!isPaystateError(e, "PROVIDER_UNAVAILABLE")) throw e
                })
              break
            }
            case "recover":
              if (a.lookupFails) w.fault(`/api/v1/payments/${ref}`, "error500", 4, "GET")
              await w.recover(a.engine, 310_000)
              break
            case "restart":
              await w.settle()
              await w.restart(a.engine)
              break
            case "collect": {
              const pending = ((await w.show(ref)).refunds as any[]).filter((r) => r.status === "pending")
              if (pending.length) await w.control(`/_sandbox/refunds/${pending[a.pick % pending.length].id}/complete`)
              break
            }
          }
          // Conservative ceiling at every step: nothing settled, reserved or held aside beyond the capture.
          const v = await w.engines[0]!.payments.get(p.id)
          expect(v.refundedAmount + v.reservedAmount + v.unattributedAmount).toBeLessThanOrEqual(v.capturedAmount)
        }
        // Quiet the world; recover until nothing is left to reconcile; then read the payment once.
        w.clearFaults()
        w.sandbox.kernel.webhookMode = "normal"
        await w.settle()
        for (let i = 0; i < 12 && (await w.store.outbox(p.id, "pending")).length > 0; i++) {
          await w.recover(i % 2, 310_000)
          await w.settle()
        }
        expect(await w.store.outbox(p.id, "pending")).toEqual([])
        expect(await w.store.outbox(p.id, "parked")).toEqual([])
        const v = await w.engines[1]!.payments.sync(p.id)
        const k = await w.show(ref)
        const moves = w.movements(ref).filter((m) => m.type === "refund")
        // None sent twice: one money movement per idempotency key.
        expect(new Set(moves.map((m) => m.cause)).size).toBe(moves.length)
        // Every KOMOJU refund is on exactly one paystate refund: the one whose key made it.
        for (const r of k.refunds as any[]) {
          const mine = v.refunds.filter((e) => e.providerRef === r.id)
          expect(mine).toHaveLength(1)
          const m = moves.find((x) => x.refundId === r.id)
          expect(refundIdOfCause(p.id, m.cause)).toBe(mine[0]!.id)
          expect(mine[0]).toMatchObject({ amount: r.amount, status: r.status === "completed" ? "succeeded" : "pending", external: false, unattributed: false })
        }
        // None lost: every paystate refund not failed is a KOMOJU refund, and a failed one moved nothing.
        for (const e of v.refunds) {
          const made = moves.some((m) => refundIdOfCause(p.id, m.cause) === e.id)
          expect(made, `${e.id} is ${e.status}`).toBe(e.status !== "failed")
        }
        expect(v.refunds.some((e) => e.status === "requested" || e.needsReview)).toBe(false)
        // Σ library = Σ KOMOJU.
        const completed = (k.refunds as any[]).filter((r) => r.status === "completed").reduce((s, r) => s + r.amount, 0)
        const pending = (k.refunds as any[]).filter((r) => r.status === "pending").reduce((s, r) => s + r.amount, 0)
        expect(v.refundedAmount).toBe(completed)
        expect(v.reservedAmount).toBe(pending)
        expect(v.unattributedAmount).toBe(0)
      }),
      { numRuns: RUNS[name]!, endOnFailure: true },
    )
  }, 900_000)
})
