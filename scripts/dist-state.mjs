// What dist/ holds compared with the sources, and the two ways to bring it up to date: the full `tsc`
// build (type check and declarations, what `npm pack` ships) and a transpile of the changed files
// only (what `npm start` needs to run the demo). Shared by ensure-build.mjs and start.mjs.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { join, relative } from "node:path"

/** The repository root. */
export const ROOT = join(import.meta.dirname, "..")
const SOURCES = ["src", "machines", "adapters"]
// A change to either config can change every output file.
const CONFIGS = ["tsconfig.json", "tsconfig.build.json"]

/** Every source file tsconfig.build.json compiles (it excludes tests; declaration files emit nothing). */
export const sources = (dir) => {
  const out = []
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sources(path))
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") && !entry.name.endsWith(".test.ts")) out.push(path)
  }
  return out
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : undefined)

/**
 * Each source whose output is missing or older than it (or than a tsconfig), with the reason. With
 * `declarations`, a missing or older `.d.ts` counts too: a transpiled dist/ runs but types nothing.
 */
export const staleSources = ({ declarations = false } = {}) => {
  const configTime = Math.max(0, ...CONFIGS.map((c) => mtime(join(ROOT, c)) ?? 0))
  const stale = []
  for (const src of SOURCES.flatMap(sources)) {
    const srcTime = statSync(join(ROOT, src)).mtimeMs
    for (const ext of declarations ? [".js", ".d.ts"] : [".js"]) {
      const out = join(ROOT, "dist", src.replace(/\.ts$/, ext))
      const built = mtime(out)
      const why = built === undefined ? `${relative(ROOT, out)} is missing` : built < srcTime ? `${src} changed since it was built` : built < configTime ? "a tsconfig changed since the last build" : undefined
      if (why) {
        stale.push({ src, why })
        break
      }
    }
  }
  return stale
}

/** The full build (`tsc -p tsconfig.build.json`), into `outDir` when given; exits the process if it fails. */
export const tscBuild = (outDir) => {
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc")
  const args = [tsc, "-p", join(ROOT, "tsconfig.build.json"), ...(outDir ? ["--outDir", outDir] : [])]
  const r = spawnSync(process.execPath, args, { stdio: "inherit", cwd: ROOT })
  if (r.status !== 0) {
    console.error("paystate: the build failed (tsc -p tsconfig.build.json)")
    process.exit(r.status ?? 1)
  }
}

/**
 * esbuild as installed in this checkout (tsx and vitest depend on it), or undefined where it is not:
 * the caller then falls back to `tsc`.
 */
export const loadEsbuild = () => {
  try {
    return createRequire(join(ROOT, "package.json"))("esbuild")
  } catch {
    return undefined
  }
}

/**
 * Writes dist/ JavaScript and source maps for `files` (repository-relative `.ts` paths) with esbuild:
 * one file in, one file out, as tsc lays them out, no type check and no declarations. The settings
 * that change emitted code (target, class fields, import elision) come from tsconfig.build.json.
 */
export const transpile = async (esbuild, files) => {
  try {
    await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: files,
      outdir: join(ROOT, "dist"),
      outbase: ROOT,
      tsconfig: join(ROOT, "tsconfig.build.json"),
      bundle: false,
      format: "esm",
      platform: "node",
      target: "es2023",
      sourcemap: "linked",
      logLevel: "error",
    })
  } finally {
    // esbuild serves builds from a child process; without this it would outlive the build.
    await esbuild.stop?.()
  }
}
