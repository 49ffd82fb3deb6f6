/** The details every documented error code promises, through the public API. */
import { describe, expect, it } from "vitest"
import { postgresStore } from "../../adapters/stores/postgres.js"
import { createEngine } from "../../src/engine.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"
import { setup } from "./helpers.js"

describe("error details", () => {
  it("a store that cannot connect is STORE_UNAVAILABLE, not a provider error", async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const engine = createEngine({ store: postgresStore({ connectionString: "postgres://postgres@127.0.0.1:9/none", pool: { connectionTimeoutMillis: 2000 } }), providers: { fake: fakeProvider() }, backgroundIntervalMs: 0, recoverOnStart: false, onError: () => {} })
    const e = await engine.payments.create({ provider: "fake", amount: 100, currency: "JPY" }).catch((x: unknown) => x)
    expect(e).toMatchObject({ code: "STORE_UNAVAILABLE", retryable: true, details: { store: "postgres" } })
    await engine.close().catch(() => {})
  })

  it("INVALID_TRANSITION names the state; UNKNOWN_PROVIDER lists what is configured, for inherited names too", async () => {
    const { engine } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY", initial_status: "authorized" })
    await expect(engine.payments.refund({ paymentId: p.id, amount: 1 })).rejects.toMatchObject({ code: "INVALID_TRANSITION", details: { paymentId: p.id, state: "authorized" } })
    await expect(engine.payments.create({ provider: "nope", amount: 1, currency: "JPY" })).rejects.toMatchObject({ code: "UNKNOWN_PROVIDER", details: { configured: ["fake"] } })
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "nope"]) {
      // The create schema may refuse a name that is no identifier before the registry is asked.
      const created = await engine.payments.create({ provider: name, amount: 1, currency: "JPY" }).catch((x: unknown) => x)
      expect(["UNKNOWN_PROVIDER", "INVALID_INPUT"]).toContain((created as { code?: string }).code)
      await expect(engine.webhooks.handle(name, { headers: {}, rawBody: "{}" })).rejects.toMatchObject({ code: "UNKNOWN_PROVIDER", details: { configured: ["fake"] } })
    }
  })

  it("WEBHOOK_REJECTED says which provider and why", async () => {
    const { engine } = setup()
    await expect(engine.webhooks.handle("fake", { headers: {}, rawBody: JSON.parse("{}") })).rejects.toMatchObject({ code: "WEBHOOK_REJECTED", details: { provider: "fake", reason: "bad_body" } })
    await expect(engine.webhooks.handle("fake", null as never)).rejects.toMatchObject({ code: "WEBHOOK_REJECTED", details: { reason: "bad_request" } })
    await expect(engine.webhooks.handle("fake", { headers: {}, rawBody: "x".repeat(2 * 1024 * 1024) })).rejects.toMatchObject({ code: "WEBHOOK_REJECTED", details: { reason: "too_large" } })
    await expect(engine.webhooks.handle("fake", { headers: { "x-fake-signature": "00" }, rawBody: "{}" })).rejects.toMatchObject({ code: "WEBHOOK_REJECTED", details: { provider: "fake", reason: "rejected" } })
  })
})

describe("structured log hook", () => {
  it("logs each step, effect and webhook with ids and codes only", async () => {
    const entries: Record<string, unknown>[] = []
    const { engine, fake } = setup({ engine: { log: (e) => entries.push(e as never) } })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    fake.script("refund", "unavailable")
    await engine.payments.refund({ paymentId: p.id, amount: 100 }).catch(() => {})
    await engine.webhooks.handle("fake", { headers: { "x-fake-signature": "bad" }, rawBody: "{}" }).catch(() => {})
    const events = entries.map((e) => e.event)
    expect(events).toEqual(expect.arrayContaining(["step.committed", "effect.answered", "effect.unknown", "webhook.rejected"]))
    expect(entries.find((e) => e.event === "effect.unknown")).toMatchObject({ level: "warn", paymentId: p.id, provider: "fake", op: "refund", code: "PROVIDER_UNAVAILABLE" })
    for (const e of entries) expect(Object.keys(e).every((k) => ["level", "event", "at", "paymentId", "provider", "op", "opId", "eventType", "status", "code", "message", "attempt"].includes(k))).toBe(true)
  })
})
