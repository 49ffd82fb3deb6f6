/** The `paystate` command as a user runs it: demo on PGlite, then status, history, diagram, sandbox. */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { pgliteStore } from "../../adapters/stores/pglite.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-cli-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const main = join(import.meta.dirname, "../../src/cli/main.ts")
const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", main, ...args], { encoding: "utf8", timeout: 120_000 })

describe("paystate CLI", () => {
  const dataDir = join(dir, "demo")

  it("demo runs the journeys on PGlite, prints a timeline and exits 0; status and history read the same store", async () => {
    const demo = cli("demo", "--data-dir", dataDir, "--only", "onekey")
    expect(demo.status).toBe(0)
    expect(demo.stdout).toContain("paystate demo — pglite store")
    expect(demo.stdout).toContain("802 INVALID_AMOUNT_TO_REFUND")
    const store = pgliteStore({ dataDir })
    await store.init()
    const page = await store.list({ perPage: 10 })
    await store.close()
    expect(page.total).toBeGreaterThanOrEqual(2)
    const id = page.data.find((p) => p.status === "refunded")!.id
    const status = cli("status", id, "--data-dir", dataDir, "--json")
    expect(status.status).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ id, status: "refunded", provider: "onekey" })
    const history = cli("history", id, "--data-dir", dataDir)
    expect(history.stdout.split("\n")[0]).toMatch(/^v1 .* CREATE +→ pending$/)
    expect(history.stdout).toContain("REFUND")
    expect(cli("status", "pay_missing", "--data-dir", dataDir).status).toBe(1)
  }, 180_000)

  it("diagram prints Mermaid or the JSON definition", () => {
    const mermaid = cli("diagram", "craftgate")
    expect(mermaid.stdout.startsWith("stateDiagram-v2")).toBe(true)
    expect(mermaid.stdout).toContain("captured --> refunded")
    expect(JSON.parse(cli("diagram", "onekey", "--format", "json").stdout)).toMatchObject({ id: "onekey" })
    expect(cli("diagram", "nope").status).toBe(1)
  })

  it("sandbox prints its address once it listens, and stops on SIGTERM", async () => {
    const p = spawn(process.execPath, ["--import", "tsx", main, "sandbox", "craftgate", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] })
    const url = await new Promise<string>((resolve, reject) => {
      let out = ""
      p.stdout.on("data", (c) => {
        out += c
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
        if (m) resolve(m[1]!)
      })
      p.on("exit", () => reject(new Error(out)))
    })
    expect((await fetch(`${url}/_sandbox/ledger`)).status).toBe(200)
    const exited = new Promise((r) => p.on("exit", r))
    p.kill("SIGTERM")
    expect(await exited).toBe(0)
  }, 60_000)
})
