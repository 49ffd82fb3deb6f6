/**
 * Craftgate signatures. Requests: `x-signature = base64(SHA-256(decodedUrl + apiKey + secretKey +
 * rndKey + body))`, a plain digest. Webhooks: `x-cg-signature-v1 = base64(HMAC-SHA256(hookKey,
 * eventType + eventTimestamp + status + payloadId))`.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto"

/** The request signature over the URL-decoded full URL and the exact body sent ("" for GET). */
export const signCraftgateRequest = (url: string, apiKey: string, secretKey: string, rndKey: string, body: string): string =>
  createHash("sha256").update(decodeURIComponent(url) + apiKey + secretKey + rndKey + body, "utf8").digest("base64")

/** The webhook signature. */
export const signCraftgateWebhook = (hookKey: string, e: { eventType: string; eventTimestamp: number | string; status: string; payloadId: number | string }): string =>
  createHmac("sha256", hookKey).update(`${e.eventType}${e.eventTimestamp}${e.status}${e.payloadId}`, "utf8").digest("base64")

/** Constant-time comparison of two signatures. */
export const sameSignature = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
