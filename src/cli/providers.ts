/**
 * The providers the CLI knows: how to start each sandbox, how to build an adapter that talks to it,
 * and its demo journey. The only place outside adapters/ that names providers.
 */
import type { AnyStateMachine } from "xstate"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { lifecycleMachine } from "../../machines/lifecycle/index.js"
import type { ProviderAdapter } from "../provider.js"
import type { DemoContext } from "./demo-context.js"
import { onekey, onekeyMachine, ONEKEY_SANDBOX_DEFAULTS, startOnekeySandbox } from "../../adapters/providers/onekey/index.js"
import { demoOnekey } from "../../adapters/providers/onekey/demo.js"
import { craftgate, craftgateMachine, CRAFTGATE_SANDBOX_DEFAULTS, startCraftgateSandbox, type RunningCraftgateSandbox } from "../../adapters/providers/craftgate/index.js"
import { demoCraftgate } from "../../adapters/providers/craftgate/demo.js"
import { demoKomoju, komoju, KOMOJU_SANDBOX_DEFAULTS, startKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { komojuMachine } from "../../machines/komoju/index.js"

const port = (flags: Record<string, string | undefined>) => (flags.port ? Number(flags.port) : undefined)

/** One provider, as the CLI drives it. */
export interface CliProvider {
  readonly name: string
  readonly machine: AnyStateMachine
  /** Starts the sandbox; `flags` come from the command line (port, credentials, webhook URL). */
  readonly startSandbox: (flags: Record<string, string | undefined>) => Promise<RunningSandbox>
  /** An adapter configured for a sandbox started with default credentials. */
  readonly adapterFor: (sandbox: RunningSandbox) => ProviderAdapter
  readonly demo: (ctx: DemoContext) => Promise<void>
}

/** Every provider the CLI can run, in demo order. */
export const CLI_PROVIDERS: readonly CliProvider[] = [
  {
    name: "komoju",
    machine: komojuMachine,
    startSandbox: (flags) =>
      startKomojuSandbox({
        port: port(flags),
        webhookUrl: flags["webhook-url"],
        secretKey: flags["secret-key"] ?? process.env.KOMOJU_SECRET_KEY,
        webhookSecret: flags["webhook-secret"] ?? process.env.KOMOJU_WEBHOOK_SECRET,
        ...(flags["tax-rate"] ? { taxRatePercent: Number(flags["tax-rate"]) } : {}),
      }),
    // The client's baseUrl is the API root.
    adapterFor: (sandbox) => komoju({ baseUrl: `${sandbox.url}/api/v1`, ...KOMOJU_SANDBOX_DEFAULTS }),
    demo: demoKomoju,
  },
  {
    name: "craftgate",
    machine: craftgateMachine,
    startSandbox: (flags) =>
      startCraftgateSandbox({
        port: port(flags),
        webhookUrl: flags["webhook-url"],
        apiKey: flags["api-key"] ?? process.env.CRAFTGATE_API_KEY,
        secretKey: flags["secret-key"] ?? process.env.CRAFTGATE_SECRET_KEY,
        webhookKey: flags["webhook-key"] ?? process.env.CRAFTGATE_WEBHOOK_KEY,
        webhookSignatureHeader: flags["webhook-signature-header"],
        timeZone: flags["time-zone"],
        cutoff: flags.cutoff ?? flags["day-cutoff"],
      }),
    // The adapter takes the running sandbox's own credentials and day rule, so the two always agree.
    adapterFor: (sandbox) => {
      const s = sandbox as RunningCraftgateSandbox
      if (!s.credentials) return craftgate({ baseUrl: s.url, ...CRAFTGATE_SANDBOX_DEFAULTS })
      return craftgate({ baseUrl: s.url, ...s.credentials, timeZone: s.dayRule.timeZone, dayCutoff: s.dayRule.cutoff })
    },
    demo: demoCraftgate,
  },
  {
    name: "onekey",
    machine: onekeyMachine,
    startSandbox: (flags) =>
      startOnekeySandbox({
        port: port(flags),
        webhookUrl: flags["webhook-url"],
        login: flags.login ?? process.env.ONEKEY_LOGIN,
        secretKey: flags["secret-key"] ?? process.env.ONEKEY_SECRET_KEY,
        readOnlyKey: flags["read-only-key"] ?? process.env.ONEKEY_READ_ONLY_KEY,
        ...(flags["deposit-expiry-minutes"] ? { depositExpiryMinutes: Number(flags["deposit-expiry-minutes"]) } : {}),
        ...(flags["card-partial-refunds"] ? { cardPartialRefunds: flags["card-partial-refunds"] !== "false" } : {}),
      }),
    adapterFor: (sandbox) => onekey({ baseUrl: sandbox.url, ...ONEKEY_SANDBOX_DEFAULTS }),
    demo: demoOnekey,
  },
]

/** Machines `paystate diagram` can draw. */
export const diagramMachines = (): Record<string, AnyStateMachine> => ({
  lifecycle: lifecycleMachine,
  ...Object.fromEntries(CLI_PROVIDERS.map((p) => [p.name, p.machine])),
})
