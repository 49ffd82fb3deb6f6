/**
 * The KOMOJU adapter: performs the machine's effects through the KomojuClient with the effect's
 * idempotency key, finds out what became of an effect whose answer never arrived (by identity only:
 * paystate's payment id in the payment's metadata, paystate's refund id in the refund's
 * description), and turns signed webhooks into machine events.
 */
import { Effect } from "effect"
import type { MachineContext } from "../../../machines/lifecycle/machine.js"
import type { Details, LedgerEntry } from "../../../machines/lifecycle/types.js"
import { createKomojuMachine } from "../../../machines/komoju/index.js"
import { METHOD_RULES, isKomojuMethod } from "../../../machines/komoju/methods.js"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import { answered, cannotTell, idempotencyKeyAlive, notPerformed, type OutboxEffect, type OutcomeEvents, type ProviderAdapter, type Reconciliation, type WebhookRequest } from "../../../src/provider.js"
import { singleHeader } from "../headers.js"
import { KomojuClient, type KomojuClientConfig, type KomojuClientShape } from "./client.js"
import { toPaystateError, type KomojuError } from "./errors.js"
import { checkKeyLifetime, checkOptions, checkSecret, checkUrl, type Secret } from "../config.js"
import { komojuCreateSchema, komojuRefundRequestSchema, komojuRefundSchema, type KomojuInputs } from "./inputs.js"
import { allReports, carriedBy, carrierDescription, PAYSTATE_ID_KEY, paymentState, paystateIdOf, unidentified } from "./mapping.js"
import { KOMOJU_SENSITIVE, SECRET_PAYMENT_DETAILS } from "./sensitive.js"
import { verifyKomojuSignature } from "./signing.js"
import { komojuEvent, komojuPayment, komojuRefundRequest, type KomojuPayment } from "./wire.js"

/** Configuration of the KOMOJU adapter. */
export interface KomojuConfig extends KomojuClientConfig {
  /** Secret that signs webhooks (`X-Komoju-Signature`); a string or effect's `Redacted`. */
  readonly webhookSecret: Secret
  /** What `tax: "auto"` means, in percent (KOMOJU: 10). Used for the ceiling until KOMOJU answers. */
  readonly taxRatePercent?: number
  /** When pending refunds and refund requests are looked up again (see the policy's default). */
  readonly refundPollDelaysMs?: readonly number[]
  /** Pages of 100 searched for a payment whose create answer was lost. Default 5. */
  readonly lookupPages?: number
  /**
   * How long after an effect was first stored its idempotency key is trusted to be alive at KOMOJU,
   * so that sending it again replays the first answer. KOMOJU keeps keys "up to 24 hours from first
   * use" (docs: idempotent-requests); the default, 23 h, leaves an hour for clock skew.
   */
  readonly idempotencyKeyLifetimeMs?: number
  /**
   * How long after a create was stored its absence from KOMOJU's list is not yet believed when its
   * card data is gone: a create still being processed at KOMOJU must not be failed with
   * CARD_DATA_UNAVAILABLE while KOMOJU charges the card. Default 5 minutes.
   */
  readonly createSettleMs?: number
  /** The clock that ages idempotency keys and creates; default the system clock. */
  readonly now?: () => Date
  /** Adapter name, i.e. the key under `createEngine({ providers })`. Default "komoju". */
  readonly name?: string
}

type Run = <A>(what: string, f: (c: KomojuClientShape) => Effect.Effect<A, KomojuError>, kind?: "operation" | "lookup") => Effect.Effect<A, PaystateError>

/** What a search for a payment found: the payment, and whether the search saw every candidate. */
interface Found {
  readonly payment: KomojuPayment | undefined
  /** True when every page that could hold the payment was read (so its absence is KOMOJU's word). */
  readonly complete: boolean
}

const DAY_MS = 24 * 3_600_000

/**
 * Creates the KOMOJU adapter for `createEngine({ providers: { komoju: komoju(config) } })`. Throws
 * CONFIGURATION_INVALID at once for a missing or empty `secretKey` / `webhookSecret` or a `baseUrl`
 * that is no http(s) URL, before any engine could store a payment it cannot send.
 */
export const komoju = (options: KomojuConfig): ProviderAdapter<KomojuInputs> => {
  checkOptions("komoju", options)
  const secretKey = checkSecret("komoju", "secretKey", options.secretKey)
  const webhookSecret = checkSecret("komoju", "webhookSecret", options.webhookSecret)
  checkUrl("komoju", "baseUrl", options.baseUrl, false)
  const config = { ...options, secretKey, webhookSecret }
  const clientLayer = KomojuClient.layer(config)
  const now = config.now ?? (() => new Date())
  const keyLifetimeMs = checkKeyLifetime("komoju", config.idempotencyKeyLifetimeMs, 24 * 3_600_000, 23 * 3_600_000)
  const createSettleMs = config.createSettleMs ?? 5 * 60_000
  const run: Run = (what, f, kind = "operation") =>
    Effect.gen(function* () {
      const client = yield* KomojuClient
      return yield* f(client)
    }).pipe(
      Effect.provide(clientLayer),
      Effect.mapError((e) => toPaystateError(e, what, kind)),
    )

  /**
   * Finds paystate's payment at KOMOJU: by its KOMOJU id once known, else by paystate's id in the
   * metadata, listing the payments created since a day before the effect was stored (a day of margin
   * for clocks that disagree), filtered by the order number when there is one.
   */
  const lookup = (ctx: MachineContext, since?: string): Effect.Effect<Found, PaystateError> =>
    ctx.providerRef
      ? run("payment lookup", (c) => c.show(ctx.providerRef!), "lookup").pipe(Effect.map((payment) => ({ payment, complete: true })))
      : Effect.gen(function* () {
          const start = since ? new Date(Date.parse(since) - DAY_MS).toISOString() : undefined
          for (let page = 1; page <= (config.lookupPages ?? 5); page++) {
            const q = { page, per_page: 100, ...(ctx.externalOrderNum ? { external_order_num: ctx.externalOrderNum } : {}), ...(start ? { start_time: start } : {}) }
            const list = yield* run("payment search", (c) => c.listPayments(q), "lookup")
            const hit = list.data.find((p) => paystateIdOf(p) === ctx.id)
            if (hit) return { payment: hit, complete: true }
            if (page >= list.last_page) return { payment: undefined, complete: true }
          }
          return { payment: undefined, complete: false }
        })

  const refOf = (ctx: MachineContext): Effect.Effect<string, PaystateError> =>
    ctx.providerRef
      ? Effect.succeed(ctx.providerRef)
      : lookup(ctx).pipe(
          Effect.flatMap((f) => (f.payment ? Effect.succeed(f.payment.id) : Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `KOMOJU has not confirmed payment ${ctx.id} yet; the operation will be retried.`, undefined, true)))),
        )

  /** The answer as events: the payment and a report of every refund, each naming paystate's refund only by its echo. */
  const synced = (opId: string, p: KomojuPayment): OutcomeEvents => [{ type: "OP.SUCCEEDED", opId, payment: paymentState(p, true), refunds: allReports(p) }]

  const entryOf = (ctx: MachineContext, id: string): LedgerEntry | undefined => ctx.refunds.find((r: LedgerEntry) => r.id === id)

  /** The create's `payment_details` with the card data from memory merged back, and what is still missing. */
  const cardData = (effect: OutboxEffect) => {
    const request = effect.payload as Details & { payment_details?: Record<string, unknown> }
    const secret = (effect.secret?.payment_details ?? undefined) as Record<string, unknown> | undefined
    const details = request.payment_details ? { ...request.payment_details, ...(secret ?? {}) } : undefined
    const type = typeof details?.type === "string" ? details.type : undefined
    const needed = type && isKomojuMethod(type) ? (SECRET_PAYMENT_DETAILS[type] ?? []).filter((k) => METHOD_RULES[type].required.includes(k)) : []
    return { details, type, missing: needed.filter((k) => details?.[k] === undefined || details[k] === null || details[k] === "") }
  }

  /** The create body: the stored request, paystate's id in the metadata, and the card data from memory. */
  const createBody = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<Details, PaystateError> => {
    const request = effect.payload as Details & { metadata?: Record<string, string> }
    const { details, type, missing } = cardData(effect)
    // Card data never reaches the store: after a restart (or in another process) it is gone, and
    // a create that still needs it cannot be sent. The host asks the customer again, or uses a
    // KOMOJU customer (`customer`), whose card KOMOJU keeps.
    if (missing.length > 0) {
      return Effect.fail(
        paystateError("CARD_DATA_UNAVAILABLE", `The ${type} data of payment ${ctx.id} (${missing.join(", ")}) was held in memory only and is gone (restart or another process); create the payment again with the customer's data, or with a KOMOJU customer.`, {
          paymentId: ctx.id,
          method: type ?? null,
        }),
      )
    }
    return Effect.succeed({ ...request, ...(details ? { payment_details: details } : {}), metadata: { ...(request.metadata ?? {}), [PAYSTATE_ID_KEY]: ctx.id } } as Details)
  }

  /** A refund or refund request body: the stored payload, with paystate's refund id carried in the description. */
  const refundBody = (effect: OutboxEffect): Details => {
    const payload = effect.payload as Details & { description?: string | null }
    return { ...payload, description: carrierDescription(effect.opId, payload.description) }
  }

  /** POSTs a refund or refund request; the answer must name ours by its echo, never by position or amount. */
  const postRefund = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    Effect.gen(function* () {
      const ref = yield* refOf(ctx)
      const key = { idempotencyKey: effect.idempotencyKey }
      const body = refundBody(effect)
      const p =
        effect.op === "refund"
          ? yield* run("the refund", (c) => c.refund(ref, body as never, key))
          : yield* run("the refund request", (c) => c.refundRequest(ref, body as never, key))
      if (!carriedBy(p, effect.op, effect.opId)) {
        return yield* Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `KOMOJU's answer to ${effect.op} ${effect.opId} shows no ${effect.op} carrying paystate's id; it will be looked up again.`, undefined, true))
      }
      return synced(effect.opId, p)
    })

  const execute = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    Effect.gen(function* () {
      const key = { idempotencyKey: effect.idempotencyKey }
      switch (effect.op) {
        case "create": {
          const body = yield* createBody(effect, ctx)
          const p = yield* run("the payment", (c) => c.create(body as never, key))
          return synced(effect.opId, p)
        }
        case "capture": {
          const ref = yield* refOf(ctx)
          return synced(effect.opId, yield* run("the capture", (c) => c.capture(ref, key)))
        }
        case "cancel": {
          const ref = yield* refOf(ctx)
          return synced(effect.opId, yield* run("the cancel", (c) => c.cancel(ref, key)))
        }
        case "update": {
          const ref = yield* refOf(ctx)
          const u = effect.payload as { description?: string | null; metadata?: Record<string, string> }
          // The metadata is replaced as a whole, so paystate's id goes along to keep webhooks addressable.
          const body = { ...(u.description !== undefined ? { description: u.description } : {}), ...(u.metadata ? { metadata: { ...u.metadata, [PAYSTATE_ID_KEY]: ctx.id } } : {}) }
          return synced(effect.opId, yield* run("the update", (c) => c.update(ref, body)))
        }
        case "refund":
        case "refund_request":
          return yield* postRefund(effect, ctx)
        case "refund.status":
        case "payment.status": {
          // Lookups: the payment as KOMOJU has it now, with every refund and refund request. A lookup
          // that fails (404, 500, no answer) cannot tell, and never fails the refund it looks at.
          const ref = yield* refOf(ctx)
          return synced(effect.opId, yield* run("the status lookup", (c) => c.show(ref), "lookup"))
        }
        default:
          return yield* Effect.fail(paystateError("PROVIDER_REJECTED", `KOMOJU has no operation "${effect.op}".`, { code: "unknown_operation" }))
      }
    })

  /** True while KOMOJU still holds the effect's idempotency key, so a re-send replays the first answer. */
  const keyAlive = (effect: OutboxEffect): boolean => idempotencyKeyAlive(effect, keyLifetimeMs, config.now?.())

  /**
   * The idempotent replay as a lookup: the same POST with the same key and the same bytes. KOMOJU
   * answers the first response if it performed the first attempt, and performs it now otherwise;
   * either way the answer is KOMOJU's answer to the operation. A definite refusal in it fails the
   * operation; anything else (no answer, 5xx, 409, a key KOMOJU says was used with another body)
   * cannot tell.
   */
  const replay = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<Reconciliation, never> =>
    execute(effect, ctx).pipe(
      Effect.map(answered),
      Effect.catch((e: PaystateError) =>
        Effect.succeed(
          e.code === "PROVIDER_REJECTED"
            ? answered([{ type: "OP.FAILED", opId: effect.opId, code: String((e.details as { code?: unknown } | undefined)?.code ?? e.code), message: e.message }])
            : cannotTell(`the replay of ${effect.op} ${effect.opId} could not tell: ${e.message}`),
        ),
      ),
    )

  /**
   * Finds out what became of an effect whose answer never arrived, without guessing:
   * - create: the payment carrying paystate's id in its metadata is the answer; a complete listing
   *   without it proves KOMOJU never saw the create (not performed: sent again, same key and bytes).
   * - refund, refund request: the refund carrying paystate's id in its description is the answer;
   *   its absence proves nothing was made only when every refund of the payment is accounted for
   *   (carries a paystate id or is recorded on another entry). Otherwise, while the key lives, the
   *   idempotent replay answers; after that it cannot tell (a person looks, via engine.review).
   * - capture, cancel, update: the payment's state shows whether it happened; when it did not, the
   *   request is sent again and KOMOJU's own answer (not the lookup) accepts or refuses it.
   * - lookups (refund.status, payment.status): nothing to find; asking again is harmless.
   * Every failing lookup (4xx, 5xx, no answer) is an error, which the engine reads as "cannot tell".
   */
  const reconcile = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<Reconciliation, PaystateError> =>
    Effect.gen(function* () {
      if (effect.op === "refund.status" || effect.op === "payment.status") return notPerformed
      const found = yield* lookup(ctx, effect.createdAt)
      const p = found.payment
      if (effect.op === "create") {
        if (p) return answered(synced(effect.opId, p))
        if (found.complete) {
          // Without its card data the create cannot be sent again, so "not performed" fails it: wait
          // until KOMOJU cannot still be processing the first attempt before believing the list.
          const age = now().getTime() - Date.parse(effect.createdAt)
          if (cardData(effect).missing.length > 0 && age < createSettleMs) return cannotTell(`payment ${ctx.id} is not at KOMOJU yet, and its card data is gone: looked up again before it is failed`)
          return notPerformed
        }
        // The replay needs the card data; without it (restart) it cannot tell, and nothing fails.
        if (keyAlive(effect)) return yield* replay(effect, ctx)
        return cannotTell(`payment ${ctx.id} is not in the first ${config.lookupPages ?? 5} pages of KOMOJU's payments`)
      }
      if (!p) return cannotTell(`KOMOJU shows no payment for ${ctx.id} yet`)
      switch (effect.op) {
        case "capture":
          return p.status === "captured" || p.status === "refunded" ? answered(synced(effect.opId, p)) : notPerformed
        case "cancel":
          return p.status === "cancelled" ? answered(synced(effect.opId, p)) : notPerformed
        case "update": {
          const u = effect.payload as { description?: string | null; metadata?: Record<string, string> }
          const same = (u.description === undefined || u.description === p.description) && (!u.metadata || Object.entries(u.metadata).every(([k, v]) => p.metadata[k] === v))
          return same ? answered(synced(effect.opId, p)) : notPerformed
        }
        case "refund":
        case "refund_request": {
          const entry = entryOf(ctx, effect.opId)
          const list: readonly { id: string }[] = effect.op === "refund" ? p.refunds : p.refund_requests
          // Identity: our id echoed in the description, or KOMOJU's refund id already recorded on the entry.
          if (carriedBy(p, effect.op, effect.opId) || (entry?.providerRef && list.some((r) => r.id === entry.providerRef))) return answered(synced(effect.opId, p))
          const others = unidentified(p, effect.op, ctx.refunds.filter((r) => r !== entry))
          if (others.length === 0) return notPerformed
          if (keyAlive(effect)) return yield* replay(effect, ctx)
          // Not final: a later lookup may show our id on one of them; a replay now would be a second refund.
          return cannotTell(`KOMOJU shows no ${effect.op} carrying ${effect.opId}, but ${others.length} of its ${effect.op}s carry no paystate id (${others.map((r) => r.id).join(", ")}) and the idempotency key has expired`)
        }
        default:
          return cannotTell(`KOMOJU has no operation "${effect.op}"`)
      }
    })

  /** Reads one header; a repeated or non-string one is WEBHOOK_REJECTED, never a raw error. */
  const header = (h: WebhookRequest["headers"], name: string): Effect.Effect<string | undefined, PaystateError> =>
    Effect.try({ try: () => singleHeader(h, name), catch: (e) => e as PaystateError })

  const webhook = (request: WebhookRequest) =>
    Effect.gen(function* () {
      if (request === null || typeof request !== "object") return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", "A webhook is { headers, rawBody }."))
      const body = request.rawBody as unknown
      if (typeof body !== "string" && !(body instanceof Uint8Array)) return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", "The webhook's rawBody must be the raw bytes (a string or a Uint8Array)."))
      const raw = typeof body === "string" ? Buffer.from(body, "utf8") : body
      const signature = yield* header(request.headers, "x-komoju-signature")
      if (!verifyKomojuSignature(config.webhookSecret, raw, signature)) {
        return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", "Bad or missing X-Komoju-Signature: it must be the hex HMAC-SHA256 of the raw body under the webhook secret."))
      }
      let json: unknown
      try {
        json = JSON.parse(Buffer.from(raw).toString("utf8"))
      } catch {
        return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", "The webhook body is not JSON."))
      }
      const event = komojuEvent.safeParse(json)
      if (!event.success) return yield* Effect.fail(paystateError("WEBHOOK_REJECTED", `Not a KOMOJU event: ${event.error.message}`))
      const delivery = yield* header(request.headers, "x-komoju-id")
      const dedupeKeys = [`event:${event.data.id}`, ...(delivery ? [`delivery:${delivery}`] : [])]
      if (event.data.type === "ping") return { dedupeKeys, updates: [] }
      let payment: KomojuPayment
      let authoritative = false
      const asPayment = komojuPayment.safeParse(event.data.data)
      const asRequest = komojuRefundRequest.safeParse(event.data.data)
      if (asPayment.success && event.data.type !== "payment.updated") payment = asPayment.data
      else if (asPayment.success || asRequest.success) {
        // payment.updated carries description and metadata, which a stale copy must not overwrite:
        // read the current payment instead; a bare refund request names its payment.
        const ref = asPayment.success ? asPayment.data.id : asRequest.data!.payment
        payment = yield* run("the webhook's payment lookup", (c) => c.show(ref), "lookup")
        authoritative = true
      } else return { dedupeKeys, updates: [] }
      const paymentId = paystateIdOf(payment)
      return {
        dedupeKeys,
        updates: [{ ...(paymentId ? { paymentId } : {}), providerRef: payment.id, events: [{ type: "PROVIDER.SYNC" as const, payment: paymentState(payment, authoritative), refunds: allReports(payment) }] }],
      }
    })

  const fetch = (ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    lookup(ctx).pipe(Effect.map((f) => (f.payment ? [{ type: "PROVIDER.SYNC" as const, payment: paymentState(f.payment, true), refunds: allReports(f.payment) }] : [])))

  return {
    name: config.name ?? "komoju",
    machine: createKomojuMachine(config.refundPollDelaysMs ? { refundPollDelaysMs: config.refundPollDelaysMs } : {}),
    createSchema: komojuCreateSchema(config.taxRatePercent ?? 10),
    refundSchema: komojuRefundSchema as never,
    refundRequestSchema: komojuRefundRequestSchema as never,
    execute,
    reconcile,
    webhook,
    fetch,
    sensitive: KOMOJU_SENSITIVE,
  }
}
