/**
 * The console tests' world: every provider's sandbox on 127.0.0.1 with its webhooks pointed at a
 * receiver that feeds one engine (as `paystate demo` wires them), the demo's journeys run on it, a
 * OneKey refund left waiting for the bank, a OneKey refund whose polls ran out (a review item), and
 * the console served over HTTP on loopback.
 */
import { once } from "node:events"
import { createServer, request, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { CLI_PROVIDERS } from "../../src/cli/providers.js"
import { manualClock, type ManualClock } from "../../src/clock.js"
import { createConsole, type ConsoleHandler, type ConsoleOptions } from "../../src/console/index.js"
import { createEngine, type Engine } from "../../src/engine.js"
import type { ProviderAdapter } from "../../src/provider.js"
import { startWebhookReceiver, type WebhookReceiver } from "../../src/testing/webhook-receiver.js"
import type { PaymentView } from "../../src/types.js"

/** The access token the tests' console takes. */
export const TOKEN = "console-test-token-0123456789"

export const payer = { document: "ROMC850101HDFXXX01", email: "carlos@example.com", first_name: "Carlos", last_name: "Ramirez" }
export const bank_account = { beneficiary: "Carlos Ramirez", bank_code: 1, branch: "9283", account_number: "18293435", account_type: "SAVING" as const }

/** A running world. */
export interface ConsoleWorld {
  readonly engine: Engine
  readonly clock: ManualClock
  readonly sandboxes: Readonly<Record<string, RunningSandbox>>
  readonly providers: Readonly<Record<string, ProviderAdapter>>
  /** Payments the demo journeys showed, by provider, in the order shown. */
  readonly shown: Readonly<Record<string, PaymentView[]>>
  /** Where the sandboxes send webhooks (the receiver feeding the engine). */
  readonly receiverUrl: string
  /** The console's base URL (no trailing slash). */
  url: string
  handler: ConsoleHandler
  /** POSTs to a sandbox's control API (fresh connection each time). */
  control(provider: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
  /** Waits until every webhook sent so far was handled. */
  settle(): Promise<void>
  /** Serves another console on the same engine. */
  serve(options?: Partial<ConsoleOptions>): Promise<{ url: string; handler: ConsoleHandler; close(): Promise<void> }>
  close(): Promise<void>
}

const call = (url: string, method: string, body?: string): Promise<{ status: number; body: any }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        let parsed: unknown
        try {
          parsed = text ? JSON.parse(text) : undefined
        } catch {
          parsed = text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed })
      })
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(body)
  })

/** Starts the world; `journeys: false` skips the demo's journeys (the security tests need one payment). */
export const startConsoleWorld = async (opts: { journeys?: boolean; only?: readonly string[] } = {}): Promise<ConsoleWorld> => {
  const clock = manualClock(new Date())
  let engine: Engine | undefined
  const receiver: WebhookReceiver = await startWebhookReceiver(() => engine)
  const sandboxes: Record<string, RunningSandbox> = {}
  const providers: Record<string, ProviderAdapter> = {}
  const chosen = CLI_PROVIDERS.filter((p) => !opts.only || opts.only.includes(p.name))
  for (const p of chosen) {
    sandboxes[p.name] = await p.startSandbox({ "webhook-url": `${receiver.url}/webhooks/${p.name}` })
    providers[p.name] = p.adapterFor(sandboxes[p.name]!, clock)
  }
  engine = createEngine({ store: memoryStore(), providers, clock, backgroundIntervalMs: 0, onError: () => {} })
  await engine.ready
  const e = engine
  const shown: Record<string, PaymentView[]> = {}
  const settleAll = async () => {
    for (const s of Object.values(sandboxes)) await s.kernel.settled()
  }
  if (opts.journeys ?? true) {
    for (const p of chosen) {
      const sandbox = sandboxes[p.name]!
      const list: PaymentView[] = (shown[p.name] = [])
      await p.demo({
        engine: e,
        sandbox,
        clock,
        setTime: async (iso) => {
          clock.set(iso)
          await sandbox.kernel.setClock(new Date(iso))
        },
        title: () => {},
        step: (_text, payment) => {
          if (payment && !list.some((x) => x.id === payment.id)) list.push(payment)
        },
        settle: () => sandbox.kernel.settled(),
      })
      await sandbox.kernel.settled()
    }
  }
  const servers: Server[] = []
  const handlers: ConsoleHandler[] = []
  const serve = async (o: Partial<ConsoleOptions> = {}) => {
    const handler = createConsole({ engine: e, providers, token: TOKEN, pollMs: 150, onError: () => {}, ...o } as ConsoleOptions)
    const server = createServer((req, res) => void handler(req, res))
    server.listen(0, "127.0.0.1")
    await once(server, "listening")
    servers.push(server)
    handlers.push(handler)
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${o.basePath ?? ""}`,
      handler,
      close: async () => {
        handler.close()
        server.closeAllConnections()
        await new Promise<void>((r) => server.close(() => r()))
      },
    }
  }
  const main = await serve()
  const world: ConsoleWorld = {
    engine: e,
    clock,
    sandboxes,
    providers,
    shown,
    receiverUrl: receiver.url,
    url: main.url,
    handler: main.handler,
    control: (provider, path, body = {}) => call(sandboxes[provider]!.url + path, "POST", JSON.stringify(body)),
    settle: settleAll,
    serve,
    close: async () => {
      for (const h of handlers) h.close()
      for (const s of servers) {
        s.closeAllConnections()
        await new Promise<void>((r) => s.close(() => r()))
      }
      await e.close()
      for (const s of Object.values(sandboxes)) await s.close()
      await receiver.close()
    },
  }
  return world
}

/** A OneKey OXXO deposit the customer paid (the notification made it captured). */
export const paidOnekey = async (w: ConsoleWorld, amount: number, method = "OX"): Promise<PaymentView> => {
  const p = await w.engine.payments.create({ provider: "onekey", amount, currency: "MXN", country: "MX", payment_method: method, payer })
  const done = await w.control("onekey", `/_sandbox/deposits/${p.providerRef}/complete`)
  if (done.status !== 200) throw new Error(`complete: ${done.status} ${JSON.stringify(done.body)}`)
  await w.settle()
  return w.engine.payments.sync(p.id)
}

/**
 * A review item: a OneKey bank refund whose notifications never arrive and whose every poll finds it
 * PENDING, until the last poll flags it for review (amount still reserved).
 */
export const flaggedRefund = async (w: ConsoleWorld): Promise<{ payment: PaymentView; itemId: string }> => {
  const p = await paidOnekey(w, 30000, "SE")
  await w.control("onekey", "/_sandbox/webhook-url", { url: null })
  try {
    const v = await w.engine.payments.refund({ paymentId: p.id, amount: 12000, bank_account })
    const r = v.refunds.at(-1)!
    for (const m of [5, 25, 125, 625]) {
      w.clock.advance(m * 60_000)
      await w.engine.runDueTimers()
    }
    const items = await w.engine.review.list()
    const item = items.find((i) => i.paymentId === p.id && i.refundId === r.id)
    if (!item) throw new Error(`no review item for ${p.id}/${r.id}: ${JSON.stringify(items)}`)
    return { payment: await w.engine.payments.get(p.id), itemId: item.id }
  } finally {
    await w.control("onekey", "/_sandbox/webhook-url", { url: `${w.receiverUrl}/webhooks/onekey` })
  }
}
