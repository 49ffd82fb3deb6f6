/**
 * The durable-workflow peer of `peer.dbos.8c`: paystate's refund step written as a DBOS Transact
 * workflow, on the same PostgreSQL server, the same tables, the same machine and the same provider.
 *
 * The workflow does what `engine.payments.refund` does, in DBOS's own terms. DBOS makes a workflow
 * durable by checkpointing it in its system database (here a database of its own, `bench_dbos_sys`
 * by default, schema `dbos`): the workflow's row with its inputs before it runs, each step's output
 * after the step runs, the workflow's status when it ends. A recovered workflow replays its code,
 * and each step already checkpointed returns its recorded output instead of running again; so all
 * that touches the outside world (the database, the provider, the clock) is in a step, and the code
 * between steps is the deterministic XState transitions. The steps:
 *
 * 1. `readPayment`: one read of the payment (version, snapshot) and the time of the command, as
 *    paystate's command reads the row. Its own step so a replay transitions from the same state.
 * 2. (workflow code) `transition(REFUND)` of the same machine, by bench/baselines.ts's reserveByHand.
 * 3. `writeIntent`: the reservation written durably before the provider is called, as paystate's
 *    reservation commit: one statement writing the reserved snapshot (version-checked), its journal
 *    entry and the outbox entry, the same statement as rawRefund's.
 * 4. `provider.refund`: the fake provider's `execute` via Effect.runPromise; its outcome events are
 *    the step's checkpoint, so a recovered workflow does not ask the provider twice.
 * 5. (workflow code) `transition(OP.SUCCEEDED)` and the refund machine's report, by settleByHand.
 * 6. `writeOutcome`: one statement writing the settled snapshot, its journal entry and the outbox
 *    entry marked done, as paystate's outcome commit.
 *
 * The writes are `DBOS.runStep`s, not DBOS transactions: a transaction needs a datasource package
 * (the node-postgres one, `@dbos-inc/node-pg-datasource`, is not on the registry reached here), and
 * it would not make DBOS cheaper: a datasource transaction checkpoints in the system database as a
 * step does, and adds a checkpoint row of its own inside the application's transaction (the same
 * commits, more statements).
 */
import type { DBOS as DBOSClass } from "@dbos-inc/dbos-sdk"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Effect } from "effect"
import pg from "pg"
import type { MachineContext, PaymentEvent, PaymentMachine } from "../machines/lifecycle/index.js"
import type { OutboxEffect, ProviderAdapter } from "../src/provider.js"
// The same two statements as rawRefund, so both sides write the same rows.
import { INTENT, OUTCOME, reserveByHand, settleByHand } from "./baselines.js"

const statusOf = (value: unknown): string => (typeof value === "string" ? value : Object.keys(value as object)[0]!)
const persist = (s: { value: unknown; context: unknown }) => JSON.stringify({ value: s.value, context: s.context })

/** Where the peer runs and what it runs against. */
export interface DbosPeerOptions {
  /** The server's URL with the application's database (the one paystate uses). */
  readonly pgUrl: string
  /** The schema holding the paystate tables the workflow writes (created by postgresStore). */
  readonly schema: string
  /** The database DBOS keeps its checkpoints in, on the same server; dropped and re-created. */
  readonly systemDatabase?: string
  readonly machine: PaymentMachine
  readonly provider: ProviderAdapter
  /** Connections to the application's database (default 10, as postgresStore's pool). */
  readonly poolSize?: number
  /** Connections to the system database (default: DBOS's own default, 10). */
  readonly systemDatabasePoolSize?: number
}

/** What the system database recorded, from the server's counters for that database. */
export interface SystemDatabaseCounters {
  readonly commits: number
  readonly rowsInserted: number
  readonly rowsUpdated: number
  readonly rowsDeleted: number
  readonly workflows: number
  readonly stepRows: number
}

/** A launched DBOS runtime with the refund workflow registered. */
export interface DbosPeer {
  /** The installed @dbos-inc/dbos-sdk version. */
  readonly version: string
  /** Runs the refund workflow to its end (workflow id `workflowId`). */
  refund(workflowId: string, paymentId: string, refundId: string, amount: number): Promise<void>
  /** Shuts DBOS down, closes the pool, then reads the system database's counters and drops it. */
  close(): Promise<SystemDatabaseCounters | undefined>
}

const withDatabase = (url: string, db: string) => {
  const u = new URL(url)
  u.pathname = `/${db}`
  return u.toString()
}

const admin = async (url: string, sql: string) => {
  const c = new pg.Client({ connectionString: withDatabase(url, "postgres") })
  await c.connect()
  try {
    return await c.query(sql)
  } finally {
    await c.end()
  }
}

let launched = false

/**
 * Launches DBOS (one runtime per process: DBOS is a singleton) with the refund workflow and a fresh
 * system database. Throws when the package cannot be loaded or launched.
 */
export const startDbosPeer = async (o: DbosPeerOptions): Promise<DbosPeer> => {
  if (launched) throw new Error("the DBOS peer is already running in this process")
  // Loaded here so the rest of the bench does not pay for loading DBOS.
  const { DBOS } = (await import("@dbos-inc/dbos-sdk")) as { DBOS: typeof DBOSClass }
  // The package's exports do not include its package.json; it sits two folders above its entry point.
  const entry = createRequire(import.meta.url).resolve("@dbos-inc/dbos-sdk")
  const version = (JSON.parse(readFileSync(join(dirname(entry), "..", "..", "package.json"), "utf8")) as { version: string }).version
  const sysDb = o.systemDatabase ?? "bench_dbos_sys"
  if (!/^[a-z_][a-z0-9_]*$/.test(sysDb)) throw new Error(`bad database name ${sysDb}`)
  await admin(o.pgUrl, `drop database if exists ${sysDb} with (force)`)
  const app = new pg.Pool({ connectionString: o.pgUrl, max: o.poolSize ?? 10, options: `-c search_path=${o.schema}` })
  const { machine, provider } = o

  const readPayment = async (paymentId: string) => {
    const r = await app.query("select version, snapshot from paystate_payments where id = $1", [paymentId])
    const row = r.rows[0]
    if (!row) throw new Error(`dbos peer: no payment ${paymentId}`)
    return { version: Number(row.version), snapshot: typeof row.snapshot === "string" ? JSON.parse(row.snapshot) : row.snapshot, at: new Date().toISOString() }
  }

  const refundWorkflow = async (paymentId: string, refundId: string, amount: number): Promise<number> => {
    const row = await DBOS.runStep(() => readPayment(paymentId), { name: "readPayment" })
    const { at } = row
    const event = { type: "REFUND", at, refundId, kind: "refund", amount, description: null, options: {} } as PaymentEvent
    const { snapshot: s1, refund, effect } = reserveByHand(machine, machine.resolveState(row.snapshot), event)
    const outboxId = `${paymentId}/${effect.opId}`
    const key = `ps-${paymentId}-${effect.opId}`.slice(0, 100)
    const v1 = await DBOS.runStep(
      async () => {
        const r = await app.query(INTENT, [paymentId, statusOf(s1.value), at, persist(s1), row.version, JSON.stringify(event), outboxId, provider.name, effect.opId, effect.op, JSON.stringify(effect.payload), key])
        if (!r.rows[0]) throw new Error("dbos peer: version conflict")
        return Number(r.rows[0].version)
      },
      { name: "writeIntent" },
    )
    const call: OutboxEffect = { id: outboxId, paymentId, provider: provider.name, opId: effect.opId, op: effect.op, payload: effect.payload as never, idempotencyKey: key, attempt: 1, createdAt: at, at }
    const events = await DBOS.runStep(() => Effect.runPromise(provider.execute(call, s1.context as unknown as MachineContext)), { name: "provider.refund" })
    const outcome = { ...events[0]!, at } as PaymentEvent
    const s2 = settleByHand(machine, s1, refund, outcome)
    return DBOS.runStep(
      async () => {
        const r = await app.query(OUTCOME, [paymentId, statusOf(s2.value), at, persist(s2), v1, JSON.stringify(outcome), outboxId])
        if (!r.rows[0]) throw new Error("dbos peer: version conflict")
        return Number(r.rows[0].version)
      },
      { name: "writeOutcome" },
    )
  }

  const workflow = DBOS.registerWorkflow(refundWorkflow, { name: "paystateRefund" })
  DBOS.setConfig({ name: "paystate-bench-peer", systemDatabaseUrl: withDatabase(o.pgUrl, sysDb), systemDatabasePoolSize: o.systemDatabasePoolSize, logLevel: "error" })
  launched = true
  try {
    await DBOS.launch()
  } catch (e) {
    launched = false
    await app.end()
    throw e
  }
  return {
    version,
    refund: async (workflowId, paymentId, refundId, amount) => {
      await DBOS.withNextWorkflowID(workflowId, () => workflow(paymentId, refundId, amount))
    },
    close: async () => {
      await DBOS.shutdown()
      launched = false
      await app.end()
      // The server's per-database counters: a closed connection flushes its counters as its backend exits, a moment after the close.
      let counters: SystemDatabaseCounters | undefined
      try {
        const c = new pg.Client({ connectionString: withDatabase(o.pgUrl, sysDb) })
        await c.connect()
        try {
          await new Promise((r) => setTimeout(r, 600))
          const s = await c.query("select xact_commit, tup_inserted, tup_updated, tup_deleted from pg_stat_database where datname = current_database()")
          const w = await c.query("select (select count(*) from dbos.workflow_status)::int as workflows, (select count(*) from dbos.operation_outputs)::int as steps")
          const x = s.rows[0]
          counters = {
            commits: Number(x.xact_commit),
            rowsInserted: Number(x.tup_inserted),
            rowsUpdated: Number(x.tup_updated),
            rowsDeleted: Number(x.tup_deleted),
            workflows: w.rows[0].workflows,
            stepRows: w.rows[0].steps,
          }
        } finally {
          await c.end()
        }
      } catch {
        counters = undefined
      }
      await admin(o.pgUrl, `drop database if exists ${sysDb} with (force)`)
      return counters
    },
  }
}
