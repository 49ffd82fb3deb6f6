/**
 * The Craftgate adapter. Every refund carries the effect's idempotency key as its `conversationId`:
 * Craftgate has no idempotency header, so that id is how an attempt whose answer was lost is found
 * again (search by conversationId) before anything is sent twice, and how a webhook names its refund.
 */
import { Effect } from "effect"
import { z } from "zod"
import { createCraftgateMachine, type DayRule } from "../../../machines/craftgate/index.js"
import type { MachineContext, ProviderRefundState, RefundStatus } from "../../../machines/lifecycle/index.js"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import { toMajorNumber, toMinor } from "../../../src/money.js"
import type { OutboxEffect, OutcomeEvents, PaymentUpdate, ProviderAdapter, ProviderCreate } from "../../../src/provider.js"
import { make, type CraftgateConfig } from "./client.js"
import { sameSignature, signCraftgateWebhook } from "./signing.js"
import { ledgerStatus, refundDestinationType, webhookBody, type cardPayment, type paymentRefund, type transactionRefund } from "./wire.js"

/** Adapter configuration. */
export interface CraftgateAdapterConfig extends CraftgateConfig, DayRule {
  /** The merchant hook key that signs webhooks. */
  readonly webhookKey?: string
}

type CardPayment = z.infer<typeof cardPayment>
type PaymentRefund = z.infer<typeof paymentRefund>
type TxRefund = z.infer<typeof transactionRefund>

const card = z.union([
  z.strictObject({ cardHolderName: z.string().min(1), cardNumber: z.string().regex(/^\d{12,19}$/), expireYear: z.string(), expireMonth: z.string(), cvc: z.string().regex(/^\d{3,4}$/) }),
  z.strictObject({ cardUserKey: z.string().min(1), cardToken: z.string().min(1) }),
])

const createSchema = z
  .looseObject({
    amount: z.number().int().positive(),
    currency: z.string(),
    price: z.number().int().positive().optional(),
    installment: z.number().int().positive().default(1),
    paymentGroup: z.string().default("PRODUCT"),
    paymentPhase: z.enum(["AUTH", "PRE_AUTH"]).default("AUTH"),
    card,
    items: z.array(z.strictObject({ name: z.string().optional(), price: z.number().int().positive(), externalId: z.string().optional() })).min(1),
  })
  .superRefine((v, ctx) => {
    const sum = v.items.reduce((s, i) => s + i.price, 0)
    if (sum !== (v.price ?? sum)) ctx.addIssue({ code: "custom", path: ["items"], message: "the item prices must add up to price" })
    if (v.amount < (v.price ?? sum)) ctx.addIssue({ code: "custom", path: ["amount"], message: "amount (the paid price) cannot be lower than the price of the items" })
  })
  .transform(
    (v): ProviderCreate => ({
      amount: v.amount,
      method: "card",
      request: { price: v.price ?? v.items.reduce((s, i) => s + i.price, 0), installment: v.installment, paymentGroup: v.paymentGroup, paymentPhase: v.paymentPhase, card: v.card as never, items: v.items as never },
      details: { paymentPhase: v.paymentPhase },
    }),
  )

const refundSchema = z.strictObject({
  paymentTransactionId: z.union([z.string().min(1), z.number().int().positive()]).optional(),
  refundDestinationType: refundDestinationType.optional(),
  chargeFromMe: z.boolean().optional(),
})

/** paystate's keys are `ps-<paymentId>-<opId>`; a conversationId of that shape names our refund. */
const ours = (conversationId: string | null | undefined): { paymentId: string; refundId: string } | undefined => {
  const m = /^ps-(pay_[A-Za-z0-9_-]{22})-(.+)$/.exec(conversationId ?? "")
  return m ? { paymentId: m[1]!, refundId: m[2]! } : undefined
}

/** One status for a REFUND made of several transaction refunds. */
const aggregate = (statuses: readonly string[]): RefundStatus =>
  statuses.some((s) => s === "WAITING") ? "pending" : statuses.every((s) => s === "SUCCESS") ? "succeeded" : statuses.every((s) => s === "FAILURE") ? "failed" : "pending"

/** Builds the Craftgate adapter. */
export const craftgate = (config: CraftgateAdapterConfig): ProviderAdapter => {
  const client = make(config)
  const machine = createCraftgateMachine({ timeZone: config.timeZone, cutoff: config.cutoff })
  const minor = (v: number | string, currency: string) => toMinor(v, currency)

  const paymentState = (p: CardPayment) => {
    const captured = p.paymentStatus === "SUCCESS" && p.paymentPhase !== "PRE_AUTH"
    return {
      status: p.paymentStatus === "SUCCESS" ? (captured ? ("captured" as const) : ("authorized" as const)) : p.paymentStatus === "FAILURE" ? ("failed" as const) : ("pending" as const),
      providerRef: String(p.id),
      ...(captured ? { capturedAmount: minor(p.paidPrice, p.currency) } : {}),
      details: {
        paymentPhase: p.paymentPhase ?? null,
        createdDate: p.createdDate ?? null,
        lastFourDigits: p.lastFourDigits ?? null,
        transactions: p.paymentTransactions.map((t) => ({ id: String(t.id), name: t.name ?? null, paidPrice: minor(t.paidPrice, p.currency) })),
      },
    }
  }

  const fromRefund = (r: PaymentRefund, refundId?: string): ProviderRefundState => {
    const base = { ...(refundId ? { refundId } : {}), amount: minor(r.refundPrice, r.currency) }
    if (r.refundType === "CANCEL") {
      return { ...base, kind: "cancel", providerRef: `cancel:${r.id}`, status: ledgerStatus(r.status), providerStatus: r.status, details: { refundType: "CANCEL", craftgateRefundId: r.id ?? null } }
    }
    const txs = r.paymentTransactionRefunds
    return {
      ...base,
      kind: "refund",
      providerRef: `refund:${txs.map((t) => t.id).join(",")}`,
      status: aggregate(txs.map((t) => t.status)),
      providerStatus: txs.every((t) => t.status === txs[0]?.status) ? txs[0]?.status ?? r.status : "MIXED",
      details: { refundType: "REFUND", transactionRefunds: txs.map((t) => ({ id: t.id, paymentTransactionId: t.paymentTransactionId, status: t.status, amount: minor(t.refundPrice, t.currency) })) },
    }
  }

  const fromTxRefund = (t: TxRefund, refundId?: string): ProviderRefundState => ({
    ...(refundId ? { refundId } : {}),
    kind: "refund_tx",
    providerRef: `tx:${t.id}`,
    amount: minor(t.refundPrice, t.currency),
    status: ledgerStatus(t.status),
    providerStatus: t.status,
    details: { transactionRefundId: t.id },
  })

  /** A REFUND's transaction refunds all carry its conversationId: read them together. */
  const siblings = (conversationId: string, refundId?: string) =>
    client.searchTransactionRefunds({ conversationId }).pipe(
      Effect.map((txs): ProviderRefundState | undefined =>
        txs.length === 0
          ? undefined
          : {
              ...(refundId ? { refundId } : {}),
              kind: "refund",
              amount: txs.reduce((s, t) => s + minor(t.refundPrice, t.currency), 0),
              providerRef: `refund:${txs.map((t) => t.id).join(",")}`,
              status: aggregate(txs.map((t) => t.status)),
              providerStatus: txs.every((t) => t.status === txs[0]!.status) ? txs[0]!.status : "MIXED",
              details: { refundType: "REFUND", transactionRefunds: txs.map((t) => ({ id: t.id, paymentTransactionId: t.paymentTransactionId, status: t.status, amount: minor(t.refundPrice, t.currency) })) },
            },
      ),
    )

  const done = (effect: OutboxEffect, refunds: ProviderRefundState[]): OutcomeEvents => [{ type: "OP.SUCCEEDED", opId: effect.opId, refunds }]

  const execute = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> => {
    const major = (n: number) => toMajorNumber(n, ctx.currency)
    const pass = (p: Record<string, unknown>) => ({
      ...(p.refundDestinationType ? { refundDestinationType: p.refundDestinationType } : {}),
      ...(p.chargeFromMe !== undefined ? { chargeFromMe: p.chargeFromMe } : {}),
    })
    switch (effect.op) {
      case "create": {
        const r = ctx.request as { price: number; installment: number; paymentGroup: string; paymentPhase: string; card: unknown; items: { name?: string; price: number; externalId?: string }[] }
        return client
          .createCardPayment({
            price: major(r.price),
            paidPrice: major(ctx.amount),
            walletPrice: 0,
            installment: r.installment,
            currency: ctx.currency,
            paymentGroup: r.paymentGroup,
            paymentPhase: r.paymentPhase,
            conversationId: ctx.id,
            externalId: ctx.id,
            card: r.card,
            items: r.items.map((i) => ({ ...i, price: major(i.price) })),
          })
          .pipe(Effect.map((p): OutcomeEvents => [{ type: "OP.SUCCEEDED", opId: effect.opId, payment: paymentState(p) }]))
      }
      case "capture":
        return client.postAuth(String(ctx.providerRef), { paidPrice: major(ctx.amount) }).pipe(Effect.map((p): OutcomeEvents => [{ type: "OP.SUCCEEDED", opId: effect.opId, payment: paymentState(p) }]))
      case "refund":
        return client
          .refundPayment({ paymentId: Number(ctx.providerRef), conversationId: effect.idempotencyKey, ...pass(effect.payload) })
          .pipe(Effect.map((r) => done(effect, [fromRefund(r, effect.opId)])))
      case "refund-transaction":
        return client
          .refundTransaction({ paymentTransactionId: Number(effect.payload.paymentTransactionId), conversationId: effect.idempotencyKey, refundPrice: major(Number(effect.payload.refundPrice)), ...pass(effect.payload) })
          .pipe(Effect.map((t) => done(effect, [fromTxRefund(t, effect.opId)])))
      case "refund.status": {
        const entry = ctx.refunds.find((r) => r.id === effect.payload.refundId)
        if (!entry) return Effect.succeed(done(effect, []))
        const d = entry.details as { craftgateRefundId?: number; transactionRefundId?: number; transactionRefunds?: { id: number }[] }
        if (d.craftgateRefundId) return client.retrieveRefund(d.craftgateRefundId).pipe(Effect.map((r) => done(effect, [fromRefund(r, entry.id)])))
        if (d.transactionRefundId) return client.retrieveTransactionRefund(d.transactionRefundId).pipe(Effect.map((t) => done(effect, [fromTxRefund(t, entry.id)])))
        return siblings(`ps-${ctx.id}-${entry.id}`.slice(0, 100), entry.id).pipe(Effect.map((r) => done(effect, r ? [r] : [])))
      }
      default:
        return Effect.fail(paystateError("PROVIDER_REJECTED", `Craftgate has no ${effect.op} operation here.`, { code: "unsupported" }))
    }
  }

  const reconcile = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents | undefined, PaystateError> => {
    switch (effect.op) {
      case "create":
        return client.searchCardPayments(ctx.id).pipe(Effect.map((ps) => (ps[0] ? [{ type: "OP.SUCCEEDED" as const, opId: effect.opId, payment: paymentState(ps[0]) }] : undefined)))
      case "capture":
        return client.retrieveCardPayment(String(ctx.providerRef)).pipe(Effect.map((p) => (p.paymentPhase === "POST_AUTH" ? [{ type: "OP.SUCCEEDED" as const, opId: effect.opId, payment: paymentState(p) }] : undefined)))
      case "refund":
        return client.searchRefunds({ conversationId: effect.idempotencyKey }).pipe(
          Effect.flatMap((found) =>
            found[0] ? Effect.succeed(done(effect, [fromRefund(found[0], effect.opId)])) : siblings(effect.idempotencyKey, effect.opId).pipe(Effect.map((r) => (r ? done(effect, [r]) : undefined))),
          ),
        )
      case "refund-transaction":
        return client.searchTransactionRefunds({ conversationId: effect.idempotencyKey }).pipe(Effect.map((found) => (found[0] ? done(effect, [fromTxRefund(found[0], effect.opId)]) : undefined)))
      default:
        return execute(effect, ctx)
    }
  }

  const webhook: ProviderAdapter["webhook"] = (request) =>
    Effect.gen(function* () {
      const raw = typeof request.rawBody === "string" ? request.rawBody : Buffer.from(request.rawBody).toString("utf8")
      let parsed: unknown
      try {
        parsed = JSON.parse(raw)
      } catch {
        return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", "A Craftgate webhook is JSON {eventType, eventTimestamp, status, payloadId}."))
      }
      const body = webhookBody.safeParse(parsed)
      if (!body.success) return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", "A Craftgate webhook has eventType, eventTimestamp, status and payloadId.", body.error.issues))
      const given = String(request.headers["x-cg-signature-v1"] ?? "")
      if (!config.webhookKey || !sameSignature(given, signCraftgateWebhook(config.webhookKey, body.data))) {
        return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", "Bad x-cg-signature-v1: the webhook was not signed with the configured webhookKey."))
      }
      const e = body.data
      const dedupeKeys = [`${e.eventType}:${e.payloadId}:${e.status}`]
      let updates: PaymentUpdate[] = []
      // The body says only what happened; the refund itself is fetched before anything changes.
      if (e.eventType === "REFUND") {
        const r = yield* client.retrieveRefund(e.payloadId)
        const o = ours(r.conversationId)
        updates = [{ ...(o ? { paymentId: o.paymentId } : { providerRef: String(r.paymentId) }), events: [{ type: "PROVIDER.SYNC", refunds: [fromRefund(r, o?.refundId)] }] }]
      } else if (e.eventType === "REFUND_TX") {
        const t = yield* client.retrieveTransactionRefund(e.payloadId)
        const o = ours(t.conversationId)
        const entryKind = o && t.conversationId ? (yield* client.searchTransactionRefunds({ conversationId: t.conversationId })).length : 1
        const report = o && entryKind > 1 ? (yield* siblings(t.conversationId!, o.refundId))! : fromTxRefund(t, o?.refundId)
        updates = [{ ...(o ? { paymentId: o.paymentId } : { providerRef: String(t.paymentId) }), events: [{ type: "PROVIDER.SYNC", refunds: [report] }] }]
      }
      return { dedupeKeys, updates }
    })

  return {
    name: "craftgate",
    machine,
    createSchema: createSchema as never,
    refundSchema: refundSchema as never,
    execute,
    reconcile,
    webhook,
    fetch: (ctx) => (ctx.providerRef ? client.retrieveCardPayment(ctx.providerRef).pipe(Effect.map((p): OutcomeEvents => [{ type: "PROVIDER.SYNC", payment: paymentState(p) }])) : Effect.succeed([])),
  }
}
