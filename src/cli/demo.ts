/**
 * `paystate demo`: the engine on the embedded store, every provider's sandbox started in process on
 * 127.0.0.1 with its webhooks pointed at a local receiver, and each provider's scripted journeys
 * printed as one timeline.
 */
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { manualClock } from "../clock.js"
import { createEngine, type Engine } from "../engine.js"
import type { ProviderAdapter } from "../provider.js"
import { startWebhookReceiver } from "../testing/webhook-receiver.js"
import type { DemoContext } from "./demo-context.js"
import { CLI_PROVIDERS } from "./providers.js"
import { describePayment } from "./format.js"
import { chooseStore, createStore, describeStore } from "./stores.js"

/** Options of the demo. */
export interface DemoOptions {
  readonly store?: string
  readonly dataDir?: string
  readonly only?: readonly string[]
  /** Start the Stately inspector bridge on this port and keep running until interrupted. */
  readonly inspectPort?: number
  /** Where the timeline goes (default: stdout). */
  readonly print?: (line: string) => void
}

/** Runs the demo and returns the process exit code. */
export const runDemo = async (options: DemoOptions): Promise<number> => {
  const print = options.print ?? ((line: string) => console.log(line))
  const providers = CLI_PROVIDERS.filter((p) => !options.only || options.only.includes(p.name))
  // The demo never goes to PostgreSQL, even with PAYSTATE_DATABASE_URL set: it writes demo payments.
  const choice = chooseStore({ store: options.store, "data-dir": options.dataDir }, {}, ["pglite", "memory"])
  const store = createStore(choice)
  const clock = manualClock(new Date())
  let engine: Engine | undefined
  const receiver = await startWebhookReceiver(() => engine)
  const sandboxes: RunningSandbox[] = []
  const adapters: Record<string, ProviderAdapter> = {}
  const shown = new Set<string>()
  const inspector = options.inspectPort !== undefined ? await (await import("./inspect-server.js")).startDemoInspector(options.inspectPort) : undefined
  try {
    if (inspector) {
      print(`Stately inspector: open ${inspector.url} in a browser (it embeds stately.ai/inspect). Each payment is an actor, each refund its child.`)
      print("The bridge keeps the latest 200 events for a browser that connects later; press Ctrl+C to stop.")
    }
    for (const p of providers) {
      const sandbox = await p.startSandbox({ "webhook-url": `${receiver.url}/webhooks/${p.name}` })
      sandboxes.push(sandbox)
      adapters[p.name] = p.adapterFor(sandbox, clock)
    }
    engine = createEngine({ store, providers: adapters, clock, backgroundIntervalMs: 0, ...(inspector ? { inspect: inspector.inspect } : {}), onError: (e, where) => print(`      ! ${where}: ${e instanceof Error ? e.message : String(e)}`) })
    await engine.ready
    print(`paystate demo — ${store.name} store${choice.kind === "pglite" ? ` in ${choice.dataDir}` : ""}, sandboxes on 127.0.0.1`)
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
        step: (text, payment) => {
          if (payment) shown.add(payment.id)
          print(`  ${clock.now().toISOString().slice(0, 16).replace("T", " ")} UTC  ${text}${payment ? `\n      → ${payment.id} · ${describePayment(payment)}` : ""}`)
        },
        settle: async () => {
          await sandbox.kernel.settled()
        },
      }
      await p.demo(ctx)
      await sandbox.kernel.settled()
    }
    const flags = choice.kind === "pglite" ? ` --data-dir ${JSON.stringify(choice.dataDir)}` : ""
    if (choice.kind === "memory") print(`\nDone. ${shown.size} payments, in memory: they are gone when the demo ends (use --store pglite to keep them).`)
    else {
      print(`\nDone. ${shown.size} payments in ${describeStore(choice)}:`)
      for (const id of shown) print(`  ${id}`)
      print(`List them with \`paystate list${flags}\`; inspect one with \`paystate status <id>${flags}\` or \`paystate history <id>${flags}\`.`)
    }
    if (inspector) {
      print(`\nStill serving the inspector on ${inspector.url}; Ctrl+C stops it.`)
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve)
        process.once("SIGTERM", resolve)
      })
    }
    return 0
  } finally {
    inspector?.stop()
    await engine?.close()
    if (!engine) await store.close()
    for (const s of sandboxes) await s.close()
    await receiver.close()
  }
}
