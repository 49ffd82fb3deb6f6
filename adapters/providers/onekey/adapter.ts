/**
 * The OneKey adapter: turns the machine's effects into signed Directa24 v3 calls and the answers back
 * into machine events. A deposit is the payment: `create` posts it, the customer pays it (a
 * notification or `payments.sync` reports COMPLETED), and refunds go over it.
 */
import { Effect } from "effect"
import { z } from "zod"
import type { MachineContext } from "../../../machines/lifecycle/index.js"
import { createOnekeyMachine, isCardMethod, onekeyMachine, type OnekeyPolicyOptions } from "../../../machines/onekey/index.js"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import { exponentOf, isKnownCurrency, toMajorNumber } from "../../../src/money.js"
import type { OutboxEffect, OutcomeEvents, ProviderAdapter, ProviderCreate } from "../../../src/provider.js"
import { make, type OnekeyClientShape, type OnekeyConfig, type OnekeyDepositBody, type OnekeyRefundBody } from "./client.js"
import { unlessNotFound } from "./errors.js"
import { handleNotification } from "./notifications.js"
import { createdRefundReport, depositState, minorOrUndefined, refundReport } from "./reports.js"
import { bankAccount, type OnekeyBankAccount } from "./wire.js"

/** Adapter configuration: the client's, the policy's, and where OneKey sends notifications. */
export interface OnekeyAdapterConfig extends OnekeyConfig, OnekeyPolicyOptions {
  /** HTTPS URL of the host's notification route; sent with every deposit and refund. */
  readonly notificationUrl?: string
}

const payer = z.looseObject({
  document: z.string().max(30).optional(),
  email: z.email(),
  first_name: z.string().min(1).max(100),
  last_name: z.string().min(1).max(100),
})

const createSchema = z
  .looseObject({
    amount: z.number().int().positive("a deposit amount must be positive"),
    currency: z
      .string()
      .refine((c) => isKnownCurrency(c) && exponentOf(c) <= 2, "OneKey amounts have at most 2 decimals: use a currency with 0 or 2 (MXN, BRL, CLP, COP, USD…)"),
    country: z.string().regex(/^[A-Z]{2}$/, "country is an ISO 3166 alpha-2 code, e.g. MX"),
    payment_method: z.string().regex(/^[A-Za-z0-9]{1,4}$/, "payment_method is a OneKey method code, e.g. OX (OXXO), SE (SPEI), VI (Visa)"),
    invoice_id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "invoice_id has letters, digits, '-' and '_' only").optional(),
    payer,
  })
  .transform((v): ProviderCreate => {
    const method = v.payment_method.toUpperCase()
    return {
      amount: v.amount,
      method,
      request: { country: v.country, payment_method: method, payer: v.payer as never, ...(v.invoice_id ? { invoice_id: v.invoice_id } : {}) },
      details: { country: v.country, card: isCardMethod(method) },
    }
  })

const refundSchema = z.strictObject({
  bank_account: bankAccount.optional(),
  comments: z.string().max(200).optional(),
  notification_url: z.url({ protocol: /^https$/, error: "notification_url must be an HTTPS URL" }).optional(),
})

/** The invoice id the deposit was created with: the host's, or paystate's payment id (echoed back by OneKey). */
const invoiceOf = (ctx: MachineContext): string => String(ctx.request.invoice_id ?? ctx.id)

/** Builds the OneKey adapter. */
export const onekey = (config: OnekeyAdapterConfig): ProviderAdapter => {
  const client: OnekeyClientShape = make(config)
  const machine = config.cardPartialRefunds || config.refundPollDelaysMs ? createOnekeyMachine(config) : onekeyMachine

  const depositBody = (ctx: MachineContext): OnekeyDepositBody => ({
    invoice_id: invoiceOf(ctx),
    amount: toMajorNumber(ctx.amount, ctx.currency),
    country: String(ctx.request.country),
    currency: ctx.currency,
    payment_method: String(ctx.request.payment_method),
    payer: ctx.request.payer as unknown as OnekeyDepositBody["payer"],
    ...(config.notificationUrl ? { notification_url: config.notificationUrl } : {}),
  })

  const refundBody = (effect: OutboxEffect, ctx: MachineContext): OnekeyRefundBody => {
    const p = effect.payload as { amount: number; bank_account?: OnekeyBankAccount; comments?: string; notification_url?: string }
    const url = p.notification_url ?? config.notificationUrl
    return {
      deposit_id: Number(ctx.providerRef),
      invoice_id: invoiceOf(ctx),
      // Always explicit: an omitted amount means the whole deposit, whatever was refunded before.
      amount: toMajorNumber(p.amount, ctx.currency),
      ...(p.bank_account ? { bank_account: p.bank_account } : {}),
      ...(p.comments ? { comments: p.comments } : {}),
      ...(url ? { notification_url: url } : {}),
    }
  }

  const created = (effect: OutboxEffect, ctx: MachineContext) =>
    client.createDeposit(depositBody(ctx), effect.idempotencyKey).pipe(
      Effect.map((d): OutcomeEvents => [
        {
          type: "OP.SUCCEEDED",
          opId: effect.opId,
          payment: {
            status: "pending",
            providerRef: String(d.deposit_id),
            details: {
              deposit_id: Number(d.deposit_id),
              invoice_id: invoiceOf(ctx),
              checkout_type: d.checkout_type ?? null,
              redirect_url: d.redirect_url ?? null,
              expiration_date: d.payment_info?.expiration_date ?? null,
            },
          },
        },
      ]),
    )

  const refunded = (effect: OutboxEffect, ctx: MachineContext) =>
    client.createRefund(refundBody(effect, ctx), effect.idempotencyKey).pipe(
      Effect.map((r): OutcomeEvents => [{ type: "OP.SUCCEEDED", opId: effect.opId, refunds: [createdRefundReport(effect.opId, r)] }]),
    )

  /** Reads one refund and reports it for the given ledger entry. */
  const refundStatus = (opId: string, entryId: string, providerRef: string, ctx: MachineContext) =>
    client.getRefund(providerRef).pipe(
      Effect.map((r): OutcomeEvents => {
        const amount = minorOrUndefined(r.amount, ctx.currency)
        return [{ type: "OP.SUCCEEDED", opId, refunds: [refundReport(providerRef, r.status, { refundId: entryId, ...(amount !== undefined ? { amount } : {}) })] }]
      }),
    )

  const execute = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> => {
    switch (effect.op) {
      case "create":
        return created(effect, ctx)
      case "refund":
        return refunded(effect, ctx)
      case "refund.status": {
        const ref = effect.payload.providerRef
        // Still no OneKey id: the refund's own outbox entry is being reconciled; nothing to read yet.
        if (!ref) return Effect.succeed([{ type: "OP.SUCCEEDED", opId: effect.opId }])
        return refundStatus(effect.opId, String(effect.payload.refundId), String(ref), ctx)
      }
      default:
        return Effect.fail(paystateError("PROVIDER_REJECTED", `OneKey deposits have no "${effect.op}" operation: a deposit is captured by the customer paying it, and only refunds go over it.`, { code: null, op: effect.op }))
    }
  }

  /**
   * An effect whose answer was lost. A refund a notification already tied to a OneKey id is read;
   * otherwise the POST is replayed with the same X-Idempotency-Key, which OneKey answers with the
   * first outcome and no second refund (OneKey has no list of a deposit's refunds to search).
   */
  const reconcile = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents | undefined, PaystateError> => {
    if (effect.op === "refund") {
      const ref = ctx.refunds.find((r) => r.id === effect.opId)?.providerRef
      return ref ? refundStatus(effect.opId, effect.opId, ref, ctx) : refunded(effect, ctx)
    }
    if (effect.op === "create" && ctx.providerRef) {
      return client.getDeposit(ctx.providerRef).pipe(Effect.map((d): OutcomeEvents => [{ type: "OP.SUCCEEDED", opId: effect.opId, payment: depositState(d) }]))
    }
    return execute(effect, ctx)
  }

  /** The deposit and every refund that may still change, as OneKey has them now. */
  const fetch = (ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    Effect.gen(function* () {
      if (!ctx.providerRef) return []
      const deposit = yield* client.getDeposit(ctx.providerRef)
      const refunds = []
      for (const entry of ctx.refunds) {
        // failed and reversed are final; a succeeded one may still be reversed by the bank.
        if (!entry.providerRef || entry.status === "failed" || entry.status === "reversed") continue
        const r = yield* unlessNotFound(client.getRefund(entry.providerRef))
        if (r) refunds.push(refundReport(entry.providerRef, r.status, { refundId: entry.id }))
      }
      return [{ type: "PROVIDER.SYNC" as const, payment: depositState(deposit), refunds }]
    })

  return {
    name: "onekey",
    machine,
    createSchema: createSchema as unknown as z.ZodType<ProviderCreate>,
    refundSchema: refundSchema as never,
    execute,
    reconcile,
    webhook: (request) => handleNotification(client, request),
    fetch,
  }
}
