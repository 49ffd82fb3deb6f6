/**
 * A small shop on Hono (served by @hono/node-server): konbini payments through KOMOJU (its local
 * sandbox), refunds, and the webhook route that moves a payment when the customer pays at the store.
 *
 *   PORT=3000 npx tsx server.ts
 *
 * In production drop the sandbox, leave `baseUrl` out, and use a durable store (`pgliteStore` or
 * `postgresStore`): the memory store forgets every payment when the process ends.
 */
import { serve } from "@hono/node-server"
import { Hono } from "hono"
import { createEngine, isPaystateError } from "paystate"
import { honoWebhookHandler } from "paystate/http"
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

const app = new Hono()

// The handler reads the body with c.req.arrayBuffer() (the signature covers the exact bytes; never
// c.req.json() here) and hands Hono's Headers over as a plain object.
app.post("/webhooks/:provider", honoWebhookHandler(engine))

// A konbini payment for an order: the customer pays at the store later, so it starts `authorized`.
app.post("/orders/:orderId/payment", async (c) => {
  const body = await c.req.json<{ amount: number; email: string; store?: KomojuPaymentDetailsOf<"konbini">["store"] }>()
  const orderId = c.req.param("orderId")
  const payment = await engine.payments.create({
    provider: "komoju",
    amount: Number(body.amount),
    currency: "JPY",
    externalOrderNum: orderId,
    idempotencyKey: `order-${orderId}`,
    payment_details: { type: "konbini", store: body.store ?? "lawson", email: body.email },
  })
  return c.json(payment, 201)
})

app.get("/payments/:id", async (c) => c.json(await engine.payments.get(c.req.param("id"))))

// A refund; `key` makes a retried request refund once.
app.post("/payments/:id/refunds", async (c) => {
  const body = await c.req.json<{ amount?: number; key?: string }>()
  const payment = await engine.payments.refund({
    paymentId: c.req.param("id"),
    ...(body.amount !== undefined ? { amount: Number(body.amount) } : {}),
    ...(body.key ? { idempotencyKey: String(body.key) } : {}),
  })
  return c.json(payment)
})

// paystate's error codes to HTTP statuses.
const STATUS: Record<string, 400 | 402 | 404 | 409 | 500 | 503> = {
  INVALID_INPUT: 400,
  PAYMENT_NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  REFUND_EXCEEDS_REFUNDABLE: 409,
  PROVIDER_REJECTED: 402,
  PROVIDER_UNAVAILABLE: 503,
}
app.onError((error, c) => {
  if (isPaystateError(error)) return c.json({ error: error.code, message: error.message }, STATUS[error.code] ?? 500)
  return c.json({ error: "INTERNAL" }, 500)
})

const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => {
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
