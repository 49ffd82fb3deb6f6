/**
 * A lookup is not the operation (issue 12), through the public API against the sandbox over HTTP
 * (behind a proxy that fakes what the sandbox cannot: a lookup answering 404, an outage), on memory,
 * PGlite and PostgreSQL:
 * - a lookup answering 404 or 500 during recovery neither fails the refund nor sends it again;
 * - a refund whose POST never reached Craftgate is sent once, only after a search says so;
 * - a 5-minute outage parks nothing, and everything is sent exactly once after it;
 * - a REFUND_TX webhook whose sibling lookup fails is answered with an error (5xx), and applied when
 *   Craftgate delivers it again.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { Engine } from "../../src/engine.js"
import { deliver, startHookTrap, type HookTrap } from "./hooks.js"
import { card, expectLedgersAgree, istanbul, items, rejects, startWorld, txIds, type World } from "./helpers.js"
import { startProxy, type CraftgateProxy } from "./proxy.js"
import { openDatabase, PG_URL, postgresEnabled, type Database, type DatabaseKind } from "./stores.js"

const kinds: DatabaseKind[] = ["memory", "pglite", ...((await postgresEnabled()) ? (["postgres"] as const) : [])]
if (!kinds.includes("postgres")) {
  describe("Craftgate lookups on postgres", () => {
    it.skip(`skipped: no PostgreSQL at ${PG_URL} (in CI this fails instead)`, () => {})
  })
}

const REPORTING_TX = "/payment-reporting/v1/refund-transactions"
const POST_TX = "/payment/v1/refund-transactions"

describe.each(kinds)("Craftgate lookups on %s", (kind) => {
  let world: World
  let db: Database
  let proxy: CraftgateProxy
  let trap: HookTrap
  let engine: Engine
  beforeAll(async () => {
    world = await startWorld()
    db = await openDatabase(kind, "cglk")
    proxy = await startProxy(world.sandbox.url)
    trap = await startHookTrap()
    engine = world.newEngine({ store: db.open(), adapter: { baseUrl: proxy.url, timeoutMs: 300 } })
    world.engine = engine
    await engine.ready
  }, 60_000)
  afterAll(async () => {
    await engine?.close()
    await world?.close()
    await proxy?.close()
    await trap?.close()
    await db?.close()
  })
  beforeEach(async () => {
    proxy.heal()
    await world.settle()
    await world.control("/_sandbox/webhook-url", { url: trap.url })
    trap.take()
  })

  const pay = async () => {
    await world.setTime(istanbul("2026-11-23T10:00"))
    const p = await engine.payments.create({ provider: "craftgate", amount: 5000, currency: "TRY", card, items })
    expect(p.status).toBe("captured")
    await world.settle()
    trap.take()
    return p
  }
  const posts = (path: string) => proxy.calls.filter((c) => c.method === "POST" && c.path === path && c.answer === "forwarded").length
  const recover = async (ms = 30_000) => {
    world.clock.advance(ms)
    await world.sandbox.kernel.setClock(world.clock.now())
    return engine.recover()
  }

  for (const answer of [404, 500] as const) {
    it(`a search answering ${answer} during recovery leaves a performed refund in flight, and it is never sent again`, async () => {
      const p = await pay()
      await world.control("/_sandbox/faults", { path: POST_TX, method: "POST", mode: "drop_response", count: 1 })
      const before = posts(POST_TX)
      await rejects(engine.payments.refund({ paymentId: p.id, amount: 900, paymentTransactionId: txIds(p)[0] }), "PROVIDER_UNAVAILABLE")
      proxy.fail({ method: "GET", path: REPORTING_TX, answer })
      for (let i = 0; i < 3; i++) {
        await recover()
        const v = await engine.payments.get(p.id)
        // Not failed, not released: the amount stays reserved while Craftgate cannot be asked.
        expect(v.refunds[0]).toMatchObject({ status: "requested", amount: 900 })
        expect(v).toMatchObject({ reservedAmount: 900, refundedAmount: 0 })
      }
      expect(proxy.calls.some((c) => c.path.startsWith(REPORTING_TX) && c.answer === answer)).toBe(true)
      proxy.heal()
      await recover(10 * 60_000)
      const v = await engine.payments.get(p.id)
      expect(v.refunds[0]).toMatchObject({ status: "succeeded", amount: 900 })
      expect(posts(POST_TX) - before).toBe(1)
      expectLedgersAgree(v, await world.ledger(), `lookup ${answer}`)
    }, 30_000)

    it(`a search answering ${answer} does not let an unperformed refund be sent: it is sent once the search answers empty`, async () => {
      const p = await pay()
      await world.control("/_sandbox/faults", { path: POST_TX, method: "POST", mode: "timeout", count: 1 })
      await rejects(engine.payments.refund({ paymentId: p.id, amount: 400, paymentTransactionId: txIds(p)[1] }), "PROVIDER_UNAVAILABLE")
      const sent = posts(POST_TX)
      proxy.fail({ method: "GET", path: REPORTING_TX, answer })
      await recover()
      await recover()
      expect(posts(POST_TX)).toBe(sent)
      expect((await engine.payments.get(p.id)).refunds[0]).toMatchObject({ status: "requested" })
      proxy.heal()
      await recover(10 * 60_000)
      const v = await engine.payments.get(p.id)
      expect(v.refunds[0]).toMatchObject({ status: "succeeded", amount: 400 })
      expect(posts(POST_TX)).toBe(sent + 1)
      expectLedgersAgree(v, await world.ledger(), `unperformed, lookup ${answer}`)
    }, 30_000)

    it(`a poll answering ${answer} never fails a WAITING refund`, async () => {
      const p = await pay()
      await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
      const v0 = await engine.payments.refund({ paymentId: p.id, amount: 300, paymentTransactionId: txIds(p)[0] })
      expect(v0.refunds[0]).toMatchObject({ status: "pending" })
      proxy.fail({ method: "GET", path: "/payment/v1/refund-transactions/", answer })
      world.clock.advance(61_000)
      await engine.runDueTimers()
      world.clock.advance(6 * 60_000)
      await engine.runDueTimers()
      await recover()
      expect((await engine.payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending" })
      expect(await engine.payments.get(p.id)).toMatchObject({ reservedAmount: 300 })
      proxy.heal()
      await world.control(`/_sandbox/refund-transactions/${v0.refunds[0]!.details.transactionRefundId}/succeed`)
      world.clock.advance(31 * 60_000)
      await engine.runDueTimers()
      await recover(10 * 60_000)
      const v = await engine.payments.get(p.id)
      expect(v.refunds[0]).toMatchObject({ status: "succeeded" })
      expectLedgersAgree(v, await world.ledger(), `poll ${answer}`)
    }, 30_000)
  }

  it("a 5-minute outage parks nothing: a dropped refund, a refund and a card payment made during it are each sent once after", async () => {
    const p = await pay()
    await world.control("/_sandbox/faults", { path: POST_TX, method: "POST", mode: "drop_response", count: 1 })
    await rejects(engine.payments.refund({ paymentId: p.id, amount: 1000, paymentTransactionId: txIds(p)[0] }), "PROVIDER_UNAVAILABLE")
    const sentBefore = posts(POST_TX)
    // Craftgate is down: every call answers 503.
    proxy.fail({ answer: 503 })
    await rejects(engine.payments.refund({ paymentId: p.id, amount: 1000, paymentTransactionId: txIds(p)[1] }), "PROVIDER_UNAVAILABLE")
    await rejects(engine.payments.create({ provider: "craftgate", amount: 2500, currency: "TRY", card, items: [{ name: "Lamp", price: 2500 }] }), "PROVIDER_UNAVAILABLE")
    const [q] = (await engine.payments.list({ status: "pending" })).data
    expect(q).toBeDefined()
    for (let t = 0; t < 5 * 60_000; t += 30_000) {
      await recover(30_000)
      const v = await engine.payments.get(p.id)
      expect(v.refunds.map((r) => r.status)).toEqual(["requested", "requested"])
      expect(v.refunds.some((r) => r.needsReview)).toBe(false)
    }
    expect(await engine.review.list()).toEqual([])
    expect(posts(POST_TX)).toBe(sentBefore)
    proxy.heal()
    // Each effect's next attempt is at most the 5-minute backoff cap away; the card payment's card
    // data is still in this process's memory (engine secretTtlMs, 10 minutes by default).
    for (let t = 0; t <= 6 * 60_000; t += 30_000) await recover(30_000)
    const v = await engine.payments.get(p.id)
    expect(v.refunds.map((r) => [r.amount, r.status])).toEqual([
      [1000, "succeeded"],
      [1000, "succeeded"],
    ])
    expect(posts(POST_TX) - sentBefore).toBe(1)
    expectLedgersAgree(v, await world.ledger(), "outage")
    const made = await engine.payments.get(q!.id)
    expect(made).toMatchObject({ status: "captured", capturedAmount: 2500 })
    expect((await world.ledger()).filter((m) => m.type === "capture" && m.cause === q!.id)).toHaveLength(1)
  }, 60_000)

  it("a REFUND_TX webhook whose sibling lookup fails is answered 5xx (not acknowledged) and applied when delivered again", async () => {
    const p = await pay()
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    const v0 = await engine.payments.refund({ paymentId: p.id, amount: 600, paymentTransactionId: txIds(p)[0] })
    await world.control(`/_sandbox/refund-transactions/${v0.refunds[0]!.details.transactionRefundId}/succeed`)
    await world.settle()
    const [hook] = trap.take()
    expect(hook!.body).toMatchObject({ eventType: "REFUND_TX", status: "SUCCESS" })
    proxy.fail({ method: "GET", path: REPORTING_TX, answer: 500 })
    // Through the host's route: the receiver answers 500, so Craftgate would deliver it again.
    const res = await fetch(`${world.receiver.url}/webhooks/craftgate`, { method: "POST", headers: hook!.headers as Record<string, string>, body: hook!.rawBody })
    expect(res.status).toBe(500)
    await rejects(deliver(engine, hook!), "PROVIDER_UNAVAILABLE")
    expect((await engine.payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending" })
    proxy.fail({ method: "GET", path: REPORTING_TX, answer: 404 })
    proxy.rules.splice(0, 1)
    await rejects(deliver(engine, hook!), "PROVIDER_UNAVAILABLE")
    proxy.heal()
    // The redelivery is the same bytes: not taken for a duplicate of the refused ones.
    const again = await fetch(`${world.receiver.url}/webhooks/craftgate`, { method: "POST", headers: hook!.headers as Record<string, string>, body: hook!.rawBody })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ status: "processed", paymentIds: [p.id] })
    const v = await engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", amount: 600 })
    expectLedgersAgree(v, await world.ledger(), "webhook redelivery")
  }, 30_000)
})
