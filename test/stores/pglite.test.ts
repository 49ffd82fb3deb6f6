import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { storeContract } from "./contract.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-pglite-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

storeContract("pglite (data directory)", () => pgliteStore({ dataDir: join(dir, "contract") }))

describe("pglite store on disk", () => {
  it("keeps what was committed across a reopen, and migrates only once", async () => {
    const dataDir = join(dir, "reopen")
    const a = pgliteStore({ dataDir })
    await a.init()
    await a.commit({
      expectedVersion: 0,
      payment: { id: "p1", provider: "fake", providerRef: "r1", status: "captured", currency: "JPY", amount: 500, externalOrderNum: null, createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z", snapshot: { value: "captured", context: { x: 1 } } },
      journal: { at: "2026-01-01T00:00:00.000Z", event: { type: "CREATE" }, status: "captured" },
    })
    await a.close()
    const b = pgliteStore({ dataDir })
    await b.init()
    expect((await b.load("p1"))?.snapshot).toEqual({ value: "captured", context: { x: 1 } })
    expect((await b.findByProviderRef("fake", "r1"))?.amount).toBe(500)
    await b.close()
  })
})
