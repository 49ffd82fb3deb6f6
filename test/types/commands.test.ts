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
