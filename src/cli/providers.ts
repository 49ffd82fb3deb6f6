/**
 * The providers the CLI knows: how to start each sandbox (and which flags it takes), how to build an
 * adapter that talks to a sandbox or, from environment variables, to the real provider, which fields
 * are sensitive, how a waiting payment is described, and the demo journey. The only place outside
 * adapters/ that names providers.
 */
import type { Clock } from "../clock.js"
import type { AnyStateMachine } from "xstate"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { lifecycleMachine, refundMachinesOf } from "../../machines/lifecycle/index.js"
import type { ProviderAdapter, SensitiveFields } from "../provider.js"
import type { PaymentView } from "../types.js"
import type { DemoContext } from "./demo-context.js"
import { CliError, type FlagSpecs } from "./args.js"
import { PROVIDER_NAMES } from "./flags.js"
import { onekey, onekeyMachine, ONEKEY_SANDBOX_DEFAULTS, startOnekeySandbox, isCardMethod } from "../../adapters/providers/onekey/index.js"
import { ONEKEY_SENSITIVE } from "../../adapters/providers/onekey/sensitive.js"
import { demoOnekey } from "../../adapters/providers/onekey/demo.js"
import { craftgate, craftgateMachine, CRAFTGATE_SANDBOX_DEFAULTS, startCraftgateSandbox, type RunningCraftgateSandbox } from "../../adapters/providers/craftgate/index.js"
import { CRAFTGATE_SENSITIVE } from "../../adapters/providers/craftgate/sensitive.js"
import { demoCraftgate } from "../../adapters/providers/craftgate/demo.js"
import { demoKomoju, komoju, KOMOJU_SANDBOX_DEFAULTS, startKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { KOMOJU_SENSITIVE } from "../../adapters/providers/komoju/sensitive.js"
import { komojuMachine } from "../../machines/komoju/index.js"

type Flags = Record<string, string | undefined>

/** One environment variable a provider's adapter is configured from. */
export interface EnvVar {
  readonly name: string
  readonly required: boolean
  readonly describe: string
}

/** One provider, as the CLI drives it. */
export interface CliProvider {
  readonly name: string
  readonly machine: AnyStateMachine
  /** The flags its sandbox takes (besides --port and --webhook-url, which every sandbox takes). */
  readonly sandboxFlags: FlagSpecs
  /** Starts the sandbox; `flags` come from the command line (port, credentials, webhook URL). Unknown flags are refused. */
  readonly startSandbox: (flags: Flags) => Promise<RunningSandbox>
  /** An adapter configured for a sandbox started with default credentials. */
  /** The adapter for a running sandbox; `clock` is the caller's (the demo moves it with the sandbox's). */
  readonly adapterFor: (sandbox: RunningSandbox, clock?: Clock) => ProviderAdapter
  /** The variables `adapterFromEnv` reads. */
  readonly env: readonly EnvVar[]
  /** An adapter for the real provider (or any URL) from environment variables; throws a CliError naming what is missing. */
  readonly adapterFromEnv: (env: NodeJS.ProcessEnv) => ProviderAdapter
  /** Its sensitive fields, so read commands mask what the app would mask without its credentials. */
  readonly sensitive: SensitiveFields
  /** What a payment that is not paid yet waits for, in words (e.g. "awaiting the customer"). */
  readonly awaiting: (p: PaymentView) => string | undefined
  readonly demo: (ctx: DemoContext) => Promise<void>
}

const port = (flags: Flags) => (flags.port ? Number(flags.port) : undefined)

const COMMON_SANDBOX_FLAGS: FlagSpecs = {
  port: { type: "string", value: "N", describe: "port on 127.0.0.1 (default: a free one)" },
  "webhook-url": { type: "string", value: "URL", describe: "where its webhooks / notifications go" },
}

/** Every flag a provider's sandbox takes. */
export const sandboxFlagsOf = (p: CliProvider): FlagSpecs => ({ ...COMMON_SANDBOX_FLAGS, ...p.sandboxFlags })

/** Refuses flags a sandbox does not take (`startSandbox` from code passes options the same way). */
const checkSandboxFlags = (name: string, own: FlagSpecs, flags: Flags): void => {
  const valid = { ...COMMON_SANDBOX_FLAGS, ...own }
  const unknown = Object.keys(flags).filter((k) => flags[k] !== undefined && !(k in valid))
  if (unknown.length) throw new CliError(`The ${name} sandbox has no option ${unknown.map((k) => `--${k}`).join(", ")}. Valid: ${Object.keys(valid).map((k) => `--${k}`).join(", ")}.`)
}

const read = (env: NodeJS.ProcessEnv, provider: string, vars: readonly EnvVar[]): Record<string, string | undefined> => {
  const missing = vars.filter((v) => v.required && !env[v.name])
  if (missing.length) {
    throw new CliError(
      `${provider} is not configured: set ${missing.map((v) => v.name).join(", ")} (or pass --config with your app's providers). ${provider} reads: ${vars.map((v) => `${v.name}${v.required ? "" : " (optional)"}`).join(", ")}.`,
    )
  }
  return Object.fromEntries(vars.map((v) => [v.name, env[v.name] || undefined]))
}

const KOMOJU_CASH = new Set(["konbini", "bank_transfer", "pay_easy"])

const KOMOJU_ENV: readonly EnvVar[] = [
  { name: "KOMOJU_SECRET_KEY", required: true, describe: "secret key (sk_…)" },
  { name: "KOMOJU_WEBHOOK_SECRET", required: true, describe: "webhook signing secret" },
  { name: "KOMOJU_BASE_URL", required: false, describe: "API root (default https://komoju.com/api/v1)" },
]
const CRAFTGATE_ENV: readonly EnvVar[] = [
  { name: "CRAFTGATE_BASE_URL", required: true, describe: "API root: https://api.craftgate.io or https://sandbox-api.craftgate.io" },
  { name: "CRAFTGATE_API_KEY", required: true, describe: "API key" },
  { name: "CRAFTGATE_SECRET_KEY", required: true, describe: "secret key" },
  { name: "CRAFTGATE_WEBHOOK_KEY", required: false, describe: "merchant hook key" },
  { name: "CRAFTGATE_TIME_ZONE", required: false, describe: "time zone of the same-day rule (default Europe/Istanbul)" },
  { name: "CRAFTGATE_DAY_CUTOFF", required: false, describe: "HH:MM a business day starts (default 00:00)" },
]
const ONEKEY_ENV: readonly EnvVar[] = [
  { name: "ONEKEY_BASE_URL", required: true, describe: "API root, e.g. https://api-stg.onekeypayments.com" },
  { name: "ONEKEY_LOGIN", required: true, describe: "deposits API key (X-Login)" },
  { name: "ONEKEY_SECRET_KEY", required: true, describe: "API signature key" },
  { name: "ONEKEY_READ_ONLY_KEY", required: false, describe: "read-only key (GET /v3/banks)" },
  { name: "ONEKEY_NOTIFICATION_URL", required: false, describe: "your notification route; must be what your app sends (a re-sent refund carries it)" },
]

const KOMOJU_SANDBOX_FLAGS: FlagSpecs = {
    "secret-key": { type: "string", value: "KEY", describe: "secret key it accepts (KOMOJU_SECRET_KEY; default sk_123456)" },
    "webhook-secret": { type: "string", value: "SECRET", describe: "webhook signing secret (KOMOJU_WEBHOOK_SECRET; default whsec_komoju_sandbox)" },
    "tax-rate": { type: "string", value: "PERCENT", describe: 'what tax "auto" means (default 10)' },
  }

const CRAFTGATE_SANDBOX_FLAGS: FlagSpecs = {
    "api-key": { type: "string", value: "KEY", describe: "API key it accepts (CRAFTGATE_API_KEY)" },
    "secret-key": { type: "string", value: "KEY", describe: "secret key (CRAFTGATE_SECRET_KEY)" },
    "webhook-key": { type: "string", value: "KEY", describe: "merchant hook key that signs its webhooks (CRAFTGATE_WEBHOOK_KEY)" },
    "webhook-signature-header": { type: "string", value: "NAME", describe: "header of the webhook signature (default x-cg-signature-v1)" },
    "time-zone": { type: "string", value: "ZONE", describe: "zone of the same-day rule (default Europe/Istanbul)" },
    cutoff: { type: "string", value: "HH:MM", describe: "when a business day starts (default 00:00)" },
    "day-cutoff": { type: "string", value: "HH:MM", describe: "same as --cutoff" },
  }

const ONEKEY_SANDBOX_FLAGS: FlagSpecs = {
    login: { type: "string", value: "LOGIN", describe: "deposits API key it accepts (ONEKEY_LOGIN)" },
    "secret-key": { type: "string", value: "KEY", describe: "API signature key (ONEKEY_SECRET_KEY)" },
    "read-only-key": { type: "string", value: "KEY", describe: "read-only key (ONEKEY_READ_ONLY_KEY)" },
    "deposit-expiry-minutes": { type: "string", value: "N", describe: "when an unpaid deposit expires (default 4320)" },
    "card-partial-refunds": { type: "string", choices: ["true", "false"], describe: "accept partial card refunds (default false)" },
    "date-tolerance-minutes": { type: "string", value: "N", describe: "X-Date skew accepted" },
  }

/** Every provider the CLI can run, in demo order. */
export const CLI_PROVIDERS: readonly CliProvider[] = [
  {
    name: "komoju",
    machine: komojuMachine,
    sandboxFlags: KOMOJU_SANDBOX_FLAGS,
    startSandbox: (flags) => {
      const { "tax-rate-percent": taxRatePercent, ...rest } = flags
      const f: Flags = { ...rest, ...(taxRatePercent !== undefined && rest["tax-rate"] === undefined ? { "tax-rate": taxRatePercent } : {}) }
      checkSandboxFlags("komoju", KOMOJU_SANDBOX_FLAGS, f)
      return startKomojuSandbox({
        port: port(f),
        webhookUrl: f["webhook-url"],
        secretKey: f["secret-key"] ?? process.env.KOMOJU_SECRET_KEY,
        webhookSecret: f["webhook-secret"] ?? process.env.KOMOJU_WEBHOOK_SECRET,
        ...(f["tax-rate"] ? { taxRatePercent: Number(f["tax-rate"]) } : {}),
      })
    },
    // The client's baseUrl is the API root.
    adapterFor: (sandbox) => komoju({ baseUrl: `${sandbox.url}/api/v1`, ...KOMOJU_SANDBOX_DEFAULTS }),
    env: KOMOJU_ENV,
    adapterFromEnv: (env) => {
      const v = read(env, "komoju", KOMOJU_ENV)
      return komoju({ secretKey: v.KOMOJU_SECRET_KEY!, webhookSecret: v.KOMOJU_WEBHOOK_SECRET!, ...(v.KOMOJU_BASE_URL ? { baseUrl: v.KOMOJU_BASE_URL } : {}) })
    },
    sensitive: KOMOJU_SENSITIVE,
    // KOMOJU: `authorized` is a card hold awaiting capture, or a cash payment awaiting the customer (PROVIDERS.md).
    awaiting: (p) => (p.status === "authorized" ? (p.method && KOMOJU_CASH.has(p.method) ? "awaiting the customer" : "awaiting capture") : p.status === "pending" ? "awaiting KOMOJU" : undefined),
    demo: demoKomoju,
  },
  {
    name: "craftgate",
    machine: craftgateMachine,
    sandboxFlags: CRAFTGATE_SANDBOX_FLAGS,
    startSandbox: (flags) => {
      checkSandboxFlags("craftgate", CRAFTGATE_SANDBOX_FLAGS, flags)
      return startCraftgateSandbox({
        port: port(flags),
        webhookUrl: flags["webhook-url"],
        apiKey: flags["api-key"] ?? process.env.CRAFTGATE_API_KEY,
        secretKey: flags["secret-key"] ?? process.env.CRAFTGATE_SECRET_KEY,
        webhookKey: flags["webhook-key"] ?? process.env.CRAFTGATE_WEBHOOK_KEY,
        webhookSignatureHeader: flags["webhook-signature-header"],
        timeZone: flags["time-zone"],
        cutoff: flags.cutoff ?? flags["day-cutoff"],
      })
    },
    // The adapter takes the running sandbox's own credentials and day rule, so the two always agree.
    adapterFor: (sandbox, clock) => {
      const s = sandbox as RunningCraftgateSandbox
      // Webhook freshness is judged on the caller's clock, which the demo moves with the sandbox's.
      const c = clock ? { clock } : {}
      if (!s.credentials) return craftgate({ baseUrl: s.url, ...CRAFTGATE_SANDBOX_DEFAULTS, ...c })
      return craftgate({ baseUrl: s.url, ...s.credentials, timeZone: s.dayRule.timeZone, dayCutoff: s.dayRule.cutoff, ...c })
    },
    env: CRAFTGATE_ENV,
    adapterFromEnv: (env) => {
      const v = read(env, "craftgate", CRAFTGATE_ENV)
      return craftgate({
        baseUrl: v.CRAFTGATE_BASE_URL!,
        apiKey: v.CRAFTGATE_API_KEY!,
        secretKey: v.CRAFTGATE_SECRET_KEY!,
        ...(v.CRAFTGATE_WEBHOOK_KEY ? { webhookKey: v.CRAFTGATE_WEBHOOK_KEY } : {}),
        ...(v.CRAFTGATE_TIME_ZONE ? { timeZone: v.CRAFTGATE_TIME_ZONE } : {}),
        ...(v.CRAFTGATE_DAY_CUTOFF ? { dayCutoff: v.CRAFTGATE_DAY_CUTOFF } : {}),
      })
    },
    sensitive: CRAFTGATE_SENSITIVE,
    // Craftgate card payments: AUTH is captured at once; PRE_AUTH waits for a post-auth (capture).
    awaiting: (p) => (p.status === "authorized" ? "awaiting capture" : p.status === "pending" ? "awaiting Craftgate (3-D Secure or the bank)" : undefined),
    demo: demoCraftgate,
  },
  {
    name: "onekey",
    machine: onekeyMachine,
    sandboxFlags: ONEKEY_SANDBOX_FLAGS,
    startSandbox: (flags) => {
      checkSandboxFlags("onekey", ONEKEY_SANDBOX_FLAGS, flags)
      return startOnekeySandbox({
        port: port(flags),
        webhookUrl: flags["webhook-url"],
        login: flags.login ?? process.env.ONEKEY_LOGIN,
        secretKey: flags["secret-key"] ?? process.env.ONEKEY_SECRET_KEY,
        readOnlyKey: flags["read-only-key"] ?? process.env.ONEKEY_READ_ONLY_KEY,
        ...(flags["deposit-expiry-minutes"] ? { depositExpiryMinutes: Number(flags["deposit-expiry-minutes"]) } : {}),
        ...(flags["card-partial-refunds"] ? { cardPartialRefunds: flags["card-partial-refunds"] !== "false" } : {}),
        ...(flags["date-tolerance-minutes"] ? { dateToleranceMinutes: Number(flags["date-tolerance-minutes"]) } : {}),
      })
    },
    adapterFor: (sandbox) => onekey({ baseUrl: sandbox.url, ...ONEKEY_SANDBOX_DEFAULTS }),
    env: ONEKEY_ENV,
    adapterFromEnv: (env) => {
      const v = read(env, "onekey", ONEKEY_ENV)
      return onekey({
        baseUrl: v.ONEKEY_BASE_URL!,
        login: v.ONEKEY_LOGIN!,
        secretKey: v.ONEKEY_SECRET_KEY!,
        ...(v.ONEKEY_READ_ONLY_KEY ? { readOnlyKey: v.ONEKEY_READ_ONLY_KEY } : {}),
        ...(v.ONEKEY_NOTIFICATION_URL ? { notificationUrl: v.ONEKEY_NOTIFICATION_URL } : {}),
      })
    },
    sensitive: ONEKEY_SENSITIVE,
    // OneKey: a cash or bank deposit is PENDING until the customer pays (paystate: pending).
    awaiting: (p) => (p.status === "pending" ? (p.method && isCardMethod(p.method) ? "awaiting the card issuer" : "awaiting the customer") : undefined),
    demo: demoOnekey,
  },
]

// The flag tables name the providers without loading them; the two lists must agree.
if (CLI_PROVIDERS.map((p) => p.name).join() !== PROVIDER_NAMES.join()) throw new Error(`src/cli/flags.ts PROVIDER_NAMES (${PROVIDER_NAMES.join()}) must list the CLI providers in order (${CLI_PROVIDERS.map((p) => p.name).join()}).`)

/** The CLI's entry for `name`, if it has one. */
export const cliProvider = (name: string): CliProvider | undefined => CLI_PROVIDERS.find((p) => p.name === name)

/** Machines `paystate diagram` can draw: every payment machine and every refund machine, by name. */
export const diagramMachines = (): Record<string, AnyStateMachine> => {
  const out: Record<string, AnyStateMachine> = { lifecycle: lifecycleMachine, ...refundMachinesOf(lifecycleMachine) }
  for (const p of CLI_PROVIDERS) {
    out[p.name] = p.machine
    Object.assign(out, refundMachinesOf(p.machine))
  }
  return out
}

/** One line of `paystate diagram --list`. */
export interface DiagramEntry {
  readonly name: string
  readonly kind: "payment" | "refund"
  readonly version: string
  readonly provider: string
}

/** The machines `paystate diagram` can draw, with their kind, version and provider. */
export const diagramList = (): DiagramEntry[] =>
  [{ name: "lifecycle", machine: lifecycleMachine as AnyStateMachine }, ...CLI_PROVIDERS.map((p) => ({ name: p.name, machine: p.machine as AnyStateMachine }))].flatMap(({ name, machine }) => [
    { name, kind: "payment" as const, version: machine.version ?? "1", provider: name },
    ...Object.entries(refundMachinesOf(machine)).map(([n, m]) => ({ name: n, kind: "refund" as const, version: m.version ?? "1", provider: name })),
  ])
