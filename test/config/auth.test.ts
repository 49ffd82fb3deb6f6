/**
 * A provider that refuses paystate's credentials (each sandbox answers a wrong key as its provider
 * does: KOMOJU 401, Craftgate 401, OneKey 401 code 100 for a wrong login and 400 code 102 for a wrong
 * signing key) surfaces to the caller as PROVIDER_AUTH_FAILED. The provider never looked at the
 * request, so nothing is recorded as failed: a create stays pending, a refund stays reserved, and
 * the effect stays in the outbox. An engine with the right key (the host's fix and restart) then
 * completes it by recovery, over the same store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { craftgate, startCraftgateSandbox, type RunningCraftgateSandbox } from "../../adapters/providers/craftgate/index.js"
import { komoju, startKomojuSandbox, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { onekey, startOnekeySandbox, type RunningOnekeySandbox } from "../../adapters/providers/onekey/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { createEngine, manualClock, type Engine, type ManualClock, type PaymentView, type ProviderAdapter } from "../../src/index.js"

let k: RunningKomojuSandbox
let c: RunningCraftgateSandbox
let o: RunningOnekeySandbox
beforeAll(async () => {
  ;[k, c, o] = await Promise.all([startKomojuSandbox(), startCraftgateSandbox(), startOnekeySandbox()])
})
afterAll(async () => {
  await Promise.all([k?.close(), c?.close(), o?.close()])
})

const fast = { timeoutMs: 2000, retries: 0 }
const adapters = {
  komoju: (secretKey = k.secretKey) => komoju({ baseUrl: k.apiUrl, secretKey, webhookSecret: k.webhookSecret, ...fast }),
  craftgate: (secretKey = c.credentials.secretKey) => craftgate({ baseUrl: c.url, apiKey: c.credentials.apiKey, secretKey, webhookKey: c.credentials.webhookKey, ...fast }),
  onekey: (secretKey = o.credentials.secretKey, login = o.credentials.login) => onekey({ baseUrl: o.url, login, secretKey, ...fast }),
}

/** Two engines over one store and one clock: the host before and after fixing its key. */
const pair = (wrong: ProviderAdapter<any>, right: ProviderAdapter<any>) => {
  const store = memoryStore()
  const clock = manualClock(new Date())
  const engine = (adapter: ProviderAdapter<any>): Engine => createEngine({ store, clock, providers: { [adapter.name]: adapter }, backgroundIntervalMs: 0, recoverOnStart: false, retryBackoffMs: 1000, onError: () => {} })
  return { bad: engine(wrong), good: engine(right), clock, store }
}

/** The caller's error: PROVIDER_AUTH_FAILED naming the payment, not retryable as it is. */
const authFailure = async (call: Promise<unknown>) => {
  const e = (await call.then(() => undefined, (x: unknown) => x)) as { code?: string; retryable?: boolean; details?: { paymentId?: string; willRetry?: boolean; provider?: { status?: number } } }
  expect(e, "the command must fail").toBeDefined()
  expect(e).toMatchObject({ code: "PROVIDER_AUTH_FAILED", retryable: false, details: { willRetry: true } })
  return e.details!.paymentId!
}

/** Lets the backoff and the lease pass, then recovers with the right key. */
const recover = async (p: ReturnType<typeof pair>) => {
  p.clock.advance(10 * 60_000)
  expect(await p.good.recover()).toBeGreaterThan(0)
}

const close = async (p: ReturnType<typeof pair>) => {
  await p.bad.close()
  await p.good.close()
}

describe("a refused credential is PROVIDER_AUTH_FAILED and fails nothing", () => {
  it("KOMOJU (401): the create stays pending, then happens with the right key", async () => {
    const p = pair(adapters.komoju("sk_wrong"), adapters.komoju())
    const id = await authFailure(p.bad.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "konbini", store: "lawson", email: "taro@example.com" } }))
    const stored = await p.bad.payments.get(id)
    expect(stored).toMatchObject({ status: "pending", providerRef: null })
    expect(k.book.payments.size).toBe(0)
    await recover(p)
    expect(await p.good.payments.get(id)).toMatchObject({ status: "authorized", providerRef: expect.any(String) })
    await close(p)
  })

  it("KOMOJU (401): a refund stays reserved, not released, then settles with the right key", async () => {
    const p = pair(adapters.komoju("sk_wrong"), adapters.komoju())
    const paid = await p.good.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "credit_card", number: "4111111111111111", month: "12", year: "2030", verification_value: "123" } })
    expect(paid.status).toBe("captured")
    await authFailure(p.bad.payments.refund({ paymentId: paid.id, amount: 300, idempotencyKey: "r-1" }))
    const held: PaymentView = await p.bad.payments.get(paid.id)
    expect(held.refunds).toMatchObject([{ amount: 300, status: "requested" }])
    expect(held).toMatchObject({ status: "captured", reservedAmount: 300, refundableAmount: paid.capturedAmount - 300 })
    await recover(p)
    const after = await p.good.payments.get(paid.id)
    expect(after.refunds).toMatchObject([{ amount: 300, status: "succeeded" }])
    expect(after.refundedAmount).toBe(300)
    await close(p)
  })

  it("Craftgate (401): the card payment stays pending, and a refund stays reserved until the right key refunds it", async () => {
    const p = pair(adapters.craftgate("wrong-secret"), adapters.craftgate())
    const order = { amount: 5000, currency: "TRY", card: { cardHolderName: "Haluk Demir", cardNumber: "5258640000000001", expireYear: "2044", expireMonth: "07", cvc: "000" }, items: [{ name: "Book", price: 5000 }] } as const
    const id = await authFailure(p.bad.payments.create({ provider: "craftgate", ...order }))
    expect(await p.bad.payments.get(id)).toMatchObject({ status: "pending" })
    const paid = await p.good.payments.create({ provider: "craftgate", ...order })
    expect(paid.status).toBe("captured")
    await authFailure(p.bad.payments.refund({ paymentId: paid.id }))
    const held = await p.bad.payments.get(paid.id)
    expect(held).toMatchObject({ status: "captured", reservedAmount: 5000, refundableAmount: 0 })
    expect(held.refunds).toMatchObject([{ status: "requested" }])
    await recover(p)
    expect(await p.good.payments.get(paid.id)).toMatchObject({ status: "refunded", refundedAmount: 5000, reservedAmount: 0 })
    await close(p)
  })

  it("OneKey (401 code 100 for a wrong login, 400 code 102 for a wrong signing key): the deposit stays pending, then is made", async () => {
    const order = { amount: 1000, currency: "MXN", country: "MX", payment_method: "OX", payer: { email: "carlos@example.com", first_name: "Carlos", last_name: "Ramirez" } } as const
    for (const wrong of [adapters.onekey(undefined, "someone-else"), adapters.onekey("wrong-secret")]) {
      const p = pair(wrong, adapters.onekey())
      const id = await authFailure(p.bad.payments.create({ provider: "onekey", ...order }))
      expect(await p.bad.payments.get(id)).toMatchObject({ status: "pending", providerRef: null })
      await recover(p)
      expect(await p.good.payments.get(id)).toMatchObject({ status: "pending", providerRef: expect.any(String) })
      await close(p)
    }
  })
})
