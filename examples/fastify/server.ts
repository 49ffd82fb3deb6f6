/**
 * A small shop on Fastify: konbini payments through KOMOJU (its local sandbox), refunds, and the
 * webhook routes that move a payment when the customer pays at the store.
 *
 *   PORT=3000 npx tsx server.ts
 *
 * In production drop the sandbox, leave `baseUrl` out, and use a durable store (`pgliteStore` or
 * `postgresStore`): the memory store forgets every payment when the process ends.
 */
import Fastify from "fastify"
import { createEngine, isPaystateError } from "paystate"
import { fastifyWebhookPlugin } from "paystate/http"
import { komoju } from "paystate/providers/komoju"
import { startSandbox } from "paystate/sandbox"
import { memoryStore } from "paystate/stores/memory"
import type { KomojuPaymentDetailsOf } from "paystate/providers/komoju"

const port = Number(process.env.PORT ?? 3000)
// The same two secrets configure the sandbox and the adapter, as they would KOMOJU and the adapter.
const secretKey = process.env.KOMOJU_SECRET_KEY ?? "sk_example"
const webhookSecret = process.env.KOMOJU_WEBHOOK_SECRET ?? "whsec_example"

// KOMOJU's sandbox on 127.0.0.1, sending its signed webhooks to this app's webhook route.
const sandbox = await startSandbox("komoju", { webhookUrl: `http://127.0.0.1:${port}/webhooks/komoju`, secretKey, webhookSecret })

const engine = createEngine({
  store: memoryStore(),
  providers: { komoju: komoju({ baseUrl: `${sandbox.url}/api/v1`, secretKey, webhookSecret }) },
})

const app = Fastify()

// POST /webhooks/:provider. The plugin swaps Fastify's JSON parser for a raw-Buffer one inside its
// own scope (the signature covers the exact bytes); the routes below still get parsed JSON.
await app.register(fastifyWebhookPlugin(engine), { prefix: "/webhooks" })

interface PaymentBody {
  readonly amount: number
  readonly email: string
  readonly store?: KomojuPaymentDetailsOf<"konbini">["store"]
}

// A konbini payment for an order: the customer pays at the store later, so it starts `authorized`.
app.post<{ Params: { orderId: string }; Body: PaymentBody }>("/orders/:orderId/payment", async (request, reply) => {
  const payment = await engine.payments.create({
    provider: "komoju",
    amount: Number(request.body.amount),
    currency: "JPY",
    externalOrderNum: request.params.orderId,
    idempotencyKey: `order-${request.params.orderId}`,
    payment_details: { type: "konbini", store: request.body.store ?? "lawson", email: request.body.email },
  })
  return reply.code(201).send(payment)
})

app.get<{ Params: { id: string } }>("/payments/:id", async (request) => engine.payments.get(request.params.id))

// A refund; `key` makes a retried request refund once.
app.post<{ Params: { id: string }; Body: { amount?: number; key?: string } }>("/payments/:id/refunds", async (request) =>
  engine.payments.refund({
    paymentId: request.params.id,
    ...(request.body.amount !== undefined ? { amount: Number(request.body.amount) } : {}),
    ...(request.body.key ? { idempotencyKey: String(request.body.key) } : {}),
  }),
)

// paystate's error codes to HTTP statuses.
const STATUS: Record<string, number> = {
  INVALID_INPUT: 400,
  PAYMENT_NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  REFUND_EXCEEDS_REFUNDABLE: 409,
  PROVIDER_REJECTED: 402,
  PROVIDER_UNAVAILABLE: 503,
}
app.setErrorHandler((error, _request, reply) => {
  if (isPaystateError(error)) return reply.code(STATUS[error.code] ?? 500).send({ error: error.code, message: error.message })
  return reply.code(500).send({ error: "INTERNAL" })
})

await app.listen({ port, host: "127.0.0.1" })
console.log(`listening on http://127.0.0.1:${port}`)
console.log(`komoju sandbox on ${sandbox.url}`)

const stop = async () => {
  await app.close()
  await engine.close()
  await sandbox.close()
}
process.once("SIGTERM", stop)
process.once("SIGINT", stop)
