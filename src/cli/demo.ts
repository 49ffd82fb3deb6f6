/**
 * `paystate demo`: the engine on the embedded store, every provider's sandbox started in process on
 * 127.0.0.1 with its webhooks pointed at a local receiver, and each provider's scripted journeys
 * printed as one timeline.
 */
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { manualClock } from "../clock.js"
import { createEngine, type Engine } from "../engine.js"
import { formatMoney } from "../money.js"
import type { ProviderAdapter } from "../provider.js"
import type { PaymentView } from "../types.js"
import { startWebhookReceiver } from "../testing/webhook-receiver.js"
import type { DemoContext } from "./demo-context.js"
import { CLI_PROVIDERS } from "./providers.js"
import { DEFAULT_DATA_DIR, openStore } from "./stores.js"

/** Options of the demo. */
export interface DemoOptions {
  readonly store?: string
  readonly dataDir?: string
  readonly only?: readonly string[]
  /** Where the timeline goes (default: stdout). */
  readonly print?: (line: string) => void
}

/** Describes a payment's money in one line. */
export const describePayment = (p: PaymentView): string => {
  const m = (n: number) => formatMoney(n, p.currency)
  const parts = [`${p.state}`, `paid ${m(p.amount)}`]
  if (p.refundedAmount) parts.push(`refunded ${m(p.refundedAmount)}`)
  if (p.reservedAmount) parts.push(`in flight ${m(p.reservedAmount)}`)
  if (p.status === "captured" || p.status === "refunded") parts.push(`refundable ${m(p.refundableAmount)}`)
  return parts.join(" · ")
}

/** Runs the demo and returns the process exit code. */
export const runDemo = async (options: DemoOptions): Promise<number> => {
  const print = options.print ?? ((line: string) => console.log(line))
  const providers = CLI_PROVIDERS.filter((p) => !options.only || options.only.includes(p.name))
  const store = openStore({ store: options.store, "data-dir": options.dataDir })
  const clock = manualClock(new Date())
  let engine: Engine | undefined
  const receiver = await startWebhookReceiver(() => engine)
  const sandboxes: RunningSandbox[] = []
  const adapters: Record<string, ProviderAdapter> = {}
  try {
    for (const p of providers) {
      const sandbox = await p.startSandbox({ "webhook-url": `${receiver.url}/webhooks/${p.name}` })
      sandboxes.push(sandbox)
      adapters[p.name] = p.adapterFor(sandbox)
    }
    engine = createEngine({ store, providers: adapters, clock, backgroundIntervalMs: 0, onError: (e, where) => print(`      ! ${where}: ${e instanceof Error ? e.message : String(e)}`) })
    await engine.ready
    print(`paystate demo — ${store.name} store${store.name === "pglite" ? ` in ${options.dataDir ?? DEFAULT_DATA_DIR}` : ""}, sandboxes on 127.0.0.1`)
    if (providers.length === 0) print("(no providers are installed yet)")
    for (const [i, p] of providers.entries()) {
      const sandbox = sandboxes[i]!
      const ctx: DemoContext = {
        engine,
        sandbox,
        clock,
        setTime: async (iso) => {
          clock.set(iso)
          await sandbox.kernel.setClock(new Date(iso))
        },
        title: (text) => print(`\n== ${p.name}: ${text}`),
        step: (text, payment) => print(`  ${clock.now().toISOString().slice(0, 16).replace("T", " ")} UTC  ${text}${payment ? `\n      → ${describePayment(payment)}` : ""}`),
        settle: async () => {
          await sandbox.kernel.settled()
        },
      }
      await p.demo(ctx)
      await sandbox.kernel.settled()
    }
    print("\nDone. Inspect any payment with `paystate status <id>` or `paystate history <id>`.")
    return 0
  } finally {
    await engine?.close()
    if (!engine) await store.close()
    for (const s of sandboxes) await s.close()
    await receiver.close()
  }
}
