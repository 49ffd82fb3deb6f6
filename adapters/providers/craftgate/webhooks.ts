/**
 * Craftgate webhooks: `{eventType, eventTimestamp, status, payloadId}`, signed with the merchant hook
 * key. The body only says that something happened; the refund (or payment) is fetched by `payloadId`
 * before any state changes, and its `conversationId` names paystate's payment and refund, so a webhook
 * that beats the API answer still lands on the right ledger entry.
 */
import { Effect } from "effect"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import type { PaymentUpdate, WebhookRequest, WebhookResult } from "../../../src/provider.js"
import type { CraftgateClientShape } from "./client.js"
import { isCraftgateRejection } from "./errors.js"
import { ours, paymentState, paystateIdOf, refundReports, transactionReports } from "./reports.js"
import { craftgateWebhookSignature, DEFAULT_WEBHOOK_SIGNATURE_HEADER, sameSignature } from "./signing.js"
import { webhookBody, type CardPayment, type CraftgateWebhook } from "./wire.js"

/** Event types whose payloadId is a payment. */
const PAYMENT_EVENTS = new Set(["API_AUTH", "API_VERIFY_AND_AUTH", "CHECKOUTFORM_AUTH", "THREEDS_VERIFY"])

const header = (headers: WebhookRequest["headers"], name: string): string | undefined => {
  const wanted = name.toLowerCase()
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted) return Array.isArray(v) ? v[0] : (v as string | undefined)
  return undefined
}

const rejected = (message: string, details?: unknown) => Effect.fail(paystateError("WEBHOOK_REJECTED", message, details))

/** Parses and verifies a webhook; fails with WEBHOOK_REJECTED when it is not Craftgate's. */
export const parseWebhook = (request: WebhookRequest, config: { webhookKey?: string; webhookSignatureHeader?: string }): Effect.Effect<CraftgateWebhook, PaystateError> =>
  Effect.gen(function* () {
    const raw = typeof request.rawBody === "string" ? request.rawBody : Buffer.from(request.rawBody).toString("utf8")
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch {
      return yield* rejected("A Craftgate webhook is the JSON {eventType, eventTimestamp, status, payloadId}; the body is not JSON.")
    }
    const body = webhookBody.safeParse(parsed)
    if (!body.success) return yield* rejected("A Craftgate webhook carries eventType, eventTimestamp, status and payloadId.", body.error.issues)
    if (!config.webhookKey) return yield* rejected("No webhookKey is configured for Craftgate: pass the merchant hook key to craftgate({ webhookKey }).")
    const name = config.webhookSignatureHeader ?? DEFAULT_WEBHOOK_SIGNATURE_HEADER
    const given = header(request.headers, name)
    if (!given) return yield* rejected(`The webhook has no ${name} header.`)
    if (!sameSignature(given.trim(), craftgateWebhookSignature(config.webhookKey, body.data))) {
      return yield* rejected(`Bad ${name}: the webhook was not signed with the configured webhookKey.`)
    }
    return body.data
  })

const address = (p: { conversationId?: string | null; id: number }, paymentId?: string): Pick<PaymentUpdate, "paymentId" | "providerRef"> => {
  const id = paymentId ?? paystateIdOf(p)
  return id ? { paymentId: id } : { providerRef: String(p.id) }
}

/**
 * What a verified webhook means, after fetching its object from Craftgate; `state` sums up what was
 * fetched, so a redelivery that finds something new is not taken for a duplicate.
 */
export const translateWebhook = (e: CraftgateWebhook, client: CraftgateClientShape): Effect.Effect<{ updates: PaymentUpdate[]; state: string }, PaystateError> =>
  Effect.gen(function* () {
    if (e.eventType === "REFUND") {
      const r = yield* client.retrieveRefund(e.payloadId)
      const payment: CardPayment = yield* client.retrieveCardPayment(r.paymentId)
      const o = ours(r.conversationId)
      // The CANCEL of a payment never captured voided its pre-authorization: the payment is cancelled.
      const state = [r.status, ...r.paymentTransactionRefunds.map((t) => t.status)].join(",")
      if (r.refundType === "CANCEL" && payment.paymentPhase === "PRE_AUTH") return { state, updates: [{ ...address(payment), events: [{ type: "PROVIDER.SYNC", payment: paymentState(payment) }] }] }
      return { state, updates: [{ ...address(payment, o?.paymentId), events: [{ type: "PROVIDER.SYNC", refunds: refundReports(r, o?.refundId) }] }] }
    }
    if (e.eventType === "REFUND_TX") {
      const t = yield* client.retrieveTransactionRefund(e.payloadId)
      const o = ours(t.conversationId)
      if (!o) return { state: t.status, updates: [{ providerRef: String(t.paymentId), events: [{ type: "PROVIDER.SYNC", refunds: transactionReports([t], undefined) }] }] }
      // The parts of a whole-payment REFUND share one conversationId: they settle one entry together.
      const found = yield* client.searchTransactionRefunds({ conversationId: t.conversationId! })
      const siblings = found.some((s) => s.id === t.id) ? found : [...found, t]
      return { state: siblings.map((x) => `${x.id}=${x.status}`).join(","), updates: [{ paymentId: o.paymentId, events: [{ type: "PROVIDER.SYNC", refunds: transactionReports(siblings, o.refundId) }] }] }
    }
    if (PAYMENT_EVENTS.has(e.eventType)) {
      const p = yield* client.retrieveCardPayment(e.payloadId)
      return { state: `${p.paymentStatus},${p.paymentPhase},${p.refundStatus}`, updates: [{ ...address(p), events: [{ type: "PROVIDER.SYNC", payment: paymentState(p) }] }] }
    }
    return { state: "", updates: [] }
  })

/** The adapter's `webhook`: verify, dedupe by event, fetch, translate. */
export const verifyWebhook = (
  request: WebhookRequest,
  config: { webhookKey?: string; webhookSignatureHeader?: string },
  client: CraftgateClientShape,
): Effect.Effect<WebhookResult, PaystateError> =>
  Effect.gen(function* () {
    const e = yield* parseWebhook(request, config)
    // A payloadId Craftgate does not know (another environment's event) changes nothing.
    const { updates, state } = yield* translateWebhook(e, client).pipe(
      Effect.catchIf(
        (err) => isCraftgateRejection(err, "not_found"),
        () => Effect.succeed({ updates: [] as PaymentUpdate[], state: "unknown" }),
      ),
    )
    // Craftgate sends no delivery id: the event (type, object, time, status) and what fetching it
    // found identify a delivery. A redelivery that finds nothing new is a duplicate; one that finds
    // the refund settled since (or a genuine event after a replayed one) is not.
    return { dedupeKeys: [`${e.eventType}:${e.payloadId}:${e.eventTimestamp}:${e.status}:${state}`], updates }
  })
