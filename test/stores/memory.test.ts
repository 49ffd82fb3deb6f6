import { describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { storeContract } from "./contract.js"

storeContract("memory", (o) => memoryStore(o))

describe("memory store", () => {
  it("owns what it is given and hands out frozen rows: no caller can change the store behind its back", async () => {
    const store = memoryStore()
    const at = "2026-01-01T00:00:00.000Z"
    const payment = { id: "p", provider: "fake", providerRef: null, status: "captured" as const, currency: "JPY", amount: 1, externalOrderNum: null, createdAt: at, updatedAt: at, snapshot: { value: "captured", context: { list: [1] } } }
    await store.commit({ expectedVersion: 0, payment, journal: { at, event: { type: "E" }, status: "captured" } })
    // The commit became the store's: what was passed in cannot be changed behind its back.
    expect(() => payment.snapshot.context.list.push(2)).toThrow(TypeError)
    const row = await store.load("p")
    expect(row?.snapshot.context).toEqual({ list: [1] })
    expect(() => ((row!.snapshot.context as { list: number[] }).list as number[]).push(3)).toThrow(TypeError)
    expect((await store.load("p"))?.snapshot.context).toEqual({ list: [1] })
  })
})
