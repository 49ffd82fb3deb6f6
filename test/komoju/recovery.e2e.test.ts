/**
 * Effects whose outcome is unknown (timeouts, 500s, dropped answers) are looked up at KOMOJU before
 * anything is sent again: one money movement per logical operation, whatever the faults.
 * Webhooks are off here, so only the adapter's reconciliation and polls can bring the news.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest"
import { isPaystateError } from "../../src/errors.js"
import { BANK, startWorld, type KomojuWorld } from "./helpers.js"
import { DETAILS } from "./seeds.js"

let w: KomojuWorld
beforeAll(async () => {
  w = await startWorld({ webhooks: false })
})
afterAll(() => w.close())
beforeEach(() => {
  w.sandbox.kernel.faults.length = 0
})

const fault = (path: string, mode: "timeout" | "error500" | "drop_response", count = 3, method = "POST") => w.control("/_sandbox/faults", { path, method, mode, count })
const unavailable = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (x: unknown) => x)
  expect(isPaystateError(e, "PROVIDER_UNAVAILABLE"), String(e)).toBe(true)
  return (e as { details: { paymentId: string } }).details.paymentId
}
const recover = async () => {
  w.clock.advance(60_000)
  await w.engine.recover()
}
const ledger = async (paymentRef: string) => ((await (await fetch(`${w.sandbox.url}/_sandbox/ledger`)).json()) as { movements: any[] }).movements.filter((m) => m.paymentId === paymentRef)
const create = (method: string, extra: Record<string, unknown> = {}) => w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: DETAILS[method], ...extra })

describe("create", () => {
  test("never performed (timeout): recovery finds nothing and sends it again with the same key", async () => {
    const order = `rc-timeout-${Date.now()}`
    await fault("/api/v1/payments", "timeout", 3)
    const id = await unavailable(create("bit_cash", { externalOrderNum: order }))
    expect((await w.engine.payments.get(id)).status).toBe("pending")
    await recover()
    const v = await w.engine.payments.get(id)
    expect(v.status).toBe("captured")
    expect((await w.api("GET", `/payments?external_order_num=${order}`)).json.total).toBe(1)
  })

  test("performed, answer lost: recovery finds it by paystate's id without sending again", async () => {
    await fault("/api/v1/payments", "drop_response", 3)
    const id = await unavailable(create("konbini"))
    // any re-send would now fail: the lookup alone must settle it
    await fault("/api/v1/payments", "error500", 10)
    await recover()
    const v = await w.engine.payments.get(id)
    expect(v).toMatchObject({ status: "authorized", amount: 1100 })
    expect(v.providerRef).toMatch(/^[0-9a-z]{25}$/)
  })
})

describe("capture, cancel, update", () => {
  test("a capture whose answer was lost is found captured", async () => {
    const p = await create("credit_card", { capture: false })
    await fault(`/api/v1/payments/${p.providerRef}/capture`, "drop_response")
    await unavailable(w.engine.payments.capture({ paymentId: p.id }))
    await fault(`/api/v1/payments/${p.providerRef}/capture`, "error500", 10)
    await recover()
    expect((await w.engine.payments.get(p.id)).status).toBe("captured")
    expect((await ledger(p.providerRef!)).filter((m) => m.type === "capture")).toHaveLength(1)
  })

  test("a capture that never happened is sent again once KOMOJU answers", async () => {
    const p = await create("credit_card", { capture: false })
    await fault(`/api/v1/payments/${p.providerRef}/capture`, "error500", 3)
    await unavailable(w.engine.payments.capture({ paymentId: p.id }))
    await recover()
    expect((await w.engine.payments.get(p.id)).status).toBe("captured")
  })

  test("a cancel whose answer was lost is found cancelled", async () => {
    const p = await create("paidy")
    await fault(`/api/v1/payments/${p.providerRef}/cancel`, "drop_response")
    await unavailable(w.engine.payments.cancel({ paymentId: p.id }))
    await fault(`/api/v1/payments/${p.providerRef}/cancel`, "error500", 10)
    await recover()
    expect((await w.engine.payments.get(p.id)).status).toBe("cancelled")
  })

  test("an update whose answer was lost is found applied", async () => {
    const p = await create("konbini")
    await fault(`/api/v1/payments/${p.providerRef}`, "drop_response", 3, "PATCH")
    await unavailable(w.engine.payments.update({ paymentId: p.id, description: "late" }))
    await recover()
    expect((await w.engine.payments.get(p.id)).description).toBe("late")
  })
})

describe("refunds and refund requests", () => {
  test("a refund never performed (500s) is sent again: one refund", async () => {
    const p = await create("credit_card")
    await fault(`/api/v1/payments/${p.providerRef}/refund`, "error500", 3)
    await unavailable(w.engine.payments.refund({ paymentId: p.id, amount: 400 }))
    const mid = await w.engine.payments.get(p.id)
    expect(mid).toMatchObject({ reservedAmount: 400, refundableAmount: 700 })
    await recover()
    const v = await w.engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", amount: 400 })
    expect((await ledger(p.providerRef!)).filter((m) => m.type === "refund")).toHaveLength(1)
  })

  test("a refund performed but unanswered is found, not sent again", async () => {
    const p = await create("credit_card")
    await fault(`/api/v1/payments/${p.providerRef}/refund`, "drop_response", 3)
    await unavailable(w.engine.payments.refund({ paymentId: p.id, amount: 250 }))
    await fault(`/api/v1/payments/${p.providerRef}/refund`, "error500", 10)
    await recover()
    const v = await w.engine.payments.get(p.id)
    expect(v.refunds).toHaveLength(1)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", amount: 250 })
    expect((await ledger(p.providerRef!)).filter((m) => m.type === "refund").map((m) => m.amount)).toEqual([250])
  })

  test("a refund request performed but unanswered is found pending, then polled to completed", async () => {
    const p = await create("konbini")
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    await w.engine.payments.sync(p.id)
    await fault(`/api/v1/payments/${p.providerRef}/refund_request`, "drop_response", 3)
    await unavailable(w.engine.payments.refundRequest({ paymentId: p.id, amount: 500, ...BANK }))
    await fault(`/api/v1/payments/${p.providerRef}/refund_request`, "error500", 10)
    await recover()
    let v = await w.engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ kind: "refund_request", status: "pending" })
    expect(((await w.api("GET", `/payments/${p.providerRef}`)).json.refund_requests as unknown[]).length).toBe(1)
    await w.control(`/_sandbox/refund_requests/${v.refunds[0]!.providerRef}/complete`)
    w.clock.advance(3_600_000)
    await w.engine.runDueTimers()
    v = await w.engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", providerStatus: "completed" })
    expect(v.refundedAmount).toBe(500)
  })

  test("a pending cash refund is polled until the customer collects it; the last poll flags it for review", async () => {
    const p = await create("pay_easy")
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    await w.engine.payments.sync(p.id)
    const a = await w.engine.payments.refund({ paymentId: p.id, amount: 100 })
    const b = await w.engine.payments.refund({ paymentId: p.id, amount: 200 })
    expect(b.refunds.map((r) => r.status)).toEqual(["pending", "pending"])
    await w.control(`/_sandbox/refunds/${a.refunds[0]!.providerRef}/complete`)
    w.clock.advance(3_600_000)
    await w.engine.runDueTimers()
    let v = await w.engine.payments.get(p.id)
    expect(v.refunds.map((r) => r.status)).toEqual(["succeeded", "pending"])
    for (const ms of [21_600_000, 86_400_000, 259_200_000, 604_800_000]) {
      w.clock.advance(ms)
      await w.engine.runDueTimers()
    }
    v = await w.engine.payments.get(p.id)
    expect(v.refunds[1]).toMatchObject({ status: "pending", needsReview: true })
  })
})
