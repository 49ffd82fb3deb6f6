/** `payments.list` keyset pages (`after` / `nextCursor`) and `payments.history` pages through the engine. */
import { describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { createEngine } from "../../src/engine.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"

describe("paging", () => {
  it("lists every payment once across keyset pages, and refuses a forged cursor", async () => {
    const engine = createEngine({ store: memoryStore(), providers: { fake: fakeProvider() }, backgroundIntervalMs: 0 })
    const made = new Set<string>()
    for (let i = 0; i < 7; i++) made.add((await engine.payments.create({ provider: "fake", amount: 100 + i, currency: "JPY" })).id)
    const seen: string[] = []
    let after: string | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await engine.payments.list({ perPage: 3, ...(after ? { after } : {}) })
      seen.push(...page.data.map((p) => p.id))
      if (!page.nextCursor) break
      after = page.nextCursor
    }
    expect(seen.length).toBe(7)
    expect(new Set(seen)).toEqual(made)
    await expect(engine.payments.list({ after: "not-a-cursor" })).rejects.toMatchObject({ code: "INVALID_INPUT" })
    await engine.close()
  })

  it("pages a payment's history by version", async () => {
    const engine = createEngine({ store: memoryStore(), providers: { fake: fakeProvider() }, backgroundIntervalMs: 0 })
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    for (let i = 0; i < 3; i++) await engine.payments.refund({ paymentId: p.id, amount: 10 })
    const all = await engine.payments.history(p.id)
    expect(all.length).toBeGreaterThanOrEqual(8)
    const first = await engine.payments.history(p.id, { limit: 3 })
    const rest = await engine.payments.history(p.id, { afterVersion: first.at(-1)!.version })
    expect([...first, ...rest].map((h) => h.version)).toEqual(all.map((h) => h.version))
    await expect(engine.payments.history(p.id, { limit: -1 })).rejects.toMatchObject({ code: "INVALID_INPUT" })
    await engine.close()
  })
})
