/**
 * The README and docs/testing.md as a reader meets them in this repository: each page's
 * `ts file=NAME` block type-checks under `strict` and runs as written (against a provider's local
 * sandbox, in a fresh directory), printing the page's `text output=NAME` block line for line; the
 * README's links lead to files that exist. `paystate` resolves to this repository's sources
 * (examples/tsconfig.json); test/package/pack.test.ts does the same from the packed tarball.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { freePort } from "../examples/app.js"
import { blocks, brokenLinks, relativeLinks, ROOT, run } from "./markdown.js"

const readme = readFileSync(join(ROOT, "README.md"), "utf8")
const files = blocks(readme, "file")
const outputs = blocks(readme, "output")
const work = join(ROOT, ".tmp", `readme-${process.pid}`)
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** Writes a page's file blocks into a fresh directory under .tmp that resolves `paystate` to the sources. */
const writeBlocks = (dir: string, code: Map<string, string>) => {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (const [name, text] of code) writeFileSync(join(dir, name), text)
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: "../../examples/tsconfig.json", include: ["."] }))
}

/** tsc on the directory: the lines about its own files (the repository's sources are the root type check's). */
const typeErrors = async (dir: string): Promise<string[]> => {
  const tsc = await run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")], { cwd: ROOT })
  const output = tsc.stdout + tsc.stderr
  const mine = output.split("\n").filter((l) => l.includes(dir.slice(ROOT.length + 1)))
  // A broken tsconfig reports no file errors at all.
  return [...mine, ...output.split("\n").filter((l) => /error TS5\d{3}/.test(l))]
}

/** Runs a block with tsx from its directory. */
const runBlock = async (dir: string, name: string, env: Record<string, string> = {}) =>
  run(process.execPath, ["--import", "tsx", join(dir, name)], {
    cwd: dir,
    env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(ROOT, "examples/tsconfig.json") },
    timeoutMs: 110_000,
  })

describe("README.md", () => {
  it("has the embedding example and the output it prints", () => {
    expect([...files.keys()]).toEqual(["embed.ts"])
    expect(outputs.get("embed.ts")).toBeTruthy()
    const code = files.get("embed.ts")!
    // What the page promises about the example: the sandbox from paystate/sandbox, the adapter's
    // baseUrl pointed at it, and the framework receiver instead of a hand-written try/catch.
    expect(code).toMatch(/import \{ startSandbox \} from "paystate\/sandbox"/)
    expect(code).toMatch(/baseUrl: `\$\{sandbox\.url\}/)
    expect(code).toMatch(/expressWebhookHandler\(engine\)/)
  })

  it("links to the guides a new user needs, and every relative link leads to a file", () => {
    const links = relativeLinks(readme)
    for (const page of ["docs/getting-started.md", "docs/reliability.md", "docs/security.md", "docs/observability.md", "docs/testing.md"]) expect(links).toContain(page)
    expect(brokenLinks(ROOT, "README.md", readme)).toEqual([])
  })

  it("its example compiles under strict", async () => {
    writeBlocks(work, files)
    expect(await typeErrors(work)).toEqual([])
  }, 120_000)

  it("runs as written and prints what the page says", async () => {
    writeBlocks(work, files)
    const r = await runBlock(work, "embed.ts", { PORT: String(await freePort()) })
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(outputs.get("embed.ts"))
  }, 120_000)
})

describe("docs/testing.md", () => {
  const page = readFileSync(join(ROOT, "docs/testing.md"), "utf8")
  const code = blocks(page, "file")
  const dir = join(ROOT, ".tmp", `testing-doc-${process.pid}`)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("its property-test example for a host compiles under strict and runs as written", async () => {
    expect([...code.keys()]).toEqual(["kit-example.ts"])
    writeBlocks(dir, code)
    expect(await typeErrors(dir)).toEqual([])
    const r = await runBlock(dir, "kit-example.ts")
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(blocks(page, "output").get("kit-example.ts"))
  }, 120_000)

  it("links only to pages that exist", () => {
    expect(brokenLinks(ROOT, "docs/testing.md", page)).toEqual([])
  })
})
