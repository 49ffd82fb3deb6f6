/**
 * OneKey notifications: `{"refund_id": N}` on every refund status change and `{"deposit_id": N}` when
 * a deposit changes. They carry no signature, so nothing in them is trusted: each only names an
 * object, which is then read with the signed client, and only what OneKey answers is applied. That
 * makes duplicates, delays and reordering harmless: every delivery applies the current status.
 *
 * Identity: OneKey's refund answers echo no reference of ours for a refund (`GET /v3/refunds/{id}`
 * gives `deposit_id`, the deposit's `merchant_invoice_id`, `status`, `amount`; D24's refund request
 * has no merchant refund id field, see docs/providers/onekey.md). So a notification's report names
 * the OneKey refund id only (`providerRef`): the ledger applies it to the refund that already has that
 * id, or holds it as an unattributed provider refund until the refund's own POST answer (or its
 * idempotent replay) names the id. It is never paired with a refund by amount.
 */
import { Effect } from "effect"
import { z } from "zod"
import { isPaystateError, paystateError, type PaystateError } from "../../../src/errors.js"
import type { WebhookRequest, WebhookResult } from "../../../src/provider.js"
import { singleHeader } from "../headers.js"
import type { OnekeyClientShape } from "./client.js"
import { unlessNotFound } from "./errors.js"
import { depositState, minorOrUndefined, paymentIdOf, refundReport } from "./reports.js"
import { ONE_WAY_STATUSES } from "./wire.js"

/** The largest notification body read; OneKey's are a few dozen bytes. */
export const MAX_NOTIFICATION_BYTES = 4096

const ID = /^[A-Za-z0-9_-]{1,64}$/
/** A OneKey id as a notification may carry it: a safe positive integer or a short token. */
const idValue = z.union([z.number().int().positive().max(Number.MAX_SAFE_INTEGER), z.string().regex(ID)]).transform(String)

/**
 * The notification body. Other keys are allowed and ignored (a forged `status` is never read); the
 * object named must be well-formed, and a body naming both a refund and a deposit is refused as
 * ambiguous.
 */
const notificationBody = z
  .looseObject({ refund_id: idValue.optional(), deposit_id: idValue.optional() })
  .refine((b) => (b.refund_id === undefined) !== (b.deposit_id === undefined), 'names exactly one object: {"refund_id": N} or {"deposit_id": N}')

const rejected = (why: string): PaystateError =>
  paystateError("WEBHOOK_REJECTED", `A OneKey notification is a small JSON (or form) body naming one object, {"refund_id": N} or {"deposit_id": N}: ${why}.`, { reason: "bad_body" })

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** Reads the object a notification names, or says why it cannot (a typed WEBHOOK_REJECTED). */
export const readNotification = (request: WebhookRequest): { refundId?: string; depositId?: string } => {
  const raw = request?.rawBody
  if (typeof raw !== "string" && !(raw instanceof Uint8Array)) throw rejected("the raw body must be a string or bytes")
  const size = typeof raw === "string" ? Buffer.byteLength(raw, "utf8") : raw.byteLength
  if (size > MAX_NOTIFICATION_BYTES) throw rejected(`the body has ${size} bytes, more than ${MAX_NOTIFICATION_BYTES}`)
  let text: string
  try {
    text = typeof raw === "string" ? raw : utf8.decode(raw)
  } catch {
    throw rejected("the body is not UTF-8")
  }
  const contentType = singleHeader(request.headers, "content-type")?.toLowerCase() ?? ""
  let body: unknown
  if (contentType.includes("application/x-www-form-urlencoded")) body = formBody(text)
  else {
    try {
      body = JSON.parse(text)
    } catch {
      // D24 documents JSON; a form body is read too, for hosts whose framework re-encodes it.
      body = formBody(text)
    }
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw rejected("the body is not an object")
  const parsed = notificationBody.safeParse(body)
  if (!parsed.success) throw rejected(parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "body"} ${i.message}`).join("; "))
  return parsed.data.refund_id !== undefined ? { refundId: parsed.data.refund_id } : { depositId: parsed.data.deposit_id! }
}

/** A form body as a plain object with no prototype; a repeated key is kept as an array (and refused). */
const formBody = (text: string): Record<string, unknown> | undefined => {
  const form = new URLSearchParams(text)
  if (!form.has("refund_id") && !form.has("deposit_id")) return undefined
  const out: Record<string, unknown> = Object.create(null)
  for (const k of new Set(form.keys())) {
    const all = form.getAll(k)
    out[k] = all.length === 1 ? all[0] : all
  }
  return out
}

/** Reads the object a notification names, or undefined for a body that names none. */
export const parseNotification = (rawBody: string | Uint8Array): { refundId?: string; depositId?: string } | undefined => {
  try {
    return readNotification({ headers: {}, rawBody })
  } catch {
    return undefined
  }
}

/** Handles one notification: fetch, then report what OneKey says. */
export const handleNotification = (client: OnekeyClientShape, request: WebhookRequest): Effect.Effect<WebhookResult, PaystateError> =>
  Effect.gen(function* () {
    // Anything readNotification did not refuse itself (a hostile headers object whose traps throw) is
    // still a refused delivery, typed.
    const named = yield* Effect.try({ try: () => readNotification(request), catch: (e) => (isPaystateError(e) ? e : rejected("the request could not be read")) })
    if (named.refundId) {
      // An id OneKey does not know is not ours to act on: a forged or stale notification is ignored.
      // Any other failure of the read fails the delivery, so OneKey sends it again.
      const refund = yield* unlessNotFound(client.getRefund(named.refundId))
      if (!refund) return { dedupeKeys: [], updates: [] }
      const deposit = yield* client.getDeposit(refund.deposit_id)
      // The amount only sizes an unattributed entry (it counts against the ceiling); it never
      // decides which refund this is: the report names the OneKey refund id and nothing else.
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
