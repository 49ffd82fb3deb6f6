/**
 * The Craftgate client against a recording HTTP server on 127.0.0.1: the four auth headers and the
 * SHA-256 signature over the decoded URL and the exact body, `{data}` / `{errors}` envelopes, exact
 * decimals, GETs retried on 5xx and timeouts, POSTs never re-sent.
 */
import { createHash } from "node:crypto"
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { craftgate, craftgateWebhookSignature, make, signCraftgateRequest, type CraftgateConfig } from "../../adapters/providers/craftgate/index.js"
import type { MachineContext } from "../../machines/lifecycle/index.js"
import type { PaystateError } from "../../src/errors.js"
import type { OutboxEffect } from "../../src/provider.js"

interface Seen {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}
type Reply = { status: number; body?: unknown; raw?: string; hang?: boolean }

let server: Server
let base = ""
const seen: Seen[] = []
let replies: Reply[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
      const r = replies.shift() ?? { status: 200, body: { data: {} } }
      if (r.hang) return
      res.writeHead(r.status, { "content-type": "application/json" }).end(r.raw ?? JSON.stringify(r.body))
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((r) => server.close(() => r()))
})
beforeEach(() => {
  seen.length = 0
  replies = []
})

const config = (extra: Partial<CraftgateConfig> = {}): CraftgateConfig => ({ baseUrl: `${base}/`, apiKey: "api-key", secretKey: "secret-key", backoffMs: 5, timeoutMs: 500, ...extra })
const run = <A>(e: Effect.Effect<A, PaystateError>) => Effect.runPromise(e)
const fail = <A>(e: Effect.Effect<A, PaystateError>) => Effect.runPromise(Effect.flip(e))
const sha = (s: string) => createHash("sha256").update(s).digest("base64")
const refundData = { id: 5001, conversationId: "c-1", createdDate: "2026-11-23T23:59:00", status: "SUCCESS", refundPrice: 20.5, refundType: "CANCEL", currency: "TRY", paymentId: 42, paymentTransactionRefunds: [] }
const txRefundData = { id: 7001, conversationId: "c-2", status: "WAITING", refundPrice: "0.1", currency: "TRY", paymentTransactionId: 11, paymentId: 42 }

describe("Craftgate client", () => {
  it("signs a POST: x-api-key, x-rnd-key, x-auth-version 1, x-signature = base64 SHA-256(url + apiKey + secretKey + rnd + body)", async () => {
    replies = [{ status: 200, body: { data: refundData } }]
    const r = await run(make(config()).refundPayment({ paymentId: 42, conversationId: "c-1", refundDestinationType: "WALLET" }))
    expect(r).toMatchObject({ id: 5001, refundType: "CANCEL", paymentTransactionRefunds: [] })
    const [call] = seen
    expect(call).toMatchObject({ method: "POST", url: "/payment/v1/refunds" })
    // Canonical JSON (sorted keys): a body rebuilt from a stored payload is byte for byte the same.
    expect(call!.body).toBe('{"conversationId":"c-1","paymentId":42,"refundDestinationType":"WALLET"}')
    const h = call!.headers
    expect(h["x-api-key"]).toBe("api-key")
    expect(h["x-auth-version"]).toBe("1")
    expect(h["content-type"]).toBe("application/json")
    expect(h["x-rnd-key"]).toMatch(/^\S{8,}$/)
    expect(h["x-signature"]).toBe(sha(`${base}/payment/v1/refunds` + "api-key" + "secret-key" + h["x-rnd-key"] + call!.body))
  })

  it("signs a GET over the URL-decoded full URL with its query, and no body", async () => {
    replies = [{ status: 200, body: { data: { page: 0, size: 1, totalSize: 1, items: [txRefundData] } } }]
    const found = await run(make(config()).searchTransactionRefunds({ conversationId: "ps-pay_x-rf 1/ü", paymentId: 42 }))
    expect(found[0]).toMatchObject({ id: 7001, status: "WAITING" })
    const [call] = seen
    // The reporting API's search, with the query encoded as the official node client does (%20, not +).
    expect(call!.url).toBe("/payment-reporting/v1/refund-transactions?conversationId=ps-pay_x-rf%201%2F%C3%BC&paymentId=42&page=0&size=100")
    expect(call!.body).toBe("")
    const decoded = decodeURIComponent(base + call!.url)
    expect(call!.headers["x-signature"]).toBe(sha(decoded + "api-key" + "secret-key" + call!.headers["x-rnd-key"]))
    expect(call!.headers["x-signature"]).toBe(signCraftgateRequest(base + call!.url, "api-key", "secret-key", String(call!.headers["x-rnd-key"]), ""))
  })

  it("turns {errors} into a definite PROVIDER_REJECTED with Craftgate's code, group and a reason", async () => {
    replies = [{ status: 422, body: { errors: { errorCode: "10051", errorDescription: "Kart limiti yetersiz", errorGroup: "NOT_SUFFICIENT_FUNDS" } } }]
    const e = await fail(make(config()).refundTransaction({ paymentTransactionId: 11, refundPrice: 1 }))
    expect(e).toMatchObject({ code: "PROVIDER_REJECTED", details: { status: 422, code: "10051", group: "NOT_SUFFICIENT_FUNDS", reason: "payment", description: "Kart limiti yetersiz" } })
    replies = [{ status: 404, body: { errors: { errorCode: 9001, errorDescription: "not found" } } }]
    expect(await fail(make(config()).retrieveRefund(1))).toMatchObject({ code: "PROVIDER_REJECTED", details: { code: "9001", reason: "not_found" } })
    replies = [{ status: 401, body: { errors: { errorCode: "2", errorDescription: "bad signature" } } }]
    expect(await fail(make(config()).retrieveRefund(1))).toMatchObject({ details: { reason: "authentication" } })
    expect(seen).toHaveLength(3)
  })

  it("retries a GET on 5xx and on a timeout, with the same signed request", async () => {
    replies = [{ status: 503, body: {} }, { status: 0, hang: true }, { status: 200, body: { data: refundData } }]
    const r = await run(make(config({ timeoutMs: 200, retries: 2 })).retrieveRefund(5001))
    expect(r.id).toBe(5001)
    expect(seen).toHaveLength(3)
    expect(new Set(seen.map((s) => s.headers["x-signature"])).size).toBe(1)
  })

  it("never re-sends a POST: a 5xx or a timeout is an unknown outcome (PROVIDER_UNAVAILABLE)", async () => {
    replies = [{ status: 500, body: {} }]
    expect(await fail(make(config({ retries: 5 })).refundPayment({ paymentId: 42 }))).toMatchObject({ code: "PROVIDER_UNAVAILABLE", retryable: true })
    expect(seen).toHaveLength(1)
    replies = [{ status: 0, hang: true }]
    expect(await fail(make(config({ retries: 5, timeoutMs: 150 })).refundTransaction({ paymentTransactionId: 1 }))).toMatchObject({ code: "PROVIDER_UNAVAILABLE" })
    expect(seen).toHaveLength(2)
  })

  it("reads a 2xx it cannot parse as an unknown outcome, not as success", async () => {
    replies = [{ status: 200, body: { data: { id: "x" } } }, { status: 200, raw: "<html>" }]
    expect(await fail(make(config()).refundPayment({ paymentId: 42 }))).toMatchObject({ code: "PROVIDER_UNAVAILABLE" })
    expect(await fail(make(config()).retrieveRefund(1))).toMatchObject({ code: "PROVIDER_UNAVAILABLE" })
  })

  it("the adapter sends amounts as exact decimals and reads them back in minor units", async () => {
    const adapter = craftgate({ ...config(), webhookKey: "k" })
    const ctx = {
      id: "pay_AAAAAAAAAAAAAAAAAAAAAA",
      currency: "TRY",
      amount: 1234567,
      providerRef: null,
      externalOrderNum: "order-9",
      refunds: [],
      request: { price: 1234500, installment: 3, paymentGroup: "PRODUCT", paymentPhase: "AUTH", card: { cardUserKey: "u", cardToken: "t" }, items: [{ name: "a", price: 1234490 }, { price: 10 }] },
    } as unknown as MachineContext
    replies = [
      {
        status: 200,
        body: {
          data: {
            id: 42, createdDate: "2026-11-23T12:00:00", price: 12345, paidPrice: "12345.67", currency: "TRY", paymentStatus: "SUCCESS", paymentPhase: "AUTH",
            paymentTransactions: [{ id: 11, name: "a", price: 12344.9, paidPrice: 12345.57 }, { id: 12, price: 0.1, paidPrice: 0.1 }],
          },
        },
      },
    ]
    const effect: OutboxEffect = { id: "x/create", paymentId: ctx.id, provider: "craftgate", opId: "create", op: "create", payload: {}, idempotencyKey: "k", attempt: 1, createdAt: "", at: "" }
    const events = await run(adapter.execute(effect, ctx))
    expect(seen[0]!.body).toBe(
      '{"card":{"cardToken":"t","cardUserKey":"u"},"conversationId":"pay_AAAAAAAAAAAAAAAAAAAAAA","currency":"TRY","externalId":"order-9","installment":3,"items":[{"name":"a","price":12344.9},{"price":0.1}],"paidPrice":12345.67,"paymentGroup":"PRODUCT","paymentPhase":"AUTH","price":12345,"walletPrice":0}',
    )
    expect(events[0]).toMatchObject({
      type: "OP.SUCCEEDED",
      payment: { status: "captured", providerRef: "42", capturedAmount: 1234567, details: { paidAt: "2026-11-23T09:00:00.000Z", transactions: [{ id: "11", paidPrice: 1234557 }, { id: "12", paidPrice: 10 }] } },
    })
  })

  it("reads every page of a reporting search (page 0 first, until totalSize), each id once", async () => {
    const tx = (id: number) => ({ ...txRefundData, id, currency: undefined, paymentId: undefined })
    replies = [
      { status: 200, body: { data: { page: 0, size: 2, totalSize: 3, items: [tx(1), tx(2)] } } },
      // A record moved onto the next page while reading: counted once.
      { status: 200, body: { data: { page: 1, size: 2, totalSize: 3, items: [tx(2), tx(3)] } } },
    ]
    const found = await run(make(config({ pageSize: 2 })).searchTransactionRefunds({ paymentId: 42 }))
    expect(found.map((t) => t.id)).toEqual([1, 2, 3])
    expect(seen.map((s) => s.url)).toEqual(["/payment-reporting/v1/refund-transactions?paymentId=42&page=0&size=2", "/payment-reporting/v1/refund-transactions?paymentId=42&page=1&size=2"])
    // An empty page ends it even if totalSize promised more.
    seen.length = 0
    replies = [{ status: 200, body: { data: { page: 0, size: 2, totalSize: 5, items: [tx(9)] } } }, { status: 200, body: { data: { page: 1, size: 2, totalSize: 5, items: [] } } }]
    expect((await run(make(config({ pageSize: 2 })).searchRefunds({ conversationId: "c" }))).length).toBe(1)
    expect(seen.map((s) => s.url)).toEqual(["/payment-reporting/v1/refunds?conversationId=c&page=0&size=2", "/payment-reporting/v1/refunds?conversationId=c&page=1&size=2"])
  })

  it("calls the official clients' paths: payment API retrieves, reporting listings", async () => {
    const c = make(config())
    replies = [
      { status: 200, body: { data: refundData } },
      { status: 200, body: { data: txRefundData } },
      { status: 200, body: { data: { items: [], page: 0, size: 0, totalSize: 0 } } },
      { status: 200, body: { data: { items: [], page: 0, size: 0, totalSize: 0 } } },
      { status: 200, body: { data: { items: [], page: 0, size: 0, totalSize: 0 } } },
    ]
    await run(c.retrieveRefund(5001))
    await run(c.retrieveTransactionRefund(7001))
    await run(c.retrievePaymentRefunds(42))
    await run(c.retrievePaymentTransactionRefunds(42, 11))
    await run(c.searchPayments({ conversationId: "pay_x" }))
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "GET /payment/v1/refunds/5001",
      "GET /payment/v1/refund-transactions/7001",
      "GET /payment-reporting/v1/payments/42/refunds",
      "GET /payment-reporting/v1/payments/42/transactions/11/refunds",
      "GET /payment-reporting/v1/payments?conversationId=pay_x&page=0&size=100",
    ])
  })

  it("verifies the official client's webhook sample (HMAC-SHA256, base64)", () => {
    expect(craftgateWebhookSignature("Aoh7tReTybO6wOjBmOJFFsOR53SBojEp", { eventType: "API_VERIFY_AND_AUTH", eventTimestamp: 1661521221, status: "SUCCESS", payloadId: "584" })).toBe(
      "0wRB5XqWJxwwPbn5Z9TcbHh8EGYFufSYTsRMB74N094=",
    )
  })
})
