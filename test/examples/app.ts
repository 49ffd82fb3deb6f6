/**
 * Starts an example host app (examples/<name>/server.ts) as a child process, the way its README runs
 * it, with `paystate` resolved to this repository's sources through examples/tsconfig.json.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { createServer } from "node:net"
import { join } from "node:path"

/** The repository root. */
export const ROOT = join(import.meta.dirname, "../..")

/** A free port on 127.0.0.1 (the app needs it before it starts: the sandbox posts webhooks to it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

/** A running example app. */
export interface RunningApp {
  readonly url: string
  /** Lines the app printed, as `name value` pairs after "listening on" (e.g. "komoju sandbox on URL"). */
  readonly printed: string
  readonly child: ChildProcess
  /** Everything the app wrote to stderr so far. */
  stderr(): string
  stop(): Promise<number | null>
}

/** Runs `node --import tsx <file>` from the repository root with `env`, until it prints every `waitFor` pattern. */
export const startChild = async (file: string, env: Record<string, string>, waitFor: readonly RegExp[], timeoutMs = 60_000): Promise<RunningApp> => {
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    cwd: ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, "examples/tsconfig.json"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let out = ""
  let err = ""
  child.stderr!.on("data", (c) => (err += c))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start in ${timeoutMs} ms.\nstdout:\n${out}\nstderr:\n${err}`)), timeoutMs)
    child.stdout!.on("data", (c) => {
      out += c
      if (waitFor.every((re) => re.test(out))) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited with ${code} before it was ready.\nstdout:\n${out}\nstderr:\n${err}`))
    })
  })
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? ""
  return {
    url,
    printed: out,
    child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
      child.kill("SIGTERM")
      return exited
    },
  }
}

/** JSON over HTTP: `{ status, body }` (body parsed when it is JSON). */
export const http = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> => {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed }
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export const eventually = async <T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error("timed out waiting")
    await new Promise((r) => setTimeout(r, 50))
  }
}
