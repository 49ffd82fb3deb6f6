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
}

/** Creates the PostgreSQL store. */
export const postgresStore = (options: PostgresStoreOptions = {}): Store => {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 10, ...options.pool })
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
  return sqlStore(driver)
}
