/**
 * End to end through `createEngine` against the KOMOJU sandbox over HTTP: every seed example
 * (create per method, show, list, update, capture, cancel, refunds per method, refund requests)
 * and each rule's refusal, with webhooks flowing back to the engine.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { KomojuClient } from "../../adapters/providers/komoju/index.js"
import { isPaystateError } from "../../src/errors.js"
import { BANK, startWorld, type KomojuWorld } from "./helpers.js"
import { CANCEL_EXAMPLES, CREATE_EXAMPLES, CURRENCY, DETAILS, REFUND_EXAMPLES } from "./seeds.js"

let w: KomojuWorld
beforeAll(async () => {
  w = await startWorld()
})
afterAll(() => w.close())

const create = (method: string, extra: Record<string, unknown> = {}) =>
  w.engine.payments.create({ provider: "komoju", amount: 1000, currency: CURRENCY[method] ?? "JPY", payment_details: DETAILS[method], ...extra })
const paid = async (method: string, extra: Record<string, unknown> = {}) => {
  const p = await create(method, extra)
  if (p.status === "authorized") {
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    await w.settle()
  }
  return w.engine.payments.get(p.id)
}
const rejects = async (p: Promise<unknown>, code: string) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(isPaystateError(e), String(e)).toBe(true)
  expect((e as { code: string }).code).toBe(code)
  return e as { code: string; message: string; details: any }
}
const client = <A>(f: (c: typeof KomojuClient.Service) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(Effect.gen(function* () { return yield* f(yield* KomojuClient) }).pipe(Effect.provide(KomojuClient.layer({ baseUrl: w.sandbox.apiUrl, secretKey: w.sandbox.secretKey }))) as Effect.Effect<A, never>)

describe("create: one payment per seed method", () => {
  for (const ex of CREATE_EXAMPLES) {
    test(`${ex.method} → ${ex.status}, the ceiling is KOMOJU's total`, async () => {
      const p = await create(ex.method, { amount: ex.amount, ...(ex.tax === 0 ? { tax: 0 } : {}), metadata: { order: "o-1" } })
      expect(p).toMatchObject({ provider: "komoju", status: ex.status, amount: ex.total, currency: ex.currency, method: ex.method, metadata: { order: "o-1" } })
      expect(p.providerRef).toMatch(/^[0-9a-z]{25}$/)
      expect(p.capturedAmount).toBe(ex.status === "captured" ? ex.total : 0)
      expect(p.deadline === null).toBe(ex.deadline === null)
      const at = await client((c) => c.show(p.providerRef!))
      expect(at.metadata).toEqual({ order: "o-1", paystate_payment_id: p.id })
      expect(at.status).toBe(ex.status)
    })
  }

  test("a customer payment starts pending; the customer paying it captures it", async () => {
    const p = await w.engine.payments.create({ provider: "komoju", amount: 300, currency: "JPY", customer: "cus_123" })
    expect(p).toMatchObject({ status: "pending", amount: 330, method: null })
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    await w.settle()
    expect((await w.engine.payments.get(p.id)).status).toBe("captured")
  })

  test("capture: false leaves a card authorized; only a card's capture=false matters", async () => {
    expect((await create("credit_card", { capture: false })).status).toBe("authorized")
    expect((await create("web_money", { capture: false })).status).toBe("captured")
  })

  test("bad input is INVALID_INPUT and writes nothing", async () => {
    const before = (await w.engine.payments.list({ perPage: 1000 })).total
    await rejects(w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY" }), "INVALID_INPUT")
    await rejects(w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", customer: "c", payment_details: DETAILS.konbini }), "INVALID_INPUT")
    await rejects(w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "USD", payment_details: DETAILS.konbini }), "INVALID_INPUT")
    await rejects(w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "konbini", email: "a@b.c" } }), "INVALID_INPUT")
    await rejects(w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: DETAILS.konbini, payment_detail: {} }), "INVALID_INPUT")
    expect((await w.engine.payments.list({ perPage: 1000 })).total).toBe(before)
  })

  test("a declined card fails the payment with KOMOJU's answer", async () => {
    const e = await rejects(create("credit_card", { payment_details: { ...DETAILS.credit_card, number: "4000000000000002" } }), "PROVIDER_REJECTED")
    const failed = await w.engine.payments.get(e.details.paymentId)
    expect(failed.status).toBe("failed")
  })
})

describe("show, sync and list", () => {
  test("sync reads the payment at KOMOJU (show) and applies it", async () => {
    const p = await create("konbini", { description: "d1" })
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    // no settle: sync alone brings the news
    const s = await w.engine.payments.sync(p.id)
    expect(s.status).toBe("captured")
    await w.settle()
  })

  test("the sandbox list through the client, with each filter and pages", async () => {
    const order = `list-${Date.now()}`
    const a = await create("konbini", { externalOrderNum: order })
    const b = await create("bit_cash", { externalOrderNum: order })
    const c = await create("mobile", { externalOrderNum: order })
    const page = await client((x) => x.listPayments({ external_order_num: order }))
    expect(page.data.map((p) => p.id)).toEqual([c.providerRef, b.providerRef, a.providerRef])
    expect((await client((x) => x.listPayments({ external_order_num: order, status: "captured" }))).data.map((p) => p.id)).toEqual([b.providerRef])
    expect((await client((x) => x.listPayments({ external_order_num: order, currency: "KRW" }))).data.map((p) => p.id)).toEqual([c.providerRef])
    const p2 = await client((x) => x.listPayments({ external_order_num: order, per_page: 2, page: 2 }))
    expect(p2).toMatchObject({ total: 3, page: 2, per_page: 2, last_page: 2 })
    const since = await client((x) => x.listPayments({ start_time: new Date(Date.now() + 3_600_000).toISOString() }))
    expect(since.total).toBe(0)
    const until = await client((x) => x.listPayments({ external_order_num: order, end_time: new Date(Date.now() + 3_600_000).toISOString() }))
    expect(until.total).toBe(3)
  })

  test("the engine's list filters by status, currency, externalOrderNum, time, with pages", async () => {
    const order = `elist-${Date.now()}`
    w.clock.set("2030-01-01T00:00:00.000Z")
    const a = await create("konbini", { externalOrderNum: order })
    w.clock.set("2030-01-02T00:00:00.000Z")
    const b = await create("happy_money", { externalOrderNum: order })
    w.clock.set(new Date().toISOString())
    const ids = async (q: object) => (await w.engine.payments.list({ externalOrderNum: order, ...q })).data.map((p) => p.id)
    expect(new Set(await ids({}))).toEqual(new Set([a.id, b.id]))
    expect(await ids({ status: "authorized" })).toEqual([a.id])
    expect(await ids({ currency: "KRW" })).toEqual([b.id])
    expect(await ids({ startTime: "2030-01-01T12:00:00Z" })).toEqual([b.id])
    expect(await ids({ endTime: "2030-01-01T12:00:00Z" })).toEqual([a.id])
    const page = await w.engine.payments.list({ externalOrderNum: order, perPage: 1, page: 2 })
    expect(page).toMatchObject({ total: 2, page: 2, perPage: 1, lastPage: 2 })
  })
})

describe("update, capture, cancel", () => {
  test("update changes description and metadata at KOMOJU and keeps paystate's id there", async () => {
    const p = await create("konbini", { metadata: { a: "1" } })
    const u = await w.engine.payments.update({ paymentId: p.id, description: "updated description", metadata: { updated: "metadata" } })
    expect(u).toMatchObject({ description: "updated description", metadata: { updated: "metadata" } })
    const at = await client((c) => c.show(p.providerRef!))
    expect(at).toMatchObject({ description: "updated description", metadata: { updated: "metadata", paystate_payment_id: p.id } })
    await w.settle()
    expect((await w.engine.payments.get(p.id)).metadata).toEqual({ updated: "metadata" })
  })

  test("capture of an authorized card; capture of a konbini is refused and writes nothing", async () => {
    const card = await create("credit_card", { capture: false })
    const c = await w.engine.payments.capture({ paymentId: card.id })
    expect(c).toMatchObject({ status: "captured", capturedAmount: 1100 })
    const k = await create("konbini")
    const before = await w.engine.payments.history(k.id)
    const e = await rejects(w.engine.payments.capture({ paymentId: k.id }), "INVALID_TRANSITION")
    expect(e.message).toMatch(/credit_card/)
    expect(await w.engine.payments.history(k.id)).toEqual(before)
    expect((await client((x) => x.show(k.providerRef!))).status).toBe("authorized")
  })

  for (const ex of CANCEL_EXAMPLES) {
    test(`cancel of an authorized ${ex.method}`, async () => {
      const p = await create(ex.method, { tax: ex.tax, ...("capture" in ex ? { capture: ex.capture } : {}) })
      const c = await w.engine.payments.cancel({ paymentId: p.id })
      expect(c.status).toBe("cancelled")
      expect((await client((x) => x.show(p.providerRef!))).status).toBe("cancelled")
    })
  }

  test("cancel of a captured payment is refused: refund it instead", async () => {
    const p = await create("credit_card")
    const e = await rejects(w.engine.payments.cancel({ paymentId: p.id }), "INVALID_TRANSITION")
    expect(e.message).toMatch(/refund/)
  })
})

describe("refunds per method", () => {
  for (const ex of REFUND_EXAMPLES) {
    const amount = ex.d.find((x) => x.startsWith("amount="))
    test(`${ex.method}: refund ${amount ?? "everything"} → ${ex.refundStatus}`, async () => {
      const p = await paid(ex.method, { ...("amount" in ex ? { amount: ex.amount } : {}), ...(ex.tax !== undefined ? { tax: ex.tax } : {}) })
      const options = Object.fromEntries(ex.d.filter((x) => !x.startsWith("amount=")).map((x) => x.split("=") as [string, string]))
      const r = await w.engine.payments.refund({ paymentId: p.id, ...(amount ? { amount: Number(amount.slice(7)) } : {}), ...options })
      expect(r.refunds).toHaveLength(1)
      expect(r.refunds[0]).toMatchObject({ kind: "refund", amount: ex.refund, status: ex.refundStatus === "completed" ? "succeeded" : "pending", providerStatus: ex.refundStatus })
      expect(r.status).toBe(ex.paymentStatus)
      const at = await client((c) => c.show(p.providerRef!))
      expect(at.amount_refunded).toBe(ex.amountRefunded)
      if (ex.refundStatus === "pending") {
        // the customer collects the cash refund: the webhook settles it
        expect(r.reservedAmount).toBe(ex.refund)
        await w.control(`/_sandbox/refunds/${r.refunds[0]!.providerRef}/complete`)
        await w.settle()
        const done = await w.engine.payments.get(p.id)
        expect(done.refunds[0]!.status).toBe("succeeded")
        expect(done.status).toBe(ex.refund === done.capturedAmount ? "refunded" : "captured")
      }
    })
  }

  for (const method of Object.keys(DETAILS)) {
    test(`${method}: a partial refund, then everything left`, async () => {
      const p = await paid(method)
      const first = await w.engine.payments.refund({ paymentId: p.id, amount: 100 })
      const all = await w.engine.payments.refund({ paymentId: first.id })
      expect(all.refunds.map((r) => r.amount)).toEqual([100, p.amount - 100])
      const cash = ["konbini", "bank_transfer", "pay_easy"].includes(method)
      expect(all.refunds.map((r) => r.status)).toEqual(cash ? ["pending", "pending"] : ["succeeded", "succeeded"])
      if (cash) {
        expect(all).toMatchObject({ status: "captured", reservedAmount: p.amount, refundableAmount: 0 })
        for (const r of all.refunds) await w.control(`/_sandbox/refunds/${r.providerRef}/complete`)
        await w.settle()
      }
      expect(await w.engine.payments.get(p.id)).toMatchObject({ status: "refunded", refundedAmount: p.amount })
      expect((await client((c) => c.show(p.providerRef!))).status).toBe("refunded")
    })
  }

  test("partial then full; a refund above what is left is refused and writes nothing", async () => {
    const p = await create("credit_card")
    let v = await w.engine.payments.refund({ paymentId: p.id, amount: 500 })
    expect(v).toMatchObject({ state: "captured.partiallyRefunded", refundedAmount: 500, refundableAmount: 600 })
    const before = await w.engine.payments.history(p.id)
    const e = await rejects(w.engine.payments.refund({ paymentId: p.id, amount: 601 }), "REFUND_EXCEEDS_REFUNDABLE")
    expect(e.details).toMatchObject({ refundable: 600 })
    expect(await w.engine.payments.history(p.id)).toEqual(before)
    v = await w.engine.payments.refund({ paymentId: p.id })
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 1100, refundableAmount: 0 })
    expect((await client((c) => c.show(p.providerRef!))).status).toBe("refunded")
    await rejects(w.engine.payments.refund({ paymentId: p.id, amount: 1 }), "REFUND_EXCEEDS_REFUNDABLE")
  })

  test("a pending cash refund holds its amount against the ceiling", async () => {
    const p = await paid("bank_transfer")
    await w.engine.payments.refund({ paymentId: p.id, amount: 800 })
    await rejects(w.engine.payments.refund({ paymentId: p.id, amount: 301 }), "REFUND_EXCEEDS_REFUNDABLE")
    const v = await w.engine.payments.refund({ paymentId: p.id })
    expect(v.refunds.map((r) => r.amount)).toEqual([800, 300])
  })
})

describe("refund requests", () => {
  test("konbini paid, refunded through a refund request that KOMOJU completes", async () => {
    const p = await paid("konbini")
    const v = await w.engine.payments.refundRequest({ paymentId: p.id, ...BANK, include_payment_method_fee: false })
    expect(v.refunds[0]).toMatchObject({ kind: "refund_request", amount: 1100, status: "pending", providerStatus: "pending" })
    const at = await client((c) => c.show(p.providerRef!))
    expect(at.refund_requests[0]).toMatchObject({ id: v.refunds[0]!.providerRef, bank_code: "1234", status: "pending" })
    await w.control(`/_sandbox/refund_requests/${v.refunds[0]!.providerRef}/complete`)
    await w.settle()
    expect(await w.engine.payments.get(p.id)).toMatchObject({ status: "refunded", refundedAmount: 1100 })
  })

  test("a rejected refund request releases its amount", async () => {
    const p = await paid("pay_easy")
    const v = await w.engine.payments.refundRequest({ paymentId: p.id, amount: 600, ...BANK })
    await rejects(w.engine.payments.refundRequest({ paymentId: p.id, amount: 501, ...BANK, include_payment_method_fee: false }), "REFUND_EXCEEDS_REFUNDABLE")
    await w.control(`/_sandbox/refund_requests/${v.refunds[0]!.providerRef}/reject`)
    await w.settle()
    const after = await w.engine.payments.get(p.id)
    expect(after.refunds[0]).toMatchObject({ status: "failed", providerStatus: "rejected" })
    expect(after.refundableAmount).toBe(1100)
    const again = await w.engine.payments.refundRequest({ paymentId: p.id, ...BANK })
    expect(again.refunds[1]).toMatchObject({ amount: 1100, status: "pending" })
  })

  test("a refund request on a card payment is refused; bad bank fields are INVALID_INPUT", async () => {
    const card = await create("credit_card")
    await rejects(w.engine.payments.refundRequest({ paymentId: card.id, amount: 100, ...BANK }), "INVALID_TRANSITION")
    const k = await paid("konbini")
    await rejects(w.engine.payments.refundRequest({ paymentId: k.id, ...BANK, bank_code: "12" }), "INVALID_INPUT")
    const { bank_code: _omit, ...noCode } = BANK
    await rejects(w.engine.payments.refundRequest({ paymentId: k.id, ...noCode }), "INVALID_INPUT")
    expect((await w.engine.payments.get(k.id)).refunds).toHaveLength(0)
  })
})

describe("deadline", () => {
  test("a konbini not paid by its deadline expires, in the engine and at KOMOJU", async () => {
    const p = await create("konbini")
    const after = new Date(Date.parse(p.deadline!) + 1000).toISOString()
    await w.setTime(after)
    await w.engine.runDueTimers()
    await w.settle()
    expect((await w.engine.payments.get(p.id)).status).toBe("expired")
    expect((await client((c) => c.show(p.providerRef!))).status).toBe("expired")
    await w.setTime(new Date().toISOString())
  })
})
