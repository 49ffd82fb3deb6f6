/**
 * The KOMOJU Effect client against the sandbox (and a scripted stub where the sandbox cannot
 * misbehave on cue): Basic auth, one idempotency key per operation reused on every retry, retries
 * only on timeouts, 5xx and 409, typed errors from KOMOJU's envelope, zod on every body.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest"
import { KomojuClient, KomojuError, startKomojuSandbox, type KomojuClientConfig, type KomojuClientShape, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { DETAILS } from "./seeds.js"

let sb: RunningKomojuSandbox
const cfg = (extra: Partial<KomojuClientConfig> = {}): KomojuClientConfig => ({ baseUrl: sb.apiUrl, secretKey: sb.secretKey, timeoutMs: 300, retries: 2, backoffMs: 5, ...extra })
const run = <A>(f: (c: KomojuClientShape) => Effect.Effect<A, KomojuError>, config = cfg()) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* f(yield* KomojuClient)
    }).pipe(Effect.provide(KomojuClient.layer(config))),
  )
const fail = <A>(f: (c: KomojuClientShape) => Effect.Effect<A, KomojuError>, config = cfg()) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* f(yield* KomojuClient)
    }).pipe(Effect.flip, Effect.provide(KomojuClient.layer(config))),
  )
const control = (path: string, body: object = {}) => fetch(`${sb.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
const ledger = async () => ((await (await fetch(`${sb.url}/_sandbox/ledger`)).json()) as { movements: any[] }).movements
const card = () => run((c) => c.create({ amount: 1000, currency: "JPY", payment_details: DETAILS.credit_card as never }))

beforeAll(async () => {
  sb = await startKomojuSandbox()
})
afterAll(() => sb.close())
beforeEach(async () => {
  await control("/_sandbox/reset")
})

describe("the eight endpoints", () => {
  test("create, show, update, capture, refund, refund_request, cancel and list parse into typed bodies", async () => {
    const auth = await run((c) => c.create({ amount: 1000, currency: "JPY", capture: false, payment_details: DETAILS.credit_card as never }))
    expect(auth).toMatchObject({ status: "authorized", total: 1100 })
    expect(await run((c) => c.show(auth.id))).toEqual(auth)
    expect(await run((c) => c.update(auth.id, { description: "d", metadata: { a: "b" } }))).toMatchObject({ description: "d", metadata: { a: "b" } })
    expect((await run((c) => c.capture(auth.id))).status).toBe("captured")
    expect((await run((c) => c.refund(auth.id, { amount: 100 }))).amount_refunded).toBe(100)
    const k = await run((c) => c.create({ amount: 1000, currency: "JPY", payment_details: DETAILS.konbini as never }))
    expect((await run((c) => c.cancel(k.id))).status).toBe("cancelled")
    const k2 = await run((c) => c.create({ amount: 1000, currency: "JPY", payment_details: DETAILS.konbini as never }))
    await control(`/_sandbox/payments/${k2.id}/pay`)
    const rr = await run((c) =>
      c.refundRequest(k2.id, { amount: 1100, customer_name: "John Doe", bank_code: "1234", bank_name: "B", branch_number: "123", branch_name: "BR", account_type: "normal", account_number: "1234567", include_payment_method_fee: false }),
    )
    expect(rr.refund_requests[0]?.status).toBe("pending")
    const page = await run((c) => c.listPayments({ per_page: 2, page: 1, currency: "JPY" }))
    expect(page).toMatchObject({ resource: "list", total: 3, per_page: 2, last_page: 2 })
    expect((await run((c) => c.listPayments({ status: "cancelled" }))).data.map((p) => p.id)).toEqual([k.id])
  })
})

describe("typed errors", () => {
  test("KOMOJU's envelope becomes a KomojuError with reason, code and param", async () => {
    const p = await card()
    const e = await fail((c) => c.refund(p.id, { amount: 5000 }))
    expect(e).toBeInstanceOf(KomojuError)
    expect(e).toMatchObject({ reason: "Unprocessable", status: 422, code: "unprocessable_entity", param: "amount", retryable: false })
    expect(await fail((c) => c.show("missing"))).toMatchObject({ reason: "NotFound", status: 404, code: "not_found" })
    expect(await fail((c) => c.show(p.id), cfg({ secretKey: "sk_wrong" }))).toMatchObject({ reason: "Unauthorized", status: 401, code: "unauthorized" })
  })

  test("bodies are checked with zod before anything is sent", async () => {
    const before = (await ledger()).length
    const e = await fail((c) => c.refundRequest("x", { amount: 1, customer_name: "x" } as never))
    expect(e).toMatchObject({ reason: "BadRequest", status: 0, code: "invalid_request" })
    expect(e.message).toMatch(/bank_code/)
    expect(await fail((c) => c.create({ amount: 1000, currency: "JPY", payment_details: { type: "konbini" } } as never))).toMatchObject({ code: "invalid_request" })
    expect((await ledger()).length).toBe(before)
  })

  test("a 5xx that outlasts the retries is retryable ServerError", async () => {
    const p = await card()
    await control("/_sandbox/faults", { path: `/api/v1/payments/${p.id}/refund`, method: "POST", mode: "error500", count: 3 })
    expect(await fail((c) => c.refund(p.id, { amount: 100 }))).toMatchObject({ reason: "ServerError", status: 500, retryable: true })
    expect((await ledger()).filter((m) => m.type === "refund")).toHaveLength(0)
  })
})

describe("retries and idempotency", () => {
  test("a dropped answer is retried with the same X-KOMOJU-IDEMPOTENCY key: one refund, the first answer", async () => {
    const p = await card()
    await control("/_sandbox/faults", { path: "/api/v1/payments/:id/refund", method: "POST", mode: "drop_response", count: 1 })
    const answer = await run((c) => c.refund(p.id, { amount: 300 }, { idempotencyKey: "refund-300" }))
    expect(answer.amount_refunded).toBe(300)
    const refunds = (await ledger()).filter((m) => m.type === "refund")
    expect(refunds).toHaveLength(1)
    expect(refunds[0].cause).toBe("refund-300")
  })

  test("without a key the client makes one per operation and keeps it across retries", async () => {
    const p = await card()
    await control("/_sandbox/faults", { path: "/api/v1/payments/:id/refund", method: "POST", mode: "drop_response", count: 2 })
    await run((c) => c.refund(p.id, { amount: 100 }))
    const refunds = (await ledger()).filter((m) => m.type === "refund")
    expect(refunds).toHaveLength(1)
    expect(refunds[0].cause).toMatch(/^[0-9a-f-]{36}$/)
    // a second logical refund gets a second key
    await run((c) => c.refund(p.id, { amount: 100 }))
    expect((await ledger()).filter((m) => m.type === "refund")).toHaveLength(2)
  })

  test("a timeout is retried; a 500 is retried; both end in one effect", async () => {
    const p = await card()
    await control("/_sandbox/faults", { path: "/api/v1/payments/:id/refund", method: "POST", mode: "timeout", count: 1 })
    await control("/_sandbox/faults", { path: "/api/v1/payments/:id/refund", method: "POST", mode: "error500", count: 1 })
    expect((await run((c) => c.refund(p.id, { amount: 100 }, { idempotencyKey: "t1" }), cfg({ timeoutMs: 150 }))).amount_refunded).toBe(100)
    expect((await ledger()).filter((m) => m.type === "refund")).toHaveLength(1)
  })

  describe("against a scripted stub", () => {
    let server: Server
    let url = ""
    let script: { status: number; body: string }[] = []
    const seen: { method: string; key: string | undefined; auth: string | undefined }[] = []
    const payment = JSON.stringify({
      id: "p1", resource: "payment", status: "captured", amount: 1, tax: 0, customer: null, payment_deadline: null, payment_details: { type: "bit_cash" }, payment_method_fee: 0, total: 1, currency: "JPY",
      description: null, captured_at: null, external_order_num: null, metadata: {}, created_at: "2020-06-09T07:41:51Z", amount_refunded: 0, locale: "ja", refunds: [], refund_requests: [],
    })
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push({ method: req.method!, key: req.headers["x-komoju-idempotency"] as string | undefined, auth: req.headers.authorization })
        req.resume()
        req.on("end", () => {
          const next = script.shift() ?? { status: 200, body: payment }
          res.writeHead(next.status, { "content-type": "application/json" }).end(next.body)
        })
      })
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`
    })
    afterAll(() => new Promise<void>((r) => server.close(() => r())))
    beforeEach(() => {
      script = []
      seen.length = 0
    })

    test("409 (key still in flight) is retried with the same key and Basic auth", async () => {
      script = [{ status: 409, body: JSON.stringify({ error: { code: "conflict", message: "in flight", param: null } }) }]
      await run((c) => c.capture("p1", { idempotencyKey: "cap-1" }), cfg({ baseUrl: url, secretKey: "sk_stub" }))
      expect(seen.map((s) => s.key)).toEqual(["cap-1", "cap-1"])
      expect(seen[0]!.auth).toBe(`Basic ${Buffer.from("sk_stub:").toString("base64")}`)
    })

    test("a 4xx is not retried; GET carries no idempotency key", async () => {
      script = [{ status: 400, body: JSON.stringify({ error: { code: "bad_request", message: "no", param: null } }) }]
      expect(await fail((c) => c.capture("p1"), cfg({ baseUrl: url }))).toMatchObject({ reason: "BadRequest", code: "bad_request", retryable: false })
      expect(seen).toHaveLength(1)
      await run((c) => c.show("p1"), cfg({ baseUrl: url }))
      expect(seen[1]).toMatchObject({ method: "GET", key: undefined })
    })

    test("a 2xx body that is not a payment is InvalidResponse", async () => {
      script = [{ status: 200, body: "{\"hello\":1}" }]
      expect(await fail((c) => c.show("p1"), cfg({ baseUrl: url }))).toMatchObject({ reason: "InvalidResponse", code: "invalid_response" })
    })
  })
})
