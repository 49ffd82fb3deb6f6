/**
 * The KOMOJU adapter: performs the machine's effects through the KomojuClient with the effect's
 * idempotency key, looks the payment up before anything whose outcome is unknown is sent again,
 * and turns signed webhooks into machine events.
 */
import { Effect } from "effect"
import type { MachineContext } from "../../../machines/lifecycle/machine.js"
import type { Details, LedgerEntry, ProviderRefundState } from "../../../machines/lifecycle/types.js"
import { createKomojuMachine } from "../../../machines/komoju/index.js"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import type { OutboxEffect, OutcomeEvents, ProviderAdapter, WebhookRequest } from "../../../src/provider.js"
import { KomojuClient, type KomojuClientConfig, type KomojuClientShape } from "./client.js"
import { toPaystateError, type KomojuError } from "./errors.js"
import { komojuCreateSchema, komojuRefundRequestSchema, komojuRefundSchema } from "./inputs.js"
import { allReports, findOurs, PAYSTATE_ID_KEY, paymentState, paystateIdOf, refundReport, requestReport } from "./mapping.js"
import { verifyKomojuSignature } from "./signing.js"
import { komojuEvent, komojuPayment, komojuRefundRequest, type KomojuPayment } from "./wire.js"

/** Configuration of the KOMOJU adapter. */
export interface KomojuConfig extends KomojuClientConfig {
  /** Secret that signs webhooks (`X-Komoju-Signature`). */
  readonly webhookSecret: string
  /** What `tax: "auto"` means, in percent (KOMOJU: 10). Used for the ceiling until KOMOJU answers. */
  readonly taxRatePercent?: number
  /** When pending refunds and refund requests are looked up again (see the policy's default). */
  readonly refundPollDelaysMs?: readonly number[]
  /** Pages of 100 searched for a payment whose create answer was lost. Default 5. */
  readonly lookupPages?: number
  /** Adapter name, i.e. the key under `createEngine({ providers })`. Default "komoju". */
  readonly name?: string
}

type Run = <A>(what: string, f: (c: KomojuClientShape) => Effect.Effect<A, KomojuError>) => Effect.Effect<A, PaystateError>

const header = (h: WebhookRequest["headers"], name: string): string | undefined => {
  const v = h[name] ?? h[name.toLowerCase()] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1]
  return Array.isArray(v) ? v[0] : (v as string | undefined)
}

/** Creates the KOMOJU adapter for `createEngine({ providers: { komoju: komoju(config) } })`. */
export const komoju = (config: KomojuConfig): ProviderAdapter => {
  const clientLayer = KomojuClient.layer(config)
  const run: Run = (what, f) =>
    Effect.gen(function* () {
      const client = yield* KomojuClient
      return yield* f(client)
    }).pipe(
      Effect.provide(clientLayer),
      Effect.mapError((e) => toPaystateError(e, what)),
    )

  /** Finds paystate's payment at KOMOJU when its create answer never arrived (metadata carries our id). */
  const lookup = (ctx: MachineContext): Effect.Effect<KomojuPayment | undefined, PaystateError> =>
    ctx.providerRef
      ? run("payment lookup", (c) => c.show(ctx.providerRef!))
      : Effect.gen(function* () {
          for (let page = 1; page <= (config.lookupPages ?? 5); page++) {
            const q = { page, per_page: 100, ...(ctx.externalOrderNum ? { external_order_num: ctx.externalOrderNum } : {}) }
            const list = yield* run("payment search", (c) => c.listPayments(q))
            const hit = list.data.find((p) => paystateIdOf(p) === ctx.id)
            if (hit || page >= list.last_page) return hit
          }
          return undefined
        })

  const refOf = (ctx: MachineContext): Effect.Effect<string, PaystateError> =>
    ctx.providerRef
      ? Effect.succeed(ctx.providerRef)
      : lookup(ctx).pipe(
          Effect.flatMap((p) => (p ? Effect.succeed(p.id) : Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `KOMOJU has not confirmed payment ${ctx.id} yet; the operation will be retried.`, undefined, true)))),
        )

  const synced = (opId: string, p: KomojuPayment, first?: ProviderRefundState): OutcomeEvents => [
    { type: "OP.SUCCEEDED", opId, payment: paymentState(p, true), refunds: allReports(p, first) },
  ]

  const entryOf = (ctx: MachineContext, id: string): LedgerEntry | undefined => ctx.refunds.find((r: LedgerEntry) => r.id === id)

  /** The events of a refund or refund request answer: our entry named by its refundId. */
  const refundOutcome = (effect: OutboxEffect, ctx: MachineContext, p: KomojuPayment, pick: "newest" | "oldest"): OutcomeEvents | undefined => {
    const entry = entryOf(ctx, effect.opId)
    if (!entry) return synced(effect.opId, p)
    const ours =
      entry.kind === "refund_request"
        ? findOurs(p.refund_requests, entry, ctx.refunds, pick)
        : findOurs(p.refunds, entry, ctx.refunds, pick)
    if (!ours) return undefined
    const report = entry.kind === "refund_request" ? requestReport(ours as never, entry.id) : refundReport(ours as never, entry.id)
    return synced(effect.opId, p, report)
  }

  const createBody = (effect: OutboxEffect, ctx: MachineContext) => {
    const request = effect.payload as Details & { metadata?: Record<string, string> }
    return { ...request, metadata: { ...(request.metadata ?? {}), [PAYSTATE_ID_KEY]: ctx.id } } as never
  }

  const execute = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    Effect.gen(function* () {
      const key = { idempotencyKey: effect.idempotencyKey }
      switch (effect.op) {
        case "create": {
          const p = yield* run("the payment", (c) => c.create(createBody(effect, ctx), key))
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
        case "refund_request": {
          const ref = yield* refOf(ctx)
          const p =
            effect.op === "refund"
              ? yield* run("the refund", (c) => c.refund(ref, effect.payload as never, key))
              : yield* run("the refund request", (c) => c.refundRequest(ref, effect.payload as never, key))
          const events = refundOutcome(effect, ctx, p, "newest")
          if (!events) return yield* Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `KOMOJU's answer to ${effect.op} ${effect.opId} shows no new ${effect.op}; it will be looked up again.`, undefined, true))
          return events
        }
        case "refund.status":
        case "payment.status": {
          // Lookups: the payment as KOMOJU has it now, with every refund and refund request.
          const ref = yield* refOf(ctx)
          return synced(effect.opId, yield* run("the status lookup", (c) => c.show(ref)))
        }
        default:
          return yield* Effect.fail(paystateError("PROVIDER_REJECTED", `KOMOJU has no operation "${effect.op}".`, { code: "unknown_operation" }))
      }
    })

  /** Looks first: what became of an effect whose answer never arrived. undefined = KOMOJU never saw it. */
  const reconcile = (effect: OutboxEffect, ctx: MachineContext): Effect.Effect<OutcomeEvents | undefined, PaystateError> =>
    Effect.gen(function* () {
      if (effect.op === "refund.status" || effect.op === "payment.status") return undefined
      const p = yield* lookup(ctx)
      if (!p) return undefined // never created: sending again (same idempotency key) is safe
      switch (effect.op) {
        case "create":
          return synced(effect.opId, p)
        case "capture":
          if (p.status === "captured" || p.status === "refunded") return synced(effect.opId, p)
          if (p.status === "authorized") return undefined
          return [{ type: "OP.FAILED", opId: effect.opId, code: "not_capturable", message: `The payment is ${p.status} at KOMOJU.`, payment: paymentState(p, true) }]
        case "cancel":
          if (p.status === "cancelled") return synced(effect.opId, p)
          if (p.status === "pending" || p.status === "authorized") return undefined
          return [{ type: "OP.FAILED", opId: effect.opId, code: "not_cancellable", message: `The payment is ${p.status} at KOMOJU.`, payment: paymentState(p, true) }]
        case "update": {
          const u = effect.payload as { description?: string | null; metadata?: Record<string, string> }
          const same = (u.description === undefined || u.description === p.description) && (!u.metadata || Object.entries(u.metadata).every(([k, v]) => p.metadata[k] === v))
          return same ? synced(effect.opId, p) : undefined
        }
        case "refund":
        case "refund_request":
          return refundOutcome(effect, ctx, p, "oldest")
        default:
          return undefined
      }
    })

  const webhook = (request: WebhookRequest) =>
    Effect.gen(function* () {
      const raw = typeof request.rawBody === "string" ? Buffer.from(request.rawBody, "utf8") : request.rawBody
      if (!verifyKomojuSignature(config.webhookSecret, raw, header(request.headers, "x-komoju-signature"))) {
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
      const delivery = header(request.headers, "x-komoju-id")
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
        payment = yield* run("the webhook's payment lookup", (c) => c.show(ref))
        authoritative = true
      } else return { dedupeKeys, updates: [] }
      const paymentId = paystateIdOf(payment)
      return {
        dedupeKeys,
        updates: [{ ...(paymentId ? { paymentId } : {}), providerRef: payment.id, events: [{ type: "PROVIDER.SYNC" as const, payment: paymentState(payment, authoritative), refunds: allReports(payment) }] }],
      }
    })

  const fetch = (ctx: MachineContext): Effect.Effect<OutcomeEvents, PaystateError> =>
    lookup(ctx).pipe(Effect.map((p) => (p ? [{ type: "PROVIDER.SYNC" as const, payment: paymentState(p, true), refunds: allReports(p) }] : [])))

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
  }
}
