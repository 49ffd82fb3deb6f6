/**
 * KOMOJU webhook signatures (PROVIDERS.md): `X-Komoju-Signature` is the lowercase hex
 * HMAC-SHA256 of the raw body bytes under the webhook secret. Verification compares in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto"

/** The signature KOMOJU puts in `X-Komoju-Signature` for `rawBody`. */
export const komojuSignature = (secret: string, rawBody: string | Uint8Array): string =>
  createHmac("sha256", secret).update(typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : rawBody).digest("hex")

/** True when `given` is the signature of `rawBody`; constant time once the lengths match. */
export const verifyKomojuSignature = (secret: string, rawBody: string | Uint8Array, given: string | undefined): boolean => {
  if (!given) return false
  const expected = Buffer.from(komojuSignature(secret, rawBody), "utf8")
  const actual = Buffer.from(given.trim().toLowerCase(), "utf8")
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** A signed test webhook: the headers KOMOJU would send with `body`. */
export interface SignedKomojuWebhook {
  readonly headers: Record<string, string>
  readonly rawBody: string
}

/**
 * Signs a test webhook as KOMOJU does, for host tests: pass the event (or its exact JSON text) and
 * post `rawBody` with `headers` to your webhook route.
 */
export const signKomojuWebhook = (
  secret: string,
  event: { id: string; type: string } | string,
  options: { deliveryId?: string } = {},
): SignedKomojuWebhook => {
  const rawBody = typeof event === "string" ? event : JSON.stringify(event)
  const parsed = typeof event === "string" ? (JSON.parse(event) as { id?: string; type?: string }) : event
  return {
    rawBody,
    headers: {
      "content-type": "application/json",
      "x-komoju-id": options.deliveryId ?? String(parsed.id ?? ""),
      "x-komoju-event": String(parsed.type ?? ""),
      "x-komoju-signature": komojuSignature(secret, rawBody),
    },
  }
}
