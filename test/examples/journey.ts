/**
 * The journey every example app is tested with, over HTTP only: a konbini order, the customer paying
 * at the sandbox (its signed webhook moves the payment), a webhook the test signs itself (refused when
 * tampered, processed once, then a duplicate), refunds, and the error answers.
 */
import { randomBytes } from "node:crypto"
import { expect } from "vitest"
import { signKomojuWebhook } from "../../src/testing/index.js"
import { eventually, freePort, http, startChild, type RunningApp } from "./app.js"

/** Runs the journey against examples/<name>/server.ts. */
export const exampleJourney = async (name: string): Promise<void> => {
  // Fresh secrets per run: the app must take them from its environment, not from a default.
  const secretKey = `sk_test_${randomBytes(6).toString("hex")}`
  const webhookSecret = `whsec_${randomBytes(6).toString("hex")}`
  const port = await freePort()
  const app: RunningApp = await startChild(`examples/${name}/server.ts`, { PORT: String(port), KOMOJU_SECRET_KEY: secretKey, KOMOJU_WEBHOOK_SECRET: webhookSecret }, [/listening on/, /komoju sandbox on http/])
  try {
    const sandbox = /komoju sandbox on (http:\/\/127\.0\.0\.1:\d+)/.exec(app.printed)![1]!
    expect(app.url).toBe(`http://127.0.0.1:${port}`)
    const komojuApi = (path: string) => http("GET", `${sandbox}/api/v1${path}`, undefined, { authorization: `Basic ${Buffer.from(`${secretKey}:`).toString("base64")}` })

    // 1. A konbini order: authorized, waiting for the customer; nothing captured.
    const order = `o-${randomBytes(4).toString("hex")}`
    const created = await http("POST", `${app.url}/orders/${order}/payment`, { amount: 1000, email: "taro@example.com" })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ provider: "komoju", status: "authorized", method: "konbini", externalOrderNum: order, capturedAmount: 0 })
    const id: string = created.body.id
    // The same order again is the same payment (the app's idempotency key).
    expect((await http("POST", `${app.url}/orders/${order}/payment`, { amount: 1000, email: "taro@example.com" })).body.id).toBe(id)

    // 2. The customer pays at the store: the sandbox signs and posts payment.captured to the app.
    expect((await http("POST", `${sandbox}/_sandbox/payments/${created.body.providerRef}/pay`)).status).toBe(200)
    const captured = await eventually(async () => {
      const p = await http("GET", `${app.url}/payments/${id}`)
      return p.body.status === "captured" ? p.body : undefined
    })
    expect(captured.capturedAmount).toBe(captured.amount)
    const deliveries = (await http("GET", `${sandbox}/_sandbox/webhooks`)).body.delivered as { status: number | string }[]
    expect(deliveries.length).toBeGreaterThan(0)
    expect(deliveries.every((d) => d.status === 200)).toBe(true)

    // 3. A second order, paid while the sandbox sends no webhooks; the test delivers KOMOJU's event itself.
    await http("POST", `${sandbox}/_sandbox/webhook-url`, { url: null })
    const second = (await http("POST", `${app.url}/orders/${order}-2/payment`, { amount: 2000, email: "hanako@example.com" })).body
    await http("POST", `${sandbox}/_sandbox/payments/${second.providerRef}/pay`)
    expect((await http("GET", `${app.url}/payments/${second.id}`)).body.status).toBe("authorized")
    const atKomoju = await komojuApi(`/payments/${second.providerRef}`)
    expect(atKomoju.body.status).toBe("captured")
    const event = { id: `evt_${randomBytes(6).toString("hex")}`, type: "payment.captured", resource: "event", data: atKomoju.body, created_at: new Date().toISOString() }
    const signed = signKomojuWebhook(webhookSecret, event)

    const forged = signKomojuWebhook("not-the-secret", event)
    const refused = await http("POST", `${app.url}/webhooks/komoju`, forged.rawBody, forged.headers)
    expect(refused.status).toBe(400)
    expect(refused.body.error).toBe("WEBHOOK_REJECTED")
    expect((await http("GET", `${app.url}/payments/${second.id}`)).body.status).toBe("authorized")

    const delivered = await http("POST", `${app.url}/webhooks/komoju`, signed.rawBody, signed.headers)
    expect(delivered).toEqual({ status: 200, body: { status: "processed", paymentIds: [second.id] } })
    expect((await http("GET", `${app.url}/payments/${second.id}`)).body).toMatchObject({ status: "captured", capturedAmount: second.amount })
    const again = await http("POST", `${app.url}/webhooks/komoju`, signed.rawBody, signed.headers)
    expect(again).toEqual({ status: 200, body: { status: "duplicate", paymentIds: [] } })

    // 4. Refunds: one in part (retried with the same key: refunded once), then one over the rest.
    const refund = await http("POST", `${app.url}/payments/${id}/refunds`, { amount: 300, key: "r1" })
    expect(refund.status).toBe(200)
    const retried = await http("POST", `${app.url}/payments/${id}/refunds`, { amount: 300, key: "r1" })
    expect(retried.body.refunds).toHaveLength(1)
    expect(retried.body.refunds[0]).toMatchObject({ amount: 300, kind: "refund" })
    expect(retried.body.refundedAmount + retried.body.reservedAmount).toBe(300)
    const atKomojuRefunded = await komojuApi(`/payments/${created.body.providerRef}`)
    expect(atKomojuRefunded.body.refunds).toHaveLength(1)
    const over = await http("POST", `${app.url}/payments/${id}/refunds`, { amount: captured.amount, key: "r2" })
    expect(over.status).toBe(409)
    expect(over.body.error).toBe("REFUND_EXCEEDS_REFUNDABLE")

    // 5. The error answers of the webhook route and the app.
    expect((await http("POST", `${app.url}/webhooks/nope`, signed.rawBody, signed.headers)).status).toBe(404)
    expect((await http("GET", `${app.url}/payments/pay_missing`)).status).toBe(404)
  } finally {
    const code = await app.stop()
    expect(code, app.stderr()).toBe(0)
  }
}
