/**
 * The webhook receiver for Express (4 or 5). Mount it after `express.raw({ type: "*\/*" })` so the
 * body arrives as the exact bytes the provider signed:
 *
 * @example
 * app.post("/webhooks/:provider", express.raw({ type: "*\/*" }), expressWebhookHandler(engine))
 *
 * Without a body parser it reads the request stream itself. After `express.json()` (or any parser
 * that replaced the bytes with an object) the signature cannot be checked any more: it answers 500
 * and tells `onError` how to fix the route, so the provider retries once it is fixed.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { handleWebhookRequest, RawBodyMissing, type WebhookEngine, type WebhookReceiverOptions } from "./core.js"
import { readRawBody, sendNodeResponse } from "./node.js"

/** What the receiver reads of Express's request (structural: paystate does not import express). */
export type ExpressLikeRequest = IncomingMessage & { body?: unknown; params?: Record<string, string | undefined> }

const bodyOf = async (req: ExpressLikeRequest): Promise<string | Uint8Array | RawBodyMissing | undefined> => {
  const body = req.body
  if (body instanceof Uint8Array || typeof body === "string") return body
  // No parser ran (Express 5 leaves `body` undefined, Express 4's parsers leave `{}` when the content
  // type did not match): the stream is still unread, so the bytes are still there to read.
  const untouched = body === undefined || (typeof body === "object" && body !== null && Object.getPrototypeOf(body) === Object.prototype && Object.keys(body).length === 0)
  if (untouched && !req.readableEnded) return readRawBody(req)
  return new RawBodyMissing('Mount express.raw({ type: "*/*" }) on the webhook route, before any express.json() that covers it.')
}

/** An Express handler for a webhook route; the provider is `options.provider` or `req.params.provider`. */
export const expressWebhookHandler =
  (engine: WebhookEngine, options: WebhookReceiverOptions = {}) =>
  async (req: ExpressLikeRequest, res: ServerResponse, next?: (error?: unknown) => void): Promise<void> => {
    try {
      const rawBody = await bodyOf(req)
      if (rawBody === undefined) {
        res.writeHead(413, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ error: "PAYLOAD_TOO_LARGE" }))
        return
      }
      const answer = await handleWebhookRequest(engine, options.provider ?? req.params?.provider, { headers: req.headers, rawBody }, options)
      sendNodeResponse(res, answer)
    } catch (error) {
      // Only a broken request stream gets here; Express's error handler answers it.
      if (next) next(error)
      else if (!res.headersSent) res.writeHead(400).end()
    }
  }
