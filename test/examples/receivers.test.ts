/**
 * paystate/http through real Express, Fastify, Hono and node:http servers on 127.0.0.1, one engine
 * with the three providers on their sandboxes: each provider's deliveries get the status the provider
 * expects (200 processed / duplicate / ignored, 400 refused, 404 unknown provider, 5xx not applied so
 * the provider retries), and the raw bytes reach the signature check whatever the framework.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { serve } from "@hono/node-server"
import express from "express"
import Fastify from "fastify"
import { Hono } from "hono"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { startSandbox } from "../../adapters/sandbox/index.js"
import { CLI_PROVIDERS } from "../../src/cli/providers.js"
import { createEngine, type Engine } from "../../src/engine.js"
import { paystateError } from "../../src/errors.js"
import { expressWebhookHandler, fastifyWebhookPlugin, honoWebhookHandler, nodeWebhookHandler, type WebhookEngine } from "../../src/http/index.js"
import { signCraftgateWebhook, signKomojuWebhook, signOnekeyWebhook } from "../../src/testing/index.js"
import { eventually, http } from "./app.js"

const KOMOJU_SECRET = "whsec_komoju_sandbox"
const CRAFTGATE_HOOK_KEY = "craftgate-webhook-key"

/** A server with the receiver on `/webhooks/:provider` and a JSON echo route beside it. */
interface Receiver {
  readonly url: string
  close(): Promise<void>
}

const listening = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
const closing = (server: Server) => () => new Promise<void>((r) => server.close(() => r()))

const RECEIVERS: Record<string, (engine: WebhookEngine) => Promise<Receiver>> = {
  express: async (engine) => {
    const app = express()
    app.post("/webhooks/:provider", express.raw({ type: "*/*" }), expressWebhookHandler(engine, { onError: () => undefined }))
    app.use(express.json())
    app.post("/echo", (req, res) => {
      res.json(req.body)
    })
    const server = createServer(app)
    return { url: await listening(server), close: closing(server) }
  },
  fastify: async (engine) => {
    const app = Fastify()
    await app.register(fastifyWebhookPlugin(engine, { onError: () => undefined }), { prefix: "/webhooks" })
    app.post("/echo", async (request) => request.body)
    await app.listen({ port: 0, host: "127.0.0.1" })
    const { port } = app.server.address() as AddressInfo
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() }
  },
  hono: async (engine) => {
    const app = new Hono()
    app.post("/webhooks/:provider", honoWebhookHandler(engine, { onError: () => undefined }))
    app.post("/echo", async (c) => c.json(await c.req.json()))
    let server: ReturnType<typeof serve> | undefined
    const url = await new Promise<string>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => resolve(`http://127.0.0.1:${info.port}`))
    })
    return { url, close: () => new Promise<void>((r) => server!.close(() => r())) }
  },
  node: async (engine) => {
    const receive = nodeWebhookHandler(engine, { onError: () => undefined })
    const server = createServer((req, res) => {
      if (req.url?.startsWith("/webhooks/")) return void receive(req, res)
      const chunks: Buffer[] = []
      req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(Buffer.concat(chunks)))
    })
    return { url: await listening(server), close: closing(server) }
  },
}

const sandboxes: Record<string, RunningSandbox> = {}
let engine: Engine

beforeAll(async () => {
  for (const name of ["komoju", "craftgate", "onekey"]) sandboxes[name] = await startSandbox(name)
  const providers = Object.fromEntries(CLI_PROVIDERS.map((p) => [p.name, p.adapterFor(sandboxes[p.name]!)]))
  engine = createEngine({ store: memoryStore(), providers, backgroundIntervalMs: 0, onError: () => undefined })
  await engine.ready
})
afterAll(async () => {
  await engine?.close()
  for (const s of Object.values(sandboxes)) await s.close()
})

const pointWebhooks = (provider: string, url: string | null) => http("POST", `${sandboxes[provider]!.url}/_sandbox/webhook-url`, { url })
const deliveries = async (provider: string): Promise<{ url: string; status: number | string }[]> => (await http("GET", `${sandboxes[provider]!.url}/_sandbox/webhooks`)).body.delivered
const post = (url: string, signed: { headers: Record<string, string>; rawBody: string }) => http("POST", url, signed.rawBody, signed.headers)

describe.each(Object.keys(RECEIVERS))("paystate/http on %s", (framework) => {
  let receiver: Receiver
  beforeAll(async () => {
    receiver = await RECEIVERS[framework]!(engine)
  })
  afterAll(() => receiver?.close())

  it("keeps JSON parsing for the host's other routes", async () => {
    expect(await http("POST", `${receiver.url}/echo`, { a: 1 })).toEqual({ status: 200, body: { a: 1 } })
  })

  it("KOMOJU: the sandbox's signed webhook moves the payment (200); a forged one is 400, a repeat is a 200 duplicate, an unknown payment a 200 ignored", async () => {
    await pointWebhooks("komoju", `${receiver.url}/webhooks/komoju`)
    let p = await engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "konbini", store: "lawson", email: "taro@example.com" } })
    expect(p.status).toBe("authorized")
    await http("POST", `${sandboxes.komoju!.url}/_sandbox/payments/${p.providerRef}/pay`)
    await sandboxes.komoju!.kernel.settled()
    p = await eventually(async () => {
      const v = await engine.payments.get(p.id)
      return v.status === "captured" ? v : undefined
    })
    const mine = (await deliveries("komoju")).filter((d) => d.url.startsWith(receiver.url))
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.map((d) => d.status)).toEqual(mine.map(() => 200))
    await pointWebhooks("komoju", null)

    // The raw bytes, not a re-serialised copy, are what the signature covers: extra spaces prove it.
    const event = `{ "id": "evt_${framework}_1", "type": "payment.updated", "resource": "event", "data": { "id": "unknown-${framework}", "status": "captured", "amount": 1, "currency": "JPY" }, "created_at": "2026-01-01T00:00:00Z" }`
    const signed = signKomojuWebhook(KOMOJU_SECRET, event)
    const url = `${receiver.url}/webhooks/komoju`
    expect((await post(url, { ...signed, headers: { ...signed.headers, "x-komoju-signature": "00".repeat(32) } })).status).toBe(400)
    expect(await post(url, signed)).toEqual({ status: 200, body: { status: "ignored", paymentIds: [] } })
  })

  it("KOMOJU: a delivery about a known payment is processed once, then a duplicate", async () => {
    await pointWebhooks("komoju", null)
    const p = await engine.payments.create({ provider: "komoju", amount: 1500, currency: "JPY", payment_details: { type: "konbini", store: "lawson", email: "taro@example.com" } })
    await http("POST", `${sandboxes.komoju!.url}/_sandbox/payments/${p.providerRef}/pay`)
    const data = (await http("GET", `${sandboxes.komoju!.url}/api/v1/payments/${p.providerRef}`, undefined, { authorization: `Basic ${Buffer.from("sk_123456:").toString("base64")}` })).body
    const signed = signKomojuWebhook(KOMOJU_SECRET, { id: `evt_${framework}_2`, type: "payment.captured", resource: "event", data, created_at: new Date().toISOString() } as never)
    const url = `${receiver.url}/webhooks/komoju`
    expect(await post(url, signed)).toEqual({ status: 200, body: { status: "processed", paymentIds: [p.id] } })
    expect((await engine.payments.get(p.id)).status).toBe("captured")
    expect(await post(url, signed)).toEqual({ status: 200, body: { status: "duplicate", paymentIds: [] } })
  })

  it("OneKey: a notification whose lookup fails is answered 5xx (OneKey retries it), then applied; an unknown id is a 200, a body naming nothing a 400", async () => {
    await pointWebhooks("onekey", null)
    const payer = { document: "ROMC850101HDFXXX01", email: "carlos@example.com", first_name: "Carlos", last_name: "Ramirez" }
    const p = await engine.payments.create({ provider: "onekey", amount: 50000, currency: "MXN", country: "MX", payment_method: "OX", payer })
    expect(p.status).not.toBe("captured")
    expect((await http("POST", `${sandboxes.onekey!.url}/_sandbox/deposits/${p.providerRef}/complete`)).status).toBe(200)
    const url = `${receiver.url}/webhooks/onekey`
    const notification = signOnekeyWebhook({ deposit_id: p.providerRef! })

    await http("POST", `${sandboxes.onekey!.url}/_sandbox/faults`, { method: "GET", path: "/v3/deposits/:id", mode: "error500", count: 3 })
    const failed = await post(url, notification)
    expect(failed.status).toBeGreaterThanOrEqual(500)
    expect(Object.keys(failed.body)).toEqual(["error"])
    expect((await engine.payments.get(p.id)).status).not.toBe("captured")

    const applied = await eventually(async () => {
      const r = await post(url, notification)
      return r.status === 200 ? r : undefined
    })
    expect(applied.body).toEqual({ status: "processed", paymentIds: [p.id] })
    expect((await engine.payments.get(p.id)).status).toBe("captured")

    expect(await post(url, signOnekeyWebhook({ refund_id: 987654321 }))).toEqual({ status: 200, body: { status: "ignored", paymentIds: [] } })
    const bad = await http("POST", url, JSON.stringify({ hello: "world" }), { "content-type": "application/json" })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBe("WEBHOOK_REJECTED")
  })

  it("Craftgate: the sandbox's signed webhooks for a card payment are answered 200; a wrong hook key is a 400", async () => {
    await pointWebhooks("craftgate", `${receiver.url}/webhooks/craftgate`)
    const card = { cardHolderName: "Haluk Demir", cardNumber: "5258640000000001", expireYear: "2044", expireMonth: "07", cvc: "000" }
    const p = await engine.payments.create({ provider: "craftgate", amount: 10000, currency: "TRY", card, items: [{ name: "Book", price: 10000 }] })
    expect(p.status).toBe("captured")
    await sandboxes.craftgate!.kernel.settled()
    const mine = (await deliveries("craftgate")).filter((d) => d.url.startsWith(receiver.url))
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.map((d) => d.status)).toEqual(mine.map(() => 200))
    await pointWebhooks("craftgate", null)
    const fields = { eventType: "API_AUTH", eventTimestamp: Math.floor(Date.now() / 1000), status: "SUCCESS", payloadId: String(p.providerRef) }
    expect((await post(`${receiver.url}/webhooks/craftgate`, signCraftgateWebhook("not-the-hook-key", fields as never))).status).toBe(400)
    expect((await post(`${receiver.url}/webhooks/craftgate`, signCraftgateWebhook(CRAFTGATE_HOOK_KEY, fields as never))).status).toBe(200)
  })

  it("an unknown provider is a 404", async () => {
    const r = await http("POST", `${receiver.url}/webhooks/nope`, "{}", { "content-type": "application/json" })
    expect(r.status).toBe(404)
    expect(r.body.error).toBe("UNKNOWN_PROVIDER")
  })
})

describe("paystate/http answers for an engine that could not apply a delivery", () => {
  const failing = (error: unknown): WebhookEngine => ({ webhooks: { handle: () => Promise.reject(error) } })
  const cases: [string, unknown, number][] = [
    ["a closed engine", paystateError("ENGINE_CLOSED", "The engine is closed."), 503],
    ["a provider outage during the webhook's lookup", paystateError("PROVIDER_UNAVAILABLE", "GET /v3/refunds/1 timed out"), 503],
    ["a store failure (not a PaystateError)", new Error("connect ECONNREFUSED 127.0.0.1:5432 password=hunter2"), 500],
  ]
  it.each(Object.keys(RECEIVERS))("%s: 5xx with only the code in the body (no store or provider message leaks)", async (framework) => {
    for (const [, error, status] of cases) {
      const seen: number[] = []
      const engineLike = failing(error)
      const receiver = await RECEIVERS[framework]!({ webhooks: { handle: (...a) => engineLike.webhooks.handle(...a).catch((e) => (seen.push(1), Promise.reject(e))) } })
      try {
        const r = await http("POST", `${receiver.url}/webhooks/komoju`, "{}", { "content-type": "application/json" })
        expect(r.status).toBe(status)
        expect(JSON.stringify(r.body)).not.toContain("hunter2")
        expect(Object.keys(r.body)).toEqual(["error"])
        expect(seen).toEqual([1])
      } finally {
        await receiver.close()
      }
    }
  })

  it("a real engine, closed: 503 on every framework", async () => {
    const closed = createEngine({ store: memoryStore(), providers: {}, backgroundIntervalMs: 0 })
    await closed.close()
    for (const framework of Object.keys(RECEIVERS)) {
      const receiver = await RECEIVERS[framework]!(closed)
      try {
        expect((await http("POST", `${receiver.url}/webhooks/komoju`, "{}")).status).toBe(503)
      } finally {
        await receiver.close()
      }
    }
  })

  it("Express after express.json(): the signed bytes are gone, so it answers 500 and tells onError how to mount the route", async () => {
    const errors: string[] = []
    const app = express()
    app.use(express.json())
    app.post("/webhooks/:provider", expressWebhookHandler(engine, { onError: (e) => errors.push(String(e)) }))
    const server = createServer(app)
    const url = await listening(server)
    try {
      const signed = signKomojuWebhook(KOMOJU_SECRET, { id: "evt_parsed", type: "ping", resource: "event", data: {}, created_at: "2026-01-01T00:00:00Z" } as never)
      const r = await post(`${url}/webhooks/komoju`, signed)
      expect(r.status).toBe(500)
      expect(r.body).toEqual({ error: "RAW_BODY_MISSING" })
      expect(errors.join()).toContain('express.raw({ type: "*/*" })')
    } finally {
      await closing(server)()
    }
  })

  it("Express without any body parser reads the stream itself", async () => {
    const app = express()
    app.post("/webhooks/:provider", expressWebhookHandler(engine))
    const server = createServer(app)
    const url = await listening(server)
    try {
      const signed = signKomojuWebhook(KOMOJU_SECRET, { id: "evt_unparsed", type: "ping", resource: "event", data: {}, created_at: "2026-01-01T00:00:00Z" } as never)
      expect((await post(`${url}/webhooks/komoju`, signed)).status).toBe(200)
    } finally {
      await closing(server)()
    }
  })
})
