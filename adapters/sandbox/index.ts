/**
 * `paystate/sandbox`: start any provider's sandbox from code, as `paystate sandbox <provider>` does
 * from the command line. Each returns `{ url, port, kernel, close() }`.
 */
import { CLI_PROVIDERS } from "../../src/cli/providers.js"
import type { RunningSandbox } from "./kernel.js"

export { SandboxKernel, serveSandbox, parseForm, type RunningSandbox, type SandboxRoute, type SandboxRequest, type SandboxResponse, type LedgerMovement } from "./kernel.js"

/** Options every sandbox takes; credentials are the provider's own (see its docs page). */
export interface SandboxOptions {
  readonly port?: number
  /** Where webhooks / notifications go. */
  readonly webhookUrl?: string
  readonly [credential: string]: string | number | undefined
}

const toFlag = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** Starts the named provider's sandbox on 127.0.0.1. */
export const startSandbox = (provider: string, options: SandboxOptions = {}): Promise<RunningSandbox> => {
  const p = CLI_PROVIDERS.find((x) => x.name === provider)
  if (!p) throw new Error(`No sandbox for "${provider}"; available: ${CLI_PROVIDERS.map((x) => x.name).join(", ")}.`)
  const flags = Object.fromEntries(Object.entries(options).map(([k, v]) => [toFlag(k), v === undefined ? undefined : String(v)]))
  return p.startSandbox(flags)
}

/** The providers that have a sandbox. */
export const sandboxProviders = (): string[] => CLI_PROVIDERS.map((p) => p.name)
