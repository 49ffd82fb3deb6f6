/**
 * How fast the console's list answers at a million payments on PostgreSQL: seeds 1,000,000 payments
 * into a schema of their own (one `insert … select from generate_series`, kept between runs), serves
 * the console over HTTP on loopback, and times `GET /api/payments` for filtered pages — first pages
 * and keyset next pages — from request to the last byte. Goal: under 300 ms per page.
 *
 *   npx tsx bench/console-list.ts            (PAYSTATE_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_RESEED=1 npx tsx bench/console-list.ts   (seed again)
 *
 * Not part of `npm test` or `npm run bench`.
 */
import { once } from "node:events"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import pg from "pg"
import { memoryStore } from "../adapters/stores/memory.js"
import { postgresStore } from "../adapters/stores/postgres.js"
import { createConsole } from "../src/console/index.js"
import { createEngine } from "../src/engine.js"
import { fakeProvider } from "../src/testing/fake-provider.js"

const PG_URL = process.env.PAYSTATE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const SCHEMA = "bench_console_list"
const N = Number(process.env.BENCH_CONSOLE_ROWS ?? 1_000_000)
const RUNS = 30
const TOKEN = "bench-console-token-0123456789"

const seed = async (template: unknown) => {
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${SCHEMA}` })
  await c.connect()
  try {
    const have = await c.query("select to_regclass('paystate_payments')::text as t")
    if (have.rows[0]?.t && process.env.BENCH_RESEED !== "1") {
      const n = await c.query("select count(*)::int as n from paystate_payments")
      if (n.rows[0]?.n === N) return false
    }
    await c.query(`drop schema if exists ${SCHEMA} cascade`)
    const store = postgresStore({ connectionString: PG_URL, schema: SCHEMA })
    await store.init()
    await store.close()
    // Two providers, five statuses, three currencies, an order number each, a year of creation times.
    await c.query(
      `insert into paystate_payments (id, provider, provider_ref, status, currency, amount, external_order_num, created_at, updated_at, version, snapshot, needs_review)
       select 'pay_seed_' || i, case when i % 2 = 0 then 'fake' else 'other' end, 'ref_' || i,
              (array['captured','refunded','pending','authorized','cancelled'])[1 + i % 5],
              (array['JPY','USD','TRY'])[1 + i % 3], 1000 + i % 1000, 'ord_' || i,
              timestamptz '2025-01-01' + make_interval(secs => i * (31536000.0 / $1::int)),
              timestamptz '2025-01-01' + make_interval(secs => i * (31536000.0 / $1::int)), 1,
              jsonb_set(jsonb_set($2::jsonb, '{context,id}', to_jsonb('pay_seed_' || i)), '{context,currency}', to_jsonb((array['JPY','USD','TRY'])[1 + i % 3])),
              i % 1000 = 0
       from generate_series(1, $1::int) i`,
      [N, JSON.stringify(template)],
    )
    await c.query("vacuum analyze paystate_payments")
    return true
  } finally {
    await c.end()
  }
}

const main = async () => {
  // A real snapshot, so the views the console builds are built from what the engine writes.
  const tpl = memoryStore()
  const tplEngine = createEngine({ store: tpl, providers: { fake: fakeProvider() }, backgroundIntervalMs: 0, recoverOnStart: false })
  const p = await tplEngine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
  const template = (await tpl.load(p.id))!.snapshot
  await tplEngine.close()
  const t0 = performance.now()
  const seeded = await seed(template)
  console.log(seeded ? `seeded ${N.toLocaleString("en")} payments in ${((performance.now() - t0) / 1000).toFixed(1)} s` : `using the ${N.toLocaleString("en")} payments seeded before (BENCH_RESEED=1 seeds again)`)

  const store = postgresStore({ connectionString: PG_URL, schema: SCHEMA })
  const providers = { fake: fakeProvider(), other: fakeProvider({ name: "other" }) }
  const engine = createEngine({ store, providers, backgroundIntervalMs: 0, recoverOnStart: false })
  await engine.ready
  const handler = createConsole({ engine, providers, token: TOKEN })
  const server = createServer((req, res) => void handler(req, res)).listen(0, "127.0.0.1")
  await once(server, "listening")
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const get = async (q: string) => {
    const t = performance.now()
    const r = await fetch(`${base}/api/payments?${q}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    const body = (await r.json()) as { data: unknown[]; nextCursor: string | null }
    const ms = performance.now() - t
    if (r.status !== 200) throw new Error(`${q}: HTTP ${r.status} ${JSON.stringify(body)}`)
    return { ms, body }
  }
  const cases: [string, string][] = [
    ["status + currency, 50 a page", "status=captured&currency=JPY&perPage=50"],
    ["provider + status, 50 a page", "provider=fake&status=refunded&perPage=50"],
    ["time range (one day) + status", "since=2025-06-01T00:00:00&until=2025-06-02T00:00:00&status=pending&perPage=50"],
    ["order number", `order=ord_${Math.floor(N / 2)}`],
    ["needs review", "review=1&perPage=50"],
    ["no filter, 50 a page", "perPage=50"],
  ]
  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b)
    return { median: s[Math.floor(s.length / 2)]!, p95: s[Math.floor(s.length * 0.95)]!, max: s.at(-1)! }
  }
  let worst = 0
  for (const [name, q] of cases) {
    await get(q) // warm the statement and the connection
    const first: number[] = []
    const next: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const a = await get(q)
      first.push(a.ms)
      if (a.body.nextCursor) next.push((await get(`${q}&after=${a.body.nextCursor}`)).ms)
    }
    const f = stat(first)
    const n = next.length ? stat(next) : undefined
    worst = Math.max(worst, f.p95, n?.p95 ?? 0)
    console.log(`${name.padEnd(32)} first page median ${f.median.toFixed(1)} ms p95 ${f.p95.toFixed(1)} ms${n ? ` · next page median ${n.median.toFixed(1)} ms p95 ${n.p95.toFixed(1)} ms` : ""}`)
  }
  console.log(`${worst < 300 ? "MET " : "MISS"} console list at ${N.toLocaleString("en")} payments: worst p95 ${worst.toFixed(1)} ms (goal < 300 ms)`)
  handler.close()
  server.close()
  await engine.close()
  process.exitCode = worst < 300 ? 0 : 1
}

await main()
