/**
 * The world the security suite runs in: the three provider sandboxes over real HTTP on 127.0.0.1,
 * a recorder that keeps every webhook they send (genuine deliveries to replay and mangle), one engine
 * with all three providers on the store under test, a few payments in known states, and a row
 * counter over every `paystate_` table.
 *
 * The sandboxes send their webhooks to the recorder, never to the engine, so nothing writes to the
 * store between a "before" and an "after" count except the call under test.
 */
import { readFileSync } from "node:fs"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { craftgate, startCraftgateSandbox, type RunningCraftgateSandbox } from "../../adapters/providers/craftgate/index.js"
import { komoju, startKomojuSandbox, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { onekey, startOnekeySandbox, type RunningOnekeySandbox } from "../../adapters/providers/onekey/index.js"
import { createEngine, type Engine } from "../../src/engine.js"
import { ERROR_CODES, isPaystateError } from "../../src/errors.js"
import type { Store } from "../../src/store.js"
import type { PaymentView } from "../../src/types.js"

/** Counts of every paystate_ table (and a checksum of payment versions, so an update shows too). */
export type RowCounts = Readonly<Record<string, number>>

/** How a suite counts rows on its store. */
export interface StoreUnderTest {
  readonly name: string
  readonly store: Store
  /** Row counts of every paystate_ table. */
  counts(): Promise<RowCounts>
  close?(): Promise<void>
}

/**
 * SQL row counts over every paystate_ table a schema holds (found, not listed, so new tables count
 * too), in one statement per call; the table list is read once the tables exist.
 */
export const sqlCounts = (query: (sql: string) => Promise<{ rows: Record<string, unknown>[] }>, schema: string): (() => Promise<RowCounts>) => {
  let statement: string | undefined
  return async () => {
    if (!statement) {
      const tables = (await query(`select table_name from information_schema.tables where table_schema = '${schema}' and table_name like 'paystate\\_%' order by 1`)).rows.map((r) => String(r.table_name))
      if (tables.length === 0) return {}
      const parts = tables.map((t) => `(select count(*)::int from ${schema}.${t}) as "${t}"`)
      if (tables.includes("paystate_payments")) parts.push(`(select coalesce(sum(version), 0)::int from ${schema}.paystate_payments) as "paystate_payments.version_sum"`)
      statement = `select ${parts.join(", ")}`
    }
    const row = (await query(statement)).rows[0]!
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]))
  }
}

/** Counts through the Store interface, for the memory store (which has no tables to query). */
export const apiCounts = async (store: Store): Promise<RowCounts> => {
  const payments = (await store.list({ perPage: 1000 })).data
  return {
    paystate_payments: payments.length,
    "paystate_payments.version_sum": payments.reduce((s, p) => s + p.version, 0),
    paystate_journal: (await store.allJournal()).length,
    paystate_outbox: (await store.outbox()).length,
    paystate_timers: (await store.dueTimers("9999-12-31T23:59:59.999Z", 1_000_000)).length,
  }
}

/** One webhook a sandbox sent, exactly as the host's route got it. */
export interface Delivery {
  readonly provider: "komoju" | "craftgate" | "onekey"
  readonly headers: IncomingHttpHeaders
  readonly rawBody: Buffer
}

/** Error codes docs/errors.md documents (a row per code in its table). */
export const DOCUMENTED_CODES: ReadonlySet<string> = new Set(
  [...readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8").matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]!),
)

/** Why a thrown value is not the typed error the contract promises, or undefined when it is. */
export const untyped = (e: unknown): string | undefined => {
  if (!isPaystateError(e)) {
    const name = e instanceof Error ? e.constructor.name : typeof e
    const message = e instanceof Error ? e.message : String(typeof e === "symbol" ? "symbol" : e)
    return `raw ${name}: ${message.slice(0, 160)}`
  }
  if (!(ERROR_CODES as readonly string[]).includes(e.code)) return `code ${e.code} is not in ERROR_CODES`
  if (!DOCUMENTED_CODES.has(e.code)) return `code ${e.code} is not documented in docs/errors.md`
  if (typeof e.message !== "string" || e.message === "") return "PaystateError without a message"
  return undefined
}

/** Codes that come after a command was accepted and stored (docs/errors.md "written?"). */
export const WRITES_AFTER_ACCEPT: ReadonlySet<string> = new Set(["PROVIDER_REJECTED", "PROVIDER_UNAVAILABLE", "PROVIDER_AUTH_FAILED"])

export const KOMOJU_CARD = { type: "credit_card", number: "4111111111111111", month: "01", year: "2030", verification_value: "123", name: "Taro Yamada", email: "taro@example.com" } as const
export const KOMOJU_KONBINI = { type: "konbini", store: "lawson", email: "taro@example.com", phone: "09011112222" } as const
export const KOMOJU_BANK = { customer_name: "John Doe", bank_code: "1234", bank_name: "KOMOJU BANK", branch_number: "123", branch_name: "KOMOJU BRANCH", account_type: "normal", account_number: "1234567", include_payment_method_fee: false }
export const CRAFTGATE_CARD = { cardHolderName: "Haluk Demir", cardNumber: "5258640000000001", expireYear: "2044", expireMonth: "07", cvc: "000" }
export const CRAFTGATE_ITEMS = [
  { name: "Book", price: 3000, externalId: "b1" },
  { name: "Pen", price: 2000, externalId: "p1" },
]
export const ONEKEY_PAYER = { document: "ROMC850101HDFXXX01", email: "carlos@example.com", first_name: "Carlos", last_name: "Ramirez" }
export const ONEKEY_BANK = { beneficiary: "Carlos Ramirez", bank_code: 1, branch: "9283", account_number: "18293435", account_type: "SAVING" } as const

/** Valid create commands, one per provider (and a second shape for KOMOJU). */
export const CREATES = {
  komoju: { provider: "komoju", amount: 1000, currency: "JPY", description: "tea", metadata: { order: "o-1" }, payment_details: KOMOJU_CARD },
  komojuKonbini: { provider: "komoju", amount: 1000, currency: "JPY", payment_details: KOMOJU_KONBINI },
  craftgate: { provider: "craftgate", amount: 5000, currency: "TRY", card: CRAFTGATE_CARD, items: CRAFTGATE_ITEMS },
  onekey: { provider: "onekey", amount: 1000, currency: "MXN", country: "MX", payment_method: "OX", payer: ONEKEY_PAYER },
} as const

/** The first payment transaction (basket item) of a Craftgate payment: partial refunds name one. */
export const craftgateTransaction = (p: PaymentView): string => String((p.details.transactions as { id: string }[])[0]!.id)

/** Payments in known states the commands are aimed at. */
export interface Fixtures {
  readonly captured: Record<"komoju" | "craftgate" | "onekey", PaymentView>
  /** A KOMOJU konbini payment, paid: what a refund request goes to. */
  readonly paidKonbini: PaymentView
  readonly authorized: Record<"komoju" | "craftgate", PaymentView>
}

/** The running world. */
export interface SecurityWorld {
  readonly engine: Engine
  readonly sut: StoreUnderTest
  readonly komoju: RunningKomojuSandbox
  readonly craftgate: RunningCraftgateSandbox
  readonly onekey: RunningOnekeySandbox
  readonly deliveries: Delivery[]
  readonly fixtures: Fixtures
  /** Money movements of every sandbox, to prove a refused call sent nothing. */
  sandboxMovements(): number
  close(): Promise<void>
}

const post = async (url: string, body: unknown = {}) => {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`${url} → ${res.status} ${await res.text()}`)
  return res.json()
}

/** Starts sandboxes, recorder and engine on the store, and makes the fixtures. */
export const startSecurityWorld = async (sut: StoreUnderTest): Promise<SecurityWorld> => {
  const deliveries: Delivery[] = []
  const recorder = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const provider = (req.url ?? "").split("/").pop() as Delivery["provider"]
      deliveries.push({ provider, headers: req.headers, rawBody: Buffer.concat(chunks) })
      res.writeHead(200).end("{}")
    })
  })
  await new Promise<void>((r) => recorder.listen(0, "127.0.0.1", () => r()))
  const hooks = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/hooks`
  const [k, c, o] = await Promise.all([
    startKomojuSandbox({ webhookUrl: `${hooks}/komoju` }),
    startCraftgateSandbox({ webhookUrl: `${hooks}/craftgate` }),
    startOnekeySandbox({ webhookUrl: `${hooks}/onekey` }),
  ])
  const engine = createEngine({
    store: sut.store,
    providers: {
      komoju: komoju({ baseUrl: k.apiUrl, secretKey: k.secretKey, webhookSecret: k.webhookSecret, timeoutMs: 2000, retries: 1, backoffMs: 5 }),
      craftgate: craftgate({ baseUrl: c.url, ...c.credentials, timeoutMs: 2000, retries: 1, backoffMs: 5 }),
      onekey: onekey({ baseUrl: o.url, ...o.credentials, timeoutMs: 2000, retries: 1 }),
    },
    backgroundIntervalMs: 0,
    onError: () => {},
  })
  await engine.ready

  const kp = await engine.payments.create(CREATES.komoju)
  const konbini = await engine.payments.create(CREATES.komojuKonbini)
  await post(`${k.url}/_sandbox/payments/${konbini.providerRef}/pay`)
  const paidKonbini = await engine.payments.sync(konbini.id)
  const ka = await engine.payments.create({ ...CREATES.komoju, capture: false })
  const cp = await engine.payments.create(CREATES.craftgate)
  const ca = await engine.payments.create({ ...CREATES.craftgate, paymentPhase: "PRE_AUTH" })
  const deposit = await engine.payments.create(CREATES.onekey)
  await post(`${o.url}/_sandbox/deposits/${deposit.providerRef}/complete`)
  const op = await engine.payments.sync(deposit.id)
  await Promise.all([k.kernel.settled(), c.kernel.settled(), o.kernel.settled()])
  // A refund each, so the sandboxes have sent refund webhooks too.
  await engine.payments.refund({ paymentId: kp.id, amount: 100 })
  await engine.payments.refund({ paymentId: cp.id, amount: 100, paymentTransactionId: craftgateTransaction(cp) })
  await engine.payments.refund({ paymentId: op.id, amount: 100, bank_account: ONEKEY_BANK })
  await Promise.all([k.kernel.settled(), c.kernel.settled(), o.kernel.settled()])
  const fixtures: Fixtures = {
    captured: { komoju: await engine.payments.get(kp.id), craftgate: await engine.payments.get(cp.id), onekey: await engine.payments.get(op.id) },
    paidKonbini,
    authorized: { komoju: ka, craftgate: ca },
  }
  return {
    engine,
    sut,
    komoju: k,
    craftgate: c,
    onekey: o,
    deliveries,
    fixtures,
    sandboxMovements: () => k.kernel.ledger.length + c.kernel.ledger.length + o.kernel.ledger.length,
    close: async () => {
      await engine.close()
      await Promise.all([k.close(), c.close(), o.close()])
      recorder.closeAllConnections()
      await new Promise<void>((r) => recorder.close(() => r()))
      await sut.close?.()
    },
  }
}
