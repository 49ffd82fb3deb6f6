// `npm start`: `paystate demo` from dist/, after transpiling whatever sources are newer than their
// output. A fresh clone has no dist/, and the full tsc build took 3–13 s of its first start; esbuild
// writes the same JavaScript file by file in a fraction of a second. Types are checked by
// `npm run typecheck` and `npm test`, declarations written by `npm run build` and `npm pack`.
// Arguments pass through: `npm start -- --store memory`.
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { setFlagsFromString } from "node:v8"
import { loadEsbuild, ROOT, staleSources, transpile, tscBuild } from "./dist-state.mjs"

const stale = staleSources()
if (stale.length) {
  const esbuild = loadEsbuild()
  const what = `${stale.length} source${stale.length === 1 ? "" : "s"}, ${stale[0].why}`
  if (esbuild) {
    console.error(`paystate: transpiling dist/ (${what})`)
    await transpile(esbuild, stale.map((s) => s.src))
  } else {
    console.error(`paystate: building dist/ (${what})`)
    tscBuild()
  }
}

// PGlite is 9 MB of WebAssembly that the demo runs for a few seconds: V8's optimising tier-up costs
// more CPU than it saves in that time (about 1.6 s of 3.8 s of CPU warm, 2 s of 6 s cold, measured on
// 2 cores). Set before PGlite compiles its module; a V8 without the flag ignores it.
setFlagsFromString("--liftoff-only")

// In this process rather than a second node: the CLI reads its arguments from process.argv.
const main = join(ROOT, "dist", "src", "cli", "main.js")
process.argv = [process.argv[0], main, "demo", ...process.argv.slice(2)]
await import(pathToFileURL(main).href)
