/**
 * The redactor's copies: secret fields gone, masked ones masked where they leave the store, a
 * provider's "__proto__" key kept as an ordinary own key, and the stored form shared, not copied
 * again, once made.
 */
import { describe, expect, it } from "vitest"
import { redactor } from "../../src/redact.js"

const hostile = () => JSON.parse('{"a":1,"__proto__":{"polluted":true},"cardNumber":"4111111111111111","bank":{"accountNumber":"12345678","email":"x@example.com"}}') as Record<string, unknown>

describe("redactor", () => {
  const r = redactor()
  for (const [name, copy] of [
    ["redact (journal)", (v: unknown) => r.redact(v, "journal")],
    ["storeCopy", (v: unknown) => r.storeCopy(v)],
  ] as const) {
    it(`${name}: keeps "__proto__" an own key, never the copy's prototype, and pollutes nothing`, () => {
      const out = copy(hostile()) as Record<string, unknown>
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
      expect(Object.prototype.hasOwnProperty.call(out, "__proto__")).toBe(true)
      expect((Object.getOwnPropertyDescriptor(out, "__proto__")!.value as { polluted: boolean }).polluted).toBe(true)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect((out as { polluted?: unknown }).polluted).toBeUndefined()
      expect(out.cardNumber).toBeUndefined()
      expect(JSON.parse(JSON.stringify(out))).toMatchObject({ a: 1 })
    })
  }

  it("masks for the journal and keeps for the store", () => {
    expect((r.redact(hostile(), "journal").bank as Record<string, unknown>).accountNumber).toBe("••••5678")
    expect((r.storeCopy(hostile()).bank as Record<string, unknown>).accountNumber).toBe("12345678")
    expect((r.redact(hostile(), "inspect").bank as Record<string, unknown>).email).toMatch(/^••••/)
  })

  it("storeCopy is a JSON copy (undefined dropped, non-finite numbers null, toJSON used) that shares what it stored before", () => {
    const first = r.storeCopy({ a: undefined, b: [undefined, NaN, 1], d: new Date("2026-01-01T00:00:00.000Z"), big: { n: 1 } })
    expect(first).toEqual(JSON.parse(JSON.stringify({ a: undefined, b: [undefined, NaN, 1], d: new Date("2026-01-01T00:00:00.000Z"), big: { n: 1 } })))
    expect("a" in first).toBe(false)
    const next = r.storeCopy({ ...first, c: 2 })
    expect(next.big).toBe(first.big)
    expect(r.redact(first, "store")).toBe(first)
  })

  it("redactOnce computes a view once and freezes it", () => {
    const v = { id: "rf_1", details: { accountNumber: "12345678" } }
    const a = r.redactOnce(v, "view")
    expect(r.redactOnce(v, "view")).toBe(a)
    expect(Object.isFrozen(a) && Object.isFrozen(a.details)).toBe(true)
    expect(a.details.accountNumber).toBe("••••5678")
  })
})

describe("adopt: a value read back from the store", () => {
  it("is shared by storeCopy when it is clean stored form; a secret anywhere in it is still dropped", () => {
    const r = redactor()
    const clean = JSON.parse('{"context":{"refunds":[{"id":"rf_1","amount":1,"details":{"bank":"x"}}]}}')
    r.adopt(clean)
    const copy = r.storeCopy({ ...clean, value: "captured" })
    expect(copy.context).toBe(clean.context)
    expect(copy.context.refunds[0]).toBe(clean.context.refunds[0])
    const dirty = JSON.parse('{"context":{"ok":{"a":1},"card":{"card_number":"4111111111111111","cvv":"123"}}}')
    r.adopt(dirty)
    const cleaned = r.storeCopy(dirty)
    expect(cleaned).not.toBe(dirty)
    expect(JSON.stringify(cleaned)).not.toContain("4111")
    expect(JSON.stringify(cleaned)).not.toContain("123")
    // Its clean parts are still shared.
    expect(cleaned.context.ok).toBe(dirty.context.ok)
    // Not plain JSON data: never taken as stored form.
    const odd = { at: new Date(0), n: Number.NaN }
    r.adopt(odd)
    expect(r.storeCopy(odd)).toEqual({ at: "1970-01-01T00:00:00.000Z", n: null })
  })
})
