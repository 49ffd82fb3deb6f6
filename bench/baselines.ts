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
import { initialTransition, transition, type AnyMachineSnapshot } from "xstate"
import { refundMachinesOf, refundStatusOf, type MachineContext, type PaymentEvent, type PaymentMachine, type RefundContext, type RefundInput } from "../machines/lifecycle/index.js"
import type { OutboxEffect, ProviderAdapter } from "../src/provider.js"

/** Runs one statement (raw pg Pool or PGlite). */
export interface RawQuery {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>
}

const statusOf = (value: unknown): string => (typeof value === "string" ? value : Object.keys(value as object)[0]!)
const persist = (s: AnyMachineSnapshot) => JSON.stringify({ value: s.value, context: s.context })

const INTENT = `with p as (update paystate_payments set status = $2, updated_at = $3, version = version + 1, snapshot = $4::jsonb where id = $1 and version = $5 returning id, version),
  j as (insert into paystate_journal (payment_id, version, at, event, status) select id, version, $3, $6::jsonb, $2 from p),
  o as (insert into paystate_outbox (id, payment_id, provider, op_id, op, payload, idempotency_key, attempts, state, available_at, created_at, last_error)
        select $7, id, $8, $9, $10, $11::jsonb, $12, 1, 'pending', $3, $3, null from p)
  select version from p`

const OUTCOME = `with p as (update paystate_payments set status = $2, updated_at = $3, version = version + 1, snapshot = $4::jsonb where id = $1 and version = $5 returning id, version),
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
  const [s1, actions] = transition(machine, machine.resolveState(stored), event)
  const effect = actions.find((a) => a.type === "effect")?.params as { opId: string; op: string; payload: Record<string, unknown> }
  const outboxId = `${paymentId}/${effect.opId}`
  const key = `ps-${paymentId}-${effect.opId}`.slice(0, 100)
  const v1 = await db.query(INTENT, [paymentId, statusOf(s1.value), at, persist(s1), Number(row.version), JSON.stringify(event), outboxId, provider.name, effect.opId, effect.op, JSON.stringify(effect.payload), key])
  if (!v1.rows[0]) throw new Error("baseline: version conflict")
  const call: OutboxEffect = { id: outboxId, paymentId, provider: provider.name, opId: effect.opId, op: effect.op, payload: effect.payload as never, idempotencyKey: key, attempt: 1, createdAt: at }
  const events = await Effect.runPromise(provider.execute(call, s1.context as unknown as MachineContext))
  const outcome = { ...events[0]!, at } as PaymentEvent
  const [s2] = transition(machine, s1, outcome)
  const v2 = await db.query(OUTCOME, [paymentId, statusOf(s2.value), at, persist(s2), Number(v1.rows[0].version), JSON.stringify(outcome), outboxId])
  if (!v2.rows[0]) throw new Error("baseline: version conflict")
}

/**
 * The same two transitions in raw XState, nothing else: no validation, no persistence, no provider.
 * `withProvider` adds the same provider call between them.
 */
export const xstateRefund = async (machine: PaymentMachine, captured: AnyMachineSnapshot, provider: ProviderAdapter | undefined, paymentId: string, refundId: string, amount: number): Promise<AnyMachineSnapshot> => {
  const at = "2026-01-01T00:00:01.000Z"
  // By hand, as a host would with XState's own pure API: the payment reserves and asks for a refund
  // machine, the refund machine asks for the provider call, its meaning goes back to the payment.
  const [s1, actions] = transition(machine, captured as never, { type: "REFUND", at, refundId, kind: "refund", amount, description: null, options: {} } as PaymentEvent)
  const start = actions.find((a) => a.type === "startRefund")?.params as { machine: string; input: RefundInput }
  const refundMachine = refundMachinesOf(machine)[start.machine]!
  const [r1, rActions] = initialTransition(refundMachine, start.input)
  const effect = (rActions as unknown as { type: string; params?: unknown }[]).find((a) => a.type === "effect")?.params as { opId: string; op: string; payload: Record<string, unknown> }
  const changed = (r: AnyMachineSnapshot) => {
    const c = r.context as RefundContext
    return { type: "REFUND.CHANGED", at, refundId, state: String(r.value), status: refundStatusOf(r), kind: c.kind, providerRef: c.providerRef, providerStatus: c.providerStatus, reason: c.reason, polls: c.polls, needsReview: c.needsReview, reviewReason: c.reviewReason, review: c.review, details: c.details } as PaymentEvent
  }
  const [s2] = transition(machine, s1, changed(r1))
  let outcome: PaymentEvent
  if (provider) {
    const key = `ps-${paymentId}-${effect.opId}`
    const call: OutboxEffect = { id: `${paymentId}/${effect.opId}`, paymentId, provider: provider.name, opId: effect.opId, op: effect.op, payload: effect.payload as never, idempotencyKey: key, attempt: 1, createdAt: at }
    const events = await Effect.runPromise(provider.execute(call, s2.context as unknown as MachineContext))
    outcome = { ...events[0]!, at } as PaymentEvent
  } else {
    outcome = { type: "OP.SUCCEEDED", at, opId: effect.opId, refunds: [{ refundId: effect.opId, providerRef: `x_${refundId}`, amount, status: "succeeded" }] } as PaymentEvent
  }
  const [s3, routed] = transition(machine, s2, outcome)
  let s = s3
  for (const a of routed) {
    if (a.type !== "toRefund") continue
    const [r2] = transition(refundMachine, r1, (a.params as { event: never }).event)
    ;[s] = transition(machine, s, changed(r2))
  }
  return s
}
