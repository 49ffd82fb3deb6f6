/**
 * zod schemas of the commands' common fields, and the storability checks every command input and
 * every provider answer goes through. Provider fields are validated by the provider's own schemas;
 * all of it runs before anything is loaded or written, so bad input never reaches the store.
 *
 * Why a separate storability check: zod accepts strings and objects that the stores cannot keep
 * (PostgreSQL refuses NUL in text and jsonb, and lone UTF-16 surrogates in jsonb) or that blow the
 * call stack of a recursive walker (JSON.stringify, structuredClone, the redactor). Such input must
 * end as INVALID_INPUT before the first write, never as a raw database error or a RangeError.
 */
import { types } from "node:util"
import { z } from "zod"
import { isPaystateError, paystateError, type PaystateError } from "./errors.js"
import { isKnownCurrency } from "./money.js"

// ---------------------------------------------------------------------------------------------
// Storability

/** Limits of a host input `assertStorable` accepts. */
export const STORABLE_LIMITS = Object.freeze({
  /** Nesting depth of objects and arrays (the top-level value is depth 0). */
  maxDepth: 32,
  /** Objects, arrays and scalars counted together. */
  maxNodes: 10_000,
  /** UTF-16 code units of every string and every key, added up (256 KiB). */
  maxStringChars: 256 * 1024,
})

/** Options of `assertStorable`. */
export interface StorableOptions {
  /** Accept `Date` instances (only where a schema turns them into ISO strings). Default false. */
  readonly allowDates?: boolean
}

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSTORABLE_CHAR = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const UNSTORABLE_CHARS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** True when PostgreSQL can store the string in text and jsonb columns (no NUL, no lone surrogate). */
export const isStorableString = (s: string): boolean => !UNSTORABLE_CHAR.test(s)

const describeChar = (s: string): string => (s.includes("\u0000") ? "a NUL character (U+0000)" : "a lone UTF-16 surrogate (not valid Unicode)")

/** A zod issue of our own, in the shape `invalidInput` and hosts already read. */
interface Issue {
  readonly code: "custom"
  readonly path: (string | number)[]
  readonly message: string
}

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/**
 * Throws INVALID_INPUT (a PaystateError whose `details` lists the issues) when a host input cannot
 * be stored safely: nested deeper than 32, more than 10,000 nodes or 256 KiB of string data, a
 * string or key with a NUL or a lone surrogate, a Symbol, function, BigInt or class instance (a
 * `Date` only with `allowDates`), a Proxy, a non-finite number, an accessor property, a `__proto__`
 * key. The walk is iterative, so a 100,000-deep object is refused without a RangeError.
 */
export const assertStorable = (value: unknown, what: string, options: StorableOptions = {}): void => {
  let issues: Issue[]
  try {
    issues = storableIssues(value, options)
  } catch (e) {
    // A Proxy trap or an exotic object threw while being read: it is not data we can keep.
    issues = [{ code: "custom", path: [], message: `cannot be read as plain data (${e instanceof Error ? e.name : typeof e})` }]
  }
  if (issues.length === 0) return
  throw paystateError(
    "INVALID_INPUT",
    `Invalid ${what}: ${issues.map((i) => `${i.path.length ? i.path.join(".") : "(input)"}: ${i.message}`).join("; ")}`,
    issues,
  )
}

const MAX_ISSUES = 5

// Keys in an error are the host's own text: shortened and made storable, so the error can be logged.
const shortKey = (k: string | number): string | number => (typeof k === "number" ? k : toStorableString(k.length > 64 ? `${k.slice(0, 61)}...` : k))

const storableIssues = (root: unknown, options: StorableOptions): Issue[] => {
  const { maxDepth, maxNodes, maxStringChars } = STORABLE_LIMITS
  const issues: Issue[] = []
  let nodes = 0
  let chars = 0
  // Paths are kept as parent links, so a wide input does not copy a path per node.
  interface Frame {
    readonly value: unknown
    readonly depth: number
    readonly parent: Frame | undefined
    readonly key: string | number | undefined
  }
  const pathOf = (f: Frame | undefined): (string | number)[] => {
    const out: (string | number)[] = []
    for (let x = f; x && x.key !== undefined; x = x.parent) out.push(x.key)
    return out.reverse()
  }
  const add = (f: Frame | undefined, message: string, extraKey?: string | number) => {
    const path = pathOf(f)
    if (extraKey !== undefined) path.push(extraKey)
    issues.push({ code: "custom", path: path.map(shortKey), message })
  }
  const checkString = (s: string, f: Frame | undefined, asKey: string | undefined): boolean => {
    chars += s.length
    if (chars > maxStringChars) {
      add(f, `more than ${maxStringChars} characters of text in all`, asKey === undefined ? undefined : "(key)")
      return false
    }
    if (!isStorableString(s)) add(f, `${asKey !== undefined ? "a key" : "the text"} contains ${describeChar(s)}, which cannot be stored`, asKey === undefined ? undefined : "(key)")
    return true
  }

  const stack: Frame[] = [{ value: root, depth: 0, parent: undefined, key: undefined }]
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const f = stack.pop()!
    const v = f.value
    if (++nodes > maxNodes) {
      add(undefined, `more than ${maxNodes} values in all`)
      break
    }
    switch (typeof v) {
      case "undefined":
      case "boolean":
        continue
      case "number":
        if (!Number.isFinite(v)) add(f, `${v} is not a finite number`)
        continue
      case "string":
        if (!checkString(v, f, undefined)) return issues
        continue
      case "bigint":
        add(f, "a BigInt is not accepted; use a number or a decimal string")
        continue
      case "symbol":
        add(f, "a Symbol is not accepted")
        continue
      case "function":
        add(f, "a function is not accepted")
        continue
    }
    if (v === null) continue
    const o = v as object
    if (types.isProxy(o)) {
      // A Proxy can answer validation one thing and the store another: only plain data is kept.
      add(f, "a Proxy is not accepted; pass plain JSON data")
      continue
    }
    if (o instanceof Date) {
      if (!options.allowDates) add(f, "a Date is not accepted here; pass an ISO-8601 string")
      else if (Number.isNaN(o.getTime())) add(f, "an invalid Date")
      continue
    }
    const isArray = Array.isArray(o)
    if (!isArray && !isPlainObject(o)) {
      add(f, `a ${o.constructor?.name ?? "non-plain"} object is not accepted; pass plain JSON data`)
      continue
    }
    if (f.depth > maxDepth) {
      add(f, `nested deeper than ${maxDepth} levels`)
      continue
    }
    if (Object.getOwnPropertySymbols(o).length > 0) {
      add(f, "an object with Symbol keys is not accepted")
      continue
    }
    if (isArray) {
      const a = o as unknown[]
      // A sparse array can claim a billion slots: refuse it before walking them.
      if (nodes + a.length > maxNodes) {
        add(f, `more than ${maxNodes} values in all`)
        break
      }
      for (let i = a.length - 1; i >= 0; i--) stack.push({ value: a[i], depth: f.depth + 1, parent: f, key: i })
      continue
    }
    const keys = Object.keys(o)
    if (nodes + keys.length > maxNodes) {
      add(f, `more than ${maxNodes} values in all`)
      break
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!
      if (!checkString(k, f, k)) return issues
      if (k === "__proto__") {
        // Spread and assignment treat this key differently, so it could vanish or change a prototype.
        add(f, 'the key "__proto__" is not accepted', k)
        continue
      }
      const d = Object.getOwnPropertyDescriptor(o, k)
      if (d && !("value" in d)) {
        // A getter could answer one thing to validation and another to the store.
        add(f, "an accessor property (getter/setter) is not accepted", k)
        continue
      }
      stack.push({ value: d?.value, depth: f.depth + 1, parent: f, key: k })
    }
  }
  return issues
}

/** How deep `toStorable` copies provider data before it replaces the rest with a marker. */
export const PROVIDER_DATA_MAX_DEPTH = 64

/** What replaces a provider subtree nested deeper than `PROVIDER_DATA_MAX_DEPTH`. */
export const TOO_DEEP_MARKER = "[paystate: nested too deep to store]"

/** Replaces NUL and lone surrogates with U+FFFD, so PostgreSQL accepts the text. */
export const toStorableString = (s: string): string => (isStorableString(s) ? s : s.replace(UNSTORABLE_CHARS, "\uFFFD"))

/**
 * A copy of PROVIDER data that every store can keep. Provider data is never refused (money truth
 * must be applied): NUL and lone surrogates in strings and keys become U+FFFD, non-finite numbers
 * become null (as JSON would), subtrees deeper than 64 levels become `TOO_DEEP_MARKER`, and a
 * `__proto__` key stays an ordinary own key. Dates and other class instances are kept as they are.
 * Iterative, so a deep answer cannot overflow the stack. Values that need no change are shared.
 */
export const toStorable = <T>(value: T): T => {
  if (typeof value === "string") return toStorableString(value) as T
  if (value === null || typeof value !== "object") return (typeof value === "number" && !Number.isFinite(value) ? null : value) as T
  interface Job {
    readonly src: object
    readonly dst: Record<string, unknown> | unknown[]
    readonly depth: number
  }
  const containerFor = (src: object): Record<string, unknown> | unknown[] => (Array.isArray(src) ? new Array<unknown>(src.length) : {})
  const rootOut = containerFor(value as object)
  const jobs: Job[] = [{ src: value as object, dst: rootOut, depth: 0 }]
  const leaf = (v: unknown, depth: number): { out: unknown; job?: Job } => {
    if (typeof v === "string") return { out: toStorableString(v) }
    if (typeof v === "number") return { out: Number.isFinite(v) ? v : null }
    if (v === null || typeof v !== "object") return { out: v }
    if (!Array.isArray(v) && !isPlainObject(v)) return { out: v }
    if (depth > PROVIDER_DATA_MAX_DEPTH) return { out: TOO_DEEP_MARKER }
    const dst = containerFor(v)
    return { out: dst, job: { src: v, dst, depth } }
  }
  while (jobs.length > 0) {
    const { src, dst, depth } = jobs.pop()!
    if (Array.isArray(src)) {
      const out = dst as unknown[]
      for (let i = 0; i < src.length; i++) {
        const r = leaf(src[i], depth + 1)
        out[i] = r.out
        if (r.job) jobs.push(r.job)
      }
      continue
    }
    const out = dst as Record<string, unknown>
    for (const k of Object.keys(src)) {
      const r = leaf((src as Record<string, unknown>)[k], depth + 1)
      // defineProperty keeps "__proto__" an own data key instead of calling the prototype setter.
      Object.defineProperty(out, toStorableString(k), { value: r.out, enumerable: true, writable: true, configurable: true })
      if (r.job) jobs.push(r.job)
    }
  }
  return rootOut as T
}

// ---------------------------------------------------------------------------------------------
// Field schemas

/**
 * The largest amount in minor units paystate accepts: 10^15 − 1. Any integer with at most 15
 * significant digits survives the trip to a JSON number in major units and back exactly (a double
 * holds 15 decimal digits for certain), whatever the currency's exponent.
 */
export const MAX_WIRE_MINOR = 999_999_999_999_999

const wireMessage = `amount must be at most ${MAX_WIRE_MINOR} minor units: larger amounts cannot be sent exactly as a JSON number in major units`

/** An integer amount of minor units that can be sent exactly on every provider's wire. */
export const minorAmountSchema = z
  .number({ error: "amount must be a number of minor units" })
  .int("amount must be an integer number of minor units (JPY has none, USD cents)")
  .max(MAX_WIRE_MINOR, wireMessage)
  .min(-MAX_WIRE_MINOR, wireMessage)

/** A string PostgreSQL can store: no NUL, no lone surrogate. */
export const storableString = (field = "text") =>
  z.string().refine(isStorableString, { message: `${field} must not contain a NUL character or a lone UTF-16 surrogate` })

/** A currency paystate knows, upper-case ISO 4217. */
export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, "currency must be a 3-letter upper-case ISO 4217 code")
  .refine(isKnownCurrency, { message: "currency is not an ISO 4217 code paystate knows" })

/** A paystate payment id: 1–200 printable ASCII characters without spaces (the engine makes `pay_…`). */
export const paymentIdSchema = z
  .string({ error: "paymentId must be a string" })
  .min(1, "paymentId is required")
  .max(200, "paymentId is at most 200 characters")
  .regex(/^[\x21-\x7E]+$/, "paymentId is printable ASCII without spaces")

/** A host's idempotency key: 1–200 printable ASCII characters (spaces allowed inside). */
export const idempotencyKeySchema = z
  .string({ error: "idempotencyKey must be a string" })
  .min(1, "idempotencyKey must not be empty")
  .max(200, "idempotencyKey is at most 200 characters")
  .regex(/^[\x20-\x7E]+$/, "idempotencyKey is printable ASCII")

/** A provider name as configured in `createEngine({ providers })`: a simple identifier. */
export const providerNameSchema = z
  .string({ error: "provider must be a string" })
  .min(1, "provider is required")
  .max(64, "provider is at most 64 characters")
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "provider is a simple name (a letter, then letters, digits, _ or -)")

/**
 * The value of an own property, never one inherited from Object.prototype: `providers["toString"]`
 * must be "not configured", not a function.
 */
export const ownValue = <V>(record: Readonly<Record<string, V>>, key: unknown): V | undefined =>
  typeof key === "string" && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined

const idempotencyKey = idempotencyKeySchema.optional()
const metadata = z.record(storableString("a metadata key").max(200), storableString("a metadata value").max(2000))
const description = storableString("description").max(1000).nullable().optional()

/** Common fields of `payments.create`; provider fields pass through to the provider schema. */
export const createCommonSchema = z.looseObject({
  provider: providerNameSchema,
  amount: minorAmountSchema.nonnegative("amount must not be negative"),
  currency: currencySchema,
  description,
  metadata: metadata.optional(),
  externalOrderNum: storableString("externalOrderNum").max(255).nullable().optional(),
  idempotencyKey,
})

/** `payments.refund` / `payments.refundRequest` common fields. */
export const refundCommonSchema = z.looseObject({
  paymentId: paymentIdSchema,
  amount: minorAmountSchema.positive("a refund amount must be positive").optional(),
  description,
  idempotencyKey,
})

/** `payments.capture`. */
export const captureSchema = z.strictObject({ paymentId: paymentIdSchema, amount: minorAmountSchema.positive("a capture amount must be positive").optional(), idempotencyKey })
/** `payments.cancel`. */
export const cancelSchema = z.strictObject({ paymentId: paymentIdSchema, idempotencyKey })
/** `payments.update`: only description and metadata can change. */
export const updateSchema = z
  .strictObject({ paymentId: paymentIdSchema, description, metadata: metadata.optional(), idempotencyKey })
  .refine((u) => u.description !== undefined || u.metadata !== undefined, { message: "update needs a description or metadata" })

/** The earliest and latest instants a list filter may name (PostgreSQL's range is wider; this is sane). */
export const LIST_TIME_RANGE = Object.freeze({ min: "1970-01-01T00:00:00.000Z", max: "9999-12-31T23:59:59.999Z" })

const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/

/** True when an ISO-8601 date-time names a real instant between 1970 and 9999. */
const saneInstant = (s: string): boolean => {
  const m = ISO_PARTS.exec(s)
  if (!m) return false
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number]
  if (year < 1970 || year > 9999 || month < 1 || month > 12 || hour > 23 || minute > 59) return false
  // The calendar day must exist (no 2026-02-30): Date.UTC rolls an impossible day over.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return false
  const t = Date.parse(s)
  return Number.isFinite(t) && t >= Date.parse(LIST_TIME_RANGE.min) - 14 * 3600_000 && t <= Date.parse(LIST_TIME_RANGE.max) + 14 * 3600_000
}

const listTime = (field: string) =>
  z.iso
    .datetime({ offset: true, error: `${field} must be an ISO-8601 date-time, e.g. 2026-11-23T03:00:00Z` })
    .refine(saneInstant, { message: `${field} must be a real date between 1970 and 9999` })

/** `payments.history` paging: entries after `afterVersion`, at most `limit`. */
export const historyPageSchema = z
  .strictObject({
    afterVersion: z.number().int().nonnegative().optional(),
    limit: z.number().int().positive().max(10_000).optional(),
  })
  .optional()

/** `payments.list` filters. */
export const listSchema = z
  .strictObject({
    provider: providerNameSchema.optional(),
    status: z.enum(["pending", "authorized", "captured", "refunded", "cancelled", "expired", "failed"]).optional(),
    currency: currencySchema.optional(),
    externalOrderNum: storableString("externalOrderNum").max(255).optional(),
    startTime: listTime("startTime").optional(),
    endTime: listTime("endTime").optional(),
    needsReview: z.boolean().optional(),
    page: z.number().int().positive().max(1_000_000).optional(),
    perPage: z.number().int().positive().max(1000).optional(),
    /** Keyset pagination: the `nextCursor` of the previous page (same filters); `page` is then not used. */
    after: z.string().min(1).max(512).optional(),
  })
  .refine((q) => q.startTime === undefined || q.endTime === undefined || Date.parse(q.startTime) <= Date.parse(q.endTime), {
    message: "startTime must not be after endTime",
    path: ["startTime"],
  })
  .optional()

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Parses with a schema, raising INVALID_INPUT with the zod issues on failure. A value that throws
 * while zod reads it (a Proxy trap, a getter) is INVALID_INPUT too, never the raw error.
 */
export const parseOrThrow = <T>(schema: z.ZodType<T>, value: unknown, what: string): T => {
  let r: ReturnType<z.ZodType<T>["safeParse"]>
  try {
    r = schema.safeParse(value)
  } catch (e) {
    throw paystateError("INVALID_INPUT", `Invalid ${what}: (input): cannot be read as plain data (${e instanceof Error ? e.name : typeof e})`, [
      { code: "custom", path: [], message: "cannot be read as plain data" },
    ])
  }
  if (!r.success) throw invalidInput(what, r.error)
  return r.data
}

// ---------------------------------------------------------------------------------------------
// Webhook requests

/** The largest webhook body paystate reads (1 MiB); provider webhooks are a few KiB at most. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024

const webhookRejected = (message: string, reason: string): PaystateError => paystateError("WEBHOOK_REJECTED", message, { reason })

/**
 * A safe copy of the request a host hands to `webhooks.handle`, taken before anything reads it:
 * - `headers` a plain object (Node's `IncomingHttpHeaders`, a null-prototype object) or a Fetch
 *   `Headers`; every value a string or an array of strings (Node's shape for a repeated header,
 *   kept as an array so the provider's `singleHeader` refuses it); names as given;
 * - `rawBody` a string or bytes (copied, so nothing can change them between check and use), at most
 *   `maxBytes` (default `MAX_WEBHOOK_BYTES`, the engine's `maxWebhookBytes`).
 * Anything else (a missing request, a Map, a number, a getter or Proxy that throws, parsed JSON as
 * the body) is WEBHOOK_REJECTED. The copy has a null prototype, so a header named `constructor`
 * or `__proto__` is only a header.
 */
export const snapshotWebhookRequest = (request: unknown, maxBytes: number = MAX_WEBHOOK_BYTES): { headers: Record<string, string | string[]>; rawBody: string | Uint8Array } => {
  try {
    if (request === null || typeof request !== "object") throw webhookRejected("Pass the webhook as { headers, rawBody }.", "bad_request")
    if (types.isProxy(request)) throw webhookRejected("Pass the webhook as a plain { headers, rawBody } object, not a Proxy.", "bad_request")
    const { headers, rawBody } = request as { headers?: unknown; rawBody?: unknown }
    if (types.isProxy(headers) || types.isProxy(rawBody)) throw webhookRejected("Pass the webhook's headers and raw body as plain values, not Proxies.", "bad_request")
    let body: string | Uint8Array
    const tooLarge = () => webhookRejected(`The webhook body is larger than ${maxBytes} bytes.`, "too_large")
    if (typeof rawBody === "string") {
      if (rawBody.length > maxBytes || Buffer.byteLength(rawBody, "utf8") > maxBytes) throw tooLarge()
      body = rawBody
    } else if (rawBody instanceof Uint8Array) {
      if (rawBody.byteLength > maxBytes) throw tooLarge()
      body = Buffer.from(rawBody)
    } else {
      throw webhookRejected("Pass the raw request body (string or bytes), not parsed JSON: signatures are computed over the exact bytes received.", "bad_body")
    }
    const out: Record<string, string | string[]> = Object.create(null)
    const put = (name: unknown, value: unknown) => {
      if (typeof name !== "string") throw webhookRejected("Webhook header names must be strings.", "bad_header")
      if (value === undefined) return
      if (typeof value === "string") out[name] = value
      else if (Array.isArray(value) && value.every((v) => typeof v === "string")) out[name] = [...(value as string[])]
      else throw webhookRejected(`The ${name.slice(0, 64)} header must be a string (or an array of strings for a repeated header).`, "bad_header")
    }
    if (typeof Headers !== "undefined" && headers instanceof Headers) {
      for (const [k, v] of headers.entries()) put(k, v)
    } else if (headers !== null && typeof headers === "object" && !Array.isArray(headers) && isPlainObject(headers)) {
      if (Object.getOwnPropertySymbols(headers).length > 0) throw webhookRejected("Webhook headers must be an object of header names to strings.", "bad_header")
      for (const k of Object.keys(headers)) {
        const d = Object.getOwnPropertyDescriptor(headers, k)
        if (d && !("value" in d)) throw webhookRejected("Webhook headers must be plain data (no getters).", "bad_header")
        put(k, d?.value)
      }
    } else {
      throw webhookRejected("Webhook headers must be an object of header names to strings (Node's req.headers) or a Fetch Headers.", "bad_header")
    }
    return { headers: out, rawBody: body }
  } catch (e) {
    if (isPaystateError(e)) throw e
    throw webhookRejected(`The webhook request cannot be read (${e instanceof Error ? e.name : typeof e}).`, "bad_request")
  }
}

/** The INVALID_INPUT error for a zod failure, with a message that names every bad field. */
export const invalidInput = (what: string, error: z.ZodError): PaystateError =>
  paystateError(
    "INVALID_INPUT",
    `Invalid ${what}: ${error.issues.map((i) => `${i.path.length ? i.path.map(String).join(".") : "(input)"}: ${i.message}`).join("; ")}`,
    error.issues,
  )
