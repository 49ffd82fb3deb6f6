/**
 * The one mapping every framework receiver shares: hand the raw body and headers to
 * `engine.webhooks.handle`, and turn what happened into the HTTP answer a provider expects.
 *
 * KOMOJU retries any non-2xx delivery, OneKey retries a notification until it gets a 200 (5, 25, 125,
 * 625 minutes) and Craftgate retries failed deliveries too. So: 200 whenever the delivery needs no
 * retry (processed, a duplicate, or about nothing paystate knows), 400 when it is refused (bad
 * signature, not the provider's shape: a retry of the same bytes cannot succeed), and 5xx when paystate
 * could not apply it (store down, a lookup the webhook needs failed) so the provider sends it again.
 */
import { isPaystateError } from "../errors.js"
import type { WebhookOutcome } from "../types.js"

/** Header values as Node and most frameworks hand them over. */
export type WebhookHeaders = Record<string, string | readonly string[] | undefined>

/** The part of the engine a receiver needs (an `Engine`, or anything with the same `webhooks.handle`). */
export interface WebhookEngine {
  readonly webhooks: {
    handle(provider: string, request: { headers: WebhookHeaders; rawBody: string | Uint8Array }): Promise<WebhookOutcome>
  }
}

/** Options every receiver takes. */
export interface WebhookReceiverOptions {
  /**
   * The provider this route serves. Omitted: taken from the route's `:provider` parameter (or, for
   * node:http, the last path segment), so one route `/webhooks/:provider` serves every provider.
   */
  readonly provider?: string
  /**
   * Called with every delivery that was not answered 200 (the error and the status sent), so the host
   * can log it. Default: `console.warn` for 5xx answers; refused deliveries (4xx) are not logged.
   */
  readonly onError?: (error: unknown, info: { readonly provider: string; readonly status: number }) => void
  /** Called with every delivery answered 200 (processed, duplicate or ignored). */
  readonly onOutcome?: (outcome: WebhookOutcome, info: { readonly provider: string }) => void
}

/** A framework-neutral HTTP answer. */
export interface WebhookResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** JSON text: the outcome on 200, `{ "error": CODE, "message"? }` otherwise. */
  readonly body: string
}

const json = (status: number, value: unknown): WebhookResponse => ({ status, headers: { "content-type": "application/json; charset=utf-8" }, body: JSON.stringify(value) })

/**
 * The status a failure is answered with: 400 for a refused delivery, 404 for a provider the engine
 * does not have (a mistyped URL: retrying it cannot help, but it must not look processed), 503 for a
 * closed engine or a retryable failure, 500 for anything else. Everything but 200 makes the provider
 * send the delivery again, which is what a failure to apply it needs.
 */
export const statusForError = (error: unknown): number => {
  if (isPaystateError(error, "WEBHOOK_REJECTED") || isPaystateError(error, "INVALID_INPUT")) return 400
  if (isPaystateError(error, "UNKNOWN_PROVIDER")) return 404
  if (isPaystateError(error, "ENGINE_CLOSED")) return 503
  if (isPaystateError(error) && error.retryable) return 503
  return 500
}

const defaultOnError: NonNullable<WebhookReceiverOptions["onError"]> = (error, { provider, status }) => {
  if (status < 500) return
  console.warn(`[paystate/http] ${provider} webhook answered ${status}:`, isPaystateError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : error)
}

/** Raised by a receiver whose framework handed it parsed JSON instead of the raw bytes. */
export class RawBodyMissing extends Error {
  constructor(hint: string) {
    super(`paystate/http: the webhook route received a parsed body, not the raw bytes the signature covers. ${hint}`)
    this.name = "RawBodyMissing"
  }
}

/**
 * Hands one delivery to the engine and returns the answer to send. Never throws: every failure is an
 * answer (and a call to `onError`).
 */
export const handleWebhookRequest = async (
  engine: WebhookEngine,
  provider: string | undefined,
  request: { readonly headers: WebhookHeaders; readonly rawBody: string | Uint8Array | RawBodyMissing },
  options: WebhookReceiverOptions = {},
): Promise<WebhookResponse> => {
  const onError = options.onError ?? defaultOnError
  const name = provider ?? ""
  if (!name) {
    onError(new Error("paystate/http: no provider: pass { provider } or mount the receiver on a route with a :provider parameter."), { provider: name, status: 404 })
    return json(404, { error: "UNKNOWN_PROVIDER" })
  }
  if (request.rawBody instanceof RawBodyMissing) {
    // A host configuration error, not the provider's: 500 so the delivery is retried once it is fixed.
    onError(request.rawBody, { provider: name, status: 500 })
    return json(500, { error: "RAW_BODY_MISSING" })
  }
  try {
    const outcome = await engine.webhooks.handle(name, { headers: request.headers, rawBody: request.rawBody })
    options.onOutcome?.(outcome, { provider: name })
    return json(200, outcome)
  } catch (error) {
    const status = statusForError(error)
    onError(error, { provider: name, status })
    // A refusal says why (the sender may be a developer testing a signature); a failure says only its
    // code: the caller is the internet, and a store or provider message is none of its business.
    const code = isPaystateError(error) ? error.code : "INTERNAL"
    return json(status, status < 500 && isPaystateError(error) ? { error: code, message: error.message } : { error: code })
  }
}
