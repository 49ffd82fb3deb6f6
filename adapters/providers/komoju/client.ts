/**
 * The KOMOJU API client as an Effect service: the eight Payments endpoints of seed 001 (list, show,
 * create, update, capture, refund, refund_request, cancel), HTTP Basic auth with the secret key,
 * `X-KOMOJU-IDEMPOTENCY` on every POST (one key per logical operation, the same on every retry),
 * a timeout per attempt and jittered exponential retries only on timeouts, 5xx and 409 — all through
 * the shared pipeline in `../http.ts`. Every body is checked with zod on the way out and in, and
 * serialised canonically so that every attempt of one operation sends the same bytes.
 */
import { randomUUID } from "node:crypto"
import { Context, Effect, Layer } from "effect"
import type { z } from "zod"
import { reveal, type Secret } from "../config.js"
import { canonicalJson, layer as httpLayer, ProviderHttp, type HttpReply } from "../http.js"
import { fromAnswer, KomojuError, reasonOf } from "./errors.js"
import {
  createPaymentBody,
  komojuList,
  komojuPayment,
  listQuery,
  refundBody,
  refundRequestBody,
  updatePaymentBody,
  type CreatePaymentBody,
  type KomojuList,
  type KomojuPayment,
  type ListQuery,
  type RefundBody,
  type RefundRequestBody,
  type UpdatePaymentBody,
} from "./wire.js"

/** Where and how the client talks to KOMOJU. */
export interface KomojuClientConfig {
  /** API root, default `https://komoju.com/api/v1`; a sandbox's `${url}/api/v1` in tests. */
  readonly baseUrl?: string
  /** Secret key (`sk_…`), sent as the Basic auth user with an empty password; a string or effect's `Redacted`. */
  readonly secretKey: Secret
  /** Per-attempt timeout, default 8 s (three attempts stay inside the engine's 30 s lease). */
  readonly timeoutMs?: number
  /** Extra attempts on timeouts, 5xx and 409, default 2. */
  readonly retries?: number
  /** First backoff delay, default 200 ms; doubles per attempt, jittered. */
  readonly backoffMs?: number
  /** Pinned `X-KOMOJU-API-VERSION`, as the official clients send; none by default. */
  readonly apiVersion?: string
}

/** Per-call options of a POST. */
export interface PostOptions {
  /** One key per logical operation (≤ 100 ASCII chars); a fresh one is made when absent. */
  readonly idempotencyKey?: string
}

/** The client's operations; each fails with a KomojuError. */
export interface KomojuClientShape {
  /** `GET /payments`: a page of payments, filtered (seed 001 list). */
  readonly listPayments: (query?: ListQuery) => Effect.Effect<KomojuList, KomojuError>
  /** `GET /payments/:id` (seed 001 show). */
  readonly show: (id: string) => Effect.Effect<KomojuPayment, KomojuError>
  /** `POST /payments` (seed 001 create). */
  readonly create: (body: CreatePaymentBody, options?: PostOptions) => Effect.Effect<KomojuPayment, KomojuError>
  /** `PATCH /payments/:id`: description and metadata only (seed 001 update). */
  readonly update: (id: string, body: UpdatePaymentBody) => Effect.Effect<KomojuPayment, KomojuError>
  /** `POST /payments/:id/capture` (seed 001 capture). */
  readonly capture: (id: string, options?: PostOptions) => Effect.Effect<KomojuPayment, KomojuError>
  /** `POST /payments/:id/refund` (seed 001 refund). */
  readonly refund: (id: string, body: RefundBody, options?: PostOptions) => Effect.Effect<KomojuPayment, KomojuError>
  /** `POST /payments/:id/refund_request` (seed 000). */
  readonly refundRequest: (id: string, body: RefundRequestBody, options?: PostOptions) => Effect.Effect<KomojuPayment, KomojuError>
  /** `POST /payments/:id/cancel` (seed 001 cancel). */
  readonly cancel: (id: string, options?: PostOptions) => Effect.Effect<KomojuPayment, KomojuError>
}

/** True for answers worth another attempt: 5xx, and 409 (the same key is still being processed). */
export const transientStatus = (status: number): boolean => status >= 500 || status === 409

const invalid = (message: string, body?: unknown): KomojuError =>
  new KomojuError({ reason: "BadRequest", status: 0, code: "invalid_request", message, param: null, retryable: false, body })

const check = <T>(schema: z.ZodType<T>, value: unknown, what: string): Effect.Effect<T, KomojuError> => {
  const r = schema.safeParse(value)
  return r.success
    ? Effect.succeed(r.data)
    : Effect.fail(invalid(`Invalid ${what}: ${r.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")}`, r.error.issues))
}

/** Builds the client from the shared HTTP pipeline. */
export const makeKomojuClient = (config: KomojuClientConfig): Effect.Effect<KomojuClientShape, never, ProviderHttp> =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp
    const base = (config.baseUrl ?? "https://komoju.com/api/v1").replace(/\/+$/, "")
    const auth = `Basic ${Buffer.from(`${reveal(config.secretKey)}:`).toString("base64")}`
    const common: Record<string, string> = { Authorization: auth, Accept: "application/json", ...(config.apiVersion ? { "X-KOMOJU-API-VERSION": config.apiVersion } : {}) }

    const call = <T>(method: "GET" | "POST" | "PATCH", path: string, schema: z.ZodType<T>, body?: unknown, idempotencyKey?: string): Effect.Effect<T, KomojuError> => {
      // Headers are built once, so every retry carries the same idempotency key.
      const headers: Record<string, string> = { ...common }
      if (body !== undefined) headers["Content-Type"] = "application/json"
      if (method === "POST") headers["X-KOMOJU-IDEMPOTENCY"] = idempotencyKey ?? randomUUID()
      return http
        .call({
          method,
          url: `${base}${path}`,
          headers,
          // Canonical (sorted keys): a body rebuilt from a stored payload whose jsonb key order
          // changed is byte-identical, so KOMOJU's idempotency check sees the same request.
          ...(body !== undefined ? { body: canonicalJson(body) } : {}),
          timeoutMs: config.timeoutMs ?? 8_000,
          retries: config.retries ?? 2,
          backoffMs: config.backoffMs ?? 200,
          transient: transientStatus,
        })
        .pipe(
          Effect.mapError((e) => {
            const d = (e.details ?? {}) as { status?: number; body?: unknown }
            const status = typeof d.status === "number" ? d.status : 0
            return new KomojuError({
              reason: status ? reasonOf(status) : "Unavailable",
              status,
              code: status ? `http_${status}` : "unavailable",
              message: e.message,
              param: null,
              retryable: true,
              body: d.body,
            })
          }),
          Effect.flatMap((reply: HttpReply) => {
            if (reply.status < 200 || reply.status >= 300) return Effect.fail(fromAnswer(reply.status, reply.json ?? reply.text))
            const parsed = schema.safeParse(reply.json)
            if (parsed.success) return Effect.succeed(parsed.data)
            // A 2xx whose body we cannot read: whatever KOMOJU did, we do not know it.
            return Effect.fail(
              new KomojuError({ reason: "InvalidResponse", status: reply.status, code: "invalid_response", message: `Unexpected body from ${method} ${path}: ${parsed.error.message}`, param: null, retryable: false, body: reply.text }),
            )
          }),
        )
    }

    const id = (value: string) => encodeURIComponent(value)
    const post = <T>(path: string, schema: z.ZodType<T>, body: unknown, options?: PostOptions) => call("POST", path, schema, body, options?.idempotencyKey)

    return {
      listPayments: (query = {}) =>
        check(listQuery, query, "list query").pipe(
          Effect.flatMap((q) => {
            const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]))
            const s = qs.toString()
            return call("GET", `/payments${s ? `?${s}` : ""}`, komojuList)
          }),
        ),
      show: (paymentId) => call("GET", `/payments/${id(paymentId)}`, komojuPayment),
      create: (body, options) => check(createPaymentBody, body, "create body").pipe(Effect.flatMap((b) => post("/payments", komojuPayment, b, options))),
      update: (paymentId, body) => check(updatePaymentBody, body, "update body").pipe(Effect.flatMap((b) => call("PATCH", `/payments/${id(paymentId)}`, komojuPayment, b))),
      capture: (paymentId, options) => post(`/payments/${id(paymentId)}/capture`, komojuPayment, {}, options),
      refund: (paymentId, body, options) => check(refundBody, body, "refund body").pipe(Effect.flatMap((b) => post(`/payments/${id(paymentId)}/refund`, komojuPayment, b, options))),
      refundRequest: (paymentId, body, options) =>
        check(refundRequestBody, body, "refund request body").pipe(Effect.flatMap((b) => post(`/payments/${id(paymentId)}/refund_request`, komojuPayment, b, options))),
      cancel: (paymentId, options) => post(`/payments/${id(paymentId)}/cancel`, komojuPayment, {}, options),
    } satisfies KomojuClientShape
  })

/** The KOMOJU client service. */
export class KomojuClient extends Context.Service<KomojuClient, KomojuClientShape>()("paystate/providers/KomojuClient") {
  /** Builds the client on the ProviderHttp service. */
  static readonly make = makeKomojuClient
  /** The client over the shared fetch-backed HTTP pipeline. */
  static readonly layer = (config: KomojuClientConfig): Layer.Layer<KomojuClient> => Layer.effect(KomojuClient, makeKomojuClient(config)).pipe(Layer.provide(httpLayer))
}
