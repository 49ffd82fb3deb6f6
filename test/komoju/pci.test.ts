/**
 * PCI journey through the engine on PGlite and PostgreSQL: a card payment with its CVV, an e-money
 * payment with its password, a card create whose answer was lost and one whose card data a restart
 * took away, and a refund request with a bank account. Then every row of every paystate_ table,
 * the PGlite data files, history(), views, review items, inspector events and every log line are
 * searched for the planted values: the card number, the CVV and the password appear nowhere; the
 * bank account number only in the stored columns a retry needs (outbox payload, payment snapshot),
 * masked in history().
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import pg from "pg"
import { afterAll, afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { postgresStore } from "../../adapters/stores/postgres.js"
import type { Engine } from "../../src/engine.js"
import { isPaystateError } from "../../src/errors.js"
import type { Store } from "../../src/store.js"
import { cleanupDirs, notePostgresSkip, dropSchema, PG_URL, pgliteDir, pgReachable, startShared, uniqueSchema, type SharedWorld } from "./world.js"

afterAll(cleanupDirs)
notePostgresSkip()

const PAN = "4012888888881881"
const PAN_LOST = "4012000033330026"
const CVV = "735"
const PASSWORD = "hm-Pass-Zq81x"
const ACCOUNT = "7654321"

/** Every column value of every paystate_ table, as text, with where it came from. */
type Cells = { where: string; text: string }[]

const cellsOf = async (query: (sql: string) => Promise<Record<string, unknown>[]>, tables: string[]): Promise<Cells> => {
  const out: Cells = []
  for (const t of tables) {
    for (const row of await query(`select * from ${t}`)) {
      for (const [col, v] of Object.entries(row)) out.push({ where: `${t}.${col}`, text: typeof v === "string" ? v : JSON.stringify(v) ?? String(v) })
    }
  }
  return out
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? filesUnder(p) : [p]
  })

/** JSON of an inspection event without the machine definition and functions, cycles cut. */
const eventText = (ev: unknown): string => {
  const seen = new WeakSet<object>()
  const e = ev as { actorRef?: { getSnapshot?: () => unknown } }
  return JSON.stringify({ ev, actor: e.actorRef?.getSnapshot?.() }, (k, v) => {
    if (k === "logic" || typeof v === "function") return undefined
    if (v && typeof v === "object") {
      if (seen.has(v)) return undefined
      seen.add(v)
    }
    return v
  })
}

interface Kind {
  readonly name: string
  readonly make: () => { store: Store; dump: () => Promise<Cells>; files?: () => string[]; after: () => Promise<void> }
}

const KINDS: Kind[] = [
  {
    name: "pglite",
    make: () => {
      const dir = pgliteDir()
      return {
        store: pgliteStore({ dataDir: dir }),
        // The store is closed by then: the data directory is opened again, as any tool could.
        dump: async () => {
          const db = new PGlite(dir)
          try {
            const tables = (await db.query<{ tablename: string }>("select tablename from pg_tables where tablename like 'paystate_%'")).rows.map((r) => r.tablename)
            return await cellsOf(async (sql) => (await db.query<Record<string, unknown>>(sql)).rows, tables)
          } finally {
            await db.close()
          }
        },
        files: () => filesUnder(dir),
        after: async () => {},
      }
    },
  },
  ...(pgReachable || process.env.CI
    ? [
        {
          name: "postgres",
          make: () => {
            const schema = uniqueSchema("pci")
            return {
              store: postgresStore({ connectionString: PG_URL, schema }),
              dump: async () => {
                const c = new pg.Client({ connectionString: PG_URL })
                await c.connect()
                try {
                  const tables = (await c.query("select table_name from information_schema.tables where table_schema = $1 and table_name like 'paystate_%'", [schema])).rows.map((r) => `${schema}.${r.table_name}`)
                  return await cellsOf(async (sql) => (await c.query(sql)).rows, tables)
                } finally {
                  await c.end()
                }
              },
              after: () => dropSchema(schema),
            }
          },
        },
      ]
    : []),
]

describe.each(KINDS)("card data never at rest on $name", ({ make }) => {
  const logs: string[] = []
  beforeEach(() => {
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logs.push(args.map((a) => (a instanceof Error ? `${a.message} ${JSON.stringify(a)}` : typeof a === "string" ? a : JSON.stringify(a))).join(" "))
      })
    }
  })
  afterEach(() => vi.restoreAllMocks())

  test("no card number, CVV or password in any table, history, view, inspector event or log; the bank account only where a retry needs it", async () => {
    const kind = make()
    const inspected: string[] = []
    const errors: string[] = []
    const w: SharedWorld = await startShared({
      store: kind.store,
      engine: {
        inspect: (ev) => inspected.push(eventText(ev)),
        onError: (e, where) => errors.push(`${where}: ${e instanceof Error ? e.message : String(e)} ${JSON.stringify(e)}`),
      },
    })
    let closed = false
    try {
      const e0 = (): Engine => w.engines[0]!
      const card = (number: string) => ({ type: "credit_card", number, month: "12", year: "2031", verification_value: CVV, name: "Taro Yamada", email: "taro@example.com" })
      // A card payment with its CVV, refunded in part.
      const paid = await e0().payments.create({ provider: "komoju", amount: 5000, currency: "JPY", payment_details: card(PAN) })
      expect(paid).toMatchObject({ status: "captured", details: { komoju: { payment_details: { last_four_digits: "1881", brand: "visa", month: 12, year: 2031 } } } })
      await e0().payments.refund({ paymentId: paid.id, amount: 1000 })
      // An e-money payment with its password.
      const hm = await e0().payments.create({ provider: "komoju", amount: 1000, currency: "KRW", payment_details: { type: "happy_money", happy_money_id: "77665544", happy_money_password: PASSWORD } })
      expect(hm.status).toBe("captured")
      // A card create performed with its answer lost: another engine (without the card data) finds it by paystate's id.
      w.fault("/api/v1/payments", "drop_response", 3)
      const lost = await e0().payments.create({ provider: "komoju", amount: 2000, currency: "JPY", payment_details: card(PAN_LOST), externalOrderNum: `pci-lost-${Date.now()}` }).then(
        () => undefined,
        (x: unknown) => x,
      )
      expect(isPaystateError(lost, "PROVIDER_UNAVAILABLE")).toBe(true)
      const lostId = (lost as { details: { paymentId: string } }).details.paymentId
      // A card create never performed, then a restart: its card data is gone, and nothing is re-sent from the store.
      w.fault("/api/v1/payments", "timeout", 3)
      const gone = await e0().payments.create({ provider: "komoju", amount: 3000, currency: "JPY", payment_details: card(PAN), externalOrderNum: `pci-gone-${Date.now()}` }).then(
        () => undefined,
        (x: unknown) => x,
      )
      expect(isPaystateError(gone, "PROVIDER_UNAVAILABLE")).toBe(true)
      const goneId = (gone as { details: { paymentId: string } }).details.paymentId
      await w.restart(0)
      w.clearFaults()
      await w.recover(1, 310_000)
      expect(await w.engines[1]!.payments.get(lostId)).toMatchObject({ status: "captured", amount: 2200 })
      const failed = await w.engines[1]!.payments.get(goneId)
      expect(failed.status).toBe("failed")
      expect(JSON.stringify(await w.engines[1]!.payments.history(goneId))).toContain("CARD_DATA_UNAVAILABLE")
      expect(w.sandbox.book.list(new URLSearchParams({ per_page: "100" })).data.filter((p) => p.metadata.paystate_payment_id === goneId)).toEqual([])
      // A refund request with a bank account.
      const k = await w.engines[1]!.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "konbini", store: "lawson", email: "hanako@example.com" } })
      await w.control(`/_sandbox/payments/${k.providerRef}/pay`)
      await w.settle()
      await w.engines[1]!.payments.sync(k.id)
      const bank = { customer_name: "Hanako Sato", bank_code: "0005", bank_name: "MUFG", branch_number: "001", branch_name: "HONTEN", account_type: "normal", account_number: ACCOUNT, include_payment_method_fee: false }
      const rr = await w.engines[1]!.payments.refundRequest({ paymentId: k.id, amount: 400, ...bank })
      expect(rr.refunds[0]).toMatchObject({ kind: "refund_request", status: "pending" })
      await w.settle()

      // What the host can read.
      const ids = [paid.id, hm.id, lostId, goneId, k.id]
      const shown: string[] = []
      for (const e of w.engines) {
        for (const id of ids) shown.push(JSON.stringify(await e.payments.history(id)), JSON.stringify(await e.payments.get(id)))
        shown.push(JSON.stringify(await e.review.list()))
      }
      const history = JSON.stringify(await w.engines[0]!.payments.history(k.id))
      await w.close()
      closed = true
      const cells = await kind.dump()
      const everything = [...cells.map((c) => c.text), ...shown, ...inspected, ...errors, ...logs]
      expect(cells.length).toBeGreaterThan(0)
      expect(inspected.length).toBeGreaterThan(0)
      for (const planted of [PAN, PAN_LOST, PASSWORD, `"${CVV}"`, '"verification_value"', '"number":']) {
        const hits = everything.filter((t) => t.includes(planted))
        expect(hits.map((t) => t.slice(0, 200)), planted).toEqual([])
        expect(cells.filter((c) => c.text.includes(planted)).map((c) => c.where), planted).toEqual([])
      }
      for (const file of kind.files?.() ?? []) {
        const bytes = readFileSync(file)
        for (const planted of [PAN, PAN_LOST, PASSWORD]) expect(bytes.includes(planted), `${planted} in ${file}`).toBe(false)
      }
      // The bank account is stored where a retry of the refund request needs it, and only there.
      const where = [...new Set(cells.filter((c) => c.text.includes(ACCOUNT)).map((c) => c.where.split(".").slice(-2).join(".")))].sort()
      expect(where).toContain("paystate_outbox.payload")
      expect(where.every((x) => x === "paystate_outbox.payload" || x === "paystate_payments.snapshot"), where.join(", ")).toBe(true)
      expect([...shown, ...inspected, ...errors, ...logs].filter((t) => t.includes(ACCOUNT))).toEqual([])
      expect(history).toContain("••••4321")
    } finally {
      if (!closed) await w.close()
      await kind.after()
    }
  }, 120_000)
})
