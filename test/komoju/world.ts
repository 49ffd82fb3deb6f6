/**
 * A KOMOJU world for identity, recovery and PCI tests: the sandbox over HTTP behind a recording
 * proxy, two engines on one store (memory, PGlite or PostgreSQL, schema-isolated), each with its own
 * webhook receiver, and a manual clock shared by the engines and the adapter's key ageing.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { describe, it } from "vitest"
import { komoju, startKomojuSandbox, type KomojuConfig, type KomojuSandboxOptions, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { renderPayment } from "../../adapters/providers/komoju/sandbox-model.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { postgresStore } from "../../adapters/stores/postgres.js"
import { manualClock, type ManualClock } from "../../src/clock.js"
import { createEngine, type Engine, type EngineOptions } from "../../src/engine.js"
import type { ProviderAdapter } from "../../src/provider.js"
import type { Store } from "../../src/store.js"
import { startWebhookReceiver, type WebhookReceiver } from "../../src/testing/webhook-receiver.js"
import { PG_URL, pgReachable } from "../support/postgres.js"

export { PG_URL, pgReachable }

/** A store kind for `describe.each`: PostgreSQL is listed when a server answers, and always in CI (where its absence fails). */
export interface StoreKind {
  readonly name: "memory" | "pglite" | "postgres"
  /** A fresh store (PGlite: its own data dir; PostgreSQL: its own schema). */
  readonly make: () => Store
}

const dirs: string[] = []
const schemas: string[] = []
/** Removes the PGlite data directories and drops the PostgreSQL schemas the tests made. */
export const cleanupDirs = async (): Promise<void> => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  for (const s of schemas.splice(0)) await dropSchema(s).catch(() => undefined)
}

/** A unique, lower-case schema name for this process (dropped by `cleanupDirs`). */
export const uniqueSchema = (tag: string): string => {
  const name = `komoju_${tag}_${process.pid}_${Date.now().toString(36)}_${schemas.length + 1}`.toLowerCase()
  schemas.push(name)
  return name
}

/** A new PGlite data directory. */
export const pgliteDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "paystate-komoju-"))
  dirs.push(d)
  return join(d, "db")
}

/** The store kinds; `kinds` picks some. */
export const storeKinds = (tag: string, kinds: readonly StoreKind["name"][] = ["memory", "pglite", "postgres"]): StoreKind[] =>
  ([
    { name: "memory", make: () => memoryStore() },
    { name: "pglite", make: () => pgliteStore({ dataDir: pgliteDir() }) },
    ...(pgReachable || process.env.CI ? [{ name: "postgres" as const, make: () => postgresStore({ connectionString: PG_URL, schema: uniqueSchema(tag) }) }] : []),
  ] satisfies StoreKind[]).filter((k) => kinds.includes(k.name))

/** Registers a skipped test naming why PostgreSQL is left out (no server, not in CI); in CI it is never left out. */
export const notePostgresSkip = (): void => {
  if (pgReachable || process.env.CI) return
  describe("postgres", () => {
    it.skip(`skipped: no PostgreSQL at ${PG_URL} (start it with pg_ctlcluster; in CI this fails instead)`, () => {})
  })
}

/** Drops a test schema (PostgreSQL). */
export const dropSchema = async (schema: string): Promise<void> => {
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  try {
    await c.query(`drop schema if exists ${schema} cascade`)
  } finally {
    await c.end()
  }
}

/** One request the proxy passed on, with the exact bytes of its body. */
export interface ProxiedRequest {
  readonly method: string
  readonly path: string
  readonly idempotencyKey: string | undefined
  readonly body: string
}

/** What the proxy answers instead of the sandbox, or undefined to pass the request on. */
export type ProxyOverride = (req: { method: string; path: string }) => { status: number; body: unknown } | "drop" | undefined

/** A recording HTTP proxy in front of the sandbox's API. */
export interface KomojuProxy {
  readonly url: string
  readonly requests: ProxiedRequest[]
  override: ProxyOverride | undefined
  /** Rewrites the sandbox's JSON answers (e.g. to hide a field); undefined passes them as they are. */
  rewrite: ((req: { method: string; path: string }, json: any) => any) | undefined
  close(): Promise<void>
}

const readAll = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

/** Starts a proxy to `target` that records every request and can answer in its place. */
export const startProxy = async (target: string): Promise<KomojuProxy> => {
  const proxy: KomojuProxy = {
    url: "",
    requests: [],
    override: undefined,
    rewrite: undefined,
    close: async () => {},
  }
  const server = createServer(async (req, res) => {
    const body = await readAll(req)
    const path = (req.url ?? "/").split("?")[0]!
    const method = (req.method ?? "GET").toUpperCase()
    const key = req.headers["x-komoju-idempotency"]
    proxy.requests.push({ method, path, idempotencyKey: typeof key === "string" ? key : undefined, body: body.toString("utf8") })
    const o = proxy.override?.({ method, path })
    if (o === "drop") return req.socket.destroy()
    if (o) return res.writeHead(o.status, { "content-type": "application/json" }).end(JSON.stringify(o.body))
    try {
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host" && k !== "content-length" && k !== "connection") headers[k] = v
      const upstream = await fetch(`${target}${req.url}`, { method, headers, ...(body.length ? { body } : {}) })
      let text = await upstream.text()
      if (proxy.rewrite && text) text = JSON.stringify(proxy.rewrite({ method, path }, JSON.parse(text)))
      res.writeHead(upstream.status, { "content-type": "application/json" }).end(text)
    } catch {
      // The sandbox hung up (a drop_response fault): hang up too.
      req.socket.destroy()
    }
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  })
}

/** The shared world. */
export interface SharedWorld {
  readonly sandbox: RunningKomojuSandbox
  readonly proxy: KomojuProxy
  readonly clock: ManualClock
  readonly store: Store
  readonly adapter: ProviderAdapter
  /** Two engines on the same store. */
  readonly engines: Engine[]
  readonly receivers: WebhookReceiver[]
  /** Sends KOMOJU's webhooks to engine `i`'s receiver, or nowhere. */
  routeWebhooks(i: number | null): void
  /** Closes engine `i` (its in-memory card data goes with it) and starts a new one on the same store. */
  restart(i: number): Promise<Engine>
  /** Arms a sandbox fault. */
  fault(path: string, mode: "timeout" | "error500" | "drop_response", count?: number, method?: string): void
  clearFaults(): void
  /** POSTs a sandbox control or customer action. */
  control(path: string, body?: unknown): Promise<any>
  /** The payment as KOMOJU would answer GET /payments/:id (read past any armed fault). */
  show(ref: string): Promise<any>
  /** The sandbox's money movements of one payment. */
  movements(ref: string): any[]
  /** Waits for every webhook delivery the sandbox started. */
  settle(): Promise<void>
  /** Advances the clock and lets engine `i` reconcile what is due. */
  recover(i?: number, ms?: number): Promise<void>
  close(): Promise<void>
}

/** Starts the world on a store. */
export const startShared = async (
  options: { store: Store; sandbox?: KomojuSandboxOptions; adapter?: Partial<KomojuConfig>; engine?: Partial<EngineOptions>; start?: string } = { store: memoryStore() },
): Promise<SharedWorld> => {
  const sandbox = await startKomojuSandbox(options.sandbox)
  const proxy = await startProxy(sandbox.url)
  const clock = manualClock(options.start ?? new Date())
  const adapter = komoju({ baseUrl: `${proxy.url}/api/v1`, secretKey: sandbox.secretKey, webhookSecret: sandbox.webhookSecret, timeoutMs: 400, retries: 2, backoffMs: 5, now: () => clock.now(), ...options.adapter })
  // The engines share the store; closing one engine must not close it for the other.
  const store: Store = { ...options.store, close: async () => {} }
  await options.store.init()
  const make = (): Engine =>
    createEngine({ store, providers: { komoju: adapter }, clock, backgroundIntervalMs: 0, recoverOnStart: false, retryBackoffMs: 1000, onError: () => {}, ...options.engine })
  const engines = [make(), make()]
  await Promise.all(engines.map((e) => e.ready))
  const receivers = await Promise.all([0, 1].map((i) => startWebhookReceiver(() => engines[i])))
  const world: SharedWorld = {
    sandbox,
    proxy,
    clock,
    store,
    adapter,
    engines,
    receivers,
    routeWebhooks: (i) => {
      sandbox.kernel.webhookUrl = i === null ? undefined : `${receivers[i]!.url}/webhooks/komoju`
    },
    restart: async (i) => {
      await engines[i]!.close()
      engines[i] = make()
      await engines[i]!.ready
      return engines[i]!
    },
    fault: (path, mode, count = 3, method = "POST") => {
      sandbox.kernel.faults.push({ path, method, mode, count })
    },
    clearFaults: () => {
      sandbox.kernel.faults.length = 0
    },
    control: async (path, body) => {
      const res = await fetch(`${sandbox.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) })
      const json = await res.json()
      if (!res.ok) throw new Error(`${path} → ${res.status} ${JSON.stringify(json)}`)
      return json
    },
    // Read from the sandbox's book, so that armed faults never hit the test's own reads.
    show: async (ref) => JSON.parse(JSON.stringify(renderPayment(sandbox.book.get(ref)))),
    movements: (ref) => sandbox.kernel.ledger.filter((m) => m.paymentId === ref),
    settle: async () => {
      sandbox.kernel.flushWebhooks()
      await sandbox.kernel.settled()
    },
    recover: async (i = 0, ms = 60_000) => {
      clock.advance(ms)
      await engines[i]!.recover()
    },
    close: async () => {
      await sandbox.kernel.settled()
      for (const e of engines) await e.close()
      for (const r of receivers) await r.close()
      await proxy.close()
      await sandbox.close()
      await options.store.close()
    },
  }
  world.routeWebhooks(0)
  return world
}

/** The refund id a KOMOJU refund's idempotency key names (`ps-<paymentId>-<refundId>`). */
export const refundIdOfCause = (paymentId: string, cause: string): string | undefined =>
  cause.startsWith(`ps-${paymentId}-`) ? cause.slice(`ps-${paymentId}-`.length) : undefined
