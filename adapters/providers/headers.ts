/**
 * Reading webhook headers as hosts hand them over (Node's `IncomingHttpHeaders`, a plain object, a
 * framework's copy): names in any case, values a string, an array (a repeated header) or missing.
 */
import { paystateError, type PaystateError } from "../../src/errors.js"
import type { WebhookRequest } from "../../src/provider.js"

/**
 * The one value of a header, or undefined when it is absent. A repeated header (an array of more than
 * one value, or two spellings of the name) or a value that is not a string is refused: with
 * `[genuine, forged]` no value may silently win.
 */
export const singleHeader = (headers: WebhookRequest["headers"] | null | undefined, name: string): string | undefined => {
  if (headers === null || typeof headers !== "object") throw headerError(`Webhook headers must be an object of header names to strings.`)
  const wanted = name.toLowerCase()
  const values: unknown[] = []
  for (const k of Object.keys(headers)) if (k.toLowerCase() === wanted) values.push((headers as Record<string, unknown>)[k])
  const flat = values.flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v !== undefined)
  if (flat.length === 0) return undefined
  if (flat.length > 1) throw headerError(`The ${name} header was sent ${flat.length} times; exactly one is accepted.`)
  if (typeof flat[0] !== "string") throw headerError(`The ${name} header must be a string.`)
  return flat[0]
}

const headerError = (message: string): PaystateError => paystateError("WEBHOOK_REJECTED", message, { reason: "bad_header" })
