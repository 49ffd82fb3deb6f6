/**
 * `paystate demo`: the engine on the embedded store, every provider's sandbox started in process on
 * 127.0.0.1 with its webhooks pointed at a local receiver, and each provider's scripted journeys
 * printed as one timeline.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { manualClock } from "../clock.js"
import { createEngine, type Engine } from "../engine.js"
import { isPaystateError } from "../errors.js"
import { formatMoney } from "../money.js"
import type { ProviderAdapter } from "../provider.js"
import type { PaymentView } from "../types.js"
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

/** Receives webhooks for the engine, as a host app's route would. */
const startReceiver = async (engine: () => Engine | undefined): Promise<{ server: Server; url: string }> => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", async () => {
      const provider = (req.url ?? "").split("/").pop() ?? ""
      try {
        const e = engine()
        if (!e) throw new Error("engine not ready")
        const outcome = await e.webhooks.handle(provider, { headers: req.headers, rawBody: Buffer.concat(chunks) })
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(outcome))
      } catch (err) {
        const status = isPaystateError(err, "WEBHOOK_REJECTED") ? 400 : 500
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }))
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
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
  const receiver = await startReceiver(() => engine)
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
        step: (text, payment) => print(`  ${clock.now().toISOString().slice(0, 19).replace("T", " ")}  ${text}${payment ? `\n      → ${describePayment(payment)}` : ""}`),
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
    await new Promise<void>((r) => receiver.server.close(() => r()))
  }
}
