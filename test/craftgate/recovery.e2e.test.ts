/**
 * Craftgate has no idempotency key: a refund whose answer was lost must be looked up by its
 * conversationId before anything is sent again. These tests lose answers on purpose (the sandbox's
 * drop_response performs the call and hangs up; timeout and error500 perform nothing) and check that
 * Craftgate moved the money exactly once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { card, istanbul, items, pay, refundedAt, refundsAt, rejects, startWorld, txIds, type World } from "./helpers.js"

let world: World
beforeAll(async () => {
  world = await startWorld()
  world.engine = world.newEngine({ adapter: { timeoutMs: 400 } })
})
afterAll(() => world.close())
beforeEach(async () => {
  await world.settle()
  // Webhooks would settle lost answers by themselves; these tests want the reconcile path.
  await world.control("/_sandbox/webhook-url", { url: null })
})

const engine = () => world.engine!
const fault = (path: string, mode: "drop_response" | "timeout" | "error500", method = "POST") => world.control("/_sandbox/faults", { path, method, mode, count: 1 })
/** Lets the outbox backoff pass and runs recovery. */
const recover = async () => {
  world.clock.advance(10_000)
  return engine().recover()
}

describe("Craftgate recovery: an unknown outcome is looked up before anything is re-sent", () => {
  it("a CANCEL whose answer was dropped is found by conversationId: one cancel at Craftgate", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await fault("/payment/v1/refunds", "drop_response")
    const e = await rejects(engine().payments.refund({ paymentId: p.id }), "PROVIDER_UNAVAILABLE")
    expect(e.details).toMatchObject({ willRetry: true })
    let v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ kind: "cancel", status: "requested" })
    expect(v).toMatchObject({ reservedAmount: 5000, refundableAmount: 0 })
    await world.setTime(istanbul("2026-11-24T10:00")) // recovered the next day: the lookup must not turn it into a REFUND
    expect(await recover()).toBe(1)
    v = await engine().payments.get(p.id)
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 5000 })
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", details: { refundType: "CANCEL", craftgateRefundId: expect.any(Number) } })
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => m.type)).toEqual(["cancel"])
  })

  it("a whole REFUND whose answer was dropped is found through its transaction refunds", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await world.setTime(istanbul("2026-11-24T10:00"))
    await fault("/payment/v1/refunds", "drop_response")
    await rejects(engine().payments.refund({ paymentId: p.id }), "PROVIDER_UNAVAILABLE")
    await recover()
    const v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ kind: "refund", status: "succeeded", details: { refundType: "REFUND" } })
    expect(refundedAt(await world.ledger(), p.providerRef)).toBe(5000)
    expect(refundsAt(await world.ledger(), p.providerRef)).toHaveLength(2)
  })

  it("a transaction refund that timed out before Craftgate saw it is sent once, after the lookup finds nothing", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await fault("/payment/v1/refund-transactions", "timeout")
    await rejects(engine().payments.refund({ paymentId: p.id, amount: 700, paymentTransactionId: txIds(p)[0] }), "PROVIDER_UNAVAILABLE")
    expect(refundsAt(await world.ledger(), p.providerRef)).toEqual([])
    await recover()
    const v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ kind: "refund_tx", status: "succeeded", amount: 700 })
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => m.amount)).toEqual([700])
  })

  it("a transaction refund whose answer was dropped is not sent again", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await fault("/payment/v1/refund-transactions", "drop_response")
    await rejects(engine().payments.refund({ paymentId: p.id, amount: 700, paymentTransactionId: txIds(p)[1] }), "PROVIDER_UNAVAILABLE")
    // Until it is reconciled, a whole-payment refund waits: Craftgate would refund the 700 again.
    await rejects(engine().payments.refund({ paymentId: p.id }), "INVALID_TRANSITION")
    await recover()
    await recover()
    expect((await engine().payments.get(p.id)).refunds[0]).toMatchObject({ status: "succeeded", amount: 700 })
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => m.amount)).toEqual([700])
    const v = await engine().payments.refund({ paymentId: p.id })
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 5000 })
    expect(refundedAt(await world.ledger(), p.providerRef)).toBe(5000)
  })

  it("a 500 on a refund is an unknown outcome too: reconciled, then sent once", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await fault("/payment/v1/refund-transactions", "error500")
    await rejects(engine().payments.refund({ paymentId: p.id, amount: 100, paymentTransactionId: txIds(p)[0] }), "PROVIDER_UNAVAILABLE")
    await recover()
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => m.amount)).toEqual([100])
  })

  it("a card payment whose answer was dropped is found by paystate's id as conversationId: one capture", async () => {
    await world.setTime(istanbul("2026-11-23T10:00"))
    await fault("/payment/v1/card-payments", "drop_response")
    await rejects(engine().payments.create({ provider: "craftgate", amount: 5000, currency: "TRY", card, items, idempotencyKey: "order-77" }), "PROVIDER_UNAVAILABLE")
    const [pending] = (await engine().payments.list({ status: "pending" })).data
    expect(pending).toMatchObject({ providerRef: null })
    await recover()
    const v = await engine().payments.get(pending!.id)
    expect(v).toMatchObject({ status: "captured", capturedAmount: 5000, providerRef: expect.stringMatching(/^\d+$/) })
    expect((await world.ledger()).filter((m) => m.type === "capture" && m.cause === pending!.id)).toHaveLength(1)
  })

  it("a lookup that hits a 5xx is retried (GETs are safe to repeat)", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    const v = await engine().payments.refund({ paymentId: p.id, amount: 100, paymentTransactionId: txIds(p)[0] })
    await world.control(`/_sandbox/refund-transactions/${v.refunds[0]!.details.transactionRefundId}/succeed`)
    await fault("/payment/v1/refund-transactions/:id", "error500", "GET")
    world.clock.advance(60_000)
    await engine().runDueTimers()
    expect((await engine().payments.get(p.id)).refunds[0]).toMatchObject({ status: "succeeded" })
  })
})
