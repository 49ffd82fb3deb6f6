/**
 * The store contract. Every store (memory, PGlite, PostgreSQL) implements it and passes the one
 * contract suite in `test/stores/contract.ts`. A store holds five things per payment: the snapshot
 * (version-checked), the journal, the outbox of effects, durable timers, and seen webhook keys.
 * `commit` writes all of a step at once, or nothing.
 */
import type { Json, PaymentStatus } from "../machines/lifecycle/index.js"

/** A persisted machine snapshot: plain JSON, restored with `machine.resolveState`. */
export interface PersistedSnapshot {
  /** The payment machine's id and version (absent in snapshots written before machines were versioned). */
  readonly machine?: string
  readonly version?: string
  readonly value: Json
  readonly context: Json
  /** The refund machines in flight, by refund id: `{ machine, version, value, context }` each. */
  readonly children?: Readonly<Record<string, { readonly machine: string; readonly version: string; readonly value: Json; readonly context: Json }>>
}

/** A payment row: the snapshot plus the columns lists filter on. */
export interface StoredPayment {
  readonly id: string
  readonly provider: string
  readonly providerRef: string | null
  readonly status: PaymentStatus
  readonly currency: string
  readonly amount: number
  readonly externalOrderNum: string | null
  readonly createdAt: string
  readonly updatedAt: string
  /** True while a refund of the payment needs a person (flagged for review, or an unattributed provider refund). */
  readonly needsReview?: boolean
  /** Starts at 1 and grows by one with every journal entry (one per commit, unless a step batched events). */
  readonly version: number
  readonly snapshot: PersistedSnapshot
}

/** One journal entry: what happened to a payment at one version. */
export interface JournalEntry {
  readonly paymentId: string
  readonly version: number
  readonly at: string
  /** The event that caused it (a command, an outcome, a webhook, a timer). */
  readonly event: Json
  readonly status: PaymentStatus
  /** The snapshot after the event, so the journal alone can rebuild the store. */
  readonly snapshot: PersistedSnapshot
}

/** An effect waiting to be carried out. */
export interface OutboxRow {
  readonly id: string
  readonly paymentId: string
  readonly provider: string
  readonly opId: string
  readonly op: string
  readonly payload: Json
  readonly idempotencyKey: string
  readonly attempts: number
  readonly state: "pending" | "done" | "parked"
  /** Not to be claimed again before this time (a lease held by a runner, or a retry backoff). */
  readonly availableAt: string
  readonly createdAt: string
  readonly lastError: string | null
  /** Start of the current retry window (set when a person retries a parked entry); null = `createdAt`. */
  readonly retrySince?: string | null
}

/** A durable timer. */
export interface TimerRow {
  readonly paymentId: string
  readonly timerId: string
  readonly name: string
  readonly fireAt: string
  readonly data: Json
}

/** What a commit journals for one event; the store adds the payment id and the version. */
export type JournalInput = Omit<JournalEntry, "version" | "paymentId" | "snapshot">

/** A commit's journal entries as a list (one entry, or the several of a batched step). */
export const journalOf = (commit: Pick<Commit, "journal">): readonly JournalInput[] => (Array.isArray(commit.journal) ? commit.journal : [commit.journal as JournalInput])

/** Everything one step writes, atomically. */
export interface Commit {
  readonly payment: Omit<StoredPayment, "version">
  /** The version the writer loaded; 0 for a new payment. A mismatch fails with CONCURRENT_MODIFICATION. */
  readonly expectedVersion: number
  /**
   * The journal entry: the event that caused the step (stores keep no snapshot per row), or several in
   * order when the engine applied several events in one step; each takes the next version, so the
   * saved payment's version is `expectedVersion` + the number of entries.
   */
  readonly journal: JournalInput | readonly JournalInput[]
  readonly outboxAdd?: readonly Omit<OutboxRow, "attempts" | "state" | "lastError" | "retrySince">[]
  /** Outbox entries this step settles. */
  readonly outboxDone?: readonly string[]
  readonly timersSet?: readonly TimerRow[]
  readonly timersCancel?: readonly string[]
  /** Webhook keys to remember; if any is already known the whole commit fails with DUPLICATE. */
  readonly seen?: readonly string[]
}

/** Filters and paging for `list`, like KOMOJU's payment list. */
export interface ListQuery {
  readonly provider?: string
  readonly status?: PaymentStatus
  readonly currency?: string
  readonly externalOrderNum?: string
  /** ISO time; created at or after. */
  readonly startTime?: string
  /** ISO time; created before. */
  readonly endTime?: string
  /** Only payments with a refund that needs a person. */
  readonly needsReview?: boolean
  readonly page?: number
  readonly perPage?: number
  /** Keyset pagination: the `nextCursor` of the previous page with the same filters. */
  readonly after?: string
}

/** One page of payments, newest first. */
export interface ListPage<T> {
  readonly data: readonly T[]
  readonly total: number
  readonly page: number
  readonly perPage: number
  readonly lastPage: number
  /** Where the next page starts (pass it as `after`); null on the last page; absent where a store has no cursors. */
  readonly nextCursor?: string | null
  /** True when `total` is a capped count (a store counts exactly up to a limit). */
  readonly totalIsEstimate?: boolean
}

/** Raised by `commit` when the expected version is stale or a seen key repeats. */
export class StoreConflict extends Error {
  constructor(
    readonly kind: "version" | "duplicate",
    message: string,
  ) {
    super(message)
    this.name = "StoreConflict"
  }
}

/** A persistence backend. */
export interface Store {
  readonly name: string
  /** Creates tables or applies pending migrations; safe to call more than once. */
  init(): Promise<void>
  load(id: string): Promise<StoredPayment | undefined>
  findByProviderRef(provider: string, providerRef: string): Promise<StoredPayment | undefined>
  /** Writes one step atomically; throws StoreConflict on a stale version or a repeated seen key. */
  commit(commit: Commit): Promise<StoredPayment>
  list(query: ListQuery): Promise<ListPage<StoredPayment>>
  /** A payment's journal in version order: all of it, or the entries after `afterVersion`, at most `limit`. */
  journal(paymentId: string, page?: { readonly afterVersion?: number; readonly limit?: number }): Promise<readonly JournalEntry[]>
  /** Every journal entry of every payment, in commit order (for replay and export). */
  allJournal(): Promise<readonly JournalEntry[]>
  /**
   * Every machine version stored snapshots name (payment machines and the refund machines in flight),
   * by provider, so the engine can refuse to start without one of them. A scan: run at start-up only.
   */
  machineVersions?(): Promise<readonly { readonly provider: string; readonly machine: string; readonly version: string }[]>
  /**
   * Claims pending outbox entries that are available now, pushing their `availableAt` to now + leaseMs
   * and counting an attempt, so that another runner (or process) does not take them meanwhile.
   * Returns the rows as claimed (attempts already counted). A new entry starts at attempt 1: its writer
   * holds the lease from the moment it is committed.
   */
  claimOutbox(now: string, leaseMs: number, limit: number, ids?: readonly string[]): Promise<readonly OutboxRow[]>
  /** Puts a claimed entry back for a later attempt, or parks it for a person. */
  releaseOutbox(id: string, update: { readonly availableAt: string; readonly lastError: string; readonly park?: boolean }): Promise<void>
  /** Puts a parked entry back in the queue, available at `availableAt`, with a new retry window from then. False if it was not parked. */
  unparkOutbox(id: string, availableAt: string): Promise<boolean>
  /** Outbox entries of one payment (or all), optionally only those in one state. */
  outbox(paymentId?: string, state?: OutboxRow["state"]): Promise<readonly OutboxRow[]>
  dueTimers(now: string, limit: number): Promise<readonly TimerRow[]>
  hasSeen(key: string): Promise<boolean>
  /** Remembers webhook keys outside a payment commit (a delivery that changed nothing); idempotent. */
  markSeen(keys: readonly string[]): Promise<void>
  close(): Promise<void>
  /**
   * Loads the payment with its row locked (`select … for update` in the step's transaction on
   * PostgreSQL; serialised per payment in one PGlite or memory store), calls the synchronous pure
   * `decide` with it and writes the commit it returns in the same transaction, so steps on one payment
   * from several processes queue on the row instead of failing version checks. `decide` may run again
   * on a fresher row (after a concurrent create), so it must be pure; the rows it gets and returns are
   * the store's own (read-only). Every store in adapters/stores has it; optional for other stores.
   */
  mutate?<T>(paymentId: string, decide: (row: StoredPayment | undefined) => { readonly commit?: Commit; readonly result: T }): Promise<{ readonly saved?: StoredPayment; readonly result: T }>
}
