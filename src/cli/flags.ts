/**
 * The flags of every CLI command, kept apart from the commands themselves so that a usage error is
 * reported before anything heavy (stores, providers, sandboxes) is loaded.
 */
import { PAYMENT_STATUSES } from "../../machines/lifecycle/types.js"
import type { FlagSpecs } from "./args.js"

/** The providers the CLI knows, in demo order (`providers.ts` checks it against its registry). */
export const PROVIDER_NAMES = ["komoju", "craftgate", "onekey"] as const

/** Flags of every command that opens a store. */
export const STORE_FLAGS: FlagSpecs = {
  store: { type: "string", choices: ["pglite", "postgres"], describe: "the store (default: postgres when a URL is given, else pglite)" },
  "data-dir": { type: "string", value: "DIR", describe: "PGlite data directory (default .paystate/demo)" },
  url: { type: "string", value: "URL", describe: "PostgreSQL connection string (PAYSTATE_DATABASE_URL)" },
  schema: { type: "string", value: "NAME", describe: "PostgreSQL schema of paystate's tables (PAYSTATE_DATABASE_SCHEMA)" },
  config: { type: "string", value: "FILE", describe: "a module exporting your app's `providers` (else each provider's environment variables)" },
}

/** Flags of `status`, `history` and `review list`. */
export const READ_FLAGS: FlagSpecs = { ...STORE_FLAGS, json: { type: "boolean", describe: "print JSON" } }

/** Flags of `list`: the list API's filters, paging, and the store flags. */
export const LIST_FLAGS: FlagSpecs = {
  provider: { type: "string", value: "NAME", describe: "only this provider's payments" },
  status: { type: "string", choices: PAYMENT_STATUSES, describe: "only payments in this status" },
  currency: { type: "string", value: "CODE", describe: "only this currency (ISO 4217, e.g. JPY)" },
  "external-order-num": { type: "string", value: "REF", describe: "only the payments of this order reference" },
  since: { type: "string", value: "ISO-TIME", describe: "created at or after (e.g. 2026-01-31T00:00:00Z)" },
  until: { type: "string", value: "ISO-TIME", describe: "created before" },
  "needs-review": { type: "boolean", describe: "only payments with something for a person to review" },
  page: { type: "string", value: "N", describe: "page number (default 1)" },
  "per-page": { type: "string", value: "N", describe: "payments per page, up to 1000 (default 20)" },
  ...READ_FLAGS,
}

const WHO: FlagSpecs = {
  by: { type: "string", value: "NAME", describe: "who acts, kept in the journal (default: your login name)" },
  json: { type: "boolean", describe: "print the payment after it as JSON" },
}

/** Flags of each review command. */
export const REVIEW_FLAGS: Readonly<Record<string, FlagSpecs>> = {
  list: READ_FLAGS,
  retry: { ...STORE_FLAGS, ...WHO, note: { type: "string", value: "TEXT", describe: "why, kept in the journal" } },
  resolve: {
    ...STORE_FLAGS,
    ...WHO,
    outcome: { type: "string", choices: ["succeeded", "failed"], describe: "what became of it (required)" },
    note: { type: "string", value: "TEXT", describe: "why, kept in the journal (required)" },
  },
}

/** Flags of `demo`. */
export const DEMO_FLAGS: FlagSpecs = {
  store: { type: "string", choices: ["pglite", "memory"], describe: "where the demo keeps its payments (default pglite)" },
  "data-dir": { type: "string", value: "DIR", describe: "PGlite data directory (default .paystate/demo)" },
  only: { type: "string", value: PROVIDER_NAMES.join(","), describe: "run only these providers' journeys" },
  inspect: { type: "boolean", describe: "start the Stately inspector bridge and keep running until Ctrl+C" },
  "inspect-port": { type: "string", value: "PORT", describe: "the inspector bridge's port (default 8080)" },
}

/** Flags of `diagram`. */
export const DIAGRAM_FLAGS: FlagSpecs = {
  format: { type: "string", choices: ["mermaid", "json"], describe: "Mermaid state diagram (default) or the machine config in JSON (loads in Stately's editor)" },
  list: { type: "boolean", describe: "list every payment and refund machine with its version" },
}

/** `paystate replay --check`. */
export const REPLAY_FLAGS: FlagSpecs = { ...READ_FLAGS, check: { type: "boolean", describe: "replay every stored journal through the registered machines; exit 1 on a divergence" } }
