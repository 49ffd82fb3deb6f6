/**
 * The OneKey adapter: turns the machine's effects into signed Directa24 v3 calls and the answers back
 * into machine events. Notifications carry no signature, so they are never trusted: each one only
 * names a refund or deposit, whose status is then fetched with the signed client.
 */
import { Effect } from "effect"
import { z } from "zod"
import type { MachineContext, ProviderRefundState } from "../../../machines/lifecycle/index.js"
import { onekeyMachine } from "../../../machines/onekey/index.js"
import { paystateError } from "../../../src/errors.js"
import { toMajorString, toMinor } from "../../../src/money.js"
import type { OutboxEffect, OutcomeEvents, ProviderAdapter, ProviderCreate } from "../../../src/provider.js"
import { make, type OnekeyConfig } from "./client.js"
import { bankAccount, isCardMethod, ledgerStatus, paymentStatusOf, refundResponse, type OnekeyRefundStatus } from "./wire.js"
import type { z as Z } from "zod"

/** Adapter configuration: the client's, plus where OneKey should send refund notifications. */
export interface OnekeyAdapterConfig extends OnekeyConfig {
  /** HTTPS URL of the host's notification route; sent with each deposit and refund. */
  readonly notificationUrl?: string
}

const createSchema = z
  .looseObject({
    amount: z.number().int().positive(),
    currency: z.string(),
    country: z.string().regex(/^[A-Z]{2}$/, "country is an ISO 3166 alpha-2 code, e.g. MX"),
    payment_method: z.string().min(1).max(4),
    invoice_id: z.string().min(1).max(100).optional(),
    payer: z.looseObject({ document: z.string().optional(), email: z.email(), first_name: z.string().min(1), last_name: z.string().min(1) }),
  })
  .transform(
    (v): ProviderCreate => ({
      amount: v.amount,
      method: v.payment_method.toUpperCase(),
      request: { country: v.country, payment_method: v.payment_method.toUpperCase(), payer: v.payer as never, ...(v.invoice_id ? { invoice_id: v.invoice_id } : {}) },
      details: { country: v.country, card: isCardMethod(v.payment_method) },
    }),
  )

const refundSchema = z.strictObject({
  bank_account: bankAccount.optional(),
  comments: z.string().max(200).optional(),
  notification_url: z.url({ protocol: /^https$/ }).optional(),
})

/** Refund states as the ledger reads them. */
const refundReport = (refundId: string | undefined, providerRef: string, status: OnekeyRefundStatus | "SUCCESS" | "IN_PROGRESS", extra: Partial<ProviderRefundState> = {}): ProviderRefundState => ({
  ...(refundId ? { refundId } : {}),
  providerRef,
  status: ledgerStatus(status),
  providerStatus: status,
  ...extra,
})

/** Builds the OneKey adapter. */
export const onekey = (config: OnekeyAdapterConfig): ProviderAdapter => {
  const client = make(config)

  const invoiceOf = (ctx: MachineContext) => String(ctx.request.invoice_id ?? ctx.id)

  const refundOutcome = (effect: OutboxEffect, r: Z.infer<typeof refundResponse>): OutcomeEvents => {
    const ref = String(r.refund_id)
    const info = r.refund_info
    const report = info
      ? refundReport(effect.opId, ref, info.result, {
          reason: info.result === "REJECTED" ? `${info.reason_code ?? ""}: ${info.reason ?? ""}`.replace(/^: /, "") : null,
          details: { reason_code: info.reason_code === undefined ? null : String(info.reason_code), refund_type: info.type ?? null },
        })
      : refundReport(effect.opId, ref, "PENDING")
    return [{ type: "OP.SUCCEEDED", opId: effect.opId, refunds: [report] }]
  }

  const execute = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, ReturnType<typeof paystateError>> => {
    switch (effect.op) {
      case "create": {
        const body = {
          invoice_id: invoiceOf(ctx),
          amount: Number(toMajorString(ctx.amount, ctx.currency)),
          country: ctx.request.country,
          currency: ctx.currency,
          payment_method: ctx.request.payment_method,
          payer: ctx.request.payer,
          ...(config.notificationUrl ? { notification_url: config.notificationUrl } : {}),
        }
        return client.createDeposit(body, effect.idempotencyKey).pipe(
          Effect.map((d): OutcomeEvents => [
            { type: "OP.SUCCEEDED", opId: effect.opId, payment: { status: "pending", providerRef: String(d.deposit_id), details: { deposit_id: d.deposit_id, redirect_url: d.redirect_url ?? null, checkout_type: d.checkout_type ?? null, invoice_id: body.invoice_id } } },
          ]),
        )
      }
      case "refund": {
        const p = effect.payload as { amount: number; bank_account?: unknown; comments?: string; notification_url?: string }
        const body = {
          deposit_id: Number(ctx.providerRef),
          invoice_id: invoiceOf(ctx),
          // Always explicit: an omitted amount means the whole deposit, whatever was refunded before.
          amount: Number(toMajorString(p.amount, ctx.currency)),
          ...(p.bank_account ? { bank_account: p.bank_account } : {}),
          ...(p.comments ? { comments: p.comments } : {}),
          ...((p.notification_url ?? config.notificationUrl) ? { notification_url: p.notification_url ?? config.notificationUrl } : {}),
        }
        return client.createRefund(body, effect.idempotencyKey).pipe(Effect.map((r) => refundOutcome(effect, r)))
      }
      case "refund.status": {
        const ref = effect.payload.providerRef
        if (!ref) return Effect.succeed([{ type: "OP.SUCCEEDED", opId: effect.opId }])
        return client.getRefund(String(ref)).pipe(
          Effect.map((r): OutcomeEvents => [{ type: "OP.SUCCEEDED", opId: effect.opId, refunds: [refundReport(String(effect.payload.refundId), String(ref), r.status)] }]),
        )
      }
      default:
        return Effect.fail(paystateError("PROVIDER_REJECTED", `OneKey has no ${effect.op} operation.`, { code: "unsupported" }))
    }
  }

  /** Fetches a refund named by a notification and says what it means for the ledger. */
  const refundUpdate = (refundId: string) =>
    client.getRefund(refundId).pipe(
      Effect.map((r) => ({
        dedupeKeys: [`refund:${refundId}:${r.status}`],
        updates: [{ providerRef: String(r.deposit_id), events: [{ type: "PROVIDER.SYNC" as const, refunds: [refundReport(undefined, refundId, r.status)] }] }],
      })),
    )

  const depositEvents = (depositId: string, refunds: readonly { id: string; ref: string | null | undefined }[]) =>
    Effect.gen(function* () {
      const d = yield* client.getDeposit(depositId)
      const status = paymentStatusOf(d.status)
      const amount = toMinor(d.local_amount, d.currency)
      const reports: ProviderRefundState[] = []
      for (const r of refunds) {
        if (!r.ref) continue
        const s = yield* client.getRefund(r.ref)
        reports.push(refundReport(r.id, r.ref, s.status))
      }
      return [
        {
          type: "PROVIDER.SYNC" as const,
          payment: { status, providerRef: String(d.deposit_id), ...(status === "captured" ? { capturedAmount: amount } : {}), details: { deposit_status: d.status } },
          refunds: reports,
        },
      ]
    })

  return {
    name: "onekey",
    machine: onekeyMachine,
    createSchema: createSchema as never,
    refundSchema: refundSchema as never,
    execute,
    // The X-Idempotency-Key replay is OneKey's lookup for a POST whose answer was lost: it returns
    // the first answer without a second refund. Status reads are safe to repeat.
    reconcile: (effect, ctx) => execute(effect, ctx),
    webhook: (request) =>
      Effect.gen(function* () {
        const raw = typeof request.rawBody === "string" ? request.rawBody : Buffer.from(request.rawBody).toString("utf8")
        let body: { refund_id?: unknown; deposit_id?: unknown }
        try {
          body = JSON.parse(raw)
        } catch {
          return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", "A OneKey notification is JSON: {\"refund_id\": N} or {\"deposit_id\": N}."))
        }
        if (body.refund_id !== undefined && body.refund_id !== null) return yield* refundUpdate(String(body.refund_id))
        if (body.deposit_id !== undefined && body.deposit_id !== null) {
          const id = String(body.deposit_id)
          const events = yield* depositEvents(id, [])
          return { dedupeKeys: [`deposit:${id}:${events[0]!.payment.details.deposit_status}`], updates: [{ providerRef: id, events }] }
        }
        return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", "A OneKey notification names a refund_id or a deposit_id."))
      }),
    fetch: (ctx) => (ctx.providerRef ? depositEvents(ctx.providerRef, ctx.refunds.map((r) => ({ id: r.id, ref: r.providerRef }))) : Effect.succeed([])),
  }
}
