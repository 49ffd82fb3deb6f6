/**
 * The webhook receiver for Fastify (4 or 5), as a plugin. Fastify parses JSON bodies by default, and a
 * parsed body has lost the exact bytes the provider signed, so the plugin replaces the body parsers
 * with one that keeps the raw `Buffer`, for every content type. Fastify scopes parsers to the plugin
 * that adds them: the host's other routes keep their JSON parsing.
 *
 * @example
 * app.register(fastifyWebhookPlugin(engine), { prefix: "/webhooks" }) // POST /webhooks/:provider
 */
import type { IncomingHttpHeaders } from "node:http"
import { handleWebhookRequest, RawBodyMissing, type WebhookEngine, type WebhookReceiverOptions } from "./core.js"
import { MAX_WEBHOOK_BYTES } from "./node.js"

/** What the plugin reads of a Fastify request (structural: paystate does not import fastify). */
export interface FastifyLikeRequest {
  readonly headers: IncomingHttpHeaders
  readonly body?: unknown
  readonly params?: unknown
}

/** What the plugin uses of a Fastify reply. */
export interface FastifyLikeReply {
  code(statusCode: number): FastifyLikeReply
  header(name: string, value: string): FastifyLikeReply
  send(payload?: unknown): FastifyLikeReply
}

/** What the plugin uses of the Fastify instance it is registered on. */
export interface FastifyLikeInstance {
  removeAllContentTypeParsers(): void
  addContentTypeParser(
    contentType: string,
    opts: { parseAs: "buffer"; bodyLimit?: number },
    parser: (request: never, body: Buffer, done: (error: Error | null, body?: unknown) => void) => void,
  ): void
  post(path: string, handler: (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<unknown>): unknown
}

/** Options of the Fastify plugin. */
export interface FastifyWebhookOptions extends WebhookReceiverOptions {
  /** Route path inside the plugin's prefix. Default `/:provider` (or `/` when `provider` is given). */
  readonly path?: string
  /** Largest body accepted, in bytes. Default 1 MiB. */
  readonly bodyLimit?: number
}

/** A Fastify plugin that serves `POST <prefix>/:provider` with the raw body. Register it, do not wrap it in fastify-plugin. */
export const fastifyWebhookPlugin = (engine: WebhookEngine, options: FastifyWebhookOptions = {}) =>
  async function paystateWebhooks(instance: FastifyLikeInstance): Promise<void> {
    instance.removeAllContentTypeParsers()
    instance.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: options.bodyLimit ?? MAX_WEBHOOK_BYTES }, (_request, body, done) => done(null, body))
    instance.post(options.path ?? (options.provider ? "/" : "/:provider"), async (request, reply) => {
      const params = (request.params ?? {}) as Record<string, string | undefined>
      const body = request.body
      // No body at all (no content): hand over empty bytes, which every provider refuses with a 400.
      const rawBody = body === undefined ? new Uint8Array() : body instanceof Uint8Array || typeof body === "string" ? body : new RawBodyMissing("Register fastifyWebhookPlugin directly (not through fastify-plugin), so its raw-body parser is the one that runs.")
      const answer = await handleWebhookRequest(engine, options.provider ?? params.provider, { headers: request.headers, rawBody }, options)
      let r = reply.code(answer.status)
      for (const [k, v] of Object.entries(answer.headers)) r = r.header(k, v)
      return r.send(answer.body)
    })
  }
