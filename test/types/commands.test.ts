/**
 * Typed commands: `createEngine` infers provider names from its `providers` map and each provider's
 * own input type, so a wrong provider field is a compile error. `npm test` type-checks this file
 * (tsc fails on an unused `@ts-expect-error`), and vitest runs it to show the valid calls work.
 */
import { describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { createEngine } from "../../src/engine.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"

const engine = () => createEngine({ store: memoryStore(), providers: { fake: fakeProvider(), other: fakeProvider({ name: "other" }) }, backgroundIntervalMs: 0 })

describe("typed commands", () => {
  it("accepts each provider's own fields and refuses the rest at compile time", async () => {
    const e = engine()
    const p = await e.payments.create({ provider: "fake", amount: 100, currency: "JPY", initial_status: "authorized" })
    expect(p.status).toBe("authorized")
    // @ts-expect-error: no provider "komoju" in this engine
    await e.payments.create({ provider: "komoju", amount: 100, currency: "JPY" }).catch(() => {})
    // @ts-expect-error: a misspelt provider field
    await e.payments.create({ provider: "fake", amount: 100, currency: "JPY", initialStatus: "authorized" }).catch(() => {})
    // @ts-expect-error: a value the provider does not take
    await e.payments.create({ provider: "fake", amount: 100, currency: "JPY", initial_status: "settled" }).catch(() => {})
    // @ts-expect-error: the amount is a number of minor units
    await e.payments.create({ provider: "fake", amount: "100", currency: "JPY" }).catch(() => {})
    // @ts-expect-error: webhooks are routed to configured providers only
    await e.webhooks.handle("stripe", { headers: {}, rawBody: "{}" }).catch(() => {})
    await e.close()
  })
})

import { craftgate } from "../../adapters/providers/craftgate/index.js"
import { onekey } from "../../adapters/providers/onekey/index.js"

/** Compile-time only: never called, so no provider is reached. */
export const typedProviderCalls = async () => {
  const e = createEngine({
    store: memoryStore(),
    providers: {
      craftgate: craftgate({ baseUrl: "http://127.0.0.1:1", apiKey: "k", secretKey: "s" }),
      onekey: onekey({ baseUrl: "http://127.0.0.1:1", login: "l", secretKey: "s", readOnlyKey: "r" } as never),
    },
  })
  const items = [{ name: "book", price: 1000 }]
  const card = { cardHolderName: "A B", cardNumber: "5528790000000008", expireYear: "2030", expireMonth: "12", cvc: "123" }
  await e.payments.create({ provider: "craftgate", amount: 1000, currency: "TRY", items, card })
  // @ts-expect-error: Craftgate takes `items`, not `basketItems`
  await e.payments.create({ provider: "craftgate", amount: 1000, currency: "TRY", basketItems: items, card })
  await e.payments.create({ provider: "onekey", amount: 1000, currency: "MXN", country: "MX", payment_method: "OX", payer: { email: "a@b.mx", first_name: "A", last_name: "B" } })
  // @ts-expect-error: OneKey takes `payment_method`, not `paymentMethod`
  await e.payments.create({ provider: "onekey", amount: 1000, currency: "MXN", country: "MX", paymentMethod: "OX", payer: { email: "a@b.mx", first_name: "A", last_name: "B" } })
  await e.payments.refund({ paymentId: "pay_x", amount: 100, paymentTransactionId: "123" })
}
