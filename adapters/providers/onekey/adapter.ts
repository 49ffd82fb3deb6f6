/**
 * The OneKey adapter: turns the machine's effects into signed Directa24 v3 calls and the answers back
 * into machine events. A deposit is the payment: `create` posts it, the customer pays it (a
 * notification or `payments.sync` reports COMPLETED), and refunds go over it.
 *
 * Identity: OneKey echoes nothing of paystate's on a refund (no merchant refund reference exists in
 * the v3 API), so a refund is paystate's only by the answer to its own POST, or to the replay of that
 * POST with the same X-Idempotency-Key and the same bytes; every other report (notification, lookup,
 * sync) names the OneKey refund id only and the ledger applies it by that id.
 */
import { Effect, Result } from "effect"
import { z } from "zod"
import type { MachineContext } from "../../../machines/lifecycle/index.js"
import { createOnekeyMachine, isCardMethod, onekeyMachine, type OnekeyPolicyOptions } from "../../../machines/onekey/index.js"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import { exponentOf, isKnownCurrency, toMajorNumber } from "../../../src/money.js"
import { answered, cannotTell, idempotencyKeyAlive, onlyAPersonCanTell, type CreateFieldsOf, type OutboxEffect, type OutcomeEvents, type ProviderAdapter, type ProviderCreate, type Reconciliation } from "../../../src/provider.js"
import { make, type OnekeyClientShape, type OnekeyConfig, type OnekeyDepositBody, type OnekeyRefundBody } from "./client.js"
import { checkKeyLifetime, checkOptions, checkSecret, checkUrl } from "../config.js"
import { authChecked, isDefiniteRefusal, lookupFailure, unlessNotFound, type OnekeyErrorDetails } from "./errors.js"
import { handleNotification } from "./notifications.js"
import { createdRefundReport, depositState, minorOrUndefined, refundReport } from "./reports.js"
import { ONEKEY_SENSITIVE } from "./sensitive.js"
import { bankAccount, ONEKEY_KEY_LIFETIME_MS, type OnekeyBankAccount } from "./wire.js"

/** Adapter configuration: the client's, the policy's, and where OneKey sends notifications. */
export interface OnekeyAdapterConfig extends OnekeyConfig, OnekeyPolicyOptions {
  /** HTTPS URL of the host's notification route; sent with every deposit and refund. */
  readonly notificationUrl?: string
  /**
   * How long after an effect was stored its X-Idempotency-Key is trusted to be alive at OneKey, so
   * that the replay of its POST (the only lookup of a refund whose answer was lost) returns the first
   * answer. OneKey keeps keys 24 h; the default, 23 h, leaves an hour for clock skew. At most 24 h.
   */
  readonly idempotencyKeyLifetimeMs?: number
}

const payer = z.looseObject({
  document: z.string().max(30).optional(),
  email: z.email(),
  first_name: z.string().min(1).max(100),
  last_name: z.string().min(1).max(100),
})

/** Card field names refused in a create, normalised as src/redact.ts does (case, `_` and `-` ignored). */
const CARD_FIELDS = new Set([...ONEKEY_SENSITIVE.secret, "cvc", "cvv2", "security_code", "card_cvv", "pan"].map((k) => k.toLowerCase().replace(/[_-]/g, "")))

/** True when any key of the value, at any depth (bounded), names card data. */
const hasCardField = (v: unknown, depth = 0): boolean => {
  if (depth > 32 || v === null || typeof v !== "object") return false
  for (const [k, x] of Object.entries(v)) if (CARD_FIELDS.has(k.toLowerCase().replace(/[_-]/g, "")) || hasCardField(x, depth + 1)) return true
  return false
}

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
  // paystate uses OneKey's hosted checkout (the non-PCI deposits API): the customer enters card
  // details with OneKey, so no card data may come in, at any depth (see sensitive.ts). Refused, not
  // dropped: a host that sends a card number learns at once that it goes nowhere.
  .refine((v) => !hasCardField(v), { error: "card details (credit_card, card_number, cvv…) are not accepted: OneKey collects them on its checkout (redirect_url); D24's PCI deposits endpoint is not supported" })
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

/** The host-facing inputs of the OneKey adapter, from its zod schemas (see `ProviderInputs`). */
export interface OnekeyInputs {
  readonly create: CreateFieldsOf<z.input<typeof createSchema>>
  readonly refund: z.input<typeof refundSchema>
  readonly refundRequest: never
}

/**
 * Builds the OneKey adapter. Throws CONFIGURATION_INVALID at once for a missing or empty `login` /
 * `secretKey` (or an empty `readOnlyKey`), or a `baseUrl` / `notificationUrl` that is no http(s) URL.
 */
export const onekey = (options: OnekeyAdapterConfig): ProviderAdapter<OnekeyInputs> => {
  checkOptions("onekey", options)
  const config: OnekeyAdapterConfig = {
    ...options,
    baseUrl: checkUrl("onekey", "baseUrl", options.baseUrl),
    login: checkSecret("onekey", "login", options.login),
    secretKey: checkSecret("onekey", "secretKey", options.secretKey),
    readOnlyKey: checkSecret("onekey", "readOnlyKey", options.readOnlyKey, false),
    notificationUrl: checkUrl("onekey", "notificationUrl", options.notificationUrl, false),
  }
  const keyLifetimeMs = checkKeyLifetime("onekey", options.idempotencyKeyLifetimeMs, ONEKEY_KEY_LIFETIME_MS, ONEKEY_KEY_LIFETIME_MS - 3_600_000)
  /** True while OneKey still holds the effect's key: only then is the replay a lookup and not a second POST. */
  const keyAlive = (effect: OutboxEffect): boolean => idempotencyKeyAlive(effect, keyLifetimeMs, config.now?.())
  // A refusal of the credentials is no answer to the operation: see asAuthFailure.
  const client: OnekeyClientShape = authChecked(make(config))
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

  /**
   * Reads one refund that is known by its OneKey id. The report names that id only: the ledger
   * finds the refund that holds it. A failed read (208, 4xx, 5xx, timeout) is "cannot tell".
   */
  const readRefund = (providerRef: string, ctx: MachineContext, extra: { refundId?: string } = {}) =>
    client.getRefund(providerRef).pipe(
      Effect.map((r) => {
        const amount = minorOrUndefined(r.amount, ctx.currency)
        return refundReport(providerRef, r.status, { ...extra, ...(amount !== undefined ? { amount } : {}) })
      }),
      Effect.mapError(lookupFailure(`what became of refund ${providerRef}`)),
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
        // A lookup: its failure never becomes PROVIDER_REJECTED (readRefund maps it to unavailable).
        return readRefund(String(ref), ctx).pipe(Effect.map((report): OutcomeEvents => [{ type: "OP.SUCCEEDED", opId: effect.opId, refunds: [report] }]))
      }
      default:
        return Effect.fail(paystateError("PROVIDER_REJECTED", `OneKey deposits have no "${effect.op}" operation: a deposit is captured by the customer paying it, and only refunds go over it.`, { code: null, op: effect.op }))
    }
  }

  /** The replay is no lookup once OneKey has forgotten the key: it would be performed again. */
  const expired = (effect: OutboxEffect, what: "refund" | "deposit"): Reconciliation =>
    onlyAPersonCanTell(
      `OneKey no longer holds the X-Idempotency-Key of ${what === "refund" ? "refund" : "the deposit of"} ${effect.opId} (stored ${effect.createdAt}; keys live ${Math.round(keyLifetimeMs / 60_000)} minutes here), and replaying its POST is the only lookup: it would make a second ${what}.`,
    )

  /** OneKey's definite refusal of the operation, as the engine records it. */
  const failedBy = (effect: OutboxEffect, e: PaystateError): Reconciliation => {
    const code = (e.details as OnekeyErrorDetails).code
    return answered([{ type: "OP.FAILED", opId: effect.opId, code: String(code), message: e.message }])
  }

  /**
   * A refund whose answer was lost. OneKey has no search of a deposit's refunds and echoes no
   * reference of ours on a refund, so the lookup is the replay of the same POST with the same
   * X-Idempotency-Key and the same bytes (canonical JSON): OneKey answers it with the first outcome
   * and makes no second refund. Its `refund_id` answer attributes the refund (the ledger merges an
   * unattributed entry a notification left); a definite refund error (8xx, 208, 202) fails it; a
   * reused-key answer, 1xx, 5xx or a timeout cannot tell. The refund is then read, so a status the
   * first answer no longer shows (DELIVERED, COMPLETED, a reversal) is applied at once.
   * Once OneKey has forgotten the key the replay would be a second refund: only a person can tell.
   */
  const reconcileRefund = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<Reconciliation, PaystateError> =>
    Effect.gen(function* () {
      const known = ctx.refunds.find((r) => r.id === effect.opId)?.providerRef
      if (known) {
        // The OneKey id is already recorded on this refund: reading it is a lookup by identity.
        const report = yield* readRefund(known, ctx, { refundId: effect.opId })
        return answered([{ type: "OP.SUCCEEDED", opId: effect.opId, refunds: [report] }])
      }
      if (!keyAlive(effect)) return expired(effect, "refund")
      const replay = yield* Effect.result(client.createRefund(refundBody(effect, ctx), effect.idempotencyKey))
      if (Result.isFailure(replay)) {
        const e = replay.failure
        return isDefiniteRefusal(e) ? failedBy(effect, e) : cannotTell(e.message)
      }
      const first = createdRefundReport(effect.opId, replay.success)
      // The replay proved which refund this is, so the read may carry our id too; a failed read
      // changes nothing (the poll reads it again).
      const now = yield* Effect.result(readRefund(first.providerRef!, ctx, { refundId: effect.opId }))
      return answered([{ type: "OP.SUCCEEDED", opId: effect.opId, refunds: Result.isSuccess(now) ? [first, now.success] : [first] }])
    })

  /**
   * A deposit whose answer was lost: the replay of the same POST with the same key is the lookup
   * (there is no search by invoice id, and a deposit body carries no card data, so it can always be
   * rebuilt). If the replay cannot answer but a notification already named the deposit (found by
   * paystate's invoice id), the deposit is read instead.
   */
  const reconcileCreate = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<Reconciliation, PaystateError> =>
    Effect.gen(function* () {
      // Read by the id a notification left: the lookup once the replay cannot be one, or cannot answer.
      const read = (ref: string) =>
        client.getDeposit(ref).pipe(
          Effect.mapError(lookupFailure(`what became of deposit ${ref}`)),
          Effect.map((d) => answered([{ type: "OP.SUCCEEDED", opId: effect.opId, payment: depositState(d) }])),
        )
      if (!keyAlive(effect)) return ctx.providerRef ? yield* read(ctx.providerRef) : expired(effect, "deposit")
      const replay = yield* Effect.result(created(effect, ctx))
      if (Result.isSuccess(replay)) return answered(replay.success)
      if (ctx.providerRef) return yield* read(ctx.providerRef)
      const e = replay.failure
      return isDefiniteRefusal(e) ? failedBy(effect, e) : cannotTell(e.message)
    })

  /** Finds out what became of an effect whose outcome is unknown: see `Reconciliation`. */
  const reconcile = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<Reconciliation, PaystateError> => {
    switch (effect.op) {
      case "refund":
        return reconcileRefund(effect, ctx)
      case "create":
        return reconcileCreate(effect, ctx)
      case "refund.status":
        // A read changes nothing at OneKey: doing it again is the lookup.
        return execute(effect, ctx).pipe(
          Effect.map(answered),
          Effect.catch((e: PaystateError) => Effect.succeed(cannotTell(e.message))),
        )
      default:
        return execute(effect, ctx).pipe(Effect.map(answered))
    }
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
        // By OneKey id only: the ledger finds the entry (ours, unattributed or external) holding it.
        if (r) refunds.push(refundReport(entry.providerRef, r.status))
      }
      return [{ type: "PROVIDER.SYNC" as const, payment: depositState(deposit), refunds }]
    })

  return {
    name: "onekey",
    machine,
    createSchema: createSchema as unknown as z.ZodType<ProviderCreate>,
    // The configured notification URL goes into the stored payload, so a re-send from a process set
    // up differently (the CLI, another instance) sends the first attempt's bytes.
    refundSchema: refundSchema.transform((o) => (o.notification_url || !config.notificationUrl ? o : { ...o, notification_url: config.notificationUrl })) as never,
    execute,
    reconcile,
    webhook: (request) => handleNotification(client, request),
    fetch,
    sensitive: ONEKEY_SENSITIVE,
  }
}
