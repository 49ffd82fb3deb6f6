/**
 * docs/getting-started.md as a reader follows it: its `ts file=NAME` blocks are written out as they
 * are, type-checked under `strict`, the server started, the client run, and the client's output must
 * be the page's `text output=NAME` block, line for line. `paystate` resolves to this repository's
 * sources (examples/tsconfig.json), as the packed tarball resolves to dist/.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { blocks } from "../package/markdown.js"
import { freePort, ROOT, startChild } from "./app.js"

const page = readFileSync(join(ROOT, "docs/getting-started.md"), "utf8")
const files = blocks(page, "file")
const outputs = blocks(page, "output")
const work = join(ROOT, ".tmp", `getting-started-${process.pid}`)
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe("docs/getting-started.md", () => {
  it("has the server, the client and the client's expected output", () => {
    expect([...files.keys()]).toEqual(["server.ts", "try.ts"])
    expect(outputs.get("try.ts")).toBeTruthy()
    // The steps name scripts and exports that exist.
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"))
    expect(pkg.scripts.build).toBeTruthy()
    for (const sub of ["./http", "./sandbox", "./stores/pglite", "./providers/komoju"]) expect(pkg.exports[sub]).toBeTruthy()
  })

  it("its code compiles under strict", () => {
    mkdirSync(work, { recursive: true })
    for (const [name, code] of files) writeFileSync(join(work, name), code)
    writeFileSync(join(work, "tsconfig.json"), JSON.stringify({ extends: "../../examples/tsconfig.json", include: ["."] }))
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(work, "tsconfig.json")], { encoding: "utf8", cwd: ROOT })
    const ours = (tsc.stdout + tsc.stderr).split("\n").filter((l) => l.includes(`getting-started-${process.pid}`))
    expect(ours).toEqual([])
  }, 120_000)

  it("runs as written: an order, the customer paying (a signed webhook), a refund retried once, then settled", async () => {
    mkdirSync(work, { recursive: true })
    for (const [name, code] of files) writeFileSync(join(work, name), code)
    const [port, sandboxPort] = [await freePort(), await freePort()]
    const env = { PORT: String(port), KOMOJU_SANDBOX_PORT: String(sandboxPort), PAYSTATE_DATA_DIR: join(work, "data"), TSX_TSCONFIG_PATH: join(ROOT, "examples/tsconfig.json") }
    const server = await startChild(join(work, "server.ts"), env, [/shop on http/])
    try {
      expect(server.printed).toContain(`shop on http://127.0.0.1:${port}, KOMOJU sandbox on http://127.0.0.1:${sandboxPort}`)
      const client = spawnSync(process.execPath, ["--import", "tsx", join(work, "try.ts")], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, ...env, SHOP_URL: `http://127.0.0.1:${port}`, KOMOJU_SANDBOX_URL: `http://127.0.0.1:${sandboxPort}` },
      })
      expect(client.stderr).toBe("")
      expect(client.status).toBe(0)
      expect(client.stdout).toBe(outputs.get("try.ts"))
    } finally {
      expect(await server.stop(), server.stderr()).toBe(0)
    }
  }, 120_000)
})
