/**
 * The property-test kit (`paystate/testing` + `paystate/testing/arbitraries`) used as a host would:
 * for each provider, an engine on a memory store, the provider's sandbox over HTTP on 127.0.0.1
 * (started through `paystate/sandbox`), a webhook route, and the kit's arbitraries making payments
 * and schedules of refunds, retries, faults, webhook modes and provider-side settlements. After
 * every schedule the kit's checkers must find nothing: the ceiling after every step, and once all
 * has settled one movement per key, the Craftgate CANCEL rule, and the engine's ledger equal to the
 * sandbox's refund by refund. A counterexample (payment, steps, start minute) replays with
 * `runOne` in kit.regressions.test.ts.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { SandboxKind } from "../../src/testing/index.js"
import { craftgatePayment, komojuPayment, onekeyPayment, schedule } from "../../src/testing/arbitraries.js"
import { runOne, startBench, type Bench } from "./bench.js"

const DEEP = Boolean(process.env.PAYSTATE_DEEP)
const RUNS = DEEP ? 500 : 50

const benches = new Map<SandboxKind, Bench>()
beforeAll(async () => {
  for (const kind of ["komoju", "craftgate", "onekey"] as const) benches.set(kind, await startBench(kind))
})
afterAll(async () => {
  for (const b of benches.values()) await b.close()
})

/** When in the day a run starts (minutes after midnight UTC): Craftgate's rule turns at Istanbul midnight. */
const startMinute = fc.integer({ min: 0, max: 24 * 60 - 1 })

describe("paystate/testing kit against the sandboxes", () => {
  it("KOMOJU: cards, konbini, bank transfer, PayEasy and e-money under refunds, refund requests, retries, faults and webhook modes", async () => {
    let refunded = 0
    await fc.assert(
      fc.asyncProperty(komojuPayment(), schedule("komoju"), startMinute, async (create, steps, start) => {
        const r = await runOne(benches.get("komoju")!, create, steps, start)
        refunded += r.view.refundedAmount
      }),
      { numRuns: RUNS, endOnFailure: true },
    )
    // The schedules did refund money (a kit that only ever refused would check nothing).
    expect(refunded).toBeGreaterThan(0)
  }, 600_000)

  it("Craftgate: basket items, partial refunds per transaction, whole refunds as CANCEL or REFUND, WAITING settled either way", async () => {
    let refunded = 0
    await fc.assert(
      fc.asyncProperty(craftgatePayment({ preAuth: true }), schedule("craftgate"), startMinute, async (create, steps, start) => {
        const r = await runOne(benches.get("craftgate")!, create, steps, start)
        refunded += r.view.refundedAmount
      }),
      { numRuns: RUNS, endOnFailure: true },
    )
    expect(refunded).toBeGreaterThan(0)
  }, 600_000)

  it("OneKey: cash, bank and card deposits in four countries, bank refunds through the bank's statuses", async () => {
    let refunded = 0
    await fc.assert(
      fc.asyncProperty(onekeyPayment(), schedule("onekey"), startMinute, async (create, steps, start) => {
        const r = await runOne(benches.get("onekey")!, create, steps, start)
        refunded += r.view.refundedAmount
      }),
      { numRuns: RUNS, endOnFailure: true },
    )
    expect(refunded).toBeGreaterThan(0)
  }, 600_000)
})
