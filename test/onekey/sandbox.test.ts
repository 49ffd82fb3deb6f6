/**
 * The OneKey sandbox as a merchant's code meets it over HTTP: OneKey's headers, signature and date
 * checks, the cumulative ceiling with every error code, card results chosen ahead, bank actions along
 * the status graph with a notification for each change, idempotency, expiry on the sandbox clock,
 * and the ledger.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { make, onekeyHeaders, xDate, type OnekeyDepositBody } from "../../adapters/providers/onekey/index.js"
import type { PaystateError } from "../../src/errors.js"
import { bank_account, heldAtProvider, payer, startWorld, type World } from "./helpers.js"

let world: World
beforeAll(async () => {
  world = await startWorld()
  // No engine here: notifications are counted at the receiver, which answers 500 without one.
})
afterAll(() => world.close())
beforeEach(async () => {
  await world.control("/_sandbox/reset")
})

const run = <A>(e: Effect.Effect<A, PaystateError>) => Effect.runPromise(e)
const fail = <A>(e: Effect.Effect<A, PaystateError>) => Effect.runPromise(Effect.flip(e))
const depositBody = (method = "OX", amount: number | string = 1000, invoice = `inv-${Math.random().toString(36).slice(2)}`): OnekeyDepositBody => ({
  invoice_id: invoice,
  amount,
  country: "MX",
  currency: "MXN",
  payment_method: method,
  payer,
})
/** A paid deposit: its id and invoice. */
const paid = async (method = "OX", amount: number | string = 1000) => {
  const body = depositBody(method, amount)
  const d = await run(world.client().createDeposit(body))
  expect((await world.control(`/_sandbox/deposits/${d.deposit_id}/complete`)).status).toBe(200)
  return { deposit_id: Number(d.deposit_id), invoice_id: body.invoice_id }
}
const raw = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string }) =>
  fetch(world.sandbox.url + path, { method: init.method ?? "POST", headers: init.headers, body: init.body }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }))
const notificationsFor = async (key: "refund_id" | "deposit_id", id: unknown) => {
  await world.settle()
  const { delivered } = (await (await fetch(`${world.sandbox.url}/_sandbox/webhooks`)).json()) as { delivered: { body: string }[] }
  return delivered.filter((d) => String(JSON.parse(d.body)[key]) === String(id)).length
}

describe("OneKey sandbox: authentication", () => {
  const body = JSON.stringify({ deposit_id: 1, invoice_id: "x", amount: 1, bank_account })
  const creds = () => world.sandbox.credentials
  it("answers 101 for a missing or malformed header, 100 for an unknown login, 102 for a bad signature, 103 for a stale date", async () => {
    const good = onekeyHeaders(creds(), new Date(), body)
    const without = (h: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== h))
    for (const h of ["X-Login", "X-Date", "Authorization"]) expect((await raw("/v3/refunds", { headers: without(h), body })).body).toMatchObject({ code: 101, type: "MISSING_REQUIRED_HEADER" })
    expect((await raw("/v3/refunds", { headers: { ...good, "X-Date": "2026-03-01 12:00:00" }, body })).body).toMatchObject({ code: 101 })
    expect(await raw("/v3/refunds", { headers: onekeyHeaders({ ...creds(), login: "someone" }, new Date(), body), body })).toMatchObject({ status: 401, body: { code: 100, type: "INVALID_CREDENTIALS" } })
    expect(await raw("/v3/refunds", { headers: onekeyHeaders({ ...creds(), secretKey: "wrong" }, new Date(), body), body })).toMatchObject({ status: 400, body: { code: 102, type: "INVALID_SIGNATURE" } })
    expect((await raw("/v3/refunds", { headers: good, body: body.replace('"amount":1', '"amount":2') })).body).toMatchObject({ code: 102 })
    const stale = new Date(Date.now() - 60 * 60_000)
    expect(await raw("/v3/refunds", { headers: onekeyHeaders(creds(), stale, body), body })).toMatchObject({ status: 400, body: { code: 103, type: "INVALID_DATE_RANGE" } })
    expect(xDate(stale)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
  })

  it("checks GETs too (signed over the empty body), and the bank codes by the read-only key", async () => {
    expect((await raw("/v3/deposits/1", { method: "GET", headers: onekeyHeaders({ ...creds(), secretKey: "wrong" }, new Date(), "") })).body).toMatchObject({ code: 102 })
    expect((await raw("/v3/refunds/1", { method: "GET", headers: onekeyHeaders(creds(), new Date(), "") })).body).toMatchObject({ code: 208, type: "RESOURCE_NOT_FOUND" })
    expect(await raw("/v3/banks?country=MX", { method: "GET", headers: { Authorization: "Bearer nope" } })).toMatchObject({ status: 401, body: { code: 100 } })
    expect(await run(world.client().banks("MX"))).toContainEqual({ code: 1, name: "BBVA Bancomer" })
  })

  it("answers 202 for a body that is not valid JSON or misses required fields", async () => {
    const bad = "{not json"
    expect(await raw("/v3/refunds", { headers: onekeyHeaders(creds(), new Date(), bad), body: bad })).toMatchObject({ status: 400, body: { code: 202, type: "INVALID_REQUEST_BODY" } })
    expect(await fail(world.client().createRefund({ invoice_id: "x" } as never))).toMatchObject({ details: { code: 202 } })
  })
})

describe("OneKey sandbox: refunds", () => {
  it("keeps the cumulative total of refunds within the deposit, counting PENDING and COMPLETED ones (802 beyond)", async () => {
    const d = await paid("OX", "1000.00")
    const c = world.client()
    const a = await run(c.createRefund({ ...d, amount: 600, bank_account }))
    await run(c.createRefund({ ...d, amount: "399.99", bank_account }))
    expect(await fail(c.createRefund({ ...d, amount: 0.02, bank_account }))).toMatchObject({ details: { status: 400, code: 802, type: "INVALID_AMOUNT_TO_REFUND", description: "Amount to refund not valid" } })
    await run(c.createRefund({ ...d, amount: 0.01, bank_account }))
    expect(await fail(c.createRefund({ ...d, amount: 0.01, bank_account }))).toMatchObject({ details: { code: 802 } })
    // An omitted amount is the whole deposit, which no longer fits.
    expect(await fail(c.createRefund({ ...d, bank_account }))).toMatchObject({ details: { code: 802 } })
    expect(await fail(c.createRefund({ ...d, amount: "1.005", bank_account }))).toMatchObject({ details: { code: 802 } })
    expect(await fail(c.createRefund({ ...d, amount: -5, bank_account }))).toMatchObject({ details: { code: 802 } })
    for (const s of ["DELIVERED", "COMPLETED"]) expect((await world.control(`/_sandbox/refunds/${a.refund_id}/status`, { status: s })).status).toBe(200)
    expect(await fail(c.createRefund({ ...d, amount: 0.01, bank_account }))).toMatchObject({ details: { code: 802 } })
    expect(heldAtProvider(await world.ledger(), String(d.deposit_id))).toBe(100000)
  })

  it("releases REJECTED and CANCELLED refunds, and a COMPLETED one the bank reverses, recording each in the ledger", async () => {
    const d = await paid("SE", 300)
    const c = world.client()
    const [x, y, z] = [await run(c.createRefund({ ...d, amount: 100, bank_account })), await run(c.createRefund({ ...d, amount: 100, bank_account })), await run(c.createRefund({ ...d, amount: 100, bank_account }))]
    await world.control(`/_sandbox/refunds/${x.refund_id}/status`, { status: "INCORRECT_DETAILS" })
    await world.control(`/_sandbox/refunds/${x.refund_id}/status`, { status: "CANCELLED" })
    for (const s of ["DELIVERED", "REJECTED"]) await world.control(`/_sandbox/refunds/${y.refund_id}/status`, { status: s })
    for (const s of ["DELIVERED", "COMPLETED", "REJECTED"]) await world.control(`/_sandbox/refunds/${z.refund_id}/status`, { status: s })
    const movements = (await world.ledger()).filter((m) => m.paymentId === String(d.deposit_id))
    expect(movements.map((m) => [m.type, m.amount])).toEqual([
      ["capture", 30000], ["refund", 10000], ["refund", 10000], ["refund", 10000], ["refund_release", -10000], ["refund_release", -10000], ["refund_reversal", -10000],
    ])
    expect((await run(c.createRefund({ ...d, amount: 300, bank_account }))).refund_id).toBeTruthy()
    expect(await run(c.getRefund(z.refund_id))).toMatchObject({ deposit_id: d.deposit_id, merchant_invoice_id: d.invoice_id, status: "REJECTED", amount: 100 })
  })

  it("answers 801 before the deposit is COMPLETED, 208 for an unknown deposit or invoice, 804 without bank_account", async () => {
    const c = world.client()
    const body = depositBody("OX", 50)
    const pending = await run(c.createDeposit(body))
    expect(await fail(c.createRefund({ deposit_id: Number(pending.deposit_id), invoice_id: body.invoice_id, amount: 1, bank_account }))).toMatchObject({ details: { code: 801, type: "DEPOSIT_NOT_COMPLETED" } })
    const d = await paid("OX", 50)
    expect(await fail(c.createRefund({ deposit_id: 999, invoice_id: d.invoice_id, amount: 1, bank_account }))).toMatchObject({ details: { status: 404, code: 208 } })
    expect(await fail(c.createRefund({ ...d, invoice_id: "someone-else", amount: 1, bank_account }))).toMatchObject({ details: { code: 208 } })
    expect(await fail(c.createRefund({ ...d, amount: 1 }))).toMatchObject({ details: { code: 804, type: "MISSING_BANK_ACCOUNT", description: "Missing bank account information" } })
    expect(await fail(c.createRefund({ ...d, amount: 1, bank_account: { ...bank_account, account_type: "GOLD" } as never }))).toMatchObject({ details: { code: 202 } })
  })

  it("answers 800, 803 and 805 when told to, for the next refunds only", async () => {
    const d = await paid("OX", 50)
    for (const code of [800, 803, 805]) {
      expect((await world.control("/_sandbox/refunds/next-error", { code })).status).toBe(200)
      expect(await fail(world.client().createRefund({ ...d, amount: 1, bank_account }))).toMatchObject({ details: { code, status: 400 } })
    }
    expect((await run(world.client().createRefund({ ...d, amount: 1, bank_account }))).refund_id).toBeTruthy()
  })

  it("refunds cards to the card with the result chosen ahead: SUCCESS, REJECTED with reason, IN_PROGRESS", async () => {
    const c = world.client()
    const ok = await run(c.createRefund(await paid("AE", "505.95")))
    expect(ok).toMatchObject({ refund_id: expect.stringMatching(/^\d+$/), refund_info: { type: "CREDIT_CARD", result: "SUCCESS", payment_method: "AE", payment_method_name: "American Express", amount: 505.95, currency: "MXN" } })
    expect(ok.refund_info?.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
    await world.control("/_sandbox/cards/next-result", { result: "REJECTED", reason: "Card expired", reason_code: 905 })
    const v = await paid("VI", 200)
    expect(await run(c.createRefund(v))).toMatchObject({ refund_info: { result: "REJECTED", reason: "Card expired", reason_code: 905 } })
    // A rejected card refund held nothing: the deposit can be refunded in full again.
    await world.control("/_sandbox/cards/next-result", { result: "IN_PROGRESS" })
    const progress = await run(c.createRefund(v))
    expect(progress.refund_info?.result).toBe("IN_PROGRESS")
    expect((await run(c.getRefund(progress.refund_id))).status).toBe("PENDING")
    expect(await fail(c.createRefund({ ...(await paid("MC", 200)), amount: 50 }))).toMatchObject({ details: { code: 802 } })
    expect((await world.control("/_sandbox/cards/next-result", { result: "MAYBE" })).status).toBe(400)
  })

  it("moves refunds only along the status graph, and notifies {refund_id} on every change", async () => {
    const d = await paid("OX", 100)
    const r = await run(world.client().createRefund({ ...d, amount: 10, bank_account }))
    const move = (status: string) => world.control(`/_sandbox/refunds/${r.refund_id}/status`, { status })
    expect((await move("COMPLETED")).status).toBe(409)
    for (const s of ["INCORRECT_DETAILS", "PENDING", "DELIVERED"]) expect((await move(s)).status).toBe(200)
    expect((await move("CANCELLED")).status).toBe(409)
    expect((await move("COMPLETED")).status).toBe(200)
    expect((await move("PENDING")).status).toBe(409)
    expect((await move("REJECTED")).body).toMatchObject({ status: "REJECTED", history: expect.arrayContaining([expect.objectContaining({ status: "COMPLETED" })]) })
    expect((await move("COMPLETED")).status).toBe(409)
    expect(await notificationsFor("refund_id", r.refund_id)).toBe(5)
    expect((await world.control("/_sandbox/refunds/999/status", { status: "COMPLETED" })).body).toMatchObject({ code: 208 })
  })

  it("replays a POST with the same X-Idempotency-Key without a second refund, and refuses the key with another body", async () => {
    const d = await paid("OX", 100)
    const c = world.client()
    const first = await run(c.createRefund({ ...d, amount: 10, bank_account }, "same-key"))
    expect(await run(c.createRefund({ ...d, amount: 10, bank_account }, "same-key"))).toEqual(first)
    // OneKey's refusal of the reused key is no answer to the refund: the client reads it as unknown.
    expect(await fail(c.createRefund({ ...d, amount: 11, bank_account }, "same-key"))).toMatchObject({
      code: "PROVIDER_UNAVAILABLE",
      details: { status: 400, reason: "idempotency_key_reused", body: { code: 202 } },
    })
    expect((await world.ledger()).filter((m) => m.type === "refund")).toHaveLength(1)
  })

  it("compares a reused key on the exact bytes, and the client sends the same bytes whatever the key order", async () => {
    const d = await paid("OX", 100)
    const reordered = Object.fromEntries(Object.entries(bank_account).reverse()) as typeof bank_account
    // Raw HTTP: the same fields in another order are another body for the same key.
    const send = async (body: string) => {
      const res = await fetch(`${world.sandbox.url}/v3/refunds`, { method: "POST", headers: onekeyHeaders(world.sandbox.credentials, new Date(), body, "bytes-key"), body })
      return { status: res.status, body: await res.json() }
    }
    const a = await send(JSON.stringify({ ...d, amount: 10, bank_account }))
    expect(a.status).toBe(200)
    expect(await send(JSON.stringify({ ...d, amount: 10, bank_account: reordered }))).toMatchObject({ status: 400, body: { code: 202 } })
    // The client serialises canonically: the reordered object is the same request.
    const c = world.client()
    const first = await run(c.createRefund({ ...d, amount: 20, bank_account }, "canonical-key"))
    expect(await run(c.createRefund({ amount: 20, bank_account: reordered, ...d } as never, "canonical-key"))).toEqual(first)
    expect((await world.ledger()).filter((m) => m.type === "refund")).toHaveLength(2)
  })

  it("performs a refund whose answer it drops, and replays that answer to the retry", async () => {
    const d = await paid("OX", 100)
    await world.control("/_sandbox/faults", { path: "/v3/refunds", method: "POST", mode: "drop_response", count: 1 })
    const r = await run(make({ baseUrl: world.sandbox.url, ...world.sandbox.credentials, retries: 1, backoffMs: 5 }).createRefund({ ...d, amount: 10, bank_account }, "dropped"))
    expect(r.refund_id).toBeTruthy()
    expect((await world.ledger()).filter((m) => m.type === "refund")).toEqual([expect.objectContaining({ refundId: r.refund_id, cause: "dropped" })])
  })
})

describe("OneKey sandbox: notification retries", () => {
  it("sends a notification the host did not answer 200 again 5, 25, 125 and 625 minutes later, on the sandbox clock", async () => {
    // The receiver has no engine and answers 500 to everything.
    const d = await paid("OX", 100)
    const r = await run(world.client().createRefund({ ...d, amount: 10, bank_account }))
    await world.control(`/_sandbox/refunds/${r.refund_id}/status`, { status: "DELIVERED" })
    expect(await notificationsFor("refund_id", r.refund_id)).toBe(1)
    const t0 = Date.now()
    const at = async (minutes: number) => {
      await world.control("/_sandbox/clock", { now: new Date(t0 + minutes * 60_000).toISOString() })
      return notificationsFor("refund_id", r.refund_id)
    }
    expect(await at(4)).toBe(1)
    expect(await at(6)).toBe(2)
    expect(await at(30)).toBe(2)
    expect(await at(32)).toBe(3)
    expect(await at(160)).toBe(4)
    expect(await at(800)).toBe(5)
    expect(await at(5000)).toBe(5)
  })
})

describe("OneKey sandbox: deposits", () => {
  it("creates PENDING deposits, completes them when the customer pays, and notifies {deposit_id}", async () => {
    const body = depositBody("OX", "49.99")
    const d = await run(world.client().createDeposit(body))
    expect(d).toMatchObject({ checkout_type: "ONE_SHOT", merchant_invoice_id: body.invoice_id, payment_info: { payment_method: "OX", amount: 49.99, currency: "MXN" } })
    expect(await run(world.client().getDeposit(d.deposit_id))).toMatchObject({ deposit_id: d.deposit_id, invoice_id: body.invoice_id, status: "PENDING", local_amount: 49.99 })
    expect((await world.control(`/_sandbox/deposits/${d.deposit_id}/complete`)).body).toMatchObject({ status: "COMPLETED" })
    expect((await world.control(`/_sandbox/deposits/${d.deposit_id}/complete`)).status).toBe(409)
    expect(await notificationsFor("deposit_id", d.deposit_id)).toBe(1)
    expect((await world.ledger()).find((m) => m.paymentId === String(d.deposit_id))).toMatchObject({ type: "capture", amount: 4999 })
  })

  it("expires an unpaid deposit when the sandbox clock passes its expiration date", async () => {
    const d = await run(world.client().createDeposit(depositBody()))
    await world.control("/_sandbox/clock", { now: new Date(Date.now() + 4 * 24 * 3600_000).toISOString() })
    expect(await run(world.client().getDeposit(d.deposit_id))).toMatchObject({ status: "EXPIRED" })
    expect((await world.control(`/_sandbox/deposits/${d.deposit_id}/complete`)).status).toBe(409)
    expect(await notificationsFor("deposit_id", d.deposit_id)).toBe(1)
  })

  it("forgets deposits and refunds on reset, but never reuses an id", async () => {
    const first = await paid()
    await world.control("/_sandbox/reset")
    expect(await fail(world.client().getDeposit(first.deposit_id))).toMatchObject({ details: { code: 208 } })
    const second = await paid()
    expect(second.deposit_id).toBeGreaterThan(first.deposit_id)
  })
})
