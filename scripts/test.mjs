// npm test: type-check, then vitest; ends with the plain line "N passed, N failed" that CI reads.
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync } from "node:fs"

const run = (cmd, args) => spawnSync(cmd, args, { stdio: "inherit", env: process.env }).status ?? 1

let failed = 0
let passed = 0
let skipped = 0
console.log("> tsc -p tsconfig.json")
if (run("npx", ["tsc", "-p", "tsconfig.json"]) !== 0) {
  console.log("type check failed")
  failed += 1
} else passed += 1

mkdirSync(".tmp", { recursive: true })
const report = ".tmp/vitest-report.json"
rmSync(report, { force: true })
const code = run("npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile=${report}`, ...process.argv.slice(2)])
try {
  const r = JSON.parse(readFileSync(report, "utf8"))
  passed += r.numPassedTests
  failed += r.numFailedTests + (r.numFailedTestSuites ?? 0)
  skipped += r.numPendingTests + (r.numTodoTests ?? 0)
  if (r.numTotalTests === 0) failed += 1
} catch {
  failed += 1
}
if (code !== 0 && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`)
process.exit(failed > 0 ? 1 : 0)
