/**
 * The payment lifecycle as one XState machine, specialised per provider by a `PaymentPolicy`.
 *
 * The machine is pure: it never reads a clock (every event carries `at`) and performs no I/O. What
 * it wants done comes back from `transition()` as `effect`, `timer`, `cancelTimer` and `refuse`
 * actions, which the engine persists in the same transaction as the snapshot and then carries out.
 *
 * States are derived from two facts in context: the status the provider last reported (`reported`,
 * which only moves forward) and the refund ledger. That is how a webhook, an API answer, a poll and a
 * reconciliation lookup all go through one path.
 */
import { enqueueActions, setup } from "xstate"

// Standalone enqueueActions are typed against EventObject; the machine below fixes the real types.
const act = (fn: (args: { context: any; event: any; enqueue: any }) => void): any => enqueueActions(fn as never)
import { applyReports, failEntry, fits, RESERVING, settleUnattributed, totals } from "./ledger.js"
import type {
  Details,
  EffectRequest,
  LedgerEntry,
  PaymentContext,
  PaymentEvent,
  PaymentInput,
  PaymentStatus,
  ProviderPaymentState,
  Refusal,
  TimerRequest,
} from "./types.js"

type RefundEvent = Extract<PaymentEvent, { type: "REFUND" }>
type OpEvent<T extends PaymentEvent["type"]> = Extract<PaymentEvent, { type: T }>

/** How a provider carries out one refund, or why it will not. */
export type RefundPlan =
  | { readonly ok: false; readonly refusal: Refusal }
  | {
      readonly ok: true
      readonly entry: { readonly kind: string; readonly amount: number; readonly providerStatus?: string; readonly details?: Details }
      readonly effect: { readonly op: string; readonly payload: Details }
    }

/** A provider's rules, plugged into the lifecycle. Every function is pure. */
export interface PaymentPolicy {
  /** Machine id, e.g. "komoju". */
  readonly id: string
  /** Allows (undefined) or refuses a capture of an authorized payment; absent means capture is not offered. */
  readonly capture?: (ctx: PaymentContext, event: OpEvent<"CAPTURE">) => Refusal | undefined
  /** Allows or refuses a cancel of a pending or authorized payment; absent means cancel is not offered. */
  readonly cancel?: (ctx: PaymentContext, event: OpEvent<"CANCEL">) => Refusal | undefined
  /** Allows or refuses an update; absent means update is not offered. */
  readonly update?: (ctx: PaymentContext, event: OpEvent<"UPDATE">) => Refusal | undefined
  /** Decides how a refund of a captured payment is carried out. The ceiling is checked again after it. */
  readonly planRefund: (ctx: PaymentContext, event: RefundEvent) => RefundPlan
  /**
   * Ask the provider at the deadline instead of expiring on the engine's word alone: a customer who
   * paid in the last second (webhook delayed) must not end `expired`. Needs the adapter to answer the
   * `payment.status` effect.
   */
  readonly confirmExpiry?: boolean
  /** Delays (ms) after which a refund still in flight is looked up; after the last it is flagged for review. */
  readonly refundPollDelaysMs?: readonly number[]
}

/** How long to wait before asking again when the provider has not expired a payment past its deadline. */
const EXPIRY_RECHECK_MS = 15 * 60_000

const RANK: Record<PaymentStatus, number> = { pending: 0, authorized: 1, captured: 2, refunded: 2, cancelled: 3, expired: 3, failed: 3 }

/** Where each status can go; money that was captured is only ever given back through refunds. */
const NEXT: Record<PaymentStatus, readonly PaymentStatus[]> = {
  pending: ["authorized", "captured", "refunded", "cancelled", "expired", "failed"],
  authorized: ["captured", "refunded", "cancelled", "expired", "failed"],
  captured: ["refunded"],
  refunded: ["captured"],
  cancelled: [],
  expired: [],
  failed: [],
}

/** Merges what a provider reports into the context; statuses only move forward. */
export const mergePayment = (ctx: MachineContext, p: ProviderPaymentState | undefined, at: string): MachineContext => {
  if (!p) return ctx
  // A stale or reordered report (authorized after captured) never moves the status back.
  const moves = p.status !== undefined && RANK[p.status] >= RANK[ctx.reported] && (p.status === ctx.reported || NEXT[ctx.reported].includes(p.status))
  const reported = moves && p.status ? p.status : ctx.reported
  const captured = p.capturedAmount ?? (reported === "captured" || reported === "refunded" ? Math.max(ctx.capturedAmount, p.amount ?? ctx.amount) : ctx.capturedAmount)
  return {
    ...ctx,
    reported,
    providerRef: ctx.providerRef ?? p.providerRef ?? null,
    amount: p.amount ?? ctx.amount,
    capturedAmount: captured,
    method: p.method ?? ctx.method,
    description: p.description !== undefined ? p.description : ctx.description,
    metadata: p.metadata ?? ctx.metadata,
    deadline: p.deadline !== undefined ? p.deadline : ctx.deadline,
    details: p.details ? { ...ctx.details, ...p.details } : ctx.details,
    updatedAt: at,
  }
}

/** The status a context implies: the provider's word, with captured/refunded decided by the ledger. */
export const impliedStatus = (ctx: MachineContext): PaymentStatus => {
  if (ctx.reported === "captured" || ctx.reported === "refunded") {
    const t = totals(ctx)
    return ctx.capturedAmount > 0 && t.settled >= ctx.capturedAmount ? "refunded" : "captured"
  }
  return ctx.reported
}

/** Context of a payment machine, with the provider's last reported status. */
export interface MachineContext extends PaymentContext {
  readonly reported: PaymentStatus
}

const opState = (op: string, status: "requested" | "succeeded" | "failed", at: string, error?: { code: string; message: string }) => ({
  op,
  status,
  at,
  error: error ?? null,
})

const refusal = (code: Refusal["code"], message: string, details?: Details) => ({ type: "refuse" as const, params: { code, message, details } })

/** Builds the machine for one provider from its policy. */
export const createPaymentMachine = (policy: PaymentPolicy) => {
  const pollTimer = (entry: LedgerEntry, n: number, at: string): TimerRequest | undefined => {
    const delay = policy.refundPollDelaysMs?.[n]
    if (delay === undefined) return undefined
    return { timerId: `poll:${entry.id}`, name: "poll", at: new Date(Date.parse(at) + delay).toISOString(), data: { refundId: entry.id, n } }
  }

  /** Applies provider facts and asks for polls of refunds that became pending. */
  const sync = act(({ context, event, enqueue }) => {
    const e = event as PaymentEvent
    if (e.type !== "OP.SUCCEEDED" && e.type !== "PROVIDER.SYNC" && e.type !== "OP.FAILED") return
    let ctx = mergePayment(context as MachineContext, e.payment, e.at)
    if (e.type === "OP.SUCCEEDED" || e.type === "OP.FAILED") {
      const prior = ctx.ops[e.opId]
      const failed = e.type === "OP.FAILED"
      if (prior && prior.status === "requested") {
        ctx = {
          ...ctx,
          ops: { ...ctx.ops, [e.opId]: opState(prior.op, failed ? "failed" : "succeeded", e.at, failed ? { code: e.code, message: e.message } : undefined) },
        }
        if (!failed && !e.payment) ctx = defaultOutcome(ctx, prior.op, e.at)
        // The provider still shows the payment open after its deadline: believe it, and look again later.
        if (prior.op === "payment.status" && (ctx.reported === "pending" || ctx.reported === "authorized") && ctx.deadline && Date.parse(e.at) >= Date.parse(ctx.deadline)) {
          enqueue({ type: "timer", params: { timerId: "deadline", name: "deadline", at: new Date(Date.parse(e.at) + EXPIRY_RECHECK_MS).toISOString() } })
        }
        if (failed && prior.op === "create") ctx = { ...ctx, reported: "failed" }
      }
      if (failed) {
        const entry = ctx.refunds.find((r) => r.id === e.opId)
        if (entry) ctx = { ...ctx, refunds: failEntry(ctx.refunds, entry.id, `${e.code}: ${e.message}`, e.at) }
      }
    }
    if (e.type !== "OP.FAILED") {
      const before = ctx.refunds
      const refunds = applyReports(before, e.refunds, e.at)
      if (refunds !== before) {
        ctx = { ...ctx, refunds, updatedAt: e.at }
        for (const r of refunds) {
          const was = before.find((b) => b.id === r.id)
          if (r.status === "pending" && was?.status !== "pending" && !r.needsReview && !r.unattributed) {
            const t = pollTimer(r, 0, e.at)
            if (t) enqueue({ type: "timer", params: t })
          }
          if (was && RESERVING.includes(was.status) && !RESERVING.includes(r.status)) enqueue({ type: "cancelTimer", params: { timerId: `poll:${r.id}` } })
        }
      }
    }
    if (ctx.deadline && ctx.deadline !== context.deadline && (ctx.reported === "pending" || ctx.reported === "authorized")) {
      enqueue({ type: "timer", params: { timerId: "deadline", name: "deadline", at: ctx.deadline } })
    }
    enqueue.assign(() => ctx)
  })

  /** What a successful capture or cancel means when the provider's answer carries no payment. */
  const defaultOutcome = (ctx: MachineContext, op: string, at: string): MachineContext => {
    if (op === "capture") return mergePayment(ctx, { status: "captured" }, at)
    if (op === "cancel") return mergePayment(ctx, { status: "cancelled" }, at)
    return ctx
  }

  /** Starts an operation: records it and asks for the effect, once per opId. */
  const startOp = (op: string, payload: (ctx: MachineContext, e: PaymentEvent) => Details, rule?: (ctx: MachineContext, e: any) => Refusal | undefined) =>
    act(({ context, event, enqueue }) => {
      const e = event as PaymentEvent & { opId: string }
      const ctx = context as MachineContext
      if (ctx.ops[e.opId]) return // a duplicate command: the first one stands
      if (!rule) {
        enqueue(refusal("INVALID_TRANSITION", `${policy.id} payments do not support ${op}.`))
        return
      }
      const refused = rule(ctx, e)
      if (refused) {
        enqueue({ type: "refuse", params: refused })
        return
      }
      enqueue.assign({ ops: { ...ctx.ops, [e.opId]: opState(op, "requested", e.at) }, updatedAt: e.at })
      enqueue({ type: "effect", params: { opId: e.opId, op, payload: payload(ctx, e) } satisfies EffectRequest })
    })

  const refund = act(({ context, event, enqueue }) => {
    const e = event as RefundEvent
    const ctx = context as MachineContext
    if (ctx.refunds.some((r) => r.id === e.refundId)) return // replayed command: nothing changes
    const plan = policy.planRefund(ctx, e)
    if (!plan.ok) {
      enqueue({ type: "refuse", params: plan.refusal })
      return
    }
    if (!fits(ctx, plan.entry.amount)) {
      const t = totals(ctx)
      enqueue(
        refusal("REFUND_EXCEEDS_REFUNDABLE", `A refund of ${plan.entry.amount} exceeds the ${t.refundable} left to refund (settled ${t.settled}, reserved ${t.reserved} of ${t.captured}).`, {
          requested: plan.entry.amount,
          ...t,
        }),
      )
      return
    }
    const entry: LedgerEntry = {
      id: e.refundId,
      kind: plan.entry.kind,
      amount: plan.entry.amount,
      status: "requested",
      providerStatus: plan.entry.providerStatus ?? null,
      providerRef: null,
      reason: null,
      createdAt: e.at,
      updatedAt: e.at,
      details: { ...(e.description ? { description: e.description } : {}), ...(plan.entry.details ?? {}) },
    }
    enqueue.assign({ refunds: [...ctx.refunds, entry], updatedAt: e.at })
    enqueue({ type: "effect", params: { opId: e.refundId, op: plan.effect.op, payload: plan.effect.payload } })
  })

  const onTimer = act(({ context, event, enqueue }) => {
    const e = event as OpEvent<"TIMER">
    const ctx = context as MachineContext
    if (e.name === "deadline") {
      if (ctx.reported !== "pending" && ctx.reported !== "authorized") return
      if (policy.confirmExpiry) {
        const opId = `deadline:${e.at}`
        enqueue.assign({ ops: { ...ctx.ops, [opId]: opState("payment.status", "requested", e.at) }, updatedAt: e.at })
        enqueue({ type: "effect", params: { opId, op: "payment.status", payload: {} } })
        return
      }
      enqueue.assign({ reported: "expired", updatedAt: e.at })
      return
    }
    if (e.name !== "poll") return
    const entry = ctx.refunds.find((r) => r.id === e.data?.refundId)
    if (!entry || !RESERVING.includes(entry.status)) return
    const n = Number(e.data?.n ?? 0)
    const next = pollTimer(entry, n + 1, e.at)
    const gaveUp = next ? {} : { needsReview: true, reviewReason: `Still ${entry.providerStatus ?? entry.status} after ${n + 1} lookups; the provider never settled it.` }
    enqueue.assign({
      refunds: ctx.refunds.map((r) => (r.id === entry.id ? { ...r, polls: n + 1, ...gaveUp, updatedAt: e.at } : r)),
      updatedAt: e.at,
    })
    enqueue({ type: "effect", params: { opId: `${entry.id}:poll:${n}`, op: "refund.status", payload: { refundId: entry.id, providerRef: entry.providerRef ?? null, kind: entry.kind } } })
    if (next) enqueue({ type: "timer", params: next })
  })

  /**
   * A person settles a refund that needs review, or an unattributed provider refund: the outcome is
   * recorded with who and why, the poll stops, and the ceiling must still hold afterwards.
   */
  const resolve = act(({ context, event, enqueue }) => {
    const e = event as OpEvent<"REVIEW.RESOLVE">
    const ctx = context as MachineContext
    const entry = ctx.refunds.find((r) => r.id === e.refundId)
    if (!entry || !(entry.needsReview || entry.unattributed || RESERVING.includes(entry.status))) {
      enqueue(refusal("INVALID_TRANSITION", `Refund ${e.refundId} is ${entry ? entry.status : "unknown"}: only a refund in flight, flagged for review or unattributed can be resolved.`, { refundId: e.refundId }))
      return
    }
    const review = { outcome: e.outcome, note: e.note, by: e.by, at: e.at }
    const settled: LedgerEntry = {
      ...entry,
      status: e.outcome,
      needsReview: false,
      // A provider refund a person confirms is real but not one of paystate's: it is external now.
      ...(entry.unattributed ? { unattributed: false, external: true } : {}),
      reason: e.outcome === "failed" ? `resolved by ${e.by}: ${e.note}` : entry.reason ?? null,
      review,
      updatedAt: e.at,
    }
    const refunds = settleUnattributed(ctx.refunds.map((r) => (r === entry ? settled : r)), e.at)
    const held = (t: ReturnType<typeof totals>) => t.settled + t.reserved + t.unattributed
    const t = totals({ capturedAmount: ctx.capturedAmount, refunds })
    // Money that has moved (settled, and provider refunds already reported done) can never exceed
    // what was captured, and a resolution never adds to what is held beyond it.
    const moved = refunds.reduce((sum, r) => sum + (r.status === "succeeded" ? r.amount : 0), 0)
    if (moved > ctx.capturedAmount || held(t) > Math.max(ctx.capturedAmount, held(totals(ctx)))) {
      enqueue(
        refusal("REFUND_EXCEEDS_REFUNDABLE", `Resolving ${e.refundId} as ${e.outcome} would put ${moved} refunded (settled ${t.settled}, reserved ${t.reserved}, unattributed ${t.unattributed}) above the ${ctx.capturedAmount} captured.`, {
          refundId: e.refundId,
          ...t,
        }),
      )
      return
    }
    enqueue.assign({ refunds, updatedAt: e.at })
    enqueue({ type: "cancelTimer", params: { timerId: `poll:${entry.id}` } })
  })

  /** A person asks for a flagged refund to be looked up again: the poll starts over. */
  const retryReview = act(({ context, event, enqueue }) => {
    const e = event as OpEvent<"REVIEW.RETRY">
    const ctx = context as MachineContext
    const entry = ctx.refunds.find((r) => r.id === e.refundId)
    if (!entry || !RESERVING.includes(entry.status) || entry.unattributed) {
      enqueue(refusal("INVALID_TRANSITION", `Refund ${e.refundId} is not in flight: there is nothing to look up again.`, { refundId: e.refundId }))
      return
    }
    enqueue.assign({ refunds: ctx.refunds.map((r) => (r === entry ? { ...r, needsReview: false, reviewReason: null, polls: 0, updatedAt: e.at } : r)), updatedAt: e.at })
    // The refund's own effect is still in the outbox (being retried): it is the lookup; no poll is added.
    if (e.lookup === false) return
    enqueue({ type: "effect", params: { opId: `${entry.id}:review:${e.at}`, op: "refund.status", payload: { refundId: entry.id, providerRef: entry.providerRef ?? null, kind: entry.kind } } })
    const t = pollTimer(entry, 0, e.at)
    if (t) enqueue({ type: "timer", params: t })
  })

  /** The engine's word that a refund's effect ran out of its retry window: a person must look. */
  const flagReview = act(({ context, event, enqueue }) => {
    const e = event as OpEvent<"REVIEW.FLAG">
    const ctx = context as MachineContext
    const entry = ctx.refunds.find((r) => r.id === e.refundId)
    if (!entry || (entry.needsReview && entry.reviewReason === e.reason)) return
    enqueue.assign({ refunds: ctx.refunds.map((r) => (r === entry ? { ...r, needsReview: true, reviewReason: e.reason, updatedAt: e.at } : r)), updatedAt: e.at })
  })

  const syncEvents = {
    "REVIEW.RESOLVE": { actions: resolve },
    "REVIEW.RETRY": { actions: retryReview },
    "REVIEW.FLAG": { actions: flagReview },
    "OP.SUCCEEDED": { actions: sync },
    "OP.FAILED": { actions: sync },
    "PROVIDER.SYNC": { actions: sync },
    TIMER: { actions: onTimer },
    UPDATE: {
      actions: startOp("update", (_c, e) => {
        const u = e as OpEvent<"UPDATE">
        return { ...(u.description !== undefined ? { description: u.description } : {}), ...(u.metadata ? { metadata: u.metadata } : {}) }
      }, policy.update),
    },
  } as const

  const routes = (from: PaymentStatus) =>
    NEXT[from].map((to) => ({ guard: ({ context }: { context: unknown }) => impliedStatus(context as MachineContext) === to, target: `#${policy.id}.${to}` }))

  const notRefundable = (state: string) => ({
    actions: act(({ enqueue }) =>
      enqueue(refusal("INVALID_TRANSITION", `A ${state} payment cannot be refunded: only a captured payment can.`)),
    ),
  })
  const notCancellable = (state: string) => ({
    actions: act(({ enqueue }) =>
      enqueue(refusal("INVALID_TRANSITION", `A ${state} payment cannot be cancelled: cancel works only from pending or authorized${state === "captured" ? "; refund it instead" : ""}.`)),
    ),
  })
  const notCapturable = (state: string) => ({
    actions: act(({ enqueue }) => enqueue(refusal("INVALID_TRANSITION", `A ${state} payment cannot be captured: only an authorized one can.`))),
  })

  return setup({
    types: {} as { context: MachineContext; events: PaymentEvent; input: PaymentInput },
    actions: {
      effect: (_: unknown, _params: EffectRequest) => {},
      timer: (_: unknown, _params: TimerRequest) => {},
      cancelTimer: (_: unknown, _params: { timerId: string }) => {},
      refuse: (_: unknown, _params: Refusal) => {},
    },
  }).createMachine({
    id: policy.id,
    context: ({ input }) => ({
      id: input.id,
      provider: input.provider,
      currency: input.currency,
      amount: input.amount,
      capturedAmount: 0,
      method: input.method ?? null,
      providerRef: null,
      description: input.description ?? null,
      metadata: input.metadata ?? {},
      externalOrderNum: input.externalOrderNum ?? null,
      createdAt: input.createdAt,
      updatedAt: input.createdAt,
      deadline: input.deadline ?? null,
      request: input.request ?? {},
      details: input.details ?? {},
      refunds: [],
      ops: { create: opState("create", "requested", input.createdAt) },
      reported: "pending",
    }),
    initial: "pending",
    entry: [
      { type: "effect", params: ({ context }) => ({ opId: "create", op: "create", payload: context.request }) },
    ],
    states: {
      pending: {
        entry: act(({ context, enqueue }) => {
          if (context.deadline) enqueue({ type: "timer", params: { timerId: "deadline", name: "deadline", at: context.deadline } })
        }),
        always: routes("pending"),
        on: {
          ...syncEvents,
          CANCEL: { actions: startOp("cancel", () => ({}), policy.cancel) },
          CAPTURE: notCapturable("pending"),
          REFUND: notRefundable("pending"),
        },
      },
      authorized: {
        entry: act(({ context, enqueue }) => {
          if (context.deadline) enqueue({ type: "timer", params: { timerId: "deadline", name: "deadline", at: context.deadline } })
        }),
        always: routes("authorized"),
        on: {
          ...syncEvents,
          CANCEL: { actions: startOp("cancel", () => ({}), policy.cancel) },
          CAPTURE: { actions: startOp("capture", (_c, e) => ((e as OpEvent<"CAPTURE">).amount !== undefined ? { amount: (e as OpEvent<"CAPTURE">).amount! } : {}), policy.capture) },
          REFUND: notRefundable("authorized"),
        },
      },
      captured: {
        entry: { type: "cancelTimer", params: { timerId: "deadline" } },
        initial: "unrefunded",
        always: routes("captured"),
        states: {
          unrefunded: { always: { guard: ({ context }) => totals(context).settled > 0, target: "partiallyRefunded" } },
          partiallyRefunded: { always: { guard: ({ context }) => totals(context).settled === 0, target: "unrefunded" } },
        },
        on: {
          ...syncEvents,
          REFUND: { actions: refund },
          CANCEL: notCancellable("captured"),
          CAPTURE: notCapturable("captured"),
        },
      },
      refunded: {
        // Not final: a bank can reverse a settled refund (OneKey), which reopens the payment.
        always: routes("refunded"),
        on: {
          ...syncEvents,
          REFUND: {
            actions: act(({ enqueue }) => enqueue(refusal("REFUND_EXCEEDS_REFUNDABLE", "The payment is fully refunded: nothing is left to refund."))),
          },
          CANCEL: notCancellable("refunded"),
          CAPTURE: notCapturable("refunded"),
        },
      },
      cancelled: { type: "final", entry: { type: "cancelTimer", params: { timerId: "deadline" } } },
      expired: { type: "final" },
      failed: { type: "final", entry: { type: "cancelTimer", params: { timerId: "deadline" } } },
    },
  })
}

/** The type of a payment machine built by createPaymentMachine. */
export type PaymentMachine = ReturnType<typeof createPaymentMachine>
