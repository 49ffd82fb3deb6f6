/**
 * The Craftgate sandbox over HTTP, as any Craftgate client would see it: signature checks, seed 003's
 * CANCEL / REFUND answers decided by the sandbox's own clock, per-transaction ceilings, WAITING refunds
 * settled by control calls, signed webhooks on success only, searches by conversationId, and the
 * common faults, clock and ledger.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { craftgateHeaders, craftgateWebhookSignature, startCraftgateSandbox, type RunningCraftgateSandbox } from "../../adapters/providers/craftgate/index.js"
import { card, declinedCard, istanbul, type Movement } from "./helpers.js"

let sandbox: RunningCraftgateSandbox
let hooks: Server
const received: { headers: IncomingHttpHeaders; body: any }[] = []

beforeAll(async () => {
  hooks = createServer((req, res) => {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(body) })
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", () => r()))
  sandbox = await startCraftgateSandbox({ webhookUrl: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks` })
})
afterAll(async () => {
  await sandbox.close()
  hooks.closeAllConnections()
  await new Promise<void>((r) => hooks.close(() => r()))
})
beforeEach(async () => {
  await control("/_sandbox/reset")
  await sandbox.kernel.settled()
  received.length = 0
  await control("/_sandbox/clock", { now: istanbul("2026-11-23T10:00") })
})

const control = async (path: string, body: unknown = {}) => {
  const res = await fetch(sandbox.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any }
}
const api = async (method: "GET" | "POST", path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const url = sandbox.url + path
  const text = body === undefined ? "" : JSON.stringify(body)
  const res = await fetch(url, { method, headers: { ...craftgateHeaders(url, text, sandbox.credentials), ...headers }, ...(body === undefined ? {} : { body: text }) })
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any }
}
const ledger = async () => ((await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: Movement[] }).movements
const createPayment = async (extra: Record<string, unknown> = {}) => {
  const r = await api("POST", "/payment/v1/card-payments", {
    price: 50, paidPrice: 50, walletPrice: 0, installment: 1, currency: "TRY", conversationId: "order-1", card,
    items: [{ name: "Book", price: 30, externalId: "b" }, { name: "Pen", price: 20 }],
    ...extra,
  })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body.data as { id: number; paymentTransactions: { id: number; paidPrice: number }[]; [k: string]: any }
}

describe("Craftgate sandbox: authentication", () => {
  it("accepts x-auth-version 1 and v1 and checks the signature on every call", async () => {
    const p = await createPayment()
    expect((await api("GET", `/payment/v1/card-payments/${p.id}`, undefined, { "x-auth-version": "v1" })).status).toBe(200)
    expect((await api("GET", `/payment/v1/card-payments/${p.id}`)).status).toBe(200)
    expect(await api("GET", `/payment/v1/card-payments/${p.id}`, undefined, { "x-auth-version": "2" })).toMatchObject({ status: 401, body: { errors: { errorCode: "1" } } })
    expect(await api("GET", `/payment/v1/card-payments/${p.id}`, undefined, { "x-api-key": "someone-else" })).toMatchObject({ status: 401, body: { errors: { errorCode: "1" } } })
    expect(await api("GET", `/payment/v1/card-payments/${p.id}`, undefined, { "x-signature": "AAAA" })).toMatchObject({ status: 401, body: { errors: { errorCode: "2" } } })
    const url = `${sandbox.url}/payment/v1/refunds`
    const signed = craftgateHeaders(url, '{"paymentId":1}', sandbox.credentials)
    const tampered = await fetch(url, { method: "POST", headers: signed, body: '{"paymentId":2}' })
    expect(tampered.status).toBe(401)
    const bare = await fetch(`${sandbox.url}/payment/v1/card-payments/${p.id}`)
    expect(bare.status).toBe(401)
    expect(await bare.json()).toMatchObject({ errors: { errorCode: "1", errorDescription: expect.stringContaining("x-signature") } })
  })
})

describe("Craftgate sandbox: payments", () => {
  it("creates a card payment of payment transactions whose paid prices add up to the paid price", async () => {
    const p = await createPayment({ price: 50, paidPrice: 51.03 })
    expect(p).toMatchObject({ price: 50, paidPrice: 51.03, currency: "TRY", paymentStatus: "SUCCESS", paymentPhase: "AUTH", conversationId: "order-1", createdDate: "2026-11-23T10:00:00", lastFourDigits: "0001", binNumber: "525864" })
    // PaymentResponse has no refund status and no refundable price: those are the reporting API's.
    expect(p).not.toHaveProperty("refundStatus")
    expect(p.paymentTransactions.map((t) => t.paidPrice)).toEqual([30.61, 20.42])
    const report = (await api("GET", `/payment-reporting/v1/payments/${p.id}`)).body.data
    expect(report).toMatchObject({ id: p.id, refundStatus: "NO_REFUND", refundablePrice: 51.03, refunds: [] })
    expect(report.paymentTransactions.map((t: any) => [t.paidPrice, t.refundablePrice])).toEqual([[30.61, 30.61], [20.42, 20.42]])
    expect((await ledger()).map((m) => [m.type, m.amount, m.cause])).toEqual([["capture", 5103, "order-1"]])
  })

  it("validates bodies in Craftgate's error shape", async () => {
    expect(await api("POST", "/payment/v1/card-payments", { price: 50, paidPrice: 50, currency: "TRY", card, items: [{ price: 40 }] })).toMatchObject({ status: 400, body: { errors: { errorCode: "7" } } })
    expect(await api("POST", "/payment/v1/card-payments", { price: 50, paidPrice: 49, currency: "TRY", card, items: [{ price: 50 }] })).toMatchObject({ status: 400, body: { errors: { errorCode: "8" } } })
    expect(await api("POST", "/payment/v1/card-payments", { price: 50.001, paidPrice: 50, currency: "TRY", card, items: [{ price: 50 }] })).toMatchObject({ status: 400, body: { errors: { errorCode: "6" } } })
    expect(await api("POST", "/payment/v1/card-payments", { price: 50, paidPrice: 50, currency: "XXX", card, items: [{ price: 50 }] })).toMatchObject({ status: 400 })
    expect(await api("POST", "/payment/v1/refunds", { paymentId: "abc" })).toMatchObject({ status: 400, body: { errors: { errorCode: "6" } } })
    expect(await api("GET", "/payment/v1/card-payments/999999")).toMatchObject({ status: 404, body: { errors: { errorCode: "9001" } } })
    expect(await api("GET", "/payment/v1/nothing")).toMatchObject({ status: 404, body: { errors: { errorCode: "9000" } } })
  })

  it("refuses a declined card with 10051 NOT_SUFFICIENT_FUNDS and keeps the FAILURE payment findable", async () => {
    const r = await api("POST", "/payment/v1/card-payments", { price: 50, paidPrice: 50, currency: "TRY", conversationId: "order-x", card: declinedCard, items: [{ price: 50 }] })
    expect(r).toMatchObject({ status: 422, body: { errors: { errorCode: "10051", errorGroup: "NOT_SUFFICIENT_FUNDS" } } })
    const found = await api("GET", "/payment-reporting/v1/payments?conversationId=order-x")
    expect(found.body.data.items).toMatchObject([{ paymentStatus: "FAILURE", conversationId: "order-x" }])
    expect(await ledger()).toEqual([])
  })

  it("post-authorizes a PRE_AUTH payment up to its amount, spreading a lower paid price over the items", async () => {
    const p = await createPayment({ paymentPhase: "PRE_AUTH" })
    expect(p.paymentPhase).toBe("PRE_AUTH")
    expect(await ledger()).toEqual([])
    expect(await api("POST", `/payment/v1/card-payments/${p.id}/post-auth`, { paidPrice: 60 })).toMatchObject({ status: 422, body: { errors: { errorCode: "9009" } } })
    const r = await api("POST", `/payment/v1/card-payments/${p.id}/post-auth`, { paidPrice: 40.01 })
    expect(r.body.data).toMatchObject({ paymentPhase: "POST_AUTH", paidPrice: 40.01 })
    expect(r.body.data.paymentTransactions.map((t: any) => t.paidPrice)).toEqual([24, 16.01])
    expect((await ledger()).map((m) => [m.type, m.amount])).toEqual([["capture", 4001]])
    expect(await api("POST", `/payment/v1/card-payments/${p.id}/post-auth`, {})).toMatchObject({ status: 422, body: { errors: { errorCode: "9007" } } })
    const auth = await createPayment()
    expect(await api("POST", `/payment/v1/card-payments/${auth.id}/post-auth`, {})).toMatchObject({ status: 422, body: { errors: { errorCode: "9007" } } })
  })

  it("voids a pre-authorization through the refund endpoint: a CANCEL, whatever the day", async () => {
    const p = await createPayment({ paymentPhase: "PRE_AUTH" })
    await control("/_sandbox/clock", { now: istanbul("2026-11-25T10:00") })
    const r = await api("POST", "/payment/v1/refunds", { paymentId: p.id, conversationId: "void-1" })
    expect(r.body.data).toMatchObject({ refundType: "CANCEL", status: "SUCCESS", id: expect.any(Number) })
    expect((await api("GET", `/payment-reporting/v1/payments/${p.id}`)).body.data).toMatchObject({ paymentPhase: "PRE_AUTH", refundStatus: "FULLY_REFUNDED", refunds: [{ id: r.body.data.id, status: "SUCCESS" }] })
    expect((await ledger()).map((m) => m.type)).toEqual(["void"])
  })
})

describe("Craftgate sandbox: CANCEL against REFUND (seed 003)", () => {
  it("a whole refund on the payment's day, by the sandbox clock, is a CANCEL: an id, no transaction refunds", async () => {
    const p = await createPayment()
    await control("/_sandbox/clock", { now: istanbul("2026-11-23T23:59") })
    const r = await api("POST", "/payment/v1/refunds", { paymentId: p.id, conversationId: "cg-1" })
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ id: expect.any(Number), refundType: "CANCEL", status: "SUCCESS", refundPrice: 50, refundBankPrice: 50, refundWalletPrice: 0, paymentId: p.id, conversationId: "cg-1", refundDestinationType: "PROVIDER", paymentTransactionRefunds: [] })
    expect((await api("GET", `/payment/v1/refunds/${r.body.data.id}`)).body.data).toEqual(r.body.data)
    expect((await api("GET", `/payment-reporting/v1/payments/${p.id}`)).body.data).toMatchObject({ refundStatus: "FULLY_REFUNDED", refundablePrice: 0 })
    expect((await ledger()).filter((m) => m.type !== "capture")).toMatchObject([{ type: "cancel", amount: 5000, cause: "cg-1" }])
    // Nothing is left after a CANCEL.
    expect(await api("POST", "/payment/v1/refunds", { paymentId: p.id })).toMatchObject({ status: 422, body: { errors: { errorCode: "9002" } } })
    expect(await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: p.paymentTransactions[0]!.id, refundPrice: 1 })).toMatchObject({ status: 422, body: { errors: { errorCode: "9002" } } })
  })

  it("on the next Istanbul day (00:01) it is a REFUND: no id, one transaction refund per transaction", async () => {
    const p = await createPayment()
    await control("/_sandbox/clock", { now: istanbul("2026-11-24T00:01") })
    const r = (await api("POST", "/payment/v1/refunds", { paymentId: p.id, conversationId: "cg-2", refundDestinationType: "WALLET", chargeFromMe: true })).body.data
    expect(r).toMatchObject({ id: null, refundType: "REFUND", status: "SUCCESS", refundPrice: 50, refundWalletPrice: 50, refundBankPrice: 0, refundDestinationType: "WALLET" })
    expect(r.paymentTransactionRefunds.map((t: any) => [t.paymentTransactionId, t.refundPrice, t.status, t.conversationId])).toEqual([
      [p.paymentTransactions[0]!.id, 30, "SUCCESS", "cg-2"],
      [p.paymentTransactions[1]!.id, 20, "SUCCESS", "cg-2"],
    ])
    expect((await ledger()).filter((m) => m.type === "refund").map((m) => [m.paymentTransactionId, m.amount, m.destination, m.chargeFromMe])).toEqual([
      [p.paymentTransactions[0]!.id, 3000, "WALLET", true],
      [p.paymentTransactions[1]!.id, 2000, "WALLET", true],
    ])
    expect(await api("POST", "/payment/v1/refunds", { paymentId: p.id })).toMatchObject({ status: 422, body: { errors: { errorCode: "9003" } } })
  })

  it("after a partial refund, a whole refund the same day is a REFUND of what is left", async () => {
    const p = await createPayment()
    const [book, pen] = p.paymentTransactions
    const part = await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: book!.id, refundPrice: 10.5, conversationId: "part-1" })
    expect(part.body.data).toMatchObject({ status: "SUCCESS", refundPrice: 10.5, paymentTransactionId: book!.id, paymentId: p.id, isAfterSettlement: false })
    const r = (await api("POST", "/payment/v1/refunds", { paymentId: p.id })).body.data
    expect(r).toMatchObject({ refundType: "REFUND", id: null, refundPrice: 39.5 })
    expect(r.paymentTransactionRefunds.map((t: any) => [t.paymentTransactionId, t.refundPrice])).toEqual([[book!.id, 19.5], [pen!.id, 20]])
  })

  it("a refused (FAILURE) partial refund does not count as an earlier one", async () => {
    const p = await createPayment()
    await control("/_sandbox/refunds/next-status", { status: "FAILURE" })
    expect((await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: p.paymentTransactions[0]!.id, refundPrice: 1 })).body.data.status).toBe("FAILURE")
    expect((await api("POST", "/payment/v1/refunds", { paymentId: p.id })).body.data.refundType).toBe("CANCEL")
  })

  it("judges the day in the configured zone with the configured cut-off", async () => {
    const late = await startCraftgateSandbox({ cutoff: "23:00" })
    try {
      await late.kernel.setClock(new Date(istanbul("2026-11-23T23:30")))
      const call = async (method: "GET" | "POST", path: string, body?: unknown) => {
        const url = late.url + path
        const text = body === undefined ? "" : JSON.stringify(body)
        return (await (await fetch(url, { method, headers: craftgateHeaders(url, text, late.credentials), ...(body === undefined ? {} : { body: text }) })).json()) as any
      }
      const p = (await call("POST", "/payment/v1/card-payments", { price: 10, paidPrice: 10, currency: "TRY", card, items: [{ price: 10 }] })).data
      await late.kernel.setClock(new Date(istanbul("2026-11-24T22:59")))
      expect((await call("POST", "/payment/v1/refunds", { paymentId: p.id })).data.refundType).toBe("CANCEL")
    } finally {
      await late.close()
    }
  })
})

describe("Craftgate sandbox: per-transaction refunds", () => {
  it("caps each transaction at its paid price less what was refunded, WAITING refunds included", async () => {
    const p = await createPayment()
    const book = p.paymentTransactions[0]!.id
    expect(await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: book, refundPrice: 30.01 })).toMatchObject({ status: 422, body: { errors: { errorCode: "9005" } } })
    await control("/_sandbox/refunds/next-status", { status: "WAITING" })
    expect((await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: book, refundPrice: 25 })).body.data.status).toBe("WAITING")
    expect(await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: book, refundPrice: 5.01 })).toMatchObject({ status: 422, body: { errors: { errorCode: "9005" } } })
    const rest = (await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: book })).body.data
    expect(rest).toMatchObject({ refundPrice: 5, status: "SUCCESS" })
    expect(await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: book, refundPrice: 0.001 })).toMatchObject({ status: 400 })
    expect(await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: 424242 })).toMatchObject({ status: 404, body: { errors: { errorCode: "9004" } } })
    expect(await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: book, refundDestinationType: "BANK" })).toMatchObject({ status: 400 })
  })

  it("settles WAITING refunds by control calls: success moves money and sends a signed REFUND_TX, failure sends nothing", async () => {
    const p = await createPayment()
    await sandbox.kernel.settled()
    received.length = 0
    await control("/_sandbox/refunds/next-status", { status: "WAITING", count: 2 })
    const a = (await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: p.paymentTransactions[0]!.id, refundPrice: 10, conversationId: "w-1" })).body.data
    const b = (await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: p.paymentTransactions[1]!.id, refundPrice: 10, conversationId: "w-2" })).body.data
    expect([a.status, b.status]).toEqual(["WAITING", "WAITING"])
    expect((await control(`/_sandbox/refund-transactions/${a.id}/succeed`)).body.data).toMatchObject({ id: a.id, status: "SUCCESS" })
    expect((await control(`/_sandbox/refund-transactions/${b.id}/fail`)).body.data).toMatchObject({ id: b.id, status: "FAILURE" })
    expect(await control(`/_sandbox/refund-transactions/${b.id}/succeed`)).toMatchObject({ status: 409 })
    await sandbox.kernel.settled()
    expect(received.map((h) => h.body)).toMatchObject([{ eventType: "REFUND_TX", status: "SUCCESS", payloadId: String(a.id), eventTimestamp: expect.any(Number) }])
    const h = received[0]!
    expect(h.headers["x-cg-signature-v1"]).toBe(craftgateWebhookSignature(sandbox.credentials.webhookKey, h.body))
    expect((await ledger()).filter((m) => m.type === "refund").map((m) => [m.amount, m.cause])).toEqual([[1000, "sandbox control"]])
    expect((await api("GET", `/payment/v1/refund-transactions/${b.id}`)).body.data.status).toBe("FAILURE")
  })

  it("settles a WAITING CANCEL by control call and sends REFUND on success only", async () => {
    const p = await createPayment()
    await control("/_sandbox/refunds/next-status", { status: "WAITING" })
    const c = (await api("POST", "/payment/v1/refunds", { paymentId: p.id })).body.data
    expect(c).toMatchObject({ refundType: "CANCEL", status: "WAITING" })
    expect(await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: p.paymentTransactions[0]!.id })).toMatchObject({ status: 422 })
    await sandbox.kernel.settled()
    received.length = 0
    await control(`/_sandbox/refunds/${c.id}/fail`)
    await sandbox.kernel.settled()
    expect(received).toEqual([])
    // A failed CANCEL gives the payment back: the next whole refund is a CANCEL again.
    const again = (await api("POST", "/payment/v1/refunds", { paymentId: p.id })).body.data
    expect(again).toMatchObject({ refundType: "CANCEL", status: "SUCCESS" })
    await sandbox.kernel.settled()
    expect(received.map((h) => [h.body.eventType, h.body.payloadId])).toEqual([["REFUND", String(again.id)]])
  })
})

describe("Craftgate sandbox: searches, faults, ledger, reset", () => {
  it("serves the reporting API's searches and listings in its shapes, and no invented search paths", async () => {
    const p = await createPayment()
    await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: p.paymentTransactions[0]!.id, refundPrice: 1, conversationId: "find-me" })
    await control("/_sandbox/clock", { now: istanbul("2026-11-24T09:00") })
    await api("POST", "/payment/v1/refunds", { paymentId: p.id, conversationId: "whole" })
    const found = (await api("GET", "/payment-reporting/v1/refund-transactions?conversationId=find-me")).body.data
    expect(found).toMatchObject({ page: 0, totalSize: 1, items: [{ refundPrice: 1, conversationId: "find-me", paymentTransactionId: p.paymentTransactions[0]!.id, paymentType: "CARD_PAYMENT", error: null }] })
    // ReportingPaymentTransactionRefundResponse has no currency and no paymentId.
    expect(found.items[0]).not.toHaveProperty("currency")
    expect(found.items[0]).not.toHaveProperty("paymentId")
    expect((await api("GET", "/payment-reporting/v1/refund-transactions?conversationId=whole")).body.data.items).toHaveLength(2)
    expect((await api("GET", `/payment-reporting/v1/refund-transactions?paymentId=${p.id}`)).body.data).toMatchObject({ size: 10, totalSize: 3 })
    // Pages: page 0 first, newest first, totalSize counts all.
    const p0 = (await api("GET", `/payment-reporting/v1/refund-transactions?paymentId=${p.id}&page=0&size=2`)).body.data
    const p1 = (await api("GET", `/payment-reporting/v1/refund-transactions?paymentId=${p.id}&page=1&size=2`)).body.data
    expect([p0.items.length, p1.items.length, p0.totalSize, p1.page]).toEqual([2, 1, 3, 1])
    expect(new Set([...p0.items, ...p1.items].map((t: any) => t.id)).size).toBe(3)
    expect(await api("GET", `/payment-reporting/v1/refund-transactions?paymentId=${p.id}&size=x`)).toMatchObject({ status: 400, body: { errors: { errorCode: "6" } } })
    // A REFUND has no id (seed 003): the reporting refunds are the ones with an id, none here.
    expect((await api("GET", "/payment-reporting/v1/refunds?conversationId=whole")).body.data.items).toEqual([])
    expect((await api("GET", `/payment-reporting/v1/payments/${p.id}/refunds`)).body.data.items).toEqual([])
    const perTx = (await api("GET", `/payment-reporting/v1/payments/${p.id}/transactions/${p.paymentTransactions[0]!.id}/refunds`)).body.data.items
    expect(perTx.map((t: any) => t.refundPrice).sort()).toEqual([1, 29])
    expect((await api("GET", `/payment-reporting/v1/payments/${p.id}/transactions`)).body.data.items.map((t: any) => t.refundablePrice)).toEqual([0, 0])
    expect((await api("GET", `/payment-reporting/v1/payments/${p.id}/transactions/424242/refunds`)).status).toBe(404)
    // The searches under /payment/v1 are not Craftgate's: 404 like any unknown path.
    expect(await api("GET", "/payment/v1/refund-transactions?conversationId=find-me")).toMatchObject({ status: 404, body: { errors: { errorCode: "9000" } } })
    expect(await api("GET", "/payment/v1/refunds?conversationId=whole")).toMatchObject({ status: 404, body: { errors: { errorCode: "9000" } } })
  })

  it("lists a CANCEL in the reporting API by its id, without refundType or currency", async () => {
    const p = await createPayment()
    const c = (await api("POST", "/payment/v1/refunds", { paymentId: p.id, conversationId: "cx" })).body.data
    const items = (await api("GET", "/payment-reporting/v1/refunds?conversationId=cx")).body.data.items
    expect(items).toMatchObject([{ id: c.id, status: "SUCCESS", refundPrice: 50, paymentId: p.id, conversationId: "cx", paymentType: "CARD_PAYMENT" }])
    expect(items[0]).not.toHaveProperty("refundType")
    expect(items[0]).not.toHaveProperty("currency")
    expect((await api("GET", `/payment-reporting/v1/payments/${p.id}/refunds`)).body.data.items.map((r: any) => r.id)).toEqual([c.id])
    expect((await api("GET", `/payment-reporting/v1/refunds?paymentId=${p.id}&status=FAILURE`)).body.data.items).toEqual([])
  })

  it("stores a card after a successful payment and takes it back by cardUserKey and cardToken", async () => {
    const p = await createPayment({ card: { ...card, storeCardAfterSuccessPayment: true } })
    expect(p).toMatchObject({ cardUserKey: expect.any(String), cardToken: expect.any(String), paidWithStoredCard: false })
    const again = await createPayment({ conversationId: "order-2", card: { cardUserKey: p.cardUserKey, cardToken: p.cardToken } })
    expect(again).toMatchObject({ paidWithStoredCard: true, lastFourDigits: "0001", binNumber: "525864" })
    expect(await api("POST", "/payment/v1/card-payments", { price: 50, paidPrice: 50, currency: "TRY", card: { cardUserKey: p.cardUserKey, cardToken: "nope" }, items: [{ price: 50 }] })).toMatchObject({
      status: 422,
      body: { errors: { errorCode: "9011" } },
    })
  })

  it("drop_response performs the refund and closes the connection; the ledger names the conversationId", async () => {
    const p = await createPayment()
    await control("/_sandbox/faults", { path: "/payment/v1/refunds", method: "POST", mode: "drop_response", count: 1 })
    await expect(api("POST", "/payment/v1/refunds", { paymentId: p.id, conversationId: "lost-1" })).rejects.toThrow()
    expect((await api("GET", "/payment-reporting/v1/refunds?conversationId=lost-1")).body.data.items).toMatchObject([{ status: "SUCCESS", refundPrice: 50 }])
    expect((await ledger()).filter((m) => m.type === "cancel")).toMatchObject([{ amount: 5000, cause: "lost-1" }])
    await control("/_sandbox/faults", { path: "/payment/v1/refund-transactions", method: "POST", mode: "error500", count: 1 })
    expect((await api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: 1 })).status).toBe(500)
  })

  it("forgets everything on reset", async () => {
    const p = await createPayment()
    await control("/_sandbox/reset")
    expect(await ledger()).toEqual([])
    expect((await api("GET", `/payment/v1/card-payments/${p.id}`)).status).toBe(404)
  })
})
