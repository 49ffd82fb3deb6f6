/**
 * What every provider factory checks at construction, before an engine can write anything: each
 * credential is a non-empty string (or an effect `Redacted` holding one), each URL an http(s) URL.
 * A missing key otherwise builds an adapter whose every call the provider refuses, long after the
 * deploy went out; here it is a CONFIGURATION_INVALID thrown by `komoju(…)`, `craftgate(…)` or
 * `onekey(…)` at start. Errors name the field, never its value: a secret must not reach a log.
 */
import { Redacted } from "effect"
import { paystateError, type PaystateError } from "../../src/errors.js"

/** A credential as the factories take it: a string, or effect's `Redacted` (it stays redacted in logs and inspectors). */
export type Secret = string | Redacted.Redacted<string>

/** The string inside a secret, for the one place that signs or sends it. */
export const reveal = (secret: Secret): string => (Redacted.isRedacted(secret) ? (Redacted.value(secret) as string) : secret)

/** Why a configuration field was refused (in `details.reason`). */
export type ConfigurationIssue = "missing" | "empty" | "whitespace" | "not_a_string" | "not_a_url" | "not_http" | "invalid"

const invalid = (provider: string, field: string, reason: ConfigurationIssue, message: string): PaystateError =>
  paystateError("CONFIGURATION_INVALID", `${provider}(config): ${field} ${message}`, { provider, field, reason })

/** The options object itself: CONFIGURATION_INVALID when a factory is called without one. */
export const checkOptions = <T>(provider: string, options: T): T => {
  if (options === null || typeof options !== "object") throw invalid(provider, "options", "missing", "must be an object of options (credentials, URLs).")
  return options
}

/**
 * The secret's value, checked: CONFIGURATION_INVALID when it is absent (an unset environment
 * variable), empty, only whitespace or padded with it (a copy-paste slip that would answer 401), or
 * no string. `required: false` lets an absent one through as undefined.
 */
export function checkSecret(provider: string, field: string, value: unknown, required?: true): string
export function checkSecret(provider: string, field: string, value: unknown, required: false): string | undefined
export function checkSecret(provider: string, field: string, value: unknown, required = true): string | undefined {
  if (value === undefined || value === null) {
    if (!required) return undefined
    throw invalid(provider, field, "missing", "is missing (an unset environment variable?); pass the key from the provider's dashboard.")
  }
  const text = Redacted.isRedacted(value) ? Redacted.value(value) : value
  if (typeof text !== "string") throw invalid(provider, field, "not_a_string", "must be a string or a Redacted string.")
  if (text === "") throw invalid(provider, field, "empty", "is empty (an environment variable set to nothing?).")
  if (text.trim() === "") throw invalid(provider, field, "whitespace", "is only whitespace.")
  if (text.trim() !== text) throw invalid(provider, field, "whitespace", "starts or ends with whitespace (a copied newline?); the provider would refuse it.")
  return text
}

/**
 * A base URL, checked: an absolute http(s) URL, trailing slashes kept as given. CONFIGURATION_INVALID
 * otherwise; the value is left out of the error, since a URL may carry credentials.
 */
export function checkUrl(provider: string, field: string, value: unknown, required?: true): string
export function checkUrl(provider: string, field: string, value: unknown, required: false): string | undefined
export function checkUrl(provider: string, field: string, value: unknown, required = true): string | undefined {
  if (value === undefined || value === null) {
    if (!required) return undefined
    throw invalid(provider, field, "missing", "is missing: pass the provider's API root (or a sandbox's URL).")
  }
  if (typeof value !== "string") throw invalid(provider, field, "not_a_string", "must be a URL string.")
  if (value.trim() === "") throw invalid(provider, field, "empty", "is empty.")
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid(provider, field, "not_a_url", "is not an absolute URL (e.g. https://api.example.com).")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw invalid(provider, field, "not_http", `must be an http(s) URL, not ${url.protocol}.`)
  return value
}

/**
 * How long the adapter trusts the provider to hold an idempotency key (ms): the given value, checked
 * against the provider's own lifetime, or the default. A longer one would let the replay used as a
 * lookup run after the provider forgot the key, and so perform the operation a second time.
 */
export const checkKeyLifetime = (provider: string, value: unknown, max: number, fallback: number): number => {
  if (value === undefined) return fallback
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > max)
    throw invalid(provider, "idempotencyKeyLifetimeMs", "invalid", `must be a number of milliseconds above 0 and at most ${max} (${provider} keeps an idempotency key ${max / 3_600_000} h): a longer one would let a lookup by replay perform the operation again.`)
  return value
}
