/**
 * OneKey notifications: `{"refund_id": N}` on every refund status change and `{"deposit_id": N}` when
 * a deposit changes. They carry no signature, so nothing in them is trusted: each only names an
 * object, which is then read with the signed client, and only what OneKey answers is applied. That
 * makes duplicates, delays and reordering harmless: every delivery applies the current status.
 */
import { Effect } from "effect"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import type { WebhookRequest, WebhookResult } from "../../../src/provider.js"
import type { OnekeyClientShape } from "./client.js"
import { unlessNotFound } from "./errors.js"
import { depositState, minorOrUndefined, paymentIdOf, refundReport } from "./reports.js"
import { ONE_WAY_STATUSES } from "./wire.js"

const ID = /^[A-Za-z0-9_-]{1,64}$/

/** Reads the object a notification names: JSON (D24 v3) or a form body, nothing else. */
export const parseNotification = (rawBody: string | Uint8Array): { refundId?: string; depositId?: string } | undefined => {
  const raw = typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8")
  let body: Record<string, unknown> | undefined
  try {
    const parsed: unknown = JSON.parse(raw)
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>
  } catch {
    const form = new URLSearchParams(raw)
    if (form.has("refund_id") || form.has("deposit_id")) body = Object.fromEntries(form)
  }
  if (!body) return undefined
  const id = (v: unknown) => ((typeof v === "number" && Number.isSafeInteger(v)) || (typeof v === "string" && ID.test(v)) ? String(v) : undefined)
  const refundId = id(body.refund_id)
  const depositId = id(body.deposit_id)
  return refundId || depositId ? { ...(refundId ? { refundId } : {}), ...(depositId ? { depositId } : {}) } : undefined
}

/** Handles one notification: fetch, then report what OneKey says. */
export const handleNotification = (client: OnekeyClientShape, request: WebhookRequest): Effect.Effect<WebhookResult, PaystateError> =>
  Effect.gen(function* () {
    const named = parseNotification(request.rawBody)
    if (!named) {
      return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", 'A OneKey notification is JSON naming one object: {"refund_id": N} or {"deposit_id": N}.'))
    }
    if (named.refundId) {
      // An id OneKey does not know is not ours to act on: a forged or stale notification is ignored.
      const refund = yield* unlessNotFound(client.getRefund(named.refundId))
      if (!refund) return { dedupeKeys: [], updates: [] }
      const deposit = yield* client.getDeposit(refund.deposit_id)
      // The amount lets a notification that beats the API answer find its in-flight ledger entry.
      const amount = minorOrUndefined(refund.amount, deposit.currency)
      const report = refundReport(named.refundId, refund.status, amount === undefined ? {} : { amount })
      const paymentId = paymentIdOf(deposit.invoice_id ?? refund.merchant_invoice_id)
      return {
        // PENDING and INCORRECT_DETAILS can come back, so only one-way statuses may be deduplicated.
        dedupeKeys: ONE_WAY_STATUSES.includes(refund.status) ? [`refund:${named.refundId}:${refund.status}`] : [],
        updates: [{ ...(paymentId ? { paymentId } : {}), providerRef: String(refund.deposit_id), events: [{ type: "PROVIDER.SYNC", payment: depositState(deposit), refunds: [report] }] }],
      }
    }
    const deposit = yield* unlessNotFound(client.getDeposit(named.depositId!))
    if (!deposit) return { dedupeKeys: [], updates: [] }
    const paymentId = paymentIdOf(deposit.invoice_id)
    // No dedupe key: a deposit notification that arrives before paystate knows the deposit id must
    // stay replayable, and applying the current status twice changes nothing.
    return { dedupeKeys: [], updates: [{ ...(paymentId ? { paymentId } : {}), providerRef: String(deposit.deposit_id), events: [{ type: "PROVIDER.SYNC", payment: depositState(deposit) }] }] }
  })
