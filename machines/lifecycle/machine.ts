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
import { enqueueActions, setup, type AnyStateMachine } from "xstate"

// Standalone enqueueActions are typed against EventObject; the machine below fixes the real types.
const act = (fn: (args: { context: any; event: any; enqueue: any }) => void): any => enqueueActions(fn as never)
import { applyReports, failEntry, fits, RESERVING, settleUnattributed, totals } from "./ledger.js"
import { lifecycleRefundMachine, type RefundEvent } from "./refund.js"
import type {
  Details,
  EffectRequest,
  LedgerEntry,
  PaymentContext,
  PaymentEvent,
  PaymentInput,
  PaymentStatus,
  ProviderPaymentState,
  ProviderRefundState,
  Refusal,
  TimerRequest,
} from "./types.js"

type OpEvent<T extends PaymentEvent["type"]> = Extract<PaymentEvent, { type: T }>

/** How a provider carries out one refund, or why it will not. */
export type RefundPlan =
  | { readonly ok: false; readonly refusal: Refusal }
  | {
      readonly ok: true
      readonly entry: { readonly kind: string; readonly amount: number; readonly providerStatus?: string; readonly details?: Details }
      readonly effect: { readonly op: string; readonly payload: Details }
      /** The refund machine (a key of the policy's `refundMachines`) that runs it. Default: the first one. */
      readonly machine?: string
      /** Facts the refund machine's guards decide by. */
      readonly facts?: Details
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
  readonly planRefund: (ctx: PaymentContext, event: RefundEvent_) => RefundPlan
  /**
   * Ask the provider at the deadline instead of expiring on the engine's word alone: a customer who
   * paid in the last second (webhook delayed) must not end `expired`. Needs the adapter to answer the
   * `payment.status` effect.
   */
  readonly confirmExpiry?: boolean
  /** Delays (ms) after which a refund still in flight is looked up; after the last it is flagged for review. */
  readonly refundPollDelaysMs?: readonly number[]
  /** The provider's refund paths, by name: each refund runs in one of them. Default: the lifecycle's. */
  readonly refundMachines?: Readonly<Record<string, AnyStateMachine>>
  /** False for a provider whose payments are never authorized apart from paid (OneKey): no `authorized` state. */
  readonly authorizes?: boolean
  /** The names the diagram shows for the rules of `capture`, `cancel` and `update` (e.g. "creditCard"). */
  readonly ruleNames?: { readonly capture?: string; readonly cancel?: string; readonly update?: string }
  /** The payment machine's version; bump it when its states change (see docs/versioning.md). Default "1". */
  readonly version?: string
}

const families = new WeakMap<AnyStateMachine, Readonly<Record<string, AnyStateMachine>>>()

/** The refund machines a payment machine starts, by name. */
export const refundMachinesOf = (machine: AnyStateMachine): Readonly<Record<string, AnyStateMachine>> =>
  families.get(machine) ?? { lifecycleRefund: lifecycleRefundMachine }

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

/**
 * Why a person's resolution may not stand, if it may not: money that has moved (settled, and provider
 * refunds already reported done) can never exceed what was captured, and a resolution never adds to
 * what is held beyond it. Shared by refunds settled in their machine and those the ledger settles.
 */
const resolutionRefusal = (ctx: MachineContext, refunds: readonly LedgerEntry[], refundId: string, outcome: string) => {
  const held = (x: ReturnType<typeof totals>) => x.settled + x.reserved + x.unattributed
  const t = totals({ capturedAmount: ctx.capturedAmount, refunds })
  const moved = refunds.reduce((sum, r) => sum + (r.status === "succeeded" ? r.amount : 0), 0)
  if (moved <= ctx.capturedAmount && held(t) <= Math.max(ctx.capturedAmount, held(totals(ctx)))) return undefined
  return refusal("REFUND_EXCEEDS_REFUNDABLE", `Resolving ${refundId} as ${outcome} would put ${moved} refunded (settled ${t.settled}, reserved ${t.reserved}, unattributed ${t.unattributed}) above the ${ctx.capturedAmount} captured.`, {
    refundId,
    ...t,
  })
}

/** Builds the machine for one provider from its policy. */
export const createPaymentMachine = (policy: PaymentPolicy) => {
  const refundMachines = policy.refundMachines ?? { lifecycleRefund: lifecycleRefundMachine }
  const defaultRefundMachine = Object.keys(refundMachines)[0] ?? "lifecycleRefund"
  const pollTimer = (entry: LedgerEntry, n: number, at: string, round?: string): TimerRequest | undefined => {
    const delay = policy.refundPollDelaysMs?.[n]
    if (delay === undefined) return undefined
    return { timerId: `poll:${entry.id}`, name: "poll", at: new Date(Date.parse(at) + delay).toISOString(), data: { refundId: entry.id, n, ...(round ? { round } : {}) } }
  }
  const toRefund = (refundId: string, event: RefundEvent) => ({ type: "toRefund" as const, params: { refundId, event } })
  const report = (r: ProviderRefundState, at: string): RefundEvent => ({
    type: "REPORT",
    at,
    status: r.status,
    ...(r.providerStatus !== undefined ? { providerStatus: r.providerStatus } : {}),
    ...(r.providerRef !== undefined ? { providerRef: r.providerRef } : {}),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.kind !== undefined ? { kind: r.kind } : {}),
    ...(r.details !== undefined ? { details: r.details } : {}),
  })

  /** Applies provider facts; reports about refunds with a machine go to it (matched by identity). */
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
        // Only a definite answer to the refund's own operation fails it; its machine decides what that means.
        if (entry?.machine) enqueue(toRefund(entry.id, { type: "REFUSED", at: e.at, code: e.code, message: e.message }))
        else if (entry) ctx = { ...ctx, refunds: failEntry(ctx.refunds, entry.id, `${e.code}: ${e.message}`, e.at) }
      }
    }
    if (e.type !== "OP.FAILED") {
      const before = ctx.refunds
      const refunds = applyReports(before, e.refunds, e.at, (refundId, r) => enqueue(toRefund(refundId, report(r, e.at))))
      if (refunds !== before) {
        ctx = { ...ctx, refunds, updatedAt: e.at }
        for (const r of refunds) {
          if (r.machine) continue // its machine keeps its own poll timer
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
      const refused = rule?.(ctx, e)
      if (refused) {
        enqueue({ type: "refuse", params: refused })
        return
      }
      enqueue.assign({ ops: { ...ctx.ops, [e.opId]: opState(op, "requested", e.at) }, updatedAt: e.at })
      enqueue({ type: "effect", params: { opId: e.opId, op, payload: payload(ctx, e) } satisfies EffectRequest })
    })

  /** Reserves the refund's amount and, in the same transition, asks for its refund machine. */
  const refund = act(({ context, event, enqueue }) => {
    const e = event as RefundEvent_
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
    const machine = plan.machine ?? defaultRefundMachine
    const entry: LedgerEntry = {
      id: e.refundId,
      kind: plan.entry.kind,
      amount: plan.entry.amount,
      status: "requested",
      providerStatus: plan.entry.providerStatus ?? null,
      providerRef: null,
      reason: null,
      machine,
      createdAt: e.at,
      updatedAt: e.at,
      details: { ...(e.description ? { description: e.description } : {}), ...(plan.entry.details ?? {}) },
    }
    enqueue.assign({ refunds: [...ctx.refunds, entry], updatedAt: e.at })
    enqueue({
      type: "startRefund",
      params: {
        machine,
        input: {
          refundId: e.refundId,
          paymentId: ctx.id,
          kind: plan.entry.kind,
          amount: plan.entry.amount,
          at: e.at,
          effect: plan.effect,
          pollDelaysMs: policy.refundPollDelaysMs ?? [],
          facts: plan.facts ?? {},
          description: e.description ?? null,
        },
      },
    })
  })

  /** A refund machine's step, as the ledger sees it: the entry follows, and a resolution must fit the ceiling. */
  const refundChanged = act(({ context, event, enqueue }) => {
    const e = event as OpEvent<"REFUND.CHANGED">
    const ctx = context as MachineContext
    const entry = ctx.refunds.find((r) => r.id === e.refundId)
    if (!entry) return
    const path = entry.path?.length ? entry.path : e.entered && e.entered !== e.state ? [e.entered] : []
    const next: LedgerEntry = {
      ...entry,
      kind: e.kind,
      status: e.status,
      state: e.state,
      ...(e.version ? { machineVersion: e.version } : {}),
      path: path[path.length - 1] === e.state ? path : [...path, e.state],
      providerRef: entry.providerRef ?? e.providerRef,
      providerStatus: e.providerStatus ?? entry.providerStatus ?? null,
      reason: e.reason,
      polls: e.polls,
      needsReview: e.needsReview,
      reviewReason: e.reviewReason,
      review: e.review,
      details: { ...entry.details, ...e.details },
      updatedAt: e.at,
    }
    const refunds = settleUnattributed(ctx.refunds.map((r) => (r === entry ? next : r)), e.at)
    const refused = e.review && e.review !== entry.review ? resolutionRefusal(ctx, refunds, e.refundId, e.review.outcome) : undefined
    if (refused) {
      enqueue(refused)
      return
    }
    enqueue.assign({ refunds, updatedAt: e.at })
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
    if (entry.machine) {
      enqueue(toRefund(entry.id, { type: "POLL", at: e.at, n }))
      return
    }
    const next = pollTimer(entry, n + 1, e.at, typeof e.data?.round === "string" ? e.data.round : undefined)
    const gaveUp = next ? {} : { needsReview: true, reviewReason: `Still ${entry.providerStatus ?? entry.status} after ${n + 1} lookups; the provider never settled it.` }
    enqueue.assign({
      refunds: ctx.refunds.map((r) => (r.id === entry.id ? { ...r, polls: n + 1, ...gaveUp, updatedAt: e.at } : r)),
      updatedAt: e.at,
    })
    // After a retry the schedule starts over at 0: the round (the retry's time) keeps each lookup its own effect.
    const round = typeof e.data?.round === "string" ? `:${e.data.round}` : ""
    enqueue({ type: "effect", params: { opId: `${entry.id}:poll${round}:${n}`, op: "refund.status", payload: { refundId: entry.id, providerRef: entry.providerRef ?? null, kind: entry.kind } } })
    if (next) enqueue({ type: "timer", params: next })
  })

  /**
   * A person settles a refund that needs review, or an unattributed provider refund: the outcome is
   * recorded with who and why, the poll stops, and the ceiling must still hold afterwards. A refund
   * with a machine settles there (its diagram shows where a resolution goes).
   */
  const resolve = act(({ context, event, enqueue }) => {
    const e = event as OpEvent<"REVIEW.RESOLVE">
    const ctx = context as MachineContext
    const entry = ctx.refunds.find((r) => r.id === e.refundId)
    if (!entry || !(entry.needsReview || entry.unattributed || RESERVING.includes(entry.status))) {
      enqueue(refusal("INVALID_TRANSITION", `Refund ${e.refundId} is ${entry ? entry.status : "unknown"}: only a refund in flight, flagged for review or unattributed can be resolved.`, { refundId: e.refundId }))
      return
    }
    if (entry.machine && !entry.unattributed) {
      // One provider refund belongs to one refund: a provider id another entry holds is refused.
      const holder = e.providerRef ? ctx.refunds.find((r) => r !== entry && r.providerRef === e.providerRef) : undefined
      if (holder) {
        enqueue(refusal("INVALID_INPUT", `The provider's refund ${e.providerRef} is already recorded on ${holder.id}.`, { refundId: e.refundId, holder: holder.id }))
        return
      }
      enqueue(toRefund(entry.id, { type: "REVIEW.RESOLVE", at: e.at, outcome: e.outcome, note: e.note, by: e.by, ...(e.providerRef ? { providerRef: e.providerRef } : {}) }))
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
    const refused = resolutionRefusal(ctx, refunds, e.refundId, e.outcome)
    if (refused) {
      enqueue(refused)
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
    if (entry.machine) {
      enqueue(toRefund(entry.id, { type: "REVIEW.RETRY", at: e.at, by: e.by, ...(e.note !== undefined ? { note: e.note } : {}), ...(e.lookup !== undefined ? { lookup: e.lookup } : {}) }))
      return
    }
    enqueue.assign({ refunds: ctx.refunds.map((r) => (r === entry ? { ...r, needsReview: false, reviewReason: null, polls: 0, updatedAt: e.at } : r)), updatedAt: e.at })
    // The refund's own effect is still in the outbox (being retried): it is the lookup; no poll is added.
    if (e.lookup === false) return
    enqueue({ type: "effect", params: { opId: `${entry.id}:review:${e.at}`, op: "refund.status", payload: { refundId: entry.id, providerRef: entry.providerRef ?? null, kind: entry.kind } } })
    const t = pollTimer(entry, 0, e.at, `r${Date.parse(e.at).toString(36)}`)
    if (t) enqueue({ type: "timer", params: t })
  })

  /** The engine's word that a refund's effect ran out of its retry window: a person must look. */
  const flagReview = act(({ context, event, enqueue }) => {
    const e = event as OpEvent<"REVIEW.FLAG">
    const ctx = context as MachineContext
    const entry = ctx.refunds.find((r) => r.id === e.refundId)
    if (!entry || (entry.needsReview && entry.reviewReason === e.reason)) return
    if (entry.machine && RESERVING.includes(entry.status)) {
      enqueue(toRefund(entry.id, { type: "REVIEW.FLAG", at: e.at, reason: e.reason }))
      return
    }
    enqueue.assign({ refunds: ctx.refunds.map((r) => (r === entry ? { ...r, needsReview: true, reviewReason: e.reason, updatedAt: e.at } : r)), updatedAt: e.at })
  })

  const updatePayload = (_c: MachineContext, e: PaymentEvent) => {
    const u = e as OpEvent<"UPDATE">
    return { ...(u.description !== undefined ? { description: u.description } : {}), ...(u.metadata ? { metadata: u.metadata } : {}) }
  }
  const capturePayload = (_c: MachineContext, e: PaymentEvent) => ((e as OpEvent<"CAPTURE">).amount !== undefined ? { amount: (e as OpEvent<"CAPTURE">).amount! } : {})

  const names = { capture: policy.ruleNames?.capture ?? "captureAllowed", cancel: policy.ruleNames?.cancel ?? "cancelAllowed", update: policy.ruleNames?.update ?? "updateAllowed" }
  type Rule = (ctx: MachineContext, event: never) => Refusal | undefined
  const ruleGuard = (rule: Rule | undefined) => ({ context, event }: { context: unknown; event: unknown }) => !rule?.(context as MachineContext, event as never)
  /** A command the policy offers: its rule (by name, in the diagram) allows it, or it is refused with the rule's reason. */
  const offered = (event: "CAPTURE" | "CANCEL" | "UPDATE", action: string, refuseAction: string) => [{ guard: names[event.toLowerCase() as "capture"], actions: action }, { actions: refuseAction }]

  const syncEvents = {
    "REVIEW.RESOLVE": { actions: "resolveReview" },
    "REVIEW.RETRY": { actions: "retryReview" },
    "REVIEW.FLAG": { actions: "flagReview" },
    "REFUND.CHANGED": { actions: "refundChanged" },
    "OP.SUCCEEDED": { actions: "applyProviderReport" },
    "OP.FAILED": { actions: "applyProviderReport" },
    "PROVIDER.SYNC": { actions: "applyProviderReport" },
    TIMER: { actions: "onTimer" },
    ...(policy.update ? { UPDATE: offered("UPDATE", "startUpdate", "refuseUpdate") } : {}),
  } as const

  const authorizes = policy.authorizes !== false
  const states = (list: readonly PaymentStatus[]) => list.filter((s) => authorizes || s !== "authorized")
  const routes = (from: PaymentStatus) =>
    states(NEXT[from]).map((to) => ({ guard: { type: "reports", params: { status: to } }, target: `#${policy.id}.${to}` }))

  const notRefundable = (state: string) => act(({ enqueue }) => enqueue(refusal("INVALID_TRANSITION", `A ${state} payment cannot be refunded: only a captured payment can.`)))
  const notCancellable = (state: string) =>
    act(({ enqueue }) =>
      enqueue(refusal("INVALID_TRANSITION", `A ${state} payment cannot be cancelled: cancel works only from pending or authorized${state === "captured" ? "; refund it instead" : ""}.`)),
    )
  const notCapturable = (state: string) => act(({ enqueue }) => enqueue(refusal("INVALID_TRANSITION", `A ${state} payment cannot be captured: only an authorized one can.`)))
  const unsupported = (op: string) => act(({ enqueue }) => enqueue(refusal("INVALID_TRANSITION", `${policy.id} payments do not support ${op}.`)))
  const refusedBy = (rule: Rule | undefined) =>
    act(({ context, event, enqueue }) => {
      if ((context as MachineContext).ops[(event as { opId: string }).opId]) return
      const r = rule?.(context as MachineContext, event as never)
      if (r) enqueue({ type: "refuse", params: r })
    })

  // Commands a provider does not offer are refused with a reason, so the host learns why.
  const cancelOn = policy.cancel ? { CANCEL: offered("CANCEL", "startCancel", "refuseCancel") } : { CANCEL: { actions: "cancelUnsupported" } }
  const captureOn = policy.capture ? { CAPTURE: offered("CAPTURE", "startCapture", "refuseCapture") } : { CAPTURE: { actions: "captureUnsupported" } }
  const updateOff = policy.update ? {} : { UPDATE: { actions: "updateUnsupported" } }
  const deadlineEntry = { type: "armDeadline" } as const

  const machine = setup({
    types: {} as { context: MachineContext; events: PaymentEvent; input: PaymentInput },
    actions: {
      effect: (_: unknown, _params: EffectRequest) => {},
      timer: (_: unknown, _params: TimerRequest) => {},
      cancelTimer: (_: unknown, _params: { timerId: string }) => {},
      refuse: (_: unknown, _params: Refusal) => {},
      startRefund: (_: unknown, _params: { machine: string; input: unknown }) => {},
      toRefund: (_: unknown, _params: { refundId: string; event: RefundEvent }) => {},
      requestCreate: act(({ context, enqueue }) => enqueue({ type: "effect", params: { opId: "create", op: "create", payload: (context as MachineContext).request } })),
      armDeadline: act(({ context, enqueue }) => {
        if (context.deadline) enqueue({ type: "timer", params: { timerId: "deadline", name: "deadline", at: context.deadline } })
      }),
      disarmDeadline: act(({ enqueue }) => enqueue({ type: "cancelTimer", params: { timerId: "deadline" } })),
      applyProviderReport: sync,
      reserveRefund: refund,
      refundChanged,
      onTimer,
      resolveReview: resolve,
      retryReview,
      flagReview,
      startCapture: startOp("capture", capturePayload),
      startCancel: startOp("cancel", () => ({})),
      startUpdate: startOp("update", updatePayload),
      refuseCapture: refusedBy(policy.capture),
      refuseCancel: refusedBy(policy.cancel),
      refuseUpdate: refusedBy(policy.update),
      captureUnsupported: unsupported("capture"),
      cancelUnsupported: unsupported("cancel"),
      updateUnsupported: unsupported("update"),
      pendingNotRefundable: notRefundable("pending"),
      authorizedNotRefundable: notRefundable("authorized"),
      pendingNotCapturable: notCapturable("pending"),
      capturedNotCapturable: notCapturable("captured"),
      refundedNotCapturable: notCapturable("refunded"),
      capturedNotCancellable: notCancellable("captured"),
      refundedNotCancellable: notCancellable("refunded"),
      nothingLeft: act(({ enqueue }) => enqueue(refusal("REFUND_EXCEEDS_REFUNDABLE", "The payment is fully refunded: nothing is left to refund."))),
    },
    guards: {
      /** The provider's word, with the ledger deciding captured vs refunded, is `params.status`. */
      reports: ({ context }, params: { status: PaymentStatus }) => impliedStatus(context) === params.status,
      /** Some refund has settled. */
      someRefundSettled: ({ context }) => totals(context).settled > 0,
      /** No refund has settled (a reversal undid the last one). */
      noRefundSettled: ({ context }) => totals(context).settled === 0,
      [names.capture]: ruleGuard(policy.capture),
      [names.cancel]: ruleGuard(policy.cancel),
      [names.update]: ruleGuard(policy.update),
    },
  }).createMachine({
    id: policy.id,
    version: policy.version ?? "1",
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
    entry: "requestCreate",
    states: {
      pending: {
        entry: deadlineEntry,
        always: routes("pending") as never,
        on: {
          ...syncEvents,
          ...updateOff,
          ...cancelOn,
          CAPTURE: { actions: "pendingNotCapturable" },
          REFUND: { actions: "pendingNotRefundable" },
        } as never,
      },
      ...(authorizes
        ? {
            authorized: {
              entry: deadlineEntry,
              always: routes("authorized") as never,
              on: { ...syncEvents, ...updateOff, ...cancelOn, ...captureOn, REFUND: { actions: "authorizedNotRefundable" } } as never,
            },
          }
        : {}),
      captured: {
        entry: "disarmDeadline",
        initial: "unrefunded",
        always: routes("captured") as never,
        states: {
          unrefunded: { always: { guard: "someRefundSettled", target: "partiallyRefunded" } as never },
          partiallyRefunded: { always: { guard: "noRefundSettled", target: "unrefunded" } as never },
        },
        on: {
          ...syncEvents,
          ...updateOff,
          REFUND: { actions: "reserveRefund" },
          CANCEL: { actions: "capturedNotCancellable" },
          CAPTURE: { actions: "capturedNotCapturable" },
        } as never,
      },
      refunded: {
        // Not final: a bank can reverse a settled refund (OneKey), which reopens the payment.
        always: routes("refunded") as never,
        on: {
          ...syncEvents,
          ...updateOff,
          REFUND: { actions: "nothingLeft" },
          CANCEL: { actions: "refundedNotCancellable" },
          CAPTURE: { actions: "refundedNotCapturable" },
        } as never,
      },
      cancelled: { type: "final", entry: "disarmDeadline" },
      expired: { type: "final" },
      failed: { type: "final", entry: "disarmDeadline" },
    },
  })
  families.set(machine, refundMachines)
  return machine
}

type RefundEvent_ = Extract<PaymentEvent, { type: "REFUND" }>

/** The type of a payment machine built by createPaymentMachine. */
export type PaymentMachine = ReturnType<typeof createPaymentMachine>
