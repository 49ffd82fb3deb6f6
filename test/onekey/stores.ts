/**
 * The stores the OneKey reliability tests run on: memory, PGlite (one per test file: a data
 * directory costs seconds) and PostgreSQL (a fresh schema per database, dropped at the end). In CI
 * (CI=true) a PostgreSQL that does not answer fails the suite; elsewhere its cases are skipped.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { memoryStore } from "../../adapters/stores/memory.js"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { postgresStore } from "../../adapters/stores/postgres.js"
import type { Store } from "../../src/store.js"
import { PG_URL, pgReachable as reachable } from "../support/postgres.js"

export { PG_URL }

/** Where the tests find PostgreSQL. */

/** Whether the test PostgreSQL answers (checked once per process, in test/support/postgres.ts). */
export const pgReachable = async (): Promise<boolean> => reachable

/** One database several engines share, as host processes would. */
export interface Database {
  readonly kind: "memory" | "pglite" | "postgres"
  /** A store handle for one engine; closing it (engine.close) leaves the database to the others. */
  open(): Store
  /** Every row of every paystate table, as JSON text per table and column (for greps). */
  dump(): Promise<Record<string, string>>
  close(): Promise<void>
}

/** A shared store whose `close` is left to the database's owner. */
const unclosable = (s: Store): Store => ({ ...s, close: async () => {} })

/** What kinds of database a file runs on: memory and PGlite always, PostgreSQL when it answers or in CI. */
export const databaseKinds = async (): Promise<readonly Database["kind"][]> => ((await pgReachable()) || process.env.CI ? ["memory", "pglite", "postgres"] : ["memory", "pglite"])

let schemas = 0
const TABLES = ["paystate_payments", "paystate_journal", "paystate_outbox", "paystate_timers", "paystate_seen", "paystate_refund_entries"]

const dumpWith = async (query: (sql: string) => Promise<{ rows: Record<string, unknown>[] }>): Promise<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const t of TABLES) {
    const { rows } = await query(`select * from ${t}`)
    for (const row of rows) for (const [col, v] of Object.entries(row)) out[`${t}.${col}`] = (out[`${t}.${col}`] ?? "") + JSON.stringify(v) + "\n"
  }
  return out
}

/** Opens a database of the given kind. PGlite databases live in a temporary directory. */
export const openDatabase = async (kind: Database["kind"]): Promise<Database> => {
  if (kind === "memory") {
    const s = memoryStore()
    return { kind, open: () => unclosable(s), dump: async () => ({}), close: () => s.close() }
  }
  if (kind === "pglite") {
    const dir = mkdtempSync(join(tmpdir(), "paystate-onekey-"))
    const s = pgliteStore({ dataDir: dir })
    await s.init()
    return {
      kind,
      open: () => unclosable(s),
      // PGlite has one owner per directory: read through a second store's driver is not possible, so
      // the dump reopens the directory after closing the owner (call it last).
      dump: async () => {
        await s.close()
        const { PGlite } = await import("@electric-sql/pglite")
        const db = new PGlite(dir)
        try {
          return await dumpWith((sql) => db.query(sql) as never)
        } finally {
          await db.close()
        }
      },
      close: async () => {
        await s.close().catch(() => undefined)
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const schema = `onekey_t${process.pid}_${++schemas}_${Date.now().toString(36)}`
  const first = postgresStore({ connectionString: PG_URL, schema })
  await first.init()
  await first.close()
  return {
    kind,
    // Each engine gets its own pool on the same schema: two processes on one database.
    open: () => postgresStore({ connectionString: PG_URL, schema }),
    dump: async () => {
      const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
      await c.connect()
      try {
        return await dumpWith((sql) => c.query(sql))
      } finally {
        await c.end()
      }
    },
    close: async () => {
      const c = new pg.Client({ connectionString: PG_URL })
      await c.connect()
      try {
        await c.query(`drop schema if exists ${schema} cascade`)
      } finally {
        await c.end()
      }
    },
  }
}
