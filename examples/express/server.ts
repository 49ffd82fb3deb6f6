/**
 * A small shop on Express: konbini payments through KOMOJU (its local sandbox), refunds, and the
 * webhook route that moves a payment when the customer pays at the store.
 *
 *   PORT=3000 npx tsx server.ts
 *
 * In production drop the sandbox, leave `baseUrl` out, and use a durable store (`pgliteStore` or
 * `postgresStore`): the memory store forgets every payment when the process ends.
 */
import express, { type ErrorRequestHandler } from "express"
import { createEngine, isPaystateError } from "paystate"
import { expressWebhookHandler } from "paystate/http"
import { komoju } from "paystate/providers/komoju"
import { startSandbox } from "paystate/sandbox"
import { memoryStore } from "paystate/stores/memory"

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

const app = express()

// Webhooks first: the route takes the raw bytes (the signature covers them), so express.json()
// must not see it. One route serves every provider the engine has.
app.post("/webhooks/:provider", express.raw({ type: "*/*" }), expressWebhookHandler(engine))

app.use(express.json())

// A konbini payment for an order: the customer pays at the store later, so it starts `authorized`.
app.post("/orders/:orderId/payment", async (req, res) => {
  const payment = await engine.payments.create({
    provider: "komoju",
    amount: Number(req.body.amount),
    currency: "JPY",
    externalOrderNum: req.params.orderId,
    idempotencyKey: `order-${req.params.orderId}`,
    payment_details: { type: "konbini", store: req.body.store ?? "lawson", email: req.body.email },
  })
  res.status(201).json(payment)
})

app.get("/payments/:id", async (req, res) => {
  res.json(await engine.payments.get(req.params.id))
})

// A refund; `key` makes a retried request refund once.
app.post("/payments/:id/refunds", async (req, res) => {
  const payment = await engine.payments.refund({
    paymentId: req.params.id,
    ...(req.body.amount !== undefined ? { amount: Number(req.body.amount) } : {}),
    ...(req.body.key ? { idempotencyKey: String(req.body.key) } : {}),
  })
  res.json(payment)
})

// paystate's error codes to HTTP statuses (Express 5 hands rejected promises here).
const STATUS: Record<string, number> = {
  INVALID_INPUT: 400,
  PAYMENT_NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  REFUND_EXCEEDS_REFUNDABLE: 409,
  PROVIDER_REJECTED: 402,
  PROVIDER_UNAVAILABLE: 503,
}
const onError: ErrorRequestHandler = (error, _req, res, _next) => {
  if (isPaystateError(error)) res.status(STATUS[error.code] ?? 500).json({ error: error.code, message: error.message })
  else res.status(500).json({ error: "INTERNAL" })
}
app.use(onError)

const server = app.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${port}`)
  console.log(`komoju sandbox on ${sandbox.url}`)
})

const stop = async () => {
  server.close()
  await engine.close()
  await sandbox.close()
}
process.once("SIGTERM", stop)
process.once("SIGINT", stop)
