/**
 * `paystate/http`: webhook receivers for Express, Fastify, Hono (and any Fetch-API server) and plain
 * node:http. Each hands the raw body to `engine.webhooks.handle` and answers 200 (processed, duplicate,
 * ignored), 400 (refused: bad signature or shape), 404 (unknown provider) or 5xx (not applied: the
 * provider sends it again). No framework is imported: the types are structural.
 */
export { handleWebhookRequest, statusForError, RawBodyMissing, type WebhookEngine, type WebhookHeaders, type WebhookReceiverOptions, type WebhookResponse } from "./core.js"
export { expressWebhookHandler, type ExpressLikeRequest } from "./express.js"
export { fastifyWebhookPlugin, type FastifyWebhookOptions, type FastifyLikeInstance, type FastifyLikeRequest, type FastifyLikeReply } from "./fastify.js"
export { fetchWebhookHandler, honoWebhookHandler, headersToObject, type HonoLikeContext } from "./fetch.js"
export { nodeWebhookHandler, readRawBody, providerFromPath, sendNodeResponse, MAX_WEBHOOK_BYTES } from "./node.js"
