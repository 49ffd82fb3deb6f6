/**
 * One pure step of the runtime: restore a snapshot, apply an event with XState's pure transition
 * API, and turn the machine's actions into what the store must write. Nothing here does I/O.
 */
import { initialTransition, transition } from "xstate"
import type { EffectRequest, Json, MachineAction, PaymentEvent, PaymentInput, PaymentMachine, Refusal, TimerRequest } from "../machines/lifecycle/index.js"
import type { Redactor } from "./redact.js"
import type { Commit, PersistedSnapshot, StoredPayment } from "./store.js"
import { statusOf } from "./view.js"

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
}

const persist = (s: { value: unknown; context: unknown }): PersistedSnapshot =>
  JSON.parse(JSON.stringify({ value: s.value, context: s.context })) as PersistedSnapshot

const collect = (actions: readonly { type: string; params?: unknown }[]) => {
  const effects: EffectRequest[] = []
  const timersSet: TimerRequest[] = []
  const timersCancel: string[] = []
  let refusal: Refusal | undefined
  for (const a of actions as MachineAction[]) {
    if (a.type === "effect") effects.push(a.params)
    else if (a.type === "timer") timersSet.push(a.params)
    else if (a.type === "cancelTimer") timersCancel.push(a.params.timerId)
    else if (a.type === "refuse") refusal ??= a.params
  }
  return { effects, timersSet, timersCancel, refusal }
}

/** The first step of a new payment. */
export const startStep = (machine: PaymentMachine, input: PaymentInput): StepResult => {
  const [next, actions] = initialTransition(machine, input)
  const c = collect(actions)
  return { ...c, enabled: true, changed: true, snapshot: persist(next) }
}

/** Applies one event to a stored snapshot. */
export const applyStep = (machine: PaymentMachine, stored: PersistedSnapshot, event: PaymentEvent): StepResult => {
  const current = machine.resolveState(stored as never)
  const [next, actions] = transition(machine, current, event)
  const c = collect(actions)
  const snapshot = persist(next)
  const enabled = current.can(event)
  const changed = c.effects.length > 0 || c.timersSet.length > 0 || JSON.stringify(snapshot) !== JSON.stringify(stored)
  return { ...c, enabled, changed, snapshot }
}

/** Builds the store commit for a step. */
export const toCommit = (
  row: Pick<StoredPayment, "version"> | undefined,
  step: StepResult,
  event: PaymentEvent | { type: string; at: string },
  extra: { paymentId: string; provider: string; idempotencyKey: (opId: string) => string; leaseUntil: string; outboxDone?: readonly string[]; seen?: readonly string[] },
): Commit => {
  const ctx = step.snapshot.context as Record<string, any>
  return {
    expectedVersion: row?.version ?? 0,
    payment: {
      id: extra.paymentId,
      provider: extra.provider,
      providerRef: ctx.providerRef ?? null,
      status: statusOf(step.snapshot.value),
      currency: ctx.currency,
      amount: ctx.amount,
      externalOrderNum: ctx.externalOrderNum ?? null,
      needsReview: ((ctx.refunds ?? []) as { needsReview?: boolean; unattributed?: boolean }[]).some((r) => r.needsReview || r.unattributed),
      createdAt: ctx.createdAt,
      updatedAt: event.at,
      snapshot: step.snapshot,
    },
    journal: { at: event.at, event: event as unknown as Json, status: statusOf(step.snapshot.value) },
    outboxAdd: step.effects.map((e) => ({
      id: `${extra.paymentId}/${e.opId}`,
      paymentId: extra.paymentId,
      provider: extra.provider,
      opId: e.opId,
      op: e.op,
      payload: e.payload as Json,
      idempotencyKey: extra.idempotencyKey(e.opId),
      availableAt: extra.leaseUntil,
      createdAt: event.at,
    })),
    outboxDone: extra.outboxDone ?? [],
    timersSet: step.timersSet.map((t) => ({ paymentId: extra.paymentId, timerId: t.timerId, name: t.name, fireAt: t.at, data: (t.data ?? {}) as Json })),
    timersCancel: step.timersCancel,
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
    journal: { ...commit.journal, event: r.redact(commit.journal.event, "journal") },
    outboxAdd: commit.outboxAdd?.map((o) => ({ ...o, payload: r.redact(o.payload, "store") })),
  }
}
