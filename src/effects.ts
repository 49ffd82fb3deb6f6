/**
 * Runs outbox effects through provider adapters and feeds their outcomes back as events.
 *
 * The rules, in one place:
 * - Only a definite answer to the operation itself fails it (`PROVIDER_REJECTED`, `INVALID_INPUT`,
 *   `CARD_DATA_UNAVAILABLE` from `execute`, or an `OP.FAILED` the provider's own answer implies).
 * - A lookup is not the operation: `reconcile` answers `answered`, `notPerformed` or `unknown`, and an
 *   error of the lookup is `unknown`. Only `notPerformed` lets the effect be sent again (same key,
 *   same bytes: the payload is stored and bodies are serialised canonically).
 * - A refused credential (`PROVIDER_AUTH_FAILED`: 401/403, the provider never looked) is not definite
 *   either: the effect stays in the outbox like an unknown outcome, and the caller sees that code.
 * - An unknown outcome keeps the effect in the outbox with a capped backoff (doubling up to
 *   `maxBackoffMs`) for a retry window in time (`retryWindowMs`); after the window the effect is parked
 *   and its refund flagged for review, its amount still reserved. Nothing is parked for a count.
 * - Once the provider has answered, its answer is applied whatever it takes: a lost version race on
 *   the outcome commit is retried, never reported as the provider being unavailable.
 */
import { Effect } from "effect"
import type { MachineContext, PaymentEvent } from "../machines/lifecycle/index.js"
import { paystateError, PaystateError } from "./errors.js"
import type { OutboxEffect, OutcomeEvents, ProviderAdapter, Reconciliation } from "./provider.js"
import type { LogEntry } from "./log.js"
import type { Telemetry } from "./telemetry.js"
import type { OutboxRow, Store, StoredPayment } from "./store.js"

/** Named crash points for crash tests: `PAYSTATE_CRASH_AT=after-outbox-write` kills the process there. */
export const crashAt = (point: string): void => {
  if (process.env.PAYSTATE_CRASH_AT === point) process.kill(process.pid, "SIGKILL")
}

const asPaystateError = (e: unknown): PaystateError =>
  e instanceof PaystateError ? e : paystateError("PROVIDER_UNAVAILABLE", e instanceof Error ? e.message : String(e), undefined, true)

/** Error codes that are a definite answer to the operation: it is recorded as failed. */
const DEFINITE: readonly string[] = ["PROVIDER_REJECTED", "INVALID_INPUT", "CARD_DATA_UNAVAILABLE"]

/** What the runner needs from the engine. */
export interface EffectRunnerDeps {
  readonly store: Store
  readonly load: (paymentId: string) => Promise<StoredPayment>
  readonly adapterOf: (provider: string) => ProviderAdapter
  /** Applies an event to a payment and commits it; returns the outbox rows the step added. */
  readonly step: (
    paymentId: string,
    event: PaymentEvent,
    opts: { command: boolean; outboxDone?: readonly string[]; persistent?: boolean; row?: StoredPayment },
  ) => Promise<{ added: OutboxRow[]; row: StoredPayment }>
  readonly now: () => string
  readonly later: (ms: number) => string
  /** First delay before an unknown outcome is looked up again; doubles per attempt. */
  readonly retryBackoffMs: number
  /** The longest delay between two attempts. */
  readonly maxBackoffMs: number
  /** How long an unknown outcome is retried before a person is asked to look. */
  readonly retryWindowMs: number
  /** Card data held in memory for an effect, if this process still has it. */
  readonly secretOf: (effectId: string) => OutboxEffect["secret"]
  /** Forgets an effect's card data once its outcome is known. */
  readonly forgetSecret: (effectId: string) => void
  /** The structured log hook. */
  readonly log: (entry: Omit<LogEntry, "at">) => void
  /** Spans and counters. */
  readonly telemetry: Telemetry
}

/** What one attempt learned. */
type Attempt =
  | { readonly kind: "answered"; readonly events: OutcomeEvents }
  | { readonly kind: "refused"; readonly error: PaystateError }
  | { readonly kind: "unknown"; readonly error: PaystateError }

/** Builds the effect runner over the engine's step. */
export const createEffectRunner = (deps: EffectRunnerDeps) => {
  const { store, load, adapterOf, step, now, later } = deps

  const toEffect = (row: OutboxRow): OutboxEffect => {
    const secret = deps.secretOf(row.id)
    return {
      id: row.id,
      paymentId: row.paymentId,
      provider: row.provider,
      opId: row.opId,
      op: row.op,
      payload: row.payload as OutboxEffect["payload"],
      idempotencyKey: row.idempotencyKey,
      attempt: row.attempts,
      createdAt: row.createdAt,
      at: now(),
      ...(secret ? { secret } : {}),
    }
  }

  const stamp = (events: OutcomeEvents): PaymentEvent[] => events.map((e) => ({ ...e, at: now() }) as PaymentEvent)

  /** What running some effects left: the outbox rows they added and the payment as last saved. */
  interface Ran {
    readonly added: OutboxRow[]
    readonly saved: StoredPayment | undefined
  }

  /** Feeds an effect's outcome back; the first event settles the outbox entry in the same commit. */
  const applyOutcome = async (row: OutboxRow, events: PaymentEvent[], current: StoredPayment | undefined): Promise<Ran> => {
    const added: OutboxRow[] = []
    let saved = current
    if (events.length === 0) events = [{ type: "OP.SUCCEEDED", opId: row.opId, at: now() }]
    for (const [i, event] of events.entries()) {
      const r = await step(row.paymentId, event, { command: false, persistent: true, outboxDone: i === 0 ? [row.id] : [], ...(saved ? { row: saved } : {}) })
      added.push(...r.added)
      saved = r.row
    }
    deps.forgetSecret(row.id)
    return { added, saved }
  }

  /** Asks the provider; never throws. */
  const attempt = async (adapter: ProviderAdapter, effect: OutboxEffect, ctx: MachineContext, reconcileFirst: boolean): Promise<Attempt> => {
    if (reconcileFirst) {
      const found: Reconciliation = await Effect.runPromise(adapter.reconcile(effect, ctx)).catch((e: unknown) => ({ kind: "unknown", reason: asPaystateError(e).message }) as const)
      if (found.kind === "answered") return found
      if (found.kind === "unknown" && found.final) {
        // Asking again cannot help (the only lookup left would perform the operation again).
        return { kind: "unknown", error: paystateError("REVIEW_REQUIRED", `No lookup can tell what became of the ${effect.op} without risking doing it twice: ${found.reason}`, undefined, false) }
      }
      if (found.kind === "unknown") return { kind: "unknown", error: paystateError("PROVIDER_UNAVAILABLE", `The lookup could not tell what became of the ${effect.op}: ${found.reason}`, undefined, true) }
    }
    try {
      const events = await Effect.runPromise(adapter.execute(effect, ctx))
      crashAt("after-provider-call")
      return { kind: "answered", events }
    } catch (e) {
      const error = asPaystateError(e)
      return DEFINITE.includes(error.code) ? { kind: "refused", error } : { kind: "unknown", error }
    }
  }

  /** Counts the outcome of a refund-like effect, as the ledger now has it. */
  const countRefund = (row: OutboxRow, saved: StoredPayment | undefined): void => {
    const entry = (saved?.snapshot.context as unknown as MachineContext | undefined)?.refunds?.find((r) => r.id === row.opId)
    if (entry) deps.telemetry.refund({ "paystate.provider": row.provider, "paystate.kind": entry.kind, outcome: entry.status })
  }

  /** The delay before the next attempt: doubling from `retryBackoffMs`, capped at `maxBackoffMs`. */
  const backoff = (attempts: number): number => Math.min(deps.retryBackoffMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30), deps.maxBackoffMs)

  /**
   * Runs one outbox entry. `reconcileFirst` is set when its outcome may already exist (recovery):
   * the provider is asked before anything is sent again.
   */
  const runEffect = async (row: OutboxRow, reconcileFirst: boolean, current: StoredPayment | undefined): Promise<Ran> => {
    // The payment as this process just saved it is current enough to build the request from; the
    // outcome's commit checks the version and steps again on fresh state if it was not.
    const payment = current?.id === row.paymentId ? current : await load(row.paymentId)
    const adapter = adapterOf(payment.provider)
    const ctx = payment.snapshot.context as unknown as MachineContext
    const attributes = { "paystate.payment.id": row.paymentId, "paystate.provider": row.provider, "paystate.op": row.op, "paystate.attempt": row.attempts, "paystate.reconcile": reconcileFirst }
    const result = await deps.telemetry.span(`paystate.provider.${row.op}`, attributes, async () => {
      const r = await attempt(adapter, toEffect(row), ctx, reconcileFirst)
      if (r.kind !== "answered") throw r.error
      return r
    }).catch((e: PaystateError): Attempt => (DEFINITE.includes(e.code) ? { kind: "refused", error: e } : { kind: "unknown", error: e }))
    deps.telemetry.providerCall({ "paystate.provider": row.provider, "paystate.op": row.op, outcome: result.kind })
    const about = { paymentId: row.paymentId, provider: row.provider, op: row.op, opId: row.opId, attempt: row.attempts }
    if (result.kind === "answered") {
      deps.log({ level: "info", event: "effect.answered", ...about })
      const ran = await applyOutcome(row, stamp(result.events), payment)
      countRefund(row, ran.saved)
      return ran
    }
    const err = result.error
    deps.log({ level: "warn", event: result.kind === "refused" ? "effect.refused" : "effect.unknown", ...about, code: err.code, message: err.message })
    if (result.kind === "refused") {
      const d = (err.details ?? {}) as Record<string, unknown>
      countRefund(row, (await applyOutcome(row, [{ type: "OP.FAILED", opId: row.opId, at: now(), code: String(d.code ?? err.code), message: err.message }], payment)).saved)
      const code = err.code === "CARD_DATA_UNAVAILABLE" ? err.code : "PROVIDER_REJECTED"
      throw paystateError(code, err.message, { paymentId: row.paymentId, opId: row.opId, ...(d.code !== undefined ? { code: d.code } : {}), provider: err.details })
    }
    const since = Date.parse(row.retrySince ?? row.createdAt)
    const final = err.code === "REVIEW_REQUIRED"
    const park = final || Date.parse(now()) - since >= deps.retryWindowMs
    await store.releaseOutbox(row.id, { availableAt: later(backoff(row.attempts)), lastError: err.message, park })
    if (park) {
      deps.log({ level: "error", event: "effect.parked", ...about, code: err.code, message: err.message })
      // A refund's own effect has its id as opId; a lookup of it (poll, review) names it in its payload.
      const refundId = ctx.refunds.some((r) => r.id === row.opId) ? row.opId : (row.payload as { refundId?: unknown } | null)?.refundId
      const refund = ctx.refunds.find((r) => r.id === refundId)
      const reason = final
        ? `${err.message} Check the provider's dashboard and settle it with engine.review.resolve (with the provider's refund id if it exists); review.retry cannot help. Its amount stays reserved until then.`
        : `The provider's answer to ${row.op} ${row.opId} is still unknown after ${Math.round((Date.parse(now()) - since) / 60_000)} minutes (${row.attempts} attempts; last: ${err.message}). Its amount stays reserved until a person retries or resolves it.`
      if (refund) await step(row.paymentId, { type: "REVIEW.FLAG", at: now(), refundId: refund.id, reason }, { command: false, persistent: true })
    }
    // A refused credential is no answer either (the provider did not look at the request), but the
    // caller must see its own code: retrying the call cannot help until the key is fixed.
    const auth = err.code === "PROVIDER_AUTH_FAILED"
    if (final) throw paystateError("REVIEW_REQUIRED", `${err.message} The ${row.op} is recorded and waits for a person (engine.review.resolve).`, { paymentId: row.paymentId, opId: row.opId, willRetry: false }, false)
    throw paystateError(
      auth ? "PROVIDER_AUTH_FAILED" : "PROVIDER_UNAVAILABLE",
      `${err.message} The ${row.op} is recorded and ${park ? "now waits for a person (engine.review)" : "will be reconciled before anything is sent again"}.`,
      { paymentId: row.paymentId, opId: row.opId, willRetry: !park, provider: err.details },
      !auth,
    )
  }

  /**
   * Runs the effects a command produced, then any effects their outcomes produced. `current` is the
   * payment as the caller last saved it; the answer is the payment as the last outcome saved it.
   */
  const runAll = async (rows: OutboxRow[], reconcileFirst = false, current?: StoredPayment): Promise<StoredPayment | undefined> => {
    let queue = rows
    let saved = current
    while (queue.length > 0) {
      const next: OutboxRow[] = []
      for (const row of queue) {
        const r = await runEffect(row, reconcileFirst, saved)
        next.push(...r.added)
        saved = r.saved ?? saved
      }
      queue = next
      reconcileFirst = false
    }
    return saved
  }

  return { runAll, stamp }
}
