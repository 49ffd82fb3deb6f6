/**
 * The security suite on a real PostgreSQL server, in a schema of its own: `sec_fuzz_<pid>`, dropped
 * before and after. The pid matters: the suite compares row counts before and after each call, so two
 * runs on one server (a developer's and a full `npm test`) must not share tables. In CI (CI=true) a
 * missing server fails the suite; on a developer machine without one it is skipped by name.
 */
import pg from "pg"
import { describe, it } from "vitest"
import { postgresStore } from "../../adapters/stores/postgres.js"
import { securitySuite, SQL_SUITE } from "./suite.js"
import { sqlCounts } from "./world.js"

const PG_URL = process.env.PAYSTATE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const SCHEMA = `sec_fuzz_${process.pid}`

const reachable = await (async () => {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
    await c.end()
    return true
  } catch {
    return false
  }
})()

if (reachable || process.env.CI) {
  securitySuite("PostgreSQL", async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 })
    await client.connect()
    await client.query(`drop schema if exists ${SCHEMA} cascade`)
    const store = postgresStore({ connectionString: PG_URL, schema: SCHEMA })
    return {
      name: "PostgreSQL",
      store,
      counts: sqlCounts((sql) => client.query(sql), SCHEMA),
      close: async () => {
        await client.query(`drop schema if exists ${SCHEMA} cascade`).catch(() => undefined)
        await client.end()
      },
    }
  }, SQL_SUITE)
} else {
  describe("security on PostgreSQL", () => {
    it.skip(`skipped: no PostgreSQL at ${PG_URL} (start it with pg_ctlcluster; in CI this fails instead)`, () => {})
  })
}
