/**
 * Which store a CLI command runs on, and opening it. The demo may create its store; every other
 * command opens an existing one only: a mistyped `--data-dir` or database URL is an error that names
 * what is missing, never a new empty store that answers "no payment".
 */
import { existsSync, statSync } from "node:fs"
import { resolve } from "node:path"
import pg from "pg"
import { memoryStore } from "../../adapters/stores/memory.js"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { postgresStore } from "../../adapters/stores/postgres.js"
import type { Store } from "../store.js"
import { CliError } from "./args.js"

/** Where the demo keeps its embedded database unless told otherwise. */
export const DEFAULT_DATA_DIR = ".paystate/demo"

/** A store as the flags and the environment choose it. */
export type StoreChoice =
  | { readonly kind: "memory" }
  | { readonly kind: "pglite"; readonly dataDir: string }
  | { readonly kind: "postgres"; readonly url: string; readonly schema?: string }

/** The store flags (`--store`, `--data-dir`, `--url`, `--schema`). */
export interface StoreFlags {
  readonly store?: string
  readonly "data-dir"?: string
  readonly url?: string
  readonly schema?: string
}

/**
 * Chooses the store: `--store` when given; otherwise PostgreSQL when `--url` or
 * `PAYSTATE_DATABASE_URL` names a database, PGlite in `--data-dir` (default `.paystate/demo`) when not.
 * Flags that belong to another store are errors rather than silently ignored.
 */
export const chooseStore = (flags: StoreFlags, env: NodeJS.ProcessEnv, kinds: readonly StoreChoice["kind"][]): StoreChoice => {
  const url = flags.url ?? env.PAYSTATE_DATABASE_URL
  const kind = flags.store ?? (url && kinds.includes("postgres") ? "postgres" : "pglite")
  if (!(kinds as readonly string[]).includes(kind)) throw new CliError(`--store ${kind} is not one of: ${kinds.join(", ")}.`)
  if (kind !== "pglite" && flags["data-dir"] !== undefined) throw new CliError(`--data-dir is for --store pglite; this command runs on ${kind}.`)
  if (kind !== "postgres" && (flags.url !== undefined || flags.schema !== undefined)) throw new CliError(`--${flags.url !== undefined ? "url" : "schema"} is for --store postgres; this command runs on ${kind}.`)
  if (kind === "memory") return { kind: "memory" }
  if (kind === "pglite") return { kind: "pglite", dataDir: resolve(flags["data-dir"] ?? DEFAULT_DATA_DIR) }
  if (!url) throw new CliError("--store postgres needs a database: pass --url postgres://… or set PAYSTATE_DATABASE_URL.")
  const schema = flags.schema ?? env.PAYSTATE_DATABASE_SCHEMA
  return { kind: "postgres", url, ...(schema ? { schema } : {}) }
}

/** A connection string with its password hidden, for messages. */
export const safeUrl = (url: string): string => {
  try {
    const u = new URL(url)
    if (u.password) u.password = "***"
    return u.toString()
  } catch {
    return "(an unparsable connection string)"
  }
}

/** Describes a store choice in words, for headlines and errors. */
export const describeStore = (c: StoreChoice): string =>
  c.kind === "memory" ? "the memory store" : c.kind === "pglite" ? `the PGlite store in ${c.dataDir}` : `PostgreSQL at ${safeUrl(c.url)}${c.schema ? ` (schema ${c.schema})` : ""}`

/** Opens a store, creating it when it does not exist (the demo). */
export const createStore = (c: StoreChoice): Store =>
  c.kind === "memory" ? memoryStore() : c.kind === "pglite" ? pgliteStore({ dataDir: c.dataDir }) : postgresStore({ connectionString: c.url, ...(c.schema ? { schema: c.schema } : {}) })

const MIGRATIONS_TABLE = "paystate_migrations"

/**
 * Opens a store that must already exist: the data directory must be a PGlite directory with
 * paystate's tables, the database must answer and hold them. Throws a CliError naming what is
 * missing. The store is then initialised (pending migrations applied, nothing created).
 */
export const openExistingStore = async (c: StoreChoice): Promise<Store> => {
  if (c.kind === "memory") throw new CliError("The memory store lives inside one process: there is nothing to read. Use --store pglite or postgres.")
  if (c.kind === "pglite") checkPgliteDir(c.dataDir)
  else await checkPostgres(c.url, c.schema)
  const store = createStore(c)
  try {
    // PGlite: one open only (opening a data directory takes a while). A lookup before `init` tells a
    // paystate store from a PGlite directory without its tables, which `init` would create.
    if (c.kind === "pglite") await store.load("paystate-cli-probe").catch((e: { code?: string }) => {
      if (e?.code === "42P01") throw new CliError(`${c.dataDir} is a PGlite directory without paystate's tables. ${PGLITE_HINT}`)
      throw e
    })
    await store.init()
  } catch (e) {
    await store.close().catch(() => undefined)
    throw e
  }
  return store
}

const PGLITE_HINT = "Pass the --data-dir your app's pgliteStore uses (or run `paystate demo` to make one)."

const checkPgliteDir = (dataDir: string): void => {
  if (!existsSync(dataDir)) throw new CliError(`No paystate store at ${dataDir}: the directory does not exist. ${PGLITE_HINT}`)
  if (!statSync(dataDir).isDirectory() || !existsSync(resolve(dataDir, "PG_VERSION"))) throw new CliError(`${dataDir} is not a PGlite data directory. ${PGLITE_HINT}`)
}

const checkPostgres = async (url: string, schema: string | undefined): Promise<void> => {
  const where = `PostgreSQL at ${safeUrl(url)}`
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new CliError(`--schema ${schema} must be a lower-case SQL identifier.`)
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  try {
    await client.connect()
  } catch (e) {
    const err = e as { code?: string; message?: string }
    if (err.code === "3D000") throw new CliError(`No database at ${where}: ${err.message}. Pass the --url (or PAYSTATE_DATABASE_URL) your app uses.`)
    throw new CliError(`Cannot reach ${where}: ${err.code ?? ""} ${err.message ?? String(e)}`.replace(/\s+/g, " ").trim())
  } finally {
    // connect() failures leave nothing open; end() below closes a connected client.
  }
  try {
    const table = schema ? `${schema}.${MIGRATIONS_TABLE}` : MIGRATIONS_TABLE
    const r = await client.query<{ t: string | null }>("select to_regclass($1)::text as t", [table])
    if (!r.rows[0]?.t) throw new CliError(`No paystate store in ${where}${schema ? ` schema ${schema}` : ""}: its tables do not exist. Pass the --url${schema ? " and --schema" : ""} your app uses.`)
  } finally {
    await client.end().catch(() => undefined)
  }
}
