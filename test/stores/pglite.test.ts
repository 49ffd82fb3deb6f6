import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { afterAll, describe, expect, it } from "vitest"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { createEngine } from "../../src/engine.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"
import { sqlStore, type Queryable, type SqlDriver } from "../../adapters/stores/sql/core.js"
import { storeContract } from "./contract.js"
import { refundRowsSuite } from "./refund-rows.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-pglite-"))
// A template cache of this file's own, so the test proves the first build as well as the copies.
const templates = join(dir, "templates")
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
storeContract("pglite (data directory)", (o) => pgliteStore({ dataDir: join(dir, `contract-${++n}`), templates, ...o }))

/** A SQL driver on a PGlite the test opened itself, so it can read the tables between commits. */
const driverOn = (db: PGlite): SqlDriver => {
  const wrap = (q: Pick<PGlite, "query">): Queryable => ({ query: async (sql, params) => ({ rows: (await q.query(sql, params as unknown[])).rows as never[] }) })
  return { name: "pglite", ...wrap(db), transaction: (fn) => db.transaction((tx) => fn(wrap(tx))), close: async () => undefined }
}

refundRowsSuite("pglite", async () => {
  // A migrated directory (the store's own template copy), then two store instances on one PGlite
  // opened here, so the test can read the tables between commits.
  const dataDir = join(dir, "refund-rows")
  const made = pgliteStore({ dataDir, templates })
  await made.init()
  await made.close()
  const db = new PGlite(dataDir)
  const driver = driverOn(db)
  return {
    store: sqlStore(driver),
    other: sqlStore(driver),
    sql: async (text, params) => (await db.query<any>(text, params as unknown[])).rows,
    close: () => db.close(),
  }
})

const at = "2026-01-01T00:00:00.000Z"
const commitOne = (id: string) => ({
  expectedVersion: 0,
  payment: { id, provider: "fake", providerRef: "r1", status: "captured" as const, currency: "JPY", amount: 500, externalOrderNum: null, createdAt: at, updatedAt: at, snapshot: { value: "captured", context: { x: 1 } } },
  journal: { at, event: { type: "CREATE" }, status: "captured" as const },
})

describe("pglite store: refund entries as rows by default (inline on request), rows written either way read alike", () => {
  it("an inline store reads a row written in the row layout (load, list, by ref), and its own commit stores the snapshot whole", async () => {
    const dataDir = join(dir, "layouts")
    const made = pgliteStore({ dataDir, templates })
    await made.init()
    await made.close()
    const db = new PGlite(dataDir)
    const driver = driverOn(db)
    const rows = sqlStore(driver)
    const inline = sqlStore(driver, { refundRows: false })
    const refunds = Array.from({ length: 5 }, (_, i) => ({ id: `rf_${i}`, amount: i + 1, status: "succeeded" }))
    const snapshot = { value: "captured", context: { id: "pay_layouts", refunds } }
    const c = { ...commitOne("pay_layouts"), payment: { ...commitOne("pay_layouts").payment, providerRef: "ref_layouts", snapshot } }
    await rows.commit(c)
    expect((await db.query<{ n: number }>("select count(*)::int as n from paystate_refund_entries where payment_id = 'pay_layouts'")).rows[0]!.n).toBe(5)
    expect((await inline.load("pay_layouts"))?.snapshot).toEqual(snapshot)
    expect((await inline.findByProviderRef("fake", "ref_layouts"))?.snapshot).toEqual(snapshot)
    expect((await inline.list({ perPage: 100 })).data.find((p) => p.id === "pay_layouts")?.snapshot).toEqual(snapshot)
    const next = { ...snapshot, context: { ...snapshot.context, refunds: [...refunds, { id: "rf_5", amount: 6, status: "requested" }] } }
    await inline.commit({ ...c, expectedVersion: 1, payment: { ...c.payment, snapshot: next } })
    const stored = (await db.query<{ snapshot: any }>("select snapshot from paystate_payments where id = 'pay_layouts'")).rows[0]!.snapshot
    expect(stored.context.refunds).toHaveLength(6)
    expect((await rows.load("pay_layouts"))?.snapshot).toEqual(next)
    expect((await inline.load("pay_layouts"))?.snapshot).toEqual(next)
    await db.close()
  })
})

describe("pglite store on disk", () => {
  it("keeps what was committed across a reopen, and migrates only once", async () => {
    const dataDir = join(dir, "reopen")
    const a = pgliteStore({ dataDir, templates })
    await a.init()
    await a.commit(commitOne("p1"))
    await a.close()
    const b = pgliteStore({ dataDir, templates })
    await b.init()
    expect((await b.load("p1"))?.snapshot).toEqual({ value: "captured", context: { x: 1 } })
    expect((await b.findByProviderRef("fake", "r1"))?.amount).toBe(500)
    await b.close()
  })

  it("starts a fresh directory from the prepared template: migrated, and independent of every other copy", async () => {
    const before = Date.now()
    const a = pgliteStore({ dataDir: join(dir, "fresh-a"), templates })
    const b = pgliteStore({ dataDir: join(dir, "fresh-b"), templates })
    await Promise.all([a.init(), b.init()])
    await a.commit(commitOne("only-in-a"))
    expect(await b.load("only-in-a")).toBeUndefined()
    // One template, built once, for this PGlite and these migrations.
    expect(readdirSync(templates).filter((f) => !f.startsWith(".") && !f.endsWith(".tar"))).toHaveLength(1)
    await a.close()
    await b.close()
    // The copies did not write into the template: a third copy is empty too.
    const c = pgliteStore({ dataDir: join(dir, "fresh-c"), templates })
    await c.init()
    expect(await c.load("only-in-a")).toBeUndefined()
    expect((await c.list({})).total).toBe(0)
    await c.close()
    expect(Date.now() - before).toBeLessThan(120_000)
  })

  it("an in-memory store loads the template too, and keeps nothing on disk", async () => {
    const m = pgliteStore({ templates })
    await m.init()
    await m.commit(commitOne("mem"))
    expect((await m.load("mem"))?.amount).toBe(500)
    await m.close()
    const again = pgliteStore({ templates })
    expect(await again.load("mem")).toBeUndefined()
    await again.close()
  })

  it("a damaged template does not pass for a database: the store falls back to initdb", async () => {
    const broken = join(dir, "broken-templates")
    cpSync(templates, broken, { recursive: true })
    for (const t of readdirSync(broken).filter((f) => !f.startsWith(".") && !f.endsWith(".tar"))) writeFileSync(join(broken, t, "data", "global", "pg_control"), "garbage")
    const s = pgliteStore({ dataDir: join(dir, "from-broken"), templates: broken })
    await s.init()
    await s.commit(commitOne("after-fallback"))
    expect((await s.load("after-fallback"))?.version).toBe(1)
    await s.close()
  })
})

describe("pglite store: named statements run prepared", () => {
  it("answers as query() does (text[], jsonb, timestamptz, bigint, boolean, null) and stays consistent under concurrent calls and failing ones", async () => {
    const store = pgliteStore({ dataDir: join(dir, "prepared"), templates })
    await store.init()
    // Types through the prepared path: text[], jsonb, timestamptz, bigint, boolean, null.
    const ids = Array.from({ length: 40 }, (_, i) => `pay_prep_${i}`)
    await Promise.all(ids.map((id) => store.commit({ ...commitOne(id), payment: { ...commitOne(id).payment, providerRef: `ref_${id}` }, seen: [`seen:${id}`, `seen2:${id}`] })))
    expect(await store.hasSeen("seen:pay_prep_7")).toBe(true)
    expect(await store.hasSeen("seen:nobody")).toBe(false)
    const loaded = await store.load("pay_prep_3")
    expect(loaded).toMatchObject({ id: "pay_prep_3", amount: 500, version: 1, needsReview: false, externalOrderNum: null, createdAt: at, snapshot: { value: "captured", context: { x: 1 } } })
    // A duplicate key fails its statement; the next statements on the same database still answer.
    await expect(store.commit({ ...commitOne("pay_prep_dup"), seen: ["seen:pay_prep_1"] })).rejects.toMatchObject({ kind: "duplicate" })
    await expect(store.commit({ ...commitOne("pay_prep_3") })).rejects.toMatchObject({ kind: "version" })
    const next = await Promise.all(ids.map((id) => store.commit({ ...commitOne(id), expectedVersion: 1, payment: { ...commitOne(id).payment, status: "refunded", snapshot: { value: "refunded", context: { x: 2, refunds: [{ id: "rf_1", amount: 500, status: "succeeded" }] } } } })))
    expect(next.map((p) => p.version)).toEqual(ids.map(() => 2))
    expect((await store.load("pay_prep_9"))?.snapshot).toEqual({ value: "refunded", context: { x: 2, refunds: [{ id: "rf_1", amount: 500, status: "succeeded" }] } })
    expect(await store.load("pay_prep_dup")).toBeUndefined()
    await store.close()
  })
})

/** A migrated directory opened here, a driver on it, and one that records every commit statement it sends. */
const recordedDriver = async (name: string) => {
  const dataDir = join(dir, name)
  const made = pgliteStore({ dataDir, templates })
  await made.init()
  await made.close()
  const db = new PGlite(dataDir)
  const sent: { text: string; bytes: number }[] = []
  const base = driverOn(db)
  const recording: SqlDriver = {
    ...base,
    query: (sql, params, statement) => {
      if (sql.startsWith("with p as")) sent.push({ text: sql, bytes: JSON.stringify(params ?? []).length })
      return base.query(sql, params, statement)
    },
  }
  return { db, base, recording, sent }
}

describe("sql store: a payment read in the row layout", () => {
  it("gets a commit that sends only the entries the step changed, not every entry it read", async () => {
    const { db, base, recording, sent } = await recordedDriver("read-then-write")
    const writer = sqlStore(base)
    const reader = sqlStore(recording)
    const id = "pay_read_then_write"
    const entry = (i: number) => ({ id: `rf_${i}`, amount: i + 1, status: "succeeded", details: { note: "n".repeat(400) } })
    const refunds = Array.from({ length: 200 }, (_, i) => entry(i))
    const c = { ...commitOne(id), payment: { ...commitOne(id).payment, snapshot: { value: "captured", context: { id, refunds } } } }
    await writer.commit(c)
    const loaded = (await reader.load(id))!
    // The step keeps the entries it read and adds one, as the engine does.
    const context = loaded.snapshot.context as unknown as { refunds: unknown[] }
    const next = { ...loaded.snapshot, context: { ...context, refunds: [...context.refunds, entry(200)] } } as unknown as typeof loaded.snapshot
    await reader.commit({ ...c, expectedVersion: loaded.version, payment: { ...c.payment, snapshot: next } })
    expect(sent).toHaveLength(1)
    expect(sent[0]!.text).not.toContain("jsonb_array_elements")
    expect(sent[0]!.bytes).toBeLessThan(3000)
    expect((await writer.load(id))?.snapshot).toEqual(next)
    await db.close()
  })
})

describe("engine on a sql store: a step on a payment it loaded", () => {
  it("copies and sends only what the step changed, with 60 refunds already on the payment", async () => {
    const { db, base, recording, sent } = await recordedDriver("engine-load")
    const quiet = { backgroundIntervalMs: 0, recoverOnStart: false, onError: () => {} }
    const first = createEngine({ store: sqlStore(base), providers: { fake: fakeProvider() }, ...quiet })
    const p = await first.payments.create({ provider: "fake", amount: 1_000_000, currency: "JPY" })
    for (let i = 0; i < 60; i++) await first.payments.refund({ paymentId: p.id, amount: 10, description: `refund ${i} ${"d".repeat(200)}` })
    // A second process: it has not saved this payment, so its first step starts from a load.
    const second = createEngine({ store: sqlStore(recording), providers: { fake: fakeProvider() }, ...quiet })
    const v = await second.payments.refund({ paymentId: p.id, amount: 10 })
    expect(v.refunds).toHaveLength(61)
    expect(v.refundedAmount).toBe(610)
    // Two commits (reserve, settle), each carrying a refund entry or two, not sixty.
    expect(sent).toHaveLength(2)
    for (const { bytes } of sent) expect(bytes).toBeLessThan(6000)
    expect(await first.payments.get(p.id)).toMatchObject({ refundedAmount: 610 })
    await second.close()
    await first.close()
    await db.close()
  })
})
