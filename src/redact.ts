/**
 * The one redaction module. Every place that writes or shows payment data goes through it with the
 * provider's `SensitiveFields` (kept beside each provider's wire schemas) plus the defaults below:
 * - `secret` fields (card number, CVV, passwords) are removed from everything stored or shown; they
 *   only ever reach the provider call, in memory;
 * - `masked` fields (bank account numbers, holder names, documents) are stored where a retry needs
 *   them (the outbox payload, the payment snapshot) and masked in the journal, history, views, logs
 *   and inspector events (`••••4567`);
 * - `personal` fields (e-mail, phone) are masked in inspector events and logs.
 * Keys match case-insensitively, ignoring `_` and `-` (`cardNumber` = `card_number`).
 */
import { deepFreeze } from "./freeze.js"
import type { SensitiveFields } from "./provider.js"

/** Where a value is going, from the least to the most exposed. */
export type Exposure = "store" | "journal" | "view" | "inspect"

/** Fields every provider treats as sensitive, whatever its own list says. */
export const DEFAULT_SENSITIVE: SensitiveFields = {
  secret: ["cardNumber", "card_number", "pan", "cvv", "cvc", "cvv2", "cvc2", "securityCode", "verificationValue", "password", "passcode", "pin"],
  masked: ["accountNumber", "iban"],
  personal: ["email", "phone"],
}

const norm = (k: string): string => k.toLowerCase().replace(/[_-]/g, "")

/**
 * Sets a key on a plain copy. A provider key "__proto__" stays an ordinary own key, never the copy's
 * prototype; copies are ordinary objects, not null-prototype ones (which V8 keeps in its slow
 * dictionary mode: every later read, spread and freeze of a stored snapshot paid for it).
 */
const put = (o: Record<string, unknown>, k: string, x: unknown): void => {
  if (k === "__proto__") Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true })
  else o[k] = x
}

/** A compiled lookup of a provider's fields (with the defaults). */
export interface Redactor {
  /** A copy of `value` fit for `exposure`; the input is never changed. */
  readonly redact: <T>(value: T, exposure: Exposure) => T
  /**
   * The stored form of machine data: a copy as `JSON.parse(JSON.stringify(value))` would make it,
   * without secret fields. Parts this redactor already produced are shared, not copied again, so a
   * step that changes one refund of a payment with hundreds copies that refund, not the payment.
   * Engine data is immutable; a part is never changed after it was stored.
   */
  readonly storeCopy: <T>(value: T) => T
  /**
   * Takes a value read back from the store as stored form, so `storeCopy` shares it instead of copying
   * it: a step on a payment loaded with hundreds of refunds then copies only what it changes (and the
   * SQL stores write only that). Only JSON data with no secret key anywhere is taken; anything else
   * is copied (and cleaned) by the next `storeCopy`, as before.
   */
  readonly adopt: (value: unknown) => void
  /**
   * `redact` for a value that never changes (a refund's view): computed once per value and exposure,
   * the result deep-frozen so every caller can share it.
   */
  readonly redactOnce: <T extends object>(value: T, exposure: Exposure) => T
}



/** Masks a value, keeping its last four characters where it is long enough to stay unguessable. */
export const maskValue = (v: unknown): string => {
  const s = typeof v === "string" || typeof v === "number" ? String(v) : ""
  // Idempotent: masking a masked value gives the same text.
  const tail = s.length > 6 ? s.slice(-4) : ""
  return `••••${tail}`
}

/** Builds the redactor for one provider's fields. */
export const redactor = (fields?: SensitiveFields): Redactor => {
  const secret = new Set([...DEFAULT_SENSITIVE.secret, ...(fields?.secret ?? [])].map(norm))
  const masked = new Set([...DEFAULT_SENSITIVE.masked, ...(fields?.masked ?? [])].map(norm))
  const personal = new Set([...DEFAULT_SENSITIVE.personal, ...(fields?.personal ?? [])].map(norm))
  // Everything storeCopy produced: already in stored form (and frozen by the memory store, or never
  // changed by the engine), so handing it out again is the same as copying it.
  const stored = new WeakSet<object>()
  const normed = new Map<string, string>()
  // Keys repeat across payments and refunds: normalise each once (bounded: keys may come from providers).
  const normOf = (k: string): string => {
    let n = normed.get(k)
    if (n === undefined) {
      n = norm(k)
      if (normed.size < 10_000) normed.set(k, n)
    }
    return n
  }
  const isSecret = (k: string): boolean => secret.has(normOf(k))
  const walk = (v: unknown, exposure: Exposure, depth: number): unknown => {
    if (v === null || typeof v !== "object") return v
    // Deeper than any real payload: nothing below is shown or kept as is.
    if (depth > 64) return "[paystate: nested too deep]"
    if (Array.isArray(v)) return v.map((x) => walk(x, exposure, depth + 1))
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) {
      const n = normOf(k)
      if (secret.has(n)) continue
      if (x !== null && x !== undefined && typeof x !== "object") {
        if (masked.has(n) && exposure !== "store") {
          put(out, k, maskValue(x))
          continue
        }
        if (personal.has(n) && exposure === "inspect") {
          put(out, k, maskValue(x))
          continue
        }
      }
      put(out, k, walk(x, exposure, depth + 1))
    }
    return out
  }
  const once: Record<Exposure, WeakMap<object, object>> = { store: new WeakMap(), journal: new WeakMap(), view: new WeakMap(), inspect: new WeakMap() }
  const storeWalk = (v: unknown, depth: number, inArray: boolean): unknown => {
    if (v === undefined || typeof v === "function" || typeof v === "symbol") return inArray ? null : undefined
    if (typeof v === "number") return Number.isFinite(v) ? v : null
    if (v === null || typeof v !== "object") return v
    if (stored.has(v)) return v
    const json = (v as { toJSON?: unknown }).toJSON
    if (typeof json === "function") return storeWalk((json as () => unknown).call(v), depth, inArray)
    if (depth > 64) return "[paystate: nested too deep]"
    let out: unknown
    if (Array.isArray(v)) out = v.map((x) => storeWalk(x, depth + 1, true))
    else {
      const o: Record<string, unknown> = {}
      for (const k of Object.keys(v)) {
        if (isSecret(k)) continue
        const x = storeWalk((v as Record<string, unknown>)[k], depth + 1, false)
        if (x !== undefined) put(o, k, x)
      }
      out = o
    }
    stored.add(out as object)
    return out
  }
  // True when the whole value is stored form; marks every part that is, so a partly unclean value
  // still shares its clean parts.
  const adoptWalk = (v: unknown, depth: number): boolean => {
    if (v === null) return true
    if (typeof v === "number") return Number.isFinite(v)
    if (typeof v === "string" || typeof v === "boolean") return true
    if (typeof v !== "object" || depth > 64) return false
    if (stored.has(v)) return true
    const proto = Object.getPrototypeOf(v)
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false
    let clean = true
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (!adoptWalk(v[i], depth + 1)) clean = false
    } else {
      for (const k of Object.keys(v)) {
        if (isSecret(k)) clean = false
        else if (!adoptWalk((v as Record<string, unknown>)[k], depth + 1)) clean = false
      }
    }
    if (clean) stored.add(v)
    return clean
  }
  return {
    adopt: (value: unknown): void => {
      adoptWalk(value, 0)
    },
    redact: <T>(value: T, exposure: Exposure): T => (exposure === "store" && value !== null && typeof value === "object" && stored.has(value) ? value : (walk(value, exposure, 0) as T)),
    storeCopy: <T>(value: T): T => storeWalk(value, 0, false) as T,
    redactOnce: <T extends object>(value: T, exposure: Exposure): T => {
      const memo = once[exposure]
      let out = memo.get(value)
      if (out === undefined) memo.set(value, (out = deepFreeze(walk(value, exposure, 0)) as object))
      return out as T
    },
  }
}

/** Masks card-like digit runs (13–19 digits) in free text such as error messages and log lines. */
export const scrubText = (text: string): string => text.replace(/\b(?:\d[ -]?){12,18}\d\b/g, (m) => maskValue(m.replace(/[ -]/g, "")))
