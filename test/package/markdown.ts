/**
 * What the package tests read out of Markdown pages: the fenced blocks a page marks as files or as
 * expected output (the same `file=NAME` / `output=NAME` info strings test/examples/getting-started.test.ts
 * reads), and every relative link, so a page is checked as a reader meets it.
 */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join, normalize } from "node:path"

/** The fenced blocks of a Markdown page whose info string carries `key=NAME`, by NAME, in page order. */
export const blocks = (markdown: string, key: "file" | "output"): Map<string, string> => {
  const out = new Map<string, string>()
  const re = /^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm
  for (const m of markdown.matchAll(re)) {
    const attr = new RegExp(`\\b${key}=(\\S+)`).exec(m[2]!)
    if (attr) out.set(attr[1]!, m[3]!)
  }
  return out
}

/** Every relative link target of a page (`[text](target)`), without its `#fragment`; code blocks and inline code skipped. */
export const relativeLinks = (markdown: string): string[] => {
  const prose = markdown.replace(/^```[\s\S]*?^```$/gm, "").replace(/`[^`\n]*`/g, "")
  const out: string[] = []
  for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue
    out.push(target.split("#")[0]!)
  }
  return out
}

/**
 * The links of the page at `page` (a path inside `root`) that lead to no file in `exists`: by default
 * the file system under `root`; a package test passes the tarball's file list instead.
 */
export const brokenLinks = (root: string, page: string, markdown: string, exists: (path: string) => boolean = (p) => existsSync(join(root, p))): string[] =>
  relativeLinks(markdown).filter((target) => {
    const path = normalize(join(dirname(page), target)).replace(/\\/g, "/").replace(/\/$/, "")
    return path.startsWith("..") || !exists(path)
  })

/** What a finished child process printed. */
export interface Finished {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs a command to its end without blocking the test worker (spawnSync would stop the event loop,
 * and with it any server the same worker runs); kills it after `timeoutMs`.
 */
export const run = (command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Finished> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c) => (stdout += c))
    child.stderr.on("data", (c) => (stderr += c))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000)
    child.once("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once("close", (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })

/** The repository root. */
export const ROOT = join(import.meta.dirname, "../..")
