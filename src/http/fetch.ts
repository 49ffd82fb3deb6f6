/**
 * The webhook receiver for Fetch-API frameworks: Hono (on Node, Bun, Deno, Workers), or any server
 * that hands over a standard `Request` and sends back a `Response`.
 *
 * @example
 * app.post("/webhooks/:provider", honoWebhookHandler(engine))
 */
import { handleWebhookRequest, type WebhookEngine, type WebhookHeaders, type WebhookReceiverOptions } from "./core.js"

/**
 * A Fetch `Headers` as the plain object `engine.webhooks.handle` takes: lower-case names, one string
 * each. (Fetch joins a repeated header into one "a, b" value, which no signature matches.)
 */
export const headersToObject = (headers: Headers): WebhookHeaders => {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value
  })
  return out
}

/** Answers one Fetch `Request` for `provider` (the raw bytes come from `arrayBuffer()`). */
export const fetchWebhookHandler =
  (engine: WebhookEngine, options: WebhookReceiverOptions = {}) =>
  async (request: Request, provider?: string): Promise<Response> => {
    const rawBody = new Uint8Array(await request.arrayBuffer())
    const answer = await handleWebhookRequest(engine, options.provider ?? provider, { headers: headersToObject(request.headers), rawBody }, options)
    return new Response(answer.body, { status: answer.status, headers: answer.headers })
  }

/** What the Hono handler reads of Hono's context (structural: paystate does not import hono). */
export interface HonoLikeContext {
  readonly req: {
    readonly raw: Request
    arrayBuffer(): Promise<ArrayBuffer>
    param(name: string): string | undefined
  }
}

/**
 * A Hono handler for a webhook route. Reads the body with `c.req.arrayBuffer()` (never `c.req.json()`,
 * which loses the signed bytes) and converts Hono's `Headers` to a plain object.
 */
export const honoWebhookHandler = (engine: WebhookEngine, options: WebhookReceiverOptions = {}) => {
  return async (c: HonoLikeContext): Promise<Response> => {
    const rawBody = new Uint8Array(await c.req.arrayBuffer())
    const answer = await handleWebhookRequest(engine, options.provider ?? c.req.param("provider"), { headers: headersToObject(c.req.raw.headers), rawBody }, options)
    return new Response(answer.body, { status: answer.status, headers: answer.headers })
  }
}
