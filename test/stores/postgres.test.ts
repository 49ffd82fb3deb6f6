/**
 * The contract on a real PostgreSQL server. In CI (CI=true) a missing server fails the suite; on a
 * developer machine without one the suite is skipped by name, with the reason.
 */
import pg from "pg"
import { describe, it } from "vitest"
import { postgresStore } from "../../adapters/stores/postgres.js"
import { storeContract } from "./contract.js"

export const PG_URL = process.env.PAYSTATE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

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
  storeContract("postgres", () => postgresStore({ connectionString: PG_URL }))
} else {
  describe("store contract: postgres", () => {
    it.skip(`skipped: no PostgreSQL at ${PG_URL} (start it with pg_ctlcluster; in CI this fails instead)`, () => {})
  })
}
