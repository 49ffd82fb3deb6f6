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
import { komoju } from "../../adapters/providers/komoju/index.js"
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

/** KOMOJU's own fields, per payment method: compile-time only, never called. */
export const typedKomojuCalls = async () => {
  const e = createEngine({ store: memoryStore(), providers: { komoju: komoju({ baseUrl: "http://127.0.0.1:1/api/v1", secretKey: "sk", webhookSecret: "wh" }) } })
  const card = { type: "credit_card", number: "4111111111111111", month: "12", year: "2030", verification_value: "123", name: "TARO YAMADA" } as const
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: card, capture: false, tax: "auto" })
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "konbini", store: "lawson", email: "a@b.jp" } })
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "bank_transfer", email: "a@b.jp", family_name: "Yamada", given_name: "Taro" } })
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "pay_easy", email: "a@b.jp", family_name: "Yamada", given_name: "Taro", expiry_days: 5 } })
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "web_money", prepaid_number: "1234567890123456" } })
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", customer: "cus_1" })
  // @ts-expect-error: KOMOJU takes `payment_details`, not `paymentDetails`
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", paymentDetails: card })
  // @ts-expect-error: a misspelt card field (`verification_value`)
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "credit_card", number: "4111111111111111", month: "12", year: "2030", cvv: "123" } })
  // @ts-expect-error: a konbini payment names its store
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "konbini", email: "a@b.jp" } })
  // @ts-expect-error: no such konbini chain
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "konbini", store: "7-eleven", email: "a@b.jp" } })
  // @ts-expect-error: no such payment method
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "paypal", email: "a@b.jp" } })
  // @ts-expect-error: a bank transfer's fields belong to bank_transfer, not to a card
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { ...card, family_name: "Yamada" } })
  // @ts-expect-error: exactly one of payment_details or customer
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: card, customer: "cus_1" })
  // @ts-expect-error: exactly one of payment_details or customer
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY" })
  // @ts-expect-error: locale is en, ja or ko
  await e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: card, locale: "fr" })
  await e.payments.refund({ paymentId: "pay_x", amount: 100, name: "Taro", email: "a@b.jp" })
  // @ts-expect-error: a misspelt refund option (`email`)
  await e.payments.refund({ paymentId: "pay_x", amount: 100, e_mail: "a@b.jp" })
  const account = { customer_name: "ﾀﾛｳ", bank_code: "0001", bank_name: "Mizuho", branch_number: "001", branch_name: "Tokyo", account_type: "normal", account_number: "1234567", include_payment_method_fee: false } as const
  await e.payments.refundRequest({ paymentId: "pay_x", amount: 100, ...account })
  // @ts-expect-error: a refund request names the bank account in full (no branch_number)
  await e.payments.refundRequest({ paymentId: "pay_x", amount: 100, customer_name: "ﾀﾛｳ", bank_code: "0001", bank_name: "Mizuho", branch_name: "Tokyo", account_type: "normal", account_number: "1", include_payment_method_fee: false })
  // @ts-expect-error: account_type is normal or checking
  await e.payments.refundRequest({ paymentId: "pay_x", amount: 100, ...account, account_type: "savings" })
}
