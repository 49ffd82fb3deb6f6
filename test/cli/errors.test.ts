/**
 * What the CLI refuses, and how it says so: unknown flags and values list the valid ones, read
 * commands never create a store (a mistyped data dir or database is an error naming it, and nothing
 * appears on disk), and PAYSTATE_DATABASE_URL alone means PostgreSQL.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postgresStore } from "../../adapters/stores/postgres.js"
import { createEngine } from "../../src/engine.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"
import { cli } from "./helpers.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-cli-errors-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("flags and values", { timeout: 180_000 }, () => {
  it.each([
    [["list", "--bogus"], /Unknown flag --bogus for `paystate list`\. Valid flags: --provider NAME, --status pending\|authorized\|captured\|refunded\|cancelled\|expired\|failed,.* --json\./],
    [["sandbox", "craftgate", "--webhook-secret", "abc"], /Unknown flag --webhook-secret for `paystate sandbox craftgate`\. Valid flags: --port N, --webhook-url URL, --api-key KEY, .*--webhook-key KEY/],
    [["sandbox", "komoju", "--login", "x"], /Unknown flag --login for `paystate sandbox komoju`.*--webhook-secret SECRET/],
    [["diagram", "komoju", "--format", "svg"], /^--format svg is not one of: mermaid, json\.$/m],
    [["list", "--status", "paid"], /--status paid is not one of: pending, authorized, captured, refunded, cancelled, expired, failed\./],
    [["list", "--store", "mysql"], /--store mysql is not one of: pglite, postgres\./],
    [["demo", "--store", "postgres"], /--store postgres is not one of: pglite, memory\./],
    [["demo", "--only", "stripe"], /--only stripe: no such provider\. Use any of: komoju, craftgate, onekey\./],
    [["list", "--page", "zero"], /--page zero is not a whole number/],
    [["list", "--since", "yesterday"], /--since yesterday is not an ISO-8601 time/],
    [["list", "--json=yes"], /--json takes no value/],
    [["status"], /Usage: paystate status <payment-id>/],
    [["status", "a", "b"], /takes at most 1 argument; got "a" "b"/],
    [["history", "pay_x", "--format", "json"], /Unknown flag --format for `paystate history`/],
    [["review", "approve"], /Unknown review command "approve": use one of list, retry, resolve\./],
    [["review", "resolve", "pay_x/rf_y", "--note", "x"], /review resolve needs --outcome succeeded\|failed/],
    [["review", "resolve", "pay_x/rf_y", "--outcome", "maybe", "--note", "x"], /--outcome maybe is not one of: succeeded, failed\./],
    [["review", "resolve", "pay_x/rf_y", "--outcome", "failed"], /review resolve needs --note/],
    [["frobnicate"], /Unknown command "frobnicate"\. Commands: demo, sandbox, list, status, history, review, replay, diagram, console\./],
    [["list", "--data-dir", "x", "--url", "postgres://h/db"], /--data-dir is for --store pglite; this command runs on postgres\./],
    [["list", "--store", "pglite", "--url", "postgres://h/db"], /--url is for --store postgres; this command runs on pglite\./],
    [["list", "--store", "postgres"], /--store postgres needs a database: pass --url postgres:\/\/… or set PAYSTATE_DATABASE_URL\./],
  ])("paystate %j is refused with exit 2", (args, message) => {
    const r = cli(args)
    expect(r.status, r.stdout).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stdout).toBe("")
  })

  it("--help lists a command's flags and exits 0", () => {
    const r = cli(["list", "--help"])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain("--external-order-num REF")
    expect(r.stdout).toContain("--needs-review")
    expect(cli(["sandbox", "onekey", "--help"]).stdout).toContain("--card-partial-refunds true|false")
  })
})

describe("read commands never create a store", { timeout: 180_000 }, () => {
  it.each([["status", "pay_x"], ["history", "pay_x"], ["list"], ["review", "list"]])("paystate %s on a mistyped --data-dir names the directory and creates nothing", (...args) => {
    const missing = join(dir, "typo", "payments")
    const r = cli([...args, "--data-dir", missing])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`No paystate store at ${missing}: the directory does not exist.`)
    expect(existsSync(join(dir, "typo"))).toBe(false)
  })

  it("a directory that is not a PGlite store is named as such, and left as it was", () => {
    const plain = join(dir, "plain")
    mkdirSync(plain)
    writeFileSync(join(plain, "notes.txt"), "hello")
    const r = cli(["list", "--data-dir", plain])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`${plain} is not a PGlite data directory.`)
    expect(existsSync(join(plain, "PG_VERSION"))).toBe(false)
  })

  it("a PGlite directory without paystate's tables is named as such, and no tables are created in it", async () => {
    const other = join(dir, "other-app")
    const db = new PGlite(other)
    await db.query("create table orders (id int)")
    await db.close()
    for (let i = 0; i < 2; i++) {
      const r = cli(["status", "pay_x", "--data-dir", other])
      expect(r.status).toBe(2)
      expect(r.stderr).toContain(`${other} is a PGlite directory without paystate's tables.`)
    }
    const check = new PGlite(other)
    const tables = await check.query<{ t: string }>("select table_name as t from information_schema.tables where table_schema = 'public' order by 1")
    await check.close()
    expect(tables.rows.map((r) => r.t)).toEqual(["orders"])
  }, 60_000)
})

describe("PostgreSQL through PAYSTATE_DATABASE_URL", { timeout: 180_000 }, () => {
  const url = "postgres://postgres@127.0.0.1:5432/test"
  const schema = `cli_${process.pid}_${Date.now().toString(36)}`
  let available = false
  let paymentId = ""
  beforeAll(async () => {
    const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
    try {
      await probe.connect()
      await probe.end()
      available = true
    } catch (e) {
      // In CI a PostgreSQL server must be there: fail instead of skipping.
      if (process.env.CI === "true") throw new Error(`PostgreSQL is not reachable at ${url} (CI=true): ${String(e)}`)
      return
    }
    const engine = createEngine({ store: postgresStore({ connectionString: url, schema }), providers: { fake: fakeProvider() }, backgroundIntervalMs: 0 })
    const p = await engine.payments.create({ provider: "fake", amount: 1234, currency: "JPY", externalOrderNum: "pg-order" })
    paymentId = p.id
    await engine.close()
  }, 60_000)
  afterAll(async () => {
    if (!available) return
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    await c.query(`drop schema if exists ${schema} cascade`)
    await c.end()
  })

  it("a URL in the environment alone means PostgreSQL: list and status read the payments there", (ctx) => {
    if (!available) return ctx.skip()
    const list = cli(["list"], { PAYSTATE_DATABASE_URL: url, PAYSTATE_DATABASE_SCHEMA: schema })
    expect(list.status, list.stderr).toBe(0)
    expect(list.stdout).toContain(paymentId)
    expect(list.stdout).toContain(`in PostgreSQL at ${url} (schema ${schema})`)
    const status = JSON.parse(cli(["status", paymentId, "--json", "--schema", schema], { PAYSTATE_DATABASE_URL: url }).stdout)
    expect(status).toMatchObject({ id: paymentId, amount: 1234, externalOrderNum: "pg-order" })
  })

  it("a database without paystate's tables, or that does not exist, is an error naming it; nothing is created", async (ctx) => {
    if (!available) return ctx.skip()
    const empty = `${schema}_empty`
    const r = cli(["list", "--schema", empty], { PAYSTATE_DATABASE_URL: url })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`No paystate store in PostgreSQL at ${url} schema ${empty}: its tables do not exist.`)
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const created = await c.query("select 1 from information_schema.schemata where schema_name = $1", [empty])
    await c.end()
    expect(created.rowCount).toBe(0)
    const noDb = cli(["status", "pay_x"], { PAYSTATE_DATABASE_URL: "postgres://postgres:hunter2@127.0.0.1:5432/paystate_no_such_db" })
    expect(noDb.status).toBe(2)
    expect(noDb.stderr).toContain('No database at PostgreSQL at postgres://postgres:***@127.0.0.1:5432/paystate_no_such_db: database "paystate_no_such_db" does not exist.')
    expect(noDb.stderr).not.toContain("hunter2")
  })
})
