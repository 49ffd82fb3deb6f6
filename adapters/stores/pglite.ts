/**
 * The embedded default store: PostgreSQL compiled to WebAssembly (PGlite) in a data directory on
 * disk. No server to run; one process at a time owns the directory.
 *
 * Fast start: running initdb in WebAssembly takes 3–11 s. The first store on a machine prepares a
 * template instead (initdb + every migration, once, in the user's cache directory) and each fresh data
 * directory after that is a copy of it; an in-memory store loads the template's tarball. See
 * docs/stores.md and docs/performance.md for the figures.
 */
import { createHash, randomBytes } from "node:crypto"
import { constants, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { homedir, tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { parse, PGlite, protocol } from "@electric-sql/pglite"
import { migrate, sqlStore, type Queryable, type SqlDriver } from "./sql/core.js"
import { MIGRATIONS } from "./sql/migrations.js"
import type { ScalableStore } from "./types.js"

/** Options of the PGlite store. */
export interface PgliteStoreOptions {
  /** Data directory; omitted = in memory (nothing survives the process). */
  readonly dataDir?: string
  /**
   * Where prepared template data directories are kept, or false to run initdb for every fresh
   * directory. Default: `$PAYSTATE_PGLITE_TEMPLATES`, else `$XDG_CACHE_HOME/paystate/pglite` (or
   * `~/.cache/paystate/pglite`), else a private directory under the OS temp dir.
   */
  readonly templates?: string | false
  /** How many matching payments `list` counts exactly before it answers with an estimate (default 1000). */
  readonly countLimit?: number
  /**
   * Keep refund entries as rows of their own (see docs/stores.md). Default true: a refund on a
   * payment with 200 refunds then costs 1.3× one on a payment with 1 (6.4× with the snapshot whole).
   */
  readonly refundRows?: boolean
}

/** What PGlite's own query() does with a result, for the prepared path below. */
type Answer = { rows: never[]; affectedRows?: number }
type Prepared = { readonly text: string; readonly types: readonly number[] }
// Prepared statements live in the database session, so they are remembered per PGlite instance.
// The instance is the store's own and its schema changes only in `init` (migrations, before any
// named statement runs), so a prepared plan never goes stale.
const preparedOf = new WeakMap<PGlite, Map<string, Prepared>>()

const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0))
  let at = 0
  for (const b of parts) {
    out.set(b, at)
    at += b.length
  }
  return out
}

/**
 * Runs a named statement as a server-side prepared one: parsed and described once per database,
 * then one protocol exchange per call (bind, describe, execute, sync in one message). PGlite's
 * query() parses and plans the text anew and makes six protocol calls for every statement, which
 * for paystate's commit statements cost more than the work they do (0.45–0.68 ms against
 * 0.17–0.20 ms measured for one commit). Values are serialised and rows parsed by PGlite's own
 * type handlers, so answers are what query() gives. The caller holds PGlite's query lock.
 */
const runPrepared = async (db: PGlite, name: string, text: string, params: readonly unknown[]): Promise<Answer> => {
  let cache = preparedOf.get(db)
  if (!cache) preparedOf.set(db, (cache = new Map()))
  let key = name
  let p = cache.get(key)
  if (p && p.text !== text) {
    // One name, two texts: never bind a value to another statement's parameters.
    key = `${name}_${createHash("sha256").update(text).digest("hex").slice(0, 16)}`
    p = cache.get(key)
  }
  if (!p) {
    const described = await db.execProtocol(concat([protocol.serialize.parse({ name: key, text, types: [] }), protocol.serialize.describe({ type: "S", name: key }), protocol.serialize.sync()]))
    p = { text, types: parse.parseDescribeStatementResults(described.messages) }
    cache.set(key, p)
  }
  const types = p.types
  const values = params.map((v, i) => {
    if (v === null || v === undefined) return null
    const serialize = db.serializers[types[i]!]
    return serialize ? serialize(v) : String(v)
  })
  const ran = await db.execProtocol(
    concat([protocol.serialize.bind({ statement: key, values: values as string[] }), protocol.serialize.describe({ type: "P" }), protocol.serialize.execute({}), protocol.serialize.sync()]),
  )
  const [result] = parse.parseResults(ran.messages, db.parsers)
  return { rows: (result?.rows ?? []) as never[], affectedRows: result?.affectedRows }
}

/**
 * A Queryable over PGlite (or one of its transactions). A statement with a name runs prepared; others
 * through query(). `inTransaction`: the caller already holds PGlite's transaction lock.
 */
const wrap = (db: PGlite, q: { query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[]; affectedRows?: number }> }, inTransaction: boolean): Queryable => ({
  query: async (sql, params, name) => {
    if (name) {
      const run = () => db._runExclusiveQuery(() => runPrepared(db, name, sql, params ?? []))
      return inTransaction ? run() : db._runExclusiveTransaction(run)
    }
    const r = await q.query(sql, params as unknown[])
    return { rows: r.rows as never[], affectedRows: r.affectedRows }
  },
})

const driverOf = (db: () => Promise<PGlite>, onClose: () => Promise<void>): SqlDriver => ({
  name: "pglite",
  query: async (sql, params, name) => {
    const d = await db()
    return wrap(d, d, false).query(sql, params, name)
  },
  // PGlite runs one statement at a time; its transaction wrapper gives the atomicity migrations need.
  transaction: async (fn) => {
    const d = await db()
    return d.transaction((tx) => fn(wrap(d, tx, true)))
  },
  close: onClose,
})

const pgliteVersion = (): string => {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"))
    for (let i = 0; i < 5; i++, dir = dirname(dir)) {
      const file = join(dir, "package.json")
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string }
        if (pkg.name === "@electric-sql/pglite" && pkg.version) return pkg.version
      }
    }
  } catch {
    // fall through: an unknown version still gets a template, keyed by the migrations alone
  }
  return "unknown"
}

/** The template's name: PGlite's version and the exact migrations it holds. */
let templateKeyMemo: string | undefined
const templateKey = (): string =>
  (templateKeyMemo ??= `pglite-${pgliteVersion()}-m${MIGRATIONS.length}-${createHash("sha256").update(JSON.stringify(MIGRATIONS)).digest("hex").slice(0, 12)}`)

const ownedDir = (dir: string): boolean => {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const st = statSync(dir)
    // Never trust a directory another user could have planted a template in.
    return st.isDirectory() && (typeof process.getuid !== "function" || st.uid === process.getuid())
  } catch {
    return false
  }
}

const templateRoot = (configured: string | undefined): string | undefined => {
  if (configured) return ownedDir(configured) ? configured : undefined
  if (process.env.PAYSTATE_PGLITE_TEMPLATES) return ownedDir(process.env.PAYSTATE_PGLITE_TEMPLATES) ? process.env.PAYSTATE_PGLITE_TEMPLATES : undefined
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "paystate", "pglite")
  if (ownedDir(cache)) return cache
  const tmp = join(tmpdir(), `paystate-${typeof process.getuid === "function" ? process.getuid() : "user"}`, "pglite")
  return ownedDir(tmp) ? tmp : undefined
}

// One build per process and artifact, whatever the number of stores opened at once.
const building = new Map<string, Promise<string | undefined>>()
const once = (key: string, make: () => Promise<string | undefined>): Promise<string | undefined> => {
  const pending = building.get(key)
  if (pending) return pending
  const run = make()
  building.set(key, run)
  void run.finally(() => building.delete(key))
  return run
}

/**
 * Builds in a private staging directory and renames it into place, so a concurrent process sees a
 * whole artifact or none. Undefined when it cannot be made (the caller falls back to initdb).
 */
const staged = async (root: string, target: string, fill: (staging: string) => Promise<void>): Promise<string | undefined> => {
  const staging = join(root, `.staging-${process.pid}-${randomBytes(6).toString("hex")}`)
  try {
    mkdirSync(staging, { recursive: true, mode: 0o700 })
    await fill(staging)
    try {
      renameSync(staging, target)
    } catch {
      // Another process put its copy in place first: use that one.
    }
    return existsSync(target) ? target : undefined
  } catch {
    return undefined
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/** True when this machine has the template for this PGlite and these migrations. */
const templateReady = (root: string): boolean => existsSync(join(root, templateKey(), "data", "PG_VERSION"))

/**
 * The prepared template for this PGlite and these migrations: `<root>/<key>/data`, a cleanly shut
 * down data directory with every migration applied.
 */
const ensureTemplate = (root: string): Promise<string | undefined> => {
  const dir = join(root, templateKey())
  if (templateReady(root)) return Promise.resolve(dir)
  return once(dir, () =>
    staged(root, dir, async (staging) => {
      const db = new PGlite(join(staging, "data"))
      try {
        await migrate(driverOf(async () => db, async () => undefined))
      } finally {
        await db.close()
      }
    }),
  )
}

/**
 * The template as a tarball, for in-memory stores (`loadDataDir`); made from a copy of the template
 * the first time one is asked for, so the template directory itself is never opened.
 */
const ensureTarball = async (root: string): Promise<string | undefined> => {
  const dir = await ensureTemplate(root)
  if (!dir) return undefined
  const tar = join(root, `${templateKey()}.tar`)
  if (existsSync(tar)) return tar
  const made = await once(tar, () =>
    staged(root, `${tar}.d`, async (staging) => {
      cpSync(join(dir, "data"), join(staging, "data"), { recursive: true })
      const db = new PGlite(join(staging, "data"))
      try {
        await db.waitReady
        writeFileSync(join(staging, "data.tar"), Buffer.from(await (await db.dumpDataDir("none")).arrayBuffer()))
      } finally {
        await db.close()
      }
      rmSync(join(staging, "data"), { recursive: true, force: true })
    }),
  )
  if (!made) return undefined
  try {
    renameSync(join(made, "data.tar"), tar)
  } catch {
    // Already moved by a concurrent store.
  }
  rmSync(made, { recursive: true, force: true })
  return existsSync(tar) ? tar : undefined
}

const isFresh = (dir: string): boolean => !existsSync(dir) || (statSync(dir).isDirectory() && readdirSync(dir).length === 0)

// Fresh databases this process has opened without a template (see `templateFor`).
let freshWithoutTemplate = 0

/**
 * The template to start a fresh database from, or undefined to run initdb in place. Where none is
 * prepared yet, the first fresh database of the process is initialised in place: making a template
 * costs initdb plus a copy of its ~40 MB (0.8 s here) on top, which pays only if another fresh database
 * follows. The second one prepares it (once per machine), and every later one copies it.
 */
const templateFor = async (root: string | undefined): Promise<string | undefined> => {
  if (!root) return undefined
  if (!templateReady(root) && freshWithoutTemplate++ === 0) return undefined
  return ensureTemplate(root)
}

/** Opens PGlite on `dataDir` (or in memory), starting a fresh one from the template when there is one. */
const openPglite = async (options: PgliteStoreOptions): Promise<PGlite> => {
  const root = options.templates === false ? undefined : templateRoot(options.templates || undefined)
  if (options.dataDir) {
    const fresh = isFresh(options.dataDir)
    mkdirSync(options.dataDir, { recursive: true })
    const template = fresh ? await templateFor(root) : undefined
    const restart = () => {
      // A partial copy, or a damaged template, must not pass for a database: start over with initdb.
      rmSync(options.dataDir!, { recursive: true, force: true })
      mkdirSync(options.dataDir!, { recursive: true })
    }
    let copied = false
    if (template) {
      try {
        // Copy-on-write where the file system has it; a plain copy elsewhere.
        cpSync(join(template, "data"), options.dataDir, { recursive: true, mode: constants.COPYFILE_FICLONE })
        copied = true
      } catch {
        restart()
      }
    }
    if (copied) {
      const db = new PGlite(options.dataDir)
      try {
        await db.waitReady
        return db
      } catch {
        await db.close().catch(() => undefined)
        restart()
      }
    }
    const db = new PGlite(options.dataDir)
    await db.waitReady
    return db
  }
  const tar = (await templateFor(root)) ? await ensureTarball(root!) : undefined
  const db = tar ? new PGlite({ loadDataDir: new Blob([readFileSync(tar)]) }) : new PGlite()
  await db.waitReady
  return db
}

/** Creates the PGlite store. The database opens on first use (`init`, or any call). */
export const pgliteStore = (options: PgliteStoreOptions = {}): ScalableStore => {
  // The directory exists from here on, as it always has; it is still "fresh" until PGlite writes it.
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true })
  let opened: Promise<PGlite> | undefined
  const db = () => (opened ??= openPglite(options))
  return sqlStore(
    driverOf(db, async () => {
      if (opened) await (await opened.catch(() => undefined))?.close()
    }),
    { countLimit: options.countLimit, refundRows: options.refundRows ?? true },
  )
}
