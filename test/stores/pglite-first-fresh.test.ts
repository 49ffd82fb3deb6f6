/**
 * A machine without a PGlite template: the process's first fresh database is initialised in place
 * (no template built, no copy), the second prepares the template, and later ones copy it. In a file
 * of its own: the count of fresh databases is per process (per test file here).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { pgliteStore } from "../../adapters/stores/pglite.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-first-fresh-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const at = "2026-01-01T00:00:00.000Z"
const templateBuilt = (templates: string) => existsSync(templates) && readdirSync(templates).some((k) => existsSync(join(templates, k, "data", "PG_VERSION")))

describe("pglite store on a machine without a template", () => {
  it("initialises the first fresh database in place, and prepares the template for the second", async () => {
    const templates = join(dir, "templates")
    const first = pgliteStore({ dataDir: join(dir, "first"), templates })
    await first.init()
    expect(templateBuilt(templates)).toBe(false)
    await first.commit({ expectedVersion: 0, payment: { id: "pay_first", provider: "fake", providerRef: null, status: "captured", currency: "JPY", amount: 1, externalOrderNum: null, createdAt: at, updatedAt: at, snapshot: { value: "captured", context: {} } }, journal: { at, event: { type: "CREATE" }, status: "captured" } })
    expect((await first.load("pay_first"))?.version).toBe(1)
    await first.close()

    const second = pgliteStore({ dataDir: join(dir, "second"), templates })
    await second.init()
    expect(templateBuilt(templates)).toBe(true)
    // Each a database of its own: the template never holds what the first one wrote.
    expect(await second.load("pay_first")).toBeUndefined()
    await second.close()
  }, 60_000)
})
