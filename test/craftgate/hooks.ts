/**
 * A webhook trap: an HTTP endpoint the sandbox delivers its signed webhooks to, which keeps them so
 * a test decides when, how often and to which engine each is handed (before an answer, twice,
 * reordered, to a second engine on the same database).
 */
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import type { Engine } from "../../src/engine.js"
import type { WebhookOutcome } from "../../src/types.js"

/** One delivery as the sandbox sent it. */
export interface Delivery {
  readonly headers: IncomingHttpHeaders
  readonly rawBody: string
  readonly body: { eventType: string; payloadId: string; status: string; eventTimestamp: number }
}

/** A running trap. */
export interface HookTrap {
  readonly url: string
  /** Deliveries not taken yet, in arrival order. */
  readonly pending: Delivery[]
  /** Takes every pending delivery. */
  take(): Delivery[]
  close(): Promise<void>
}

/** Starts a trap on 127.0.0.1; point the sandbox's webhook URL at `trap.url`. */
export const startHookTrap = async (): Promise<HookTrap> => {
  const pending: Delivery[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8")
      pending.push({ headers: req.headers, rawBody, body: JSON.parse(rawBody) })
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    pending,
    take: () => pending.splice(0, pending.length),
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/** Hands a delivery to an engine as a host's route would (raw body, headers as received). */
export const deliver = (engine: Engine, d: Delivery): Promise<WebhookOutcome> => engine.webhooks.handle("craftgate", { headers: d.headers, rawBody: d.rawBody })
