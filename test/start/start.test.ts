/**
 * `npm start` on a fresh clone (scripts/start.mjs): a copy of the sources without dist/, node_modules
 * linked as `npm ci` leaves it. The first start transpiles every source into dist/ and runs the demo
 * in the same process; the next transpiles nothing, or only what changed; a transpiled dist/ never
 * passes for the full build (ensure-build.mjs, run by `npm pack`, still runs tsc: declarations).
 */
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, utimesSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ROOT, run } from "../package/markdown.js"

const clone = mkdtempSync(join(tmpdir(), "paystate-start-"))
afterAll(() => rmSync(clone, { recursive: true, force: true }))
for (const f of ["package.json", "tsconfig.json", "tsconfig.build.json", "src", "adapters", "machines", "scripts"]) cpSync(join(ROOT, f), join(clone, f), { recursive: true })
symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"), "dir")

// The memory store keeps the runs independent of the user's PGlite template cache; one provider keeps them short.
const start = () => run(process.execPath, ["scripts/start.mjs", "--store", "memory", "--only", "komoju"], { cwd: clone, timeoutMs: 120_000 })

describe("npm start on a fresh clone", { timeout: 180_000 }, () => {
  it("transpiles dist/ once, runs the demo, then transpiles only what changed", async () => {
    const first = await start()
    expect(first.status, first.stderr).toBe(0)
    expect(first.stderr).toMatch(/^paystate: transpiling dist\/ \(\d+ sources, dist\/\S+\.js is missing\)\n$/)
    expect(first.stdout).toContain("paystate demo — memory store, sandboxes on 127.0.0.1")
    expect(first.stdout).toContain("\nDone. 2 payments, in memory")
    expect(existsSync(join(clone, "dist/src/cli/main.js"))).toBe(true)
    expect(existsSync(join(clone, "dist/src/cli/main.js.map"))).toBe(true)
    expect(existsSync(join(clone, "dist/src/cli/main.d.ts"))).toBe(false)

    const again = await start()
    expect(again.status, again.stderr).toBe(0)
    expect(again.stderr).toBe("")
    expect(again.stdout.replace(/pay_[\w-]+|\d{4}-\d\d-\d\d \d\d:\d\d|demo-konbini-\d+/g, "")).toBe(first.stdout.replace(/pay_[\w-]+|\d{4}-\d\d-\d\d \d\d:\d\d|demo-konbini-\d+/g, ""))

    const now = new Date()
    utimesSync(join(clone, "src/cli/format.ts"), now, now)
    const edited = await start()
    expect(edited.status, edited.stderr).toBe(0)
    expect(edited.stderr).toBe("paystate: transpiling dist/ (1 source, src/cli/format.ts changed since it was built)\n")
  })

  it("leaves the full build to tsc: ensure-build.mjs sees a transpiled dist/ has no declarations", async () => {
    const built = await run(process.execPath, ["scripts/ensure-build.mjs"], { cwd: clone, timeoutMs: 150_000 })
    expect(built.status, built.stderr).toBe(0)
    expect(built.stderr).toMatch(/^paystate: building dist\/ \(/)
    expect(existsSync(join(clone, "dist/src/cli/main.d.ts"))).toBe(true)
    const current = await run(process.execPath, ["scripts/ensure-build.mjs"], { cwd: clone })
    expect(current.stderr).toBe("")
  })
})
