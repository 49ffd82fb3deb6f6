/**
 * The PostgreSQL store, for many host processes sharing one database. Version checks decide between
 * concurrent writers; `for update skip locked` leases keep two processes off the same effect.
 */
import pg from "pg"
import type { Store } from "../../src/store.js"
import { sqlStore, type Queryable, type SqlDriver } from "./sql/core.js"

/** Options of the PostgreSQL store: a connection string or pool settings. */
export interface PostgresStoreOptions {
  readonly connectionString?: string
  readonly pool?: pg.PoolConfig
  /**
   * A PostgreSQL schema to keep paystate's tables in (created on `init`); default: the connection's
   * search path (usually `public`). Lets several apps, or isolated test runs, share one database.
   */
  readonly schema?: string
}

/** Creates the PostgreSQL store. */
export const postgresStore = (options: PostgresStoreOptions = {}): Store => {
  const schema = options.schema
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError(`postgresStore: schema "${schema}" must be a lower-case SQL identifier.`)
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 10, ...options.pool, ...(schema ? { options: `-c search_path=${schema}` } : {}) })
  const wrap = (c: pg.Pool | pg.PoolClient): Queryable => ({
    query: async (sql, params) => {
      const r = await c.query(sql, params as unknown[])
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
    close: () => pool.end(),
  }
  const store = sqlStore(driver)
  if (!schema) return store
  let ready: Promise<void> | undefined
  return { ...store, init: () => (ready ??= driver.query(`create schema if not exists ${schema}`, []).then(() => store.init())) }
}
