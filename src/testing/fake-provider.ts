/**
 * An in-process provider for testing hosts and the runtime itself: the shared lifecycle machine, a
 * provider that honours idempotency keys like a real one, a money ledger, scripted failures
 * (definite rejection, unavailability before or after performing), and HMAC-signed webhooks.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { Effect } from "effect"
import { z } from "zod"
import { lifecycleMachine, type MachineContext, type PaymentStatus } from "../../machines/lifecycle/index.js"
import { paystateError } from "../errors.js"
import { answered, notPerformed, type OutboxEffect, type OutcomeEvents, type ProviderAdapter, type ProviderCreate } from "../provider.js"

/** What the fake provider does with the next call of an operation. */
export type FakeOutcome = "ok" | "reject" | "unavailable" | "perform-then-unavailable"

/** A money movement the fake provider performed. */
export interface FakeMovement {
  readonly op: string
  readonly paymentRef: string
  readonly amount: number
  readonly idempotencyKey: string
  /** The provider's id of a refund it made. */
  readonly refundRef?: string
}

/** The fake provider's own fields: how the payment starts, and an optional deadline. */
export interface FakeInputs {
  readonly create: { readonly initial_status?: "pending" | "authorized" | "captured"; readonly deadline?: string }
  readonly refund: Record<never, never>
  readonly refundRequest: Record<never, never>
}

/** The fake provider and its controls. */
export interface FakeProvider extends ProviderAdapter<FakeInputs> {
  /** Every movement performed, once per idempotency key. */
  readonly ledger: FakeMovement[]
  /** Every call received (including repeats). */
  readonly calls: { op: string; idempotencyKey: string; attempt: number }[]
  /** Queues outcomes for the next calls of `op` ("*" = any op; "reconcile" = the next lookups). */
  script(op: string, ...outcomes: FakeOutcome[]): void
  /** Refund ids still pending at the provider; `settleRefund` completes or fails them. */
  settleRefund(providerRef: string, to: "succeeded" | "failed"): void
  /** Signs a webhook body as the fake provider does. */
  sign(rawBody: string): string
}

const createSchema = z
  .looseObject({
    amount: z.number().int().nonnegative(),
    initial_status: z.enum(["pending", "authorized", "captured"]).default("captured"),
    deadline: z.iso.datetime().optional(),
  })
  .transform(
    (v): ProviderCreate => ({ amount: v.amount, method: "fake", deadline: v.deadline ?? null, request: { amount: v.amount, initial_status: v.initial_status } }),
  )

/** Creates a fake provider named `name` (default "fake"). */
export const fakeProvider = (options: { name?: string; webhookSecret?: string; pendingRefunds?: boolean } = {}): FakeProvider => {
  const name = options.name ?? "fake"
  const secret = options.webhookSecret ?? "whsec_fake"
  const ledger: FakeMovement[] = []
  const calls: FakeProvider["calls"] = []
  const scripts = new Map<string, FakeOutcome[]>()
  const performed = new Map<string, OutcomeEvents>()
  const refundStatus = new Map<string, "pending" | "succeeded" | "failed">()
  let seq = 0

  const next = (op: string): FakeOutcome => scripts.get(op)?.shift() ?? scripts.get("*")?.shift() ?? "ok"

  const perform = (effect: OutboxEffect, ctx: MachineContext): OutcomeEvents => {
    const prior = performed.get(effect.idempotencyKey)
    if (prior) return prior
    const ref = ctx.providerRef ?? `fk_${++seq}`
    let events: OutcomeEvents
    switch (effect.op) {
      case "create": {
        const status = String(effect.payload.initial_status ?? "captured") as PaymentStatus
        if (status === "captured") ledger.push({ op: "capture", paymentRef: ref, amount: ctx.amount, idempotencyKey: effect.idempotencyKey })
        events = [{ type: "OP.SUCCEEDED", opId: effect.opId, payment: { status, providerRef: ref } }]
        break
      }
      case "capture":
        ledger.push({ op: "capture", paymentRef: ref, amount: ctx.amount, idempotencyKey: effect.idempotencyKey })
        events = [{ type: "OP.SUCCEEDED", opId: effect.opId, payment: { status: "captured", capturedAmount: ctx.amount } }]
        break
      case "cancel":
        events = [{ type: "OP.SUCCEEDED", opId: effect.opId, payment: { status: "cancelled" } }]
        break
      case "update":
        events = [{ type: "OP.SUCCEEDED", opId: effect.opId, payment: effect.payload as never }]
        break
      case "refund.status": {
        const entry = ctx.refunds.find((r) => r.id === effect.payload.refundId)
        const status = entry?.providerRef ? refundStatus.get(entry.providerRef) : undefined
        return [{ type: "OP.SUCCEEDED", opId: effect.opId, refunds: status && entry ? [{ refundId: entry.id, status }] : [] }]
      }
      default: {
        const amount = Number(effect.payload.amount)
        const refundRef = `fkr_${++seq}`
        const status = options.pendingRefunds ? "pending" : "succeeded"
        refundStatus.set(refundRef, status)
        ledger.push({ op: effect.op, paymentRef: ref, amount, idempotencyKey: effect.idempotencyKey, refundRef })
        events = [{ type: "OP.SUCCEEDED", opId: effect.opId, refunds: [{ refundId: effect.opId, providerRef: refundRef, amount, status }] }]
      }
    }
    performed.set(effect.idempotencyKey, events)
    return events
  }

  const adapter: FakeProvider = {
    name,
    machine: lifecycleMachine,
    createSchema: createSchema as never,
    refundSchema: z.strictObject({}),
    refundRequestSchema: z.strictObject({}),
    ledger,
    calls,
    execute: (effect, ctx) =>
      Effect.suspend(() => {
        calls.push({ op: effect.op, idempotencyKey: effect.idempotencyKey, attempt: effect.attempt })
        const outcome = next(effect.op)
        if (outcome === "reject") return Effect.fail(paystateError("PROVIDER_REJECTED", `fake provider rejected ${effect.op}`, { code: "rejected" }))
        if (outcome === "unavailable") return Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `fake provider unavailable for ${effect.op}`, undefined, true))
        const events = perform(effect, ctx)
        if (outcome === "perform-then-unavailable") return Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `fake provider dropped the answer to ${effect.op}`, undefined, true))
        return Effect.succeed(events)
      }),
    // The fake keeps every answer by idempotency key: a lookup is exact, never a guess.
    // `script("reconcile", "reject" | "unavailable")` makes the lookup itself fail (a 404, a 500).
    reconcile: (effect) =>
      Effect.suspend(() => {
        const lookup = scripts.get("reconcile")?.shift()
        if (lookup === "reject") return Effect.fail(paystateError("PROVIDER_REJECTED", `fake provider: the lookup of ${effect.op} answered 404`, { code: "not_found" }))
        if (lookup === "unavailable") return Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `fake provider: the lookup of ${effect.op} answered 500`, undefined, true))
        const events = performed.get(effect.idempotencyKey)
        return Effect.succeed(events ? answered(events) : notPerformed)
      }),
    webhook: (request) =>
      Effect.suspend(() => {
        const raw = typeof request.rawBody === "string" ? request.rawBody : Buffer.from(request.rawBody).toString("utf8")
        const given = String(request.headers["x-fake-signature"] ?? "")
        const expected = adapter.sign(raw)
        if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
          return Effect.fail(paystateError("WEBHOOK_REJECTED", "Bad x-fake-signature."))
        }
        const body = JSON.parse(raw) as { id: string; providerRef: string; status?: PaymentStatus; refunds?: never[] }
        return Effect.succeed({ dedupeKeys: [body.id], updates: [{ providerRef: body.providerRef, events: [{ type: "PROVIDER.SYNC" as const, payment: body.status ? { status: body.status } : undefined, refunds: body.refunds }] }] })
      }),
    script: (op, ...outcomes) => scripts.set(op, [...(scripts.get(op) ?? []), ...outcomes]),
    settleRefund: (ref, to) => {
      refundStatus.set(ref, to)
      if (to === "failed") {
        const i = ledger.findIndex((m) => m.op !== "capture" && m.idempotencyKey && performed.get(m.idempotencyKey)?.some((e) => "refunds" in e && e.refunds?.some((r) => r.providerRef === ref)))
        if (i >= 0) ledger.splice(i, 1)
      }
    },
    sign: (raw) => createHmac("sha256", secret).update(raw).digest("hex"),
  }
  return adapter
}
