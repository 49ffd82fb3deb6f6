/**
 * The Craftgate adapter. Craftgate has no idempotency header, so every operation carries the effect's
 * stable idempotency key as its `conversationId`: that is how an attempt whose answer was lost is
 * found again (a reporting search by conversationId) before anything is sent twice, and how a webhook
 * names the paystate refund it is about. The payment itself carries paystate's payment id as
 * conversationId.
 *
 * A lookup is not the operation: `reconcile` answers with Craftgate's own record of the operation
 * (found by conversationId), `notPerformed` only when the search answers that there is none, and
 * "cannot tell" whenever a lookup fails (4xx, 5xx, timeout). `refund.status` lookups never fail a
 * refund: their errors are PROVIDER_UNAVAILABLE.
 */
import { Effect } from "effect"
import type { z } from "zod"
import { createCraftgateMachine, type DayRule } from "../../../machines/craftgate/index.js"
import type { MachineContext, ProviderRefundState } from "../../../machines/lifecycle/index.js"
import type { Clock } from "../../../src/clock.js"
import { isPaystateError, paystateError, type PaystateError } from "../../../src/errors.js"
import { toMajorNumber, toMinor } from "../../../src/money.js"
import { answered, cannotTell, notPerformed, type CreateFieldsOf, type OutboxEffect, type OutcomeEvents, type ProviderAdapter, type Reconciliation } from "../../../src/provider.js"
import { checkOptions, checkSecret, checkUrl, type Secret } from "../config.js"
import { make, type CraftgateConfig } from "./client.js"
import { craftgateCreateSchema, craftgateRefundSchema, type StoredCardRequest } from "./inputs.js"
import { asTransactionRefund, cancelReport, paymentRefundReports, paymentState, refundReports, splits, transactionReports } from "./reports.js"
import { CRAFTGATE_SENSITIVE } from "./sensitive.js"
import { verifyWebhook } from "./webhooks.js"
import type { CardPayment, CraftgateCard, CreateCardPaymentBody, PaymentRefund, TransactionRefund } from "./wire.js"

/** Adapter configuration. */
export interface CraftgateAdapterConfig extends CraftgateConfig, DayRule {
  /** The merchant hook key that signs webhooks (a string or effect's `Redacted`); without it every webhook is refused. */
  readonly webhookKey?: Secret
  /** The header the webhook signature arrives in. Default `x-cg-signature-v1`. */
  readonly webhookSignatureHeader?: string
  /** Seconds a webhook's `eventTimestamp` may be from now, either way. Default 300 (5 minutes). */
  readonly webhookToleranceSeconds?: number
  /** The clock the webhook freshness window is judged by (the engine's, in tests and the demo). Default the system clock. */
  readonly clock?: Clock
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
  readonly card: StoredCardRequest & { readonly cardNumber?: string; readonly cvc?: string }
  readonly items: readonly { name?: string; price: number; externalId?: string }[]
}

/** An amount in major units for the wire, refused (INVALID_INPUT, nothing sent) when a JSON number cannot carry it exactly. */
const wireAmount = (minor: number, currency: string): number => {
  const major = toMajorNumber(minor, currency)
  let back: number | undefined
  try {
    back = toMinor(major, currency)
  } catch {
    back = undefined
  }
  if (!Number.isSafeInteger(minor) || back !== minor) {
    throw paystateError("INVALID_INPUT", `${minor} minor units of ${currency} cannot be sent to Craftgate exactly as a decimal number.`, { amount: minor, currency })
  }
  return major
}

/** The host-facing inputs of the Craftgate adapter, from its zod schemas (see `ProviderInputs`). */
export interface CraftgateInputs {
  readonly create: CreateFieldsOf<z.input<typeof craftgateCreateSchema>> & { readonly currency?: z.input<typeof craftgateCreateSchema>["currency"] }
  readonly refund: z.input<typeof craftgateRefundSchema>
  readonly refundRequest: never
}

/**
 * Builds the Craftgate adapter. Throws CONFIGURATION_INVALID at once for a missing or empty `apiKey` /
 * `secretKey` (or an empty `webhookKey`), a `baseUrl` that is no http(s) URL, a bad time zone or day
 * cut-off, or a negative webhook tolerance: before any engine could store a payment it cannot send.
 */
export const craftgate = (options: CraftgateAdapterConfig): ProviderAdapter<CraftgateInputs> => {
  checkOptions("craftgate", options)
  const config: CraftgateAdapterConfig = {
    ...options,
    baseUrl: checkUrl("craftgate", "baseUrl", options.baseUrl),
    apiKey: checkSecret("craftgate", "apiKey", options.apiKey),
    secretKey: checkSecret("craftgate", "secretKey", options.secretKey),
    webhookKey: checkSecret("craftgate", "webhookKey", options.webhookKey, false),
  }
  let machine: ReturnType<typeof createCraftgateMachine>
  try {
    machine = createCraftgateMachine({ timeZone: config.timeZone, cutoff: config.dayCutoff ?? config.cutoff, refundPollDelaysMs: config.refundPollDelaysMs })
  } catch (e) {
    throw paystateError("CONFIGURATION_INVALID", `craftgate(config): ${(e as Error).message}`, { provider: "craftgate", field: /time zone/i.test((e as Error).message) ? "timeZone" : "dayCutoff", reason: "invalid" })
  }
  if (config.webhookToleranceSeconds !== undefined && !(Number.isFinite(config.webhookToleranceSeconds) && config.webhookToleranceSeconds >= 0)) {
    throw paystateError("CONFIGURATION_INVALID", "craftgate(config): webhookToleranceSeconds is a number of seconds, 0 or more.", { provider: "craftgate", field: "webhookToleranceSeconds", reason: "invalid" })
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
  /** Runs a body builder that may refuse an amount (INVALID_INPUT) or lack card data (CARD_DATA_UNAVAILABLE). */
  const build = <A>(f: () => A): Effect.Effect<A, PaystateError> =>
    Effect.try({ try: f, catch: (e) => (isPaystateError(e) ? e : paystateError("INVALID_INPUT", e instanceof Error ? e.message : String(e))) })

  /**
   * A lookup's error says nothing about the operation it looks at: a 4xx (or a refused input) of the
   * lookup becomes PROVIDER_UNAVAILABLE, "cannot tell", so the engine asks again later.
   */
  const lookup =
    (what: string) =>
    <A>(e: Effect.Effect<A, PaystateError>): Effect.Effect<A, PaystateError> =>
      e.pipe(
        Effect.mapError((err) =>
          // A credential refusal keeps its code: the host must learn that its key is wrong.
          err.code === "PROVIDER_UNAVAILABLE" || err.code === "PROVIDER_AUTH_FAILED"
            ? err
            : paystateError("PROVIDER_UNAVAILABLE", `Craftgate's lookup of ${what} failed (${err.message}); this says nothing about the operation, which is asked about again later.`, { lookup: what, cause: err.details }, true),
        ),
      )

  /**
   * The card for the create body: a stored card's keys from the request, or the stored card summary
   * with the number, CVC and expiry from the effect's in-memory `secret`. Without it (a restart, or
   * another process) a full card cannot be sent: CARD_DATA_UNAVAILABLE.
   */
  const cardOf = (effect: OutboxEffect, stored: CreateRequest["card"]): CraftgateCard => {
    if ("cardToken" in stored && stored.cardToken) return { cardUserKey: stored.cardUserKey, cardToken: stored.cardToken }
    const s = (effect.secret as { card?: { cardNumber?: unknown; cvc?: unknown; expireYear?: unknown; expireMonth?: unknown } } | undefined)?.card
    const full = stored as Extract<StoredCardRequest, { cardHolderName: string }> & { cardNumber?: string; cvc?: string }
    // A row written before card data moved to `secret` still has it in the request.
    const cardNumber = typeof s?.cardNumber === "string" ? s.cardNumber : full.cardNumber
    const cvc = typeof s?.cvc === "string" ? s.cvc : full.cvc
    if (!cardNumber || !cvc) {
      throw paystateError(
        "CARD_DATA_UNAVAILABLE",
        "The card number and CVC of this Craftgate payment were held in memory only and are gone (a restart, or another process); Craftgate never received the payment. Ask the customer for the card again, or pay with a stored card (cardUserKey + cardToken).",
        { lastFourDigits: full.lastFourDigits ?? null },
      )
    }
    return {
      cardHolderName: full.cardHolderName,
      cardNumber,
      cvc,
      expireYear: typeof s?.expireYear === "string" ? s.expireYear : full.expireYear,
      expireMonth: typeof s?.expireMonth === "string" ? s.expireMonth : full.expireMonth,
      ...(full.cardAlias ? { cardAlias: full.cardAlias } : {}),
      ...(full.storeCardAfterSuccessPayment !== undefined ? { storeCardAfterSuccessPayment: full.storeCardAfterSuccessPayment } : {}),
      ...(full.cardUserKey ? { cardUserKey: full.cardUserKey } : {}),
    }
  }

  const createBody = (effect: OutboxEffect, ctx: MachineContext): CreateCardPaymentBody => {
    const r = ctx.request as unknown as CreateRequest
    const major = (n: number) => wireAmount(n, ctx.currency)
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
      card: cardOf(effect, r.card),
      items: r.items.map((i) => ({ ...i, price: major(i.price) })),
    }
  }

  /** The answer to a create: Craftgate's FAILURE payment is its definite refusal of the payment. */
  const createAnswer = (effect: OutboxEffect, p: CardPayment): OutcomeEvents => {
    if (p.paymentStatus !== "FAILURE") return succeeded(effect, { payment: paymentState(p) })
    const error = (p as { paymentError?: { errorCode?: unknown; errorDescription?: unknown } | null }).paymentError
    return [
      {
        type: "OP.FAILED",
        opId: effect.opId,
        code: typeof error?.errorCode === "string" ? error.errorCode : "FAILURE",
        message: `Craftgate refused the card payment${typeof error?.errorDescription === "string" ? `: ${error.errorDescription}` : " (FAILURE)"}.`,
        payment: paymentState(p),
      },
    ]
  }

  /**
   * Everything Craftgate holds for a payment: its payment refunds (the reporting listing has no
   * refundType, so each is retrieved from the payment API) and its transaction refunds.
   */
  const refundsAt = (ctx: MachineContext, ref: string): Effect.Effect<{ cancels: PaymentRefund[]; txs: TransactionRefund[] }, PaystateError> =>
    Effect.gen(function* () {
      const [records, txs] = yield* Effect.all([client.retrievePaymentRefunds(ref), client.searchTransactionRefunds({ paymentId: ref })], { concurrency: 2 })
      const cancels = yield* Effect.forEach(
        records,
        (r) =>
          client.retrieveRefund(r.id).pipe(
            Effect.map((x): PaymentRefund | undefined => x),
            // A REFUND's record may have no retrievable id (seed 003): its money is in the transaction refunds.
            Effect.catchIf(
              (e) => e.code === "PROVIDER_REJECTED" && (e.details as { reason?: string } | undefined)?.reason === "not_found",
              () => Effect.succeed(undefined),
            ),
          ),
        { concurrency: 4 },
      )
      return { cancels: cancels.filter((c): c is PaymentRefund => c !== undefined), txs: txs.map((t) => asTransactionRefund(t, ctx.currency, Number(ref))) }
    })

  /**
   * After a whole-payment refund: when Craftgate did something else than planned (a WAITING partial
   * refund had failed meanwhile, or one was made outside paystate) or other refunds are in flight,
   * every refund of the payment is read back so the ledger follows Craftgate at once. A failed
   * read-back changes nothing: the refund itself is known, and polls catch up.
   */
  const withRefresh = (effect: OutboxEffect, ctx: MachineContext, reports: ProviderRefundState[]): Effect.Effect<ProviderRefundState[], never> => {
    const others = ctx.refunds.some((r) => r.id !== effect.opId && (r.status === "pending" || r.status === "requested"))
    if ((!splits(reports) && !others) || !ctx.providerRef) return Effect.succeed(reports)
    return refundsAt(ctx, ctx.providerRef).pipe(
      Effect.map(({ cancels, txs }) => [
        ...paymentRefundReports(ctx, cancels, txs).filter((r) => r.refundId === undefined || (r.refundId !== effect.opId && !r.refundId.startsWith(`${effect.opId}~`))),
        ...reports,
      ]),
      Effect.catch(() => Effect.succeed(reports)),
    )
  }

  /** Reports for Craftgate's answer to a whole-payment refund (from the POST, or found again). */
  const refundAnswer = (effect: OutboxEffect, ctx: MachineContext, r: PaymentRefund): ProviderRefundState[] => {
    const reports = refundReports(r, effect.opId, entryOf(ctx, effect.opId))
    const expected = effect.payload.expectedRefundType
    // Craftgate decides; a different answer (clocks apart at midnight) is kept visible.
    if (expected && expected !== r.refundType && reports[0]) reports[0] = { ...reports[0], details: { ...reports[0].details, expectedRefundType: String(expected) } }
    return reports
  }

  /**
   * The transaction refunds made with one conversationId, each read from the payment API: the
   * reporting search finds them, the payment API has their current status, currency and payment.
   */
  const txRefundsBy = (conversationId: string): Effect.Effect<TransactionRefund[], PaystateError> =>
    client.searchTransactionRefunds({ conversationId }).pipe(Effect.flatMap((found) => Effect.forEach(found, (t) => client.retrieveTransactionRefund(t.id), { concurrency: 4 })))

  /** Looks a refund up by what its entry knows: ids first, the conversationId otherwise. Never fails the refund. */
  const refundStatus = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    Effect.gen(function* () {
      const entry = entryOf(ctx, effect.payload.refundId)
      if (!entry) return succeeded(effect)
      const d = entry.details as { craftgateRefundId?: number | null; transactionRefundId?: number; transactionRefunds?: { id: number }[]; conversationId?: string | null; splitFrom?: string }
      if (d.craftgateRefundId != null) return succeeded(effect, { refunds: [cancelReport(yield* client.retrieveRefund(d.craftgateRefundId), entry.external || entry.unattributed ? undefined : entry.id)] })
      if (d.splitFrom && d.transactionRefundId != null) {
        const t = yield* client.retrieveTransactionRefund(d.transactionRefundId)
        return succeeded(effect, { refunds: transactionReports([t], d.splitFrom, entryOf(ctx, d.splitFrom)) })
      }
      const ids = d.transactionRefunds?.map((t) => t.id) ?? (d.transactionRefundId != null ? [d.transactionRefundId] : [])
      // An external or unattributed entry is Craftgate's record only: reported by its id, never as ours.
      if (entry.external || entry.unattributed) {
        if (!ids.length) return succeeded(effect)
        return succeeded(effect, { refunds: transactionReports(yield* Effect.forEach(ids, (id) => client.retrieveTransactionRefund(id)), undefined) })
      }
      const txs = ids.length ? yield* Effect.forEach(ids, (id) => client.retrieveTransactionRefund(id)) : yield* txRefundsBy(d.conversationId ?? `ps-${ctx.id}-${entry.id}`)
      return succeeded(effect, { refunds: transactionReports(txs, entry.id, entry) })
    }).pipe(lookup(`refund ${String(effect.payload.refundId)}`))

  const execute = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> => {
    const major = (n: number) => wireAmount(n, ctx.currency)
    switch (effect.op) {
      case "create":
        return build(() => createBody(effect, ctx)).pipe(
          Effect.flatMap((body) => client.createCardPayment(body)),
          Effect.map((p) => createAnswer(effect, p)),
        )
      case "capture":
        return Effect.gen(function* () {
          const amount = typeof effect.payload.amount === "number" ? effect.payload.amount : ctx.amount
          const body = { paidPrice: yield* build(() => major(amount)) }
          const p = yield* client.postAuth(yield* paymentIdOf(ctx), body)
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
          return succeeded(effect, { refunds: yield* withRefresh(effect, ctx, refundAnswer(effect, ctx, r)) })
        })
      case "refund-transaction":
        return Effect.gen(function* () {
          const refundPrice = yield* build(() => major(Number(effect.payload.refundPrice)))
          const t = yield* client.refundTransaction({ paymentTransactionId: Number(effect.payload.paymentTransactionId), conversationId: effect.idempotencyKey, refundPrice, ...pass(effect.payload) })
          return succeeded(effect, { refunds: transactionReports([t], effect.opId, entryOf(ctx, effect.opId)) })
        })
      case "refund.status":
        return refundStatus(effect, ctx)
      default:
        return Effect.fail(paystateError("PROVIDER_REJECTED", `The Craftgate adapter has no "${effect.op}" operation.`, { code: "unsupported_operation" }))
    }
  }

  /** Finds what an attempt with an unknown outcome did, by its conversationId (see the module comment). */
  const find = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<Reconciliation, PaystateError> =>
    Effect.gen(function* () {
      const key = effect.idempotencyKey
      switch (effect.op) {
        case "create": {
          // The payment carries paystate's payment id as conversationId.
          const found = yield* client.searchPayments({ conversationId: ctx.id })
          if (found.length === 0) return notPerformed
          const pick = found.find((p) => p.paymentStatus === "SUCCESS") ?? found[0]!
          return answered(createAnswer(effect, yield* client.retrieveCardPayment(pick.id)))
        }
        case "capture": {
          const p = yield* client.retrieveCardPayment(yield* paymentIdOf(ctx))
          if (p.paymentPhase === "POST_AUTH") return answered(succeeded(effect, { payment: paymentState(p) }))
          // Still a pre-authorization in the payment API: the post-auth was never made.
          if (p.paymentPhase === "PRE_AUTH" && p.paymentStatus === "SUCCESS") return notPerformed
          return cannotTell(`Craftgate shows payment ${p.id} as ${p.paymentStatus} ${p.paymentPhase ?? ""}`.trim())
        }
        case "cancel": {
          const found = yield* client.searchRefunds({ conversationId: key })
          if (found.length === 0) return notPerformed
          const ok = found.find((r) => r.status !== "FAILURE")
          if (ok) return answered(succeeded(effect, { payment: { status: "cancelled", details: { cancelRefundId: ok.id } } }))
          return answered([{ type: "OP.FAILED", opId: effect.opId, code: "FAILURE", message: "Craftgate refused to cancel the pre-authorization (FAILURE)." }])
        }
        case "refund": {
          const [records, txs] = yield* Effect.all([client.searchRefunds({ conversationId: key }), txRefundsBy(key)], { concurrency: 2 })
          const record = records.find((r) => r.status !== "FAILURE") ?? records[0]
          if (record) {
            const r = yield* client.retrieveRefund(record.id)
            if (r.refundType === "CANCEL" || r.paymentTransactionRefunds.length > 0) return answered(succeeded(effect, { refunds: yield* withRefresh(effect, ctx, refundAnswer(effect, ctx, r)) }))
          }
          // A REFUND has no id of its own (seed 003); its transaction refunds carry the conversationId.
          if (txs.length) return answered(succeeded(effect, { refunds: yield* withRefresh(effect, ctx, transactionReports(txs, effect.opId, entryOf(ctx, effect.opId))) }))
          if (records.length === 0) return notPerformed
          return cannotTell(`Craftgate lists refund ${record!.id} for ${key} but neither it nor its transaction refunds could be read.`)
        }
        case "refund-transaction": {
          const txs = yield* txRefundsBy(key)
          return txs.length ? answered(succeeded(effect, { refunds: transactionReports(txs, effect.opId, entryOf(ctx, effect.opId)) })) : notPerformed
        }
        default:
          // Lookups (refund.status) change nothing at Craftgate: running them again is the reconciliation.
          return answered(yield* execute(effect, ctx))
      }
    })

  /** `reconcile`: any error of a lookup is "cannot tell", never a failure of the operation. */
  const reconcile = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<Reconciliation, PaystateError> =>
    find(effect, ctx).pipe(Effect.catch((e) => Effect.succeed(cannotTell(`${e.code}: ${e.message}`))))

  /** `payments.sync`: the payment, its CANCELs and its transaction refunds, as Craftgate holds them. */
  const fetch = (ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    Effect.gen(function* () {
      if (!ctx.providerRef) return []
      const p = yield* client.retrieveCardPayment(ctx.providerRef)
      const { cancels, txs } = yield* refundsAt(ctx, ctx.providerRef)
      const voided = p.paymentPhase === "PRE_AUTH" && cancels.some((c) => c.refundType === "CANCEL" && c.status === "SUCCESS")
      return [{ type: "PROVIDER.SYNC", payment: paymentState(p, { voided }), refunds: paymentRefundReports(ctx, cancels, txs) }]
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
    sensitive: CRAFTGATE_SENSITIVE,
  }
}
