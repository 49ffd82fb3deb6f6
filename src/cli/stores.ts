/** Opens the store the CLI flags name: PGlite in a data directory (default), memory, or PostgreSQL. */
import { resolve } from "node:path"
import { memoryStore } from "../../adapters/stores/memory.js"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { postgresStore } from "../../adapters/stores/postgres.js"
import type { Store } from "../store.js"

/** Where the demo keeps its embedded database unless told otherwise. */
export const DEFAULT_DATA_DIR = ".paystate/demo"

/** Opens a store from `--store`, `--data-dir` and `--url` (or PAYSTATE_DATABASE_URL). */
export const openStore = (flags: { store?: string; "data-dir"?: string; url?: string }): Store => {
  const kind = flags.store ?? "pglite"
  if (kind === "memory") return memoryStore()
  if (kind === "pglite") return pgliteStore({ dataDir: resolve(flags["data-dir"] ?? DEFAULT_DATA_DIR) })
  if (kind === "postgres") return postgresStore({ connectionString: flags.url ?? process.env.PAYSTATE_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" })
  throw new Error(`Unknown store "${kind}": use memory, pglite or postgres.`)
}
