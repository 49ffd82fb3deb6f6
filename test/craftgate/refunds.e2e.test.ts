/**
 * Craftgate refunds end to end: the engine against the Craftgate sandbox over HTTP, the engine clock
 * and the sandbox clock moved together, signed webhooks delivered to a real route.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { card, declinedCard, istanbul, items, pay, refundedAt, refundsAt, rejects, startWorld, txIds, type World } from "./helpers.js"

let world: World
beforeAll(async () => {
  world = await startWorld()
  world.engine = world.newEngine()
})
afterAll(() => world.close())
beforeEach(async () => {
  await world.settle()
  await world.control("/_sandbox/webhooks", { mode: "normal" })
})

const engine = () => world.engine!

describe("Craftgate refunds through the engine: the CANCEL / REFUND rule", () => {
  it("a whole refund at 23:59 Istanbul on the payment's day is a CANCEL with an id and no transaction refunds", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await world.setTime(istanbul("2026-11-23T23:59"))
    const v = await engine().payments.refund({ paymentId: p.id })
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 5000, refundableAmount: 0 })
    expect(v.refunds[0]).toMatchObject({ kind: "cancel", status: "succeeded", providerStatus: "SUCCESS", amount: 5000, providerRef: expect.stringMatching(/^\d+$/), details: { refundType: "CANCEL", craftgateRefundId: expect.any(Number) } })
    expect(v.refunds[0]!.details.transactionRefunds).toBeUndefined()
    await world.settle()
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => [m.type, m.amount])).toEqual([["cancel", 5000]])
    expect((await engine().payments.get(p.id)).refunds).toHaveLength(1) // the REFUND webhook changed nothing
  })

  it("a whole refund at 00:01 Istanbul the next day is a REFUND with one transaction refund per transaction", async () => {
    const p = await pay(world, istanbul("2026-11-23T23:58"))
    await world.setTime(istanbul("2026-11-24T00:01"))
    const v = await engine().payments.refund({ paymentId: p.id })
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 5000 })
    expect(v.refunds[0]).toMatchObject({ kind: "refund", status: "succeeded", amount: 5000, details: { refundType: "REFUND" } })
    const parts = v.refunds[0]!.details.transactionRefunds as { paymentTransactionId: number; amount: number; status: string }[]
    expect(parts.map((t) => [String(t.paymentTransactionId), t.amount, t.status])).toEqual([
      [txIds(p)[0], 3000, "SUCCESS"],
      [txIds(p)[1], 2000, "SUCCESS"],
    ])
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => [m.type, String(m.paymentTransactionId), m.amount])).toEqual([
      ["refund", txIds(p)[0], 3000],
      ["refund", txIds(p)[1], 2000],
    ])
  })

  it("partial then full on the same day: the full one is a REFUND of what is left, never a CANCEL", async () => {
    const p = await pay(world, istanbul("2026-11-23T09:00"))
    const [book, pen] = txIds(p)
    let v = await engine().payments.refund({ paymentId: p.id, amount: 1000, paymentTransactionId: book })
    expect(v).toMatchObject({ state: "captured.partiallyRefunded", refundedAmount: 1000 })
    expect(v.refunds[0]).toMatchObject({ kind: "refund_tx", status: "succeeded", details: { transactionRefundId: expect.any(Number), paymentTransactionId: book } })
    await world.setTime(istanbul("2026-11-23T23:59"))
    v = await engine().payments.refund({ paymentId: p.id })
    expect(v.status).toBe("refunded")
    expect(v.refunds[1]).toMatchObject({ kind: "refund", amount: 4000, details: { refundType: "REFUND" } })
    const parts = v.refunds[1]!.details.transactionRefunds as { paymentTransactionId: number; amount: number }[]
    expect(parts.map((t) => [String(t.paymentTransactionId), t.amount])).toEqual([
      [book, 2000],
      [pen, 2000],
    ])
    expect(refundedAt(await world.ledger(), p.providerRef)).toBe(5000)
  })

  it("refuses any refund after a CANCEL, before calling Craftgate", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await engine().payments.refund({ paymentId: p.id })
    const before = (await world.ledger()).length
    await rejects(engine().payments.refund({ paymentId: p.id, amount: 100, paymentTransactionId: txIds(p)[0] }), "REFUND_EXCEEDS_REFUNDABLE")
    await rejects(engine().payments.refund({ paymentId: p.id }), "REFUND_EXCEEDS_REFUNDABLE")
    expect((await world.ledger()).length).toBe(before)
  })
})

describe("Craftgate refunds through the engine: per-transaction ceilings", () => {
  it("caps each transaction at what it has left, and asks which transaction a partial amount is for", async () => {
    const p = await pay(world, istanbul("2026-11-23T08:00"))
    const [book] = txIds(p)
    const over = await rejects(engine().payments.refund({ paymentId: p.id, amount: 3001, paymentTransactionId: book }), "REFUND_EXCEEDS_REFUNDABLE")
    expect(over.details).toMatchObject({ paymentTransactionId: book, left: 3000, requested: 3001 })
    await engine().payments.refund({ paymentId: p.id, amount: 2500, paymentTransactionId: book })
    expect((await rejects(engine().payments.refund({ paymentId: p.id, amount: 600, paymentTransactionId: book }), "REFUND_EXCEEDS_REFUNDABLE")).details).toMatchObject({ left: 500 })
    const which = await rejects(engine().payments.refund({ paymentId: p.id, amount: 600 }), "INVALID_INPUT")
    expect(which.message).toMatch(/paymentTransactionId/)
    await rejects(engine().payments.refund({ paymentId: p.id, amount: 1, paymentTransactionId: "999" }), "INVALID_INPUT")
    await rejects(engine().payments.refund({ paymentId: p.id, amount: 1, paymentTransactionId: book, refundDestinationType: "BANK" }), "INVALID_INPUT")
    const v = await engine().payments.refund({ paymentId: p.id, paymentTransactionId: book })
    expect(v.refunds.at(-1)).toMatchObject({ kind: "refund_tx", amount: 500, status: "succeeded" })
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => m.amount)).toEqual([2500, 500])
  })

  it("a refund made at Craftgate behind paystate's back: Craftgate's own ceiling refuses, and sync counts it", async () => {
    const p = await pay(world, istanbul("2026-11-23T08:00"))
    const [book] = txIds(p)
    const direct = await world.api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: Number(book), refundPrice: 25, conversationId: "merchant-panel" })
    expect(direct.status).toBe(200)
    const e = await rejects(engine().payments.refund({ paymentId: p.id, amount: 1000, paymentTransactionId: book }), "PROVIDER_REJECTED")
    expect(e.details).toMatchObject({ code: "9005" })
    let v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "failed", amount: 1000 })
    await world.settle()
    v = await engine().payments.sync(p.id)
    expect(v.refunds.find((r) => r.external)).toMatchObject({ kind: "refund_tx", amount: 2500, status: "succeeded", providerRef: `txr:${direct.body.data.id}` })
    expect(v.refundedAmount).toBe(2500)
    expect((await rejects(engine().payments.refund({ paymentId: p.id, amount: 501, paymentTransactionId: book }), "REFUND_EXCEEDS_REFUNDABLE")).details).toMatchObject({ left: 500 })
    // The next whole refund is a REFUND (there was a refund before) of exactly what Craftgate has left.
    v = await engine().payments.refund({ paymentId: p.id })
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 5000 })
    expect(refundedAt(await world.ledger(), p.providerRef)).toBe(5000)
  })

  it("passes refundDestinationType and chargeFromMe through to Craftgate", async () => {
    const p = await pay(world, istanbul("2026-11-23T08:00"))
    await engine().payments.refund({ paymentId: p.id, amount: 100, paymentTransactionId: txIds(p)[1], refundDestinationType: "WALLET", chargeFromMe: true })
    await world.setTime(istanbul("2026-11-24T08:00"))
    await engine().payments.refund({ paymentId: p.id, refundDestinationType: "CARD" })
    const moved = refundsAt(await world.ledger(), p.providerRef)
    expect(moved.map((m) => [m.amount, m.destination, m.chargeFromMe])).toEqual([
      [100, "WALLET", true],
      [3000, "PROVIDER", false],
      [1900, "PROVIDER", false],
    ])
  })
})

describe("Craftgate refunds through the engine: WAITING refunds", () => {
  it("holds a WAITING refund's amount; success arrives by signed webhook, failure by polling", async () => {
    const p = await pay(world, istanbul("2026-11-23T08:00"))
    const [book, pen] = txIds(p)
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    let v = await engine().payments.refund({ paymentId: p.id, amount: 1000, paymentTransactionId: book })
    expect(v.refunds[0]).toMatchObject({ status: "pending", providerStatus: "WAITING" })
    expect(v).toMatchObject({ reservedAmount: 1000, refundableAmount: 4000 })
    await world.control(`/_sandbox/refund-transactions/${v.refunds[0]!.details.transactionRefundId}/succeed`)
    await world.settle()
    v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", providerStatus: "SUCCESS" })
    expect(world.receiver.outcomes.at(-1)).toMatchObject({ status: 200, outcome: { status: "processed" } })

    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    v = await engine().payments.refund({ paymentId: p.id, amount: 2000, paymentTransactionId: pen })
    await world.control(`/_sandbox/refund-transactions/${v.refunds[1]!.details.transactionRefundId}/fail`)
    await world.settle()
    expect((await engine().payments.get(p.id)).refunds[1]!.status).toBe("pending") // no webhook for failures
    world.clock.advance(60_000)
    expect(await engine().runDueTimers()).toBe(1)
    v = await engine().payments.get(p.id)
    expect(v.refunds[1]).toMatchObject({ status: "failed", providerStatus: "FAILURE" })
    expect(v).toMatchObject({ refundedAmount: 1000, reservedAmount: 0, refundableAmount: 4000 })
  })

  it("a WAITING CANCEL that fails gives the payment back, and a later CANCEL that day succeeds", async () => {
    const p = await pay(world, istanbul("2026-11-23T08:00"))
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    let v = await engine().payments.refund({ paymentId: p.id })
    expect(v.refunds[0]).toMatchObject({ kind: "cancel", status: "pending", providerStatus: "WAITING" })
    await rejects(engine().payments.refund({ paymentId: p.id, amount: 1, paymentTransactionId: txIds(p)[0] }), "REFUND_EXCEEDS_REFUNDABLE")
    await world.control(`/_sandbox/refunds/${v.refunds[0]!.details.craftgateRefundId}/fail`)
    world.clock.advance(60_000)
    await engine().runDueTimers()
    v = await engine().payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "failed" })
    expect(v.refundableAmount).toBe(5000)
    v = await engine().payments.refund({ paymentId: p.id })
    expect(v.refunds[1]).toMatchObject({ kind: "cancel", status: "succeeded" })
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => m.type)).toEqual(["cancel"])
  })

  it("a WAITING REFUND whose parts settle differently is split: what succeeded counts, what failed is refundable again", async () => {
    const p = await pay(world, istanbul("2026-11-23T08:00"))
    await world.setTime(istanbul("2026-11-24T08:00"))
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    let v = await engine().payments.refund({ paymentId: p.id })
    expect(v.refunds[0]).toMatchObject({ kind: "refund", status: "pending", amount: 5000 })
    const [a, b] = v.refunds[0]!.details.transactionRefunds as { id: number }[]
    await world.control(`/_sandbox/refund-transactions/${a!.id}/succeed`)
    await world.settle()
    expect((await engine().payments.get(p.id)).refunds[0]!.status).toBe("pending") // one part is still WAITING
    await world.control(`/_sandbox/refund-transactions/${b!.id}/fail`)
    world.clock.advance(60_000)
    await engine().runDueTimers()
    v = await engine().payments.get(p.id)
    expect(v.refunds.map((r) => [r.id.replace(/^rf_[\w-]+?(?=~|$)/, "rf"), r.status, r.amount, r.providerStatus])).toEqual([
      ["rf", "failed", 5000, "SPLIT"],
      [`rf~${a!.id}`, "succeeded", 3000, "SUCCESS"],
    ])
    expect(v).toMatchObject({ refundedAmount: 3000, reservedAmount: 0, refundableAmount: 2000, state: "captured.partiallyRefunded" })
    expect(refundedAt(await world.ledger(), p.providerRef)).toBe(3000)
    v = await engine().payments.refund({ paymentId: p.id })
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 5000 })
  })
})

describe("Craftgate refunds through the engine: paystate's view behind Craftgate's", () => {
  it("a WAITING partial refund that failed unseen: Craftgate CANCELs everything the same day, and paystate follows", async () => {
    await world.control("/_sandbox/webhook-url", { url: null })
    const p = await pay(world, istanbul("2026-11-23T09:00"))
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    let v = await engine().payments.refund({ paymentId: p.id, amount: 1000, paymentTransactionId: txIds(p)[0] })
    await world.control(`/_sandbox/refund-transactions/${v.refunds[0]!.details.transactionRefundId}/fail`)
    // paystate still sees the partial WAITING, so it plans a REFUND of the 4000 left; Craftgate sees
    // no earlier refund and CANCELs all 5000.
    v = await engine().payments.refund({ paymentId: p.id })
    expect(v.refunds.map((r) => [r.kind, r.status, r.amount, r.providerStatus])).toEqual([
      ["refund_tx", "failed", 1000, "FAILURE"],
      ["refund", "failed", 4000, "SPLIT"],
      ["cancel", "succeeded", 5000, "SUCCESS"],
    ])
    expect(v.refunds[2]!.details).toMatchObject({ refundType: "CANCEL", splitFrom: v.refunds[1]!.id })
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 5000, reservedAmount: 0 })
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => [m.type, m.amount])).toEqual([["cancel", 5000]])
    await rejects(engine().payments.refund({ paymentId: p.id, amount: 1, paymentTransactionId: txIds(p)[1] }), "REFUND_EXCEEDS_REFUNDABLE")
  })

  it("Craftgate decides CANCEL or REFUND: with the clocks apart at midnight its answer is kept beside paystate's plan", async () => {
    const p = await pay(world, istanbul("2026-11-23T12:00"))
    world.clock.set(istanbul("2026-11-23T23:59")) // paystate: still the payment's day
    await world.sandbox.kernel.setClock(new Date(istanbul("2026-11-24T00:00"))) // Craftgate: the next day
    let v = await engine().payments.refund({ paymentId: p.id })
    expect(v.refunds[0]).toMatchObject({ kind: "cancel", status: "succeeded", amount: 5000, details: { refundType: "REFUND", expectedRefundType: "CANCEL" } })
    expect(v.refunds[0]!.details.transactionRefunds).toHaveLength(2)
    expect(refundsAt(await world.ledger(), p.providerRef).map((m) => m.type)).toEqual(["refund", "refund"])

    const q = await pay(world, istanbul("2026-11-23T12:00"))
    world.clock.set(istanbul("2026-11-24T00:00")) // paystate: the next day
    await world.sandbox.kernel.setClock(new Date(istanbul("2026-11-23T23:59"))) // Craftgate: still the payment's day
    v = await engine().payments.refund({ paymentId: q.id })
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", amount: 5000, details: { refundType: "CANCEL", expectedRefundType: "REFUND", craftgateRefundId: expect.any(Number) } })
    await rejects(engine().payments.refund({ paymentId: q.id, amount: 1, paymentTransactionId: txIds(q)[0] }), "REFUND_EXCEEDS_REFUNDABLE")
    expect(refundsAt(await world.ledger(), q.providerRef).map((m) => m.type)).toEqual(["cancel"])
  })

  it("the next day, Craftgate's REFUND takes the failed partial's share too: each part becomes its own entry", async () => {
    await world.control("/_sandbox/webhook-url", { url: null })
    const p = await pay(world, istanbul("2026-11-23T09:00"))
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    let v = await engine().payments.refund({ paymentId: p.id, amount: 1000, paymentTransactionId: txIds(p)[0] })
    await world.control(`/_sandbox/refund-transactions/${v.refunds[0]!.details.transactionRefundId}/fail`)
    await world.setTime(istanbul("2026-11-24T09:00"))
    v = await engine().payments.refund({ paymentId: p.id })
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 5000, reservedAmount: 0 })
    expect(v.refunds.filter((r) => r.status === "succeeded").map((r) => [r.kind, r.amount, r.details.paymentTransactionId])).toEqual([
      ["refund", 3000, txIds(p)[0]],
      ["refund", 2000, txIds(p)[1]],
    ])
    expect(refundedAt(await world.ledger(), p.providerRef)).toBe(5000)
  })
})

describe("Craftgate payments through the engine", () => {
  it("a declined card fails the payment with Craftgate's 10051", async () => {
    await world.setTime(istanbul("2026-11-23T08:00"))
    const e = await rejects(engine().payments.create({ provider: "craftgate", amount: 5000, currency: "TRY", card: declinedCard, items }), "PROVIDER_REJECTED")
    expect(e.details).toMatchObject({ code: "10051", provider: { group: "NOT_SUFFICIENT_FUNDS", reason: "payment" } })
    const [failed] = (await engine().payments.list({ status: "failed" })).data
    expect(failed).toMatchObject({ status: "failed", provider: "craftgate" })
  })

  it("validates Craftgate's create fields before anything is written", async () => {
    await rejects(engine().payments.create({ provider: "craftgate", amount: 5000, currency: "TRY", card, items: [{ price: 4000 }], price: 5000 }), "INVALID_INPUT")
    await rejects(engine().payments.create({ provider: "craftgate", amount: 4000, currency: "TRY", card, items }), "INVALID_INPUT")
    await rejects(engine().payments.create({ provider: "craftgate", amount: 5000, currency: "TRY", card, items, paymentphase: "PRE_AUTH" }), "INVALID_INPUT")
    await rejects(engine().payments.create({ provider: "craftgate", amount: 5000, currency: "CHF", card, items }), "INVALID_INPUT")
  })

  it("captures a PRE_AUTH payment by post-auth (for less) and voids another by cancel", async () => {
    const p = await pay(world, istanbul("2026-11-23T08:00"), engine(), { paymentPhase: "PRE_AUTH" })
    const c = await engine().payments.capture({ paymentId: p.id, amount: 4000 })
    expect(c).toMatchObject({ status: "captured", capturedAmount: 4000, refundableAmount: 4000 })
    expect((c.details.transactions as { paidPrice: number }[]).map((t) => t.paidPrice)).toEqual([2400, 1600])
    const q = await pay(world, istanbul("2026-11-23T09:00"), engine(), { paymentPhase: "PRE_AUTH" })
    const x = await engine().payments.cancel({ paymentId: q.id })
    expect(x.status).toBe("cancelled")
    await world.settle()
    const moved = (await world.ledger()).filter((m) => m.paymentId === p.providerRef || m.paymentId === q.providerRef)
    expect(moved.map((m) => [m.type, m.amount])).toEqual([
      ["capture", 4000],
      ["void", 5000],
    ])
    expect((await engine().payments.get(q.id)).status).toBe("cancelled")
  })
})
