/**
 * The Craftgate client: an Effect service mirroring the calls paystate makes, on the paths and with
 * the answer shapes of Craftgate's official clients (`craftgate/craftgate-node-client`
 * `src/adapter/PaymentAdapter.ts`, `src/adapter/PaymentReportingAdapter.ts`, `src/response/`):
 * card payments, post-auth, refunds and transaction refunds under `/payment/v1`, and the searches and
 * per-payment listings of the reporting API under `/payment-reporting/v1`. Every call carries
 * `x-api-key`, `x-rnd-key`, `x-auth-version` and `x-signature` over the exact URL and body.
 *
 * Craftgate documents no idempotency key, so a POST is never re-sent by the client: a timeout or a
 * 5xx on a POST surfaces as PROVIDER_UNAVAILABLE and the engine reconciles (looks the attempt up by
 * its `conversationId`) before anything is sent again. GETs retry on timeouts and 5xx.
 */
import { Context, Effect, Layer } from "effect"
import type { z } from "zod"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import { reveal, type Secret } from "../config.js"
import { callHttp, canonicalJson, type HttpReply } from "../http.js"
import { rejection, unreadable } from "./errors.js"
import { craftgateHeaders } from "./signing.js"
import {
  cardPayment,
  pageOf,
  paymentRefund,
  reportingPayment,
  reportingRefund,
  reportingTransactionRefund,
  transactionRefund,
  type CardPayment,
  type CreateCardPaymentBody,
  type PaymentRefund,
  type PostAuthBody,
  type RefundPaymentBody,
  type RefundSearch,
  type RefundTransactionBody,
  type ReportingPayment,
  type ReportingRefund,
  type ReportingTransactionRefund,
  type TransactionRefund,
} from "./wire.js"

/** Client configuration. */
export interface CraftgateConfig {
  /** API root: `https://api.craftgate.io`, `https://sandbox-api.craftgate.io`, or a local sandbox URL. */
  readonly baseUrl: string
  /** The merchant API key (`x-api-key`); a string or effect's `Redacted`, as `secretKey`. */
  readonly apiKey: Secret
  /** The merchant secret key that signs every request. */
  readonly secretKey: Secret
  /** Per-attempt timeout (ms). Default 30 000 (card payments wait on the bank). */
  readonly timeoutMs?: number
  /** Extra attempts for GETs on timeouts and 5xx. Default 2. POSTs get none. */
  readonly retries?: number
  /** First retry delay (ms), doubled with jitter. Default 100. */
  readonly backoffMs?: number
  /** Items asked for per page of a reporting search (`size`). Default 100. */
  readonly pageSize?: number
}

/** The client's operations; bodies are Craftgate's JSON, amounts in major units. */
export interface CraftgateClientShape {
  /** `POST /payment/v1/card-payments`. */
  readonly createCardPayment: (body: CreateCardPaymentBody) => Effect.Effect<CardPayment, PaystateError>
  /** `GET /payment/v1/card-payments/{id}`. */
  readonly retrieveCardPayment: (id: string | number) => Effect.Effect<CardPayment, PaystateError>
  /** `POST /payment/v1/card-payments/{id}/post-auth`. */
  readonly postAuth: (id: string | number, body: PostAuthBody) => Effect.Effect<CardPayment, PaystateError>
  /** `POST /payment/v1/refunds`: the whole payment (seed 003). */
  readonly refundPayment: (body: RefundPaymentBody) => Effect.Effect<PaymentRefund, PaystateError>
  /** `GET /payment/v1/refunds/{id}`. */
  readonly retrieveRefund: (id: string | number) => Effect.Effect<PaymentRefund, PaystateError>
  /** `POST /payment/v1/refund-transactions`: one payment transaction. */
  readonly refundTransaction: (body: RefundTransactionBody) => Effect.Effect<TransactionRefund, PaystateError>
  /** `GET /payment/v1/refund-transactions/{id}`. */
  readonly retrieveTransactionRefund: (id: string | number) => Effect.Effect<TransactionRefund, PaystateError>
  /** `GET /payment-reporting/v1/payments?conversationId=…` (every page). */
  readonly searchPayments: (q: { conversationId: string }) => Effect.Effect<readonly ReportingPayment[], PaystateError>
  /** `GET /payment-reporting/v1/payments/{id}`. */
  readonly retrieveReportingPayment: (id: string | number) => Effect.Effect<ReportingPayment, PaystateError>
  /** `GET /payment-reporting/v1/payments/{id}/refunds`: the payment's refunds (reporting shape, no refundType). */
  readonly retrievePaymentRefunds: (paymentId: string | number) => Effect.Effect<readonly ReportingRefund[], PaystateError>
  /** `GET /payment-reporting/v1/payments/{id}/transactions/{paymentTransactionId}/refunds`. */
  readonly retrievePaymentTransactionRefunds: (paymentId: string | number, paymentTransactionId: string | number) => Effect.Effect<readonly ReportingTransactionRefund[], PaystateError>
  /** `GET /payment-reporting/v1/refunds?conversationId=…&paymentId=…` (every page). */
  readonly searchRefunds: (q: RefundSearch) => Effect.Effect<readonly ReportingRefund[], PaystateError>
  /** `GET /payment-reporting/v1/refund-transactions?conversationId=…&paymentId=…` (every page). */
  readonly searchTransactionRefunds: (q: RefundSearch) => Effect.Effect<readonly ReportingTransactionRefund[], PaystateError>
}

/** The Craftgate client service. */
export class CraftgateClient extends Context.Service<CraftgateClient, CraftgateClientShape>()("paystate/providers/CraftgateClient") {}

/** Reads `{data}` on 2xx; maps `{errors}` on 4xx to a definite refusal. */
const decode =
  <T>(schema: z.ZodType<T>, what: string) =>
  (reply: HttpReply): Effect.Effect<T, PaystateError> => {
    if (reply.status >= 200 && reply.status < 300) {
      const parsed = schema.safeParse((reply.json as { data?: unknown } | undefined)?.data)
      return parsed.success ? Effect.succeed(parsed.data) : Effect.fail(unreadable(reply, what, parsed.error.issues))
    }
    return Effect.fail(reply.status >= 400 && reply.status < 500 ? rejection(reply, what) : unreadable(reply, what))
  }

/**
 * A query string as the official node client builds it (`serializeParams`: `encodeURIComponent` of
 * each key and value, in the given order). A space is `%20`, never `+`: the signature is computed
 * over the URL-decoded URL, and `decodeURIComponent` leaves a `+` as it is.
 */
export const craftgateQuery = (q: object): string => {
  const parts: string[] = []
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  return parts.length ? `?${parts.join("&")}` : ""
}

/** Pages read before a search is given up as unreadable; 100 pages of 100 is far beyond one payment. */
const MAX_PAGES = 100

/** Builds the client. */
export const make = (config: CraftgateConfig): CraftgateClientShape => {
  const base = config.baseUrl.replace(/\/+$/, "")
  const size = config.pageSize ?? 100
  const credentials = { apiKey: reveal(config.apiKey), secretKey: reveal(config.secretKey) }
  const call = (method: "GET" | "POST", path: string, body?: object) => {
    const url = base + path
    // Serialised once, canonically (sorted keys): the same bytes are signed and sent, and a body
    // rebuilt from a stored payload whose key order changed is byte for byte the first one.
    const text = body === undefined ? "" : canonicalJson(body)
    return callHttp({
      method,
      url,
      headers: craftgateHeaders(url, text, credentials),
      ...(body === undefined ? {} : { body: text }),
      timeoutMs: config.timeoutMs ?? 30_000,
      retries: method === "GET" ? (config.retries ?? 2) : 0,
      backoffMs: config.backoffMs ?? 100,
      transient: (status) => status >= 500,
    })
  }
  const get = <T>(path: string, schema: z.ZodType<T>, what: string) => call("GET", path).pipe(Effect.flatMap(decode(schema, what)))
  const post = <T>(path: string, body: object, schema: z.ZodType<T>, what: string) => call("POST", path, body).pipe(Effect.flatMap(decode(schema, what)))
  const id = (v: string | number) => encodeURIComponent(String(v))

  /** Every item of a paged list: pages from 0 until `totalSize` items are read (or a page is empty). */
  const all = <T extends { id: number }>(path: string, q: object, item: z.ZodType<T>, what: string): Effect.Effect<readonly T[], PaystateError> =>
    Effect.gen(function* () {
      const byId = new Map<number, T>()
      for (let page = 0; page < MAX_PAGES; page++) {
        const p = yield* get(`${path}${craftgateQuery({ ...q, page, size })}`, pageOf(item), what)
        const items = p.items as T[]
        // Items are keyed by id: a record that moved to the next page while reading is counted once.
        for (const it of items) byId.set(it.id, it)
        const total = typeof p.totalSize === "number" ? p.totalSize : undefined
        if (items.length === 0 || total === undefined || byId.size >= total) return [...byId.values()]
      }
      return yield* Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `Craftgate's answer to ${what} has more than ${MAX_PAGES} pages; paystate cannot read it whole.`, { path }, true))
    })

  return {
    createCardPayment: (b) => post("/payment/v1/card-payments", b, cardPayment, "the card payment"),
    retrieveCardPayment: (pid) => get(`/payment/v1/card-payments/${id(pid)}`, cardPayment, `card payment ${pid}`),
    postAuth: (pid, b) => post(`/payment/v1/card-payments/${id(pid)}/post-auth`, b, cardPayment, `the post-auth of payment ${pid}`),
    refundPayment: (b) => post("/payment/v1/refunds", b, paymentRefund, `the refund of payment ${b.paymentId}`),
    retrieveRefund: (rid) => get(`/payment/v1/refunds/${id(rid)}`, paymentRefund, `refund ${rid}`),
    refundTransaction: (b) => post("/payment/v1/refund-transactions", b, transactionRefund, `the refund of payment transaction ${b.paymentTransactionId}`),
    retrieveTransactionRefund: (rid) => get(`/payment/v1/refund-transactions/${id(rid)}`, transactionRefund, `transaction refund ${rid}`),
    searchPayments: (q) => all("/payment-reporting/v1/payments", q, reportingPayment, "the payment search"),
    retrieveReportingPayment: (pid) => get(`/payment-reporting/v1/payments/${id(pid)}`, reportingPayment, `the report of payment ${pid}`),
    retrievePaymentRefunds: (pid) =>
      get(`/payment-reporting/v1/payments/${id(pid)}/refunds`, pageOf(reportingRefund), `the refunds of payment ${pid}`).pipe(Effect.map((p) => p.items as ReportingRefund[])),
    retrievePaymentTransactionRefunds: (pid, tid) =>
      get(`/payment-reporting/v1/payments/${id(pid)}/transactions/${id(tid)}/refunds`, pageOf(reportingTransactionRefund), `the refunds of payment transaction ${tid}`).pipe(
        Effect.map((p) => p.items as ReportingTransactionRefund[]),
      ),
    searchRefunds: (q) => all("/payment-reporting/v1/refunds", q, reportingRefund, "the refund search"),
    searchTransactionRefunds: (q) => all("/payment-reporting/v1/refund-transactions", q, reportingTransactionRefund, "the transaction refund search"),
  }
}

/** A layer providing the client. */
export const layer = (config: CraftgateConfig): Layer.Layer<CraftgateClient> => Layer.succeed(CraftgateClient, make(config))
