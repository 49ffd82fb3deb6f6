/**
 * KOMOJU webhooks through `engine.webhooks.handle`: the signature over the raw bytes, dedupe on
 * X-Komoju-ID and the event id, reordered and early events, and every event type the machine takes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest"
import { signKomojuWebhook } from "../../adapters/providers/komoju/index.js"
import { isPaystateError } from "../../src/errors.js"
import { BANK, startWorld, type KomojuWorld } from "./helpers.js"
import { DETAILS } from "./seeds.js"

let w: KomojuWorld
let hookUrl: string | undefined
beforeAll(async () => {
  w = await startWorld()
  hookUrl = w.sandbox.kernel.webhookUrl
})
afterAll(() => w.close())
beforeEach(async () => {
  w.sandbox.kernel.webhookUrl = hookUrl
  await w.control("/_sandbox/webhooks", { mode: "normal" })
  w.sandbox.kernel.faults.length = 0
})

const event = (type: string, data: unknown, id = `evt_${Math.random().toString(36).slice(2)}`) => ({ id, type, resource: "event", data, created_at: "2020-06-09T07:42:12Z", reason: null })
const post = (ev: object | string, opts: { secret?: string; deliveryId?: string; headers?: Record<string, string> } = {}) => {
  const signed = signKomojuWebhook(opts.secret ?? w.sandbox.webhookSecret, ev as never, opts.deliveryId ? { deliveryId: opts.deliveryId } : {})
  return w.engine.webhooks.handle("komoju", { headers: { ...signed.headers, ...opts.headers }, rawBody: Buffer.from(signed.rawBody) })
}
const show = async (ref: string) => (await w.api("GET", `/payments/${ref}`)).json
const create = (method: string, extra: Record<string, unknown> = {}) => w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: DETAILS[method], ...extra })

describe("signature", () => {
  test("a bad or missing signature is refused and writes nothing; the genuine delivery then counts", async () => {
    w.sandbox.kernel.webhookUrl = undefined
    const p = await create("konbini")
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    const ev = event("payment.captured", await show(p.providerRef!))
    const history = await w.engine.payments.history(p.id)
    for (const bad of [{ secret: "whsec_wrong" }, { headers: { "x-komoju-signature": "" } }, { headers: { "x-komoju-signature": "00".repeat(32) } }]) {
      const e = await post(ev, bad).catch((x: unknown) => x)
      expect(isPaystateError(e, "WEBHOOK_REJECTED")).toBe(true)
    }
    // a body altered after signing fails too
    const signed = signKomojuWebhook(w.sandbox.webhookSecret, ev as never)
    const tampered = await w.engine.webhooks.handle("komoju", { headers: signed.headers, rawBody: signed.rawBody.replace("captured", "cancelled") }).catch((x: unknown) => x)
    expect(isPaystateError(tampered, "WEBHOOK_REJECTED")).toBe(true)
    expect(await w.engine.payments.history(p.id)).toEqual(history)
    expect(await post(ev)).toMatchObject({ status: "processed", paymentIds: [p.id] })
    expect((await w.engine.payments.get(p.id)).status).toBe("captured")
  })

  test("parsed JSON instead of the raw body is refused", async () => {
    const e = await w.engine.webhooks.handle("komoju", { headers: {}, rawBody: { id: "x" } as never }).catch((x: unknown) => x)
    expect(isPaystateError(e, "WEBHOOK_REJECTED")).toBe(true)
  })

  test("ping and events about payments paystate does not know are accepted and ignored", async () => {
    expect(await post(event("ping", {}))).toMatchObject({ status: "ignored" })
    const foreign = (await w.api("POST", "/payments", { amount: 1000, currency: "JPY", payment_details: DETAILS.bit_cash })).json
    expect(await post(event("payment.captured", foreign))).toMatchObject({ status: "ignored" })
  })
})

describe("dedupe and ordering", () => {
  test("the same delivery twice, or the same event under another delivery id, is a duplicate", async () => {
    w.sandbox.kernel.webhookUrl = undefined
    const p = await create("konbini")
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    const ev = event("payment.captured", await show(p.providerRef!))
    expect((await post(ev, { deliveryId: "d1" })).status).toBe("processed")
    expect((await post(ev, { deliveryId: "d1" })).status).toBe("duplicate")
    expect((await post(ev, { deliveryId: "d2" })).status).toBe("duplicate")
  })

  test("a stale event (authorized after captured) never moves the payment back", async () => {
    w.sandbox.kernel.webhookUrl = undefined
    const p = await create("konbini")
    const authorized = await show(p.providerRef!)
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    await post(event("payment.captured", await show(p.providerRef!)))
    await w.engine.payments.refund({ paymentId: p.id, amount: 100 })
    const captured = await show(p.providerRef!)
    await post(event("payment.refund.created", captured))
    await post(event("payment.captured", { ...captured, refunds: [] }))
    await post(event("payment.authorized", authorized))
    const v = await w.engine.payments.get(p.id)
    expect(v).toMatchObject({ status: "captured", capturedAmount: 1100, reservedAmount: 100 })
    expect(v.refunds).toHaveLength(1)
  })

  test("duplicate and reordered deliveries from the sandbox leave one consistent payment", async () => {
    await w.control("/_sandbox/webhooks", { mode: "duplicate" })
    const p = await create("konbini")
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    await w.control("/_sandbox/webhooks", { mode: "reorder" })
    const r = await w.engine.payments.refund({ paymentId: p.id, amount: 400 })
    await w.control(`/_sandbox/refunds/${r.refunds[0]!.providerRef}/complete`)
    await w.control("/_sandbox/webhooks/flush")
    await w.settle()
    const v = await w.engine.payments.get(p.id)
    expect(v.refunds).toHaveLength(1)
    expect(v).toMatchObject({ status: "captured", refundedAmount: 400, refundableAmount: 700 })
    expect(w.received.filter((x) => x.outcome?.status === "duplicate").length).toBeGreaterThan(0)
  })

  test("a webhook that beats a lost API answer is addressed by paystate's id in metadata", async () => {
    await w.control("/_sandbox/faults", { path: "/api/v1/payments", method: "POST", mode: "drop_response", count: 3 })
    const e = await create("bit_cash", { externalOrderNum: `early-${Date.now()}` }).catch((x: unknown) => x)
    expect(isPaystateError(e, "PROVIDER_UNAVAILABLE")).toBe(true)
    await w.settle()
    const id = (e as { details: { paymentId: string } }).details.paymentId
    const v = await w.engine.payments.get(id)
    expect(v.status).toBe("captured")
    expect(v.providerRef).toMatch(/^[0-9a-z]{25}$/)
    const list = (await w.api("GET", `/payments?external_order_num=${encodeURIComponent(v.externalOrderNum!)}`)).json
    expect(list.total).toBe(1)
  })

  test("a refund webhook that beats its API answer settles the same ledger entry", async () => {
    const p = await create("credit_card")
    await w.control("/_sandbox/faults", { path: "/api/v1/payments/:id/refund", method: "POST", mode: "drop_response", count: 3 })
    const e = await w.engine.payments.refund({ paymentId: p.id, amount: 300 }).catch((x: unknown) => x)
    expect(isPaystateError(e, "PROVIDER_UNAVAILABLE")).toBe(true)
    await w.settle()
    let v = await w.engine.payments.get(p.id)
    expect(v.refunds).toHaveLength(1)
    expect(v.refunds[0]).toMatchObject({ amount: 300, status: "succeeded" })
    w.clock.advance(60_000)
    await w.engine.recover()
    v = await w.engine.payments.get(p.id)
    expect(v.refunds).toHaveLength(1)
    expect(v.refundedAmount).toBe(300)
    expect((await show(p.providerRef!)).refunds).toHaveLength(1)
  })
})

describe("event types", () => {
  test("payment.cancelled and payment.failed reach the machine", async () => {
    const a = await create("line_pay")
    await w.api("POST", `/payments/${a.providerRef}/cancel`)
    const b = await create("paidy")
    await w.control(`/_sandbox/payments/${b.providerRef}/fail`)
    await w.settle()
    expect((await w.engine.payments.get(a.id)).status).toBe("cancelled")
    expect((await w.engine.payments.get(b.id)).status).toBe("failed")
    const types = w.sandbox.kernel.delivered.map((d) => JSON.parse(d.body).type)
    expect(types).toEqual(expect.arrayContaining(["payment.authorized", "payment.captured", "payment.cancelled", "payment.failed", "payment.refund.created"]))
  })

  test("payment.refunded and refund_request.updated settle the ledger; payment.updated refreshes description", async () => {
    const k = await create("konbini")
    await w.control(`/_sandbox/payments/${k.providerRef}/pay`)
    await w.settle()
    const v = await w.engine.payments.refundRequest({ paymentId: k.id, ...BANK })
    await w.control(`/_sandbox/refund_requests/${v.refunds[0]!.providerRef}/complete`)
    await w.api("PATCH", `/payments/${k.providerRef}`, { description: "changed at KOMOJU" })
    await w.settle()
    const after = await w.engine.payments.get(k.id)
    expect(after).toMatchObject({ status: "refunded", description: "changed at KOMOJU" })
    const types = w.sandbox.kernel.delivered.map((d) => JSON.parse(d.body).type)
    expect(types).toEqual(expect.arrayContaining(["refund_request.updated", "payment.updated", "payment.refunded"]))
  })

  test("payment.expired from the sandbox clock", async () => {
    const p = await create("pay_easy")
    await w.sandbox.kernel.setClock(new Date(Date.parse(p.deadline!) + 1000))
    await w.settle()
    await w.sandbox.kernel.setClock(new Date())
    expect((await w.engine.payments.get(p.id)).status).toBe("expired")
  })
})
