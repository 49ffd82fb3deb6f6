import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { isPaystateError } from "../../src/errors.js"
import { isExactOnWire, toMajorNumber, toMinor } from "../../src/money.js"
import {
  assertStorable,
  captureSchema,
  createCommonSchema,
  idempotencyKeySchema,
  listSchema,
  MAX_WIRE_MINOR,
  ownValue,
  paymentIdSchema,
  providerNameSchema,
  MAX_WEBHOOK_BYTES,
  refundCommonSchema,
  snapshotWebhookRequest,
  toStorable,
  TOO_DEEP_MARKER,
} from "../../src/validation.js"
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

describe("assertStorable refuses host input the stores cannot keep, with INVALID_INPUT", () => {
  const refused = (value: unknown, pattern: RegExp) => {
    let err: any
    try {
      assertStorable(value, "test input")
    } catch (e) {
      err = e
    }
    expect(isPaystateError(err, "INVALID_INPUT"), String(err)).toBe(true)
    expect(err.message).toMatch(pattern)
    expect(Array.isArray(err.details)).toBe(true)
    // The error itself is storable and printable.
    expect(() => JSON.stringify(err.details)).not.toThrow()
    return err
  }
  const deep = (n: number, key = "a") => {
    let v: any = {}
    for (let i = 0; i < n; i++) v = { [key]: v }
    return v
  }

  it("accepts ordinary JSON data, undefined values and unicode", () => {
    expect(() => assertStorable({ a: 1, b: [true, null, "x", { c: undefined }], d: "日本語 😀", e: -0 }, "x")).not.toThrow()
    expect(() => assertStorable(deep(32), "x")).not.toThrow()
    expect(() => assertStorable(Object.assign(Object.create(null), { a: 1 }), "x")).not.toThrow()
  })
  it("refuses a NUL character in a value and in a key, naming the path", () => {
    const e = refused({ description: "a\u0000b" }, /description: .*NUL/)
    expect(e.details[0].path).toEqual(["description"])
    refused({ metadata: { ["k\u0000"]: "v" } }, /metadata\.\(key\): .*NUL/)
  })
  it("refuses lone surrogates but accepts pairs", () => {
    refused({ a: "x\uD800" }, /lone UTF-16 surrogate/)
    refused({ a: "\uDC00x" }, /lone UTF-16 surrogate/)
    refused({ ["\uD83D"]: 1 }, /surrogate/)
    expect(() => assertStorable({ a: "\uD83D\uDE00" }, "x")).not.toThrow()
  })
  it("refuses a 100,000-deep object without a RangeError", () => {
    refused({ payment_details: deep(100_000) }, /deeper than 32/)
    refused(deep(33), /deeper than 32/)
    let arr: any = []
    for (let i = 0; i < 100_000; i++) arr = [arr]
    refused(arr, /deeper than 32/)
  })
  it("refuses more than 10,000 values or 256 KiB of text", () => {
    refused({ a: Array.from({ length: 10_001 }, () => 1) }, /more than 10000 values/)
    refused({ a: "x".repeat(256 * 1024 + 1) }, /characters of text/)
    refused({ ["k".repeat(256 * 1024 + 1)]: 1 }, /characters of text/)
    const sparse: unknown[] = []
    sparse.length = 2 ** 32 - 1
    refused({ items: sparse }, /more than 10000 values/)
  })
  it("refuses Symbols, functions, BigInts, class instances, Dates, Maps and non-finite numbers", () => {
    refused(Symbol("x"), /Symbol/)
    refused({ id: Symbol.iterator }, /id: a Symbol/)
    refused({ f: () => 1 }, /function/)
    refused({ n: 10n }, /BigInt/)
    refused({ m: new Map() }, /Map object/)
    refused({ u: new Uint8Array(2) }, /Uint8Array object/)
    refused({ d: new Date() }, /Date is not accepted/)
    refused({ x: NaN }, /NaN is not a finite/)
    refused({ x: -Infinity }, /not a finite/)
    refused({ [Symbol("k")]: 1 }, /Symbol keys/)
    class Thing {
      a = 1
    }
    refused({ t: new Thing() }, /Thing object/)
    expect(() => assertStorable({ d: new Date() }, "x", { allowDates: true })).not.toThrow()
  })
  it("refuses getters, __proto__ keys and Proxies whose traps throw", () => {
    refused(Object.defineProperty({}, "amount", { get: () => 1, enumerable: true }), /accessor/)
    refused(JSON.parse('{"__proto__": {"x": 1}}'), /__proto__/)
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error("boom") } })
    refused(hostile, /a Proxy is not accepted/)
    refused({ amount: new Proxy({ a: 1 }, {}) }, /amount: a Proxy is not accepted/)
  })
  it("a cycle is refused as too deep, not an endless loop", () => {
    const a: any = { b: {} }
    a.b.a = a
    refused(a, /deeper than 32/)
  })
})

describe("toStorable makes provider data storable without refusing it", () => {
  it("replaces NUL and lone surrogates in values and keys with U+FFFD and keeps the rest", () => {
    const input = { a: "x\u0000y", ["k\uD800"]: ["\uDC00", "ok 😀", 5, null, true], n: { deep: "fine" } }
    const out = toStorable(input)
    expect(out).toEqual({ a: "x\uFFFDy", ["k\uFFFD"]: ["\uFFFD", "ok 😀", 5, null, true], n: { deep: "fine" } })
    expect(input.a).toBe("x\u0000y")
    expect(() => assertStorable(out, "x")).not.toThrow()
  })
  it("cuts a 100,000-deep answer at 64 levels without a RangeError", () => {
    let v: any = { amount: 1 }
    for (let i = 0; i < 100_000; i++) v = { a: v }
    const out = toStorable({ status: "captured", raw: v })
    expect(out.status).toBe("captured")
    expect(() => JSON.stringify(out)).not.toThrow()
    expect(JSON.stringify(out)).toContain(TOO_DEEP_MARKER)
  })
  it("keeps a __proto__ key an own data key and leaves Object.prototype alone", () => {
    const out: any = toStorable(JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}'))
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.keys(out)).toEqual(["__proto__", "a"])
    expect(({} as any).polluted).toBeUndefined()
  })
  it("turns non-finite numbers into null, as JSON would", () => {
    expect(toStorable({ a: NaN, b: [Infinity] })).toEqual({ a: null, b: [null] })
  })
})

describe("id, list and amount schemas", () => {
  it("paymentIdSchema takes printable ASCII ids and refuses Symbols, numbers, objects, NUL and overlong ids", () => {
    expect(paymentIdSchema.safeParse("pay_abcDEF-123_x").success).toBe(true)
    for (const bad of [Symbol("x"), 42, { id: "pay_1" }, null, "", "pay\u0000", "pay x", "pay_é", "p".repeat(201)]) {
      expect(paymentIdSchema.safeParse(bad).success, String(typeof bad === "symbol" ? "symbol" : JSON.stringify(bad))).toBe(false)
    }
  })
  it("idempotencyKeySchema and providerNameSchema are bounded printable identifiers", () => {
    expect(idempotencyKeySchema.safeParse("order 42:refund").success).toBe(true)
    expect(idempotencyKeySchema.safeParse("k\u0000").success).toBe(false)
    expect(idempotencyKeySchema.safeParse("k".repeat(201)).success).toBe(false)
    expect(providerNameSchema.safeParse("komoju").success).toBe(true)
    for (const bad of ["__proto__", "", "a b", "x\u0000", 1]) expect(providerNameSchema.safeParse(bad).success).toBe(false)
  })
  it("ownValue reads only own properties", () => {
    const providers = { komoju: 1 }
    expect(ownValue(providers, "komoju")).toBe(1)
    for (const k of ["__proto__", "constructor", "toString", "hasOwnProperty", Symbol.iterator, 5]) expect(ownValue(providers, k)).toBeUndefined()
  })
  it("list filters refuse year 0000, impossible dates, NUL and reversed ranges", () => {
    const ok = (q: unknown) => listSchema.safeParse(q).success
    expect(ok({ startTime: "2026-11-23T03:00:00Z", endTime: "2026-11-24T03:00:00+09:00" })).toBe(true)
    expect(ok({ startTime: "0000-01-01T00:00:00Z" })).toBe(false)
    expect(ok({ endTime: "1969-12-31T23:59:59Z" })).toBe(false)
    expect(ok({ startTime: "2026-02-30T00:00:00Z" })).toBe(false)
    expect(ok({ startTime: "2026-11-24T00:00:00Z", endTime: "2026-11-23T00:00:00Z" })).toBe(false)
    expect(ok({ externalOrderNum: "a\u0000" })).toBe(false)
    expect(ok({ externalOrderNum: "\uD800" })).toBe(false)
    expect(ok({ provider: "__proto__" })).toBe(false)
    expect(ok({ needsReview: true })).toBe(true)
  })
  it("amounts above 10^15 − 1 minor units are refused with a message about the wire", () => {
    const r = createCommonSchema.safeParse({ provider: "fake", amount: 2 ** 53 - 1, currency: "USD" })
    expect(r.success).toBe(false)
    expect(r.error!.issues[0]!.message).toMatch(/cannot be sent exactly as a JSON number/)
    expect(createCommonSchema.safeParse({ provider: "fake", amount: MAX_WIRE_MINOR, currency: "USD" }).success).toBe(true)
    expect(refundCommonSchema.safeParse({ paymentId: "pay_1", amount: MAX_WIRE_MINOR + 1 }).success).toBe(false)
    expect(captureSchema.safeParse({ paymentId: "pay_1", amount: 1e16 }).success).toBe(false)
    expect(createCommonSchema.safeParse({ provider: "fake", amount: 1, currency: "JPY", description: "a\u0000" }).success).toBe(false)
    expect(createCommonSchema.safeParse({ provider: "fake", amount: 1, currency: "JPY", metadata: { a: "\uDFFF" } }).success).toBe(false)
  })
})

describe("money on the wire", () => {
  it("toMajorNumber throws a RangeError when the double would not carry the amount exactly", () => {
    expect(toMajorNumber(2050, "USD")).toBe(20.5)
    expect(toMajorNumber(MAX_WIRE_MINOR, "KWD")).toBe(999999999999.999)
    expect(toMajorNumber(Number.MAX_SAFE_INTEGER, "JPY")).toBe(Number.MAX_SAFE_INTEGER)
    expect(() => toMajorNumber(Number.MAX_SAFE_INTEGER, "USD")).toThrow(RangeError)
    expect(() => toMajorNumber(2 ** 53 + 2, "JPY")).toThrow(RangeError)
  })
  it("isExactOnWire agrees with toMajorNumber and holds for every amount below 10^15", () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_WIRE_MINOR, max: MAX_WIRE_MINOR }), fc.constantFrom("JPY", "USD", "KWD", "TRY", "MXN"), (minor, currency) => {
        expect(isExactOnWire(minor, currency)).toBe(true)
        expect(toMinor(JSON.parse(JSON.stringify(toMajorNumber(minor, currency))), currency)).toBe(minor)
      }),
      { numRuns: process.env.PAYSTATE_DEEP ? 20_000 : 500 },
    )
    fc.assert(
      fc.property(fc.integer({ min: MAX_WIRE_MINOR, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom("USD", "KWD"), (minor, currency) => {
        const exact = isExactOnWire(minor, currency)
        let threw = false
        try {
          toMajorNumber(minor, currency)
        } catch {
          threw = true
        }
        expect(threw).toBe(!exact)
      }),
      { numRuns: process.env.PAYSTATE_DEEP ? 20_000 : 500 },
    )
    expect(isExactOnWire(1.5, "USD")).toBe(false)
    expect(isExactOnWire(1, "XYZ")).toBe(false)
  })
})

describe("snapshotWebhookRequest reads what a host hands to webhooks.handle, or refuses it typed", () => {
  const rejected = (request: unknown) => {
    let err: unknown
    try {
      snapshotWebhookRequest(request)
    } catch (e) {
      err = e
    }
    expect(isPaystateError(err, "WEBHOOK_REJECTED"), String(err)).toBe(true)
  }
  it("copies Node-style headers and bytes into a null-prototype object, keeping repeated headers as arrays", () => {
    const bytes = Buffer.from('{"a":1}')
    const s = snapshotWebhookRequest({ headers: { "x-sig": "abc", "set-cookie": ["a", "b"], absent: undefined, constructor: "c" }, rawBody: bytes })
    expect(Object.getPrototypeOf(s.headers)).toBeNull()
    expect({ ...s.headers }).toEqual({ "x-sig": "abc", "set-cookie": ["a", "b"], constructor: "c" })
    bytes[0] = 0x5b
    expect(Buffer.from(s.rawBody as Uint8Array).toString()).toBe('{"a":1}')
  })
  it("reads a Fetch Headers object", () => {
    const s = snapshotWebhookRequest({ headers: new Headers({ "X-Sig": "abc" }), rawBody: "{}" })
    expect(s.headers["x-sig"]).toBe("abc")
  })
  it("refuses a missing request, parsed JSON, non-string header values, getters, Proxies and huge bodies", () => {
    rejected(null)
    rejected("raw")
    rejected({ headers: {}, rawBody: { parsed: true } })
    rejected({ headers: {} })
    rejected({ headers: null, rawBody: "{}" })
    rejected({ headers: [["x-sig", "a"]], rawBody: "{}" })
    rejected({ headers: new Map([["x-sig", "a"]]), rawBody: "{}" })
    rejected({ headers: { "x-sig": 5 }, rawBody: "{}" })
    rejected({ headers: { "x-sig": ["a", 5] }, rawBody: "{}" })
    rejected({ headers: { "x-sig": Symbol("a") }, rawBody: "{}" })
    rejected({ headers: Object.defineProperty({}, "x-sig", { get: () => "a", enumerable: true }), rawBody: "{}" })
    rejected({ headers: {}, rawBody: new Proxy(new Uint8Array(2), { getPrototypeOf: () => { throw new Error("boom") } }) })
    rejected(new Proxy({}, { get: () => { throw new Error("boom") } }))
    rejected({ headers: {}, rawBody: "x".repeat(MAX_WEBHOOK_BYTES + 1) })
  })
})
