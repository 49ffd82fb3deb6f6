/**
 * `npm run bench`: every figure of issue 15, each against a baseline doing the same durable work by
 * hand, interleaved and repeated (A B, B A, … medians and ranges), written to bench/results.json.
 * docs/performance.md explains each figure, its baseline and what bounds it.
 *
 * Environment: PAYSTATE_PG_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_ROUNDS
 * (default 5), BENCH_ONLY=id,id (run some figures), BENCH_RESEED=1 (rebuild the 1M-payment list data
 * even when a previous run left it), BENCH_QUICK=1 (fewer operations, for a smoke run).
 * Not part of `npm test`. Runs in well under 10 minutes on the 2-core machine.
 */
import { AsyncLocalStorage } from "node:async_hooks"
import { createHash } from "node:crypto"
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { PGlite } from "@electric-sql/pglite"
import { Effect } from "effect"
import pg from "pg"
import { memoryStore } from "../adapters/stores/memory.js"
import { pgliteStore } from "../adapters/stores/pglite.js"
import { postgresStore } from "../adapters/stores/postgres.js"
import { encodeCursor } from "../adapters/stores/list.js"
import { MIGRATIONS } from "../adapters/stores/sql/migrations.js"
import type { ScalableStore } from "../adapters/stores/types.js"
import { lifecycleMachine } from "../machines/lifecycle/index.js"
import { createEngine, type Engine } from "../src/engine.js"
import { isPaystateError } from "../src/errors.js"
import type { ProviderAdapter } from "../src/provider.js"
import type { Store } from "../src/store.js"
import { fakeProvider } from "../src/testing/fake-provider.js"
import { rawRefund, xstateRefund, type RawQuery } from "./baselines.js"
import { startDbosPeer } from "./dbos.js"
import { refundMachineCases } from "./refund-machines.js"
import { interleave, machine, median, percentile, say, summary, throughput, timeIt, type Figure } from "./lib.js"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..")
const PG_URL = process.env.PAYSTATE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const QUICK = process.env.BENCH_QUICK === "1"
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : undefined
const scale = (n: number) => (QUICK ? Math.max(5, Math.round(n / 10)) : n)
const started = performance.now()
const figures: Figure[] = []
const work = mkdtempSync(join(tmpdir(), "paystate-bench-"))

const quiet = { backgroundIntervalMs: 0, recoverOnStart: false, onError: () => {} } as const
const engineOn = (store: Store, providers: Record<string, ProviderAdapter>): Engine => createEngine({ store, providers, ...quiet })

/** Records a figure and prints its line. */
const record = (f: Omit<Figure, "seconds">, t0: number) => {
  const fig: Figure = { ...f, seconds: Math.round((performance.now() - t0) / 100) / 10 }
  figures.push(fig)
  const verdict = fig.meetsGoal === null ? "n/a " : fig.meetsGoal ? "MET " : "MISS"
  const shown = fig.ratio ? `ratio ${fig.ratio.median} [${fig.ratio.min}–${fig.ratio.max}]` : JSON.stringify(fig.value)
  say(`${verdict} ${fig.id.padEnd(28)} ${shown}  (goal ${fig.goal})${fig.note ? ` — ${fig.note}` : ""}`)
}

const want = (id: string) => !ONLY || ONLY.has(id) || [...ONLY].some((o) => id.startsWith(o))

const pgReachable = async (): Promise<boolean> => {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
    await c.end()
    return true
  } catch {
    return false
  }
}

const rawPool = (schema: string, max = 10) => new pg.Pool({ connectionString: PG_URL, max, options: `-c search_path=${schema}` })
const dropSchema = async (schema: string) => {
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  await c.query(`drop schema if exists ${schema} cascade`)
  await c.end()
}

/**
 * Copies a seed payment `$3` times under new ids (`$2` + i), so that each measured refund runs on a
 * fresh payment exactly like one the engine created. The seed has no refunds. With `$4` true the copy
 * keeps the seed's snapshot as the engine's store wrote it (refund entries as rows: none yet), which
 * is where a payment the engine created starts; with false its empty refund list is inline, as the
 * by-hand baselines read and write a whole snapshot. A seed with refunds would need its entry rows
 * copied too.
 */
const CLONE = `insert into paystate_payments (id, provider, provider_ref, status, currency, amount, external_order_num, created_at, updated_at, version, snapshot, needs_review)
  select $2::text || i, provider, $2::text || 'ref_' || i, status, currency, amount, null, created_at, updated_at, version,
         jsonb_set(jsonb_set(case when $4::boolean then snapshot
                                  else jsonb_set(snapshot - 'refundsInRows', '{context,refunds}', coalesce(snapshot->'context'->'refunds', '[]'::jsonb)) end,
                             '{context,id}', to_jsonb($2::text || i)), '{context,providerRef}', to_jsonb($2::text || 'ref_' || i)), false
  from paystate_payments, generate_series(1, $3::int) i where id = $1`

/** Where a command's reservation step ended (see slowProvider). */
const als = new AsyncLocalStorage<{ reservedAt?: number }>()
/** Wraps a store: counts calls per method. */
const instrument = (store: ScalableStore, counts?: Map<string, number>): ScalableStore => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(store)) {
    if (typeof v !== "function") {
      out[k] = v
      continue
    }
    out[k] = async (...args: unknown[]) => {
      counts?.set(k, (counts.get(k) ?? 0) + 1)
      return (v as Function).apply(store, args)
    }
  }
  return out as unknown as ScalableStore
}

/**
 * The fake provider with a fixed latency on every call, as a provider over HTTP has. The call starts
 * right after the caller's reservation commit returned, in the caller's own async context: that is
 * where its reservation step ends (a batched step commits in the context of the batch's first caller,
 * so a commit stamp would time only that one).
 */
const slowProvider = (inner: ProviderAdapter, ms: number): ProviderAdapter => ({
  ...inner,
  execute: (effect, ctx) => {
    if (effect.op === "refund") {
      const s = als.getStore()
      if (s && s.reservedAt === undefined) s.reservedAt = performance.now()
    }
    return Effect.flatMap(Effect.sleep(ms), () => inner.execute(effect, ctx))
  },
})

// ---------------------------------------------------------------------------------------------------
// Refund command vs the minimal durable version (PostgreSQL 1 and 8 clients)

const benchPostgresRefund = async () => {
  const schema = "bench_refund"
  await dropSchema(schema)
  const fake = fakeProvider()
  const store = postgresStore({ connectionString: PG_URL, schema })
  const engine = engineOn(store, { fake })
  await engine.ready
  const seed = await engine.payments.create({ provider: "fake", amount: 1_000_000_000, currency: "JPY" })
  const raw = rawPool(schema)
  const configs = [
    { clients: 1, ops: scale(200) },
    { clients: 8, ops: scale(600) },
  ]
  const need = (ROUNDS + 1) * configs.reduce((s, c) => s + c.ops, 0)
  await raw.query(CLONE, [seed.id, "pe_", need, true])
  await raw.query(CLONE, [seed.id, "pr_", need, false])
  await raw.query("analyze")
  let e = 0
  let r = 0
  // Calls per command, from a separate short run so counting does not slow the measured one.
  const counts = new Map<string, number>()
  const counted = engineOn(instrument(store, counts), { fake })
  const sample = scale(50)
  await raw.query(CLONE, [seed.id, "pc_", sample, true])
  for (let i = 1; i <= sample; i++) await counted.payments.refund({ paymentId: `pc_${i}`, amount: 1 })
  const perCommand = Object.fromEntries([...counts].map(([k, n]) => [k, n / sample]))
  for (const cfg of configs) {
    const t0 = performance.now()
    const res = await interleave(
      ROUNDS,
      () => throughput(cfg.ops, cfg.clients, () => engine.payments.refund({ paymentId: `pe_${++e}`, amount: 1 })),
      () => throughput(cfg.ops, cfg.clients, () => rawRefund(raw, lifecycleMachine, fake, `pr_${++r}`, `rf_raw_${r}`, 1)),
    )
    const ratio = summary(res.ratio)
    record(
      {
        id: `postgres.refund.${cfg.clients}c`,
        title: `PostgreSQL refund command, ${cfg.clients} client${cfg.clients > 1 ? "s" : ""}, vs the minimal durable version by hand`,
        ratioMeaning: "paystate refunds/s ÷ baseline refunds/s (higher is better)",
        goal: "≥ 0.8×",
        unit: "refunds/s",
        subject: { label: "engine.payments.refund on postgresStore", ...summary(res.a) },
        baseline: { label: "raw pg: 1 read + 2 single-statement commits (RETURNING), same XState transitions, same provider", ...summary(res.b) },
        ratio,
        value: { storeCallsPerCommand: perCommand },
        meetsGoal: ratio.median >= 0.8,
      },
      t0,
    )
  }
  // `counted` shares the store: closing `engine` closes it.
  await engine.close()
  await raw.end()
}

// ---------------------------------------------------------------------------------------------------
// PGlite, 1 client

const benchPgliteRefund = async () => {
  const t0 = performance.now()
  const ops = scale(200)
  const need = (ROUNDS + 1) * ops
  const fake = fakeProvider()
  const prepare = async (dir: string, prefix: string) => {
    const s = pgliteStore({ dataDir: dir })
    const eng = engineOn(s, { fake })
    await eng.ready
    const seed = await eng.payments.create({ provider: "fake", amount: 1_000_000_000, currency: "JPY" })
    await eng.close()
    const db = new PGlite(dir)
    await db.query(CLONE, [seed.id, prefix, need, prefix === "pe_"])
    return db
  }
  const dirA = join(work, "pglite-engine")
  const dirB = join(work, "pglite-raw")
  await (await prepare(dirA, "pe_")).close()
  const raw = await prepare(dirB, "pr_")
  const engine = engineOn(pgliteStore({ dataDir: dirA }), { fake })
  await engine.ready
  let e = 0
  let r = 0
  const res = await interleave(
    ROUNDS,
    () => throughput(ops, 1, () => engine.payments.refund({ paymentId: `pe_${++e}`, amount: 1 })),
    () => throughput(ops, 1, () => rawRefund(raw as unknown as RawQuery, lifecycleMachine, fake, `pr_${++r}`, `rf_raw_${r}`, 1)),
  )
  await engine.close()
  await raw.close()
  const ratio = summary(res.ratio)
  record(
    {
      id: "pglite.refund.1c",
      title: "PGlite refund command, 1 client, vs the minimal durable version by hand",
      ratioMeaning: "paystate refunds/s ÷ baseline refunds/s",
      goal: "≥ 0.8×",
      unit: "refunds/s",
      subject: { label: "engine.payments.refund on pgliteStore", ...summary(res.a) },
      baseline: { label: "raw PGlite: 1 read + 2 single-statement commits, same transitions, same provider", ...summary(res.b) },
      ratio,
      meetsGoal: ratio.median >= 0.8,
    },
    t0,
  )
}

// ---------------------------------------------------------------------------------------------------
// Memory store vs raw XState

const benchMemory = async () => {
  const t0 = performance.now()
  const ops = scale(1500)
  const fake = fakeProvider()
  const store = memoryStore()
  const engine = engineOn(store, { fake })
  await engine.ready
  const ids: string[] = []
  for (let i = 0; i < (ROUNDS + 1) * ops; i++) ids.push((await engine.payments.create({ provider: "fake", amount: 1_000_000, currency: "JPY" })).id)
  const captured = lifecycleMachine.resolveState((await store.load(ids[0]!))!.snapshot as never)
  const kept = new Map<string, unknown>()
  let e = 0
  let x = 0
  let y = 0
  // Time per command (ms): the figure is "× the time".
  const perOp = (n: number, fn: () => Promise<unknown>) => timeIt(async () => {
    for (let i = 0; i < n; i++) await fn()
  }).then((ms) => ms / n)
  const pure = await interleave(
    ROUNDS,
    () => perOp(ops, () => engine.payments.refund({ paymentId: ids[e++]!, amount: 1 })),
    () => perOp(ops, async () => kept.set(`x${x}`, await xstateRefund(lifecycleMachine, captured, undefined, `x${x}`, `rf_${x++}`, 1))),
  )
  const ratio = summary(pure.ratio)
  record(
    {
      id: "memory.refund.vsXState",
      title: "memory-store refund command vs the same two transitions in raw XState",
      ratioMeaning: "paystate ms per command ÷ raw XState ms (lower is better)",
      goal: "≤ 1.5× the time",
      unit: "ms/command",
      subject: { label: "engine.payments.refund on memoryStore", ...summary(pure.a) },
      baseline: { label: "raw XState: transition(REFUND) + transition(OP.SUCCEEDED), snapshot kept in a Map", ...summary(pure.b) },
      ratio,
      meetsGoal: ratio.median <= 1.5,
    },
    t0,
  )
  const t1 = performance.now()
  // The same comparison with the provider call inside the baseline too (a host doing it by hand
  // pays for that call as well).
  const ids2: string[] = []
  for (let i = 0; i < (ROUNDS + 1) * ops; i++) ids2.push((await engine.payments.create({ provider: "fake", amount: 1_000_000, currency: "JPY" })).id)
  e = 0
  const withCall = await interleave(
    ROUNDS,
    () => perOp(ops, () => engine.payments.refund({ paymentId: ids2[e++]!, amount: 1 })),
    () => perOp(ops, async () => kept.set(`y${y}`, await xstateRefund(lifecycleMachine, captured, fake, `y${y}`, `rf_y${y++}`, 1))),
  )
  const ratio2 = summary(withCall.ratio)
  record(
    {
      id: "memory.refund.vsXStateWithCall",
      title: "memory-store refund command vs raw XState transitions plus the same provider call",
      ratioMeaning: "paystate ms per command ÷ baseline ms",
      goal: "(information: the goal is the pure comparison above)",
      unit: "ms/command",
      subject: { label: "engine.payments.refund on memoryStore", ...summary(withCall.a) },
      baseline: { label: "raw XState transitions + fake provider execute via Effect", ...summary(withCall.b) },
      ratio: ratio2,
      meetsGoal: null,
    },
    t1,
  )
  await engine.close()
}

// ---------------------------------------------------------------------------------------------------
// 100 concurrent refunds on one payment, 1 engine and 4 engines

const benchConcurrency = async () => {
  const schema = "bench_concurrency"
  await dropSchema(schema)
  const latency = 20
  const fake = fakeProvider()
  const provider = slowProvider(fake, latency)
  const setups = [1, 4].map((n) => ({
    n,
    engines: Array.from({ length: n }, () => engineOn(instrument(postgresStore({ connectionString: PG_URL, schema })), { fake: provider })),
  }))
  await Promise.all(setups.flatMap((s) => s.engines.map((e) => e.ready)))
  const runOnce = async (engines: Engine[]) => {
    const p = await engines[0]!.payments.create({ provider: "fake", amount: 5000, currency: "JPY" })
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const ctx: { reservedAt?: number } = {}
        return als.run(ctx, async () => {
          const t = performance.now()
          try {
            await engines[i % engines.length]!.payments.refund({ paymentId: p.id, amount: 100 })
            return { ok: true, code: "accepted", command: performance.now() - t, reservation: (ctx.reservedAt ?? performance.now()) - t }
          } catch (err) {
            const code = isPaystateError(err) ? err.code : `raw:${(err as Error)?.message?.slice(0, 60)}`
            // A refusal for the ceiling is the reservation step's answer.
            return { ok: false, code, command: performance.now() - t, reservation: performance.now() - t }
          }
        })
      }),
    )
    const view = await engines[0]!.payments.get(p.id)
    const moved = fake.ledger.filter((m) => m.paymentRef === view.providerRef && m.op !== "capture").reduce((s, m) => s + m.amount, 0)
    return { results, view, moved }
  }
  for (const s of setups) {
    const t0 = performance.now()
    const rounds: Awaited<ReturnType<typeof runOnce>>[] = []
    await runOnce(s.engines) // warm-up
    for (let r = 0; r < Math.max(3, Math.ceil(ROUNDS / 2)); r++) rounds.push(await runOnce(s.engines))
    const p99r = rounds.map((x) => percentile(x.results.map((y) => y.reservation), 99))
    const p99c = rounds.map((x) => percentile(x.results.map((y) => y.command), 99))
    const codes: Record<string, number> = {}
    for (const x of rounds) for (const y of x.results) codes[y.code] = (codes[y.code] ?? 0) + 1
    const everyAnswered = rounds.every((x) => x.results.every((y) => y.code === "accepted" || y.code === "REFUND_EXCEEDS_REFUNDABLE"))
    const ledgerAgrees = rounds.every((x) => x.moved === x.view.refundedAmount && x.view.refundedAmount + x.view.reservedAmount <= 5000)
    const conflicts = codes.CONCURRENT_MODIFICATION ?? 0
    const r = summary(p99r)
    record(
      {
        id: `concurrency.100refunds.${s.n}engine${s.n > 1 ? "s" : ""}`,
        title: `100 concurrent refunds of 100 on one payment of 5000, ${s.n} engine${s.n > 1 ? "s" : ""} on one PostgreSQL, provider latency ${latency} ms`,
        goal: "p99 of the reservation step < 50 ms; 0 CONCURRENT_MODIFICATION; each accepted or refused for the ceiling",
        unit: "ms",
        value: {
          p99ReservationMs: r,
          p99CommandMs: summary(p99c),
          codes,
          everyCommandAcceptedOrRefusedForCeiling: everyAnswered,
          providerLedgerEqualsRefunded: ledgerAgrees,
          acceptedPerRound: rounds.map((x) => x.results.filter((y) => y.ok).length),
        },
        meetsGoal: r.median < 50 && conflicts === 0 && everyAnswered && ledgerAgrees,
        note: `p99 reservation ${r.median} ms, p99 command ${summary(p99c).median} ms`,
      },
      t0,
    )
  }
  for (const s of setups) for (const e of s.engines) await e.close()
}

// ---------------------------------------------------------------------------------------------------
// Lists at 10k vs 1M payments

const seedList = async (schema: string, n: number, template: unknown) => {
  // The data set is kept between runs (seeding a million rows is most of this figure's time), but
  // only for the same size and the same migrations.
  const version = `${n}:${createHash("sha256").update(JSON.stringify(MIGRATIONS)).digest("hex").slice(0, 16)}`
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
  await c.connect()
  try {
    const marker = await c.query("select to_regclass('bench_seed')::text as t")
    if (marker.rows[0]?.t && process.env.BENCH_RESEED !== "1") {
      const m = await c.query("select version from bench_seed")
      const have = await c.query("select count(*)::int as n from paystate_payments")
      if (m.rows[0]?.version === version && have.rows[0]?.n === n) return false
    }
    await c.query(`drop schema if exists ${schema} cascade`)
    const store = postgresStore({ connectionString: PG_URL, schema })
    await store.init()
    await store.close()
    // One statement: ids, providers, statuses, currencies, order numbers and a year of creation times.
    await c.query(
      `insert into paystate_payments (id, provider, provider_ref, status, currency, amount, external_order_num, created_at, updated_at, version, snapshot, needs_review)
       select 'pay_seed_' || i, case when i % 2 = 0 then 'fake' else 'other' end, 'ref_' || i,
              (array['captured','refunded','pending','authorized','cancelled'])[1 + i % 5],
              (array['JPY','USD','TRY'])[1 + i % 3], 1000 + i % 1000, 'ord_' || i,
              timestamptz '2025-01-01' + make_interval(secs => i * (31536000.0 / $1::int)),
              timestamptz '2025-01-01' + make_interval(secs => i * (31536000.0 / $1::int)), 1,
              jsonb_set($2::jsonb, '{context,id}', to_jsonb('pay_seed_' || i)), i % 1000 = 0
       from generate_series(1, $1::int) i`,
      [n, JSON.stringify(template)],
    )
    await c.query("vacuum analyze paystate_payments")
    await c.query("create table bench_seed (version text)")
    await c.query("insert into bench_seed values ($1)", [version])
    return true
  } finally {
    await c.end()
  }
}

const benchLists = async () => {
  const t0 = performance.now()
  // A real snapshot, so views are built from what the engine writes.
  const tplStore = memoryStore()
  const tplEngine = engineOn(tplStore, { fake: fakeProvider() })
  const p = await tplEngine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
  const template = (await tplStore.load(p.id))!.snapshot
  await tplEngine.close()
  const sizes = [10_000, QUICK ? 100_000 : 1_000_000]
  const seeded: boolean[] = []
  for (const n of sizes) seeded.push(await seedList(`bench_list_${n}`, n, template))
  const seedSeconds = Math.round((performance.now() - t0) / 100) / 10
  const engines = sizes.map((n) => {
    const store = postgresStore({ connectionString: PG_URL, schema: `bench_list_${n}` })
    return { n, store, engine: engineOn(store, { fake: fakeProvider(), other: fakeProvider({ name: "other" }) }) }
  })
  await Promise.all(engines.map((e) => e.engine.ready))
  const mid = (n: number) => Math.floor(n / 2)
  const at = (n: number, i: number) => new Date(Date.parse("2025-01-01T00:00:00Z") + i * (31536000_000 / n)).toISOString()
  const filters: { name: string; q: (n: number) => Record<string, unknown>; cursor?: boolean }[] = [
    { name: "none", q: () => ({}) },
    { name: "status", q: () => ({ status: "captured" }) },
    { name: "currency", q: () => ({ currency: "USD" }) },
    { name: "externalOrderNum", q: (n) => ({ externalOrderNum: `ord_${mid(n)}` }) },
    { name: "provider", q: () => ({ provider: "fake" }) },
    { name: "createdWeek", q: () => ({ startTime: "2025-06-01T00:00:00Z", endTime: "2025-06-08T00:00:00Z" }) },
    { name: "needsReview", q: () => ({ needsReview: true }) },
    { name: "status+currency", q: () => ({ status: "refunded", currency: "TRY" }) },
    // Keyset continuation from the middle of the table (the store API: the engine's list schema has no `after` yet).
    { name: "cursorFromMiddle", q: (n) => ({ after: encodeCursor({ createdAt: at(n, mid(n)), id: `pay_seed_${mid(n)}` }) }), cursor: true },
  ]
  const calls = scale(60)
  const latency = async (e: (typeof engines)[number], f: (typeof filters)[number]) => {
    const q = f.q(e.n)
    const xs: number[] = []
    for (let i = 0; i < calls; i++) xs.push(await timeIt(() => (f.cursor ? e.store.list(q) : e.engine.payments.list(q as never))))
    return median(xs)
  }
  const perFilter: Record<string, unknown> = {}
  let worst = 0
  for (const f of filters) {
    const res = await interleave(ROUNDS, () => latency(engines[1]!, f), () => latency(engines[0]!, f))
    const ratio = summary(res.ratio)
    worst = Math.max(worst, ratio.median)
    const big = await (f.cursor ? engines[1]!.store.list(f.q(engines[1]!.n)) : engines[1]!.engine.payments.list(f.q(engines[1]!.n) as never))
    perFilter[f.name] = { ratio, ms1M: summary(res.a), ms10k: summary(res.b), total1M: big.total, totalIsEstimate: (big as { totalIsEstimate?: boolean }).totalIsEstimate ?? false }
  }
  record(
    {
      id: "lists.1Mvs10k",
      title: `payments.list at ${sizes[1]!.toLocaleString("en")} vs 10,000 payments, by filter (PostgreSQL)`,
      ratioMeaning: "median latency at 1M ÷ median latency at 10k (lower is better), per filter",
      goal: "≤ 2× for every filter",
      unit: "ms",
      value: { perFilter, seeded: seeded.some(Boolean), seedSeconds },
      ratio: summary(Object.values(perFilter).map((x) => (x as { ratio: { median: number } }).ratio.median)),
      meetsGoal: worst <= 2,
      note: `worst filter ${worst.toFixed(2)}×`,
    },
    t0,
  )
  for (const e of engines) await e.engine.close()
}

// ---------------------------------------------------------------------------------------------------
// One refund at 200 prior refunds vs at 1; journal bytes and history() at 500 refunds

const benchGrowth = async () => {
  const t0 = performance.now()
  const schema = "bench_growth"
  await dropSchema(schema)
  const fake = fakeProvider()
  const store = postgresStore({ connectionString: PG_URL, schema })
  const engine = engineOn(store, { fake })
  await engine.ready
  const perRound = scale(20)
  const lows: string[] = []
  for (let i = 0; i < (ROUNDS + 1) * perRound; i++) {
    const p = await engine.payments.create({ provider: "fake", amount: 1_000_000_000, currency: "JPY" })
    await engine.payments.refund({ paymentId: p.id, amount: 1 })
    lows.push(p.id)
  }
  const highs: string[] = []
  const priors = QUICK ? 40 : 200
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      const p = await engine.payments.create({ provider: "fake", amount: 1_000_000_000, currency: "JPY" })
      for (let i = 0; i < priors; i++) await engine.payments.refund({ paymentId: p.id, amount: 1 })
      highs.push(p.id)
    }),
  )
  let l = 0
  let h = 0
  const per = (next: () => string) => async () => {
    const xs: number[] = []
    for (let i = 0; i < perRound; i++) {
      const id = next()
      xs.push(await timeIt(() => engine.payments.refund({ paymentId: id, amount: 1 })))
    }
    return median(xs)
  }
  const res = await interleave(ROUNDS, per(() => highs[h++ % highs.length]!), per(() => lows[l++]!))
  const ratio = summary(res.ratio)
  record(
    {
      id: "growth.refundAt200vs1",
      title: `one refund on a payment with ${priors} prior refunds vs with 1 (PostgreSQL)`,
      ratioMeaning: "median ms at 200 ÷ median ms at 1",
      goal: "≤ 1.3×",
      unit: "ms/refund",
      subject: { label: `refund with ${priors}+ prior refunds`, ...summary(res.a) },
      baseline: { label: "refund with 1 prior refund", ...summary(res.b) },
      ratio,
      meetsGoal: ratio.median <= 1.3,
    },
    t0,
  )

  const t1 = performance.now()
  const n = QUICK ? 50 : 500
  const p = await engine.payments.create({ provider: "fake", amount: 1_000_000_000, currency: "JPY" })
  for (let i = 0; i < n; i++) await engine.payments.refund({ paymentId: p.id, amount: 1 })
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
  await c.connect()
  const j = await c.query(
    "select count(*)::int as rows, sum(pg_column_size(j.*))::bigint as stored, sum(octet_length(event::text))::bigint as event_text from paystate_journal j where payment_id = $1",
    [p.id],
  )
  const snap = await c.query("select octet_length(snapshot::text) as bytes, pg_column_size(snapshot) as stored from paystate_payments where id = $1", [p.id])
  await c.end()
  setFlagsFromString("--expose-gc")
  const gc = runInNewContext("gc") as () => void
  gc()
  const before = process.memoryUsage().heapUsed
  let peak = before
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 1)
  const historyMs = await timeIt(async () => {
    const hist = await engine.payments.history(p.id)
    peak = Math.max(peak, process.memoryUsage().heapUsed)
    if (hist.length < n) throw new Error(`history has ${hist.length} entries`)
  })
  clearInterval(timer)
  const stored = Number(j.rows[0].stored)
  record(
    {
      id: "journal.bytesAt500",
      title: `journal of one payment after ${n} refunds (PostgreSQL)`,
      goal: "< 1 MB",
      unit: "bytes",
      value: {
        journalRows: j.rows[0].rows,
        journalStoredBytes: stored,
        journalEventTextBytes: Number(j.rows[0].event_text),
        snapshotTextBytes: Number(snap.rows[0].bytes),
        historyMs: Math.round(historyMs),
        historyHeapGrowthBytes: peak - before,
      },
      meetsGoal: stored < 1_000_000,
      note: `${(stored / 1e6).toFixed(2)} MB stored in ${j.rows[0].rows} rows; history() ${Math.round(historyMs)} ms, +${((peak - before) / 1e6).toFixed(1)} MB heap`,
    },
    t1,
  )
  await engine.close()
}

// ---------------------------------------------------------------------------------------------------
// PGlite fresh start, and npm start on a fresh clone

const benchStart = async () => {
  const t0 = performance.now()
  const open = async (templates: string | false) => {
    const dir = mkdtempSync(join(work, "fresh-"))
    const ms = await timeIt(async () => {
      const s = pgliteStore({ dataDir: join(dir, "data"), templates })
      await s.init()
      await s.close()
    })
    rmSync(dir, { recursive: true, force: true })
    return ms
  }
  const cache = join(work, "templates")
  await open(cache) // builds the template once (as the first store on a machine does)
  const res = await interleave(2, () => open(cache), () => open(false))
  record(
    {
      id: "pglite.freshStart",
      title: "PGlite store on a fresh data directory: init() from the prepared template vs initdb",
      ratioMeaning: "ms from the template ÷ ms with initdb (lower is better)",
      goal: "fast start (the npm start goal below is < 5 s)",
      unit: "ms",
      subject: { label: "from template (copy of a migrated data dir)", ...summary(res.a) },
      baseline: { label: "templates: false (initdb + migrations)", ...summary(res.b) },
      ratio: summary(res.ratio),
      meetsGoal: null,
    },
    t0,
  )

  // npm start on a fresh clone: the working tree copied without dist/ or .paystate, then a real
  // `npm ci` (from npm's cache; its writes are still being flushed when the start begins, as after a
  // real clone), then `npm start` timed (scripts/start.mjs transpiles dist/ on the first start).
  const t1 = performance.now()
  const clone = join(work, "clone")
  mkdirSync(clone)
  for (const f of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "src", "adapters", "machines", "scripts", "docs", "README.md"]) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(clone, f), { recursive: true })
  }
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const t = performance.now()
    const r = spawnSync("npm", args, { cwd: clone, env: { ...process.env, ...env }, encoding: "utf8", timeout: 300_000 })
    return { ms: performance.now() - t, code: r.status, tail: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-3).join(" | ") }
  }
  const installed = run(["ci", "--prefer-offline", "--no-audit", "--no-fund", "--silent"])
  if (installed.code !== 0) symlinkSync(join(root, "node_modules"), join(clone, "node_modules"), "dir")
  const starts: { ms: number; code: number | null; cache: string }[] = []
  // Without npm's cache (or a registry) the copy gets the working tree's node_modules, linked: the
  // starts are then a little slower than in a real clone, and the note says so.
  const linked = installed.code === 0 ? "" : `; npm ci failed, node_modules linked instead (${installed.tail.slice(0, 120)})`
  let failure: string | undefined
  // Cold: the machine never ran paystate (an empty template cache), and this is the clone's first
  // start (it transpiles dist/). Warm: a template in the user cache (the sections above made one).
  for (const mode of ["cold", "warm", "warm"] as const) {
    rmSync(join(clone, ".paystate"), { recursive: true, force: true })
    const env = mode === "cold" ? { PAYSTATE_PGLITE_TEMPLATES: mkdtempSync(join(work, "cold-")) } : {}
    const r = run(["start", "--silent"], env)
    if (r.code !== 0) failure ??= r.tail
    starts.push({ ms: Math.round(r.ms), code: r.code, cache: mode })
  }
  const warm = starts.filter((s) => s.cache === "warm").map((s) => s.ms)
  const cold = starts.filter((s) => s.cache === "cold").map((s) => s.ms)
  record(
    {
      id: "npm.start.freshClone",
      title: "npm start on a fresh clone right after npm ci (cold: first start, transpiles dist/, empty template cache; fresh .paystate data dir)",
      goal: "< 5 s",
      unit: "ms",
      value: { warmTemplateCache: summary(warm), coldTemplateCache: summary(cold), runs: starts, ...(failure ? { failure } : {}) },
      // Both count: a fresh clone on a machine that never ran paystate is the cold case.
      meetsGoal: failure ? false : median(warm) < 5000 && median(cold) < 5000,
      note: `warm template cache ${Math.round(median(warm))} ms, cold ${Math.round(median(cold))} ms${linked}${failure ? `; failed: ${failure.slice(0, 200)}` : ""}`,
    },
    t1,
  )
}

// ---------------------------------------------------------------------------------------------------
// A durable-workflow peer

const benchPeer = async () => {
  const t0 = performance.now()
  const base = {
    id: "peer.dbos.8c",
    title: "vs DBOS Transact doing the same refund step on the same PostgreSQL, 8 clients",
    goal: "≥ 3× throughput",
  } as const
  // Listed among the sections that do not need PostgreSQL (so a missing server reads "skipped" here, not a failure).
  if (!(await pgReachable())) {
    record({ ...base, value: `skipped: no PostgreSQL at ${PG_URL}`, meetsGoal: null }, t0)
    return
  }
  const schema = "bench_peer"
  await dropSchema(schema)
  const fake = fakeProvider()
  const store = postgresStore({ connectionString: PG_URL, schema })
  const engine = engineOn(store, { fake })
  await engine.ready
  const raw = rawPool(schema, 2)
  const clients = 8
  const ops = scale(400)
  // Both sides write the same tables of one schema, each refund on a fresh copy of one engine-created payment.
  const seed = await engine.payments.create({ provider: "fake", amount: 1_000_000_000, currency: "JPY" })
  const need = (ROUNDS + 1) * ops
  await raw.query(CLONE, [seed.id, "pe_", need, true])
  await raw.query(CLONE, [seed.id, "pd_", need, false])
  await raw.query("analyze")
  await raw.end()
  let peer: Awaited<ReturnType<typeof startDbosPeer>>
  try {
    peer = await startDbosPeer({ pgUrl: PG_URL, schema, machine: lifecycleMachine, provider: fake })
  } catch (err) {
    await engine.close()
    await dropSchema(schema)
    record({ ...base, value: `skipped: DBOS did not launch here (${err instanceof Error ? err.message : String(err)})`.slice(0, 500), meetsGoal: null }, t0)
    return
  }
  let e = 0
  let d = 0
  let res: Awaited<ReturnType<typeof interleave>>
  let counters: Awaited<ReturnType<typeof peer.close>>
  try {
    res = await interleave(
      ROUNDS,
      () => throughput(ops, clients, () => engine.payments.refund({ paymentId: `pe_${++e}`, amount: 1 })),
      () => throughput(ops, clients, () => peer.refund(`wf_refund_${++d}`, `pd_${d}`, `rf_dbos_${d}`, 1)),
    )
  } finally {
    counters = await peer.close()
    await engine.close()
    await dropSchema(schema)
  }
  const per = (n: number | undefined) => (counters && n !== undefined ? Math.round((n / counters.workflows) * 10) / 10 : null)
  const ratio = summary(res.ratio)
  record(
    {
      ...base,
      ratioMeaning: "paystate refunds/s ÷ DBOS refunds/s (higher is better)",
      unit: "refunds/s",
      subject: { label: "engine.payments.refund on postgresStore", ...summary(res.a) },
      baseline: {
        label: `DBOS Transact ${peer.version} workflow: steps readPayment, writeIntent, provider.refund, writeOutcome (same statements as the raw baseline), same XState transitions, same provider; checkpoints in database bench_dbos_sys`,
        ...summary(res.b),
      },
      ratio,
      value: {
        dbosVersion: peer.version,
        // From the server's counters for DBOS's own database over the whole section (its migrations, warm-up and background polling included).
        systemDatabasePerWorkflow: counters
          ? { transactions: per(counters.commits), rowsInserted: per(counters.rowsInserted), rowsUpdated: per(counters.rowsUpdated), stepCheckpoints: per(counters.stepRows) }
          : "unavailable",
        applicationStatementsPerWorkflow: 3,
      },
      meetsGoal: ratio.median >= 3,
      note: counters ? `DBOS: ${per(counters.commits)} system-database transactions per workflow (incl. autocommit reads), ${per(counters.stepRows)} step checkpoints` : undefined,
    },
    t0,
  )
}

// ---------------------------------------------------------------------------------------------------

/** Issue 14: a step with refund machines vs the step before them (payment machine alone), pure, same run. */
const benchRefundMachines = async () => {
  const t0 = performance.now()
  const cases = refundMachineCases()
  const n = scale(2000)
  const perStep = (fn: () => unknown) => timeIt(async () => {
    for (let i = 0; i < n; i++) fn()
  }).then((ms) => (ms * 1000) / n)
  for (const [id, c, goal, title] of [
    ["refundMachines.refundStep", cases.refund, 1.5, "REFUND step: reserve + start the refund machine + REFUND.CHANGED back"],
    ["refundMachines.settleStep", cases.settle, 1.2, "settle step: report routed to the refund machine and back"],
  ] as const) {
    const res = await interleave(ROUNDS, () => perStep(c.withMachines), () => perStep(c.before))
    const ratio = summary(res.ratio)
    record(
      {
        id,
        title,
        ratioMeaning: "µs per step with refund machines ÷ µs per step of the payment machine alone (lower is better)",
        goal: `≤ ${goal}× the time`,
        unit: "µs/step",
        subject: { label: "applyStep: payment machine + refund machines", ...summary(res.a) },
        baseline: { label: "the step before refund machines: resolveState + transition + persist, the refund a ledger row", ...summary(res.b) },
        ratio,
        meetsGoal: ratio.median <= goal,
      },
      t0,
    )
  }
}

/** Issue 17: the console's filtered list pages at 1M payments on PostgreSQL (bench/console-list.ts, its own schema). */
const benchConsole = async () => {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, ["--import", "tsx", join(here, "console-list.ts")], { encoding: "utf8", env: { ...process.env, PAYSTATE_PG_URL: PG_URL }, timeout: 15 * 60_000 })
  const line = (r.stdout ?? "").split("\n").find((l) => /console list at/.test(l))
  const worst = line ? Number(/worst p95 ([\d.]+) ms/.exec(line)?.[1]) : NaN
  record(
    {
      id: "console.list.1M",
      title: "console: GET /api/payments, filtered first and keyset next pages, 1M payments on PostgreSQL",
      goal: "< 300 ms per page (p95)",
      unit: "ms",
      value: Number.isFinite(worst) ? { worstP95Ms: worst } : `failed: ${(r.stderr ?? "").slice(-500)}`,
      meetsGoal: Number.isFinite(worst) ? worst < 300 : false,
      note: line?.trim(),
    },
    t0,
  )
}

const main = async () => {
  say(`paystate bench — rounds ${ROUNDS}${QUICK ? " (quick)" : ""}, load ${machine().loadavg.join(" ")}`)
  const hasPg = await pgReachable()
  const sections: [string, () => Promise<void>, boolean][] = [
    ["refundMachines", benchRefundMachines, false],
    ["memory", benchMemory, false],
    ["pglite.refund", benchPgliteRefund, false],
    ["postgres.refund", benchPostgresRefund, true],
    ["concurrency", benchConcurrency, true],
    ["growth", benchGrowth, true],
    ["lists", benchLists, true],
    ["console", benchConsole, true],
    ["pglite.freshStart", benchStart, false],
    ["peer", benchPeer, true],
  ]
  for (const [id, fn, needsPg] of sections) {
    if (!want(id)) continue
    if (needsPg && !hasPg) {
      figures.push({ id, title: id, goal: "", meetsGoal: null, value: `skipped: no PostgreSQL at ${PG_URL}`, seconds: 0 })
      say(`n/a  ${id} skipped: no PostgreSQL at ${PG_URL}`)
      continue
    }
    try {
      await fn()
    } catch (e) {
      figures.push({ id, title: id, goal: "", meetsGoal: false, value: `failed: ${e instanceof Error ? e.stack : String(e)}`, seconds: 0 })
      say(`FAIL ${id}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  const out = {
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    seconds: Math.round((performance.now() - started) / 1000),
    rounds: ROUNDS,
    quick: QUICK,
    machine: machine(),
    figures,
  }
  writeFileSync(join(here, "results.json"), `${JSON.stringify(out, null, 2)}\n`)
  say(`wrote bench/results.json in ${out.seconds} s`)
  rmSync(work, { recursive: true, force: true })
}

await main()
process.exit(0)
