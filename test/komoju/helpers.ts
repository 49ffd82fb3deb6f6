/** Shared set-up for KOMOJU tests: the sandbox over HTTP, a webhook receiver, and an engine on a manual clock. */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { komoju, startKomojuSandbox, type KomojuConfig, type KomojuSandboxOptions, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock, type ManualClock } from "../../src/clock.js"
import { createEngine, type Engine } from "../../src/engine.js"
import type { ProviderAdapter } from "../../src/provider.js"
import type { WebhookOutcome } from "../../src/types.js"

/** A running KOMOJU world for one test file. */
export interface KomojuWorld {
  readonly sandbox: RunningKomojuSandbox
  readonly engine: Engine
  readonly adapter: ProviderAdapter
  readonly clock: ManualClock
  /** Every webhook the receiver handled, with the engine's outcome or error. */
  readonly received: { outcome?: WebhookOutcome; error?: string; status: number }[]
  /** POSTs a sandbox control or customer action and returns the JSON answer. */
  control(path: string, body?: unknown): Promise<any>
  /** Calls the sandbox's KOMOJU API directly (Basic auth), answering status and JSON. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any }>
  /** Waits for every webhook the sandbox sent to be handled. */
  settle(): Promise<void>
  /** Moves the engine clock and the sandbox clock together. */
  setTime(iso: string): Promise<void>
  close(): Promise<void>
}

/** Starts a sandbox, a webhook receiver and an engine wired to both. */
export const startWorld = async (options: { sandbox?: KomojuSandboxOptions; adapter?: Partial<KomojuConfig>; webhooks?: boolean } = {}): Promise<KomojuWorld> => {
  const sandbox = await startKomojuSandbox(options.sandbox)
  const clock = manualClock(new Date())
  const received: KomojuWorld["received"] = []
  let engine: Engine | undefined
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", async () => {
      try {
        const outcome = await engine!.webhooks.handle("komoju", { headers: req.headers, rawBody: Buffer.concat(chunks) })
        received.push({ outcome, status: 200 })
        res.writeHead(200).end(JSON.stringify(outcome))
      } catch (e) {
        received.push({ error: e instanceof Error ? e.message : String(e), status: 400 })
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  if (options.webhooks !== false) sandbox.kernel.webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/komoju`
  const adapter = komoju({ baseUrl: sandbox.apiUrl, secretKey: sandbox.secretKey, webhookSecret: sandbox.webhookSecret, timeoutMs: 400, retries: 2, backoffMs: 5, ...options.adapter })
  engine = createEngine({ store: memoryStore(), providers: { komoju: adapter }, clock, backgroundIntervalMs: 0, retryBackoffMs: 10, onError: () => {} })
  await engine.ready
  const auth = `Basic ${Buffer.from(`${sandbox.secretKey}:`).toString("base64")}`
  return {
    sandbox,
    engine,
    adapter,
    clock,
    received,
    control: async (path, body) => {
      const res = await fetch(`${sandbox.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) })
      const json = await res.json()
      if (!res.ok) throw new Error(`${path} → ${res.status} ${JSON.stringify(json)}`)
      return json
    },
    api: async (method, path, body, headers = {}) => {
      const form = typeof body === "string"
      const res = await fetch(`${sandbox.apiUrl}${path}`, {
        method,
        headers: { authorization: auth, ...(body === undefined ? {} : { "content-type": form ? "application/x-www-form-urlencoded" : "application/json" }), ...headers },
        ...(body === undefined ? {} : { body: form ? (body as string) : JSON.stringify(body) }),
      })
      const text = await res.text()
      return { status: res.status, json: text ? JSON.parse(text) : undefined }
    },
    settle: () => sandbox.kernel.settled(),
    setTime: async (iso) => {
      clock.set(iso)
      await sandbox.kernel.setClock(new Date(iso))
    },
    close: async () => {
      await sandbox.kernel.settled()
      await engine!.close()
      await sandbox.close()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/** A valid refund request's bank account (seed 000). */
export const BANK = {
  customer_name: "John Doe",
  bank_code: "1234",
  bank_name: "KOMOJU BANK",
  branch_number: "123",
  branch_name: "KOMOJU BRANCH",
  account_type: "normal",
  account_number: "1234567",
  include_payment_method_fee: true,
} as const
