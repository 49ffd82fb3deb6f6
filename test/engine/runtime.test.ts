import { describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { createEngine } from "../../src/engine.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"
import { dump, setup } from "./helpers.js"

describe("idempotency", () => {
  it("a create retried with the same key returns the first payment and calls the provider once", async () => {
    const { engine, fake } = setup()
    const a = await engine.payments.create({ provider: "fake", amount: 700, currency: "JPY", idempotencyKey: "order-1" })
    const b = await engine.payments.create({ provider: "fake", amount: 700, currency: "JPY", idempotencyKey: "order-1" })
    expect(b.id).toBe(a.id)
    expect(fake.calls.filter((c) => c.op === "create")).toHaveLength(1)
  })

  it("a refund retried with the same key refunds once", async () => {
    const { engine, fake } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    await engine.payments.refund({ paymentId: p.id, amount: 400, idempotencyKey: "rf-1" })
    const again = await engine.payments.refund({ paymentId: p.id, amount: 400, idempotencyKey: "rf-1" })
    expect(again.refunds).toHaveLength(1)
    expect(again.refundedAmount).toBe(400)
    expect(fake.ledger.filter((m) => m.op === "refund")).toHaveLength(1)
  })

  it("every attempt of one effect carries the same idempotency key", async () => {
    const { engine, fake, clock } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    fake.script("refund", "unavailable", "unavailable")
    await expect(engine.payments.refund({ paymentId: p.id, amount: 100 })).rejects.toMatchObject({ code: "PROVIDER_UNAVAILABLE", retryable: true })
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000)
      await engine.recover()
    }
    const keys = new Set(fake.calls.filter((c) => c.op === "refund").map((c) => c.idempotencyKey))
    expect(keys.size).toBe(1)
    expect(fake.calls.filter((c) => c.op === "refund").map((c) => c.attempt)).toEqual([1, 2, 3])
    expect((await engine.payments.get(p.id)).refunds[0]?.status).toBe("succeeded")
  })
})

describe("provider answers", () => {
  it("a definite rejection releases the reservation and is recorded", async () => {
    const { engine, fake } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    fake.script("refund", "reject")
    await expect(engine.payments.refund({ paymentId: p.id, amount: 1000 })).rejects.toMatchObject({ code: "PROVIDER_REJECTED" })
    const v = await engine.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "failed", amount: 1000 })
    expect(v.refundableAmount).toBe(1000)
    expect((await engine.payments.refund({ paymentId: p.id, amount: 1000 })).status).toBe("refunded")
  })

  it("an unknown outcome keeps the amount reserved until reconciled, and never refunds twice", async () => {
    const { engine, fake, clock } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    fake.script("refund", "perform-then-unavailable")
    const err = await engine.payments.refund({ paymentId: p.id, amount: 600 }).catch((e) => e)
    expect(err).toMatchObject({ code: "PROVIDER_UNAVAILABLE", details: { willRetry: true } })
    const mid = await engine.payments.get(p.id)
    expect(mid).toMatchObject({ reservedAmount: 600, refundableAmount: 400 })
    await expect(engine.payments.refund({ paymentId: p.id, amount: 500 })).rejects.toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE" })
    clock.advance(5_000)
    expect(await engine.recover()).toBe(1)
    const done = await engine.payments.get(p.id)
    expect(done).toMatchObject({ refundedAmount: 600, reservedAmount: 0 })
    expect(fake.ledger.filter((m) => m.op === "refund")).toHaveLength(1)
    expect(fake.calls.filter((c) => c.op === "refund")).toHaveLength(1)
  })

  it("an outage inside the retry window parks nothing; past the window the refund waits for a person, still reserved", async () => {
    const { engine, fake, clock, store } = setup({ engine: { retryWindowMs: 6 * 3_600_000, maxBackoffMs: 300_000 } })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    fake.script("refund", ...Array<"unavailable">(200).fill("unavailable"))
    await engine.payments.refund({ paymentId: p.id, amount: 100 }).catch(() => {})
    // Five hours of outage, looked at every five minutes at most: still queued, never parked.
    for (let i = 0; i < 60; i++) {
      clock.advance(300_000)
      await engine.recover()
    }
    let row = (await store.outbox(p.id)).find((o) => o.op === "refund")
    expect(row?.state).toBe("pending")
    expect(row!.attempts).toBeGreaterThan(50)
    expect(Date.parse(row!.availableAt) - clock.now().getTime()).toBeLessThanOrEqual(300_000)
    clock.advance(2 * 3_600_000)
    await engine.recover()
    row = (await store.outbox(p.id)).find((o) => o.op === "refund")
    expect(row?.state).toBe("parked")
    const v = await engine.payments.get(p.id)
    expect(v.reservedAmount).toBe(100)
    expect(v.refunds[0]).toMatchObject({ status: "requested", needsReview: true })
    expect(v.refunds[0]!.reviewReason).toMatch(/still unknown/)
  })
})

describe("durable timers", () => {
  it("a payment deadline expires an authorized payment once the clock passes it", async () => {
    const { engine, clock } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY", initial_status: "authorized", deadline: "2026-11-24T00:00:00.000Z" })
    expect(p.status).toBe("authorized")
    expect(await engine.runDueTimers()).toBe(0)
    clock.set("2026-11-24T00:00:01.000Z")
    expect(await engine.runDueTimers()).toBe(1)
    expect((await engine.payments.get(p.id)).status).toBe("expired")
    expect(await engine.runDueTimers()).toBe(0)
  })

  it("a captured payment cancels its deadline", async () => {
    const { engine, clock } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY", initial_status: "authorized", deadline: "2026-11-24T00:00:00.000Z" })
    await engine.payments.capture({ paymentId: p.id })
    clock.set("2026-12-01T00:00:00.000Z")
    expect(await engine.runDueTimers()).toBe(0)
    expect((await engine.payments.get(p.id)).status).toBe("captured")
  })

  it("a refund left pending is polled on its schedule and flagged for review after the last poll", async () => {
    const fake = fakeProvider({ pendingRefunds: true })
    const { engine, clock } = setup({ fake })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    const r = await engine.payments.refund({ paymentId: p.id, amount: 300 })
    expect(r.refunds[0]).toMatchObject({ status: "pending" })
    expect(r.reservedAmount).toBe(300)
    for (const delay of [60_000, 300_000, 1_800_000]) {
      clock.advance(delay)
      expect(await engine.runDueTimers()).toBe(1)
    }
    expect(fake.calls.filter((c) => c.op === "refund.status")).toHaveLength(3)
    expect((await engine.payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", needsReview: true })
  })

  it("a poll that finds the refund settled settles the ledger and stops polling", async () => {
    const fake = fakeProvider({ pendingRefunds: true })
    const { engine, clock } = setup({ fake })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    const r = await engine.payments.refund({ paymentId: p.id })
    fake.settleRefund(r.refunds[0]!.providerRef!, "succeeded")
    clock.advance(60_000)
    await engine.runDueTimers()
    expect((await engine.payments.get(p.id)).status).toBe("refunded")
    clock.advance(10_000_000)
    expect(await engine.runDueTimers()).toBe(0)
  })
})

describe("webhooks", () => {
  const body = (o: object) => JSON.stringify(o)
  it("a signed webhook is applied once; its duplicate changes nothing", async () => {
    const { engine, fake, store } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY", initial_status: "authorized" })
    const raw = body({ id: "evt_1", providerRef: p.providerRef, status: "captured" })
    const first = await engine.webhooks.handle("fake", { headers: { "x-fake-signature": fake.sign(raw) }, rawBody: raw })
    expect(first).toEqual({ status: "processed", paymentIds: [p.id] })
    expect((await engine.payments.get(p.id)).status).toBe("captured")
    const before = await dump(store)
    expect(await engine.webhooks.handle("fake", { headers: { "x-fake-signature": fake.sign(raw) }, rawBody: Buffer.from(raw) })).toMatchObject({ status: "duplicate" })
    expect(await dump(store)).toEqual(before)
  })

  it("a bad signature is refused and writes nothing; parsed JSON is refused with advice", async () => {
    const { engine, store } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY", initial_status: "authorized" })
    const before = await dump(store)
    const raw = body({ id: "evt_2", providerRef: p.providerRef, status: "captured" })
    await expect(engine.webhooks.handle("fake", { headers: { "x-fake-signature": "00".repeat(32) }, rawBody: raw })).rejects.toMatchObject({ code: "WEBHOOK_REJECTED" })
    await expect(engine.webhooks.handle("fake", { headers: {}, rawBody: JSON.parse(raw) })).rejects.toThrow(/raw request body/)
    expect(await dump(store)).toEqual(before)
  })

  it("a stale status never moves a payment backwards", async () => {
    const { engine, fake } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    const raw = body({ id: "evt_3", providerRef: p.providerRef, status: "authorized" })
    await engine.webhooks.handle("fake", { headers: { "x-fake-signature": fake.sign(raw) }, rawBody: raw })
    expect((await engine.payments.get(p.id)).status).toBe("captured")
  })

  it("a webhook for a payment paystate does not know is ignored", async () => {
    const { engine, fake } = setup()
    const raw = body({ id: "evt_4", providerRef: "fk_unknown", status: "captured" })
    expect(await engine.webhooks.handle("fake", { headers: { "x-fake-signature": fake.sign(raw) }, rawBody: raw })).toEqual({ status: "ignored", paymentIds: [] })
  })
})

describe("concurrency", () => {
  it("two engines sharing a store never refund beyond the captured amount", async () => {
    const store = memoryStore()
    const fake = fakeProvider()
    const a = createEngine({ store, providers: { fake }, backgroundIntervalMs: 0 })
    const b = createEngine({ store, providers: { fake }, backgroundIntervalMs: 0 })
    const p = await a.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).payments.refund({ paymentId: p.id, amount: 300 })))
    const ok = results.filter((r) => r.status === "fulfilled").length
    expect(ok).toBe(3)
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE" })
    const v = await a.payments.get(p.id)
    expect(v.refundedAmount).toBe(900)
    expect(fake.ledger.filter((m) => m.op === "refund").reduce((s, m) => s + m.amount, 0)).toBe(900)
  })
})

describe("background loop", () => {
  it("fires due timers and reconciles the outbox by itself, and close() waits for it", async () => {
    const { engine, fake, clock } = setup({ engine: { backgroundIntervalMs: 20 } })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY", initial_status: "authorized", deadline: "2026-11-24T00:00:00.000Z" })
    const q = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    fake.script("refund", "perform-then-unavailable")
    await engine.payments.refund({ paymentId: q.id, amount: 100 }).catch(() => {})
    clock.set("2026-11-25T00:00:00.000Z")
    await expect.poll(async () => (await engine.payments.get(p.id)).status, { timeout: 3000 }).toBe("expired")
    await expect.poll(async () => (await engine.payments.get(q.id)).refundedAmount, { timeout: 3000 }).toBe(100)
    await engine.close()
    await expect(engine.payments.get(p.id)).rejects.toMatchObject({ code: "ENGINE_CLOSED" })
  })
})
