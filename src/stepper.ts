/**
 * How the engine steps a payment: an event applied to its snapshot and committed, holding the
 * payment's in-process lock only for that step. Events that arrive while a step holds the lock wait
 * together and go in one batched step (one commit, a journal entry each); a step starts from the row
 * this process saved last, and goes through the store's locked path (`mutate`) when another process
 * writes the same payment. See docs/architecture.md (Concurrency).
 */
import type { PaymentEvent } from "../machines/lifecycle/index.js"
import { paystateError } from "./errors.js"
import type { EngineInspector } from "./inspect.js"
import type { createLogger } from "./log.js"
import type { Redactor } from "./redact.js"
import type { MachineRegistry } from "./registry.js"
import { applySteps, protect, toBatchCommit, type CommitPart, type StepResult, type toCommit } from "./step.js"
import { journalOf, StoreConflict, type Commit, type OutboxRow, type Store, type StoredPayment } from "./store.js"
import { toStorable } from "./validation.js"

/** The idempotency key of a payment's effect: stable across attempts and processes. */
export const keyFor = (paymentId: string) => (opId: string) => `ps-${paymentId}-${opId}`.slice(0, 100)

/** Options of one step. */
export interface StepOptions {
  readonly command: boolean
  readonly outboxDone?: readonly string[]
  readonly seen?: readonly string[]
  readonly timerFired?: string
  /** An outcome the provider already gave: it must land, so version races are retried longer. */
  readonly persistent?: boolean
  /** The payment as this process last saved it: tried first instead of a reload (a race reloads). */
  readonly row?: StoredPayment
}

/** What a step gives its caller: the payment as the commit saved it, the outbox rows its event added, what it decided. */
export interface Stepped {
  readonly row: StoredPayment
  readonly added: OutboxRow[]
  readonly result: StepResult
}

/** One event waiting for its payment's lock. */
interface Waiting {
  readonly event: PaymentEvent
  readonly opts: StepOptions
  readonly resolve: (s: Stepped) => void
  readonly reject: (e: unknown) => void
}

/** One event's answer from its batch: what it stepped, or why not. */
type Answer = { stepped?: Stepped; error?: unknown }

/** What a batch decided on one row: an answer per event and the commit to write (none if nothing changed). Pure. */
interface Decided {
  readonly row: StoredPayment
  readonly answers: Answer[]
  readonly commit?: Commit
  readonly refused: { readonly eventType: string; readonly code: string }[]
}

/** What the stepper needs from the engine. */
export interface StepperDeps {
  readonly store: Store
  /** The payment's in-process lock. */
  readonly withLock: <T>(paymentId: string, fn: () => Promise<T>) => Promise<T>
  readonly registryFor: (provider: string) => MachineRegistry
  readonly redactorOf: (provider: string) => Redactor
  readonly load: (paymentId: string) => Promise<StoredPayment>
  readonly later: (ms: number) => string
  readonly leaseMs: number
  readonly logger: Pick<ReturnType<typeof createLogger>, "emit">
  readonly inspector: Pick<EngineInspector, "step">
}

/** Builds the engine's `step`, its memory of the rows it saved (`recent`), and `toRows`. */
export const createStepper = (deps: StepperDeps) => {
  const { store, withLock, registryFor, redactorOf, load, later, leaseMs, logger, inspector } = deps

  /** Per payment, the batch that waits for the lock: events arriving meanwhile join it. */
  const waiting = new Map<string, Waiting[]>()
  /**
   * The rows this process saved last, for the payments it stepped most recently (bounded): a step
   * starts from one instead of a caller's older copy or a reload — the outcomes of a burst of refunds
   * arrive together, after the burst's commits. Across processes the version check still decides.
   */
  const lastSaved = new Map<string, StoredPayment>()
  const RECENT_ROWS = 256
  /** Payments whose last optimistic write here lost to another process, until when (wall clock). */
  const contended = new Map<string, number>()
  const CONTENDED_MS = 2000
  /** Sets a key as the newest of a bounded map (insertion order is age), dropping the oldest past the bound. */
  const touch = <V>(m: Map<string, V>, key: string, value: V) => {
    m.delete(key)
    m.set(key, value)
    if (m.size > RECENT_ROWS) m.delete(m.keys().next().value!)
  }
  const remember = (row: StoredPayment) => touch(lastSaved, row.id, row)
  const MAX_BATCH = 128

  /**
   * Applies one event to a payment and commits the result, holding the payment's lock only for this
   * step (never across a provider call, so refunds of one payment reach the provider concurrently);
   * retries on a version conflict with fresh state. Events that arrive for the payment while the lock
   * is held wait together and go in one step: applied in arrival order on one snapshot, each accepted
   * or refused exactly as alone, one commit (a journal entry each) — so a hundred refunds of one
   * payment cost a few commits, not a hundred queued ones. Steps that remember webhook keys go alone
   * (a repeated key fails their whole commit).
   */
  const step = (paymentId: string, event: PaymentEvent, opts: StepOptions): Promise<Stepped> =>
    new Promise<Stepped>((resolve, reject) => {
      // Provider data is applied whatever it holds (money truth), made storable first (no NUL, no lone
      // surrogate); host commands were refused before they got here if they were not.
      const item: Waiting = { event: opts.command ? event : toStorable(event), opts, resolve, reject }
      const alone = !!opts.seen?.length
      const open = waiting.get(paymentId)
      if (open && !alone && open.length < MAX_BATCH) {
        open.push(item)
        return
      }
      const batch = [item]
      if (!alone) waiting.set(paymentId, batch)
      withLock(paymentId, async () => {
        if (waiting.get(paymentId) === batch) waiting.delete(paymentId)
        await stepBatch(paymentId, batch)
      }).catch(() => undefined)
    })

  const stepBatch = async (paymentId: string, batch: readonly Waiting[]): Promise<void> => {
    try {
      const answers = await stepNow(paymentId, batch)
      for (const [i, w] of batch.entries()) {
        const a = answers[i]!
        if (a.error !== undefined) w.reject(a.error)
        else w.resolve(a.stepped!)
      }
    } catch (e) {
      for (const w of batch) w.reject(e)
    }
  }

  /** The freshest row this process knows of: the last one it saved, or the one a caller holds, whichever is newer. */
  const knownRow = (paymentId: string, batch: readonly Waiting[]): StoredPayment | undefined => {
    let best = lastSaved.get(paymentId)
    for (const w of batch) {
      const r = w.opts.row
      if (r?.id === paymentId && (!best || r.version > best.version)) best = r
    }
    return best
  }

  const decideBatch = (paymentId: string, batch: readonly Waiting[], row: StoredPayment | undefined): Decided => {
    if (!row) throw paystateError("PAYMENT_NOT_FOUND", `No payment "${paymentId}".`, { paymentId })
    // A row read from the store is stored form already (a row this process saved is known as such).
    redactorOf(row.provider).adopt(row.snapshot)
    const decided = applySteps(
      registryFor(row.provider),
      row.snapshot,
      batch.map((w) => w.event),
      { mustBeEnabled: batch.map((w) => w.opts.command), copy: redactorOf(row.provider).storeCopy },
    )
    const answers: Answer[] = []
    const refused: { eventType: string; code: string }[] = []
    const parts: { index: number; part: CommitPart }[] = []
    for (const [i, w] of batch.entries()) {
      const result = decided.results[i]!
      const event = w.event
      if (result.refusal) {
        refused.push({ eventType: event.type, code: result.refusal.code })
        answers.push({ error: paystateError(result.refusal.code, result.refusal.message, { paymentId, ...(result.refusal.code === "INVALID_TRANSITION" ? { state: result.state } : {}), ...(result.refusal.details ?? {}) }) })
      } else if (w.opts.command && !result.enabled) {
        answers.push({ error: paystateError("INVALID_TRANSITION", `${event.type} is not possible while the payment is ${result.state}.`, { paymentId, state: result.state }) })
      } else {
        answers.push({ stepped: { row, added: [], result } })
        if (result.changed || w.opts.outboxDone?.length || w.opts.timerFired) parts.push({ index: i, part: { step: result, event, status: result.status, ...(w.opts.timerFired ? { timerFired: w.opts.timerFired } : {}) } })
      }
    }
    if (!parts.length) return { row, answers, refused }
    const commit = protect(
      toBatchCommit(row, decided.snapshot, parts.map((p) => p.part), {
        paymentId,
        provider: row.provider,
        idempotencyKey: keyFor(paymentId),
        leaseUntil: later(leaseMs),
        outboxDone: [...new Set(parts.flatMap((p) => batch[p.index]!.opts.outboxDone ?? []))],
        seen: batch.flatMap((w) => w.opts.seen ?? []),
      }),
      redactorOf(row.provider),
    )
    return { row, answers, commit, refused }
  }

  /** The answers once a decision is written (or needed no write): rows saved, each event's own outbox rows. */
  const finish = (paymentId: string, batch: readonly Waiting[], d: Decided, saved: StoredPayment | undefined): Answer[] => {
    for (const r of d.refused) logger.emit({ level: "info", event: "command.refused", paymentId, provider: d.row.provider, eventType: r.eventType, code: r.code })
    if (!d.commit || !saved) return d.answers
    remember(saved)
    const rows = toRows(d.commit)
    const registry = registryFor(saved.provider)
    const answers = d.answers.map((a, i): Answer => {
      if (!a.stepped) return a
      const mine = new Set(a.stepped.result.effects.map((e) => `${paymentId}/${e.opId}`))
      inspector.step(saved, batch[i]!.event, a.stepped.result, registry)
      return { stepped: { row: saved, added: rows.filter((r) => mine.has(r.id)), result: a.stepped.result } }
    })
    logger.emit({ level: "debug", event: "step.committed", paymentId, provider: saved.provider, eventType: batch.length === 1 ? batch[0]!.event.type : `${journalOf(d.commit).length} events`, status: saved.status })
    return answers
  }

  /**
   * Decides a batch and writes it. From a row this process already holds, a plain version-checked
   * commit (one round trip); without one, or once another process wrote first, `mutate`: the row is
   * read locked and the batch decided on it in the same transaction, so writers on one payment queue
   * on the row instead of failing their version checks (stores without `mutate` reload and retry).
   */
  const stepNow = async (paymentId: string, batch: readonly Waiting[]): Promise<Answer[]> => {
    // A payment another process is writing too goes straight to the locked path for a while: the
    // optimistic attempt would decide the batch once for nothing and pay a round trip to learn it.
    // So does a big batch: deciding it twice costs more than the locked path's extra round trip.
    const contendedUntil = contended.get(paymentId)
    const locked = !!store.mutate && (batch.length > 8 || (contendedUntil !== undefined && contendedUntil > Date.now()))
    const known = locked ? undefined : knownRow(paymentId, batch)
    if (known) {
      const d = decideBatch(paymentId, batch, known)
      if (!d.commit) return finish(paymentId, batch, d, undefined)
      try {
        return finish(paymentId, batch, d, await store.commit(d.commit))
      } catch (e) {
        if (!(e instanceof StoreConflict && e.kind === "version")) throw e
        lastSaved.delete(paymentId)
        touch(contended, paymentId, Date.now() + CONTENDED_MS)
      }
    }
    if (store.mutate) {
      let d: Decided | undefined
      const out = await store.mutate(paymentId, (row) => {
        d = decideBatch(paymentId, batch, row)
        return { ...(d.commit ? { commit: d.commit } : {}), result: d }
      })
      return finish(paymentId, batch, out.result, out.saved)
    }
    for (let attempt = 0; ; attempt++) {
      const d = decideBatch(paymentId, batch, await load(paymentId))
      if (!d.commit) return finish(paymentId, batch, d, undefined)
      try {
        return finish(paymentId, batch, d, await store.commit(d.commit))
      } catch (e) {
        // Another process wrote the payment first: step again on its state. An outcome the provider
        // already gave must land whatever the contention (`persistent`), so it keeps trying longer.
        const persistent = batch.some((w) => w.opts.persistent)
        if (e instanceof StoreConflict && e.kind === "version" && attempt < (persistent ? 200 : 20)) {
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 + attempt * 2, 50)))
          continue
        }
        if (e instanceof StoreConflict && e.kind === "version") throw paystateError("CONCURRENT_MODIFICATION", e.message, { paymentId })
        throw e
      }
    }
  }

  const toRows = (commit: ReturnType<typeof toCommit>): OutboxRow[] =>
    (commit.outboxAdd ?? []).map((o) => ({ ...o, attempts: 1, state: "pending", lastError: null }))

  return { step, recent: (paymentId: string): StoredPayment | undefined => lastSaved.get(paymentId), toRows }
}
