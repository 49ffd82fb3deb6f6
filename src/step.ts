/**
 * One pure step of the runtime: restore a snapshot, apply an event with XState's pure transition
 * API, and turn the machine's actions into what the store must write. Nothing here does I/O.
 */
import { createActor, type AnyStateMachine } from "xstate"
import type { EffectRequest, Json, LedgerEntry, MachineAction, PaymentEvent, PaymentInput, PaymentMachine, PaymentStatus, RefundChanged, Refusal, TimerRequest } from "../machines/lifecycle/index.js"
import { refundStatusOf, type RefundContext } from "../machines/lifecycle/refund.js"
import { registryOf, versionOf, type MachineRef, type MachineRegistry } from "./registry.js"
import type { Redactor } from "./redact.js"
import { journalOf, type Commit, type JournalInput, type PersistedSnapshot, type StoredPayment } from "./store.js"
import { statePath, statusOf } from "./view.js"

/** What a step decided. */
export interface StepResult {
  /** Set when the machine refused the event; nothing may be written. */
  readonly refusal?: Refusal
  /** False when the event was not enabled in the current state. */
  readonly enabled: boolean
  /** False when the snapshot did not change and nothing was asked for. */
  readonly changed: boolean
  readonly snapshot: PersistedSnapshot
  readonly effects: readonly EffectRequest[]
  readonly timersSet: readonly TimerRequest[]
  readonly timersCancel: readonly string[]
  /** What each machine did in the step, in order (the inspector draws it). */
  readonly trace: readonly TraceItem[]
}

/** One machine's move inside a step: the payment's (refundId absent) or one refund's. */
export interface TraceItem {
  readonly refundId?: string
  /** The refund machine's name, for a refund. */
  readonly machine?: string
  readonly event: { readonly type: string }
  readonly value: unknown
  readonly context: unknown
  /** True for a refund machine that the step started. */
  readonly started?: boolean
  /** True once the machine reached a final state. */
  readonly done?: boolean
}

/** A refund machine's persisted snapshot, kept inside its payment's snapshot until it is final. */
export interface RefundSnapshotJson {
  readonly machine: string
  readonly version: string
  readonly value: Json
  readonly context: Json
}

type Action = { type: string; params?: unknown }
type Scope = { self: unknown; defer: () => void; id: string; logger: () => void; sessionId: string; stopChild: () => void; system: unknown; emit: () => void; actionExecutor: (a: Action) => void }
const scopes = new WeakMap<AnyStateMachine, Scope>()

/**
 * XState's pure `transition` / `initialTransition`, with one inert actor scope per machine instead of
 * a new one per call (building it — an unstarted actor and its system — was most of a transition's
 * cost). Safe because nothing here is ever executed by XState: every action comes back to the engine,
 * no child is spawned and no delayed event is scheduled; calls are synchronous, so the executor swap
 * cannot interleave.
 */
const scopeOf = (machine: AnyStateMachine): Scope => {
  let scope = scopes.get(machine)
  if (!scope) {
    const self = createActor(machine)
    scope = { self, defer: () => {}, id: "", logger: () => {}, sessionId: "", stopChild: () => {}, system: (self as unknown as { system: unknown }).system, emit: () => {}, actionExecutor: () => {} }
    scopes.set(machine, scope)
  }
  return scope
}
const collecting = <T>(machine: AnyStateMachine, f: (scope: Scope) => T): [T, Action[]] => {
  const scope = scopeOf(machine)
  const actions: Action[] = []
  scope.actionExecutor = (a) => void actions.push(a)
  try {
    return [f(scope), actions]
  } finally {
    scope.actionExecutor = () => {}
  }
}
const transition = (machine: AnyStateMachine, snapshot: unknown, event: unknown): [any, Action[]] =>
  collecting(machine, (scope) => machine.transition(snapshot as never, event as never, scope as never))
const initialTransition = (machine: AnyStateMachine, input: unknown): [any, Action[]] => collecting(machine, (scope) => machine.getInitialSnapshot(scope as never, input))

/** The most events one step may move through its machines; a loop between them is a bug, not a step. */
const MAX_INTERNAL_EVENTS = 1000

// The live snapshot each persisted child snapshot was made from: the next event for that refund in the
// same batch (or the next step in this process) resumes it without resolving the JSON again.
const liveOf = new WeakMap<object, unknown>()
const persistChild = (machine: AnyStateMachine, s: { value: unknown; context: unknown }, copy: StoreCopy): RefundSnapshotJson => {
  // The same copy as the payment's: what it makes here, the payment's persist shares instead of copying again.
  const persisted = copy({ machine: machine.id, version: versionOf(machine), value: s.value, context: s.context }) as RefundSnapshotJson
  liveOf.set(persisted, s)
  return persisted
}

type AnySnap = { value: unknown; context: unknown; status: string; hasTag(tag: string): boolean; can(e: unknown): boolean }

/** What a refund machine's snapshot means to its ledger entry. */
const ledgerView = (s: AnySnap, at: string, refundId: string): RefundChanged => {
  const c = s.context as RefundContext
  return {
    type: "REFUND.CHANGED",
    at,
    refundId,
    state: statePath(s.value),
    status: refundStatusOf(s),
    kind: c.kind,
    providerRef: c.providerRef,
    providerStatus: c.providerStatus,
    reason: c.reason,
    polls: c.polls,
    needsReview: c.needsReview,
    reviewReason: c.reviewReason,
    review: c.review,
    details: c.details,
  }
}
const sameView = (a: RefundChanged, b: RefundChanged) => sameJson({ ...a, at: "" }, { ...b, at: "" })

/**
 * Runs one step over a payment and its refunds: the outside event goes to the payment machine; a
 * `startRefund` starts a refund machine, a `toRefund` hands it an event, and every change of a refund
 * machine's ledger meaning goes back to the payment as `REFUND.CHANGED`, all in this one step. The
 * first refusal anywhere ends the step (the engine then writes nothing).
 */
const run = (
  registry: MachineRegistry,
  machine: PaymentMachine,
  first: { snapshot: any; actions: readonly { type: string; params?: unknown }[] },
  queue: PaymentEvent[],
  childrenIn: Readonly<Record<string, RefundSnapshotJson>>,
  firstEvent: { type: string },
  copy: StoreCopy,
) => {
  const effects: EffectRequest[] = []
  const timersSet: TimerRequest[] = []
  const timersCancel: string[] = []
  const trace: TraceItem[] = []
  // Copied on the first write only: most events move no refund machine, or one.
  let children: Record<string, RefundSnapshotJson> = childrenIn as Record<string, RefundSnapshotJson>
  let own = false
  let childrenChanged = false
  const gone = new Set<string>()
  const childOf = (id: string): RefundSnapshotJson | undefined => (gone.has(id) ? undefined : children[id])
  const setChild = (id: string, v: RefundSnapshotJson) => {
    if (!own) {
      children = { ...children }
      own = true
    }
    children[id] = v
  }
  const settled = new Set<string>()
  let refusal: Refusal | undefined
  let current = first.snapshot
  const take = (actions: readonly { type: string; params?: unknown }[], at: string) => {
    for (const a of actions as MachineAction[]) {
      if (refusal) return
      if (a.type === "effect") effects.push(a.params)
      else if (a.type === "timer") {
        // The last word on a timer id wins within a step.
        for (let i = timersSet.length - 1; i >= 0; i--) if (timersSet[i]!.timerId === a.params.timerId) timersSet.splice(i, 1)
        timersSet.push(a.params)
      } else if (a.type === "cancelTimer") {
        for (let i = timersSet.length - 1; i >= 0; i--) if (timersSet[i]!.timerId === a.params.timerId) timersSet.splice(i, 1)
        if (!timersCancel.includes(a.params.timerId)) timersCancel.push(a.params.timerId)
      } else if (a.type === "refuse") refusal = a.params
      else if (a.type === "startRefund") {
        const rm = registry.refundFor(machine, a.params.machine)
        const [s, acts] = initialTransition(rm, a.params.input)
        child(a.params.input.refundId, rm, undefined, s as unknown as AnySnap, acts, { type: "xstate.init" }, at)
      } else if (a.type === "toRefund") {
        const stored = childOf(a.params.refundId) ?? atRest(a.params.refundId)
        if (!stored) continue // a refund whose machine finished: nothing can move it any more
        const rm = registry.refund(stored)
        const before = (liveOf.get(stored) ?? rm.resolveState(stored as never)) as unknown as AnySnap
        const [s, acts] = transition(rm, before as never, a.params.event)
        child(a.params.refundId, rm, before, s as unknown as AnySnap, acts, a.params.event, at)
      }
    }
  }
  /** The snapshot of a settled refund machine, rebuilt from the ledger entry it left (see `child`). */
  const atRest = (refundId: string): RefundSnapshotJson | undefined => {
    const e = ((current.context as { refunds?: readonly LedgerEntry[] }).refunds ?? []).find((r) => r.id === refundId)
    if (!e?.machine || !e.state || !e.machineVersion || e.status !== "succeeded") return undefined
    const context: RefundContext = {
      id: e.id,
      paymentId: (current.context as { id: string }).id,
      kind: e.kind,
      amount: e.amount,
      effect: null,
      pollDelaysMs: [],
      facts: {},
      providerRef: e.providerRef ?? null,
      providerStatus: e.providerStatus ?? null,
      reason: e.reason ?? null,
      polls: e.polls ?? 0,
      watching: false,
      needsReview: false,
      reviewReason: null,
      review: e.review ?? null,
      details: e.details,
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
    }
    return { machine: e.machine, version: e.machineVersion, value: e.state, context: context as unknown as Json }
  }
  const child = (refundId: string, rm: AnyStateMachine, before: AnySnap | undefined, after: AnySnap, acts: readonly { type: string; params?: unknown }[], event: { type: string }, at: string) => {
    take(acts, at)
    if (refusal) return
    const done = after.status === "done"
    trace.push({ refundId, machine: rm.id, event, value: after.value, context: after.context, ...(before ? {} : { started: true }), ...(done ? { done } : {}) })
    if (done) {
      if (childOf(refundId)) childrenChanged = true
      gone.add(refundId)
    } else {
      const prev = childOf(refundId)
      const next = persistChild(rm, after, copy)
      if (!prev || !sameJson(prev, next)) childrenChanged = true
      setChild(refundId, next)
      if (after.hasTag("settled")) settled.add(refundId)
      else settled.delete(refundId)
    }
    const view = { ...ledgerView(after, at, refundId), version: versionOf(rm) }
    if (!before) queue.push({ ...view, entered: String((rm.config as { initial?: unknown }).initial ?? view.state) })
    else if (!sameView({ ...ledgerView(before, at, refundId), version: view.version }, view)) queue.push(view)
  }
  take(first.actions, (first.snapshot.context as { updatedAt: string }).updatedAt)
  trace.unshift({ event: firstEvent, value: current.value, context: current.context })
  for (let n = 0; queue.length > 0 && !refusal; n++) {
    if (n > MAX_INTERNAL_EVENTS) throw new Error(`A step of payment ${current.context.id} moved more than ${MAX_INTERNAL_EVENTS} events between its machines.`)
    const e = queue.shift()!
    const [next, actions] = transition(machine, current, e)
    current = next
    trace.push({ event: e, value: next.value, context: next.context })
    take(actions, e.at)
  }
  // Settled refund machines leave the snapshot once the step is over (not before: a later report in
  // the same step, a bank reversal say, must still find them): the ledger entry keeps everything they
  // know (state, path, version, provider facts) and `atRest` rebuilds one from it if the bank reverses
  // it. A payment with many settled refunds carries only the ones in flight.
  for (const id of settled) gone.add(id)
  if ([...gone].some((id) => id in children)) {
    childrenChanged = true
    children = Object.fromEntries(Object.entries(children).filter(([id]) => !gone.has(id)))
  }
  return { effects, timersSet, timersCancel, refusal, trace, current, children, childrenChanged }
}

/** How a step makes a snapshot plain JSON: a JSON round trip, or the engine's redacting copy that shares what it stored before. */
export type StoreCopy = <T>(value: T) => T
const jsonCopy: StoreCopy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T

/** The persisted form of a live payment snapshot and its refund machines: plain JSON, copied once per step. */
const persist = (machine: PaymentMachine, current: AnySnap, children: Readonly<Record<string, RefundSnapshotJson>>, copy: StoreCopy): PersistedSnapshot =>
  copy({ machine: machine.id, version: versionOf(machine), value: current.value, context: current.context, ...(Object.keys(children).length ? { children } : {}) }) as PersistedSnapshot

/**
 * Deep equality as JSON sees it (a key holding `undefined` is a missing key), short-cutting on shared
 * references: a transition copies only what it changes, so comparing a big context that one event left
 * alone costs a walk over references, not a serialisation.
 */
const sameJson = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bb = b as unknown[]
    if (a.length !== bb.length) return false
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], bb[i])) return false
    return true
  }
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  for (const k in ao) if (ao[k] !== undefined && !sameJson(ao[k], bo[k])) return false
  for (const k in bo) if (bo[k] !== undefined && ao[k] === undefined) return false
  return true
}

/** The first step of a new payment, on the registry's current payment machine. */
export const startStep = (machines: PaymentMachine | MachineRegistry, input: PaymentInput, ref?: Partial<MachineRef>, copy: StoreCopy = jsonCopy): StepResult => {
  const registry = registryOf(machines)
  // Replay starts a payment on the version its CREATE names; a new payment on the current one.
  const machine = registry.payment(ref)
  const [next, actions] = initialTransition(machine, input)
  const r = run(registry, machine, { snapshot: next, actions }, [], {}, { type: "xstate.init" }, copy)
  return { effects: r.effects, timersSet: r.timersSet, timersCancel: r.timersCancel, refusal: r.refusal, trace: r.trace, snapshot: persist(machine, r.current, r.children, copy), enabled: true, changed: true }
}

/** Applies one event to a stored snapshot, on the payment machine version the snapshot names. */
export const applyStep = (machines: PaymentMachine | MachineRegistry, stored: PersistedSnapshot, event: PaymentEvent): StepResult => applySteps(machines, stored, [event]).results[0]!

/** What a batch of events decided: one result per event, and the snapshot after all of them. */
export interface BatchResult {
  /** Each result's `snapshot` is the one after the whole batch; `status` is the payment's after that event. */
  readonly results: readonly (StepResult & { readonly status: PaymentStatus; readonly state: string })[]
  readonly snapshot: PersistedSnapshot
}

/**
 * Applies events one after another to a stored snapshot, as separate steps would, without persisting
 * and restoring between them: a refused event leaves the state as it found it for the next one (so
 * each event is accepted or refused exactly as if it had run alone, in this order), and the snapshot is
 * serialised once at the end. With `mustBeEnabled`, an event the current state does not take changes
 * nothing (a command the engine refuses as an invalid transition).
 */
export const applySteps = (
  machines: PaymentMachine | MachineRegistry,
  stored: PersistedSnapshot,
  events: readonly PaymentEvent[],
  options: { readonly mustBeEnabled?: readonly boolean[]; readonly copy?: StoreCopy } = {},
): BatchResult => {
  const mustBeEnabled = options.mustBeEnabled ?? []
  const registry = registryOf(machines)
  const machine = registry.payment(stored)
  let current = machine.resolveState(stored as never) as unknown as AnySnap
  let children: Readonly<Record<string, RefundSnapshotJson>> = stored.children ?? {}
  const decided: (Omit<StepResult, "snapshot"> & { status: PaymentStatus; state: string })[] = []
  const nothing = { effects: [], timersSet: [], timersCancel: [], trace: [] }
  for (const [i, event] of events.entries()) {
    // The event goes through run() like the internal ones, so its actions are read the same way.
    const r = run(registry, machine, { snapshot: current, actions: [] }, [event], children, event, options.copy ?? jsonCopy)
    r.trace.shift()
    const changed = !r.refusal && (r.effects.length > 0 || r.timersSet.length > 0 || !sameJson(r.current.value, current.value) || !sameJson(r.current.context, current.context) || r.childrenChanged)
    // An event that moved something was enabled; only one that changed nothing needs the question
    // (it costs about as much as the transition itself).
    const enabled = changed || !!r.refusal || current.can(event)
    if (r.refusal || (mustBeEnabled[i] && !enabled)) {
      decided.push({ ...nothing, ...(r.refusal ? { refusal: r.refusal } : {}), enabled, changed: false, status: statusOf(current.value), state: statePath(current.value) })
      continue
    }
    current = r.current
    children = r.children
    decided.push({ effects: r.effects, timersSet: r.timersSet, timersCancel: r.timersCancel, trace: r.trace, enabled, changed, status: statusOf(current.value), state: statePath(current.value) })
  }
  const snapshot = persist(machine, current, children, options.copy ?? jsonCopy)
  return { results: decided.map((d) => ({ ...d, snapshot })), snapshot }
}

/** Options of a commit that do not come from the machines. */
export interface CommitExtra {
  readonly paymentId: string
  readonly provider: string
  readonly idempotencyKey: (opId: string) => string
  readonly leaseUntil: string
  readonly outboxDone?: readonly string[]
  readonly seen?: readonly string[]
}

/** Builds the store commit for a step. */
export const toCommit = (row: Pick<StoredPayment, "version"> | undefined, step: StepResult, event: PaymentEvent | { type: string; at: string }, extra: CommitExtra): Commit =>
  toBatchCommit(row, step.snapshot, [{ step, event }], extra)

/** One event of a batched commit: what its step asked for, and the timer whose firing it was. */
export interface CommitPart {
  readonly step: Pick<StepResult, "effects" | "timersSet" | "timersCancel">
  readonly event: PaymentEvent | { type: string; at: string }
  /** The payment's status after this event (default: the final snapshot's). */
  readonly status?: PaymentStatus
  readonly timerFired?: string
}

/**
 * Builds the one commit of several events applied in order (a batched step): a journal entry each,
 * every effect, and the timers as the last word on each id left them (a later cancel drops an earlier
 * set; a fired timer is deleted before its own step sets any again).
 */
export const toBatchCommit = (row: Pick<StoredPayment, "version"> | undefined, snapshot: PersistedSnapshot, parts: readonly CommitPart[], extra: CommitExtra): Commit => {
  const ctx = snapshot.context as Record<string, any>
  const status = statusOf(snapshot.value)
  const set = new Map<string, TimerRequest>()
  const cancel: string[] = []
  const cancelTimer = (id: string) => {
    set.delete(id)
    if (!cancel.includes(id)) cancel.push(id)
  }
  for (const p of parts) {
    if (p.timerFired) cancelTimer(p.timerFired)
    for (const id of p.step.timersCancel) cancelTimer(id)
    for (const t of p.step.timersSet) {
      set.delete(t.timerId)
      set.set(t.timerId, t)
    }
  }
  const last = parts[parts.length - 1]!.event
  const journal = parts.map((p) => ({ at: p.event.at, event: p.event as unknown as Json, status: p.status ?? status }))
  return {
    expectedVersion: row?.version ?? 0,
    payment: {
      id: extra.paymentId,
      provider: extra.provider,
      providerRef: ctx.providerRef ?? null,
      status,
      currency: ctx.currency,
      amount: ctx.amount,
      externalOrderNum: ctx.externalOrderNum ?? null,
      needsReview: ((ctx.refunds ?? []) as { needsReview?: boolean; unattributed?: boolean }[]).some((r) => r.needsReview || r.unattributed),
      createdAt: ctx.createdAt,
      updatedAt: last.at,
      snapshot,
    },
    journal: journal.length === 1 ? journal[0]! : journal,
    outboxAdd: parts.flatMap((p) =>
      p.step.effects.map((e) => ({
        id: `${extra.paymentId}/${e.opId}`,
        paymentId: extra.paymentId,
        provider: extra.provider,
        opId: e.opId,
        op: e.op,
        payload: e.payload as Json,
        idempotencyKey: extra.idempotencyKey(e.opId),
        availableAt: extra.leaseUntil,
        createdAt: p.event.at,
      })),
    ),
    outboxDone: extra.outboxDone ?? [],
    timersSet: [...set.values()].map((t) => ({ paymentId: extra.paymentId, timerId: t.timerId, name: t.name, fireAt: t.at, data: (t.data ?? {}) as Json })),
    timersCancel: cancel,
    seen: extra.seen ?? [],
  }
}

/**
 * Applies the provider's redaction to what a commit writes: card data is removed everywhere (it only
 * ever travels in memory), masked fields stay in the payment snapshot and the outbox payload, where
 * a retry needs them, and are masked in the journal that keeps the payment's history for good.
 */
export const protect = (commit: Commit, r: Redactor): Commit => {
  const snapshot = r.redact(commit.payment.snapshot, "store")
  return {
    ...commit,
    payment: { ...commit.payment, snapshot },
    // The journal keeps events only (stores write no snapshot per row): the event is what is masked.
    journal: Array.isArray(commit.journal) ? journalOf(commit).map((j) => ({ ...j, event: r.redact(j.event, "journal") })) : { ...(commit.journal as JournalInput), event: r.redact((commit.journal as JournalInput).event, "journal") },
    outboxAdd: commit.outboxAdd?.map((o) => ({ ...o, payload: r.redact(o.payload, "store") })),
  }
}
