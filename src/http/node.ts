/**
 * The webhook receiver for plain `node:http` (and anything that hands over Node's request and
 * response objects untouched): reads the raw bytes from the request stream itself.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { handleWebhookRequest, type WebhookEngine, type WebhookReceiverOptions, type WebhookResponse } from "./core.js"

/** Largest body a receiver reads (providers send a few KiB); a larger one is answered 413. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024

/** Reads a request stream to its end as bytes; undefined when it is over `limit` bytes. */
export const readRawBody = (req: IncomingMessage, limit = MAX_WEBHOOK_BYTES): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on("data", (c: Buffer | string) => {
      const b = typeof c === "string" ? Buffer.from(c) : c
      size += b.length
      if (size > limit) over = true
      else if (!over) chunks.push(b)
    })
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks)))
    req.on("error", reject)
  })

/** Writes a receiver's answer to a Node response. */
export const sendNodeResponse = (res: ServerResponse, answer: WebhookResponse): void => {
  res.writeHead(answer.status, answer.headers).end(answer.body)
}

/** The provider named by the last segment of the request path (`/webhooks/komoju` → `komoju`). */
export const providerFromPath = (url: string | undefined): string | undefined => {
  const path = (url ?? "").split("?")[0] ?? ""
  const last = path.split("/").filter(Boolean).pop()
  if (!last) return undefined
  try {
    return decodeURIComponent(last)
  } catch {
    return last // a malformed escape names no provider the engine has: it answers 404
  }
}

/**
 * A `(req, res)` listener for `http.createServer` or a route of your own router. The provider is
 * `options.provider`, else the last segment of the path.
 *
 * @example
 * createServer((req, res) => req.url?.startsWith("/webhooks/") ? receive(req, res) : other(req, res))
 * const receive = nodeWebhookHandler(engine)
 */
export const nodeWebhookHandler =
  (engine: WebhookEngine, options: WebhookReceiverOptions = {}) =>
  async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const provider = options.provider ?? providerFromPath(req.url)
    let raw: Buffer | undefined
    try {
      raw = await readRawBody(req)
    } catch (error) {
      options.onError?.(error, { provider: provider ?? "", status: 400 })
      if (!res.headersSent) res.writeHead(400).end()
      return
    }
    if (!raw) {
      options.onError?.(new Error(`webhook body over ${MAX_WEBHOOK_BYTES} bytes`), { provider: provider ?? "", status: 413 })
      res.writeHead(413, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ error: "PAYLOAD_TOO_LARGE" }))
      return
    }
    sendNodeResponse(res, await handleWebhookRequest(engine, provider, { headers: req.headers, rawBody: raw }, options))
  }
