/**
 * The security suite on PGlite. The store is the project's SQL core on a PGlite driver built here the
 * way `pgliteStore` builds it, so the test can count the rows of every paystate_ table on the same
 * database (pgliteStore does not hand its PGlite instance out).
 */
import { PGlite } from "@electric-sql/pglite"
import { sqlStore, type SqlDriver } from "../../adapters/stores/sql/core.js"
import { securitySuite, SQL_SUITE } from "./suite.js"
import { sqlCounts } from "./world.js"

securitySuite("PGlite", async () => {
  const db = new PGlite()
  const driver: SqlDriver = {
    name: "pglite",
    query: async (sql, params) => {
      const r = await db.query(sql, params as unknown[])
      return { rows: r.rows as never[], affectedRows: r.affectedRows }
    },
    transaction: (fn) => db.transaction((tx) => fn({ query: async (sql, params) => ({ rows: (await tx.query(sql, params as unknown[])).rows as never[] }) })),
    close: () => db.close(),
  }
  const store = sqlStore(driver)
  return { name: "PGlite", store, counts: sqlCounts(async (sql) => ({ rows: (await db.query(sql)).rows as Record<string, unknown>[] }), "public") }
}, SQL_SUITE)
