// The full tsc build of dist/ (type check, declarations, source maps), only when it is missing or
// older than the sources; `npm start` no longer needs it (scripts/start.mjs transpiles what changed).
//
//   node scripts/ensure-build.mjs           build if any output or declaration is stale
//   node scripts/ensure-build.mjs --clean   build into a fresh directory and swap it in (npm pack),
//                                           so the tarball never ships output of deleted sources
import { existsSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { ROOT, staleSources, tscBuild } from "./dist-state.mjs"

if (process.argv.includes("--clean")) {
  // Built beside dist and swapped in: dist stays whole for anyone running it meanwhile.
  const fresh = join(ROOT, `dist.build-${process.pid}`)
  const old = join(ROOT, `dist.old-${process.pid}`)
  rmSync(fresh, { recursive: true, force: true })
  tscBuild(fresh)
  if (existsSync(join(ROOT, "dist"))) renameSync(join(ROOT, "dist"), old)
  renameSync(fresh, join(ROOT, "dist"))
  rmSync(old, { recursive: true, force: true })
} else {
  // Declarations count: a dist/ that `npm start` transpiled runs but has none.
  const [first] = staleSources({ declarations: true })
  if (first) {
    console.error(`paystate: building dist/ (${first.why})`)
    tscBuild()
  }
}
