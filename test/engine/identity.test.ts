/**
 * Refund identity through the public API with the fake provider: a provider report lands on a refund
 * only by identity, a report that names no known refund is held aside (unattributed) until an answer
 * names it, a lookup's failure never fails a refund, and the review API settles what needs a person.
 */
import { describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { isPaystateError } from "../../src/errors.js"
import { journalOf, StoreConflict, type Store } from "../../src/store.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"
import { setup } from "./helpers.js"

const webhook = (fake: ReturnType<typeof fakeProvider>, body: object) => {
  const raw = JSON.stringify(body)
  return { headers: { "x-fake-signature": fake.sign(raw) }, rawBody: raw }
}

describe("provider reports by identity only", () => {
  it("two in-flight refunds of one amount: the webhook of the performed one is held aside, never put on the other, and recovery attributes it", async () => {
    const { engine, fake, clock } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    // A never reaches the provider; B is performed and its answer is lost.
    fake.script("refund", "unavailable", "perform-then-unavailable")
    await engine.payments.refund({ paymentId: p.id, amount: 400, idempotencyKey: "A" }).catch(() => {})
    await engine.payments.refund({ paymentId: p.id, amount: 400, idempotencyKey: "B" }).catch(() => {})
    const performedRef = `fkr_${fake.ledger.length}`
    expect(fake.ledger.filter((m) => m.op === "refund")).toHaveLength(1)
    // The provider's webhook names only its own refund id.
    await engine.webhooks.handle("fake", webhook(fake, { id: "evt_1", providerRef: p.providerRef, refunds: [{ providerRef: performedRef, amount: 400, status: "succeeded" }] }))
    const held = await engine.payments.get(p.id)
    expect(held.refunds.filter((r) => r.status === "succeeded" && !r.unattributed)).toHaveLength(0)
    expect(held.refunds.find((r) => r.unattributed)).toMatchObject({ id: `ua:${performedRef}`, amount: 400 })
    expect(held).toMatchObject({ refundedAmount: 0, reservedAmount: 800, unattributedAmount: 400, refundableAmount: 0 })
    // Conservative: nothing more may be refunded while the provider refund is unattributed.
    await expect(engine.payments.refund({ paymentId: p.id, amount: 1 })).rejects.toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE" })
    clock.advance(60_000)
    await engine.recover()
    const done = await engine.payments.get(p.id)
    expect(done.refunds.filter((r) => r.unattributed)).toHaveLength(0)
    expect(done.refunds.map((r) => [r.status, r.providerRef])).toEqual([
      ["succeeded", expect.stringMatching(/^fkr_/)],
      ["succeeded", performedRef],
    ])
    expect(new Set(done.refunds.map((r) => r.providerRef)).size).toBe(2)
    expect(done).toMatchObject({ refundedAmount: 800, reservedAmount: 0, unattributedAmount: 0 })
    expect(fake.ledger.filter((m) => m.op === "refund").map((m) => m.amount)).toEqual([400, 400])
    expect(fake.calls.filter((c) => c.op === "refund")).toHaveLength(3)
  })

  it("a provider refund reported while no refund is in flight is external at once and counts as refunded", async () => {
    const { engine, fake } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    await engine.webhooks.handle("fake", webhook(fake, { id: "evt_2", providerRef: p.providerRef, refunds: [{ providerRef: "dash_1", amount: 250, status: "succeeded" }] }))
    const v = await engine.payments.get(p.id)
    expect(v.refunds).toMatchObject([{ id: "ext_dash_1", external: true, unattributed: false, status: "succeeded", amount: 250 }])
    expect(v).toMatchObject({ refundedAmount: 250, refundableAmount: 750 })
  })

  it("an unattributed provider refund becomes external once every in-flight refund is accounted for", async () => {
    const { engine, fake, clock } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    fake.script("refund", "unavailable")
    await engine.payments.refund({ paymentId: p.id, amount: 300 }).catch(() => {})
    await engine.webhooks.handle("fake", webhook(fake, { id: "evt_3", providerRef: p.providerRef, refunds: [{ providerRef: "dash_2", amount: 200, status: "succeeded" }] }))
    expect((await engine.payments.get(p.id)).unattributedAmount).toBe(200)
    clock.advance(60_000)
    await engine.recover()
    const v = await engine.payments.get(p.id)
    expect(v.refunds.find((r) => r.providerRef === "dash_2")).toMatchObject({ external: true, unattributed: false })
    expect(v).toMatchObject({ refundedAmount: 500, unattributedAmount: 0, refundableAmount: 500 })
  })

  it("one provider refund id is never recorded on two refunds", async () => {
    const { engine, fake } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    const a = await engine.payments.refund({ paymentId: p.id, amount: 100 })
    const b = await engine.payments.refund({ paymentId: p.id, amount: 100, idempotencyKey: "second" })
    const [ra, rb] = b.refunds
    expect(a.refunds[0]!.providerRef).toBe(ra!.providerRef)
    // A report that claims A's provider refund for B is refused and B is flagged.
    await engine.webhooks.handle("fake", webhook(fake, { id: "evt_4", providerRef: p.providerRef, refunds: [{ refundId: rb!.id, providerRef: ra!.providerRef, status: "failed" }] }))
    const v = await engine.payments.get(p.id)
    expect(v.refunds.find((r) => r.id === rb!.id)).toMatchObject({ providerRef: rb!.providerRef, status: "succeeded", needsReview: true })
    expect(v.refunds.find((r) => r.id === ra!.id)).toMatchObject({ status: "succeeded" })
    expect(v.refundedAmount).toBe(200)
  })
})

describe("a lookup is not the operation", () => {
  for (const lookup of ["reject", "unavailable"] as const) {
    it(`a lookup that answers ${lookup === "reject" ? "404" : "500"} during recovery leaves the refund reserved, and it settles once the lookup works`, async () => {
      const { engine, fake, clock } = setup()
      const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
      fake.script("refund", "perform-then-unavailable")
      await engine.payments.refund({ paymentId: p.id, amount: 600 }).catch(() => {})
      fake.script("reconcile", lookup, lookup)
      for (let i = 0; i < 2; i++) {
        clock.advance(600_000)
        await engine.recover()
        const v = await engine.payments.get(p.id)
        expect(v.refunds[0]).toMatchObject({ status: "requested" })
        expect(v.reservedAmount).toBe(600)
      }
      clock.advance(600_000)
      await engine.recover()
      expect(await engine.payments.get(p.id)).toMatchObject({ refundedAmount: 600, reservedAmount: 0 })
      expect(fake.ledger.filter((m) => m.op === "refund")).toHaveLength(1)
      expect(fake.calls.filter((c) => c.op === "refund")).toHaveLength(1)
    })
  }
})

describe("the outcome the provider gave always lands", () => {
  it("a lost version race on the outcome commit is retried: the caller hears what the provider did", async () => {
    const inner = memoryStore()
    let races = 5
    const store: Store = {
      ...inner,
      commit: async (c) => {
        const type = (journalOf(c)[0]!.event as { type?: string }).type
        if (type === "OP.SUCCEEDED" && races > 0) {
          races--
          throw new StoreConflict("version", "another process wrote first")
        }
        return inner.commit(c)
      },
    }
    const { engine, fake } = setup({ store })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    races = 12
    const v = await engine.payments.refund({ paymentId: p.id, amount: 300 })
    expect(v).toMatchObject({ refundedAmount: 300, reservedAmount: 0 })
    expect(fake.ledger.filter((m) => m.op === "refund")).toHaveLength(1)
  })
})

describe("review API", () => {
  it("lists a refund that ran out of its retry window, retries it, and the ledger settles", async () => {
    const { engine, fake, clock } = setup({ engine: { retryWindowMs: 3_600_000 } })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    fake.script("refund", "unavailable", "unavailable")
    await engine.payments.refund({ paymentId: p.id, amount: 100 }).catch(() => {})
    clock.advance(2 * 3_600_000)
    await engine.recover()
    const items = await engine.review.list()
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({ kind: "refund", paymentId: p.id, amount: 100, currency: "JPY" })
    expect(items[0]!.reasons.join(" ")).toMatch(/parked/)
    const v = await engine.review.retry(items[0]!.id, { by: "ops@shop", note: "provider is back" })
    expect(v).toMatchObject({ refundedAmount: 100, reservedAmount: 0 })
    expect(await engine.review.list()).toHaveLength(0)
    const history = await engine.payments.history(p.id)
    expect(history.some((h) => h.event.type === "REVIEW.RETRY" && h.event.by === "ops@shop")).toBe(true)
  })

  it("resolves a flagged refund by a person's word, journaled with who and why; the ceiling decides what is allowed", async () => {
    const fake = fakeProvider({ pendingRefunds: true })
    const { engine, clock } = setup({ fake })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    await engine.payments.refund({ paymentId: p.id, amount: 700 })
    for (const d of [60_000, 300_000, 1_800_000]) {
      clock.advance(d)
      await engine.runDueTimers()
    }
    const [item] = await engine.review.list()
    expect(item).toMatchObject({ kind: "refund", status: "pending" })
    await expect(engine.review.resolve(item!.id, { outcome: "succeeded", note: "" })).rejects.toMatchObject({ code: "INVALID_INPUT" })
    const v = await engine.review.resolve(item!.id, { outcome: "failed", note: "bank returned it, see ticket 42", by: "ana" })
    expect(v).toMatchObject({ refundedAmount: 0, reservedAmount: 0, refundableAmount: 1000 })
    expect(v.refunds[0]).toMatchObject({ status: "failed", needsReview: false })
    const last = (await engine.payments.history(p.id)).at(-1)!
    expect(last.event).toMatchObject({ type: "REVIEW.RESOLVE", outcome: "failed", by: "ana", note: "bank returned it, see ticket 42" })
    await expect(engine.review.resolve(item!.id, { outcome: "succeeded", note: "again" })).rejects.toMatchObject({ code: "INVALID_TRANSITION" })
  })

  it("refuses an outcome that would break the ceiling, and an unknown id, writing nothing", async () => {
    const { engine, fake } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    fake.script("refund", "unavailable")
    await engine.payments.refund({ paymentId: p.id, amount: 600 }).catch(() => {})
    // A dashboard refund of 700 shows up while the 600 is in flight: held aside, 1,300 against 1,000.
    await engine.webhooks.handle("fake", webhook(fake, { id: "evt_5", providerRef: p.providerRef, refunds: [{ providerRef: "dash_9", amount: 700, status: "succeeded" }] }))
    const items = await engine.review.list()
    const ua = items.find((i) => i.kind === "unattributed")!
    expect(ua).toMatchObject({ id: `${p.id}/ua:dash_9`, amount: 700 })
    const before = (await engine.payments.history(p.id)).length
    const inFlight = (await engine.payments.get(p.id)).refunds.find((r) => !r.unattributed)!
    await expect(engine.review.resolve(`${p.id}/${inFlight.id}`, { outcome: "succeeded", note: "I am sure" })).rejects.toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE" })
    expect((await engine.payments.history(p.id)).length).toBe(before)
    const v = await engine.review.resolve(ua.id, { outcome: "succeeded", note: "made in the dashboard by support" })
    expect(v.refunds.find((r) => r.providerRef === "dash_9")).toMatchObject({ external: true, unattributed: false })
    for (const bad of [`${p.id}/rf_nope`, "pay_missing/rf_x", "no-slash", 42 as never]) {
      const e = await engine.review.resolve(bad, { outcome: "failed", note: "x" }).catch((err: unknown) => err)
      expect(isPaystateError(e)).toBe(true)
      expect(["REVIEW_ITEM_NOT_FOUND", "INVALID_INPUT"]).toContain((e as { code: string }).code)
    }
  })
})
