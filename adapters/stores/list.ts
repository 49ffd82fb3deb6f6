/**
 * List helpers every store shares: the keyset cursor format and the default cap on exact counts, so
 * a cursor from one store means the same on another and totals follow one rule.
 */
import { paystateError } from "../../src/errors.js"

/** How many matching payments a list counts exactly before it answers with an estimate. */
export const DEFAULT_COUNT_LIMIT = 1000

/** The position of a row in list order (newest first, then id descending). */
export interface ListPosition {
  readonly createdAt: string
  readonly id: string
}

/** Encodes a row's position as an opaque cursor. */
export const encodeCursor = (p: ListPosition): string => Buffer.from(JSON.stringify([p.createdAt, p.id]), "utf8").toString("base64url")

/** Decodes a cursor; a cursor this module did not make is an INVALID_INPUT, never a database error. */
export const decodeCursor = (cursor: string): ListPosition => {
  const bad = () => paystateError("INVALID_INPUT", "list cursor is not one a list answered (pass a nextCursor back unchanged).", { after: String(cursor).slice(0, 100) })
  if (typeof cursor !== "string" || cursor.length > 600 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad()
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
  } catch {
    throw bad()
  }
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== "string" || typeof v[1] !== "string") throw bad()
  const t = Date.parse(v[0])
  // The time goes back into SQL: only instants PostgreSQL stores (and that this cursor format wrote).
  if (!Number.isFinite(t) || new Date(t).toISOString() !== v[0] || v[1].length === 0 || v[1].length > 300 || /[\u0000\ud800-\udfff]/.test(v[1])) throw bad()
  return { createdAt: v[0], id: v[1] }
}

/** A count limit from options: a positive integer, default {@link DEFAULT_COUNT_LIMIT}. */
export const countLimitOf = (n: number | undefined): number => {
  if (n === undefined) return DEFAULT_COUNT_LIMIT
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`countLimit must be a positive integer, not ${n}.`)
  return n
}
