/**
 * The providers a CLI engine runs with. Commands that change payments (`review retry`, `review
 * resolve`) need the payment's provider configured as the app configures it: from `--config`, a
 * module that exports the app's own adapters (recommended: same options, same bytes on a re-send), or
 * from the provider's environment variables. Read commands need no credentials: a provider that is not
 * configured gets a read-only stand-in with its machine and sensitive fields, so views are masked as
 * the app masks them, and any provider call it were asked for fails as "provider unavailable" (the
 * engine keeps the effect for the app to run; nothing is failed).
 */
import type { AnyStateMachine } from "xstate"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { Effect } from "effect"
import { z } from "zod"
import type { PaymentMachine } from "../../machines/lifecycle/index.js"
import { paystateError } from "../errors.js"
import type { ProviderAdapter } from "../provider.js"
import { CliError } from "./args.js"
import { CLI_PROVIDERS } from "./providers.js"

/** What a `--config` module exports (as `default`, or as named exports), or a function returning it. */
export interface CliConfigModule {
  readonly providers: Readonly<Record<string, ProviderAdapter>>
}

const isAdapter = (a: unknown): a is ProviderAdapter =>
  !!a && typeof a === "object" && typeof (a as ProviderAdapter).execute === "function" && typeof (a as ProviderAdapter).reconcile === "function" && !!(a as ProviderAdapter).machine

/** Older payment machine versions a `--config` module exports as `machines` (by provider), as the app passes them to createEngine. */
export const loadConfigMachines = async (path: string): Promise<Record<string, readonly AnyStateMachine[]>> => {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>
  let exported: unknown = mod.default ?? mod
  if (typeof exported === "function") exported = await (exported as () => unknown)()
  const machines = (exported as { machines?: unknown } | undefined)?.machines ?? mod.machines
  return machines && typeof machines === "object" ? (machines as Record<string, readonly AnyStateMachine[]>) : {}
}

/** Loads the providers a `--config` module exports. */
export const loadConfig = async (path: string): Promise<Record<string, ProviderAdapter>> => {
  const file = resolve(path)
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  } catch (e) {
    throw new CliError(`--config ${path}: cannot load ${file}: ${e instanceof Error ? e.message : String(e)}`)
  }
  let exported: unknown = mod.default ?? mod
  if (typeof exported === "function") exported = await (exported as () => unknown)()
  const providers = (exported as { providers?: unknown } | undefined)?.providers
  if (!providers || typeof providers !== "object") throw new CliError(`--config ${path} exports no \`providers\`: export { providers } (or a default export { providers }), the same map your app passes to createEngine.`)
  for (const [name, a] of Object.entries(providers)) if (!isAdapter(a)) throw new CliError(`--config ${path}: providers.${name} is not a provider adapter (komoju(…), craftgate(…), onekey(…) or your own).`)
  return providers as Record<string, ProviderAdapter>
}

/** A provider that can be read but not called: its machine and sensitive fields only. */
const standIn = (name: string, machine: PaymentMachine, sensitive: ProviderAdapter["sensitive"], hint: string): ProviderAdapter => {
  const unavailable = () => Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `${name} is not configured in this paystate CLI run (${hint}).`))
  const refuse = z.custom<never>(() => false, { message: `${name} is not configured in this paystate CLI run` })
  return {
    name,
    machine,
    createSchema: refuse,
    refundSchema: refuse,
    execute: unavailable,
    reconcile: unavailable,
    webhook: unavailable,
    ...(sensitive ? { sensitive } : {}),
  }
}

/** The providers of one CLI run: configured ones, and read-only stand-ins for the rest. */
export interface CliProviders {
  readonly providers: Record<string, ProviderAdapter>
  /** Throws a CliError unless `name` is really configured (not a stand-in). */
  require(name: string): void
}

/** Builds the providers from `--config` (when given) or the environment. */
export const cliProviders = async (configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<CliProviders> => {
  const configured: Record<string, ProviderAdapter> = configPath ? await loadConfig(configPath) : {}
  const errors = new Map<string, string>()
  const providers: Record<string, ProviderAdapter> = { ...configured }
  for (const p of CLI_PROVIDERS) {
    if (providers[p.name]) continue
    let adapter: ProviderAdapter | undefined
    if (!configPath) {
      try {
        adapter = p.adapterFromEnv(env)
      } catch (e) {
        errors.set(p.name, e instanceof Error ? e.message : String(e))
      }
    } else errors.set(p.name, `${p.name} is not in the providers of --config ${configPath}.`)
    providers[p.name] = adapter ?? standIn(p.name, p.machine as unknown as PaymentMachine, p.sensitive, configPath ? `not in --config ${configPath}` : `set ${p.env.filter((v) => v.required).map((v) => v.name).join(", ")}`)
  }
  return {
    providers,
    require: (name) => {
      if (configured[name]) return
      const why = errors.get(name)
      if (why) throw new CliError(`This command calls ${name}: ${why}`)
      if (!CLI_PROVIDERS.some((p) => p.name === name)) throw new CliError(`This command calls ${name}, which the CLI does not know: pass --config with your app's providers.`)
    },
  }
}
