/**
 * The databases the Craftgate reliability and PCI tests run on: memory, PGlite (one data directory
 * per test file: creating one costs seconds) and PostgreSQL (a fresh schema per database, dropped at
 * the end). In CI (CI=true) a PostgreSQL that does not answer fails the suite; elsewhere its cases
 * are skipped, named with the reason.
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

/** The kinds of database. */
export type DatabaseKind = "memory" | "pglite" | "postgres"

/** One database several engines share, as host processes would. */
export interface Database {
  readonly kind: DatabaseKind
  /** A store for one engine; its `close` (engine.close) leaves the database to the others. */
  open(): Store
  /** Every row of every `paystate_` table as JSON text, keyed by table (for greps). */
  dump(): Promise<Record<string, string>>
  close(): Promise<void>
}

/**
 * Whether PostgreSQL cases run: when it answers, or always in CI (where an absent server then fails
 * the cases instead of skipping them).
 */
export const postgresEnabled = async (): Promise<boolean> => (await pgReachable()) || !!process.env.CI

const unclosable = (s: Store): Store => ({ ...s, close: async () => {} })

let schemas = 0

const dumpWith = async (query: (sql: string) => Promise<{ rows: Record<string, unknown>[] }>): Promise<Record<string, string>> => {
  const tables = (await query("select table_name from information_schema.tables where table_name like 'paystate%' and table_schema = current_schema() order by 1")).rows.map((r) => String(r.table_name))
  if (tables.length === 0) throw new Error("no paystate tables found to search")
  const out: Record<string, string> = {}
  for (const t of tables) out[t] = (await query(`select * from ${t}`)).rows.map((r) => JSON.stringify(r)).join("\n")
  return out
}

/** Opens a database of the given kind. */
export const openDatabase = async (kind: DatabaseKind, prefix = "craftgate"): Promise<Database> => {
  if (kind === "memory") {
    const s = memoryStore()
    await s.init()
    return { kind, open: () => unclosable(s), dump: async () => ({}), close: () => s.close() }
  }
  if (kind === "pglite") {
    const dir = mkdtempSync(join(tmpdir(), `paystate-${prefix}-`))
    let s: Store | undefined = pgliteStore({ dataDir: dir })
    await s.init()
    const owner = () => (s ??= pgliteStore({ dataDir: dir }))
    return {
      kind,
      open: () => unclosable(owner()),
      // PGlite has one owner per directory: the dump closes the store, reads the directory, and the
      // next `open` reopens it.
      dump: async () => {
        await s?.close()
        s = undefined
        const { PGlite } = await import("@electric-sql/pglite")
        const db = new PGlite(dir)
        try {
          return await dumpWith((sql) => db.query(sql) as never)
        } finally {
          await db.close()
        }
      },
      close: async () => {
        await s?.close().catch(() => undefined)
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const schema = `${prefix}_t${process.pid}_${++schemas}_${Date.now().toString(36)}`
  const first = postgresStore({ connectionString: PG_URL, schema })
  await first.init()
  await first.close()
  const client = async () => {
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
    await c.connect()
    return c
  }
  return {
    kind,
    // Each engine gets its own pool on the same schema: two processes on one database.
    open: () => postgresStore({ connectionString: PG_URL, schema }),
    dump: async () => {
      const c = await client()
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
