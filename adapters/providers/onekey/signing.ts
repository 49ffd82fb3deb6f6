/** OneKey request signing: `Authorization: D24 hex(HMAC-SHA256(secret, X-Date + X-Login + body))`. */
import { createHmac, timingSafeEqual } from "node:crypto"

/** The signature over the exact bytes sent (empty body for GET). */
export const signOnekey = (secretKey: string, date: string, login: string, body: string): string =>
  createHmac("sha256", secretKey).update(`${date}${login}${body}`, "utf8").digest("hex")

/** Compares two signatures in constant time. */
export const sameSignature = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * A OneKey notification as a host's route receives it, for tests. OneKey signs none (the body only
 * names a refund or deposit, which paystate then reads with the signed client), so this only frames it.
 */
export const signOnekeyWebhook = (body: { readonly refund_id: number | string } | { readonly deposit_id: number | string }): { headers: Record<string, string>; rawBody: string } => ({
  headers: { "content-type": "application/json" },
  rawBody: JSON.stringify(body),
})
