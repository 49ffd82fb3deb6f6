/**
 * The baselines: the same durable work as a paystate refund command, written by hand.
 *
 * A refund, minimally and durably: one read of the payment; the machine's REFUND transition; one
 * statement that writes the reserved snapshot, its journal entry and the outbox entry (version-checked,
 * RETURNING the new version); the provider call; the outcome transition; one statement that writes the
 * settled snapshot, its journal entry and marks the outbox entry done. Three statements, the same
 * tables and indexes paystate uses, the same XState transitions, the same provider.
 */
import { Effect } from "effect"
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from "xstate"
import { refundMachinesOf, refundStatusOf, type MachineContext, type PaymentEvent, type PaymentMachine, type RefundContext, type RefundInput } from "../machines/lifecycle/index.js"
import type { OutboxEffect, ProviderAdapter } from "../src/provider.js"

/** Runs one statement (raw pg Pool or PGlite). */
export interface RawQuery {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>
}

const statusOf = (value: unknown): string => (typeof value === "string" ? value : Object.keys(value as object)[0]!)
const persist = (s: AnyMachineSnapshot) => JSON.stringify({ value: s.value, context: s.context })

/** The reservation written by hand: snapshot (version-checked), journal entry and outbox entry in one statement. */
export const INTENT = `with p as (update paystate_payments set status = $2, updated_at = $3, version = version + 1, snapshot = $4::jsonb where id = $1 and version = $5 returning id, version),
  j as (insert into paystate_journal (payment_id, version, at, event, status) select id, version, $3, $6::jsonb, $2 from p),
  o as (insert into paystate_outbox (id, payment_id, provider, op_id, op, payload, idempotency_key, attempts, state, available_at, created_at, last_error)
        select $7, id, $8, $9, $10, $11::jsonb, $12, 1, 'pending', $3, $3, null from p)
  select version from p`

/** The outcome written by hand: snapshot, journal entry, outbox entry done, in one statement. */
export const OUTCOME = `with p as (update paystate_payments set status = $2, updated_at = $3, version = version + 1, snapshot = $4::jsonb where id = $1 and version = $5 returning id, version),
  j as (insert into paystate_journal (payment_id, version, at, event, status) select id, version, $3, $6::jsonb, $2 from p),
  d as (update paystate_outbox set state = 'done' where payment_id = $1 and id = $7 and exists (select 1 from p))
  select version from p`

/** The minimal durable refund by hand; throws when a version check fails (the bench runs one client per payment). */
export const rawRefund = async (db: RawQuery, machine: PaymentMachine, provider: ProviderAdapter, paymentId: string, refundId: string, amount: number): Promise<void> => {
  const at = new Date().toISOString()
  const r = await db.query("select version, snapshot from paystate_payments where id = $1", [paymentId])
  const row = r.rows[0]
  const stored = typeof row.snapshot === "string" ? JSON.parse(row.snapshot) : row.snapshot
  const event = { type: "REFUND", at, refundId, kind: "refund", amount, description: null, options: {} } as PaymentEvent
  const { snapshot: s1, refund, effect } = reserveByHand(machine, machine.resolveState(stored), event)
  const outboxId = `${paymentId}/${effect.opId}`
  const key = `ps-${paymentId}-${effect.opId}`.slice(0, 100)
  const v1 = await db.query(INTENT, [paymentId, statusOf(s1.value), at, persist(s1), Number(row.version), JSON.stringify(event), outboxId, provider.name, effect.opId, effect.op, JSON.stringify(effect.payload), key])
  if (!v1.rows[0]) throw new Error("baseline: version conflict")
  const call: OutboxEffect = { id: outboxId, paymentId, provider: provider.name, opId: effect.opId, op: effect.op, payload: effect.payload as never, idempotencyKey: key, attempt: 1, createdAt: at, at }
  const events = await Effect.runPromise(provider.execute(call, s1.context as unknown as MachineContext))
  const outcome = { ...events[0]!, at } as PaymentEvent
  const s2 = settleByHand(machine, s1, refund, outcome)
  const v2 = await db.query(OUTCOME, [paymentId, statusOf(s2.value), at, persist(s2), Number(v1.rows[0].version), JSON.stringify(outcome), outboxId])
  if (!v2.rows[0]) throw new Error("baseline: version conflict")
}

/**
 * The same two transitions in raw XState, nothing else: no validation, no persistence, no provider.
 * `withProvider` adds the same provider call between them.
 */
/** Step 1 by hand with XState's own pure API: the payment reserves and asks for a refund machine, which asks for the provider call. */
export const reserveByHand = (machine: PaymentMachine, snapshot: AnyMachineSnapshot, event: PaymentEvent) => {
  const [s1, actions] = transition(machine, snapshot as never, event)
  const start = actions.find((a) => a.type === "startRefund")?.params as { machine: string; input: RefundInput }
  const refundMachine = refundMachinesOf(machine)[start.machine]!
  const [r1, rActions] = initialTransition(refundMachine, start.input)
  const effect = (rActions as unknown as { type: string; params?: unknown }[]).find((a) => a.type === "effect")?.params as { opId: string; op: string; payload: Record<string, unknown> }
  const [s2] = transition(machine, s1, changed(start.input.refundId, r1, event.at))
  return { snapshot: s2, refund: { machine: refundMachine, snapshot: r1 }, effect }
}

const changed = (refundId: string, r: AnyMachineSnapshot, at: string) => {
  const c = r.context as RefundContext
  return { type: "REFUND.CHANGED", at, refundId, state: String(r.value), status: refundStatusOf(r), kind: c.kind, providerRef: c.providerRef, providerStatus: c.providerStatus, reason: c.reason, polls: c.polls, needsReview: c.needsReview, reviewReason: c.reviewReason, review: c.review, details: c.details } as PaymentEvent
}

/** Step 2 by hand: the outcome to the payment, the report it routes to the refund machine, its change back. */
export const settleByHand = (machine: PaymentMachine, snapshot: AnyMachineSnapshot, refund: { machine: AnyStateMachine; snapshot: AnyMachineSnapshot }, outcome: PaymentEvent) => {
  const [s3, routed] = transition(machine, snapshot as never, outcome)
  let s = s3
  for (const a of routed) {
    if (a.type !== "toRefund") continue
    const p = a.params as { refundId: string; event: never }
    const [r2] = transition(refund.machine, refund.snapshot, p.event)
    ;[s] = transition(machine, s, changed(p.refundId, r2, outcome.at))
  }
  return s
}

export const xstateRefund = async (machine: PaymentMachine, captured: AnyMachineSnapshot, provider: ProviderAdapter | undefined, paymentId: string, refundId: string, amount: number): Promise<AnyMachineSnapshot> => {
  const at = "2026-01-01T00:00:01.000Z"
  const { snapshot: s2, refund, effect } = reserveByHand(machine, captured, { type: "REFUND", at, refundId, kind: "refund", amount, description: null, options: {} } as PaymentEvent)
  let outcome: PaymentEvent
  if (provider) {
    const key = `ps-${paymentId}-${effect.opId}`
    const call: OutboxEffect = { id: `${paymentId}/${effect.opId}`, paymentId, provider: provider.name, opId: effect.opId, op: effect.op, payload: effect.payload as never, idempotencyKey: key, attempt: 1, createdAt: at, at }
    const events = await Effect.runPromise(provider.execute(call, s2.context as unknown as MachineContext))
    outcome = { ...events[0]!, at } as PaymentEvent
  } else {
    outcome = { type: "OP.SUCCEEDED", at, opId: effect.opId, refunds: [{ refundId: effect.opId, providerRef: `x_${refundId}`, amount, status: "succeeded" }] } as PaymentEvent
  }
  return settleByHand(machine, s2, refund, outcome)
}
