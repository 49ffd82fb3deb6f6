// Builds dist/ only when it is missing or older than the sources, so `npm start` works from a clean
// clone (`npm ci` no longer builds: the published manifest has no `prepare`) and costs nothing when
// dist is current.
//
//   node scripts/ensure-build.mjs           build if stale (npm start)
//   node scripts/ensure-build.mjs --clean   build into a fresh directory and swap it in (npm pack),
//                                           so the tarball never ships output of deleted sources
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs"
import { join, relative } from "node:path"

const ROOT = join(import.meta.dirname, "..")
const SOURCES = ["src", "machines", "adapters"]
// A change to either config can change every output file.
const CONFIGS = ["tsconfig.json", "tsconfig.build.json"]
const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc")

/** Every source file tsconfig.build.json compiles (it excludes tests; declaration files emit nothing). */
const sources = (dir) => {
  const out = []
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sources(path))
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") && !entry.name.endsWith(".test.ts")) out.push(path)
  }
  return out
}

/** The first reason dist/ is stale, or undefined when every output is newer than its source and the configs. */
const staleness = () => {
  const configTime = Math.max(...CONFIGS.map((c) => (existsSync(join(ROOT, c)) ? statSync(join(ROOT, c)).mtimeMs : 0)))
  for (const src of SOURCES.flatMap(sources)) {
    const out = join(ROOT, "dist", src.replace(/\.ts$/, ".js"))
    if (!existsSync(out)) return `${relative(ROOT, out)} is missing`
    const built = statSync(out).mtimeMs
    if (built < statSync(join(ROOT, src)).mtimeMs) return `${src} changed since it was built`
    if (built < configTime) return "a tsconfig changed since the last build"
  }
  return undefined
}

const build = (outDir) => {
  const args = [tsc, "-p", join(ROOT, "tsconfig.build.json"), ...(outDir ? ["--outDir", outDir] : [])]
  const r = spawnSync(process.execPath, args, { stdio: "inherit", cwd: ROOT })
  if (r.status !== 0) {
    console.error("paystate: the build failed (tsc -p tsconfig.build.json)")
    process.exit(r.status ?? 1)
  }
}

if (process.argv.includes("--clean")) {
  // Built beside dist and swapped in: dist stays whole for anyone running it meanwhile.
  const fresh = join(ROOT, `dist.build-${process.pid}`)
  const old = join(ROOT, `dist.old-${process.pid}`)
  rmSync(fresh, { recursive: true, force: true })
  build(fresh)
  if (existsSync(join(ROOT, "dist"))) renameSync(join(ROOT, "dist"), old)
  renameSync(fresh, join(ROOT, "dist"))
  rmSync(old, { recursive: true, force: true })
} else {
  const why = staleness()
  if (why) {
    console.error(`paystate: building dist/ (${why})`)
    build()
  }
}
