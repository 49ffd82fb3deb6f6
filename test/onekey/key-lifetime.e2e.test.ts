/**
 * OneKey keeps an X-Idempotency-Key for 24 hours. The replay of a refund's POST is the only lookup
 * of a refund whose answer was lost, and after the key expires that replay is a new refund. These
 * tests drive the engine's and the sandbox's clocks together past the key's lifetime and check that
 * nothing, neither recovery nor a person's review.retry, sends the refund a second time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { komoju } from "../../adapters/providers/komoju/index.js"
import { onekey } from "../../adapters/providers/onekey/index.js"
import { manualClock } from "../../src/clock.js"
import { idempotencyKeyAlive } from "../../src/provider.js"
import { bank_account, paidDeposit, startWorld, type World } from "./helpers.js"

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(() => world.close())

// The control API arms faults but has no call to disarm them short of a full reset.
const clearFaults = () => {
  world.sandbox.kernel.faults.length = 0
}

const refundsAt = async (depositId: string | null | undefined) =>
  (await world.ledger()).filter((m) => m.type === "refund" && m.paymentId === depositId)

describe("OneKey refunds whose answer was lost, past the idempotency key's lifetime", () => {
  it("are never replayed once the key has expired: recovery parks them for a person, review.retry refuses, review.resolve settles", async () => {
    const clock = manualClock(new Date("2026-03-02T10:00:00Z"))
    const tick = async (minutes: number) => {
      clock.advance(minutes * 60_000)
      expect((await world.control("/_sandbox/clock", { now: clock.now().toISOString() })).status).toBe(200)
    }
    await tick(0)
    const errs: unknown[] = []
    const e = world.newEngine({ clock, adapter: { timeoutMs: 300 }, engine: { onError: (x: unknown) => void errs.push(x) } })
    world.engine = e
    try {
      const p = await paidDeposit(world, 40000, "OX", e)
      // No notifications from here: the refund's OneKey id must not reach the engine any other way.
      await world.control("/_sandbox/webhook-url", { url: null })
      // OneKey performs the refund and the answer is lost, for the first attempt and the client's retry.
      await world.control("/_sandbox/faults", { path: "/v3/refunds", method: "POST", mode: "drop_response", count: 2 })
      const lost = await e.payments.refund({ paymentId: p.id, amount: 10000, bank_account }).catch((x) => x)
      expect(lost).toMatchObject({ code: "PROVIDER_UNAVAILABLE" })
      expect(await refundsAt(p.providerRef)).toHaveLength(1)
      // A day and a bit of outage: every lookup (the replay) fails until the key has expired.
      await world.control("/_sandbox/faults", { path: "/v3/refunds", method: "POST", mode: "error500", count: 1000 })
      for (let i = 0; i < 6; i++) {
        await tick(5 * 60)
        await e.recover()
      }
      clearFaults()
      expect(await refundsAt(p.providerRef)).toHaveLength(1)

      // The outage is over, the key is gone: recovery must not send the POST again.
      await tick(60)
      await e.recover()
      expect(await refundsAt(p.providerRef)).toHaveLength(1)
      const v = await e.payments.get(p.id)
      expect(v.refunds[0]).toMatchObject({ status: "requested", amount: 10000, needsReview: true })
      expect(v.reservedAmount).toBe(10000)
      expect(v.refunds[0]!.reviewReason).toMatch(/no longer holds the X-Idempotency-Key/)
      const [item] = (await e.review.list()).filter((i) => i.refundId === v.refunds[0]!.id)
      expect(item).toBeTruthy()

      // A person asks to look again: the only lookup left would pay the customer twice.
      const retried = await e.review.retry(item!.id, { by: "ops" }).catch((x) => x)

      expect(retried).toMatchObject({ code: "REVIEW_REQUIRED", retryable: false, details: { paymentId: p.id, opId: v.refunds[0]!.id } })
      expect(await refundsAt(p.providerRef)).toHaveLength(1)
      await tick(24 * 60)
      await e.recover()
      expect(await refundsAt(p.providerRef)).toHaveLength(1)
      expect((await e.review.list()).map((i) => i.id)).toContain(item!.id)

      // The person finds the refund on OneKey's dashboard and settles it by hand, with its id.
      const [paid] = await refundsAt(p.providerRef)
      const resolved = await e.review.resolve(item!.id, { outcome: "succeeded", note: "found on the OneKey dashboard", providerRef: String(paid!.refundId), by: "ops" })
      expect(resolved.refunds[0]).toMatchObject({ status: "succeeded", needsReview: false, providerRef: String(paid!.refundId) })
      expect(resolved).toMatchObject({ refundedAmount: 10000, reservedAmount: 0 })
      expect(await refundsAt(p.providerRef)).toHaveLength(1)
    } finally {
      clearFaults()
      await world.control("/_sandbox/webhook-url", { url: `${world.receiver.url}/webhooks/onekey` })
      await e.close()
      world.engine = undefined
    }
  })
})

describe("the idempotency key's lifetime", () => {
  it("counts from when the effect was stored to the later of the engine's and the adapter's clock", () => {
    const effect = { createdAt: "2026-03-02T10:00:00.000Z", at: "2026-03-03T08:59:59.000Z" }
    expect(idempotencyKeyAlive(effect, 23 * 3_600_000)).toBe(true)
    expect(idempotencyKeyAlive({ ...effect, at: "2026-03-03T09:00:00.000Z" }, 23 * 3_600_000)).toBe(false)
    // An adapter clock ahead of the engine's wins (a doubt makes the key dead); one behind changes nothing.
    expect(idempotencyKeyAlive(effect, 23 * 3_600_000, new Date("2026-03-04T00:00:00Z"))).toBe(false)
    expect(idempotencyKeyAlive(effect, 23 * 3_600_000, new Date("2020-01-01T00:00:00Z"))).toBe(true)
    expect(idempotencyKeyAlive({ ...effect, createdAt: "" }, 23 * 3_600_000)).toBe(false)
  })

  it("cannot be configured longer than the provider keeps keys", () => {
    const base = { baseUrl: "http://127.0.0.1:1", login: "l", secretKey: "s" }
    for (const bad of [25 * 3_600_000, 0, -1, Number.NaN, "1h"]) {
      expect(() => onekey({ ...base, idempotencyKeyLifetimeMs: bad as number })).toThrow(expect.objectContaining({ code: "CONFIGURATION_INVALID", details: expect.objectContaining({ field: "idempotencyKeyLifetimeMs" }) }))
      expect(() => komoju({ baseUrl: "http://127.0.0.1:1", secretKey: "s", webhookSecret: "w", idempotencyKeyLifetimeMs: bad as number })).toThrow(expect.objectContaining({ code: "CONFIGURATION_INVALID" }))
    }
    expect(() => onekey({ ...base, idempotencyKeyLifetimeMs: 24 * 3_600_000 })).not.toThrow()
  })
})
