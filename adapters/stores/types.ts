/**
 * What the stores offer beyond `src/store.ts` today: paged journals, keyset cursors and capped totals
 * in lists, and `mutate` (a locked read-decide-write). Every store in adapters/stores implements
 * these; they are meant to fold into `Store` itself, and until then callers that want them use these
 * types (the factories return them).
 */
import type { Commit, JournalEntry, ListPage, ListQuery, Store, StoredPayment } from "../../src/store.js"

/** A page of one payment's journal: entries after `afterVersion` (default 0), at most `limit` (default all). */
export interface JournalPageQuery {
  readonly afterVersion?: number
  readonly limit?: number
}

/** `list` filters plus a keyset cursor. */
export interface CursorListQuery extends ListQuery {
  /**
   * Continue after the row this cursor names (a `nextCursor` of an earlier page with the same
   * filters). With a cursor, `page` is not used: the page starts right after the cursor's row.
   */
  readonly after?: string
}

/** One page of payments, with a cursor to the next one and a total that may be an estimate. */
export interface CursorListPage<T> extends ListPage<T> {
  /** Where the next page starts (pass it as `after`); null on the last page. */
  readonly nextCursor: string | null
  /**
   * False: `total` is the exact number of matching payments. True: more matched than the store
   * counts exactly (`countLimit`, default 1000), and `total` is an estimate, never below
   * `countLimit + 1`; `lastPage` follows it.
   */
  readonly totalIsEstimate: boolean
}

/** What a `mutate` decision returns: an optional commit to write and a result for the caller. */
export interface Decision<T> {
  readonly commit?: Commit
  readonly result: T
}

/** A store with every capability adapters/stores implements. */
export interface ScalableStore extends Store {
  /** The journal of one payment in version order; with a page query, only that page. */
  journal(paymentId: string, page?: JournalPageQuery): Promise<readonly JournalEntry[]>
  list(query: CursorListQuery): Promise<CursorListPage<StoredPayment>>
  /**
   * Loads the payment with its row locked (in the step's transaction on PostgreSQL; serialised per
   * payment in one PGlite or memory store), calls the synchronous pure `decide` with it, and writes
   * the commit `decide` returns in the same transaction. Steps on one payment from several processes
   * queue on the row instead of failing version checks. `decide` may be called again with a fresher
   * row (after a concurrent create), so it must be pure; the row it gets and the `saved` row are the
   * store's own: treat them as read-only. A commit whose `expectedVersion` does not match the row
   * still fails with StoreConflict.
   */
  mutate<T>(paymentId: string, decide: (row: StoredPayment | undefined) => Decision<T>): Promise<{ readonly saved?: StoredPayment; readonly result: T }>
}
