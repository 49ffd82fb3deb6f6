/**
 * A webhook endpoint on 127.0.0.1 that hands each delivery to an engine, as a host app's route
 * would: `POST /webhooks/<provider>` with the raw body. 400 for a refused signature, 500 otherwise.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { isPaystateError } from "../errors.js"
import type { PaystateEngine, WebhookOutcome } from "../types.js"

/** A running receiver. */
export interface WebhookReceiver {
  /** Base URL; a provider's webhooks go to `${url}/webhooks/${provider}`. */
  readonly url: string
  /** What each delivery did, in arrival order. */
  readonly outcomes: { provider: string; status: number; outcome?: WebhookOutcome; error?: string }[]
  close(): Promise<void>
}

/** Starts a receiver for the engine `getEngine` returns (a function, so it may be created later). */
export const startWebhookReceiver = async (getEngine: () => PaystateEngine | undefined): Promise<WebhookReceiver> => {
  const outcomes: WebhookReceiver["outcomes"] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", async () => {
      const provider = (req.url ?? "").split("?")[0]!.split("/").pop() ?? ""
      try {
        const engine = getEngine()
        if (!engine) throw new Error("the engine is not ready")
        const outcome = await engine.webhooks.handle(provider, { headers: req.headers, rawBody: Buffer.concat(chunks) })
        outcomes.push({ provider, status: 200, outcome })
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(outcome))
      } catch (err) {
        const status = isPaystateError(err, "WEBHOOK_REJECTED") ? 400 : 500
        outcomes.push({ provider, status, error: err instanceof Error ? err.message : String(err) })
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }))
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    outcomes,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}
