/**
 * Benchmarks, reported as ratios against baselines measured in the same run:
 *  - one paystate step (restore + transition + persist) vs a raw XState `transition`;
 *  - a whole refund command on the memory store vs a raw XState `transition`;
 *  - a PGlite store commit vs a raw SQL insert of the same row in a PGlite transaction.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { initialTransition, transition } from "xstate"
import { memoryStore } from "../adapters/stores/memory.js"
import { pgliteStore } from "../adapters/stores/pglite.js"
import { lifecycleMachine } from "../machines/lifecycle/index.js"
import { createEngine } from "../src/engine.js"
import { applyStep } from "../src/step.js"
import { fakeProvider } from "../src/testing/fake-provider.js"

const time = async (n: number, fn: (i: number) => unknown): Promise<number> => {
  for (let i = 0; i < Math.min(50, n); i++) await fn(i) // warm-up
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await fn(i)
  return (performance.now() - t0) / n
}

const input = { id: "p", provider: "fake", currency: "JPY", amount: 1_000_000, createdAt: "2026-01-01T00:00:00.000Z", request: {} }
const [s0] = initialTransition(lifecycleMachine, input)
const [captured] = transition(lifecycleMachine, s0, { type: "OP.SUCCEEDED", at: "2026-01-01T00:00:00.000Z", opId: "create", payment: { status: "captured", providerRef: "r" } })
const persisted = JSON.parse(JSON.stringify({ value: captured.value, context: captured.context }))
const refund = (i: number) => ({ type: "REFUND" as const, at: "2026-01-01T00:00:01.000Z", refundId: `rf_${i}`, kind: "refund", amount: 1, options: {} })

const rows: [string, number, string, number][] = []

const rawXstate = await time(2000, (i) => transition(lifecycleMachine, captured, refund(i)))
const step = await time(2000, (i) => applyStep(lifecycleMachine, persisted, refund(i)))
rows.push(["paystate step (restore + transition + persist)", step, "raw XState transition", rawXstate])

const engine = createEngine({ store: memoryStore(), providers: { fake: fakeProvider() }, backgroundIntervalMs: 0 })
// A fresh payment per refund: a real payment has a handful of refunds, not hundreds.
const ids: string[] = []
for (let i = 0; i < 600; i++) ids.push((await engine.payments.create({ provider: "fake", amount: 1_000_000, currency: "JPY" })).id)
const command = await time(500, (i) => engine.payments.refund({ paymentId: ids[i + 50] ?? ids[i]!, amount: 1 }))
rows.push(["refund command, memory store + in-process provider", command, "raw XState transition", rawXstate])
await engine.close()

const dir = mkdtempSync(join(tmpdir(), "paystate-bench-"))
try {
  const raw = new PGlite(join(dir, "raw"))
  await raw.query("create table t (id text primary key, version int, snapshot jsonb)")
  const body = JSON.stringify(persisted)
  const rawSql = await time(300, (i) => raw.transaction((tx) => tx.query("insert into t values ($1, 1, $2::jsonb)", [`r${i}-${Math.random()}`, body])))
  await raw.close()
  const store = pgliteStore({ dataDir: join(dir, "store") })
  await store.init()
  const commit = await time(300, (i) =>
    store.commit({
      expectedVersion: 0,
      payment: { id: `c${i}-${Math.random()}`, provider: "fake", providerRef: null, status: "captured", currency: "JPY", amount: 1, externalOrderNum: null, createdAt: input.createdAt, updatedAt: input.createdAt, snapshot: persisted },
      journal: { at: input.createdAt, event: { type: "X" }, status: "captured" },
    }),
  )
  rows.push(["PGlite store commit (payment + journal)", commit, "raw SQL insert in a PGlite transaction", rawSql])
  await store.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}

console.log("benchmark                                          ratio to baseline   (baseline)")
for (const [name, t, base, b] of rows) console.log(`${name.padEnd(52)} ${(t / b).toFixed(2).padStart(6)}×   (${base})`)
