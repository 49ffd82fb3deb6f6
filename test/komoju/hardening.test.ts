/**
 * Hostile input on the KOMOJU paths is always a typed error and writes nothing: amounts whose
 * derived sums are no safe integers, taxes KOMOJU cannot read, and webhook signature headers that are
 * missing, repeated, array-valued or not strings. Card data is split off before anything is stored.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { signKomojuWebhook } from "../../adapters/providers/komoju/index.js"
import { isPaystateError } from "../../src/errors.js"
import { startWorld, type KomojuWorld } from "./helpers.js"
import { DETAILS } from "./seeds.js"

let w: KomojuWorld
beforeAll(async () => {
  w = await startWorld({ webhooks: false })
})
afterAll(() => w.close())

const rows = async () => ({ payments: (await w.engine.store.list({ perPage: 1000 })).data.length, journal: (await w.engine.store.allJournal()).length, outbox: (await w.engine.store.outbox()).length })
const refused = async (p: Promise<unknown>, code: string) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(isPaystateError(e, code as never), String(e)).toBe(true)
  return e as { message: string }
}

describe("amounts", () => {
  test.each([
    ["amount + tax beyond 2^53 (tax a number)", { amount: 999_999_999_999_999, tax: 9_007_199_254_740_000 }],
    ["amount + tax beyond 2^53 (tax a decimal string)", { amount: 999_999_999_999_999, tax: "9007199254740000.4" }],
    ["a tax whose text is no decimal (1e21)", { amount: 1000, tax: 1e21 }],
    ["a tax of too many digits", { amount: 1000, tax: "99999999999999999999" }],
    ["a tax in exponent notation", { amount: 1000, tax: 5e-7 }],
  ])("%s is INVALID_INPUT before anything is written", async (_name, extra) => {
    const before = await rows()
    await refused(w.engine.payments.create({ provider: "komoju", currency: "JPY", payment_details: DETAILS.konbini, ...extra } as never), "INVALID_INPUT")
    expect(await rows()).toEqual(before)
  })

  test("a large amount whose total stays a safe integer is taken, with KOMOJU's total as the ceiling", async () => {
    const p = await w.engine.payments.create({ provider: "komoju", amount: 999_999_999_999_999, currency: "JPY", payment_details: DETAILS.konbini })
    expect(p.amount).toBe(999_999_999_999_999 + 100_000_000_000_000)
  })
})

describe("card data", () => {
  test("the stored request keeps last four digits, brand and expiry; never the number or the CVV", async () => {
    const p = await w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: DETAILS.credit_card })
    const row = await w.engine.store.load(p.id)
    const stored = JSON.stringify([row, await w.engine.store.journal(p.id), await w.engine.store.outbox(p.id)])
    expect(stored).not.toContain(DETAILS.credit_card!.number)
    expect(stored).not.toContain("verification_value")
    expect(p.details).toMatchObject({ komoju: { payment_details: { brand: "visa", last_four_digits: "1111", month: 1, year: 2030 } } })
    expect(p.status).toBe("captured")
  })
})

describe("webhook headers", () => {
  const event = async () => {
    const p = await w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: DETAILS.bit_cash })
    const body = (await w.api("GET", `/payments/${p.providerRef}`)).json
    return signKomojuWebhook(w.sandbox.webhookSecret, { id: `evt_${Math.random().toString(36).slice(2)}`, type: "payment.captured", resource: "event", data: body, created_at: "2020-06-09T07:42:12Z", reason: null } as never)
  }

  test.each([
    ["absent", (h: Record<string, unknown>) => ({ ...h, "x-komoju-signature": undefined })],
    ["null", (h: Record<string, unknown>) => ({ ...h, "x-komoju-signature": null })],
    ["a number", (h: Record<string, unknown>) => ({ ...h, "x-komoju-signature": 42 })],
    ["an empty array", (h: Record<string, unknown>) => ({ ...h, "x-komoju-signature": [] })],
    ["[genuine, forged]", (h: Record<string, unknown>) => ({ ...h, "x-komoju-signature": [h["x-komoju-signature"], "00".repeat(32)] })],
    ["[forged, genuine]", (h: Record<string, unknown>) => ({ ...h, "x-komoju-signature": ["00".repeat(32), h["x-komoju-signature"]] })],
    ["twice in different case", (h: Record<string, unknown>) => ({ ...h, "X-Komoju-Signature": h["x-komoju-signature"] })],
    ["a repeated delivery id", (h: Record<string, unknown>) => ({ ...h, "x-komoju-id": ["a", "b"] })],
  ])("a signature header that is %s is WEBHOOK_REJECTED, never a raw error", async (_name, alter) => {
    const signed = await event()
    const e = await w.engine.webhooks.handle("komoju", { headers: alter(signed.headers) as never, rawBody: signed.rawBody }).then(
      () => undefined,
      (x: unknown) => x,
    )
    expect(isPaystateError(e, "WEBHOOK_REJECTED"), String(e)).toBe(true)
  })

  test("headers that are no object are WEBHOOK_REJECTED", async () => {
    const signed = await event()
    for (const headers of [null, "x-komoju-signature: abc", 7]) {
      const e = await w.engine.webhooks.handle("komoju", { headers: headers as never, rawBody: signed.rawBody }).then(
        () => undefined,
        (x: unknown) => x,
      )
      expect(isPaystateError(e, "WEBHOOK_REJECTED"), String(e)).toBe(true)
    }
  })

  test("a single genuine header, in an array of one, is accepted", async () => {
    const signed = await event()
    const out = await w.engine.webhooks.handle("komoju", { headers: { ...signed.headers, "x-komoju-signature": [signed.headers["x-komoju-signature"]!] }, rawBody: signed.rawBody })
    expect(out.status).toBe("processed")
  })
})
