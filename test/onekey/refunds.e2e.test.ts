/**
 * OneKey end to end: `createEngine` with the OneKey adapter against the OneKey sandbox over HTTP on
 * 127.0.0.1, notifications delivered to a real webhook route that hands them to the engine.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { ONEKEY_ERRORS } from "../../adapters/providers/onekey/index.js"
import { manualClock } from "../../src/clock.js"
import { bank, bank_account, heldAtProvider, paidDeposit, payer, startWorld, type World } from "./helpers.js"

let world: World
beforeAll(async () => {
  world = await startWorld()
  world.engine = world.newEngine()
})
afterAll(() => world.close())
beforeEach(async () => {
  await world.control("/_sandbox/webhooks", { mode: "normal" })
})
const engine = () => world.engine!

describe("OneKey refunds through the engine", () => {
  it("takes partial refunds up to the deposit, then refuses one more: locally, and with 802 at OneKey", async () => {
    const p = await paidDeposit(world, 100000)
    for (const amount of [40000, 35000, 25000]) await engine().payments.refund({ paymentId: p.id, amount, bank_account })
    const v = await engine().payments.get(p.id)
    expect(v).toMatchObject({ reservedAmount: 100000, refundableAmount: 0 })
    expect(v.refunds.map((r) => [r.status, r.providerStatus])).toEqual([["pending", "PENDING"], ["pending", "PENDING"], ["pending", "PENDING"]])
    await expect(engine().payments.refund({ paymentId: p.id, amount: 1, bank_account })).rejects.toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE", details: { code: 802, refundable: 0 } })
    const direct = await Effect.runPromise(Effect.flip(world.client().createRefund({ deposit_id: Number(p.providerRef), invoice_id: String(p.details.invoice_id), amount: 0.01, bank_account })))
    expect(direct).toMatchObject({ code: "PROVIDER_REJECTED", details: { code: 802, type: "INVALID_AMOUNT_TO_REFUND" } })
    expect(heldAtProvider(await world.ledger(), p.providerRef)).toBe(100000)
  })

  it("records OneKey's 802 as a definite refusal when a refund made outside paystate took the amount", async () => {
    const p = await paidDeposit(world, 50000)
    await Effect.runPromise(world.client().createRefund({ deposit_id: Number(p.providerRef), invoice_id: p.id, amount: 300, bank_account }))
    const err = await engine().payments.refund({ paymentId: p.id, amount: 30000, bank_account }).catch((e) => e)
    expect(err).toMatchObject({ code: "PROVIDER_REJECTED", details: { provider: { code: 802, type: "INVALID_AMOUNT_TO_REFUND", status: 400 } } })
    const v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "failed", amount: 30000, reason: expect.stringContaining("802") })
    expect(v.reservedAmount).toBe(0)
  })

  it("records OneKey's 800, 801, 803, 805 and 208 as definite refusals with their code, releasing the amount", async () => {
    const p = await paidDeposit(world, 10000)
    const codes = [800, 801, 803, 805, 208] as const
    for (const code of codes) {
      await world.control("/_sandbox/refunds/next-error", { code })
      const err = await engine().payments.refund({ paymentId: p.id, amount: 1000, bank_account }).catch((e) => e)
      expect(err).toMatchObject({ code: "PROVIDER_REJECTED", details: { paymentId: p.id, provider: { code, status: ONEKEY_ERRORS[code].status, type: ONEKEY_ERRORS[code].type } } })
    }
    const v = await engine().payments.get(p.id)
    expect(v.refunds.map((r) => [r.status, r.reason?.slice(0, 3)])).toEqual(codes.map((c) => ["failed", String(c)]))
    expect(v.refundableAmount).toBe(10000)
    expect(heldAtProvider(await world.ledger(), p.providerRef)).toBe(0)
  })

  it("refuses a refund of a deposit the customer has not paid, and OneKey answers 801", async () => {
    const p = await engine().payments.create({ provider: "onekey", amount: 1000, currency: "MXN", country: "MX", payment_method: "OX", payer })
    await expect(engine().payments.refund({ paymentId: p.id, amount: 100, bank_account })).rejects.toMatchObject({ code: "INVALID_TRANSITION" })
    const direct = await Effect.runPromise(Effect.flip(world.client().createRefund({ deposit_id: Number(p.providerRef), invoice_id: p.id, amount: 1, bank_account })))
    expect(direct).toMatchObject({ code: "PROVIDER_REJECTED", details: { code: 801, type: "DEPOSIT_NOT_COMPLETED" } })
  })

  it("refuses a cash refund without a bank account before calling (804), and OneKey answers 804 too", async () => {
    const p = await paidDeposit(world, 20000)
    await expect(engine().payments.refund({ paymentId: p.id, amount: 100 })).rejects.toMatchObject({ code: "INVALID_INPUT", details: { code: 804, type: "MISSING_BANK_ACCOUNT" } })
    const direct = await Effect.runPromise(Effect.flip(world.client().createRefund({ deposit_id: Number(p.providerRef), invoice_id: p.id, amount: 1 })))
    expect(direct).toMatchObject({ details: { code: 804, type: "MISSING_BANK_ACCOUNT" } })
    expect((await engine().payments.get(p.id)).refunds).toEqual([])
    await expect(engine().payments.refund({ paymentId: p.id, amount: 100, bank_account: { ...bank_account, account_type: "GOLD" } })).rejects.toMatchObject({ code: "INVALID_INPUT" })
  })

  it("answers 208 for an unknown deposit or refund", async () => {
    const direct = await Effect.runPromise(Effect.flip(world.client().createRefund({ deposit_id: 1, invoice_id: "nope", amount: 1, bank_account })))
    expect(direct).toMatchObject({ code: "PROVIDER_REJECTED", details: { code: 208, type: "RESOURCE_NOT_FOUND", status: 404 } })
    expect(await Effect.runPromise(Effect.flip(world.client().getRefund(999999)))).toMatchObject({ details: { code: 208 } })
  })

  it("follows a bank refund PENDING → DELIVERED → COMPLETED through notifications", async () => {
    const p = await paidDeposit(world, 30000)
    const r = (await engine().payments.refund({ paymentId: p.id, amount: 10000, bank_account })).refunds[0]!
    await bank(world, r.providerRef, "DELIVERED")
    expect((await engine().payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", providerStatus: "DELIVERED" })
    await bank(world, r.providerRef, "COMPLETED")
    const v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", providerStatus: "COMPLETED" })
    expect(v).toMatchObject({ refundedAmount: 10000, reservedAmount: 0, refundableAmount: 20000, state: "captured.partiallyRefunded" })
  })

  it("records a COMPLETED refund the bank reverses to REJECTED and restores the ceiling", async () => {
    const p = await paidDeposit(world, 30000)
    const r = (await engine().payments.refund({ paymentId: p.id, bank_account })).refunds[0]!
    expect(r.amount).toBe(30000)
    await bank(world, r.providerRef, "DELIVERED", "COMPLETED")
    expect(await engine().payments.get(p.id)).toMatchObject({ status: "refunded", refundedAmount: 30000 })
    await bank(world, r.providerRef, "REJECTED")
    const v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "reversed", providerStatus: "REJECTED", amount: 30000 })
    expect(v).toMatchObject({ status: "captured", refundedAmount: 0, refundableAmount: 30000 })
    const again = await engine().payments.refund({ paymentId: p.id, amount: 30000, bank_account })
    expect(again.refunds.map((x) => x.status)).toEqual(["reversed", "pending"])
    expect(heldAtProvider(await world.ledger(), p.providerRef)).toBe(30000)
  })

  it("releases a CANCELLED refund's amount; INCORRECT_DETAILS asks for new bank details meanwhile", async () => {
    const p = await paidDeposit(world, 30000)
    const r = (await engine().payments.refund({ paymentId: p.id, amount: 30000, bank_account })).refunds[0]!
    await bank(world, r.providerRef, "INCORRECT_DETAILS")
    expect((await engine().payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", providerStatus: "INCORRECT_DETAILS", details: { action_required: "corrected_bank_details" } })
    await bank(world, r.providerRef, "CANCELLED")
    const v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "failed", providerStatus: "CANCELLED", details: { action_required: null } })
    expect(v.refundableAmount).toBe(30000)
    const fixed = await engine().payments.refund({ paymentId: p.id, bank_account: { ...bank_account, account_number: "99988877" } })
    expect(fixed.refunds[1]).toMatchObject({ amount: 30000, status: "pending" })
  })

  it("card refunds answer SUCCESS, REJECTED (with reason and reason_code) or IN_PROGRESS settled by notification", async () => {
    const a = await paidDeposit(world, 50595, "AE")
    const ok = await engine().payments.refund({ paymentId: a.id })
    expect(ok).toMatchObject({ status: "refunded", refundedAmount: 50595 })
    expect(ok.refunds[0]).toMatchObject({ status: "succeeded", providerStatus: "SUCCESS", providerRef: expect.stringMatching(/^8\d+$/) })

    const b = await paidDeposit(world, 20000, "VI")
    await world.control("/_sandbox/cards/next-result", { result: "REJECTED", reason: "Card expired", reason_code: "CARD_EXPIRED" })
    const rejected = await engine().payments.refund({ paymentId: b.id })
    expect(rejected.refunds[0]).toMatchObject({ status: "failed", providerStatus: "REJECTED", reason: "CARD_EXPIRED: Card expired", details: { reason_code: "CARD_EXPIRED" } })
    expect(rejected.refundableAmount).toBe(20000)

    const c = await paidDeposit(world, 20000, "MC")
    await world.control("/_sandbox/cards/next-result", { result: "IN_PROGRESS" })
    const inProgress = await engine().payments.refund({ paymentId: c.id })
    expect(inProgress.refunds[0]).toMatchObject({ status: "pending", providerStatus: "IN_PROGRESS" })
    await bank(world, inProgress.refunds[0]!.providerRef, "COMPLETED")
    expect(await engine().payments.get(c.id)).toMatchObject({ status: "refunded", refundedAmount: 20000 })

    const d = await paidDeposit(world, 20000, "VI")
    await world.control("/_sandbox/cards/next-result", { result: "IN_PROGRESS" })
    const ref = (await engine().payments.refund({ paymentId: d.id })).refunds[0]!.providerRef
    await bank(world, ref, "REJECTED")
    expect(await engine().payments.get(d.id)).toMatchObject({ status: "captured", refundableAmount: 20000, refunds: [expect.objectContaining({ status: "failed", providerStatus: "REJECTED" })] })
  })

  it("refuses a partial card refund (seed 002: card deposits are refunded in full)", async () => {
    const p = await paidDeposit(world, 20000, "VI")
    await expect(engine().payments.refund({ paymentId: p.id, amount: 5000 })).rejects.toMatchObject({ code: "INVALID_INPUT", details: { code: 802 } })
  })

  it("pays a refund whose POST timed out or lost its answer exactly once, after reconciliation", async () => {
    const e = world.newEngine({ adapter: { timeoutMs: 200 } })
    const p = await paidDeposit(world, 40000, "OX", e)
    for (const [i, mode] of (["timeout", "drop_response"] as const).entries()) {
      // Two faults: the first attempt and the client's own retry both fail, so the engine must reconcile.
      await world.control("/_sandbox/faults", { path: "/v3/refunds", method: "POST", mode, count: 2 })
      const err = await e.payments.refund({ paymentId: p.id, amount: 10000, bank_account, idempotencyKey: `lost-${i}` }).catch((x) => x)
      expect(err).toMatchObject({ code: "PROVIDER_UNAVAILABLE" })
      expect((await e.payments.get(p.id)).refunds[i]).toMatchObject({ status: "requested", amount: 10000 })
    }
    // Recovery waits for the lease; a fresh engine on the same store plays the restarted process.
    const clock = manualClock(new Date(Date.now() + 60_000))
    await e.close()
    const restarted = world.newEngine({ store: e.store, clock })
    await restarted.ready
    await restarted.recover()
    const v = await restarted.payments.get(p.id)
    expect(v.refunds.map((r) => r.status)).toEqual(["pending", "pending"])
    expect(v.reservedAmount).toBe(20000)
    const paid = (await world.ledger()).filter((m) => m.type === "refund" && m.paymentId === p.providerRef)
    expect(paid.map((m) => m.cause).sort()).toEqual(v.refunds.map((r) => `ps-${p.id}-${r.id}`).sort())
    await restarted.close()
  })

  it("a refund left pending is polled on a durable schedule and flagged for review after the last try", async () => {
    const clock = manualClock()
    const e = world.newEngine({ clock })
    await world.control("/_sandbox/webhook-url", { url: null })
    try {
      const p = await e.payments.create({ provider: "onekey", amount: 10000, currency: "MXN", country: "MX", payment_method: "SE", payer })
      await world.control(`/_sandbox/deposits/${p.providerRef}/complete`)
      expect(await e.payments.sync(p.id)).toMatchObject({ status: "captured" })
      const r = (await e.payments.refund({ paymentId: p.id, amount: 10000, bank_account })).refunds[0]!
      clock.advance(5 * 60_000)
      expect(await e.runDueTimers()).toBe(1)
      await world.control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "DELIVERED" })
      for (const m of [25, 125, 625]) {
        clock.advance(m * 60_000)
        expect(await e.runDueTimers()).toBe(1)
      }
      const v = await e.payments.get(p.id)
      expect(v.refunds[0]).toMatchObject({ status: "pending", providerStatus: "DELIVERED", needsReview: true })
      clock.advance(24 * 3600_000)
      expect(await e.runDueTimers()).toBe(0)
      await world.control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "COMPLETED" })
      expect((await e.payments.sync(p.id)).refunds[0]).toMatchObject({ status: "succeeded", needsReview: false })
    } finally {
      await world.control("/_sandbox/webhook-url", { url: `${world.receiver.url}/webhooks/onekey` })
      await e.close()
    }
  })

  it("after a person retries a flagged refund, its new polls run as new lookups (no clash with the first round)", async () => {
    const clock = manualClock()
    const errors: unknown[] = []
    const e = world.newEngine({ clock, engine: { onError: (err: unknown) => void errors.push(err) } })
    await world.control("/_sandbox/webhook-url", { url: null })
    try {
      const p = await e.payments.create({ provider: "onekey", amount: 10000, currency: "MXN", country: "MX", payment_method: "SE", payer })
      await world.control(`/_sandbox/deposits/${p.providerRef}/complete`)
      await e.payments.sync(p.id)
      const r = (await e.payments.refund({ paymentId: p.id, amount: 4000, bank_account })).refunds[0]!
      for (const m of [5, 25, 125, 625]) {
        clock.advance(m * 60_000)
        await e.runDueTimers()
      }
      const [item] = (await e.review.list()).filter((i) => i.refundId === r.id)
      expect(item).toBeTruthy()
      await e.review.retry(item!.id, { by: "ops", note: "bank says it is on its way" })
      for (const m of [5, 25]) {
        clock.advance(m * 60_000)
        expect(await e.runDueTimers()).toBe(1)
      }
      expect(errors).toEqual([])
      expect((await e.payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", needsReview: false })
      const lookups = (await e.store.outbox(p.id)).filter((o) => o.op === "refund.status").map((o) => o.opId)
      expect(new Set(lookups).size).toBe(lookups.length)
      expect(lookups.length).toBeGreaterThanOrEqual(6)
      await world.control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "DELIVERED" })
      await world.control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "COMPLETED" })
      clock.advance(125 * 60_000)
      const n = await e.runDueTimers()
      expect(n).toBe(1)
      expect((await e.payments.get(p.id)).refunds[0]).toMatchObject({ status: "succeeded", state: "completed", needsReview: false })
    } finally {
      await world.control("/_sandbox/webhook-url", { url: `${world.receiver.url}/webhooks/onekey` })
      await e.close()
    }
  })
})
