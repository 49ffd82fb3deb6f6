/**
 * Shared setup of the OneKey tests: a sandbox on 127.0.0.1, a webhook receiver that hands each
 * notification to the engine under test, and small helpers for the sandbox's control API.
 */
import { request } from "node:http"
import { expect } from "vitest"
import { make, onekey, startOnekeySandbox, type OnekeyAdapterConfig, type OnekeySandboxOptions, type RunningOnekeySandbox } from "../../adapters/providers/onekey/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import type { ManualClock } from "../../src/clock.js"
import { createEngine, type Engine, type EngineOptions } from "../../src/engine.js"
import type { Store } from "../../src/store.js"
import { startWebhookReceiver, type WebhookReceiver } from "../../src/testing/webhook-receiver.js"
import type { PaymentView } from "../../src/types.js"

export const payer = { document: "ROMC850101HDFXXX01", email: "carlos@example.com", first_name: "Carlos", last_name: "Ramirez" }
export const bank_account = { beneficiary: "Carlos Ramirez", bank_code: 1, branch: "9283", account_number: "18293435", account_type: "SAVING" as const }

/** A ledger movement of the sandbox. */
export interface Movement {
  readonly type: string
  readonly paymentId: string
  readonly refundId?: string
  readonly amount: number
  readonly cause: string
}

/** A sandbox, a receiver and (once set) the engine the receiver feeds. */
export interface World {
  sandbox: RunningOnekeySandbox
  receiver: WebhookReceiver
  engine: Engine | undefined
  /** POST to the sandbox; returns the parsed answer and status. */
  control(path: string, body?: unknown): Promise<{ status: number; body: any }>
  /** GET from the sandbox's control API; returns the parsed answer. */
  read(path: string): Promise<any>
  /** Every money movement so far. */
  ledger(): Promise<Movement[]>
  /** Waits until every notification sent so far was handled. */
  settle(): Promise<void>
  /** An engine on a memory store (or the given one) wired to the sandbox and the receiver. */
  newEngine(opts?: { store?: Store; clock?: ManualClock; adapter?: Partial<OnekeyAdapterConfig>; engine?: Partial<EngineOptions> }): Engine
  /** A signed client for direct calls. */
  client(): ReturnType<typeof make>
  close(): Promise<void>
}

/**
 * One control call on a fresh connection: a pooled keep-alive socket the sandbox is just closing
 * (its idle timeout passes while a test opens a database) would fail the call with ECONNRESET.
 */
const controlCall = (url: string, method: "GET" | "POST", body?: string): Promise<{ status: number; body: any }> =>
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
          parsed = undefined
        }
        resolve({ status: res.statusCode ?? 0, body: parsed })
      })
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(body)
  })

/** Starts the world. */
export const startWorld = async (options: OnekeySandboxOptions = {}): Promise<World> => {
  const world = {} as World
  world.engine = undefined
  world.receiver = await startWebhookReceiver(() => world.engine)
  world.sandbox = await startOnekeySandbox({ webhookUrl: `${world.receiver.url}/webhooks/onekey`, ...options })
  world.control = async (path, body = {}) => controlCall(world.sandbox.url + path, "POST", JSON.stringify(body))
  world.read = async (path) => (await controlCall(world.sandbox.url + path, "GET")).body
  world.ledger = async () => ((await world.read("/_sandbox/ledger")) as { movements: Movement[] }).movements
  world.settle = () => world.sandbox.kernel.settled()
  world.newEngine = (opts = {}) =>
    createEngine({
      store: opts.store ?? memoryStore(),
      providers: { onekey: onekey({ baseUrl: world.sandbox.url, ...world.sandbox.credentials, timeoutMs: 2000, retries: 1, ...opts.adapter }) },
      ...(opts.clock ? { clock: opts.clock } : {}),
      backgroundIntervalMs: 0,
      onError: () => {},
      ...opts.engine,
    })
  world.client = () => make({ baseUrl: world.sandbox.url, ...world.sandbox.credentials })
  world.close = async () => {
    await world.engine?.close()
    await world.sandbox.close()
    await world.receiver.close()
  }
  return world
}

/** Creates a deposit and has the customer pay it; the deposit notification makes it captured. */
export const paidDeposit = async (world: World, amount: number, payment_method = "OX", engine = world.engine!): Promise<PaymentView> => {
  const p = await engine.payments.create({ provider: "onekey", amount, currency: "MXN", country: "MX", payment_method, payer })
  expect(p).toMatchObject({ status: "pending", providerRef: expect.any(String) })
  expect((await world.control(`/_sandbox/deposits/${p.providerRef}/complete`)).status).toBe(200)
  await world.settle()
  // Notifications reach world.engine only; any other engine reads the deposit itself.
  const paid = engine === world.engine ? await engine.payments.get(p.id) : await engine.payments.sync(p.id)
  expect(paid).toMatchObject({ status: "captured", capturedAmount: amount })
  return paid
}

/** Moves a refund at the bank through the given statuses, each followed by its notification. */
export const bank = async (world: World, refundRef: string | null | undefined, ...statuses: string[]): Promise<void> => {
  for (const status of statuses) {
    const r = await world.control(`/_sandbox/refunds/${refundRef}/status`, { status })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    await world.settle()
  }
}

/** What the sandbox's ledger holds against a deposit: refunds less releases and reversals. */
export const heldAtProvider = (movements: readonly Movement[], depositId?: string | null): number =>
  movements.filter((m) => m.type !== "capture" && (depositId === undefined || m.paymentId === depositId)).reduce((s, m) => s + m.amount, 0)
