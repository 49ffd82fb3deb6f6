/**
 * The package as a host installs it: `npm pack` (which builds dist/ through `prepack`), its manifest
 * and file list, then the tarball installed into a fresh ESM project beside `effect`, `xstate`, `zod`,
 * `express` and `typescript` (the versions this repository tests with, from the local npm cache where
 * it has them). There the README example, the getting-started shop and docs/testing.md's property
 * test are written out as the pages show them, type-checked under `strict` against the shipped
 * declarations and run; each prints what its page says. About a minute; well under three.
 */
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, normalize } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort } from "../examples/app.js"
import { blocks, brokenLinks, ROOT, run } from "./markdown.js"

const work = mkdtempSync(join(tmpdir(), "paystate-pack-"))
const host = join(work, "host")
afterAll(() => rmSync(work, { recursive: true, force: true }))

// The outer `npm test` sets npm_* variables (its package, its lifecycle event); the npm runs here
// are a host's own, so only the user's npm settings (cache, registry, config file) pass through.
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith("npm_") || ["npm_config_cache", "npm_config_registry", "npm_config_userconfig"].includes(k)),
)
const npm = (args: string[], cwd: string, timeoutMs = 150_000) => run("npm", args, { cwd, env, timeoutMs })

/** The version of a package this repository has installed (so the host's install can come from the cache). */
const installed = (name: string): string => JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version

const readme = readFileSync(join(ROOT, "README.md"), "utf8")
const gettingStarted = readFileSync(join(ROOT, "docs/getting-started.md"), "utf8")
const testingPage = readFileSync(join(ROOT, "docs/testing.md"), "utf8")

let files: string[] = []
let manifest: any
let tarball = ""
let installLog = ""

beforeAll(async () => {
  const packed = await npm(["pack", "--pack-destination", work, "--json"], ROOT)
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`)
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[]
  tarball = join(work, info!.filename)
  files = info!.files.map((f) => f.path)
  const untar = await run("tar", ["-xzf", tarball, "-C", work, "package/package.json"], { cwd: work })
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`)
  manifest = JSON.parse(readFileSync(join(work, "package/package.json"), "utf8"))

  mkdirSync(host, { recursive: true })
  writeFileSync(
    join(host, "package.json"),
    JSON.stringify(
      {
        name: "host-app",
        private: true,
        type: "module",
        dependencies: { paystate: `file:${tarball}`, effect: installed("effect"), xstate: installed("xstate"), zod: installed("zod"), express: installed("express") },
        devDependencies: { typescript: installed("typescript"), "@types/node": installed("@types/node"), "@types/express": installed("@types/express") },
      },
      null,
      2,
    ),
  )
  const install = await npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], host)
  installLog = install.stdout + install.stderr
  if (install.status !== 0) throw new Error(`npm install failed:\n${installLog}`)
}, 240_000)

/** Runs `node <args>` in the host project. */
const node = (args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 110_000) => run(process.execPath, args, { cwd: host, env: { ...env, ...extraEnv }, timeoutMs })

/** Starts `node <file>` in the host project until it prints `ready`; answers a stop function. */
const start = (file: string, extraEnv: Record<string, string>, ready: RegExp): Promise<{ stop(): Promise<number | null>; stderr(): string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: host, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    const timer = setTimeout(() => reject(new Error(`${file} did not start:\n${out}\n${err}`)), 60_000)
    child.stderr.on("data", (c) => (err += c))
    child.stdout.on("data", (c) => {
      out += c
      if (ready.test(out)) {
        clearTimeout(timer)
        resolve({
          stderr: () => err,
          stop: () => {
            if (child.exitCode !== null) return Promise.resolve(child.exitCode)
            const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
            child.kill("SIGTERM")
            return exited
          },
        })
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited with ${code} before it was ready:\n${out}\n${err}`))
    })
  })

describe("the packed tarball", () => {
  it("has a library's manifest: peers with ranges, optional test peers, no install-time scripts", () => {
    const scripts = manifest.scripts ?? {}
    for (const hook of ["prepare", "prestart", "preinstall", "install", "postinstall"]) expect(scripts[hook], hook).toBeUndefined()
    expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual(["effect", "fast-check", "vitest", "xstate"])
    for (const [name, range] of Object.entries(manifest.peerDependencies as Record<string, string>)) expect(range, name).toMatch(/^(\^|>=)\d/)
    expect(manifest.peerDependenciesMeta).toEqual({ "fast-check": { optional: true }, vitest: { optional: true } })
    for (const name of ["effect", "xstate", "fast-check", "vitest"]) expect(manifest.dependencies?.[name], name).toBeUndefined()
    expect(manifest.dependencies["@opentelemetry/api"]).toBeTruthy()
  })

  it("ships dist, the sources its source maps name, the docs and the README: no tests, and every export and bin target", () => {
    expect(files.filter((f) => !/^(dist|src|machines|adapters|docs)\//.test(f) && !["README.md", "LICENSE", "package.json"].includes(f))).toEqual([])
    expect(files.filter((f) => /(^|\/)test\/|\.test\.|tsbuildinfo/.test(f))).toEqual([])
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin as Record<string, string>)]
    for (const entry of Object.values(manifest.exports as Record<string, string | Record<string, string>>)) targets.push(...(typeof entry === "string" ? [entry] : Object.values(entry)))
    for (const target of targets) expect(files, target).toContain(normalize(target).replace(/^\.\//, ""))
    // Every module dist ships comes from a source that ships (nothing left over from a deleted file).
    for (const js of files.filter((f) => f.startsWith("dist/") && f.endsWith(".js"))) expect(files, js).toContain(js.slice(5).replace(/\.js$/, ".ts"))
  })

  it("ships pages whose relative links and imports all lead to files it ships", () => {
    const shipped = new Set(files)
    const exists = (p: string) => shipped.has(p) || files.some((f) => f.startsWith(`${p}/`))
    const broken: string[] = []
    for (const page of files.filter((f) => f.endsWith(".md"))) {
      const text = readFileSync(join(ROOT, page), "utf8")
      broken.push(...brokenLinks(ROOT, page, text, exists).map((l) => `${page}: link ${l}`))
      // A code block that imports a path outside the page's own example (rather than `paystate/…`) must name a shipped file.
      for (const m of text.matchAll(/from "(\.\.\/[^"]+)"/g)) {
        const path = normalize(join(dirname(page), m[1]!)).replace(/\.js$/, "")
        if (![".ts", ".js", ".d.ts", ""].some((ext) => shipped.has(path + ext))) broken.push(`${page}: imports ${m[1]}`)
      }
    }
    expect(broken).toEqual([])
  })

  it("installs into a fresh project, and paystate/testing loads without the optional fast-check and vitest", async () => {
    expect(installLog).not.toMatch(/ERESOLVE|peer dep/i)
    const plain = await node(["--input-type=module", "-e", 'const t = await import("paystate/testing"); console.log(typeof t.runSchedule, typeof t.checkLedgerAgrees, typeof t.fakeProvider)'])
    expect(plain.stderr).toBe("")
    expect(plain.stdout.trim()).toBe("function function function")
    const arbitraries = await node(["--input-type=module", "-e", 'await import("paystate/testing/arbitraries")'])
    expect(arbitraries.status).not.toBe(0)
    expect(arbitraries.stderr).toMatch(/Cannot find package 'fast-check'/)
  }, 60_000)

  it("type-checks the README, getting-started and docs/testing.md examples under strict against the shipped declarations, and runs them as written", async () => {
    // The property test needs fast-check, as a host adds it for paystate/testing/arbitraries.
    const add = await npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", "--save-dev", `fast-check@${installed("fast-check")}`], host)
    expect(add.status, add.stderr).toBe(0)
    const sources = new Map([...blocks(readme, "file"), ...blocks(gettingStarted, "file"), ...blocks(testingPage, "file")])
    expect([...sources.keys()].sort()).toEqual(["embed.ts", "kit-example.ts", "server.ts", "try.ts"])
    for (const [name, code] of sources) writeFileSync(join(host, name), code)
    writeFileSync(
      join(host, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "ES2023", module: "nodenext", moduleResolution: "nodenext", strict: true, outDir: "out", rootDir: ".", types: ["node"], skipLibCheck: false }, include: [...sources.keys()] }),
    )
    const tsc = await node([join(host, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"])
    expect(tsc.stdout + tsc.stderr).toBe("")
    expect(tsc.status).toBe(0)

    const embed = await node(["out/embed.js"], { PORT: String(await freePort()) })
    expect(embed.stderr).toBe("")
    expect(embed.stdout).toBe(blocks(readme, "output").get("embed.ts"))

    const [port, sandboxPort] = [await freePort(), await freePort()]
    const shopEnv = { PORT: String(port), KOMOJU_SANDBOX_PORT: String(sandboxPort), PAYSTATE_DATA_DIR: join(host, "shop-data") }
    const server = await start("out/server.js", shopEnv, /shop on http/)
    try {
      const client = await node(["out/try.js"], { ...shopEnv, SHOP_URL: `http://127.0.0.1:${port}`, KOMOJU_SANDBOX_URL: `http://127.0.0.1:${sandboxPort}` }, 60_000)
      expect(client.stderr).toBe("")
      expect(client.stdout).toBe(blocks(gettingStarted, "output").get("try.ts"))
    } finally {
      expect(await server.stop(), server.stderr()).toBe(0)
    }

    const kit = await node(["out/kit-example.js"])
    expect(kit.stderr).toBe("")
    expect(kit.stdout).toBe(blocks(testingPage, "output").get("kit-example.ts"))
  }, 180_000)
})
