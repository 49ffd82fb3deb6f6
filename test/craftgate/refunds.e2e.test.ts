/**
 * Craftgate end to end: the engine against the Craftgate sandbox over HTTP, with the engine clock and
 * the sandbox clock moved together, and signed webhooks delivered to a real route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { craftgate, CRAFTGATE_SANDBOX_DEFAULTS, startCraftgateSandbox } from "../../adapters/providers/craftgate/index.js"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock } from "../../src/clock.js"
import { createEngine, type Engine } from "../../src/engine.js"
import { startWebhookReceiver, type WebhookReceiver } from "../../src/testing/webhook-receiver.js"

const card = { cardHolderName: "Haluk Demir", cardNumber: "5528790000000008", expireYear: "2044", expireMonth: "07", cvc: "000" }
const items = [
  { name: "Book", price: 3000, externalId: "b1" },
  { name: "Pen", price: 2000, externalId: "p1" },
]

let sandbox: RunningSandbox
let receiver: WebhookReceiver
let engine: Engine
const clock = manualClock("2026-11-23T09:00:00.000Z") // 12:00 in Istanbul
const control = (path: string, body: unknown = {}) => fetch(sandbox.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
const setTime = async (iso: string) => {
  clock.set(iso)
  await sandbox.kernel.setClock(new Date(iso))
}

beforeAll(async () => {
  receiver = await startWebhookReceiver(() => engine)
  sandbox = await startCraftgateSandbox({ webhookUrl: `${receiver.url}/webhooks/craftgate` })
  engine = createEngine({
    store: memoryStore(),
    providers: { craftgate: craftgate({ baseUrl: sandbox.url, ...CRAFTGATE_SANDBOX_DEFAULTS }) },
    clock,
    backgroundIntervalMs: 0,
  })
})
afterAll(async () => {
  await engine.close()
  await sandbox.close()
  await receiver.close()
})

const pay = async (at: string) => {
  await setTime(at)
  const p = await engine.payments.create({ provider: "craftgate", amount: 5000, currency: "TRY", card, items })
  expect(p).toMatchObject({ status: "captured", capturedAmount: 5000 })
  expect((p.details.transactions as unknown[]).length).toBe(2)
  return p
}
const txIds = (p: { details: Record<string, unknown> }) => (p.details.transactions as { id: string }[]).map((t) => t.id)

describe("Craftgate refunds through the engine", () => {
  it("a whole refund on the payment's day is a CANCEL with an id and no transaction refunds", async () => {
    const p = await pay("2026-11-23T09:00:00.000Z")
    await setTime("2026-11-23T20:59:00.000Z") // 23:59 in Istanbul
    const v = await engine.payments.refund({ paymentId: p.id })
    expect(v.status).toBe("refunded")
    expect(v.refunds[0]).toMatchObject({ kind: "cancel", status: "succeeded", amount: 5000, details: { refundType: "CANCEL", craftgateRefundId: expect.any(Number) } })
    await sandbox.kernel.settled()
    const ledger = (await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: { type: string; paymentId: string }[] }
    expect(ledger.movements.filter((m) => m.paymentId === p.providerRef).map((m) => m.type)).toEqual(["capture", "cancel"])
  })

  it("refuses any refund after a CANCEL", async () => {
    const p = await pay("2026-11-23T10:00:00.000Z")
    await engine.payments.refund({ paymentId: p.id })
    await expect(engine.payments.refund({ paymentId: p.id, amount: 100, paymentTransactionId: txIds(p)[0] })).rejects.toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE" })
  })

  it("a whole refund on the next Istanbul day (00:01) is a REFUND with one transaction refund per transaction", async () => {
    const p = await pay("2026-11-23T20:58:00.000Z") // 23:58 in Istanbul
    await setTime("2026-11-23T21:01:00.000Z") // 00:01 the next day in Istanbul
    const v = await engine.payments.refund({ paymentId: p.id })
    expect(v.status).toBe("refunded")
    expect(v.refunds[0]).toMatchObject({ kind: "refund", status: "succeeded", amount: 5000, details: { refundType: "REFUND" } })
    expect((v.refunds[0]!.details.transactionRefunds as unknown[]).length).toBe(2)
  })

  it("partial then full on the same day: the full one is a REFUND of what is left, never a CANCEL", async () => {
    const p = await pay("2026-11-23T08:00:00.000Z")
    const [book, pen] = txIds(p)
    let v = await engine.payments.refund({ paymentId: p.id, amount: 1000, paymentTransactionId: book })
    expect(v).toMatchObject({ state: "captured.partiallyRefunded", refundedAmount: 1000 })
    expect(v.refunds[0]).toMatchObject({ kind: "refund_tx", details: { transactionRefundId: expect.any(Number) } })
    v = await engine.payments.refund({ paymentId: p.id })
    expect(v.status).toBe("refunded")
    const last = v.refunds[1]!
    expect(last).toMatchObject({ kind: "refund", amount: 4000, details: { refundType: "REFUND" } })
    const parts = last.details.transactionRefunds as { paymentTransactionId: number; amount: number }[]
    expect(parts.map((t) => [String(t.paymentTransactionId), t.amount])).toEqual([
      [book, 2000],
      [pen, 2000],
    ])
  })

  it("caps each transaction at what it has left, and asks which transaction a partial amount is for", async () => {
    const p = await pay("2026-11-23T08:00:00.000Z")
    const [book] = txIds(p)
    await expect(engine.payments.refund({ paymentId: p.id, amount: 3001, paymentTransactionId: book })).rejects.toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE", details: { left: 3000 } })
    await engine.payments.refund({ paymentId: p.id, amount: 2500, paymentTransactionId: book })
    await expect(engine.payments.refund({ paymentId: p.id, amount: 600, paymentTransactionId: book })).rejects.toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE", details: { left: 500 } })
    await expect(engine.payments.refund({ paymentId: p.id, amount: 600 })).rejects.toMatchObject({ code: "INVALID_INPUT" })
    await expect(engine.payments.refund({ paymentId: p.id, amount: 1, paymentTransactionId: "999" })).rejects.toMatchObject({ code: "INVALID_INPUT" })
  })

  it("settles WAITING refunds both ways: success by signed webhook, failure by polling", async () => {
    const p = await pay("2026-11-23T08:00:00.000Z")
    const [book, pen] = txIds(p)
    await control("/_sandbox/refunds/next-status", { status: "WAITING" })
    let v = await engine.payments.refund({ paymentId: p.id, amount: 1000, paymentTransactionId: book })
    expect(v.refunds[0]).toMatchObject({ status: "pending", providerStatus: "WAITING" })
    expect(v.reservedAmount).toBe(1000)
    await control(`/_sandbox/refund-transactions/${v.refunds[0]!.details.transactionRefundId}/succeed`)
    await sandbox.kernel.settled()
    v = await engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", providerStatus: "SUCCESS" })

    await control("/_sandbox/refunds/next-status", { status: "WAITING" })
    v = await engine.payments.refund({ paymentId: p.id, amount: 2000, paymentTransactionId: pen })
    await control(`/_sandbox/refund-transactions/${v.refunds[1]!.details.transactionRefundId}/fail`)
    await sandbox.kernel.settled()
    expect((await engine.payments.get(p.id)).refunds[1]!.status).toBe("pending") // no webhook for failures
    clock.advance(60_000)
    expect(await engine.runDueTimers()).toBe(1)
    v = await engine.payments.get(p.id)
    expect(v.refunds[1]).toMatchObject({ status: "failed", providerStatus: "FAILURE" })
    expect(v.refundableAmount).toBe(4000)
  })

  it("refuses a webhook with a bad signature and writes nothing", async () => {
    const res = await fetch(`${receiver.url}/webhooks/craftgate`, { method: "POST", headers: { "x-cg-signature-v1": "AAAA" }, body: JSON.stringify({ eventType: "REFUND", eventTimestamp: 1, status: "SUCCESS", payloadId: 1 }) })
    expect(res.status).toBe(400)
  })
})
