/**
 * The Craftgate client: an Effect service mirroring the payment API paystate uses (card payments,
 * post-auth, refunds, transaction refunds, and the searches that find an earlier attempt). Every call
 * carries `x-api-key`, `x-rnd-key`, `x-auth-version` and `x-signature` over the exact URL and body.
 *
 * Craftgate documents no idempotency key, so a POST is never re-sent by the client: a timeout or a
 * 5xx on a POST surfaces as PROVIDER_UNAVAILABLE and the engine reconciles (looks the attempt up by
 * its `conversationId`) before anything is sent again. GETs retry on timeouts and 5xx.
 */
import { Context, Effect, Layer } from "effect"
import type { z } from "zod"
import type { PaystateError } from "../../../src/errors.js"
import { callHttp, type HttpReply } from "../http.js"
import { rejection, unreadable } from "./errors.js"
import { craftgateHeaders } from "./signing.js"
import {
  cardPayment,
  pageOf,
  paymentRefund,
  transactionRefund,
  type CardPayment,
  type CreateCardPaymentBody,
  type PaymentRefund,
  type PostAuthBody,
  type RefundPaymentBody,
  type RefundSearch,
  type RefundTransactionBody,
  type TransactionRefund,
} from "./wire.js"

/** Client configuration. */
export interface CraftgateConfig {
  /** API root: `https://api.craftgate.io`, `https://sandbox-api.craftgate.io`, or a local sandbox URL. */
  readonly baseUrl: string
  readonly apiKey: string
  readonly secretKey: string
  /** Per-attempt timeout (ms). Default 30 000 (card payments wait on the bank). */
  readonly timeoutMs?: number
  /** Extra attempts for GETs on timeouts and 5xx. Default 2. POSTs get none. */
  readonly retries?: number
  /** First retry delay (ms), doubled with jitter. Default 100. */
  readonly backoffMs?: number
}

/** The client's operations; bodies are Craftgate's JSON, amounts in major units. */
export interface CraftgateClientShape {
  readonly createCardPayment: (body: CreateCardPaymentBody) => Effect.Effect<CardPayment, PaystateError>
  readonly retrieveCardPayment: (id: string | number) => Effect.Effect<CardPayment, PaystateError>
  /** `GET /payment-reporting/v1/payments?conversationId=…`: payments made with a conversationId. */
  readonly searchPayments: (q: { conversationId: string }) => Effect.Effect<readonly { id: number }[], PaystateError>
  readonly postAuth: (id: string | number, body: PostAuthBody) => Effect.Effect<CardPayment, PaystateError>
  readonly refundPayment: (body: RefundPaymentBody) => Effect.Effect<PaymentRefund, PaystateError>
  readonly retrieveRefund: (id: string | number) => Effect.Effect<PaymentRefund, PaystateError>
  /** `GET /payment/v1/refunds?conversationId=…&paymentId=…`. */
  readonly searchRefunds: (q: RefundSearch) => Effect.Effect<readonly PaymentRefund[], PaystateError>
  readonly refundTransaction: (body: RefundTransactionBody) => Effect.Effect<TransactionRefund, PaystateError>
  readonly retrieveTransactionRefund: (id: string | number) => Effect.Effect<TransactionRefund, PaystateError>
  /** `GET /payment/v1/refund-transactions?conversationId=…&paymentId=…&paymentTransactionId=…`. */
  readonly searchTransactionRefunds: (q: RefundSearch) => Effect.Effect<readonly TransactionRefund[], PaystateError>
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

const query = (q: object): string => {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v))
  return p.size ? `?${p}` : ""
}

/** Builds the client. */
export const make = (config: CraftgateConfig): CraftgateClientShape => {
  const base = config.baseUrl.replace(/\/+$/, "")
  const call = (method: "GET" | "POST", path: string, body?: object) => {
    const url = base + path
    // The body is serialised once: the same bytes are signed and sent.
    const text = body === undefined ? "" : JSON.stringify(body)
    return callHttp({
      method,
      url,
      headers: craftgateHeaders(url, text, config),
      ...(body === undefined ? {} : { body: text }),
      timeoutMs: config.timeoutMs ?? 30_000,
      retries: method === "GET" ? (config.retries ?? 2) : 0,
      backoffMs: config.backoffMs ?? 100,
      transient: (status) => status >= 500,
    })
  }
  const get = <T>(path: string, schema: z.ZodType<T>, what: string) => call("GET", path).pipe(Effect.flatMap(decode(schema, what)))
  const post = <T>(path: string, body: object, schema: z.ZodType<T>, what: string) => call("POST", path, body).pipe(Effect.flatMap(decode(schema, what)))
  const items = <T extends z.ZodType>(schema: T) => pageOf(schema).transform((p) => p.items as z.infer<T>[])
  const id = (v: string | number) => encodeURIComponent(String(v))
  return {
    createCardPayment: (b) => post("/payment/v1/card-payments", b, cardPayment, "the card payment"),
    retrieveCardPayment: (pid) => get(`/payment/v1/card-payments/${id(pid)}`, cardPayment, `card payment ${pid}`),
    searchPayments: (q) => get(`/payment-reporting/v1/payments${query(q)}`, items(cardPayment.pick({ id: true }).loose()), "the payment search"),
    postAuth: (pid, b) => post(`/payment/v1/card-payments/${id(pid)}/post-auth`, b, cardPayment, `the post-auth of payment ${pid}`),
    refundPayment: (b) => post("/payment/v1/refunds", b, paymentRefund, `the refund of payment ${b.paymentId}`),
    retrieveRefund: (rid) => get(`/payment/v1/refunds/${id(rid)}`, paymentRefund, `refund ${rid}`),
    searchRefunds: (q) => get(`/payment/v1/refunds${query(q)}`, items(paymentRefund), "the refund search"),
    refundTransaction: (b) => post("/payment/v1/refund-transactions", b, transactionRefund, `the refund of payment transaction ${b.paymentTransactionId}`),
    retrieveTransactionRefund: (rid) => get(`/payment/v1/refund-transactions/${id(rid)}`, transactionRefund, `transaction refund ${rid}`),
    searchTransactionRefunds: (q) => get(`/payment/v1/refund-transactions${query(q)}`, items(transactionRefund), "the transaction refund search"),
  }
}

/** A layer providing the client. */
export const layer = (config: CraftgateConfig): Layer.Layer<CraftgateClient> => Layer.succeed(CraftgateClient, make(config))
