/**
 * Refund machines: each provider's refund path as an XState machine of its own, run by the engine
 * beside the payment machine (see docs/architecture.md, "Refund machines").
 *
 * The payment machine keeps the ledger and the ceiling: it reserves a refund's amount in the same
 * transition that asks the engine to start the refund machine, and it matches provider reports to
 * refunds by identity. Where a refund goes from there is the refund machine's: its states are the
 * provider's refund path, its tags say what the refund means to the ledger (`reserved`, `settled`,
 * `released`), and the engine hands every change back to the payment in the same step.
 *
 * This module holds what every refund machine shares: its input, context and events, the actions
 * (effects, durable poll timers, review) and guards every provider uses, and the generic machine.
 * Like the payment machine, a refund machine is pure: no clock, no I/O, only actions for the engine.
 */
import { enqueueActions, setup, type AnyStateMachine, type SnapshotFrom } from "xstate"
import type { Details, EffectRequest, RefundStatus, Refusal, TimerRequest } from "./types.js"

// Standalone enqueueActions are typed against EventObject; each machine's setup fixes the real types.
const act = (fn: (args: { context: RefundContext; event: RefundEvent; enqueue: any }) => void): any => enqueueActions(fn as never)

/** What the payment machine hands a new refund machine. */
export interface RefundInput {
  readonly refundId: string
  readonly paymentId: string
  /** "refund", "refund_request", "refund_tx", "cancel" or a provider's own kind. */
  readonly kind: string
  /** The amount the payment reserved for it, in minor units. */
  readonly amount: number
  /** The engine time of the REFUND command. */
  readonly at: string
  /** The provider call that carries the refund out, as the payment's policy planned it. */
  readonly effect?: { readonly op: string; readonly payload: Details }
  /** Delays (ms) after which a refund still in flight is looked up; after the last it needs review. */
  readonly pollDelaysMs?: readonly number[]
  /** Facts the machine's guards decide by (a cash method, the payment's time, an earlier refund…). */
  readonly facts?: Details
  readonly description?: string | null
}

/** A person's settlement of a refund, through `engine.review.resolve`. */
export interface RefundReview {
  readonly outcome: "succeeded" | "failed"
  readonly note: string
  readonly by: string
  readonly at: string
}

/** The context of every refund machine. */
export interface RefundContext {
  readonly id: string
  readonly paymentId: string
  readonly kind: string
  readonly amount: number
  readonly effect: { readonly op: string; readonly payload: Details } | null
  readonly pollDelaysMs: readonly number[]
  readonly facts: Details
  readonly providerRef: string | null
  readonly providerStatus: string | null
  readonly reason: string | null
  readonly polls: number
  /** How many times a person asked for the poll to start over: each round's lookups are new effects. */
  readonly pollRound?: number
  /** True once the first poll timer is set: a later accepted state does not restart the schedule. */
  readonly watching: boolean
  readonly needsReview: boolean
  readonly reviewReason: string | null
  readonly review: RefundReview | null
  /** Provider facts the reports carried (merged), shown on the ledger entry. */
  readonly details: Details
  readonly createdAt: string
  readonly updatedAt: string
}

/** A provider report the payment machine matched to this refund by identity. */
export interface RefundReport {
  readonly type: "REPORT"
  readonly at: string
  /** What the adapter says the report means to the ledger. */
  readonly status: RefundStatus
  /** The provider's own word (SUCCESS, WAITING, IN_PROGRESS, pending, …): the guards read it. */
  readonly providerStatus?: string | null
  readonly providerRef?: string | null
  readonly reason?: string | null
  readonly kind?: string
  readonly details?: Details
}

/** Every event a refund machine takes; the engine routes them from the payment machine. */
export type RefundEvent =
  | RefundReport
  /** The provider definitely refused the refund's operation (not a lookup, not a timeout). */
  | { readonly type: "REFUSED"; readonly at: string; readonly code: string; readonly message: string }
  /** A durable poll timer fired: look the refund up. */
  | { readonly type: "POLL"; readonly at: string; readonly n: number }
  | { readonly type: "REVIEW.RESOLVE"; readonly at: string; readonly outcome: "succeeded" | "failed"; readonly note: string; readonly by: string; readonly providerRef?: string }
  | { readonly type: "REVIEW.RETRY"; readonly at: string; readonly note?: string; readonly by: string; readonly lookup?: boolean }
  | { readonly type: "REVIEW.FLAG"; readonly at: string; readonly reason: string }

/** Tags a refund machine's states carry; the ledger reads a refund's meaning from them alone. */
export const REFUND_TAGS = {
  /** Holds its amount against the ceiling: money not moved yet. */
  reserved: "reserved",
  /** The money went back to the customer. */
  settled: "settled",
  /** The amount is free again (refused, rejected, cancelled, reversed). */
  released: "released",
  /** Sent, and the provider has not answered it yet (the ledger's `requested`). */
  unconfirmed: "unconfirmed",
  /** Settled once, then undone by the bank (released, kept on record). */
  reversed: "reversed",
} as const

/** The ledger status a refund machine's snapshot means, read from its tags. */
export const refundStatusOf = (snapshot: { hasTag(tag: string): boolean } | { tags?: readonly string[] }): RefundStatus => {
  const has = "hasTag" in snapshot ? (t: string) => snapshot.hasTag(t) : (t: string) => (snapshot.tags ?? []).includes(t)
  if (has(REFUND_TAGS.settled)) return "succeeded"
  if (has(REFUND_TAGS.released)) return has(REFUND_TAGS.reversed) ? "reversed" : "failed"
  return has(REFUND_TAGS.unconfirmed) ? "requested" : "pending"
}

const pollTimer = (ctx: RefundContext, n: number, at: string): TimerRequest | undefined => {
  const delay = ctx.pollDelaysMs[n]
  if (delay === undefined) return undefined
  return { timerId: `poll:${ctx.id}`, name: "poll", at: new Date(Date.parse(at) + delay).toISOString(), data: { refundId: ctx.id, n } }
}

const lookup = (ctx: RefundContext, opId: string): EffectRequest => ({
  opId,
  op: "refund.status",
  payload: { refundId: ctx.id, providerRef: ctx.providerRef ?? null, kind: ctx.kind },
})

const reportOf = (e: RefundEvent): RefundReport | undefined => (e.type === "REPORT" ? e : undefined)

/** Actions every refund machine uses, by name (they show in diagrams and in Stately's editor). */
export const refundActions = {
  /** Asks for the provider call that carries the refund out; its opId is the refund id, so a retry reuses the key. */
  request: act(({ context, enqueue }) => {
    if (context.effect) enqueue({ type: "effect", params: { opId: context.id, op: context.effect.op, payload: context.effect.payload } satisfies EffectRequest })
  }),
  /** Keeps what a report tells (provider id, status word, reason, details). */
  record: act(({ context, event, enqueue }) => {
    const r = reportOf(event)
    if (!r) return
    enqueue.assign({
      providerRef: context.providerRef ?? r.providerRef ?? null,
      providerStatus: r.providerStatus ?? context.providerStatus,
      reason: r.reason !== undefined ? r.reason : context.reason,
      details: r.details ? { ...context.details, ...r.details } : context.details,
      updatedAt: r.at,
    })
  }),
  /** Records why the provider refused the refund's operation. */
  refused: act(({ event, enqueue }) => {
    if (event.type !== "REFUSED") return
    enqueue.assign({ reason: `${event.code}: ${event.message}`, updatedAt: event.at })
  }),
  /** Starts the poll schedule, once: the provider accepted the refund without settling it. */
  watch: act(({ context, event, enqueue }) => {
    if (context.watching || context.needsReview) return
    const t = pollTimer(context, 0, event.at)
    if (t) enqueue({ type: "timer", params: t })
    enqueue.assign({ watching: true })
  }),
  /** The refund left flight: its poll timer goes, and so does any review flag. */
  stopWatching: act(({ context, enqueue }) => {
    enqueue({ type: "cancelTimer", params: { timerId: `poll:${context.id}` } })
    // Out of flight, nothing is left for a person to look at.
    if (context.watching || context.needsReview) enqueue.assign({ watching: false, needsReview: false })
  }),
  /** Looks the refund up and sets the next poll, or flags it for review after the last one. */
  poll: act(({ context, event, enqueue }) => {
    if (event.type !== "POLL") return
    const n = event.n
    const next = pollTimer(context, n + 1, event.at)
    enqueue.assign({
      polls: n + 1,
      updatedAt: event.at,
      ...(next ? {} : { needsReview: true, reviewReason: `Still ${context.providerStatus ?? "in flight"} after ${n + 1} lookups; the provider never settled it.` }),
    })
    // A lookup is its own effect per round: after a retry the schedule starts at 0 again.
    const round = context.pollRound ? `:r${context.pollRound}` : ""
    enqueue({ type: "effect", params: lookup(context, `${context.id}:poll${round}:${n}`) })
    if (next) enqueue({ type: "timer", params: next })
  }),
  /** The engine's word that the refund's effect ran out of its retry window: a person must look. */
  flag: act(({ context, event, enqueue }) => {
    if (event.type !== "REVIEW.FLAG" || (context.needsReview && context.reviewReason === event.reason)) return
    enqueue.assign({ needsReview: true, reviewReason: event.reason, updatedAt: event.at })
  }),
  /** A person asks for a flagged refund to be looked up again: the poll starts over. */
  retryReview: act(({ context, event, enqueue }) => {
    if (event.type !== "REVIEW.RETRY") return
    enqueue.assign({ needsReview: false, reviewReason: null, polls: 0, pollRound: (context.pollRound ?? 0) + 1, updatedAt: event.at })
    // The refund's own effect is still in the outbox (being retried): it is the lookup; no poll is added.
    if (event.lookup === false) return
    enqueue({ type: "effect", params: lookup(context, `${context.id}:review:${event.at}`) })
    const t = pollTimer(context, 0, event.at)
    if (t) enqueue({ type: "timer", params: t })
    enqueue.assign({ watching: true })
  }),
  /** A person settled the refund: who, why and when stay on it. */
  resolve: act(({ context, event, enqueue }) => {
    if (event.type !== "REVIEW.RESOLVE") return
    enqueue.assign({
      needsReview: false,
      review: { outcome: event.outcome, note: event.note, by: event.by, at: event.at },
      providerRef: context.providerRef ?? event.providerRef ?? null,
      reason: event.outcome === "failed" ? `resolved by ${event.by}: ${event.note}` : context.reason,
      updatedAt: event.at,
    })
  }),
  /** Answers a review command that does not fit the refund's state. */
  refuseReview: act(({ context, event, enqueue }) => {
    enqueue({
      type: "refuse",
      params: { code: "INVALID_TRANSITION", message: `Refund ${context.id} is not in flight: ${event.type === "REVIEW.RETRY" ? "there is nothing to look up again" : "only a refund in flight or flagged for review can be resolved"}.`, details: { refundId: context.id } } satisfies Refusal,
    })
  }),
  // Carried out by the engine after the commit; here they only name the action.
  effect: (_: unknown, _params: EffectRequest) => {},
  timer: (_: unknown, _params: TimerRequest) => {},
  cancelTimer: (_: unknown, _params: { timerId: string }) => {},
  refuse: (_: unknown, _params: Refusal) => {},
} as const

type Args = { context: RefundContext; event: RefundEvent }
const status = (s: RefundStatus) => ({ event }: Args) => event.type === "REPORT" && event.status === s

/** Guards every refund machine uses, by name. */
export const refundGuards = {
  /** The provider says the money went back. */
  settles: status("succeeded"),
  /** The provider says the refund will not happen (refused, rejected, cancelled). */
  fails: status("failed"),
  /** The provider accepted the refund and has not settled it yet. */
  accepted: status("pending"),
  /** The provider's own status word is `params.word` (one of `params.words`). */
  says: ({ event }: Args, params: { word?: string; words?: readonly string[] }) =>
    event.type === "REPORT" && event.providerStatus != null && (params.word === event.providerStatus || (params.words ?? []).includes(event.providerStatus)),
  /** A person resolved the refund as paid back. */
  resolvedPaid: ({ event }: Args) => event.type === "REVIEW.RESOLVE" && event.outcome === "succeeded",
  /** A person resolved the refund as not paid back. */
  resolvedNotPaid: ({ event }: Args) => event.type === "REVIEW.RESOLVE" && event.outcome === "failed",
} as const

/** The context a refund machine starts from. Tolerates no input: XState runs the factory again on every transition (xstate#4774). */
export const refundContext = ({ input }: { input: RefundInput | undefined }): RefundContext => {
  const i = input ?? ({ refundId: "", paymentId: "", kind: "refund", amount: 0, at: "" } as RefundInput)
  return {
    id: i.refundId,
    paymentId: i.paymentId,
    kind: i.kind,
    amount: i.amount,
    effect: i.effect ?? null,
    pollDelaysMs: i.pollDelaysMs ?? [],
    facts: i.facts ?? {},
    providerRef: null,
    providerStatus: null,
    reason: null,
    polls: 0,
    watching: false,
    needsReview: false,
    reviewReason: null,
    review: null,
    details: i.description ? { description: i.description } : {},
    createdAt: i.at,
    updatedAt: i.at,
  }
}

/** What a refund machine must declare beyond its states: its types come from here. */
export const refundSetup = setup({
  types: {} as { context: RefundContext; events: RefundEvent; input: RefundInput },
  actions: refundActions,
  guards: refundGuards,
})

/** The `on` of every state in flight: polls, review flags, retries and resolutions. */
export const inFlight = (targets: { readonly paid: string; readonly notPaid: string }) =>
  ({
    POLL: { actions: "poll" },
    "REVIEW.FLAG": { actions: "flag" },
    "REVIEW.RETRY": { actions: "retryReview" },
    "REVIEW.RESOLVE": [
      { guard: "resolvedPaid", target: targets.paid, actions: "resolve" },
      { guard: "resolvedNotPaid", target: targets.notPaid, actions: "resolve" },
    ],
  }) as const

/**
 * The `on` of a state in flight: a report that settles goes to `paid`, one that fails to `notPaid`,
 * an accepted one to `accepted` (or stays); `first` transitions are tried before those (a provider's
 * own words); `refused` is where a definite refusal of the operation goes (only before an answer).
 * Polls, review flags, retries and resolutions as `inFlight`.
 */
export const awaiting = (t: { readonly paid: string; readonly notPaid: string; readonly accepted?: string; readonly refused?: string; readonly first?: readonly object[] }) =>
  ({
    REPORT: [
      ...(t.first ?? []),
      { guard: "settles", target: t.paid, actions: "record" },
      { guard: "fails", target: t.notPaid, actions: "record" },
      t.accepted ? { guard: "accepted", target: t.accepted, actions: "record" } : { guard: "accepted", actions: "record" },
    ],
    ...(t.refused ? { REFUSED: { target: t.refused, actions: "refused" } } : {}),
    ...inFlight({ paid: t.paid, notPaid: t.notPaid }),
    // XState's config types cannot follow transitions built by a function; names are checked when the machine is created.
  }) as never

/** The `on` of a state out of flight: review commands are refused, reports ignored. */
export const settledOn = { "REVIEW.RETRY": { actions: "refuseReview" }, "REVIEW.RESOLVE": { actions: "refuseReview" } } as const

/**
 * The plain refund path of the shared lifecycle (and of a provider that declares no machine of its
 * own): requested → pending → succeeded | failed, a settled refund reversed by the bank.
 */
export const lifecycleRefundMachine = refundSetup.createMachine({
  id: "lifecycleRefund",
  version: "1",
  context: refundContext,
  initial: "requested",
  states: {
    requested: {
      tags: ["reserved", "unconfirmed"],
      entry: "request",
      on: awaiting({ paid: "succeeded", notPaid: "failed", accepted: "pending", refused: "failed" }),
    },
    pending: {
      tags: ["reserved"],
      entry: "watch",
      on: awaiting({ paid: "succeeded", notPaid: "failed" }),
    },
    succeeded: {
      tags: ["settled"],
      entry: "stopWatching",
      on: { REPORT: { guard: "fails", target: "reversed", actions: "record" }, ...settledOn },
    },
    failed: { tags: ["released"], type: "final", entry: "stopWatching" },
    reversed: { tags: ["released", "reversed"], type: "final" },
  },
})

/** A refund machine: any machine built on `refundSetup`. */
export type RefundMachine = AnyStateMachine

/** A refund machine's snapshot. */
export type RefundSnapshot = SnapshotFrom<typeof lifecycleRefundMachine>
