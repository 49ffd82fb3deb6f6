/**
 * Provider factories check their credentials and URLs when they are called: a missing or empty key
 * (an unset environment variable) or a base URL that is no URL is a CONFIGURATION_INVALID thrown at
 * once, naming the field and never its value, before an engine exists to write anything. Secrets may
 * be effect `Redacted` values; such an adapter works against its sandbox like one given strings.
 */
import { Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { craftgate, startCraftgateSandbox, type RunningCraftgateSandbox } from "../../adapters/providers/craftgate/index.js"
import { komoju, startKomojuSandbox, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { onekey, startOnekeySandbox, type RunningOnekeySandbox } from "../../adapters/providers/onekey/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { createEngine, isPaystateError, type ProviderAdapter } from "../../src/index.js"

const SECRET = "sk_live_do_not_print_me"

/** The error a factory call threw synchronously (it must throw, not return a broken adapter). */
const thrown = (build: () => unknown): unknown => {
  try {
    build()
  } catch (e) {
    return e
  }
  throw new Error("the factory built an adapter")
}

const base = {
  komoju: { baseUrl: "http://127.0.0.1:1/api/v1", secretKey: SECRET, webhookSecret: SECRET },
  craftgate: { baseUrl: "http://127.0.0.1:1", apiKey: SECRET, secretKey: SECRET },
  onekey: { baseUrl: "http://127.0.0.1:1", login: SECRET, secretKey: SECRET },
}
const factories: Record<keyof typeof base, (o: any) => ProviderAdapter<any>> = { komoju, craftgate, onekey }

/** [provider, field, value, reason] for every field each factory checks. */
const CASES: [keyof typeof base, string, unknown, string][] = [
  ["komoju", "secretKey", undefined, "missing"],
  ["komoju", "secretKey", "", "empty"],
  ["komoju", "secretKey", "   ", "whitespace"],
  ["komoju", "secretKey", `${SECRET}\n`, "whitespace"],
  ["komoju", "secretKey", Redacted.make(""), "empty"],
  ["komoju", "secretKey", 42, "not_a_string"],
  ["komoju", "webhookSecret", undefined, "missing"],
  ["komoju", "webhookSecret", "", "empty"],
  ["komoju", "baseUrl", "komoju.com/api/v1", "not_a_url"],
  ["komoju", "baseUrl", "ftp://komoju.com/api/v1", "not_http"],
  ["craftgate", "baseUrl", undefined, "missing"],
  ["craftgate", "baseUrl", "not a url", "not_a_url"],
  ["craftgate", "apiKey", "", "empty"],
  ["craftgate", "secretKey", undefined, "missing"],
  ["craftgate", "webhookKey", "", "empty"],
  ["onekey", "baseUrl", "", "empty"],
  ["onekey", "login", undefined, "missing"],
  ["onekey", "secretKey", Redacted.make(" "), "whitespace"],
  ["onekey", "readOnlyKey", "", "empty"],
  ["onekey", "notificationUrl", "/notifications", "not_a_url"],
]

describe("provider factories check their configuration", () => {
  it.each(CASES)("%s: %s = %j is CONFIGURATION_INVALID (%s)", (provider, field, value, reason) => {
    const e = thrown(() => factories[provider]({ ...base[provider], [field]: value }))
    expect(isPaystateError(e, "CONFIGURATION_INVALID"), String(e)).toBe(true)
    expect(e).toMatchObject({ details: { provider, field, reason }, retryable: false })
    expect((e as Error).message).toContain(`${provider}(config): ${field}`)
    // The error names the field, never a value: a secret must not reach a log.
    expect(JSON.stringify({ message: (e as Error).message, details: (e as { details: unknown }).details })).not.toContain(SECRET)
  })

  it("refuses a call without options, and the valid options of each provider build an adapter", () => {
    for (const f of Object.values(factories)) expect(thrown(() => f(undefined))).toMatchObject({ code: "CONFIGURATION_INVALID", details: { field: "options" } })
    for (const [name, f] of Object.entries(factories)) expect(f(base[name as keyof typeof base]).name).toBe(name)
    // KOMOJU's base URL is optional (it defaults to KOMOJU's API); an empty one is still refused.
    expect(komoju({ secretKey: "sk", webhookSecret: "wh" }).name).toBe("komoju")
  })

  it("throws before the engine exists, so nothing is written", async () => {
    const store = memoryStore()
    expect(() => createEngine({ store, providers: { komoju: komoju({ secretKey: process.env.PAYSTATE_UNSET_FOR_TEST!, webhookSecret: "wh" }) } })).toThrow(
      expect.objectContaining({ code: "CONFIGURATION_INVALID", details: { provider: "komoju", field: "secretKey", reason: "missing" } }),
    )
    await store.init?.()
    expect((await store.list({})).total).toBe(0)
  })

  it("Craftgate's day rule and webhook tolerance are configuration errors too", () => {
    expect(thrown(() => craftgate({ ...base.craftgate, dayCutoff: "noon" }))).toMatchObject({ code: "CONFIGURATION_INVALID", details: { provider: "craftgate", field: "dayCutoff" } })
    expect(thrown(() => craftgate({ ...base.craftgate, timeZone: "Mars/Olympus" }))).toMatchObject({ code: "CONFIGURATION_INVALID", details: { field: "timeZone" } })
    expect(thrown(() => craftgate({ ...base.craftgate, webhookToleranceSeconds: -1 }))).toMatchObject({ code: "CONFIGURATION_INVALID", details: { field: "webhookToleranceSeconds" } })
  })
})

describe("secrets as effect Redacted values", () => {
  let k: RunningKomojuSandbox
  let c: RunningCraftgateSandbox
  let o: RunningOnekeySandbox
  beforeAll(async () => {
    ;[k, c, o] = await Promise.all([startKomojuSandbox(), startCraftgateSandbox(), startOnekeySandbox()])
  })
  afterAll(async () => {
    await Promise.all([k?.close(), c?.close(), o?.close()])
  })

  it("each provider signs with the secret inside, and the adapter's options never show it", async () => {
    const r = Redacted.make
    const engine = createEngine({
      store: memoryStore(),
      providers: {
        komoju: komoju({ baseUrl: k.apiUrl, secretKey: r(k.secretKey), webhookSecret: r(k.webhookSecret), timeoutMs: 2000 }),
        craftgate: craftgate({ baseUrl: c.url, apiKey: r(c.credentials.apiKey), secretKey: r(c.credentials.secretKey), webhookKey: r(c.credentials.webhookKey), timeoutMs: 2000 }),
        onekey: onekey({ baseUrl: o.url, login: r(o.credentials.login), secretKey: r(o.credentials.secretKey), readOnlyKey: r(o.credentials.readOnlyKey), timeoutMs: 2000 }),
      },
      backgroundIntervalMs: 0,
      onError: () => {},
    })
    await engine.ready
    try {
      const kp = await engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "credit_card", number: "4111111111111111", month: "12", year: "2030", verification_value: "123" } })
      expect(kp.status).toBe("captured")
      const cp = await engine.payments.create({
        provider: "craftgate",
        amount: 5000,
        currency: "TRY",
        card: { cardHolderName: "Haluk Demir", cardNumber: "5258640000000001", expireYear: "2044", expireMonth: "07", cvc: "000" },
        items: [{ name: "Book", price: 5000 }],
      })
      expect(cp.status).toBe("captured")
      const op = await engine.payments.create({ provider: "onekey", amount: 1000, currency: "MXN", country: "MX", payment_method: "OX", payer: { email: "carlos@example.com", first_name: "Carlos", last_name: "Ramirez" } })
      expect(op.status).toBe("pending")
      expect(op.providerRef).toBeTruthy()
    } finally {
      await engine.close()
    }
    // A Redacted prints as <redacted>: a host that logs its options leaks nothing.
    expect(String(r(k.secretKey))).not.toContain(k.secretKey)
  })
})
