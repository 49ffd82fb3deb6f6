/**
 * The one HTTP pipeline every provider client uses: Effect's HttpClient (fetch transport), a timeout
 * per attempt, and a bounded, jittered exponential retry that runs only when the caller says a
 * retry is safe (a GET, or a POST carrying an idempotency key) and only on transient answers.
 */
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { paystateError, type PaystateError } from "../../src/errors.js"

/**
 * Serialises a request body canonically: object keys sorted at every depth, `undefined` dropped. A
 * body rebuilt from a stored payload (whose key order a `jsonb` column does not keep) is then byte
 * for byte the first attempt's, so a provider's idempotency check sees the same request on a retry.
 */
export const canonicalJson = (value: unknown): string => JSON.stringify(sortKeys(value))

const sortKeys = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v !== null && typeof v === "object" && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k]
      if (x !== undefined) out[k] = sortKeys(x)
    }
    return out
  }
  return v
}

/** A provider's answer, before the client maps it to a typed result or error. */
export interface HttpReply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  /** The parsed JSON body, or undefined when it is not JSON. */
  readonly json: unknown
}

/** One request. The body is the exact string that is signed and sent. */
export interface HttpCall {
  readonly method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE"
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
  /** Per-attempt timeout. */
  readonly timeoutMs: number
  /** Extra attempts after the first, for transient failures; 0 where a retry is not safe. */
  readonly retries: number
  /** First backoff delay; doubles per attempt, with jitter. */
  readonly backoffMs?: number
  /** Which answers are transient (5xx, and 409 for KOMOJU); timeouts and transport errors always are. */
  readonly transient: (status: number) => boolean
}

/** Performs a provider call through Effect's HttpClient. */
export class ProviderHttp extends Context.Service<
  ProviderHttp,
  { readonly call: (call: HttpCall) => Effect.Effect<HttpReply, PaystateError> }
>()("paystate/providers/ProviderHttp") {}

class Transient {
  readonly _tag = "Transient"
  constructor(readonly reason: string, readonly reply?: HttpReply) {}
}

const attempt = (client: HttpClient.HttpClient, call: HttpCall): Effect.Effect<HttpReply, Transient> => {
  let request = HttpClientRequest.make(call.method)(call.url).pipe(HttpClientRequest.setHeaders(call.headers))
  if (call.body !== undefined) {
    request = HttpClientRequest.bodyText(request, call.body, call.headers["Content-Type"] ?? call.headers["content-type"] ?? "application/json")
  }
  return client.execute(request).pipe(
    Effect.flatMap((res) =>
      res.text.pipe(
        Effect.map((text): HttpReply => {
          let json: unknown
          try {
            json = text === "" ? undefined : JSON.parse(text)
          } catch {
            json = undefined
          }
          const headers: Record<string, string> = {}
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers[k] = v
          return { status: res.status, headers, text, json }
        }),
      ),
    ),
    Effect.timeoutOrElse({ duration: Duration.millis(call.timeoutMs), orElse: () => Effect.fail(new Transient(`no answer within ${call.timeoutMs} ms`)) }),
    Effect.mapError((e) => (e instanceof Transient ? e : new Transient(describe(e)))),
    Effect.flatMap((reply) => (call.transient(reply.status) ? Effect.fail(new Transient(`HTTP ${reply.status}`, reply)) : Effect.succeed(reply))),
  )
}

const describe = (e: unknown): string => {
  if (e && typeof e === "object" && "message" in e && typeof (e as Error).message === "string" && (e as Error).message) return (e as Error).message
  if (e && typeof e === "object" && "_tag" in e) return String((e as { _tag: string })._tag)
  return String(e)
}

/** Builds the service from an HttpClient. */
export const make = Effect.gen(function* () {
  const client = yield* HttpClient.HttpClient
  return {
    call: (call: HttpCall) =>
      attempt(client, call).pipe(
        Effect.retry({ schedule: Schedule.exponential(Duration.millis(call.backoffMs ?? 100), 2).pipe(Schedule.jittered), times: call.retries }),
        Effect.catch((t: Transient) =>
          Effect.fail(
            paystateError(
              "PROVIDER_UNAVAILABLE",
              `${call.method} ${new URL(call.url).pathname} failed after ${call.retries + 1} attempt(s): ${t.reason}`,
              t.reply ? { status: t.reply.status, body: t.reply.json ?? t.reply.text } : { reason: t.reason },
              true,
            ),
          ),
        ),
      ),
  }
})

/** The service over the fetch transport. */
export const layer: Layer.Layer<ProviderHttp> = Layer.effect(ProviderHttp, make).pipe(Layer.provide(FetchHttpClient.layer))

/** Runs one call with the fetch-backed layer provided; for adapters whose effects carry no requirements. */
export const callHttp = (call: HttpCall): Effect.Effect<HttpReply, PaystateError> =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp
    return yield* http.call(call)
  }).pipe(Effect.provide(layer))
