/**
 * Hostile values for the fuzz: what a careless or malicious host, or a forged request, can hand the
 * engine. Scalars PostgreSQL refuses (NUL, lone surrogates, year 0000), values zod would accept but
 * JSON cannot carry (BigInt, Symbol, functions, class instances), shapes that blow a recursive walker
 * (100,000-deep objects, cycles), amounts at the edge of a double, objects that lie (getters, Proxies
 * whose traps throw) and the prototype-reaching keys.
 */
import fc from "fast-check"

const deepObject = (n: number, key: string) => {
  let v: Record<string, unknown> = { x: 1 }
  for (let i = 0; i < n; i++) v = { [key]: v }
  return v
}
const deepArray = (n: number) => {
  let v: unknown[] = []
  for (let i = 0; i < n; i++) v = [v]
  return v
}
const cyclic = () => {
  const a: Record<string, unknown> = { name: "loop" }
  a.self = a
  return a
}
class Money {
  constructor(readonly amount = 1000) {}
}

/** Built once: big values are expensive to make per run, and the engine must not mutate them anyway. */
const BIG = {
  deep100k: deepObject(100_000, "a"),
  deepArray100k: deepArray(100_000),
  deep40: deepObject(40, "type"),
  wide: Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`k${i}`, i])),
  longArray: Array.from({ length: 10_001 }, () => 0),
  longString: "x".repeat(300 * 1024),
}

/** Keys that reach prototypes or confuse lookups. */
export const NASTY_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "", "a\u0000b", "\uD800", "type", "amount", "payment_details", "x".repeat(300)] as const

/** Strings PostgreSQL, zod or a provider would trip over. */
export const NASTY_STRINGS = [
  "\u0000",
  "a\u0000b",
  "\uD800",
  "x\uDFFF",
  "\uDBFF\uDBFF",
  "0000-01-01T00:00:00Z",
  "10000-01-01T00:00:00Z",
  "2026-02-30T00:00:00Z",
  "1969-12-31T23:59:59Z",
  "-271821-04-20T00:00:00Z",
  "",
  " ",
  "__proto__",
  "constructor",
  "toString",
  "%zz",
  "%E0%A4%A",
  "../../etc/passwd",
  "'; drop table paystate_payments; --",
  "\\u0000",
  "9".repeat(400),
  "1e21",
  "NaN",
  "😀",
  "\r\nX-Injected: 1",
] as const

/** Numbers at the edges. */
export const NASTY_NUMBERS = [NaN, Infinity, -Infinity, -0, 0, -1, 0.5, 1e-7, 1e21, 1e308, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 10, 999_999_999_999_999, 1_000_000_000_000_000, Number.MIN_SAFE_INTEGER, 2 ** 31, 4_294_967_296] as const

/** Values that are not plain data, each with a name (made fresh per use: some are mutable). */
export const EXOTIC: readonly (readonly [string, () => unknown])[] = [
  ["a Symbol", () => Symbol("id")],
  ["Symbol.iterator", () => Symbol.iterator],
  ["a function", () => () => "pay_1"],
  ["a BigInt", () => 10n],
  ["a 2^64 BigInt", () => 2n ** 64n],
  ["a Date", () => new Date("2026-11-23T00:00:00Z")],
  ["an invalid Date", () => new Date(Number.NaN)],
  ["a Map", () => new Map([["a", 1]])],
  ["a Set", () => new Set([1])],
  ["a Uint8Array", () => new Uint8Array([0, 1, 2])],
  ["a Buffer", () => Buffer.from("pay_1")],
  ["a class instance", () => new Money()],
  ["a boxed String", () => new String("pay_1")],
  ["a boxed Number", () => new Number(5)],
  ["a RegExp", () => /pay_.*/],
  ["an Error", () => new Error("boom")],
  ["a Promise", () => Promise.resolve("pay_1")],
  ["a null-prototype object", () => Object.create(null)],
  ["an object with a getter", () => Object.defineProperty({}, "amount", { get: () => 1000, enumerable: true })],
  ["an object whose getter throws", () => Object.defineProperty({}, "type", { get: () => { throw new Error("getter boom") }, enumerable: true })],
  ["a Proxy whose traps throw", () => new Proxy({}, { ownKeys: () => { throw new Error("proxy boom") }, get: () => { throw new Error("proxy boom") } })],
  ["a Proxy whose getPrototypeOf throws", () => new Proxy({ type: "credit_card" }, { getPrototypeOf: () => { throw new Error("proxy boom") } })],
  ["an object whose toJSON throws", () => ({ toJSON: () => { throw new Error("toJSON boom") } })],
  ["an object with a Symbol key", () => ({ [Symbol("k")]: 1, a: 1 })],
  ["an own __proto__ key", () => JSON.parse('{"__proto__": {"polluted": true}}')],
  ["a cyclic object", () => cyclic()],
  ["a 100,000-deep object", () => BIG.deep100k],
  ["a 100,000-deep array", () => BIG.deepArray100k],
  ["a 40-deep object", () => BIG.deep40],
  ["an object with 12,000 keys", () => BIG.wide],
  ["an array of 10,001 items", () => BIG.longArray],
  ["a 300 KiB string", () => BIG.longString],
]

const exotic = (): fc.Arbitrary<unknown> => fc.constantFrom(...EXOTIC).map(([, make]) => make())

/** Every named hostile constant, for the deterministic sweep: scalars the stores trip over, then exotic values. */
export const SWEEP_SCALARS: readonly (readonly [string, () => unknown])[] = [
  ...NASTY_STRINGS.map((v) => [`string ${JSON.stringify(v.length > 24 ? `${v.slice(0, 24)}…` : v)}`, () => v] as const),
  ...NASTY_NUMBERS.map((v) => [`number ${Object.is(v, -0) ? "-0" : String(v)}`, () => v] as const),
  ["null", () => null],
  ["undefined", () => undefined],
  ["true", () => true],
  ["[]", () => []],
  ["{}", () => ({})],
]

/** A string with lone surrogates and NULs mixed in among ordinary characters. */
export const brokenString = (): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom("a", "Z", "0", " ", "\u0000", "\uD800", "\uDC00", "\uD83D", "\uDE00", "é", "日"), maxLength: 12 })

/** Any hostile value. */
export const hostileValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 2, arbitrary: brokenString() },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()) },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, false, [], {}) },
    { weight: 3, arbitrary: exotic() },
    {
      weight: 1,
      arbitrary: fc.anything({
        maxDepth: 2,
        maxKeys: 3,
        key: fc.oneof(fc.constantFrom(...NASTY_KEYS), fc.string({ maxLength: 6 })),
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withBoxedValues: true,
        withTypedArray: true,
        withSparseArray: true,
        stringUnit: "binary",
      }),
    },
  )

/** A key to put a hostile value under: a known field, a prototype-reaching key, or junk. */
export const hostileKey = (known: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known) }, { weight: 2, arbitrary: fc.constantFrom(...NASTY_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) })

/** One change to a valid input: a field replaced, a field added, a nested field set, or the whole input replaced. */
export type Mutation =
  | { readonly kind: "set"; readonly path: readonly string[]; readonly value: unknown }
  | { readonly kind: "delete"; readonly path: readonly string[] }
  | { readonly kind: "whole"; readonly value: unknown }

/** Paths of the plain objects inside a value (to aim nested mutations at). */
const objectPaths = (v: unknown, prefix: string[] = [], depth = 0): string[][] => {
  if (depth > 3 || v === null || typeof v !== "object") return []
  const out: string[][] = [prefix]
  for (const [k, x] of Object.entries(v)) out.push(...objectPaths(x, [...prefix, k], depth + 1))
  return out
}

/** Mutations of a valid base input: up to three changes, or a whole hostile value. */
export const mutations = (base: object): fc.Arbitrary<readonly Mutation[]> => {
  const paths = objectPaths(base)
  const fieldsAt = (p: readonly string[]): string[] => {
    let v: any = base
    for (const k of p) v = v?.[k]
    return v && typeof v === "object" ? Object.keys(v) : []
  }
  const one: fc.Arbitrary<Mutation> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .constantFrom(...paths)
        .chain((p) => fc.tuple(fc.constant(p), hostileKey(fieldsAt(p).length ? fieldsAt(p) : ["x"]), hostileValue()))
        .map(([p, k, value]): Mutation => ({ kind: "set", path: [...p, k], value })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...paths)
        .chain((p) => fc.tuple(fc.constant(p), fc.constantFrom(...(fieldsAt(p).length ? fieldsAt(p) : ["x"]))))
        .map(([p, k]): Mutation => ({ kind: "delete", path: [...p, k] })),
    },
    { weight: 1, arbitrary: hostileValue().map((value): Mutation => ({ kind: "whole", value })) },
  )
  return fc.array(one, { minLength: 1, maxLength: 3 })
}

/** Applies mutations to a copy of the base (own data properties, so "__proto__" is a key like any other). */
export const applyMutations = (base: object, ms: readonly Mutation[]): unknown => {
  let root: unknown = structuredClone(base)
  for (const m of ms) {
    if (m.kind === "whole") {
      root = m.value
      continue
    }
    if (root === null || typeof root !== "object") continue
    try {
      let node: any = root
      for (const k of m.path.slice(0, -1)) {
        const next = Object.prototype.hasOwnProperty.call(node, k) ? node[k] : undefined
        if (next === null || typeof next !== "object" || Object.isFrozen(next) || next instanceof Map || ArrayBuffer.isView(next)) {
          node = undefined
          break
        }
        node = next
      }
      if (!node || Object.isFrozen(node)) continue
      const last = m.path[m.path.length - 1]!
      if (m.kind === "delete") delete node[last]
      else Object.defineProperty(node, last, { value: m.value, enumerable: true, writable: true, configurable: true })
    } catch {
      // A hostile value put here earlier (a Proxy whose traps throw, a frozen object) refused the change: keep it.
    }
  }
  return root
}

/** A short, printable description of a value for failure reports (never throws). */
export const describe = (v: unknown, depth = 0): string => {
  try {
    if (typeof v === "symbol") return `Symbol(${v.description ?? ""})`
    if (typeof v === "bigint") return `${v}n`
    if (typeof v === "function") return "function"
    if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…(${v.length})` : v)
    if (v === null || typeof v !== "object") return String(v)
    if (depth > 2) return "{…}"
    if (Array.isArray(v)) return `[${v.slice(0, 3).map((x) => describe(x, depth + 1)).join(", ")}${v.length > 3 ? `, …(${v.length})` : ""}]`
    const proto = Object.getPrototypeOf(v)
    const name = proto === null ? "null-proto " : proto === Object.prototype ? "" : `${proto?.constructor?.name ?? "?"} `
    const keys = Reflect.ownKeys(v).slice(0, 6)
    return `${name}{${keys.map((k) => `${typeof k === "symbol" ? "[symbol]" : JSON.stringify(k)}: ${describe(Object.getOwnPropertyDescriptor(v, k)?.value, depth + 1)}`).join(", ")}}`
  } catch {
    return "<unreadable>"
  }
}
