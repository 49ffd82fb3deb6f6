/**
 * Craftgate signatures (PROVIDERS.md, the official clients). Requests: `x-signature =
 * base64(SHA-256(decodedUrl + apiKey + secretKey + rndKey + body))`, a plain digest, the body left
 * out when there is none. Webhooks: base64(HMAC-SHA256(merchant hook key, eventType +
 * eventTimestamp + status + payloadId)), sent in `x-cg-signature-v1` (the header name is not
 * confirmed by a public source, so it is configurable).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"

/** The header a webhook signature arrives in unless configured otherwise. */
export const DEFAULT_WEBHOOK_SIGNATURE_HEADER = "x-cg-signature-v1"

/** The fields a webhook signature covers. */
export interface CraftgateWebhookFields {
  readonly eventType: string
  readonly eventTimestamp: number | string
  readonly status: string
  readonly payloadId: number | string
}

/** Decodes a URL as Craftgate's clients do before signing; a malformed escape is kept as is. */
const decoded = (url: string): string => {
  try {
    return decodeURIComponent(url)
  } catch {
    return url
  }
}

/** The request signature over the URL-decoded full URL (with its query) and the exact body ("" for none). */
export const signCraftgateRequest = (url: string, apiKey: string, secretKey: string, rndKey: string, body: string): string =>
  createHash("sha256").update(decoded(url) + apiKey + secretKey + rndKey + body, "utf8").digest("base64")

/** The four authentication headers of one Craftgate call; `x-auth-version` is "1" as the official clients send. */
export const craftgateHeaders = (url: string, body: string, credentials: { apiKey: string; secretKey: string }, rndKey = randomBytes(12).toString("base64url")): Record<string, string> => ({
  "x-api-key": credentials.apiKey,
  "x-rnd-key": rndKey,
  "x-auth-version": "1",
  "x-signature": signCraftgateRequest(url, credentials.apiKey, credentials.secretKey, rndKey, body),
  "Content-Type": "application/json",
})

/** The webhook signature. */
export const craftgateWebhookSignature = (hookKey: string, e: CraftgateWebhookFields): string =>
  createHmac("sha256", hookKey).update(`${e.eventType}${e.eventTimestamp}${e.status}${e.payloadId}`, "utf8").digest("base64")

/** Constant-time comparison of two signatures (a length check first, then timingSafeEqual). */
export const sameSignature = (a: string, b: string): boolean => {
  const x = Buffer.from(a, "utf8")
  const y = Buffer.from(b, "utf8")
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * Signs a test webhook as Craftgate does, for host tests: post `rawBody` with `headers` to your
 * webhook route (or pass both to `engine.webhooks.handle("craftgate", …)`).
 */
export const signCraftgateWebhook = (
  hookKey: string,
  event: CraftgateWebhookFields,
  options: { header?: string } = {},
): { headers: Record<string, string>; rawBody: string } => ({
  rawBody: JSON.stringify(event),
  headers: { "content-type": "application/json", [options.header ?? DEFAULT_WEBHOOK_SIGNATURE_HEADER]: craftgateWebhookSignature(hookKey, event) },
})
