/**
 * The OneKey client against a recording HTTP server on 127.0.0.1: the exact headers and signature,
 * one idempotency key per logical call kept across retries, OneKey's error codes as typed errors,
 * refund ids as numbers or strings, and amounts converted exactly.
 */
import { createHmac } from "node:crypto"
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { make, onekey, ONEKEY_ERRORS, type OnekeyConfig } from "../../adapters/providers/onekey/index.js"
import type { PaystateError } from "../../src/errors.js"
import { bank_account } from "./helpers.js"

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
      const r = replies.shift() ?? { status: 200, body: {} }
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

const config = (extra: Partial<OnekeyConfig> = {}): OnekeyConfig => ({ baseUrl: `${base}/`, login: "my-login", secretKey: "my-secret", readOnlyKey: "ro-key", backoffMs: 5, ...extra })
const run = <A>(e: Effect.Effect<A, PaystateError>) => Effect.runPromise(e)
const fail = <A>(e: Effect.Effect<A, PaystateError>) => Effect.runPromise(Effect.flip(e))
const hmac = (date: string, login: string, body: string) => createHmac("sha256", "my-secret").update(date + login + body).digest("hex")
const refundBody = { deposit_id: 300533646, invoice_id: "newIUnit45328731", amount: 100, bank_account, comments: "Test refund over v3" }

describe("OneKey client", () => {
  it("signs a POST: X-Login, X-Date without milliseconds, Authorization D24 hex HMAC over X-Date + X-Login + the exact body", async () => {
    replies = [{ status: 200, body: { refund_id: 168284 } }]
    const now = new Date("2026-03-01T12:33:20.456Z")
    await run(make(config({ now: () => now })).createRefund(refundBody, "key-1"))
    const [req] = seen
    expect(req).toMatchObject({ method: "POST", url: "/v3/refunds" })
    expect(req!.headers["x-login"]).toBe("my-login")
    expect(req!.headers["x-date"]).toBe("2026-03-01T12:33:20Z")
    expect(req!.headers["content-type"]).toContain("application/json")
    expect(req!.headers["x-idempotency-key"]).toBe("key-1")
    expect(req!.headers.authorization).toBe(`D24 ${hmac("2026-03-01T12:33:20Z", "my-login", req!.body)}`)
    expect(JSON.parse(req!.body)).toEqual(refundBody)
  })

  it("signs a GET over the empty string and sends no idempotency key", async () => {
    replies = [{ status: 200, body: { deposit_id: 300533646, merchant_invoice_id: "inv", status: "DELIVERED", amount: 100 } }]
    const r = await run(make(config()).getRefund(168284))
    expect(r.status).toBe("DELIVERED")
    const [req] = seen
    expect(req).toMatchObject({ method: "GET", url: "/v3/refunds/168284", body: "" })
    expect(req!.headers["x-idempotency-key"]).toBeUndefined()
    expect(req!.headers.authorization).toBe(`D24 ${hmac(String(req!.headers["x-date"]), "my-login", "")}`)
  })

  it("keeps one idempotency key, date and signature across retries after a 500, a timeout and a 409", async () => {
    replies = [{ status: 500, body: {} }, { status: 0, hang: true }, { status: 409, body: { code: 805 } }, { status: 200, body: { refund_id: 1 } }]
    await run(make(config({ retries: 3, timeoutMs: 150 })).createRefund(refundBody, "the-key"))
    expect(seen).toHaveLength(4)
    expect(new Set(seen.map((s) => s.headers["x-idempotency-key"]))).toEqual(new Set(["the-key"]))
    expect(new Set(seen.map((s) => `${s.headers["x-date"]} ${s.headers.authorization} ${s.body}`)).size).toBe(1)
  })

  it("makes one key per logical call when none is given, and a new one for the next call", async () => {
    replies = [{ status: 500 }, { status: 200, body: { refund_id: 1 } }, { status: 200, body: { refund_id: 2 } }]
    const client = make(config({ retries: 1 }))
    await run(client.createRefund(refundBody))
    await run(client.createRefund(refundBody))
    const keys = seen.map((s) => s.headers["x-idempotency-key"])
    expect(keys[0]).toBeTruthy()
    expect(keys[0]).toBe(keys[1])
    expect(keys[2]).not.toBe(keys[0])
  })

  it("reports an outcome it could not learn as PROVIDER_UNAVAILABLE, never as a refusal", async () => {
    replies = [{ status: 502 }, { status: 503 }]
    expect(await fail(make(config({ retries: 1 })).createRefund(refundBody, "k"))).toMatchObject({ code: "PROVIDER_UNAVAILABLE", retryable: true })
    replies = [{ status: 200, raw: "<html>gateway</html>" }]
    expect(await fail(make(config({ retries: 0 })).createRefund(refundBody, "k"))).toMatchObject({ code: "PROVIDER_UNAVAILABLE" })
  })

  it("maps every OneKey error code to PROVIDER_REJECTED with code, type, description and kind, without retrying", async () => {
    const kinds: Record<number, string> = { 100: "authentication", 101: "authentication", 102: "authentication", 103: "authentication", 202: "request", 208: "not_found" }
    for (const [code, e] of Object.entries(ONEKEY_ERRORS)) {
      seen.length = 0
      replies = [{ status: e.status, body: { code: Number(code), description: e.description, type: e.type } }]
      const err = await fail(make(config()).createRefund(refundBody, "k"))
      expect(err).toMatchObject({ code: "PROVIDER_REJECTED", retryable: false, details: { status: e.status, code: Number(code), type: e.type, description: e.description, kind: kinds[Number(code)] ?? "refund" } })
      expect(seen).toHaveLength(1)
    }
  })

  it("reads the nested error envelope of the status endpoints and a 4xx without a OneKey body", async () => {
    replies = [{ status: 404, body: { error: { code: "208", message: "Resource not found" } } }, { status: 403, raw: "Forbidden" }]
    expect(await fail(make(config()).getDeposit(1))).toMatchObject({ details: { code: 208, type: "RESOURCE_NOT_FOUND", description: "Resource not found", kind: "not_found" } })
    expect(await fail(make(config()).getDeposit(2))).toMatchObject({ code: "PROVIDER_REJECTED", details: { status: 403, code: null, description: "Forbidden" } })
  })

  it("takes refund_id as a number (bank refunds) or a string (card refunds)", async () => {
    replies = [
      { status: 200, body: { refund_id: 168284 } },
      {
        status: 200,
        body: {
          refund_id: "80000001",
          deposit_id: 300604089,
          merchant_invoice_id: "test766106146",
          refund_info: { type: "CREDIT_CARD", result: "SUCCESS", payment_method: "AE", payment_method_name: "American Express", amount: 505.95, currency: "MXN", created_at: "2021-02-05 22:10:45" },
        },
      },
    ]
    const client = make(config())
    expect((await run(client.createRefund(refundBody, "a"))).refund_id).toBe("168284")
    const card = await run(client.createRefund({ deposit_id: 300604089, invoice_id: "test766106146" }, "b"))
    expect(card).toMatchObject({ refund_id: "80000001", refund_info: { result: "SUCCESS", amount: 505.95 } })
  })

  it("reads bank codes with the read-only key, and refuses to try without one", async () => {
    replies = [{ status: 200, body: [{ code: 1, name: "BBVA Bancomer" }] }]
    expect(await run(make(config()).banks("MX"))).toEqual([{ code: 1, name: "BBVA Bancomer" }])
    expect(seen[0]).toMatchObject({ method: "GET", url: "/v3/banks?country=MX" })
    expect(seen[0]!.headers.authorization).toBe("Bearer ro-key")
    expect(await fail(make(config({ readOnlyKey: undefined })).banks("MX"))).toMatchObject({ code: "INVALID_INPUT" })
  })

  it("the adapter sends amounts as exact decimals in major units, and always sends one", async () => {
    const adapter = onekey(config())
    const ctx = { id: "pay_x", currency: "MXN", amount: 123456789, providerRef: "300533646", request: { invoice_id: "inv-1" }, refunds: [] } as never
    for (const [minor, wire] of [[1, 0.01], [10, 0.1], [123456789, 1234567.89], [30, 0.3], [100000, 1000]] as const) {
      replies = [{ status: 200, body: { refund_id: 1 } }]
      await Effect.runPromise(adapter.execute({ id: "x", paymentId: "pay_x", provider: "onekey", opId: "r", op: "refund", payload: { amount: minor }, idempotencyKey: "k", attempt: 1, createdAt: "", at: "" }, ctx))
      const sent = seen.at(-1)!.body
      expect(JSON.parse(sent).amount).toBe(wire)
      expect(sent).toContain(`"amount":${wire}`)
    }
  })
})
