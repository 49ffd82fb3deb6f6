/**
 * The PostgreSQL store, for many host processes sharing one database. A step on a payment locks its
 * row (`select … for update` in the step's transaction), so steps from several processes queue on
 * the row; `for update skip locked` leases keep two processes off the same effect. Connections run
 * in pipeline mode: a statement is sent without waiting for the answer to the one before, so a
 * locked step costs two round trips.
 */
import pg from "pg"
import { sqlStore, type Queryable, type SqlDriver } from "./sql/core.js"
import type { ScalableStore } from "./types.js"

/** Options of the PostgreSQL store: a connection string or pool settings. */
export interface PostgresStoreOptions {
  readonly connectionString?: string
  readonly pool?: pg.PoolConfig
  /**
   * A PostgreSQL schema to keep paystate's tables in (created on `init`); default: the connection's
   * search path (usually `public`). Lets several apps, or isolated test runs, share one database.
   */
  readonly schema?: string
  /** How many matching payments `list` counts exactly before it answers with an estimate (default 1000). */
  readonly countLimit?: number
}

/** Creates the PostgreSQL store. */
export const postgresStore = (options: PostgresStoreOptions = {}): ScalableStore => {
  const schema = options.schema
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError(`postgresStore: schema "${schema}" must be a lower-case SQL identifier.`)
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: 10,
    // node-postgres pipeline mode: queries on one client go out back to back, each with its own Sync.
    pipeline: true,
    ...options.pool,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  })
  const wrap = (c: pg.Pool | pg.PoolClient): Queryable => ({
    query: async (sql, params, name) => {
      // pg copies a config object property by property; text and values go through as they are.
      const r = await (name ? c.query({ name, text: sql, values: params as unknown[] }) : c.query(sql, params as unknown[]))
      return { rows: r.rows, affectedRows: r.rowCount ?? undefined }
    },
  })
  const driver: SqlDriver = {
    name: "postgres",
    ...wrap(pool),
    transaction: async (fn) => {
      const client = await pool.connect()
      try {
        await client.query("begin")
        const result = await fn(wrap(client))
        await client.query("commit")
        return result
      } catch (e) {
        await client.query("rollback").catch(() => undefined)
        throw e
      } finally {
        client.release()
      }
    },
    session: async (fn) => {
      const client = await pool.connect()
      let broken: Error | undefined
      try {
        return await fn(wrap(client))
      } catch (e) {
        // The session normally ended its transaction itself; a rollback here is a no-op then, and
        // a connection that cannot even roll back is not given back to the pool.
        await client.query("rollback").catch((err: Error) => {
          broken = err
        })
        throw e
      } finally {
        client.release(broken)
      }
    },
    close: () => pool.end(),
  }
  const store = sqlStore(driver, { countLimit: options.countLimit })
  if (!schema) return store
  let ready: Promise<void> | undefined
  // Two processes creating the schema at once: one of them sees a unique violation; the schema exists.
  const createSchema = () => driver.query(`create schema if not exists ${schema}`, []).catch((e: { code?: string }) => {
    if (e?.code !== "23505" && e?.code !== "42P06") throw e
  })
  return { ...store, init: () => (ready ??= createSchema().then(() => store.init())) }
}
