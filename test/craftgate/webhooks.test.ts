/**
 * Craftgate webhooks through `engine.webhooks.handle("craftgate", …)`: the HMAC signature is checked,
 * deliveries are deduplicated, and REFUND / REFUND_TX are fetched by payloadId before anything
 * changes, so a forged body cannot move money and a webhook that beats the API answer still lands.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { signCraftgateWebhook } from "../../adapters/providers/craftgate/index.js"
import { istanbul, pay, refundsAt, rejects, startWorld, txIds, type World } from "./helpers.js"

let world: World
beforeAll(async () => {
  world = await startWorld()
  world.engine = world.newEngine({ adapter: { timeoutMs: 400 } })
})
afterAll(() => world.close())
beforeEach(async () => {
  await world.settle()
  await world.control("/_sandbox/webhook-url", { url: `${world.receiver.url}/webhooks/craftgate` })
  await world.control("/_sandbox/webhooks", { mode: "normal" })
})

const engine = () => world.engine!
const key = () => world.sandbox.credentials.webhookKey
/** Now on the engine clock, in epoch seconds: webhooks are refused outside the freshness window. */
const nowS = () => Math.floor(world.clock.now().getTime() / 1000)
const hook = (eventType: string, payloadId: number | string, status = "SUCCESS") => signCraftgateWebhook(key(), { eventType, eventTimestamp: nowS(), status, payloadId: String(payloadId) })

describe("Craftgate webhooks", () => {
  it("refuses a bad or missing signature and writes nothing", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    const forged = signCraftgateWebhook("not-the-key", { eventType: "REFUND_TX", eventTimestamp: nowS(), status: "SUCCESS", payloadId: "1" })
    const e = await rejects(engine().webhooks.handle("craftgate", forged), "WEBHOOK_REJECTED")
    expect(e.message).toMatch(/x-cg-signature-v1/)
    await rejects(engine().webhooks.handle("craftgate", { headers: {}, rawBody: forged.rawBody }), "WEBHOOK_REJECTED")
    await rejects(engine().webhooks.handle("craftgate", { headers: forged.headers, rawBody: "{not json" }), "WEBHOOK_REJECTED")
    // A signed body whose fields were changed after signing.
    const signed = hook("REFUND_TX", 1)
    await rejects(engine().webhooks.handle("craftgate", { headers: signed.headers, rawBody: signed.rawBody.replace('"1"', '"2"') }), "WEBHOOK_REJECTED")
    const res = await fetch(`${world.receiver.url}/webhooks/craftgate`, { method: "POST", headers: forged.headers, body: forged.rawBody })
    expect(res.status).toBe(400)
    expect((await engine().payments.history(p.id)).length).toBe((await engine().payments.history(p.id)).length)
  })

  it("refuses every webhook when no webhookKey is configured", async () => {
    const bare = world.newEngine({ adapter: { webhookKey: undefined } })
    try {
      const e = await rejects(bare.webhooks.handle("craftgate", hook("REFUND", 1)), "WEBHOOK_REJECTED")
      expect(e.message).toMatch(/webhookKey/)
    } finally {
      await bare.close()
    }
  })

  it("reads the signature from a configured header", async () => {
    const custom = world.newEngine({ adapter: { webhookSignatureHeader: "X-Craftgate-Signature" } })
    try {
      const h = signCraftgateWebhook(key(), { eventType: "PAYOUT_COMPLETED", eventTimestamp: nowS(), status: "SUCCESS", payloadId: "5" }, { header: "x-craftgate-signature" })
      expect(await custom.webhooks.handle("craftgate", h)).toEqual({ status: "ignored", paymentIds: [] })
      await rejects(custom.webhooks.handle("craftgate", hook("PAYOUT_COMPLETED", 5)), "WEBHOOK_REJECTED")
    } finally {
      await custom.close()
    }
  })

  it("fetches the transaction refund by payloadId: a signed webhook settles a WAITING refund, a duplicate is known", async () => {
    await world.control("/_sandbox/webhook-url", { url: null })
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    const v = await engine().payments.refund({ paymentId: p.id, amount: 500, paymentTransactionId: txIds(p)[0] })
    const id = v.refunds[0]!.details.transactionRefundId as number
    // Still WAITING at Craftgate: a SUCCESS webhook (replayed, or forged with a leaked key) changes nothing.
    const early = hook("REFUND_TX", id)
    expect(await engine().webhooks.handle("craftgate", early)).toMatchObject({ status: "processed" })
    expect((await engine().payments.get(p.id)).refunds[0]!.status).toBe("pending")
    expect(await engine().webhooks.handle("craftgate", early)).toMatchObject({ status: "duplicate" })
    await world.control(`/_sandbox/refund-transactions/${id}/succeed`)
    // The same delivery again, now that the refund did succeed: what it finds is new, so it is not a duplicate.
    expect(await engine().webhooks.handle("craftgate", early)).toEqual({ status: "processed", paymentIds: [p.id] })
    const late = signCraftgateWebhook(key(), { eventType: "REFUND_TX", eventTimestamp: nowS() + 1, status: "SUCCESS", payloadId: String(id) })
    expect((await engine().payments.get(p.id)).refunds[0]).toMatchObject({ status: "succeeded", providerStatus: "SUCCESS" })
    expect(await engine().webhooks.handle("craftgate", late)).toEqual({ status: "processed", paymentIds: [p.id] })
    expect(await engine().webhooks.handle("craftgate", late)).toEqual({ status: "duplicate", paymentIds: [] })
    expect((await engine().payments.get(p.id)).refunds).toHaveLength(1)
  })

  it("a webhook that beats the API answer lands on the right refund, and recovery does not refund again", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await world.control("/_sandbox/faults", { path: "/payment/v1/refund-transactions", method: "POST", mode: "drop_response", count: 1 })
    await rejects(engine().payments.refund({ paymentId: p.id, amount: 800, paymentTransactionId: txIds(p)[1] }), "PROVIDER_UNAVAILABLE")
    await world.settle()
    const v = await engine().payments.get(p.id)
    expect(v.refunds).toHaveLength(1)
    expect(v.refunds[0]).toMatchObject({ kind: "refund_tx", status: "succeeded", amount: 800, providerRef: expect.stringMatching(/^tx:\d+$/) })
    world.clock.advance(10_000)
    await engine().recover()
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => m.amount)).toEqual([800])
    expect((await engine().payments.get(p.id)).refunds).toHaveLength(1)
  })

  it("a CANCEL's REFUND webhook, duplicated and reordered, settles a WAITING CANCEL once", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await world.settle()
    await world.control("/_sandbox/webhooks", { mode: "duplicate" })
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    const v = await engine().payments.refund({ paymentId: p.id })
    await world.control(`/_sandbox/refunds/${v.refunds[0]!.details.craftgateRefundId}/succeed`)
    await world.settle()
    const done = await engine().payments.get(p.id)
    expect(done).toMatchObject({ status: "refunded", refundedAmount: 5000 })
    const statuses = world.receiver.outcomes.slice(-2).map((o) => o.outcome?.status)
    expect(statuses.sort()).toEqual(["duplicate", "processed"])
  })

  it("settles the parts of a WAITING REFUND from REFUND_TX webhooks delivered out of order", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await world.setTime(istanbul("2026-11-25T10:00"))
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    const v = await engine().payments.refund({ paymentId: p.id })
    const parts = v.refunds[0]!.details.transactionRefunds as { id: number }[]
    await world.settle()
    await world.control("/_sandbox/webhooks", { mode: "reorder" })
    for (const t of parts) await world.control(`/_sandbox/refund-transactions/${t.id}/succeed`)
    await world.settle()
    const done = await engine().payments.get(p.id)
    expect(done).toMatchObject({ status: "refunded", refundedAmount: 5000, reservedAmount: 0 })
    expect(done.refunds).toHaveLength(1)
  })

  it("ignores a webhook about something Craftgate does not know, and addresses payment webhooks by conversationId", async () => {
    expect(await engine().webhooks.handle("craftgate", hook("REFUND", 987654))).toEqual({ status: "ignored", paymentIds: [] })
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    const h = hook("API_AUTH", p.providerRef!)
    expect(await engine().webhooks.handle("craftgate", h)).toEqual({ status: "processed", paymentIds: [p.id] })
    expect(await engine().webhooks.handle("craftgate", h)).toEqual({ status: "duplicate", paymentIds: [] })
    expect(await engine().payments.get(p.id)).toMatchObject({ status: "captured", refunds: [] })
  })
})
