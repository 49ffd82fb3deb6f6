/**
 * Craftgate webhooks: `{eventType, eventTime?, eventTimestamp, status, payloadId}`, signed with the
 * merchant hook key (`HookAdapter.isWebhookVerified` of the official node client). The body only says
 * that something happened; the refund (or payment) is fetched by `payloadId` before any state
 * changes, and its `conversationId` names paystate's payment and refund, so a webhook that beats the
 * API answer still lands on the right ledger entry — and one without paystate's conversationId lands
 * on no paystate refund at all (reported by Craftgate's id only).
 *
 * Checks, in order, each refusal a WEBHOOK_REJECTED: the body is bytes or a string of at most 64 KiB
 * of JSON; every signed field has its shape (a known event type, digits, SUCCESS or FAILURE, digits),
 * so a genuine signature cannot be re-cut into another event by shifting characters between the
 * fields it covers; one signature header; the HMAC; `eventTimestamp` within `webhookToleranceSeconds`
 * of now, either way. A delivery whose objects cannot be fetched is not acknowledged: the error is
 * PROVIDER_UNAVAILABLE, the host answers 5xx and Craftgate delivers it again.
 */
import { Effect } from "effect"
import { systemClock, type Clock } from "../../../src/clock.js"
import { isPaystateError, paystateError, type PaystateError } from "../../../src/errors.js"
import type { PaymentUpdate, WebhookRequest, WebhookResult } from "../../../src/provider.js"
import { reveal, type Secret } from "../config.js"
import { singleHeader } from "../headers.js"
import type { CraftgateClientShape } from "./client.js"
import { isCraftgateRejection } from "./errors.js"
import { ours, paymentState, paystateIdOf, refundReports, transactionReports } from "./reports.js"
import { craftgateWebhookSignature, DEFAULT_WEBHOOK_SIGNATURE_HEADER, sameSignature } from "./signing.js"
import { webhookBody, type CardPayment, type CraftgateWebhook, type TransactionRefund } from "./wire.js"

/** Event types whose payloadId is a payment. */
const PAYMENT_EVENTS = new Set(["API_AUTH", "API_VERIFY_AND_AUTH", "CHECKOUTFORM_AUTH", "THREEDS_VERIFY"])

/** How far `eventTimestamp` may be from now, either way, unless configured. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300

/** The largest webhook body read; Craftgate's are a few hundred bytes. */
const MAX_BODY_BYTES = 64 * 1024

/** What verifying a webhook needs from the adapter's configuration. */
export interface CraftgateWebhookConfig {
  /** The merchant hook key; a string or effect's `Redacted`. */
  readonly webhookKey?: Secret
  readonly webhookSignatureHeader?: string
  /** Seconds `eventTimestamp` may be from now, either way. Default 300. */
  readonly webhookToleranceSeconds?: number
  /** The clock the freshness window is judged by. Default the system clock. */
  readonly clock?: Clock
}

const rejected = (message: string, details?: unknown) => Effect.fail(paystateError("WEBHOOK_REJECTED", message, details))

/** Parses and verifies a webhook; fails with WEBHOOK_REJECTED when it is not a fresh one of Craftgate's. */
export const parseWebhook = (request: WebhookRequest, config: CraftgateWebhookConfig): Effect.Effect<CraftgateWebhook, PaystateError> =>
  Effect.gen(function* () {
    // A host hands over whatever its framework gives; reading it must not throw past this point.
    let raw: string
    let headers: unknown
    try {
      const rawBody: unknown = (request as Partial<WebhookRequest> | null | undefined)?.rawBody
      headers = (request as Partial<WebhookRequest> | null | undefined)?.headers
      if (typeof rawBody !== "string" && !(rawBody instanceof Uint8Array)) return yield* rejected("Pass the webhook's raw body (a string or bytes): the signature is checked against what Craftgate sent.")
      const size = typeof rawBody === "string" ? Buffer.byteLength(rawBody, "utf8") : rawBody.byteLength
      if (size > MAX_BODY_BYTES) return yield* rejected(`A Craftgate webhook is a few hundred bytes; this body has ${size}.`, { reason: "too_large" })
      raw = typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8")
    } catch {
      return yield* rejected("The webhook request cannot be read: pass { headers, rawBody } as received.", { reason: "bad_request" })
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch {
      return yield* rejected("A Craftgate webhook is the JSON {eventType, eventTimestamp, status, payloadId}; the body is not JSON.", { reason: "not_json" })
    }
    // Each signed field's shape first: the HMAC covers them concatenated without separators.
    const body = webhookBody.safeParse(parsed)
    if (!body.success) {
      return yield* rejected(
        "A Craftgate webhook carries a known eventType, eventTimestamp (epoch seconds, digits), status SUCCESS or FAILURE and payloadId (digits).",
        { reason: "bad_fields", issues: body.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
      )
    }
    if (!config.webhookKey) return yield* rejected("No webhookKey is configured for Craftgate: pass the merchant hook key to craftgate({ webhookKey }).")
    const name = config.webhookSignatureHeader ?? DEFAULT_WEBHOOK_SIGNATURE_HEADER
    const given = yield* Effect.try({
      try: () => singleHeader(headers as WebhookRequest["headers"], name),
      catch: (e) => (isPaystateError(e) ? e : paystateError("WEBHOOK_REJECTED", `The ${name} header cannot be read.`, { reason: "bad_header" })),
    })
    if (!given) return yield* rejected(`The webhook has no ${name} header.`, { reason: "no_signature" })
    if (!sameSignature(given.trim(), craftgateWebhookSignature(reveal(config.webhookKey), body.data))) {
      return yield* rejected(`Bad ${name}: the webhook was not signed with the configured webhookKey.`, { reason: "bad_signature" })
    }
    // A genuine delivery replayed much later (or dated ahead) is refused: Craftgate signs the time.
    const tolerance = config.webhookToleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS
    const now = Math.floor((config.clock ?? systemClock).now().getTime() / 1000)
    const at = Number(body.data.eventTimestamp)
    if (Math.abs(now - at) > tolerance) {
      return yield* rejected(`The webhook's eventTimestamp ${at} is ${at < now ? `${now - at} s old` : `${at - now} s in the future`}; at most ${tolerance} s is accepted (webhookToleranceSeconds).`, {
        reason: at < now ? "stale" : "future",
        eventTimestamp: at,
        now,
        toleranceSeconds: tolerance,
      })
    }
    return body.data
  })

const address = (p: { conversationId?: string | null; id: number }, paymentId?: string): Pick<PaymentUpdate, "paymentId" | "providerRef"> => {
  const id = paymentId ?? paystateIdOf(p)
  return id ? { paymentId: id } : { providerRef: String(p.id) }
}

/**
 * A fetch the delivery depends on failed: the webhook is not acknowledged (PROVIDER_UNAVAILABLE, the
 * host answers 5xx) so that Craftgate delivers it again; a 4xx of a lookup says nothing about the event.
 */
const mustFetch = <A>(what: string) => (e: Effect.Effect<A, PaystateError>): Effect.Effect<A, PaystateError> =>
  e.pipe(
    Effect.mapError((err) =>
      err.code === "PROVIDER_UNAVAILABLE" || err.code === "PROVIDER_AUTH_FAILED" ? err : paystateError("PROVIDER_UNAVAILABLE", `Craftgate's webhook could not be applied: fetching ${what} failed (${err.message}); it is not acknowledged, so Craftgate sends it again.`, { cause: err.details }, true),
    ),
  )

/** A payload Craftgate does not know (404): an authoritative "no such object", so there is nothing to apply. */
const unknownPayload = { updates: [] as PaymentUpdate[], state: "unknown" }

/**
 * The transaction refunds that carry one conversationId: the parts of a whole-payment REFUND settle
 * one ledger entry together. Each is read from the payment API (the reporting search only finds them);
 * the search must already list the refund the webhook is about, else the reporting API lags behind and
 * the delivery is not acknowledged, rather than settling the entry from some of its parts.
 */
const siblingsOf = (t: TransactionRefund, client: CraftgateClientShape): Effect.Effect<TransactionRefund[], PaystateError> =>
  Effect.gen(function* () {
    const found = yield* client.searchTransactionRefunds({ conversationId: t.conversationId! })
    if (!found.some((s) => s.id === t.id)) {
      return yield* Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `Craftgate's refund search does not list transaction refund ${t.id} yet; the webhook is not acknowledged, so Craftgate sends it again.`, { transactionRefundId: t.id }, true))
    }
    return yield* Effect.forEach(found, (s) => (s.id === t.id ? Effect.succeed(t) : client.retrieveTransactionRefund(s.id)), { concurrency: 4 })
  })

/**
 * What a verified webhook means, after fetching its object from Craftgate; `state` sums up what was
 * fetched, so a redelivery that finds something new is not taken for a duplicate.
 */
export const translateWebhook = (e: CraftgateWebhook, client: CraftgateClientShape): Effect.Effect<{ updates: PaymentUpdate[]; state: string }, PaystateError> =>
  Effect.gen(function* () {
    if (e.eventType === "REFUND") {
      const r = yield* client.retrieveRefund(e.payloadId).pipe(Effect.map((x) => x as typeof x | undefined), Effect.catchIf((err) => isCraftgateRejection(err, "not_found"), () => Effect.succeed(undefined)), mustFetch(`refund ${e.payloadId}`))
      if (!r) return unknownPayload
      const payment: CardPayment = yield* client.retrieveCardPayment(r.paymentId).pipe(mustFetch(`payment ${r.paymentId}`))
      const o = ours(r.conversationId)
      const state = [r.status, ...r.paymentTransactionRefunds.map((t) => t.status)].join(",")
      // The CANCEL of a payment never captured voided its pre-authorization: the payment is cancelled.
      if (r.refundType === "CANCEL" && payment.paymentPhase === "PRE_AUTH") {
        return { state, updates: [{ ...address(payment), events: [{ type: "PROVIDER.SYNC", payment: paymentState(payment, { voided: r.status === "SUCCESS" }) }] }] }
      }
      // paystate's refund only when the echoed conversationId is of this very payment.
      const refundId = o && o.paymentId === (paystateIdOf(payment) ?? o.paymentId) ? o.refundId : undefined
      return { state, updates: [{ ...address(payment, refundId ? o!.paymentId : undefined), events: [{ type: "PROVIDER.SYNC", refunds: refundReports(r, refundId) }] }] }
    }
    if (e.eventType === "REFUND_TX") {
      const t = yield* client.retrieveTransactionRefund(e.payloadId).pipe(Effect.map((x) => x as typeof x | undefined), Effect.catchIf((err) => isCraftgateRejection(err, "not_found"), () => Effect.succeed(undefined)), mustFetch(`transaction refund ${e.payloadId}`))
      if (!t) return unknownPayload
      const o = ours(t.conversationId)
      // Not paystate's conversationId: Craftgate's id alone names it (unattributed, then external).
      if (!o) return { state: t.status, updates: [{ providerRef: String(t.paymentId), events: [{ type: "PROVIDER.SYNC", refunds: transactionReports([t], undefined) }] }] }
      const siblings = yield* siblingsOf(t, client).pipe(mustFetch(`the transaction refunds of ${t.conversationId}`))
      return { state: siblings.map((x) => `${x.id}=${x.status}`).join(","), updates: [{ paymentId: o.paymentId, events: [{ type: "PROVIDER.SYNC", refunds: transactionReports(siblings, o.refundId) }] }] }
    }
    if (PAYMENT_EVENTS.has(e.eventType)) {
      const p = yield* client.retrieveCardPayment(e.payloadId).pipe(Effect.map((x) => x as typeof x | undefined), Effect.catchIf((err) => isCraftgateRejection(err, "not_found"), () => Effect.succeed(undefined)), mustFetch(`payment ${e.payloadId}`))
      if (!p) return unknownPayload
      return { state: `${p.paymentStatus},${p.paymentPhase}`, updates: [{ ...address(p), events: [{ type: "PROVIDER.SYNC", payment: paymentState(p) }] }] }
    }
    return { state: "", updates: [] }
  })

/** The adapter's `webhook`: verify, fetch, translate; dedupe by the event and what fetching it found. */
export const verifyWebhook = (request: WebhookRequest, config: CraftgateWebhookConfig, client: CraftgateClientShape): Effect.Effect<WebhookResult, PaystateError> =>
  Effect.gen(function* () {
    const e = yield* parseWebhook(request, config)
    const { updates, state } = yield* translateWebhook(e, client)
    // Craftgate sends no delivery id: the event (type, object, time, status) and what fetching it
    // found identify a delivery. A redelivery that finds nothing new is a duplicate; one that finds
    // the refund settled since (or a genuine event after a replayed one) is not.
    return { dedupeKeys: [`${e.eventType}:${e.payloadId}:${e.eventTimestamp}:${e.status}:${state}`], updates }
  })
