/**
 * The KOMOJU sandbox over HTTP, driven with the seeds' own curl bodies (form-encoded) and JSON:
 * every create example, the answers' shape, auth, idempotency, rules and the customer actions.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest"
import { startKomojuSandbox, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { CANCEL_EXAMPLES, CREATE_EXAMPLES, DETAILS, form, LIST_KEYS, PAYMENT_KEYS, REFUND_EXAMPLES, REFUND_KEYS, REFUND_REQUEST_000, REFUND_REQUEST_001, REFUND_REQUEST_KEYS } from "./seeds.js"

let sb: RunningKomojuSandbox
const auth = (key = "sk_123456") => `Basic ${Buffer.from(`${key}:`).toString("base64")}`

const call = async (method: string, path: string, body?: string | object, headers: Record<string, string> = {}) => {
  const isForm = typeof body === "string"
  const res = await fetch(`${sb.apiUrl}${path}`, {
    method,
    headers: { authorization: auth(), ...(body === undefined ? {} : { "content-type": isForm ? "application/x-www-form-urlencoded" : "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: isForm ? body : JSON.stringify(body) }),
  })
  return { status: res.status, json: (await res.json()) as any }
}
const control = async (path: string, body: object = {}) => {
  const res = await fetch(`${sb.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as any }
}
const create = async (method: string, extra: Record<string, unknown> = {}) => {
  const r = await call("POST", "/payments", { amount: 1000, currency: method === "mobile" || method === "happy_money" || method === "culture_voucher" ? "KRW" : "JPY", payment_details: DETAILS[method], ...extra })
  expect(r.status, JSON.stringify(r.json)).toBe(200)
  return r.json
}
const paid = async (method: string, extra: Record<string, unknown> = {}) => {
  const p = await create(method, extra)
  if (p.status === "authorized") expect((await control(`/_sandbox/payments/${p.id}/pay`)).json.status).toBe("captured")
  return p
}

beforeAll(async () => {
  sb = await startKomojuSandbox()
})
afterAll(async () => {
  await sb.close()
})
beforeEach(async () => {
  await control("/_sandbox/reset")
})

const SEED_DEADLINES: Record<string, string | null> = {
  konbini: "2020-06-12T14:59:59Z",
  pay_easy: "2020-06-19T14:59:59Z",
  bank_transfer: "2020-06-16T14:59:59Z",
  credit_card: "2020-06-16T14:59:59Z",
  net_cash: "2020-06-16T07:42:12Z",
  nanaco: "2020-06-16T07:42:12Z",
}

describe("create: every seed example, form-encoded as its curl tab sends it", () => {
  for (const ex of CREATE_EXAMPLES) {
    test(`${ex.method} answers ${ex.status}, tax ${ex.tax}, total ${ex.total}`, async () => {
      await control("/_sandbox/clock", { now: "2020-06-09T07:42:12Z" })
      const r = await call("POST", "/payments", form(ex.d))
      expect(r.status, JSON.stringify(r.json)).toBe(200)
      const p = r.json
      expect(Object.keys(p)).toEqual(PAYMENT_KEYS)
      expect(p).toMatchObject({ resource: "payment", status: ex.status, amount: ex.amount, tax: ex.tax, total: ex.total, currency: ex.currency, payment_method_fee: 0, amount_refunded: 0, refunds: [], refund_requests: [], customer: null })
      expect(p.id).toMatch(/^[0-9a-z]{25}$/)
      expect(Object.keys(p.payment_details)).toEqual(ex.detailKeys)
      expect(p.payment_details.type).toBe(ex.method)
      expect(p.payment_deadline).toBe(SEED_DEADLINES[ex.method] ?? null)
      expect(p.captured_at).toBe(ex.status === "captured" ? "2020-06-09T07:42:12Z" : null)
      expect(p.created_at).toBe("2020-06-09T07:42:12Z")
      if (ex.d.includes("metadata[foobar]=hoge")) expect(p.metadata).toEqual({ foobar: "hoge" })
      if (ex.d.includes("external_order_num=123")) expect(p.external_order_num).toBe("123")
      // no secret sent comes back
      expect(JSON.stringify(p)).not.toMatch(/verification_value|prepaid_number|happy_money_password|culture_password|4111111111111111/)
    })
  }

  test("the same bodies as JSON (the Ruby tabs) answer the same", async () => {
    const p = await create("konbini", { external_order_num: "123", metadata: { foobar: "hoge" } })
    expect(p).toMatchObject({ status: "authorized", tax: 100, total: 1100, metadata: { foobar: "hoge" }, external_order_num: "123" })
    const card = await create("credit_card", { capture: false })
    expect(card.status).toBe("authorized")
    const formCard = await call("POST", "/payments", form(["amount=1000", "currency=JPY", "capture=false", "payment_details[type]=credit_card", "payment_details[number]=4111111111111111", "payment_details[month]=01", "payment_details[year]=2030"]))
    expect(formCard.json.status).toBe("authorized")
  })

  test("capture=false only matters for credit cards", async () => {
    expect((await create("bit_cash", { capture: false })).status).toBe("captured")
    expect((await create("konbini", { capture: false })).status).toBe("authorized")
  })

  test("tax: auto is 10 % rounded half up; a decimal tax is rounded half up", async () => {
    expect((await create("bit_cash", { amount: 105 })).tax).toBe(11)
    expect((await create("bit_cash", { amount: 104 })).tax).toBe(10)
    expect((await create("bit_cash", { tax: "auto" })).tax).toBe(100)
    expect((await create("bit_cash", { tax: "12.5" })).tax).toBe(13)
    expect((await create("bit_cash", { tax: "12.4" })).tax).toBe(12)
    expect((await create("bit_cash", { tax: 0 })).total).toBe(1000)
  })

  test("a customer payment starts pending with no payment_details (seed list example)", async () => {
    const r = await call("POST", "/payments", form(["amount=300", "currency=JPY", "customer=cus_123", "external_order_num=ORDER15"]))
    expect(r.json).toMatchObject({ status: "pending", tax: 30, total: 330, payment_details: null, customer: "cus_123", payment_deadline: null })
  })

  test("exactly one of payment_details or customer, required parameters, methods and currencies are enforced", async () => {
    const none = await call("POST", "/payments", form(["amount=1000", "currency=JPY"]))
    expect(none.status).toBe(422)
    expect(none.json.error).toMatchObject({ code: "missing_parameter", param: "payment_details" })
    const both = await call("POST", "/payments", { amount: 1000, currency: "JPY", customer: "cus_1", payment_details: DETAILS.konbini })
    expect(both.json.error.code).toBe("unprocessable_entity")
    expect((await call("POST", "/payments", form(["currency=JPY", "payment_details[type]=bit_cash"]))).json.error).toEqual({ message: "A required parameter (amount) is missing", code: "missing_parameter", param: "amount" })
    expect((await call("POST", "/payments", form(["amount=1000", "currency=JPY", "payment_details[type]=konbini", "payment_details[email]=a@b.c"]))).json.error.param).toBe("payment_details[store]")
    expect((await call("POST", "/payments", { amount: 1000, currency: "JPY", payment_details: { type: "bitcoin" } })).json.error.param).toBe("payment_details[type]")
    expect((await call("POST", "/payments", { amount: 1000, currency: "USD", payment_details: DETAILS.konbini })).json.error.param).toBe("currency")
    expect((await call("POST", "/payments", { amount: "10.5", currency: "JPY", payment_details: DETAILS.konbini })).json.error.param).toBe("amount")
    expect((await call("POST", "/payments", { amount: 1000, currency: "JPY", payment_details: { ...DETAILS.credit_card, number: "4000000000000002" } })).status).toBe(402)
  })
})

describe("show, list, update", () => {
  test("show answers the payment; an unknown id is 404 not_found", async () => {
    const p = await create("konbini")
    expect((await call("GET", `/payments/${p.id}`)).json).toEqual(p)
    const missing = await call("GET", "/payments/nope")
    expect(missing.status).toBe(404)
    expect(missing.json.error.code).toBe("not_found")
  })

  test("list answers the seed's shape, newest first, with every filter and pages", async () => {
    await control("/_sandbox/clock", { now: "2020-06-09T07:00:00Z" })
    const a = await create("konbini", { external_order_num: "ORDER14" })
    await control("/_sandbox/clock", { now: "2020-06-10T07:00:00Z" })
    const b = await create("bit_cash", { external_order_num: "ORDER15" })
    await control("/_sandbox/clock", { now: "2020-06-11T07:00:00Z" })
    const c = await create("mobile", { external_order_num: "ORDER16" })
    const all = (await call("GET", "/payments")).json
    expect(Object.keys(all)).toEqual(LIST_KEYS)
    expect(all).toMatchObject({ resource: "list", total: 3, page: 1, per_page: 10, last_page: 1 })
    expect(all.data.map((p: any) => p.id)).toEqual([c.id, b.id, a.id])
    const ids = async (q: string) => (await call("GET", `/payments?${q}`)).json.data.map((p: any) => p.id)
    expect(await ids("status=captured")).toEqual([b.id])
    expect(await ids("currency=KRW")).toEqual([c.id])
    expect(await ids("external_order_num=ORDER14")).toEqual([a.id])
    expect(await ids("start_time=2020-06-10T00:00:00Z")).toEqual([c.id, b.id])
    expect(await ids("end_time=2020-06-10T00:00:00Z")).toEqual([a.id])
    expect(await ids("start_time=2020-06-10T00:00:00Z&end_time=2020-06-11T00:00:00Z")).toEqual([b.id])
    const page2 = (await call("GET", "/payments?per_page=2&page=2")).json
    expect(page2).toMatchObject({ total: 3, page: 2, per_page: 2, last_page: 2 })
    expect(page2.data.map((p: any) => p.id)).toEqual([a.id])
    expect((await call("GET", "/payments?status=bogus")).status).toBe(422)
  })

  test("update changes description and metadata only (seed update example, form-encoded)", async () => {
    const p = await create("konbini", { metadata: { old: "x" } })
    const r = await call("PATCH", `/payments/${p.id}`, form(["description=updated description", "metadata[updated]=metadata"]))
    expect(r.json).toMatchObject({ description: "updated description", metadata: { updated: "metadata" }, status: "authorized" })
    const refused = await call("PATCH", `/payments/${p.id}`, { amount: 1 })
    expect(refused.status).toBe(422)
    expect(refused.json.error.param).toBe("amount")
  })
})

describe("capture and cancel", () => {
  test("capture works only on an authorized credit card (seed capture example)", async () => {
    const card = await create("credit_card", { capture: false })
    const r = await call("POST", `/payments/${card.id}/capture`, {})
    expect(r.json).toMatchObject({ status: "captured", total: 1100 })
    expect(r.json.captured_at).not.toBeNull()
    expect((await call("POST", `/payments/${card.id}/capture`, {})).status).toBe(422)
    const konbini = await create("konbini")
    const refused = await call("POST", `/payments/${konbini.id}/capture`)
    expect(refused.status).toBe(422)
    expect(refused.json.error.code).toBe("unprocessable_entity")
  })

  for (const ex of CANCEL_EXAMPLES) {
    test(`cancel of an authorized ${ex.method} (seed cancel example)`, async () => {
      const p = await create(ex.method, { tax: ex.tax, ...("capture" in ex ? { capture: ex.capture } : {}) })
      const r = await call("POST", `/payments/${p.id}/cancel`, "debug" in ex ? form(["debug=true"]) : undefined)
      expect(r.json).toMatchObject({ status: "cancelled", captured_at: null, amount_refunded: 0, tax: ex.tax })
    })
  }

  test("cancel of a captured payment is refused", async () => {
    const p = await create("credit_card")
    const r = await call("POST", `/payments/${p.id}/cancel`)
    expect(r.status).toBe(422)
    expect((await call("GET", `/payments/${p.id}`)).json.status).toBe("captured")
  })
})

describe("refunds", () => {
  for (const ex of REFUND_EXAMPLES) {
    test(`${ex.method}: refund ${ex.d.length ? ex.d.join(" ") : "(no amount)"} → ${ex.refundStatus}, payment ${ex.paymentStatus}`, async () => {
      const p = await paid(ex.method, { ...("amount" in ex ? { amount: ex.amount } : {}), ...(ex.tax !== undefined ? { tax: ex.tax } : {}) })
      const r = await call("POST", `/payments/${p.id}/refund`, ex.d.length ? form(ex.d) : undefined)
      expect(r.status, JSON.stringify(r.json)).toBe(200)
      expect(r.json).toMatchObject({ status: ex.paymentStatus, amount_refunded: ex.amountRefunded })
      expect(r.json.refunds).toHaveLength(1)
      const refund = r.json.refunds[0]
      expect(Object.keys(refund)).toEqual(REFUND_KEYS)
      expect(refund).toMatchObject({ resource: "refund", status: ex.refundStatus, amount: ex.refund, payment: p.id, chargeback: false, currency: p.currency })
      expect(refund.redirect_url === null).toBe(ex.refundStatus === "completed")
    })
  }

  test("partial refunds keep captured; the last one makes refunded; more than is left is refused", async () => {
    const p = await create("credit_card")
    expect((await call("POST", `/payments/${p.id}/refund`, { amount: 500 })).json).toMatchObject({ status: "captured", amount_refunded: 500 })
    const over = await call("POST", `/payments/${p.id}/refund`, { amount: 601 })
    expect(over.status).toBe(422)
    expect(over.json.error).toMatchObject({ code: "unprocessable_entity", param: "amount" })
    expect((await call("POST", `/payments/${p.id}/refund`)).json).toMatchObject({ status: "refunded", amount_refunded: 1100 })
    expect((await call("POST", `/payments/${p.id}/refund`, { amount: 1 })).status).toBe(422)
    const ledger = (await (await fetch(`${sb.url}/_sandbox/ledger`)).json() as { movements: any[] }).movements
    expect(ledger.filter((m: any) => m.type === "refund").map((m: any) => m.amount)).toEqual([500, 600])
  })

  test("a pending cash refund holds its amount and becomes completed when the customer collects it", async () => {
    const p = await paid("konbini")
    const r = await call("POST", `/payments/${p.id}/refund`, { amount: 1100 })
    expect(r.json).toMatchObject({ status: "captured", amount_refunded: 1100 })
    expect((await call("POST", `/payments/${p.id}/refund`, { amount: 1 })).status).toBe(422)
    const done = await control(`/_sandbox/refunds/${r.json.refunds[0].id}/complete`)
    expect(done.json).toMatchObject({ status: "refunded", amount_refunded: 1100 })
    expect(done.json.refunds[0].status).toBe("completed")
  })

  test("an authorized (unpaid) payment cannot be refunded", async () => {
    const p = await create("konbini")
    expect((await call("POST", `/payments/${p.id}/refund`)).status).toBe(422)
  })
})

describe("refund requests (seed 000)", () => {
  test("seed 000's curl body on a paid konbini answers a pending refund request of the seed's shape", async () => {
    const p = await paid("konbini", { tax: 0 })
    const r = await call("POST", `/payments/${p.id}/refund_request`, form(REFUND_REQUEST_000))
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    expect(r.json).toMatchObject({ status: "captured", amount_refunded: 0, refunds: [] })
    const rr = r.json.refund_requests[0]
    expect(Object.keys(rr)).toEqual(REFUND_REQUEST_KEYS)
    expect(rr).toMatchObject({ payment: p.id, customer_name: "John Doe", bank_code: "1234", bank_name: "KOMOJU BANK", branch_number: "123", branch_name: "KOMOJU BRANCH", account_number: "1234567", status: "pending" })
    // it holds its amount: nothing is left for another one
    expect((await call("POST", `/payments/${p.id}/refund`, { amount: 1 })).status).toBe(422)
    const done = await control(`/_sandbox/refund_requests/${rr.id}/complete`)
    expect(done.json).toMatchObject({ status: "refunded", amount_refunded: 1000 })
    expect(done.json.refund_requests[0].status).toBe("completed")
  })

  test("a rejected refund request releases its amount", async () => {
    const p = await paid("bank_transfer")
    const r = await call("POST", `/payments/${p.id}/refund_request`, form(REFUND_REQUEST_000))
    await control(`/_sandbox/refund_requests/${r.json.refund_requests[0].id}/reject`)
    const again = await call("POST", `/payments/${p.id}/refund_request`, form(REFUND_REQUEST_000.map((x) => (x === "amount=1000" ? "amount=1100" : x))))
    expect(again.status).toBe(200)
    expect(again.json.refund_requests.map((x: any) => x.status)).toEqual(["rejected", "pending"])
  })

  test("include_payment_method_fee adds the fee once", async () => {
    await control("/_sandbox/payment-method-fees", { pay_easy: 190 })
    const p = await paid("pay_easy")
    expect(p.total).toBe(1290)
    const body = (amount: number, include: boolean) => form(REFUND_REQUEST_000.map((x) => (x.startsWith("amount=") ? `amount=${amount}` : x.startsWith("include") ? `include_payment_method_fee=${include}` : x)))
    expect((await call("POST", `/payments/${p.id}/refund_request`, body(1101, true))).status).toBe(422) // 1101 + 190 > 1290
    const r = await call("POST", `/payments/${p.id}/refund_request`, body(1000, true))
    expect(r.status).toBe(200)
    expect((await call("POST", `/payments/${p.id}/refund_request`, body(50, true))).json.error.param).toBe("include_payment_method_fee")
    expect((await call("POST", `/payments/${p.id}/refund_request`, body(100, false))).status).toBe(200)
    const done = await control(`/_sandbox/refund_requests/${r.json.refund_requests[0].id}/complete`)
    expect(done.json.amount_refunded).toBe(1190)
  })

  test("missing or malformed bank fields are refused; seed 001's older example lacks bank_code", async () => {
    const p = await paid("konbini")
    const old = await call("POST", `/payments/${p.id}/refund_request`, form(REFUND_REQUEST_001))
    expect(old.status).toBe(422)
    expect(old.json.error).toMatchObject({ code: "missing_parameter", param: "bank_code" })
    for (const [field, bad] of [["bank_code", "12"], ["branch_number", "1234"], ["account_number", "12345678"], ["account_type", "savings"], ["customer_name", "山田太郎"]] as const) {
      const r = await call("POST", `/payments/${p.id}/refund_request`, form(REFUND_REQUEST_000.map((x) => (x.startsWith(`${field}=`) ? `${field}=${bad}` : x))))
      expect(r.json.error.param, field).toBe(field)
    }
    expect((await call("POST", `/payments/${p.id}/refund_request`, form(REFUND_REQUEST_000.filter((x) => !x.startsWith("include"))))).json.error.param).toBe("include_payment_method_fee")
  })

  test("a refund request on a card payment is refused", async () => {
    const p = await create("credit_card")
    const r = await call("POST", `/payments/${p.id}/refund_request`, form(REFUND_REQUEST_000))
    expect(r.status).toBe(422)
    expect(r.json.error.code).toBe("unprocessable_entity")
  })
})

describe("auth, idempotency, faults, clock", () => {
  test("a wrong or missing secret key is 401 unauthorized in KOMOJU's envelope", async () => {
    const r = await fetch(`${sb.apiUrl}/payments`, { headers: { authorization: auth("sk_wrong") } })
    expect(r.status).toBe(401)
    expect(((await r.json()) as any).error.code).toBe("unauthorized")
    expect((await fetch(`${sb.apiUrl}/payments`)).status).toBe(401)
  })

  test("the same X-KOMOJU-IDEMPOTENCY key and body answer the first result without a second refund", async () => {
    const p = await create("credit_card")
    const h = { "X-KOMOJU-IDEMPOTENCY": "refund-once" }
    const a = await call("POST", `/payments/${p.id}/refund`, { amount: 100 }, h)
    const b = await call("POST", `/payments/${p.id}/refund`, { amount: 100 }, h)
    expect(b.json).toEqual(a.json)
    expect((await call("GET", `/payments/${p.id}`)).json.amount_refunded).toBe(100)
    const other = await call("POST", `/payments/${p.id}/refund`, { amount: 200 }, h)
    expect(other.status).toBe(422)
    expect((await call("POST", `/payments/${p.id}/refund`, { amount: 1 }, { "X-KOMOJU-IDEMPOTENCY": "x".repeat(101) })).status).toBe(400)
  })

  test("drop_response performs the refund; the retry with the same key gets the first answer", async () => {
    const p = await create("credit_card")
    await control("/_sandbox/faults", { path: "/api/v1/payments/:id/refund", method: "POST", mode: "drop_response", count: 1 })
    await expect(call("POST", `/payments/${p.id}/refund`, { amount: 100 }, { "X-KOMOJU-IDEMPOTENCY": "k1" })).rejects.toThrow()
    const retry = await call("POST", `/payments/${p.id}/refund`, { amount: 100 }, { "X-KOMOJU-IDEMPOTENCY": "k1" })
    expect(retry.json.amount_refunded).toBe(100)
    expect(retry.json.refunds).toHaveLength(1)
  })

  test("moving the clock past a deadline expires pending and authorized payments", async () => {
    await control("/_sandbox/clock", { now: "2020-06-09T07:42:04Z" })
    const k = await create("konbini")
    const card = await create("credit_card")
    await control("/_sandbox/clock", { now: "2020-06-12T14:59:59Z" })
    expect((await call("GET", `/payments/${k.id}`)).json.status).toBe("authorized")
    await control("/_sandbox/clock", { now: "2020-06-12T15:00:00Z" })
    expect((await call("GET", `/payments/${k.id}`)).json.status).toBe("expired")
    expect((await call("GET", `/payments/${card.id}`)).json.status).toBe("captured")
    expect((await control(`/_sandbox/payments/${k.id}/pay`)).status).toBe(422)
  })

  test("customer actions: pay, fail; an authorized card waits for the merchant", async () => {
    const lp = await create("line_pay")
    expect((await control(`/_sandbox/payments/${lp.id}/fail`)).json.status).toBe("failed")
    const card = await create("credit_card", { capture: false })
    expect((await control(`/_sandbox/payments/${card.id}/pay`)).status).toBe(422)
  })
})
