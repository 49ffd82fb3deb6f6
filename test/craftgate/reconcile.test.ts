/**
 * The Craftgate adapter's side of the contract (src/provider.ts), called through the adapter factory
 * against the sandbox over HTTP (behind a proxy for lookups that answer 404): `reconcile` answers
 * `answered` with Craftgate's own record found by conversationId, `notPerformed` only when the search
 * answers that there is none, and "cannot tell" for any failing lookup; `refund.status` never fails a
 * refund; card data is in `secret` only and a create without it is CARD_DATA_UNAVAILABLE; amounts a
 * JSON number cannot carry exactly are refused before anything is sent.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { craftgate, craftgateCreateSchema, CRAFTGATE_MAX_AMOUNT, CRAFTGATE_SENSITIVE } from "../../adapters/providers/craftgate/index.js"
import type { MachineContext } from "../../machines/lifecycle/index.js"
import type { PaystateError } from "../../src/errors.js"
import type { OutboxEffect, ProviderAdapter, Reconciliation } from "../../src/provider.js"
import { card, istanbul, items, pay, startWorld, txIds, type World } from "./helpers.js"
import { startProxy, type CraftgateProxy } from "./proxy.js"

let world: World
let proxy: CraftgateProxy
let adapter: ProviderAdapter
beforeAll(async () => {
  world = await startWorld()
  world.engine = world.newEngine()
  proxy = await startProxy(world.sandbox.url)
  adapter = craftgate({ baseUrl: proxy.url, ...world.sandbox.credentials, timeoutMs: 500, retries: 0, backoffMs: 5 })
})
afterAll(async () => {
  await world.close()
  await proxy.close()
})
beforeEach(() => proxy.heal())

const contextOf = async (paymentId: string) => (await world.engine!.store.load(paymentId))!.snapshot.context as unknown as MachineContext
const effectOf = (ctx: MachineContext, op: string, opId: string, payload: Record<string, unknown> = {}, secret?: Record<string, unknown>): OutboxEffect => ({
  id: `${ctx.id}/${opId}`,
  paymentId: ctx.id,
  provider: "craftgate",
  opId,
  op,
  payload: payload as never,
  idempotencyKey: `ps-${ctx.id}-${opId}`,
  attempt: 2,
  createdAt: ctx.createdAt,
  at: new Date().toISOString(),
  ...(secret ? { secret: secret as never } : {}),
})
const reconcile = (e: OutboxEffect, ctx: MachineContext) => Effect.runPromise(adapter.reconcile(e, ctx)) as Promise<Reconciliation>
const execute = (e: OutboxEffect, ctx: MachineContext) => Effect.runPromise(adapter.execute(e, ctx))
const failure = (e: OutboxEffect, ctx: MachineContext) => Effect.runPromise(Effect.flip(adapter.execute(e, ctx))) as Promise<PaystateError>

describe("Craftgate reconcile: a lookup is not the operation", () => {
  it("a transaction refund: found by conversationId → answered (naming the refund); none → notPerformed; a failing search → cannot tell", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    const ctx = await contextOf(p.id)
    const mine = effectOf(ctx, "refund-transaction", "rf_mine", { paymentTransactionId: txIds(p)[0], refundPrice: 700 })
    expect(await reconcile(mine, ctx)).toEqual({ kind: "notPerformed" })
    const made = await world.api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: Number(txIds(p)[0]), refundPrice: 7, conversationId: mine.idempotencyKey })
    // Another refund of the same amount on the same transaction, not ours: it names nothing.
    await world.api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: Number(txIds(p)[0]), refundPrice: 7, conversationId: "someone-else" })
    const found = await reconcile(mine, ctx)
    expect(found).toMatchObject({ kind: "answered", events: [{ type: "OP.SUCCEEDED", opId: "rf_mine", refunds: [{ refundId: "rf_mine", providerRef: `tx:${made.body.data.id}`, amount: 700, status: "succeeded" }] }] })
    for (const answer of [404, 500] as const) {
      proxy.fail({ method: "GET", path: "/payment-reporting/v1/refund-transactions", answer, count: 1 })
      expect(await reconcile(mine, ctx)).toMatchObject({ kind: "unknown" })
    }
    // The search finds it but reading it back fails: still cannot tell, never notPerformed.
    proxy.fail({ method: "GET", path: "/payment/v1/refund-transactions/", answer: 404, count: 1 })
    expect(await reconcile(mine, ctx)).toMatchObject({ kind: "unknown" })
    proxy.fail({ method: "GET", path: "/payment-reporting/", answer: "hang", count: 1 })
    expect(await reconcile(mine, ctx)).toMatchObject({ kind: "unknown" })
  })

  it("a whole refund: a CANCEL found in the reporting search is read back for its type; a REFUND through its transaction refunds", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    const ctx = await contextOf(p.id)
    const e = effectOf(ctx, "refund", "rf_whole", { expectedRefundType: "CANCEL" })
    expect(await reconcile(e, ctx)).toEqual({ kind: "notPerformed" })
    const c = await world.api("POST", "/payment/v1/refunds", { paymentId: Number(p.providerRef), conversationId: e.idempotencyKey })
    expect(await reconcile(e, ctx)).toMatchObject({ kind: "answered", events: [{ refunds: [{ refundId: "rf_whole", providerRef: String(c.body.data.id), kind: "cancel", amount: 5000 }] }] })
    proxy.fail({ method: "GET", path: "/payment/v1/refunds/", answer: 500, count: 1 })
    expect(await reconcile(e, ctx)).toMatchObject({ kind: "unknown" })

    const q = await pay(world, istanbul("2026-11-23T10:00"))
    await world.setTime(istanbul("2026-11-24T10:00"))
    const qctx = await contextOf(q.id)
    const r = effectOf(qctx, "refund", "rf_next_day", { expectedRefundType: "REFUND" })
    await world.api("POST", "/payment/v1/refunds", { paymentId: Number(q.providerRef), conversationId: r.idempotencyKey })
    expect(await reconcile(r, qctx)).toMatchObject({ kind: "answered", events: [{ refunds: [{ refundId: "rf_next_day", providerRef: expect.stringMatching(/^tx:\d+,\d+$/), amount: 5000, details: { refundType: "REFUND" } }] }] })
  })

  it("a create: none with paystate's id → notPerformed; a FAILURE payment → answered with OP.FAILED; a SUCCESS one → answered", async () => {
    const [ctx] = await pendingCreate()
    const e = effectOf(ctx, "create", "create")
    expect(await reconcile(e, ctx)).toEqual({ kind: "notPerformed" })
    proxy.fail({ method: "GET", path: "/payment-reporting/v1/payments", answer: 404, count: 1 })
    expect(await reconcile(e, ctx)).toMatchObject({ kind: "unknown" })
    await world.api("POST", "/payment/v1/card-payments", { price: 50, paidPrice: 50, walletPrice: 0, installment: 1, currency: "TRY", conversationId: ctx.id, card: { ...card, cardNumber: "5258640000000002" }, items: [{ price: 50 }] })
    expect(await reconcile(e, ctx)).toMatchObject({ kind: "answered", events: [{ type: "OP.FAILED", opId: "create", code: "10051", payment: { status: "failed" } }] })
    await world.api("POST", "/payment/v1/card-payments", { price: 50, paidPrice: 50, walletPrice: 0, installment: 1, currency: "TRY", conversationId: ctx.id, card, items: [{ price: 50 }] })
    expect(await reconcile(e, ctx)).toMatchObject({ kind: "answered", events: [{ type: "OP.SUCCEEDED", payment: { status: "captured" } }] })
  })

  it("a capture: still PRE_AUTH → notPerformed; POST_AUTH → answered", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"), world.engine!, { paymentPhase: "PRE_AUTH" })
    const ctx = await contextOf(p.id)
    const e = effectOf(ctx, "capture", "cap_1", { amount: 5000 })
    expect(await reconcile(e, ctx)).toEqual({ kind: "notPerformed" })
    await world.api("POST", `/payment/v1/card-payments/${p.providerRef}/post-auth`, {})
    expect(await reconcile(e, ctx)).toMatchObject({ kind: "answered", events: [{ payment: { status: "captured" } }] })
  })

  it("refund.status: a lookup that answers 404 or 500 is PROVIDER_UNAVAILABLE, never a refusal of the refund", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
    const v = await world.engine!.payments.refund({ paymentId: p.id, amount: 100, paymentTransactionId: txIds(p)[0] })
    const ctx = await contextOf(p.id)
    const poll = effectOf(ctx, "refund.status", `${v.refunds[0]!.id}:poll:0`, { refundId: v.refunds[0]!.id })
    for (const answer of [404, 500] as const) {
      proxy.fail({ method: "GET", path: "/payment/v1/refund-transactions/", answer, count: 1 })
      expect(await failure(poll, ctx)).toMatchObject({ code: "PROVIDER_UNAVAILABLE", retryable: true })
    }
    expect(await execute(poll, ctx)).toMatchObject([{ type: "OP.SUCCEEDED", refunds: [{ refundId: v.refunds[0]!.id, status: "pending" }] }])
  })
})

/** A payment recorded by the engine whose create never reached Craftgate (the POST timed out). */
const pendingCreate = async (): Promise<[MachineContext]> => {
  await world.setTime(istanbul("2026-11-23T10:00"))
  await world.control("/_sandbox/faults", { path: "/payment/v1/card-payments", method: "POST", mode: "timeout", count: 1 })
  const slow = world.newEngine({ adapter: { timeoutMs: 200 } })
  try {
    await slow.payments.create({ provider: "craftgate", amount: 5000, currency: "TRY", card, items }).catch(() => undefined)
    const [row] = (await slow.payments.list({ status: "pending" })).data
    const ctx = (await slow.store.load(row!.id))!.snapshot.context as unknown as MachineContext
    return [ctx]
  } finally {
    await slow.close()
  }
}

describe("Craftgate card data", () => {
  it("the create schema keeps only what may be stored; the number, CVC and expiry go to secret", () => {
    const out = craftgateCreateSchema.parse({ provider: "craftgate", amount: 5000, currency: "TRY", card, items })
    expect(JSON.stringify(out.request)).not.toContain(card.cardNumber)
    expect(out.request.card).toEqual({ cardHolderName: card.cardHolderName, lastFourDigits: "0001", expireYear: "2044", expireMonth: "07" })
    expect(out.secret).toEqual({ card: { cardNumber: card.cardNumber, cvc: card.cvc, expireYear: "2044", expireMonth: "07" } })
    const stored = craftgateCreateSchema.parse({ provider: "craftgate", amount: 5000, currency: "TRY", card: { cardUserKey: "u", cardToken: "t" }, items })
    expect(stored.secret).toBeUndefined()
    expect(stored.request.card).toEqual({ cardUserKey: "u", cardToken: "t" })
    expect(adapter.sensitive).toBe(CRAFTGATE_SENSITIVE)
    expect(CRAFTGATE_SENSITIVE.secret).toEqual(expect.arrayContaining(["cardNumber", "cvc"]))
  })

  it("execute merges the in-memory secret into the body; without it a full card is CARD_DATA_UNAVAILABLE and nothing is sent", async () => {
    const [ctx] = await pendingCreate()
    const before = proxy.calls.length
    const e = await failure(effectOf(ctx, "create", "create"), ctx)
    expect(e).toMatchObject({ code: "CARD_DATA_UNAVAILABLE", details: { lastFourDigits: "0001" } })
    expect(proxy.calls.length).toBe(before)
    const secret = craftgateCreateSchema.parse({ provider: "craftgate", amount: 5000, currency: "TRY", card, items }).secret!
    const events = await execute(effectOf(ctx, "create", "create", {}, secret), ctx)
    expect(events).toMatchObject([{ type: "OP.SUCCEEDED", payment: { status: "captured", details: { lastFourDigits: "0001" } } }])
  })
})

describe("Craftgate amounts on the wire", () => {
  it("refuses amounts a JSON number cannot carry exactly, before anything is written or sent", async () => {
    const big = { provider: "craftgate", currency: "TRY", card, items: [{ price: CRAFTGATE_MAX_AMOUNT + 1 }], amount: CRAFTGATE_MAX_AMOUNT + 1 }
    expect(craftgateCreateSchema.safeParse(big).success).toBe(false)
    expect(craftgateCreateSchema.safeParse({ ...big, items: [{ price: 2 ** 53 }], amount: 2 ** 53 }).success).toBe(false)
    expect(craftgateCreateSchema.safeParse({ ...big, items: [{ price: CRAFTGATE_MAX_AMOUNT - 1 }, { price: 2 }], amount: CRAFTGATE_MAX_AMOUNT + 1 }).success).toBe(false)
    const ok = craftgateCreateSchema.parse({ ...big, items: [{ price: CRAFTGATE_MAX_AMOUNT }], amount: CRAFTGATE_MAX_AMOUNT })
    expect(ok.amount).toBe(CRAFTGATE_MAX_AMOUNT)
    // A refund amount built elsewhere that does not fit is refused as INVALID_INPUT, not sent.
    const p = await pay(world, istanbul("2026-11-23T10:00"))
    const ctx = await contextOf(p.id)
    const before = proxy.calls.length
    const e = await failure(effectOf(ctx, "refund-transaction", "rf_big", { paymentTransactionId: txIds(p)[0], refundPrice: 2 ** 53 + 1 }), ctx)
    expect(e.code).toBe("INVALID_INPUT")
    expect(proxy.calls.length).toBe(before)
  })
})
