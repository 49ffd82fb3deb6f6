/**
 * The OneKey (Directa24 v3) client: an Effect service for deposits, refunds, refund status and bank
 * codes. Every merchant call is signed (`X-Login`, `X-Date`, `Authorization: D24 …`); POSTs carry
 * `X-Idempotency-Key`, so retrying them on a timeout or 5xx is safe.
 */
import { Context, Effect, Layer } from "effect"
import type { z } from "zod"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import { callHttp, type HttpReply } from "../http.js"
import { signOnekey } from "./signing.js"
import {
  depositResponse,
  depositStatusResponse,
  errorBody,
  refundResponse,
  refundStatusResponse,
  xDate,
} from "./wire.js"

/** Client configuration. */
export interface OnekeyConfig {
  /** e.g. https://api-stg.onekeypayments.com, or a sandbox URL. */
  readonly baseUrl: string
  readonly login: string
  readonly secretKey: string
  readonly readOnlyKey?: string
  /** Per-attempt timeout (ms). Default 10 s. */
  readonly timeoutMs?: number
  /** Extra attempts on timeouts and 5xx. Default 2. */
  readonly retries?: number
}

/** The client's operations. */
export interface OnekeyClientShape {
  readonly createDeposit: (body: Record<string, unknown>, idempotencyKey: string) => Effect.Effect<z.infer<typeof depositResponse>, PaystateError>
  readonly getDeposit: (depositId: string | number) => Effect.Effect<z.infer<typeof depositStatusResponse>, PaystateError>
  readonly createRefund: (body: Record<string, unknown>, idempotencyKey: string) => Effect.Effect<z.infer<typeof refundResponse>, PaystateError>
  readonly getRefund: (refundId: string | number) => Effect.Effect<z.infer<typeof refundStatusResponse>, PaystateError>
  readonly banks: (country: string) => Effect.Effect<readonly { code: number | string; name: string }[], PaystateError>
}

/** The OneKey client service. */
export class OnekeyClient extends Context.Service<OnekeyClient, OnekeyClientShape>()("paystate/providers/OnekeyClient") {}

/** Maps a OneKey answer to its typed body or a typed error (4xx definite, 5xx unknown). */
const decode = <T>(schema: z.ZodType<T>, what: string) => (reply: HttpReply): Effect.Effect<T, PaystateError> => {
  if (reply.status >= 200 && reply.status < 300) {
    const parsed = schema.safeParse(reply.json)
    return parsed.success ? Effect.succeed(parsed.data) : Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `OneKey answered ${what} with an unexpected body`, { body: reply.json ?? reply.text }, true))
  }
  const err = errorBody.safeParse(reply.json)
  const code = err.success ? Number(err.data.code) : reply.status
  return Effect.fail(
    paystateError("PROVIDER_REJECTED", `OneKey refused ${what}: ${err.success ? `${err.data.code} ${err.data.type ?? ""} ${err.data.description ?? ""}`.trim() : `HTTP ${reply.status}`}`, {
      status: reply.status,
      code,
      type: err.success ? err.data.type : undefined,
      description: err.success ? err.data.description : reply.text,
    }),
  )
}

/** Builds the client from its configuration. */
export const make = (config: OnekeyConfig): OnekeyClientShape => {
  const base = config.baseUrl.replace(/\/$/, "")
  const signed = (method: "GET" | "POST", path: string, body?: unknown, idempotencyKey?: string) => {
    const text = body === undefined ? "" : JSON.stringify(body)
    const date = xDate(new Date())
    return callHttp({
      method,
      url: base + path,
      headers: {
        "X-Login": config.login,
        "X-Date": date,
        Authorization: `D24 ${signOnekey(config.secretKey, date, config.login, text)}`,
        "Content-Type": "application/json",
        ...(idempotencyKey ? { "X-Idempotency-Key": idempotencyKey } : {}),
      },
      ...(body === undefined ? {} : { body: text }),
      timeoutMs: config.timeoutMs ?? 10_000,
      // Safe to retry: GETs, and POSTs that carry an idempotency key.
      retries: method === "GET" || idempotencyKey ? config.retries ?? 2 : 0,
      transient: (s) => s >= 500,
    })
  }
  return {
    createDeposit: (body, key) => signed("POST", "/v3/deposits", body, key).pipe(Effect.flatMap(decode(depositResponse, "the deposit"))),
    getDeposit: (id) => signed("GET", `/v3/deposits/${encodeURIComponent(String(id))}`).pipe(Effect.flatMap(decode(depositStatusResponse, "the deposit status"))),
    createRefund: (body, key) => signed("POST", "/v3/refunds", body, key).pipe(Effect.flatMap(decode(refundResponse, "the refund"))),
    getRefund: (id) => signed("GET", `/v3/refunds/${encodeURIComponent(String(id))}`).pipe(Effect.flatMap(decode(refundStatusResponse, "the refund status"))),
    banks: (country) => {
      if (!config.readOnlyKey) return Effect.fail(paystateError("INVALID_INPUT", "Bank codes need the read-only key (readOnlyKey)."))
      return callHttp({
        method: "GET",
        url: `${base}/v3/banks?country=${encodeURIComponent(country)}`,
        headers: { Authorization: `Bearer ${config.readOnlyKey}` },
        timeoutMs: config.timeoutMs ?? 10_000,
        retries: config.retries ?? 2,
        transient: (s) => s >= 500,
      }).pipe(Effect.flatMap(decode(errorless, "the bank codes")))
    },
  }
}

const errorless = { safeParse: (v: unknown) => (Array.isArray(v) ? { success: true as const, data: v } : { success: false as const, error: undefined }) } as unknown as z.ZodType<readonly { code: number | string; name: string }[]>

/** A layer providing the client. */
export const layer = (config: OnekeyConfig): Layer.Layer<OnekeyClient> => Layer.succeed(OnekeyClient, make(config))
