/**
 * The security suite, run once per store (memory, PGlite, PostgreSQL): every public command and every
 * provider's webhook path is fed hostile input, and each call must either succeed or fail with a
 * `PaystateError` whose code is in ERROR_CODES and documented in docs/errors.md; after a refusal the
 * row count of every paystate_ table is what it was (only PROVIDER_REJECTED / PROVIDER_UNAVAILABLE
 * come after an accepted, stored command) and no sandbox moved money. The named cases of issue 13
 * come first, each its own test.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signCraftgateWebhook } from "../../adapters/providers/craftgate/index.js"
import { isPaystateError } from "../../src/errors.js"
import { applyMutations, brokenString, describe as show, EXOTIC, hostileValue, mutations, NASTY_KEYS, SWEEP_SCALARS } from "./hostile.js"
import {
  craftgateTransaction,
  CREATES,
  KOMOJU_BANK,
  ONEKEY_BANK,
  ONEKEY_PAYER,
  startSecurityWorld,
  untyped,
  WRITES_AFTER_ACCEPT,
  type Delivery,
  type RowCounts,
  type SecurityWorld,
  type StoreUnderTest,
} from "./world.js"

const DEEP = !!process.env.PAYSTATE_DEEP
/** Fuzz cases per command and per webhook path. */
export const RUNS = Number(process.env.PAYSTATE_SECURITY_RUNS ?? (DEEP ? 3000 : 200))
const CALL_TIMEOUT_MS = 15_000
/** Per-test time limits: generous, because a busy 2-core CI box runs PGlite and the sandboxes at once. */
const FUZZ_TEST_MS = Math.max(120_000, RUNS * 400)
const SWEEP_TEST_MS = DEEP ? 900_000 : 180_000

/** What one call did. */
interface Attempt {
  readonly ok: boolean
  readonly value?: unknown
  readonly error?: unknown
  /** Why the call broke the contract, if it did. */
  readonly violation?: string
}

const diff = (a: RowCounts, b: RowCounts): string =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => a[k] !== b[k])
    .map((k) => `${k} ${a[k] ?? 0}→${b[k] ?? 0}`)
    .join(", ")

/** Runs one call and checks the contract: a typed error, and nothing written or moved after a refusal. */
const attempt = async (w: SecurityWorld, call: () => Promise<unknown>): Promise<Attempt> => {
  const before = await w.sut.counts()
  const moved = w.sandboxMovements()
  let promise: Promise<unknown>
  try {
    promise = call()
  } catch (e) {
    return { ok: false, error: e, violation: `threw synchronously instead of rejecting: ${untyped(e) ?? (e as Error).message}` }
  }
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    Promise.resolve(promise).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    new Promise<{ ok: false; hung: true }>((r) => (timer = setTimeout(() => r({ ok: false, hung: true }), CALL_TIMEOUT_MS))),
  ])
  clearTimeout(timer)
  if ("hung" in outcome) return { ok: false, violation: `no answer within ${CALL_TIMEOUT_MS} ms` }
  if (outcome.ok) return outcome
  const why = untyped(outcome.error)
  if (why) return { ...outcome, violation: why }
  const code = (outcome.error as { code: string }).code
  if (!WRITES_AFTER_ACCEPT.has(code)) {
    const after = await w.sut.counts()
    const changed = diff(before, after)
    if (changed) return { ...outcome, violation: `${code} but rows changed: ${changed}` }
    if (w.sandboxMovements() !== moved) return { ...outcome, violation: `${code} but a sandbox moved money` }
  }
  return outcome
}

/** Collects contract violations by kind, with one example input each, for a readable failure. */
class Findings {
  private readonly byKind = new Map<string, { count: number; example: string }>()
  private readonly outcomes = new Map<string, number>()
  /** Counts what a call did (ok, or its error code), for PAYSTATE_SECURITY_STATS=1. */
  saw(r: Attempt): void {
    const k = r.ok ? "ok" : isPaystateError(r.error) ? r.error.code : "raw"
    this.outcomes.set(k, (this.outcomes.get(k) ?? 0) + 1)
  }
  stats(label: string): void {
    if (process.env.PAYSTATE_SECURITY_STATS) console.log(`${label}: ${[...this.outcomes].map(([k, n]) => `${k} ${n}`).join(", ")}`)
  }
  add(violation: string, input: string): void {
    // Group by the violation's text without ids and numbers, so one bug is one line.
    const kind = violation.replace(/\b(pay|rf|upd|cap|cxl)_[\w-]+/g, "<id>").replace(/\d+/g, "N").slice(0, 200)
    const prior = this.byKind.get(kind)
    if (prior) prior.count++
    else this.byKind.set(kind, { count: 1, example: input.slice(0, 300) })
  }
  report(): string[] {
    return [...this.byKind].map(([kind, { count, example }]) => `${count}× ${kind}\n      e.g. ${example}`)
  }
}

/** Runs `RUNS` hostile cases through a call and expects no violation. */
const fuzz = async <T>(w: () => SecurityWorld, arb: fc.Arbitrary<T>, call: (w: SecurityWorld, input: T) => Promise<unknown>, label: (input: T) => string) => {
  const findings = new Findings()
  await fc.assert(
    fc.asyncProperty(arb, async (input) => {
      // Never throw out of the property: fast-check would print the input, and a hostile input
      // (a Proxy whose traps throw) cannot be printed.
      try {
        const r = await attempt(w(), () => call(w(), input))
        findings.saw(r)
        if (r.violation) findings.add(r.violation, label(input))
      } catch (e) {
        findings.add(`the harness failed: ${e instanceof Error ? e.message : String(e)}`, "(not printable)")
      }
    }),
    { numRuns: RUNS },
  )
  findings.stats(`fuzz ${expect.getState().currentTestName ?? ""}`)
  expect(findings.report()).toEqual([])
}

/** Expects the call to be refused with `code` and to leave every table and every sandbox as it was. */
const refused = async (w: SecurityWorld, code: string | readonly string[], call: () => Promise<unknown>) => {
  const r = await attempt(w, call)
  expect(r.violation, r.violation).toBeUndefined()
  expect(r.ok, "the call was accepted").toBe(false)
  const codes = typeof code === "string" ? [code] : code
  expect(codes, (r.error as Error).message).toContain((r.error as { code: string }).code)
  return r.error as { code: string; message: string; details?: unknown }
}

const deep = (n: number, leaf: unknown = "x") => {
  let v: unknown = leaf
  for (let i = 0; i < n; i++) v = { nested: v }
  return v
}

/** A delivery mangled by a header mode and a body mode. */
interface WebhookCase {
  readonly provider: unknown
  readonly delivery: number
  readonly headerMode: string
  readonly hostileHeader: unknown
  readonly bodyMode: string
  readonly junk: string
  readonly bytes: Uint8Array
  readonly hostileBody: unknown
}

const SIGNATURE_HEADER: Record<Delivery["provider"], string> = { komoju: "x-komoju-signature", craftgate: "x-cg-signature-v1", onekey: "content-type" }

const HEADER_MODES = ["genuine", "missing", "null", "undefined", "number", "array1", "arrayEmpty", "genuineForged", "forgedGenuine", "object", "symbol", "caseDuplicate", "forged", "hostile", "headersNull", "headersArray", "headersString", "headersMap", "headersGetterThrows", "requestNull", "requestString"] as const
const BODY_MODES = ["genuine", "string", "flipped", "parsed", "junk", "bytes", "huge", "deepJson", "nulJson", "surrogateJson", "hostile", "empty"] as const

const buildWebhook = (w: SecurityWorld, provider: Delivery["provider"], c: WebhookCase): { provider: unknown; request: unknown } => {
  const list = w.deliveries.filter((d) => d.provider === provider)
  const d = list[c.delivery % list.length]!
  const name = SIGNATURE_HEADER[provider]
  const genuine = d.headers[name] as string
  const forged = genuine ? genuine.slice(0, -4) + (genuine.endsWith("AAAA") ? "BBBB" : "AAAA") : "forged"
  const headers: Record<string, unknown> = { ...d.headers }
  switch (c.headerMode) {
    case "missing":
      delete headers[name]
      break
    case "null":
      headers[name] = null
      break
    case "undefined":
      headers[name] = undefined
      break
    case "number":
      headers[name] = 12345
      break
    case "array1":
      headers[name] = [genuine]
      break
    case "arrayEmpty":
      headers[name] = []
      break
    case "genuineForged":
      headers[name] = [genuine, forged]
      break
    case "forgedGenuine":
      headers[name] = [forged, genuine]
      break
    case "object":
      headers[name] = { value: genuine }
      break
    case "symbol":
      headers[name] = Symbol(genuine)
      break
    case "caseDuplicate":
      headers[name.toUpperCase()] = forged
      break
    case "forged":
      headers[name] = forged
      break
    case "hostile":
      headers[name] = c.hostileHeader
      break
  }
  const text = d.rawBody.toString("utf8")
  let rawBody: unknown
  switch (c.bodyMode) {
    case "genuine":
      rawBody = d.rawBody
      break
    case "string":
      rawBody = text
      break
    case "flipped": {
      const b = Buffer.from(d.rawBody)
      const i = c.junk.length % Math.max(1, b.length)
      b[i] = b[i]! ^ 1
      rawBody = b
      break
    }
    case "parsed":
      rawBody = JSON.parse(text)
      break
    case "junk":
      rawBody = c.junk
      break
    case "bytes":
      rawBody = c.bytes
      break
    case "huge":
      rawBody = `{"pad":"${"x".repeat(3 * 1024 * 1024)}"}`
      break
    case "deepJson":
      rawBody = "[".repeat(100_000) + "]".repeat(100_000)
      break
    case "nulJson":
      rawBody = text.replace(/"([^"]{2,})"/, '"$1\\u0000"')
      break
    case "surrogateJson":
      rawBody = text.replace(/"([^"]{2,})"/, '"$1\\ud800"')
      break
    case "hostile":
      rawBody = c.hostileBody
      break
    case "empty":
      rawBody = ""
      break
  }
  let request: unknown = { headers, rawBody }
  if (c.headerMode === "headersNull") request = { headers: null, rawBody }
  if (c.headerMode === "headersArray") request = { headers: [[name, genuine]], rawBody }
  if (c.headerMode === "headersString") request = { headers: `${name}: ${genuine}`, rawBody }
  if (c.headerMode === "headersMap") request = { headers: new Map(Object.entries(headers)), rawBody }
  if (c.headerMode === "headersGetterThrows") request = { headers: Object.defineProperty({ ...headers }, name, { get: () => { throw new Error("getter boom") }, enumerable: true }), rawBody }
  if (c.headerMode === "requestNull") request = null
  if (c.headerMode === "requestString") request = text
  return { provider: c.provider === "self" ? provider : c.provider, request }
}

const webhookCase = (): fc.Arbitrary<WebhookCase> =>
  fc.record({
    provider: fc.oneof({ weight: 12, arbitrary: fc.constant("self") }, { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "", "KOMOJU", "nope") }, { weight: 1, arbitrary: hostileValue() }),
    delivery: fc.nat(),
    headerMode: fc.constantFrom(...HEADER_MODES),
    hostileHeader: hostileValue(),
    bodyMode: fc.constantFrom(...BODY_MODES),
    junk: fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), brokenString(), fc.constantFrom('{"refund_id": 1}', '{"deposit_id": "1"}', '{"refund_id": 1e400}', '{"refund_id": {"$gt": 0}}', "refund_id=1&refund_id=2", "__proto__[x]=1", "[]", "null")),
    bytes: fc.uint8Array({ maxLength: 64 }),
    hostileBody: hostileValue(),
  })

/** Where the sweep puts a value: the whole argument, or one field (top level or one level down) of a base. */
const positions = (base: object): (readonly string[])[] => {
  const out: (readonly string[])[] = [[]]
  for (const [k, v] of Object.entries(base)) {
    out.push([k])
    if (v !== null && typeof v === "object" && !Array.isArray(v)) for (const k2 of Object.keys(v).slice(0, 2)) out.push([k, k2])
    if (Array.isArray(v) && v[0] !== null && typeof v[0] === "object") out.push([k, "0", Object.keys(v[0])[0]!])
  }
  return out
}

/** A copy of `base` with `value` at `path` (the empty path: the value itself). */
const place = (base: object, path: readonly string[], value: unknown): unknown => {
  if (path.length === 0) return value
  const root: any = structuredClone(base)
  let node = root
  for (const k of path.slice(0, -1)) node = node[k]
  Object.defineProperty(node, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true })
  return root
}

/** Every named hostile value at every position of every base, each call checked like a fuzz case. */
const sweep = async (w: SecurityWorld, values: readonly (readonly [string, () => unknown])[], bases: readonly object[], run: (input: unknown) => Promise<unknown>) => {
  const findings = new Findings()
  for (const base of bases) {
    for (const path of positions(base)) {
      for (const [name, make] of values) {
        const r = await attempt(w, () => run(place(base, path, make())))
        findings.saw(r)
        if (r.violation) findings.add(r.violation, `${name} at ${path.length ? path.join(".") : "(the whole argument)"}`)
      }
    }
  }
  findings.stats(`sweep ${expect.getState().currentTestName ?? ""}`)
  expect(findings.report()).toEqual([])
}

/** The commands the fuzz and the sweep aim at fixtures: valid bases, then the call. */
const aimedCommands = (x: SecurityWorld): { label: string; bases: object[]; run: (input: unknown) => Promise<unknown> }[] => [
  { label: "payments.create (komoju)", bases: [CREATES.komoju, CREATES.komojuKonbini], run: (i) => x.engine.payments.create(i as never) },
  { label: "payments.create (craftgate)", bases: [CREATES.craftgate], run: (i) => x.engine.payments.create(i as never) },
  { label: "payments.create (onekey)", bases: [CREATES.onekey], run: (i) => x.engine.payments.create(i as never) },
  {
    label: "payments.refund",
    bases: [
      { paymentId: x.fixtures.captured.komoju.id, amount: 1, description: "r", idempotencyKey: "k-1" },
      { paymentId: x.fixtures.captured.craftgate.id, amount: 1, paymentTransactionId: craftgateTransaction(x.fixtures.captured.craftgate), chargeFromMe: false },
      { paymentId: x.fixtures.captured.onekey.id, amount: 1, bank_account: ONEKEY_BANK, comments: "c" },
    ],
    run: (i) => x.engine.payments.refund(i as never),
  },
  { label: "payments.refundRequest", bases: [{ paymentId: x.fixtures.paidKonbini.id, amount: 1, ...KOMOJU_BANK }], run: (i) => x.engine.payments.refundRequest(i as never) },
  { label: "payments.capture", bases: [{ paymentId: x.fixtures.authorized.komoju.id, amount: 1 }, { paymentId: x.fixtures.authorized.craftgate.id }], run: (i) => x.engine.payments.capture(i as never) },
  { label: "payments.cancel", bases: [{ paymentId: x.fixtures.authorized.komoju.id }, { paymentId: x.fixtures.authorized.craftgate.id, idempotencyKey: "c-1" }], run: (i) => x.engine.payments.cancel(i as never) },
  {
    label: "payments.update",
    bases: [
      { paymentId: x.fixtures.captured.komoju.id, description: "d", metadata: { a: "b" } },
      { paymentId: x.fixtures.captured.onekey.id, description: null },
    ],
    run: (i) => x.engine.payments.update(i as never),
  },
  {
    label: "payments.list",
    bases: [
      { provider: "komoju", status: "captured", currency: "JPY", startTime: "2020-01-01T00:00:00Z", endTime: "2099-01-01T00:00:00+09:00", page: 1, perPage: 10 },
      { externalOrderNum: "o-1", needsReview: false },
    ],
    run: (i) => x.engine.payments.list(i as never),
  },
  { label: "payments.get", bases: [{ id: x.fixtures.captured.komoju.id }], run: (i) => x.engine.payments.get(unwrapId(i)) },
  { label: "payments.history", bases: [{ id: x.fixtures.captured.craftgate.id }], run: (i) => x.engine.payments.history(unwrapId(i)) },
  { label: "payments.sync", bases: [{ id: x.fixtures.captured.onekey.id }], run: (i) => x.engine.payments.sync(unwrapId(i)) },
]

// get/history/sync take the id itself: the sweep's "whole argument" is the id, a field of { id } replaces it.
const unwrapId = (i: unknown): never => (i !== null && typeof i === "object" && Object.prototype.hasOwnProperty.call(i, "id") && Object.keys(i).length === 1 ? (i as { id: unknown }).id : i) as never

/** Options of the suite. */
export interface SuiteOptions {
  /** Sweep the exotic values too (Symbols, Proxies, deep objects…), not only the scalars. Default true. */
  readonly sweepExotic?: boolean
}

/**
 * What the SQL stores run: the exotic values (Symbols, Proxies, deep objects) are refused before any
 * store is reached and are swept on memory; the scalars (NUL, surrogates, dates, edge amounts) are
 * what a database refuses, so they are swept on every store. Everything is fuzzed on every store.
 */
export const SQL_SUITE: SuiteOptions = { sweepExotic: DEEP }

/** The whole suite on one store. */
export const securitySuite = (name: string, make: () => Promise<StoreUnderTest>, options: SuiteOptions = {}): void => {
  describe(`security on ${name}`, () => {
    let world: SecurityWorld
    const w = () => world
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort()
    beforeAll(async () => {
      world = await startSecurityWorld(await make())
      expect(world.deliveries.map((d) => d.provider).sort()).toEqual(expect.arrayContaining(["komoju", "craftgate", "onekey"]))
    }, 120_000)
    afterAll(async () => {
      await world?.close()
      // The sandboxes run in this process: no request may have reached Object.prototype.
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys)
    })

    describe("the cases of issue 13", () => {
      it("a NUL byte in a create (description, metadata, payment_details) is INVALID_INPUT and writes nothing", async () => {
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, description: "tea\u0000" }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, metadata: { order: "o\u00001" } }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, payment_details: { ...CREATES.komoju.payment_details, name: "Taro\u0000" } }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.onekey, payer: { ...ONEKEY_PAYER, first_name: "Car\u0000los" } }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.refund({ paymentId: w().fixtures.captured.komoju.id, amount: 1, description: "\u0000" }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.update({ paymentId: w().fixtures.captured.craftgate.id, metadata: { ["k\u0000"]: "v" } }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.list({ externalOrderNum: "o\u0000" }))
      })

      it("a lone surrogate in a create, a refund option or a list filter is INVALID_INPUT and writes nothing", async () => {
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.craftgate, description: "kalem \uD800" }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.craftgate, items: [{ ...CREATES.craftgate.items[0], name: "\uDC00Book" }, CREATES.craftgate.items[1]] }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.refund({ paymentId: w().fixtures.captured.onekey.id, amount: 1, bank_account: { ...ONEKEY_BANK, beneficiary: "Carlos \uD83D" } }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.refundRequest({ paymentId: w().fixtures.paidKonbini.id, amount: 1, ...KOMOJU_BANK, bank_name: "\uDFFF" }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.list({ externalOrderNum: "\uD800" }))
      })

      it("year 0000 (and other impossible times) in list startTime / endTime is INVALID_INPUT", async () => {
        for (const t of ["0000-01-01T00:00:00Z", "0000-01-01T00:00:00+00:00", "1969-12-31T23:59:59Z", "2026-02-30T00:00:00Z", "+010000-01-01T00:00:00Z"]) {
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.list({ startTime: t }))
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.list({ endTime: t }))
        }
        // A sane range still answers.
        const page = await w().engine.payments.list({ startTime: "2000-01-01T00:00:00Z", endTime: "9999-12-31T00:00:00Z" })
        expect(page.data.length).toBeGreaterThan(0)
      })

      it("a 100,000-deep payment_details (KOMOJU) or payer (OneKey) is INVALID_INPUT, not a RangeError", async () => {
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, payment_details: { ...CREATES.komoju.payment_details, extra: deep(100_000) } }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, payment_details: deep(100_000) as never }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.onekey, payer: { ...ONEKEY_PAYER, address: deep(100_000) } }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.onekey, payer: deep(100_000) as never }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.refund({ paymentId: w().fixtures.captured.onekey.id, amount: 1, bank_account: deep(100_000) as never }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.update({ paymentId: w().fixtures.captured.komoju.id, metadata: deep(100_000) as never }))
      })

      it("a Symbol (or a number, an object) as a payment id is INVALID_INPUT in every command", async () => {
        const id = w().fixtures.captured.komoju.id
        for (const bad of [Symbol("pay"), 42, { id }, [id], null, undefined, `${id}\u0000`]) {
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.get(bad as never))
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.history(bad as never))
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.sync(bad as never))
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.refund({ paymentId: bad as never, amount: 1 }))
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.capture({ paymentId: bad as never }))
        }
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.refund({ paymentId: id, amount: 1, idempotencyKey: Symbol("k") as never }))
      })

      it("array-valued signature headers are WEBHOOK_REJECTED: [genuine, forged] and [forged, genuine] alike", async () => {
        for (const provider of ["komoju", "craftgate"] as const) {
          for (const headerMode of ["genuineForged", "forgedGenuine", "caseDuplicate", "missing", "null", "number", "object"]) {
            const { request } = buildWebhook(w(), provider, { provider: "self", delivery: 0, headerMode, hostileHeader: null, bodyMode: "genuine", junk: "", bytes: new Uint8Array(), hostileBody: null })
            const e = await refused(w(), "WEBHOOK_REJECTED", () => w().engine.webhooks.handle(provider, request as never))
            expect(e.message.length, `${provider} ${headerMode}`).toBeGreaterThan(0)
          }
        }
        // OneKey signs nothing; a repeated content type is still refused rather than guessed.
        const { request } = buildWebhook(w(), "onekey", { provider: "self", delivery: 0, headerMode: "genuineForged", hostileHeader: null, bodyMode: "genuine", junk: "", bytes: new Uint8Array(), hostileBody: null })
        await refused(w(), "WEBHOOK_REJECTED", () => w().engine.webhooks.handle("onekey", request as never))
      })

      it("Craftgate: a genuinely signed delivery two years old, or re-cut by shifting characters between signed fields, is WEBHOOK_REJECTED", async () => {
        const genuine = JSON.parse(w().deliveries.find((d) => d.provider === "craftgate")!.rawBody.toString("utf8")) as { eventType: string; eventTimestamp: number | string; status: string; payloadId: number | string }
        const key = w().craftgate.credentials.webhookKey
        const twoYearsAgo = Math.floor(Date.now() / 1000) - 2 * 365 * 24 * 3600
        const stale = signCraftgateWebhook(key, { ...genuine, eventTimestamp: twoYearsAgo })
        await refused(w(), "WEBHOOK_REJECTED", () => w().engine.webhooks.handle("craftgate", stale))
        const ahead = signCraftgateWebhook(key, { ...genuine, eventTimestamp: Math.floor(Date.now() / 1000) + 3600 })
        await refused(w(), "WEBHOOK_REJECTED", () => w().engine.webhooks.handle("craftgate", ahead))
        // The HMAC covers the fields concatenated without separators: moving payloadId's first digit
        // onto status keeps the signature valid (asserted), so only the shape checks can refuse it.
        const ts = String(genuine.eventTimestamp)
        const signature = signCraftgateWebhook(key, genuine).headers["x-cg-signature-v1"]!
        const shifted = { eventType: genuine.eventType, eventTimestamp: ts, status: `${genuine.status}${String(genuine.payloadId).slice(0, 1)}`, payloadId: String(genuine.payloadId).slice(1) }
        expect(signCraftgateWebhook(key, shifted).headers["x-cg-signature-v1"]).toBe(signature)
        await refused(w(), "WEBHOOK_REJECTED", () => w().engine.webhooks.handle("craftgate", { headers: { "content-type": "application/json", "x-cg-signature-v1": signature }, rawBody: JSON.stringify(shifted) }))
        // A timestamp that is not digits (a float, an ISO string) is refused too.
        for (const eventTimestamp of [`${ts}.5`, new Date().toISOString(), `${ts}e0`]) {
          await refused(w(), "WEBHOOK_REJECTED", () => w().engine.webhooks.handle("craftgate", signCraftgateWebhook(key, { ...genuine, eventTimestamp })))
        }
      })

      it("missing or null webhook headers and bodies are WEBHOOK_REJECTED, not a TypeError", async () => {
        for (const provider of ["komoju", "craftgate", "onekey"] as const) {
          for (const request of [{ headers: undefined, rawBody: "{}" }, { headers: null, rawBody: "{}" }, { headers: {}, rawBody: null }, { headers: {} }, null, undefined, "raw"]) {
            await refused(w(), "WEBHOOK_REJECTED", () => w().engine.webhooks.handle(provider, request as never))
          }
        }
      })

      it("a KOMOJU amount near MAX_SAFE_INTEGER whose amount + tax is not safe is INVALID_INPUT before anything is written or sent", async () => {
        for (const amount of [Number.MAX_SAFE_INTEGER - 10, 9_007_199_254_740_000, 8_500_000_000_000_000]) {
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, amount }))
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, amount, tax: "auto" }))
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, amount, tax: 0 }))
        }
        // Within the amount cap, a tax that makes amount + tax unsafe is refused too.
        for (const tax of [Number.MAX_SAFE_INTEGER - 10, 9_007_199_254_740_000, "9007199254740990", 1e21]) {
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, amount: 999_999_999_999_999, tax }))
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.komoju, amount: 1000, tax }))
        }
      })

      it("Craftgate and OneKey amounts beyond what a double carries exactly are INVALID_INPUT, nothing sent", async () => {
        for (const amount of [Number.MAX_SAFE_INTEGER, 2 ** 53 - 3, 1_000_000_000_000_001]) {
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.craftgate, amount, items: [{ name: "Gold", price: amount }] }))
          await refused(w(), "INVALID_INPUT", () => w().engine.payments.create({ ...CREATES.onekey, amount }))
        }
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.refund({ paymentId: w().fixtures.captured.craftgate.id, amount: Number.MAX_SAFE_INTEGER }))
        await refused(w(), "INVALID_INPUT", () => w().engine.payments.refund({ paymentId: w().fixtures.captured.onekey.id, amount: 2 ** 53 - 3, bank_account: ONEKEY_BANK }))
      })

      it("provider names __proto__, constructor, toString, hasOwnProperty are typed errors in create, list and webhooks", async () => {
        for (const provider of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"]) {
          await refused(w(), ["UNKNOWN_PROVIDER", "INVALID_INPUT"], () => w().engine.payments.create({ ...CREATES.komoju, provider }))
          await refused(w(), ["UNKNOWN_PROVIDER", "INVALID_INPUT", "WEBHOOK_REJECTED"], () => w().engine.webhooks.handle(provider, { headers: {}, rawBody: "{}" }))
          const r = await attempt(w(), () => w().engine.payments.list({ provider }))
          expect(r.violation, r.violation).toBeUndefined()
          if (r.ok) expect((r.value as { data: unknown[] }).data).toEqual([])
        }
      })
    })

    describe("sweep: every named hostile value at every position", () => {
      const values = options.sweepExotic === false ? SWEEP_SCALARS : [...SWEEP_SCALARS, ...EXOTIC]
      const labels = ["payments.create (komoju)", "payments.create (craftgate)", "payments.create (onekey)", "payments.refund", "payments.refundRequest", "payments.capture", "payments.cancel", "payments.update", "payments.list", "payments.get", "payments.history", "payments.sync"]
      for (const label of labels) {
        it(label, async () => {
          const target = aimedCommands(w()).find((t) => t.label === label)!
          await sweep(w(), values, target.bases, target.run)
        }, SWEEP_TEST_MS)
      }
      for (const provider of ["komoju", "craftgate", "onekey"] as const) {
        it(`webhooks.handle("${provider}")`, async () => {
          const findings = new Findings()
          for (const [vname, make] of values) {
            for (const where of ["signature header", "headers", "rawBody", "request", "provider"] as const) {
              const { request } = buildWebhook(w(), provider, { provider: "self", delivery: 0, headerMode: where === "signature header" ? "hostile" : "genuine", hostileHeader: make(), bodyMode: where === "rawBody" ? "hostile" : "genuine", junk: "", bytes: new Uint8Array(), hostileBody: make() })
              const req = where === "headers" ? { ...(request as object), headers: make() } : where === "request" ? make() : request
              const p = where === "provider" ? make() : provider
              const r = await attempt(w(), () => w().engine.webhooks.handle(p as never, req as never))
              findings.saw(r)
              if (r.violation) findings.add(r.violation, `${vname} as the ${where}`)
            }
          }
          findings.stats(`sweep ${expect.getState().currentTestName ?? ""}`)
          expect(findings.report()).toEqual([])
        }, SWEEP_TEST_MS)
      }
    })

    describe(`fuzz: ${RUNS} hostile cases per command`, () => {
      const createTarget = (provider: keyof typeof CREATES) =>
        it(`payments.create (${provider})`, () =>
          fuzz(w, mutations(CREATES[provider]), (x, m) => x.engine.payments.create(applyMutations(CREATES[provider], m) as never), (m) => show(applyMutations(CREATES[provider], m))), FUZZ_TEST_MS)
      createTarget("komoju")
      createTarget("komojuKonbini")
      createTarget("craftgate")
      createTarget("onekey")

      /** A command aimed at fixtures: the base is picked per case, then mutated. */
      const aimed = (label: string, bases: (x: SecurityWorld) => object[], run: (x: SecurityWorld, input: unknown) => Promise<unknown>) =>
        it(label, async () => {
          const all = bases(w())
          const arb = fc.nat({ max: all.length - 1 }).chain((i) => mutations(all[i]!).map((m) => applyMutations(all[i]!, m)))
          await fuzz(w, arb, run, (x) => show(x))
        }, FUZZ_TEST_MS)

      aimed(
        "payments.refund",
        (x) => [
          { paymentId: x.fixtures.captured.komoju.id, amount: 1, description: "r", idempotencyKey: "k-1" },
          { paymentId: x.fixtures.captured.craftgate.id, amount: 1, paymentTransactionId: craftgateTransaction(x.fixtures.captured.craftgate), chargeFromMe: false },
          { paymentId: x.fixtures.captured.onekey.id, amount: 1, bank_account: ONEKEY_BANK, comments: "c" },
        ],
        (x, input) => x.engine.payments.refund(input as never),
      )
      aimed("payments.refundRequest", (x) => [{ paymentId: x.fixtures.paidKonbini.id, amount: 1, ...KOMOJU_BANK }], (x, input) => x.engine.payments.refundRequest(input as never))
      aimed(
        "payments.capture",
        (x) => [
          { paymentId: x.fixtures.authorized.komoju.id, amount: 1 },
          { paymentId: x.fixtures.authorized.craftgate.id },
        ],
        (x, input) => x.engine.payments.capture(input as never),
      )
      aimed("payments.cancel", (x) => [{ paymentId: x.fixtures.authorized.komoju.id }, { paymentId: x.fixtures.authorized.craftgate.id, idempotencyKey: "c-1" }], (x, input) => x.engine.payments.cancel(input as never))
      aimed(
        "payments.update",
        (x) => [
          { paymentId: x.fixtures.captured.komoju.id, description: "d", metadata: { a: "b" } },
          { paymentId: x.fixtures.captured.onekey.id, description: null },
        ],
        (x, input) => x.engine.payments.update(input as never),
      )
      aimed(
        "payments.list",
        () => [
          { provider: "komoju", status: "captured", currency: "JPY", startTime: "2020-01-01T00:00:00Z", endTime: "2099-01-01T00:00:00+09:00", page: 1, perPage: 10 },
          { externalOrderNum: "o-1", needsReview: false },
        ],
        (x, input) => x.engine.payments.list(input as never),
      )

      const idArg = (x: SecurityWorld): fc.Arbitrary<unknown> =>
        fc.oneof(
          { weight: 2, arbitrary: fc.constantFrom(x.fixtures.captured.komoju.id, x.fixtures.captured.craftgate.id, x.fixtures.captured.onekey.id, x.fixtures.paidKonbini.id, "pay_nope") },
          { weight: 5, arbitrary: hostileValue() },
          { weight: 1, arbitrary: fc.constantFrom(...NASTY_KEYS) },
          { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
        )
      for (const command of ["get", "history", "sync"] as const) {
        it(`payments.${command}`, async () => {
          await fuzz(w, idArg(w()), (x, id) => (x.engine.payments[command] as (id: unknown) => Promise<unknown>)(id), (id) => show(id))
        }, FUZZ_TEST_MS)
      }

      for (const provider of ["komoju", "craftgate", "onekey"] as const) {
        it(`webhooks.handle("${provider}")`, async () => {
          await fuzz(
            w,
            webhookCase(),
            (x, c) => {
              const { provider: p, request } = buildWebhook(x, provider, c)
              return x.engine.webhooks.handle(p as never, request as never)
            },
            (c) => `provider=${show(c.provider)} header=${c.headerMode}${c.headerMode === "hostile" ? `(${show(c.hostileHeader)})` : ""} body=${c.bodyMode}${c.bodyMode === "hostile" ? `(${show(c.hostileBody)})` : c.bodyMode === "junk" ? `(${show(c.junk)})` : ""}`,
          )
        }, FUZZ_TEST_MS)
      }
    })

    it("after the fuzz, the fixtures still read back and every error was typed (sanity)", async () => {
      const p = await w().engine.payments.get(w().fixtures.captured.komoju.id)
      expect(p.id).toBe(w().fixtures.captured.komoju.id)
      const e = await w().engine.payments.get("pay_nope").catch((x: unknown) => x)
      expect(isPaystateError(e, "PAYMENT_NOT_FOUND")).toBe(true)
    })
  })
}
