import { describe, expect, it } from "vitest"
import { dump, setup } from "./helpers.js"

describe("bad input is refused with a typed error and writes nothing", () => {
  const { engine, store } = setup()
  let paymentId = ""

  it("sets up one captured payment", async () => {
    paymentId = (await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })).id
  })

  const badCreates: [string, Record<string, unknown>][] = [
    ["a negative amount", { provider: "fake", amount: -1, currency: "JPY" }],
    ["a fractional JPY amount", { provider: "fake", amount: 10.5, currency: "JPY" }],
    ["an unknown currency", { provider: "fake", amount: 100, currency: "XYZ" }],
    ["a lower-case currency", { provider: "fake", amount: 100, currency: "jpy" }],
    ["a missing amount", { provider: "fake", currency: "JPY" }],
    ["a missing currency", { provider: "fake", amount: 100 }],
    ["an amount given as a string", { provider: "fake", amount: "100", currency: "JPY" }],
    ["metadata that is not strings", { provider: "fake", amount: 100, currency: "JPY", metadata: { a: 1 } }],
    ["a missing provider", { amount: 100, currency: "JPY" }],
  ]
  for (const [what, input] of badCreates) {
    it(`create with ${what}`, async () => {
      const before = await dump(store)
      const err: any = await engine.payments.create(input as never).catch((e: unknown) => e)
      expect(err).toMatchObject({ _tag: "PaystateError", code: "INVALID_INPUT" })
      expect(Array.isArray(err.details)).toBe(true)
      expect(await dump(store)).toEqual(before)
    })
  }

  it("create with an unknown provider", async () => {
    const before = await dump(store)
    await expect(engine.payments.create({ provider: "nope", amount: 1, currency: "JPY" })).rejects.toMatchObject({ code: "UNKNOWN_PROVIDER" })
    expect(await dump(store)).toEqual(before)
  })

  const badCommands: [string, () => Promise<unknown>, string][] = [
    ["refund with a negative amount", () => engine.payments.refund({ paymentId, amount: -5 }), "INVALID_INPUT"],
    ["refund with a zero amount", () => engine.payments.refund({ paymentId, amount: 0 }), "INVALID_INPUT"],
    ["refund with a fractional amount", () => engine.payments.refund({ paymentId, amount: 1.5 }), "INVALID_INPUT"],
    ["refund with a string amount", () => engine.payments.refund({ paymentId, amount: "5" as never }), "INVALID_INPUT"],
    ["refund with an unknown option", () => engine.payments.refund({ paymentId, amount: 5, bogus: true }), "INVALID_INPUT"],
    ["refund without a payment id", () => engine.payments.refund({} as never), "INVALID_INPUT"],
    ["refund of an unknown payment", () => engine.payments.refund({ paymentId: "pay_nope", amount: 5 }), "PAYMENT_NOT_FOUND"],
    ["refund above what is left", () => engine.payments.refund({ paymentId, amount: 1001 }), "REFUND_EXCEEDS_REFUNDABLE"],
    ["refund request with a fractional amount", () => engine.payments.refundRequest({ paymentId, amount: 0.5 }), "INVALID_INPUT"],
    ["capture of an unknown payment", () => engine.payments.capture({ paymentId: "pay_nope" }), "PAYMENT_NOT_FOUND"],
    ["capture with a wrong type", () => engine.payments.capture({ paymentId: 42 as never }), "INVALID_INPUT"],
    ["capture of a captured payment", () => engine.payments.capture({ paymentId }), "INVALID_TRANSITION"],
    ["cancel of a captured payment", () => engine.payments.cancel({ paymentId }), "INVALID_TRANSITION"],
    ["cancel with an extra field", () => engine.payments.cancel({ paymentId, amount: 3 } as never), "INVALID_INPUT"],
    ["update with nothing to change", () => engine.payments.update({ paymentId }), "INVALID_INPUT"],
    ["update of the amount", () => engine.payments.update({ paymentId, amount: 5 } as never), "INVALID_INPUT"],
    ["update of an unknown payment", () => engine.payments.update({ paymentId: "pay_nope", description: "x" }), "PAYMENT_NOT_FOUND"],
    ["get of an unknown payment", () => engine.payments.get("pay_nope"), "PAYMENT_NOT_FOUND"],
    ["list with a bad status", () => engine.payments.list({ status: "paid" as never }), "INVALID_INPUT"],
    ["list with a bad page", () => engine.payments.list({ page: 0 }), "INVALID_INPUT"],
  ]
  for (const [what, run, code] of badCommands) {
    it(what, async () => {
      const before = await dump(store)
      const err: any = await run().catch((e: unknown) => e)
      expect(err).toMatchObject({ _tag: "PaystateError", code })
      expect(typeof err.message).toBe("string")
      expect(await dump(store)).toEqual(before)
    })
  }

  it("a refund of a payment that is not captured is an invalid transition", async () => {
    const pending = await engine.payments.create({ provider: "fake", amount: 500, currency: "JPY", initial_status: "authorized" })
    const before = await dump(store)
    await expect(engine.payments.refund({ paymentId: pending.id, amount: 1 })).rejects.toMatchObject({ code: "INVALID_TRANSITION" })
    expect(await dump(store)).toEqual(before)
    await engine.close()
  })
})
