/** The test PostgreSQL: its URL and whether it answers (in CI a missing server is a failure, never a skip: callers check `CI` too). */
import pg from "pg"

/** The server the PostgreSQL tests use. */
export const PG_URL = process.env.PAYSTATE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

/** True when a connection to `PG_URL` opens within 3 s. */
export const pgReachable: boolean = await (async () => {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
    await c.end()
    return true
  } catch {
    return false
  }
})()
