/**
 * The embedded default store: PostgreSQL compiled to WebAssembly (PGlite) in a data directory on
 * disk. No server to run; one process at a time owns the directory.
 */
import { mkdirSync } from "node:fs"
import { PGlite } from "@electric-sql/pglite"
import type { Store } from "../../src/store.js"
import { sqlStore, type SqlDriver } from "./sql/core.js"

/** Options of the PGlite store. */
export interface PgliteStoreOptions {
  /** Data directory; omitted = in memory (nothing survives the process). */
  readonly dataDir?: string
}

/** Creates the PGlite store. */
export const pgliteStore = (options: PgliteStoreOptions = {}): Store => {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true })
  const db = new PGlite(options.dataDir)
  const driver: SqlDriver = {
    name: "pglite",
    query: async (sql, params) => {
      const r = await db.query(sql, params as unknown[])
      return { rows: r.rows as never[], affectedRows: r.affectedRows }
    },
    // PGlite runs one statement at a time; its transaction wrapper gives the atomicity commits need.
    transaction: (fn) => db.transaction((tx) => fn({ query: async (sql, params) => ({ rows: (await tx.query(sql, params as unknown[])).rows as never[] }) })),
    close: () => db.close(),
  }
  return sqlStore(driver)
}
