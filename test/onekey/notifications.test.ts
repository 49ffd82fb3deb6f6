/**
 * OneKey notifications through `engine.webhooks.handle("onekey", …)`: `{"refund_id": N}` carries no
 * signature and only names a refund, so the engine reads it back with the signed client and applies
 * what OneKey says. Forged, duplicated, reordered and early notifications change nothing they should not.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { onekeyNotification, signOnekeyWebhook } from "../../adapters/providers/onekey/index.js"
import { manualClock } from "../../src/clock.js"
import { bank, bank_account, paidDeposit, payer, startWorld, type World } from "./helpers.js"

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
const handle = (body: object | string) => engine().webhooks.handle("onekey", typeof body === "string" ? { headers: {}, rawBody: body } : signOnekeyWebhook(body as never))
const sandboxRefunds = async (depositId: string | null) =>
  ((await (await fetch(`${world.sandbox.url}/_sandbox/deposits/${depositId}/refunds`)).json()) as { refunds: { refund_id: number | string; amount: number }[] }).refunds

describe("OneKey notifications", () => {
  it("never trusts the body: a forged status changes nothing, only what GET /v3/refunds/{id} answers counts", async () => {
    const p = await paidDeposit(world, 30000)
    const r = (await engine().payments.refund({ paymentId: p.id, amount: 30000, bank_account })).refunds[0]!
    const forged = await handle(JSON.stringify({ refund_id: r.providerRef, status: "COMPLETED", amount: 0.01 }))
    expect(forged.status).toBe("processed")
    expect((await engine().payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", providerStatus: "PENDING", amount: 30000 })
    await world.control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "DELIVERED" })
    await handle({ refund_id: Number(r.providerRef) })
    expect((await engine().payments.get(p.id)).refunds[0]).toMatchObject({ providerStatus: "DELIVERED" })
  })

  it("ignores a refund or deposit OneKey does not know, and rejects a body that names nothing", async () => {
    expect(await handle({ refund_id: 987654321 })).toEqual({ status: "ignored", paymentIds: [] })
    expect(await handle({ deposit_id: 987654321 })).toEqual({ status: "ignored", paymentIds: [] })
    for (const bad of ["not json", "[]", "{}", '{"refund_id": {"$gt": 1}}', '{"refund_id": "../../v3/deposits/1"}']) {
      await expect(handle(bad)).rejects.toMatchObject({ code: "WEBHOOK_REJECTED" })
    }
    await expect(engine().webhooks.handle("onekey", { headers: {}, rawBody: { refund_id: 1 } as never })).rejects.toMatchObject({ code: "WEBHOOK_REJECTED" })
    expect(await handle("refund_id=987654321")).toMatchObject({ status: "ignored" })
  })

  it("reports a duplicate of a one-way status as one, and applies it once", async () => {
    const p = await paidDeposit(world, 30000)
    const r = (await engine().payments.refund({ paymentId: p.id, amount: 10000, bank_account })).refunds[0]!
    const before = world.receiver.outcomes.length
    await world.control("/_sandbox/webhooks", { mode: "duplicate" })
    await bank(world, r.providerRef, "DELIVERED", "COMPLETED")
    const outcomes = world.receiver.outcomes.slice(before).map((o) => o.outcome?.status)
    expect(outcomes.filter((s) => s === "duplicate")).toHaveLength(2)
    expect(outcomes.filter((s) => s === "processed")).toHaveLength(2)
    const v = await engine().payments.get(p.id)
    expect(v).toMatchObject({ refundedAmount: 10000, reservedAmount: 0 })
    expect(v.refunds).toHaveLength(1)
    const history = await engine().payments.history(p.id)
    expect(history.filter((h) => JSON.stringify(h.event).includes('"providerStatus":"COMPLETED"'))).toHaveLength(1)
  })

  it("follows PENDING ↔ INCORRECT_DETAILS back and forth: a status that comes back is not taken for a duplicate", async () => {
    const p = await paidDeposit(world, 30000)
    const r = (await engine().payments.refund({ paymentId: p.id, amount: 10000, bank_account })).refunds[0]!
    for (const status of ["INCORRECT_DETAILS", "PENDING", "INCORRECT_DETAILS", "PENDING", "INCORRECT_DETAILS"]) {
      await bank(world, r.providerRef, status)
      expect((await engine().payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", providerStatus: status })
    }
  })

  it("applies reordered notifications by what OneKey says now: the late DELIVERED does not undo COMPLETED", async () => {
    const p = await paidDeposit(world, 30000)
    const r = (await engine().payments.refund({ paymentId: p.id, amount: 30000, bank_account })).refunds[0]!
    await world.control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "DELIVERED" })
    await world.control(`/_sandbox/refunds/${r.providerRef}/status`, { status: "COMPLETED" })
    await world.settle()
    // Replays of old deliveries, in any order, after the fact.
    for (let i = 0; i < 3; i++) await handle({ refund_id: Number(r.providerRef) })
    await handle({ deposit_id: Number(p.providerRef) })
    const v = await engine().payments.get(p.id)
    expect(v).toMatchObject({ status: "refunded", refundedAmount: 30000 })
    expect(v.refunds).toEqual([expect.objectContaining({ status: "succeeded", providerStatus: "COMPLETED" })])
  })

  it("holds a notification that beats the refund's lost API answer as unattributed, and the idempotent replay attributes it", async () => {
    const e = world.newEngine({ adapter: { timeoutMs: 200 } })
    world.engine = e
    try {
      const p = await paidDeposit(world, 50000, "OX", e)
      await world.control("/_sandbox/faults", { path: "/v3/refunds", method: "POST", mode: "drop_response", count: 2 })
      await expect(e.payments.refund({ paymentId: p.id, amount: 20000, bank_account })).rejects.toMatchObject({ code: "PROVIDER_UNAVAILABLE" })
      expect((await e.payments.get(p.id)).refunds[0]).toMatchObject({ status: "requested", providerRef: null })
      const [atOneKey] = await sandboxRefunds(p.providerRef)
      const ref = String(atOneKey!.refund_id)
      await bank(world, ref, "DELIVERED")
      // OneKey's notification names its refund id only: it is held aside, never guessed to be ours.
      const held = await e.payments.get(p.id)
      expect(held.refunds).toEqual([
        expect.objectContaining({ status: "requested", providerRef: null, amount: 20000 }),
        expect.objectContaining({ id: `ua:${ref}`, unattributed: true, status: "pending", providerStatus: "DELIVERED", providerRef: ref, amount: 20000 }),
      ])
      expect(held).toMatchObject({ reservedAmount: 20000, unattributedAmount: 20000, refundableAmount: 10000 })
      const later = world.newEngine({ store: e.store, clock: manualClock(new Date(Date.now() + 60_000)) })
      await later.ready
      await later.recover()
      await later.close()
      expect((await world.ledger()).filter((m) => m.type === "refund" && m.paymentId === p.providerRef)).toHaveLength(1)
      // The replay with the same key answered OneKey's refund_id: the entry is ours, read at its current status.
      const v = await e.payments.get(p.id)
      expect(v.refunds).toEqual([expect.objectContaining({ status: "pending", amount: 20000, providerRef: ref, providerStatus: "DELIVERED", unattributed: false })])
      expect(v).toMatchObject({ reservedAmount: 20000, unattributedAmount: 0, refundableAmount: 30000 })
    } finally {
      world.engine = undefined
      await e.close()
      world.engine = world.newEngine()
    }
  })

  it("finds a deposit by paystate's invoice id when its notification beats the create answer", async () => {
    const e = world.newEngine({ adapter: { timeoutMs: 200 } })
    world.engine = e
    try {
      await world.control("/_sandbox/faults", { path: "/v3/deposits", method: "POST", mode: "drop_response", count: 2 })
      const err = await e.payments.create({ provider: "onekey", amount: 12345, currency: "MXN", country: "MX", payment_method: "SE", payer }).catch((x) => x)
      expect(err).toMatchObject({ code: "PROVIDER_UNAVAILABLE" })
      const paymentId = err.details.paymentId as string
      const { deposits } = (await (await fetch(`${world.sandbox.url}/_sandbox/deposits?invoice_id=${paymentId}`)).json()) as { deposits: { deposit_id: number }[] }
      expect(deposits).toHaveLength(1)
      await world.control(`/_sandbox/deposits/${deposits[0]!.deposit_id}/complete`)
      await world.settle()
      expect(await e.payments.get(paymentId)).toMatchObject({ status: "captured", providerRef: String(deposits[0]!.deposit_id), capturedAmount: 12345 })
      // A duplicate of that notification is harmless.
      await handle({ deposit_id: deposits[0]!.deposit_id })
      expect(await e.payments.get(paymentId)).toMatchObject({ status: "captured", capturedAmount: 12345 })
    } finally {
      world.engine = undefined
      await e.close()
      world.engine = world.newEngine()
    }
  })

  it("refuses junk with a typed WEBHOOK_REJECTED before any call: too large, not UTF-8, ambiguous, malformed ids, repeated headers", async () => {
    const before = (await world.ledger()).length
    const cases: { headers?: Record<string, unknown>; rawBody: unknown }[] = [
      { rawBody: JSON.stringify({ refund_id: 1, pad: "x".repeat(5000) }) },
      { rawBody: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
      { rawBody: JSON.stringify({ refund_id: 1, deposit_id: 2 }) },
      { rawBody: JSON.stringify({ refund_id: -5 }) },
      { rawBody: JSON.stringify({ refund_id: 1.5 }) },
      { rawBody: JSON.stringify({ refund_id: 2 ** 60 }) },
      { rawBody: JSON.stringify({ refund_id: "" }) },
      { rawBody: JSON.stringify({ refund_id: null }) },
      { rawBody: JSON.stringify({ refund_id: [1] }) },
      { rawBody: "refund_id=1&refund_id=2", headers: { "content-type": "application/x-www-form-urlencoded" } },
      { rawBody: "__proto__[refund_id]=1", headers: { "content-type": "application/x-www-form-urlencoded" } },
      { rawBody: "null" },
      { rawBody: '"refund_id"' },
      { rawBody: "" },
      { rawBody: JSON.stringify({ refund_id: 1 }), headers: { "content-type": ["application/json", "text/plain"] } },
      { rawBody: JSON.stringify({ refund_id: 1 }), headers: { "Content-Type": "application/json", "content-type": "application/json" } },
      { rawBody: JSON.stringify({ refund_id: 1 }), headers: null as never },
      { rawBody: JSON.stringify({ refund_id: 1 }), headers: new Proxy({}, { ownKeys: () => { throw new Error("hostile headers") } }) },
      { rawBody: 12345 },
      { rawBody: undefined },
    ]
    for (const [i, c] of cases.entries()) {
      const err = await engine().webhooks.handle("onekey", { headers: ("headers" in c ? c.headers : {}) as never, rawBody: c.rawBody as never }).catch((e) => e)
      expect(err, `case ${i}`).toMatchObject({ code: "WEBHOOK_REJECTED" })
    }
    expect((await world.ledger()).length).toBe(before)
    // The limit leaves room for what OneKey sends, in either encoding.
    expect(await handle("deposit_id=987654321")).toMatchObject({ status: "ignored" })
    expect(await engine().webhooks.handle("onekey", { headers: { "content-type": "application/json; charset=utf-8" }, rawBody: Buffer.from('{"refund_id":987654321}') })).toMatchObject({ status: "ignored" })
  })

  it("onekeyNotification and signOnekeyWebhook frame the body OneKey posts", () => {
    expect(onekeyNotification(168284)).toBe('{"refund_id":168284}')
    expect(signOnekeyWebhook({ refund_id: "80000001" })).toEqual({ headers: { "content-type": "application/json" }, rawBody: '{"refund_id":"80000001"}' })
  })
})
