/**
 * Runs outbox effects through provider adapters and feeds their outcomes back as events. A definite
 * refusal becomes OP.FAILED; an unknown outcome leaves the entry in the outbox with a backoff (parked
 * after the last attempt) so that recovery reconciles it before anything is sent again.
 */
import { Effect } from "effect"
import type { MachineContext, PaymentEvent } from "../machines/lifecycle/index.js"
import { paystateError, PaystateError } from "./errors.js"
import type { OutboxEffect, OutcomeEvents, ProviderAdapter } from "./provider.js"
import type { OutboxRow, Store, StoredPayment } from "./store.js"

/** Named crash points for crash tests: `PAYSTATE_CRASH_AT=after-outbox-write` kills the process there. */
export const crashAt = (point: string): void => {
  if (process.env.PAYSTATE_CRASH_AT === point) process.kill(process.pid, "SIGKILL")
}

const asPaystateError = (e: unknown): PaystateError =>
  e instanceof PaystateError ? e : paystateError("PROVIDER_UNAVAILABLE", e instanceof Error ? e.message : String(e), undefined, true)

/** What the runner needs from the engine. */
export interface EffectRunnerDeps {
  readonly store: Store
  readonly load: (paymentId: string) => Promise<StoredPayment>
  readonly adapterOf: (provider: string) => ProviderAdapter
  /** Applies an event to a payment and commits it; returns the outbox rows the step added. */
  readonly step: (paymentId: string, event: PaymentEvent, opts: { command: boolean; outboxDone?: readonly string[] }) => Promise<{ added: OutboxRow[] }>
  readonly now: () => string
  readonly later: (ms: number) => string
  readonly maxAttempts: number
  readonly retryBackoffMs: number
}

/** Builds the effect runner over the engine's step. */
export const createEffectRunner = ({ store, load, adapterOf, step, now, later, maxAttempts, retryBackoffMs }: EffectRunnerDeps) => {
  const toEffect = (row: OutboxRow): OutboxEffect => ({
    id: row.id,
    paymentId: row.paymentId,
    provider: row.provider,
    opId: row.opId,
    op: row.op,
    payload: row.payload as OutboxEffect["payload"],
    idempotencyKey: row.idempotencyKey,
    attempt: row.attempts,
    createdAt: row.createdAt,
  })

  const stamp = (events: OutcomeEvents): PaymentEvent[] => events.map((e) => ({ ...e, at: now() }) as PaymentEvent)

  /** Feeds an effect's outcome back; the first event settles the outbox entry in the same commit. */
  const applyOutcome = async (row: OutboxRow, events: PaymentEvent[]): Promise<OutboxRow[]> => {
    const added: OutboxRow[] = []
    if (events.length === 0) events = [{ type: "OP.SUCCEEDED", opId: row.opId, at: now() }]
    for (const [i, event] of events.entries()) {
      const r = await step(row.paymentId, event, { command: false, outboxDone: i === 0 ? [row.id] : [] })
      added.push(...r.added)
    }
    return added
  }

  /**
   * Runs one outbox entry. `reconcileFirst` is set when its outcome may already exist (recovery):
   * the provider is asked before anything is sent again.
   */
  const runEffect = async (row: OutboxRow, reconcileFirst: boolean): Promise<OutboxRow[]> => {
    const payment = await load(row.paymentId)
    const adapter = adapterOf(payment.provider)
    const ctx = payment.snapshot.context as unknown as MachineContext
    const effect = toEffect(row)
    try {
      let events: OutcomeEvents | undefined
      if (reconcileFirst) events = await Effect.runPromise(adapter.reconcile(effect, ctx))
      if (events === undefined) {
        events = await Effect.runPromise(adapter.execute(effect, ctx))
        crashAt("after-provider-call")
      }
      return await applyOutcome(row, stamp(events))
    } catch (e) {
      const err = asPaystateError(e)
      if (err.code === "PROVIDER_REJECTED" || err.code === "INVALID_INPUT") {
        const d = (err.details ?? {}) as Record<string, unknown>
        await applyOutcome(row, [{ type: "OP.FAILED", opId: row.opId, at: now(), code: String(d.code ?? err.code), message: err.message }])
        throw paystateError("PROVIDER_REJECTED", err.message, { paymentId: row.paymentId, opId: row.opId, ...(d.code !== undefined ? { code: d.code } : {}), provider: err.details })
      }
      const attempts = row.attempts
      const park = attempts >= maxAttempts
      await store.releaseOutbox(row.id, { availableAt: later(retryBackoffMs * 2 ** Math.min(attempts - 1, 10)), lastError: err.message, park })
      throw paystateError("PROVIDER_UNAVAILABLE", `${err.message} The ${row.op} is recorded and will be reconciled${park ? " by a person: it was parked after " + attempts + " attempts" : ""}.`, {
        paymentId: row.paymentId,
        opId: row.opId,
        willRetry: !park,
        provider: err.details,
      }, true)
    }
  }

  /** Runs the effects a command produced, then any effects their outcomes produced. */
  const runAll = async (rows: OutboxRow[], reconcileFirst = false): Promise<void> => {
    let queue = rows
    while (queue.length > 0) {
      const next: OutboxRow[] = []
      for (const row of queue) next.push(...(await runEffect(row, reconcileFirst)))
      queue = next
      reconcileFirst = false
    }
  }

  return { runAll, stamp }
}
