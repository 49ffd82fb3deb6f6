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

/** A compiled lookup of a provider's fields (with the defaults). */
export interface Redactor {
  /** A copy of `value` fit for `exposure`; the input is never changed. */
  readonly redact: <T>(value: T, exposure: Exposure) => T
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
  const walk = (v: unknown, exposure: Exposure, depth: number): unknown => {
    if (v === null || typeof v !== "object") return v
    // Deeper than any real payload: nothing below is shown or kept as is.
    if (depth > 64) return "[paystate: nested too deep]"
    if (Array.isArray(v)) return v.map((x) => walk(x, exposure, depth + 1))
    // A provider key "__proto__" stays an ordinary key: never the copy's prototype.
    const out: Record<string, unknown> = Object.create(null)
    for (const [k, x] of Object.entries(v)) {
      const n = norm(k)
      if (secret.has(n)) continue
      if (x !== null && x !== undefined && typeof x !== "object") {
        if (masked.has(n) && exposure !== "store") {
          out[k] = maskValue(x)
          continue
        }
        if (personal.has(n) && exposure === "inspect") {
          out[k] = maskValue(x)
          continue
        }
      }
      out[k] = walk(x, exposure, depth + 1)
    }
    return out
  }
  return { redact: <T>(value: T, exposure: Exposure): T => walk(value, exposure, 0) as T }
}

/** Masks card-like digit runs (13–19 digits) in free text such as error messages and log lines. */
export const scrubText = (text: string): string => text.replace(/\b(?:\d[ -]?){12,18}\d\b/g, (m) => maskValue(m.replace(/[ -]/g, "")))
