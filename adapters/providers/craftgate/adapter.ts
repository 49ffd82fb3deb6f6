/**
 * The Craftgate adapter. Craftgate has no idempotency header, so every operation carries the effect's
 * stable idempotency key as its `conversationId`: that is how an attempt whose answer was lost is
 * found again (a search by conversationId) before anything is sent twice, and how a webhook names the
 * paystate refund it is about. The payment itself carries paystate's payment id as conversationId.
 */
import { Effect } from "effect"
import { createCraftgateMachine, type DayRule } from "../../../machines/craftgate/index.js"
import type { MachineContext, ProviderRefundState } from "../../../machines/lifecycle/index.js"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import { toMajorNumber } from "../../../src/money.js"
import type { OutboxEffect, OutcomeEvents, ProviderAdapter } from "../../../src/provider.js"
import { make, type CraftgateConfig } from "./client.js"
import { craftgateCreateSchema, craftgateRefundSchema } from "./inputs.js"
import { cancelReport, paymentRefundReports, paymentState, refundReports, splits, transactionReports } from "./reports.js"
import { verifyWebhook } from "./webhooks.js"
import type { CraftgateCard, CreateCardPaymentBody } from "./wire.js"

/** Adapter configuration. */
export interface CraftgateAdapterConfig extends CraftgateConfig, DayRule {
  /** The merchant hook key that signs webhooks; without it every webhook is refused. */
  readonly webhookKey?: string
  /** The header the webhook signature arrives in. Default `x-cg-signature-v1`. */
  readonly webhookSignatureHeader?: string
  /** "HH:MM" local time at which a business day starts (same as `cutoff`). Default "00:00". */
  readonly dayCutoff?: string
  /** Delays after which a WAITING refund is looked up. Default 1 min, 5 min, 30 min, 2 h, 12 h. */
  readonly refundPollDelaysMs?: readonly number[]
}

interface CreateRequest {
  readonly price: number
  readonly installment: number
  readonly paymentGroup: "PRODUCT" | "LISTING_OR_SUBSCRIPTION"
  readonly paymentPhase: "AUTH" | "PRE_AUTH"
  readonly card: CraftgateCard
  readonly items: readonly { name?: string; price: number; externalId?: string }[]
}

/** Builds the Craftgate adapter. Throws INVALID_INPUT for a bad time zone or day cut-off. */
export const craftgate = (config: CraftgateAdapterConfig): ProviderAdapter => {
  let machine: ReturnType<typeof createCraftgateMachine>
  try {
    machine = createCraftgateMachine({ timeZone: config.timeZone, cutoff: config.dayCutoff ?? config.cutoff, refundPollDelaysMs: config.refundPollDelaysMs })
  } catch (e) {
    throw paystateError("INVALID_INPUT", `craftgate(config): ${(e as Error).message}`)
  }
  const client = make(config)

  const succeeded = (effect: OutboxEffect, body: Omit<Extract<OutcomeEvents[number], { type: "OP.SUCCEEDED" }>, "type" | "opId"> = {}): OutcomeEvents => [{ type: "OP.SUCCEEDED", opId: effect.opId, ...body }]
  const entryOf = (ctx: MachineContext, refundId: unknown) => ctx.refunds.find((r) => r.id === refundId)
  const pass = (p: Record<string, unknown>): { refundDestinationType?: "PROVIDER" | "WALLET"; chargeFromMe?: boolean } => ({
    ...(p.refundDestinationType === "PROVIDER" || p.refundDestinationType === "WALLET" ? { refundDestinationType: p.refundDestinationType } : {}),
    ...(typeof p.chargeFromMe === "boolean" ? { chargeFromMe: p.chargeFromMe } : {}),
  })
  const paymentIdOf = (ctx: MachineContext): Effect.Effect<number, PaystateError> =>
    ctx.providerRef && /^\d+$/.test(ctx.providerRef) ? Effect.succeed(Number(ctx.providerRef)) : Effect.fail(paystateError("INVALID_INPUT", "The payment has no Craftgate id yet: it cannot be changed at Craftgate."))

  const createBody = (effect: OutboxEffect, ctx: MachineContext): CreateCardPaymentBody => {
    const r = ctx.request as unknown as CreateRequest
    const major = (n: number) => toMajorNumber(n, ctx.currency)
    return {
      price: major(r.price),
      paidPrice: major(ctx.amount),
      walletPrice: 0,
      installment: r.installment,
      currency: ctx.currency,
      paymentGroup: r.paymentGroup,
      paymentPhase: r.paymentPhase,
      // paystate's id comes back in every answer and webhook, and finds a payment whose answer was lost.
      conversationId: ctx.id,
      externalId: ctx.externalOrderNum ?? ctx.id,
      card: r.card,
      items: r.items.map((i) => ({ ...i, price: major(i.price) })),
    }
  }

  /**
   * After a whole-payment refund: when Craftgate did something else than planned (a WAITING partial
   * refund had failed meanwhile, or one was made outside paystate) or other refunds are in flight,
   * every refund of the payment is read back so the ledger follows Craftgate at once. A failed
   * read-back changes nothing: the refund itself is known, and polls catch up.
   */
  const withRefresh = (effect: OutboxEffect, ctx: MachineContext, reports: ProviderRefundState[]): Effect.Effect<ProviderRefundState[], never> => {
    const others = ctx.refunds.some((r) => r.id !== effect.opId && (r.status === "pending" || r.status === "requested"))
    if ((!splits(reports) && !others) || !ctx.providerRef) return Effect.succeed(reports)
    const ref = ctx.providerRef
    return Effect.all([client.searchRefunds({ paymentId: ref }), client.searchTransactionRefunds({ paymentId: ref })], { concurrency: 2 }).pipe(
      Effect.map(([cancels, txs]) => [
        ...paymentRefundReports(ctx, cancels, txs).filter((r) => r.refundId === undefined || (r.refundId !== effect.opId && !r.refundId.startsWith(`${effect.opId}~`))),
        ...reports,
      ]),
      Effect.catch(() => Effect.succeed(reports)),
    )
  }

  /** Looks a refund up by what its entry knows: ids first, the conversationId otherwise. */
  const refundStatus = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    Effect.gen(function* () {
      const entry = entryOf(ctx, effect.payload.refundId)
      if (!entry) return succeeded(effect)
      const d = entry.details as { craftgateRefundId?: number | null; transactionRefundId?: number; transactionRefunds?: { id: number }[]; conversationId?: string | null; splitFrom?: string }
      if (d.craftgateRefundId != null) return succeeded(effect, { refunds: [cancelReport(yield* client.retrieveRefund(d.craftgateRefundId), entry.id)] })
      if (d.splitFrom && d.transactionRefundId != null) {
        const t = yield* client.retrieveTransactionRefund(d.transactionRefundId)
        return succeeded(effect, { refunds: transactionReports([t], d.splitFrom, entryOf(ctx, d.splitFrom)) })
      }
      const ids = d.transactionRefunds?.map((t) => t.id) ?? (d.transactionRefundId != null ? [d.transactionRefundId] : [])
      const txs = ids.length
        ? yield* Effect.forEach(ids, (id) => client.retrieveTransactionRefund(id))
        : yield* client.searchTransactionRefunds({ conversationId: d.conversationId ?? `ps-${ctx.id}-${entry.id}` })
      return succeeded(effect, { refunds: transactionReports(txs, entry.id, entry) })
    })

  const execute = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> => {
    const major = (n: number) => toMajorNumber(n, ctx.currency)
    switch (effect.op) {
      case "create":
        return client.createCardPayment(createBody(effect, ctx)).pipe(Effect.map((p) => succeeded(effect, { payment: paymentState(p) })))
      case "capture":
        return Effect.gen(function* () {
          const amount = typeof effect.payload.amount === "number" ? effect.payload.amount : ctx.amount
          const p = yield* client.postAuth(yield* paymentIdOf(ctx), { paidPrice: major(amount) })
          return succeeded(effect, { payment: paymentState(p) })
        })
      case "cancel":
        return Effect.gen(function* () {
          const r = yield* client.refundPayment({ paymentId: yield* paymentIdOf(ctx), conversationId: effect.idempotencyKey })
          if (r.status === "FAILURE") return yield* Effect.fail(paystateError("PROVIDER_REJECTED", "Craftgate refused to cancel the pre-authorization (FAILURE).", { code: "FAILURE" }))
          return succeeded(effect, { payment: { status: "cancelled", details: { cancelRefundId: r.id ?? null } } })
        })
      case "refund":
        return Effect.gen(function* () {
          const r = yield* client.refundPayment({ paymentId: yield* paymentIdOf(ctx), conversationId: effect.idempotencyKey, ...pass(effect.payload) })
          const reports = refundReports(r, effect.opId, entryOf(ctx, effect.opId))
          const expected = effect.payload.expectedRefundType
          // Craftgate decides; a different answer (clocks apart at midnight) is kept visible.
          if (expected && expected !== r.refundType && reports[0]) reports[0] = { ...reports[0], details: { ...reports[0].details, expectedRefundType: String(expected) } }
          return succeeded(effect, { refunds: yield* withRefresh(effect, ctx, reports) })
        })
      case "refund-transaction":
        return client
          .refundTransaction({ paymentTransactionId: Number(effect.payload.paymentTransactionId), conversationId: effect.idempotencyKey, refundPrice: major(Number(effect.payload.refundPrice)), ...pass(effect.payload) })
          .pipe(Effect.map((t) => succeeded(effect, { refunds: transactionReports([t], effect.opId, entryOf(ctx, effect.opId)) })))
      case "refund.status":
        return refundStatus(effect, ctx)
      default:
        return Effect.fail(paystateError("PROVIDER_REJECTED", `The Craftgate adapter has no "${effect.op}" operation.`, { code: "unsupported_operation" }))
    }
  }

  /** Finds what an attempt with an unknown outcome did, by its conversationId; undefined = never arrived. */
  const reconcile = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents | undefined, PaystateError> =>
    Effect.gen(function* () {
      switch (effect.op) {
        case "create": {
          const found = yield* client.searchPayments({ conversationId: ctx.id })
          if (!found[0]) return undefined
          return succeeded(effect, { payment: paymentState(yield* client.retrieveCardPayment(found[0].id)) })
        }
        case "capture": {
          const p = yield* client.retrieveCardPayment(yield* paymentIdOf(ctx))
          return p.paymentPhase === "POST_AUTH" ? succeeded(effect, { payment: paymentState(p) }) : undefined
        }
        case "cancel": {
          const found = (yield* client.searchRefunds({ conversationId: effect.idempotencyKey })).find((r) => r.status !== "FAILURE")
          return found ? succeeded(effect, { payment: { status: "cancelled", details: { cancelRefundId: found.id ?? null } } }) : undefined
        }
        case "refund": {
          const found = (yield* client.searchRefunds({ conversationId: effect.idempotencyKey }))[0]
          if (found) return succeeded(effect, { refunds: yield* withRefresh(effect, ctx, refundReports(found, effect.opId, entryOf(ctx, effect.opId))) })
          // A REFUND has no id of its own; its transaction refunds carry the conversationId.
          const txs = yield* client.searchTransactionRefunds({ conversationId: effect.idempotencyKey })
          return txs.length ? succeeded(effect, { refunds: yield* withRefresh(effect, ctx, transactionReports(txs, effect.opId, entryOf(ctx, effect.opId))) }) : undefined
        }
        case "refund-transaction": {
          const txs = yield* client.searchTransactionRefunds({ conversationId: effect.idempotencyKey })
          return txs.length ? succeeded(effect, { refunds: transactionReports(txs, effect.opId, entryOf(ctx, effect.opId)) }) : undefined
        }
        default:
          // Lookups (refund.status) change nothing at Craftgate: running them again is the reconciliation.
          return yield* execute(effect, ctx)
      }
    })

  /** Everything Craftgate holds for the payment: its state, its CANCELs and its transaction refunds. */
  const fetch = (ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    Effect.gen(function* () {
      if (!ctx.providerRef) return []
      const p = yield* client.retrieveCardPayment(ctx.providerRef)
      const [cancels, txs] = yield* Effect.all([client.searchRefunds({ paymentId: ctx.providerRef }), client.searchTransactionRefunds({ paymentId: ctx.providerRef })], { concurrency: 2 })
      return [{ type: "PROVIDER.SYNC", payment: paymentState(p), refunds: paymentRefundReports(ctx, cancels, txs) }]
    })

  return {
    name: "craftgate",
    machine,
    createSchema: craftgateCreateSchema,
    refundSchema: craftgateRefundSchema as never,
    execute,
    reconcile,
    webhook: (request) => verifyWebhook(request, config, client),
    fetch,
  }
}
