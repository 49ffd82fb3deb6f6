/** Runs the `paystate` command from source as a user would, in a child process. */
import { spawn, spawnSync } from "node:child_process"
import { join } from "node:path"

const main = join(import.meta.dirname, "../../src/cli/main.ts")

/** The result of one CLI run. */
export interface CliRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `paystate ...args` with `env` added to (or, with `undefined` values, removed from) the environment. */
export const cli = (args: readonly string[], env: Record<string, string | undefined> = {}): CliRun => {
  const merged: Record<string, string | undefined> = { ...process.env, PAYSTATE_DATABASE_URL: undefined, PAYSTATE_DATABASE_SCHEMA: undefined, ...env }
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k]
  const r = spawnSync(process.execPath, ["--import", "tsx", main, ...args], { encoding: "utf8", timeout: 180_000, env: merged as NodeJS.ProcessEnv })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The CLI's entry file, for spawning long-running commands (`sandbox`). */
export const CLI_MAIN = main

/**
 * `cli` without blocking this process: needed when this process serves what the CLI calls (a sandbox
 * started by the test answers only while the test's event loop runs).
 */
export const cliAsync = (args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const merged: Record<string, string | undefined> = { ...process.env, PAYSTATE_DATABASE_URL: undefined, PAYSTATE_DATABASE_SCHEMA: undefined, ...env }
    for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k]
    const child = spawn(process.execPath, ["--import", "tsx", main, ...args], { env: merged as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c) => (stdout += c))
    child.stderr.on("data", (c) => (stderr += c))
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000)
    child.once("error", reject)
    child.once("exit", (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
