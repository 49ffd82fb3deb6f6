/** The example apps compile under `strict` against paystate's own types and the frameworks' real ones. */
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { expect, it } from "vitest"
import { ROOT } from "./app.js"

it("examples/* type-check (tsc -p examples/tsconfig.json)", () => {
  const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "examples/tsconfig.json")], { encoding: "utf8", cwd: ROOT })
  // Errors outside examples/ are the root type check's to report (npm test runs it first).
  const ours = (tsc.stdout + tsc.stderr).split("\n").filter((l) => l.startsWith("examples/"))
  expect(ours).toEqual([])
  expect(tsc.stdout + tsc.stderr).not.toMatch(/error TS5\d{3}/) // a broken tsconfig reports no file errors at all
}, 120_000)
