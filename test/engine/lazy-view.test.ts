/**
 * A command's answer builds its refunds list when first read. These check that the lazy list is the
 * same plain data an eager one was: in JSON, spread, structuredClone, deep equality, key order, and
 * that a host may change or replace it.
 */
import { describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { createEngine } from "../../src/engine.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"
import { lazyProperty } from "../../src/lazy.js"

describe("the refunds list of a payment view", () => {
  it("is the same plain data whether read first, spread, serialised, cloned or written", async () => {
    const engine = createEngine({ store: memoryStore(), providers: { fake: fakeProvider() }, backgroundIntervalMs: 0, onError: () => {} })
    const p = await engine.payments.create({ provider: "fake", amount: 10_000, currency: "JPY" })
    for (const amount of [100, 200, 300]) await engine.payments.refund({ paymentId: p.id, amount })
    const eager = await engine.payments.get(p.id)
    const expected = JSON.parse(JSON.stringify(eager)) as typeof eager
    expect(expected.refunds.map((r) => r.amount)).toEqual([100, 200, 300])
    const fresh = () => engine.payments.get(p.id)
    expect(JSON.parse(JSON.stringify(await fresh()))).toEqual(expected)
    expect(Object.keys(await fresh())).toEqual(Object.keys(expected))
    expect({ ...(await fresh()) }).toEqual(expected)
    expect(structuredClone(await fresh())).toEqual(expected)
    expect(await fresh()).toEqual(expected)
    // The types say readonly; at run time an answer is the host's own plain data.
    type Mutable = { refunds: { amount: number }[] }
    const a = (await fresh()) as unknown as Mutable
    const b = await fresh()
    a.refunds[0]!.amount = 1
    a.refunds.push({ ...a.refunds[0]! })
    expect(b.refunds.map((r) => r.amount)).toEqual([100, 200, 300])
    expect(a.refunds).toHaveLength(4)
    const c = (await fresh()) as unknown as Mutable
    c.refunds = []
    expect(c.refunds).toEqual([])
    expect(Object.getOwnPropertyDescriptor(c, "refunds")).toMatchObject({ writable: true, enumerable: true, value: [] })
    await engine.close()
  })

  it("makes its value once, on first read", () => {
    let made = 0
    const o = lazyProperty({ a: 1, list: [] as number[], z: 2 }, "list", () => (made++, [1, 2]))
    expect(made).toBe(0)
    expect(o.list).toEqual([1, 2])
    expect(o.list).toBe(o.list)
    expect(made).toBe(1)
    expect(Object.keys(o)).toEqual(["a", "list", "z"])
  })
})
