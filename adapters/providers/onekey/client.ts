/**
 * The OneKey (Directa24 v3) client: an Effect service mirroring the deposits API (create and read
 * deposits, create and read refunds, bank codes). Every merchant call is signed: `X-Login`,
 * `X-Date` and `Authorization: D24 <hex HMAC-SHA256(secretKey, X-Date + X-Login + body)>` over the
 * exact bytes sent. A POST carries `X-Idempotency-Key`, one per logical operation: the headers are
 * built once and every retry (timeouts, 5xx, 409) resends them unchanged, so a retry never pays twice.
 * Bodies are serialised canonically (`canonicalJson`: keys sorted at every depth), so a body rebuilt
 * in another process from a stored payload whose key order `jsonb` changed is byte for byte the
 * first attempt's, and OneKey's check of a reused idempotency key sees the same request.
 */
import { randomUUID } from "node:crypto"
import { Context, Effect, Layer } from "effect"
import type { z } from "zod"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import { reveal, type Secret } from "../config.js"
import { callHttp, canonicalJson, type HttpReply } from "../http.js"
import { rejection, transientStatus, unreadable } from "./errors.js"
import { signOnekey } from "./signing.js"
import {
  banksResponse,
  depositResponse,
  depositStatusResponse,
  refundResponse,
  refundStatusResponse,
  xDate,
  type OnekeyBankAccount,
  type OnekeyDepositResponse,
  type OnekeyDepositStatusResponse,
  type OnekeyRefundResponse,
  type OnekeyRefundStatusResponse,
} from "./wire.js"

/** Client configuration. */
export interface OnekeyConfig {
  /** API root, e.g. `https://api-stg.onekeypayments.com` (staging) or a sandbox URL. */
  readonly baseUrl: string
  /** The deposits API key, sent as `X-Login`; a string or effect's `Redacted`, as every key here. */
  readonly login: Secret
  /** The API signature key that signs every merchant call. */
  readonly secretKey: Secret
  /** The read-only key, for `GET /v3/banks` (`Authorization: Bearer …`). */
  readonly readOnlyKey?: Secret
  /** Per-attempt timeout (ms). Default 10 000. */
  readonly timeoutMs?: number
  /** Extra attempts on timeouts, 5xx, 409 and 429. Default 2. */
  readonly retries?: number
  /** First retry delay (ms), doubled with jitter. Default 100. */
  readonly backoffMs?: number
  /** The clock that stamps `X-Date`. Default: the system clock. */
  readonly now?: () => Date
}

/** Body of `POST /v3/deposits`. */
export interface OnekeyDepositBody {
  readonly invoice_id: string
  readonly amount: number | string
  readonly country: string
  readonly currency: string
  readonly payment_method: string
  readonly payer: { readonly document?: string; readonly email: string; readonly first_name: string; readonly last_name: string; readonly [k: string]: unknown }
  readonly notification_url?: string
  readonly [field: string]: unknown
}

/** Body of `POST /v3/refunds` (seed 002). Send `amount` always: omitted means the whole deposit. */
export interface OnekeyRefundBody {
  readonly deposit_id: number
  readonly invoice_id: string
  readonly amount?: number | string
  readonly bank_account?: OnekeyBankAccount
  readonly comments?: string
  readonly notification_url?: string
}

/** The client's operations. The idempotency key defaults to a fresh one per call (kept across its retries). */
export interface OnekeyClientShape {
  readonly createDeposit: (body: OnekeyDepositBody, idempotencyKey?: string) => Effect.Effect<OnekeyDepositResponse, PaystateError>
  readonly getDeposit: (depositId: string | number) => Effect.Effect<OnekeyDepositStatusResponse, PaystateError>
  readonly createRefund: (body: OnekeyRefundBody, idempotencyKey?: string) => Effect.Effect<OnekeyRefundResponse, PaystateError>
  readonly getRefund: (refundId: string | number) => Effect.Effect<OnekeyRefundStatusResponse, PaystateError>
  readonly banks: (country: string) => Effect.Effect<readonly { code: number | string; name: string }[], PaystateError>
}

/** The OneKey client service. */
export class OnekeyClient extends Context.Service<OnekeyClient, OnekeyClientShape>()("paystate/providers/OnekeyClient") {}

/** Reads a 2xx body with its schema, and anything else as the typed refusal. */
const decode =
  <T>(schema: z.ZodType<T>, what: string) =>
  (reply: HttpReply): Effect.Effect<T, PaystateError> => {
    if (reply.status < 200 || reply.status >= 300) return Effect.fail(rejection(reply, what))
    const parsed = schema.safeParse(reply.json)
    return parsed.success ? Effect.succeed(parsed.data) : Effect.fail(unreadable(reply, what))
  }

/** The signed headers of one logical call. */
export const onekeyHeaders = (config: Pick<OnekeyConfig, "login" | "secretKey">, date: Date, body: string, idempotencyKey?: string): Record<string, string> => {
  const stamp = xDate(date)
  const login = reveal(config.login)
  return {
    "X-Login": login,
    "X-Date": stamp,
    Authorization: `D24 ${signOnekey(reveal(config.secretKey), stamp, login, body)}`,
    "Content-Type": "application/json",
    ...(idempotencyKey ? { "X-Idempotency-Key": idempotencyKey } : {}),
  }
}

/** Builds the client from its configuration. */
export const make = (config: OnekeyConfig): OnekeyClientShape => {
  const base = config.baseUrl.replace(/\/+$/, "")
  const now = config.now ?? (() => new Date())
  const common = { timeoutMs: config.timeoutMs ?? 10_000, retries: config.retries ?? 2, backoffMs: config.backoffMs ?? 100, transient: transientStatus }

  const signed = (method: "GET" | "POST", path: string, body?: object, idempotencyKey?: string) =>
    Effect.suspend(() => {
      // Signed over the exact text sent; a GET signs the empty string. Canonical, so that every
      // attempt of one operation, in any process, sends the same bytes.
      const text = body === undefined ? "" : canonicalJson(body)
      return callHttp({
        method,
        url: base + path,
        headers: onekeyHeaders(config, now(), text, method === "POST" ? idempotencyKey ?? randomUUID() : undefined),
        ...(body === undefined ? {} : { body: text }),
        ...common,
      })
    })

  const path = (prefix: string, id: string | number) => `${prefix}/${encodeURIComponent(String(id))}`

  return {
    createDeposit: (body, key) => signed("POST", "/v3/deposits", body, key).pipe(Effect.flatMap(decode(depositResponse, "the deposit"))),
    getDeposit: (id) => signed("GET", path("/v3/deposits", id)).pipe(Effect.flatMap(decode(depositStatusResponse, `deposit ${id}`))),
    createRefund: (body, key) => signed("POST", "/v3/refunds", body, key).pipe(Effect.flatMap(decode(refundResponse, "the refund"))),
    getRefund: (id) => signed("GET", path("/v3/refunds", id)).pipe(Effect.flatMap(decode(refundStatusResponse, `refund ${id}`))),
    banks: (country) =>
      config.readOnlyKey
        ? callHttp({
            method: "GET",
            url: `${base}/v3/banks?country=${encodeURIComponent(country)}`,
            headers: { Authorization: `Bearer ${reveal(config.readOnlyKey)}` },
            ...common,
          }).pipe(Effect.flatMap(decode(banksResponse, `the bank codes of ${country}`)))
        : Effect.fail(paystateError("INVALID_INPUT", "Bank codes are read with the read-only key: configure readOnlyKey.")),
  }
}

/** A layer providing the client. */
export const layer = (config: OnekeyConfig): Layer.Layer<OnekeyClient> => Layer.succeed(OnekeyClient, make(config))
