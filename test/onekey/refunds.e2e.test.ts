/**
 * OneKey end to end: the engine against the OneKey sandbox over HTTP on 127.0.0.1, notifications
 * delivered to a real webhook route.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { make, onekey, ONEKEY_SANDBOX_DEFAULTS, startOnekeySandbox } from "../../adapters/providers/onekey/index.js"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { createEngine, type Engine } from "../../src/engine.js"
import { startWebhookReceiver, type WebhookReceiver } from "../../src/testing/webhook-receiver.js"

const payer = { document: "ROMC850101", email: "carlos@example.com", first_name: "Carlos", last_name: "Ramirez" }
const bank_account = { beneficiary: "Carlos Ramirez", bank_code: 1, branch: "9283", account_number: "18293435", account_type: "SAVING" as const }

let sandbox: RunningSandbox
let receiver: WebhookReceiver
let engine: Engine
const client = () => make({ baseUrl: sandbox.url, ...ONEKEY_SANDBOX_DEFAULTS })
const control = (path: string, body: unknown = {}) => fetch(sandbox.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
const settle = async () => {
  await sandbox.kernel.settled()
}

beforeAll(async () => {
  receiver = await startWebhookReceiver(() => engine)
  sandbox = await startOnekeySandbox({ webhookUrl: `${receiver.url}/webhooks/onekey` })
  engine = createEngine({ store: memoryStore(), providers: { onekey: onekey({ baseUrl: sandbox.url, ...ONEKEY_SANDBOX_DEFAULTS, retries: 1, timeoutMs: 2000 }) }, backgroundIntervalMs: 0 })
})
afterAll(async () => {
  await engine.close()
  await sandbox.close()
  await receiver.close()
})
beforeEach(async () => {
  await control("/_sandbox/webhooks", { mode: "normal" })
})

/** A deposit the customer has paid. */
const paidDeposit = async (amount: number, payment_method = "OX") => {
  const p = await engine.payments.create({ provider: "onekey", amount, currency: "MXN", country: "MX", payment_method, payer })
  expect(p).toMatchObject({ status: "pending", providerRef: expect.any(String) })
  await control(`/_sandbox/deposits/${p.providerRef}/complete`)
  await settle()
  const paid = await engine.payments.get(p.id)
  expect(paid).toMatchObject({ status: "captured", capturedAmount: amount })
  return paid
}

const refundMovements = async (depositId: string) => {
  const ledger = (await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: { type: string; paymentId: string; amount: number }[] }
  return ledger.movements.filter((m) => m.paymentId === depositId && m.type !== "capture")
}

describe("OneKey refunds through the engine", () => {
  it("refuses a refund of a deposit the customer has not paid (801 at the provider, refused locally first)", async () => {
    const p = await engine.payments.create({ provider: "onekey", amount: 1000, currency: "MXN", country: "MX", payment_method: "OX", payer })
    await expect(engine.payments.refund({ paymentId: p.id, amount: 100, bank_account })).rejects.toMatchObject({ code: "INVALID_TRANSITION" })
    const direct = await Effect.runPromise(Effect.flip(client().createRefund({ deposit_id: Number(p.providerRef), invoice_id: p.id, amount: 1, bank_account }, "k-801")))
    expect(direct).toMatchObject({ code: "PROVIDER_REJECTED", details: { code: 801, type: "DEPOSIT_NOT_COMPLETED" } })
  })

  it("takes partial refunds up to the deposit, then refuses one more (locally, and 802 at the provider)", async () => {
    const p = await paidDeposit(100000)
    for (const amount of [40000, 35000, 25000]) await engine.payments.refund({ paymentId: p.id, amount, bank_account })
    const v = await engine.payments.get(p.id)
    expect(v).toMatchObject({ reservedAmount: 100000, refundableAmount: 0 })
    expect(v.refunds.map((r) => r.providerStatus)).toEqual(["PENDING", "PENDING", "PENDING"])
    await expect(engine.payments.refund({ paymentId: p.id, amount: 1, bank_account })).rejects.toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE" })
    const direct = await Effect.runPromise(Effect.flip(client().createRefund({ deposit_id: Number(p.providerRef), invoice_id: p.id, amount: 0.01, bank_account }, "k-802")))
    expect(direct).toMatchObject({ details: { code: 802, type: "INVALID_AMOUNT_TO_REFUND" } })
    expect((await refundMovements(p.providerRef!)).reduce((s, m) => s + m.amount, 0)).toBe(100000)
  })

  it("gets 802 from the provider when a refund made outside paystate already took the amount", async () => {
    const p = await paidDeposit(50000)
    await Effect.runPromise(client().createRefund({ deposit_id: Number(p.providerRef), invoice_id: p.id, amount: 300, bank_account }, "outside-1"))
    const err = await engine.payments.refund({ paymentId: p.id, amount: 30000, bank_account }).catch((e) => e)
    expect(err).toMatchObject({ code: "PROVIDER_REJECTED", details: { provider: { code: 802 } } })
    const v = await engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "failed", amount: 30000 })
    expect(v.reservedAmount).toBe(0)
  })

  it("refuses a cash refund without a bank account before calling (804), and the provider answers 804 too", async () => {
    const p = await paidDeposit(20000)
    await expect(engine.payments.refund({ paymentId: p.id, amount: 100 })).rejects.toMatchObject({ code: "INVALID_INPUT", details: { providerCode: 804 } })
    const direct = await Effect.runPromise(Effect.flip(client().createRefund({ deposit_id: Number(p.providerRef), invoice_id: p.id, amount: 1 }, "k-804")))
    expect(direct).toMatchObject({ details: { code: 804, type: "MISSING_BANK_ACCOUNT" } })
    expect((await engine.payments.get(p.id)).refunds).toEqual([])
  })

  it("answers 208 for an unknown deposit", async () => {
    const direct = await Effect.runPromise(Effect.flip(client().createRefund({ deposit_id: 1, invoice_id: "nope", amount: 1, bank_account }, "k-208")))
    expect(direct).toMatchObject({ code: "PROVIDER_REJECTED", details: { code: 208, type: "RESOURCE_NOT_FOUND", status: 404 } })
    const status = await Effect.runPromise(Effect.flip(client().getRefund(999999)))
    expect(status).toMatchObject({ details: { code: 208 } })
  })

  it("follows a bank refund PENDING → DELIVERED → COMPLETED through notifications", async () => {
    const p = await paidDeposit(30000)
    const r = (await engine.payments.refund({ paymentId: p.id, amount: 10000, bank_account })).refunds[0]!
    await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "DELIVERED" })
    await settle()
    expect((await engine.payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", providerStatus: "DELIVERED" })
    await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "COMPLETED" })
    await settle()
    const v = await engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", providerStatus: "COMPLETED" })
    expect(v).toMatchObject({ refundedAmount: 10000, state: "captured.partiallyRefunded" })
  })

  it("records a COMPLETED refund the bank reverses to REJECTED, and restores the ceiling", async () => {
    const p = await paidDeposit(30000)
    const r = (await engine.payments.refund({ paymentId: p.id, bank_account })).refunds[0]!
    await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "COMPLETED" })
    await settle()
    expect((await engine.payments.get(p.id)).status).toBe("refunded")
    await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "REJECTED" })
    await settle()
    const v = await engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "reversed", providerStatus: "REJECTED", amount: 30000 })
    expect(v).toMatchObject({ status: "captured", refundedAmount: 0, refundableAmount: 30000 })
    const again = await engine.payments.refund({ paymentId: p.id, amount: 30000, bank_account })
    expect(again.refunds).toHaveLength(2)
  })

  it("releases a CANCELLED refund's amount", async () => {
    const p = await paidDeposit(30000)
    const r = (await engine.payments.refund({ paymentId: p.id, amount: 30000, bank_account })).refunds[0]!
    await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "INCORRECT_DETAILS" })
    await settle()
    expect((await engine.payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", providerStatus: "INCORRECT_DETAILS" })
    await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "CANCELLED" })
    await settle()
    const v = await engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "failed", providerStatus: "CANCELLED" })
    expect(v.refundableAmount).toBe(30000)
  })

  it("card refunds answer SUCCESS, REJECTED (with reason) or IN_PROGRESS (settled by notification)", async () => {
    const a = await paidDeposit(50595, "AE")
    const ok = await engine.payments.refund({ paymentId: a.id })
    expect(ok).toMatchObject({ status: "refunded" })
    expect(ok.refunds[0]).toMatchObject({ status: "succeeded", providerStatus: "SUCCESS" })

    const b = await paidDeposit(20000, "VI")
    await control("/_sandbox/cards/next-result", { result: "REJECTED", reason: "Card expired", reason_code: "CARD_EXPIRED" })
    const rejected = await engine.payments.refund({ paymentId: b.id })
    expect(rejected.refunds[0]).toMatchObject({ status: "failed", providerStatus: "REJECTED", reason: "CARD_EXPIRED: Card expired" })
    expect(rejected.refundableAmount).toBe(20000)

    const c = await paidDeposit(20000, "MC")
    await control("/_sandbox/cards/next-result", { result: "IN_PROGRESS" })
    const inProgress = await engine.payments.refund({ paymentId: c.id })
    expect(inProgress.refunds[0]).toMatchObject({ status: "pending", providerStatus: "IN_PROGRESS" })
    await control(`/_sandbox/refunds/${inProgress.refunds[0]!.providerRef}/status`, { status: "COMPLETED" })
    await settle()
    expect(await engine.payments.get(c.id)).toMatchObject({ status: "refunded", refundedAmount: 20000 })
  })

  it("refuses a partial card refund (seed 002: card deposits are refunded in full)", async () => {
    const p = await paidDeposit(20000, "VI")
    await expect(engine.payments.refund({ paymentId: p.id, amount: 5000 })).rejects.toMatchObject({ code: "INVALID_INPUT", details: { providerCode: 802 } })
  })

  it("shrugs off duplicated and reordered notifications", async () => {
    const p = await paidDeposit(30000)
    const r = (await engine.payments.refund({ paymentId: p.id, amount: 30000, bank_account })).refunds[0]!
    await control("/_sandbox/webhooks", { mode: "duplicate" })
    await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "DELIVERED" })
    await control("/_sandbox/webhooks", { mode: "reorder" })
    await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "COMPLETED" })
    await control("/_sandbox/webhooks/flush")
    await settle()
    // Every notification is only a pointer: each fetch reads the current status, so order cannot matter.
    const v = await engine.payments.get(p.id)
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 30000 })
    expect(v.refunds).toHaveLength(1)
  })

  it("an unsigned notification is never trusted: a forged status changes nothing", async () => {
    const p = await paidDeposit(30000)
    const r = (await engine.payments.refund({ paymentId: p.id, amount: 30000, bank_account })).refunds[0]!
    const res = await fetch(`${receiver.url}/webhooks/onekey`, { method: "POST", body: JSON.stringify({ refund_id: r.providerRef, status: "COMPLETED" }) })
    expect(res.status).toBe(200)
    expect((await engine.payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", providerStatus: "PENDING" })
  })

  it("a refund left pending is polled on a durable schedule and flagged for review after the last try", async () => {
    const { manualClock } = await import("../../src/clock.js")
    const clock = manualClock()
    const e = createEngine({ store: memoryStore(), providers: { onekey: onekey({ baseUrl: sandbox.url, ...ONEKEY_SANDBOX_DEFAULTS }) }, clock, backgroundIntervalMs: 0 })
    await control("/_sandbox/webhook-url", { url: null })
    try {
      const p = await e.payments.create({ provider: "onekey", amount: 10000, currency: "MXN", country: "MX", payment_method: "SE", payer })
      await control(`/_sandbox/deposits/${p.providerRef}/complete`)
      await e.payments.sync(p.id)
      const r = (await e.payments.refund({ paymentId: p.id, amount: 10000, bank_account })).refunds[0]!
      clock.advance(5 * 60_000)
      expect(await e.runDueTimers()).toBe(1)
      await control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "DELIVERED" })
      for (const m of [25, 125, 625]) {
        clock.advance(m * 60_000)
        expect(await e.runDueTimers()).toBe(1)
      }
      const v = await e.payments.get(p.id)
      expect(v.refunds[0]).toMatchObject({ status: "pending", providerStatus: "DELIVERED", needsReview: true })
    } finally {
      await control("/_sandbox/webhook-url", { url: `${receiver.url}/webhooks/onekey` })
      await e.close()
    }
  })
})
