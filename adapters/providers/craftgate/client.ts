/**
 * The Craftgate client: an Effect service for card payments, post-auth, refunds and transaction
 * refunds, with the `x-api-key` / `x-rnd-key` / `x-auth-version` / `x-signature` headers of every call.
 * Craftgate has no idempotency key, so POSTs are never retried blindly: a lost answer is looked up by
 * its `conversationId` first.
 */
import { randomBytes } from "node:crypto"
import { Context, Effect, Layer } from "effect"
import type { z } from "zod"
import { paystateError, type PaystateError } from "../../../src/errors.js"
import { callHttp, type HttpReply } from "../http.js"
import { signCraftgateRequest } from "./signing.js"
import { cardPayment, errorEnvelope, paymentRefund, searchOf, transactionRefund } from "./wire.js"

/** Client configuration. */
export interface CraftgateConfig {
  /** e.g. https://sandbox-api.craftgate.io, or a local sandbox URL. */
  readonly baseUrl: string
  readonly apiKey: string
  readonly secretKey: string
  /** Per-attempt timeout (ms). Default 10 s. */
  readonly timeoutMs?: number
  /** Extra attempts for GETs on timeouts and 5xx. Default 2. POSTs get none. */
  readonly retries?: number
}

type CardPayment = z.infer<typeof cardPayment>
type PaymentRefund = z.infer<typeof paymentRefund>
type TransactionRefund = z.infer<typeof transactionRefund>

/** The client's operations; bodies are the JSON Craftgate documents, amounts in major units. */
export interface CraftgateClientShape {
  readonly createCardPayment: (body: Record<string, unknown>) => Effect.Effect<CardPayment, PaystateError>
  readonly retrieveCardPayment: (id: string | number) => Effect.Effect<CardPayment, PaystateError>
  readonly searchCardPayments: (conversationId: string) => Effect.Effect<readonly CardPayment[], PaystateError>
  readonly postAuth: (id: string | number, body: Record<string, unknown>) => Effect.Effect<CardPayment, PaystateError>
  readonly refundPayment: (body: Record<string, unknown>) => Effect.Effect<PaymentRefund, PaystateError>
  readonly retrieveRefund: (id: string | number) => Effect.Effect<PaymentRefund, PaystateError>
  readonly searchRefunds: (q: { conversationId?: string; paymentId?: string }) => Effect.Effect<readonly PaymentRefund[], PaystateError>
  readonly refundTransaction: (body: Record<string, unknown>) => Effect.Effect<TransactionRefund, PaystateError>
  readonly retrieveTransactionRefund: (id: string | number) => Effect.Effect<TransactionRefund, PaystateError>
  readonly searchTransactionRefunds: (q: { conversationId?: string; paymentId?: string }) => Effect.Effect<readonly TransactionRefund[], PaystateError>
}

/** The Craftgate client service. */
export class CraftgateClient extends Context.Service<CraftgateClient, CraftgateClientShape>()("paystate/providers/CraftgateClient") {}

const decode = <T>(schema: z.ZodType<T>, what: string) => (reply: HttpReply): Effect.Effect<T, PaystateError> => {
  const body = reply.json as { data?: unknown } | undefined
  if (reply.status >= 200 && reply.status < 300) {
    const parsed = schema.safeParse(body?.data)
    return parsed.success ? Effect.succeed(parsed.data) : Effect.fail(paystateError("PROVIDER_UNAVAILABLE", `Craftgate answered ${what} with an unexpected body`, { body: reply.json ?? reply.text }, true))
  }
  const e = errorEnvelope.safeParse(reply.json)
  return Effect.fail(
    paystateError("PROVIDER_REJECTED", `Craftgate refused ${what}: ${e.success ? `${e.data.errors.errorCode} ${e.data.errors.errorDescription ?? ""}`.trim() : `HTTP ${reply.status}`}`, {
      status: reply.status,
      code: e.success ? e.data.errors.errorCode : String(reply.status),
      description: e.success ? e.data.errors.errorDescription : reply.text,
      group: e.success ? e.data.errors.errorGroup : undefined,
    }),
  )
}

/** Builds the client. */
export const make = (config: CraftgateConfig): CraftgateClientShape => {
  const base = config.baseUrl.replace(/\/$/, "")
  const call = (method: "GET" | "POST", path: string, body?: unknown) => {
    const url = base + path
    const text = body === undefined ? "" : JSON.stringify(body)
    const rnd = randomBytes(12).toString("hex")
    return callHttp({
      method,
      url,
      headers: {
        "x-api-key": config.apiKey,
        "x-rnd-key": rnd,
        "x-auth-version": "v1",
        "x-signature": signCraftgateRequest(url, config.apiKey, config.secretKey, rnd, text),
        "Content-Type": "application/json",
      },
      ...(body === undefined ? {} : { body: text }),
      timeoutMs: config.timeoutMs ?? 10_000,
      retries: method === "GET" ? config.retries ?? 2 : 0,
      transient: (s) => s >= 500,
    })
  }
  const qs = (q: Record<string, string | undefined>) => {
    const p = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined))
    return p.size ? `?${p}` : ""
  }
  const items = <T>(schema: z.ZodType<T>) => searchOf(schema).transform((s) => s.items as T[])
  return {
    createCardPayment: (b) => call("POST", "/payment/v1/card-payments", b).pipe(Effect.flatMap(decode(cardPayment, "the card payment"))),
    retrieveCardPayment: (id) => call("GET", `/payment/v1/card-payments/${id}`).pipe(Effect.flatMap(decode(cardPayment, "the card payment"))),
    searchCardPayments: (conversationId) => call("GET", `/payment/v1/card-payments${qs({ conversationId })}`).pipe(Effect.flatMap(decode(items(cardPayment), "the payment search"))),
    postAuth: (id, b) => call("POST", `/payment/v1/card-payments/${id}/post-auth`, b).pipe(Effect.flatMap(decode(cardPayment, "the post-auth"))),
    refundPayment: (b) => call("POST", "/payment/v1/refunds", b).pipe(Effect.flatMap(decode(paymentRefund, "the refund"))),
    retrieveRefund: (id) => call("GET", `/payment/v1/refunds/${id}`).pipe(Effect.flatMap(decode(paymentRefund, "the refund"))),
    searchRefunds: (q) => call("GET", `/payment/v1/refunds${qs(q)}`).pipe(Effect.flatMap(decode(items(paymentRefund), "the refund search"))),
    refundTransaction: (b) => call("POST", "/payment/v1/refund-transactions", b).pipe(Effect.flatMap(decode(transactionRefund, "the transaction refund"))),
    retrieveTransactionRefund: (id) => call("GET", `/payment/v1/refund-transactions/${id}`).pipe(Effect.flatMap(decode(transactionRefund, "the transaction refund"))),
    searchTransactionRefunds: (q) => call("GET", `/payment/v1/refund-transactions${qs(q)}`).pipe(Effect.flatMap(decode(items(transactionRefund), "the transaction refund search"))),
  }
}

/** A layer providing the client. */
export const layer = (config: CraftgateConfig): Layer.Layer<CraftgateClient> => Layer.succeed(CraftgateClient, make(config))
