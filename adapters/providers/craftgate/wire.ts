/**
 * Craftgate wire formats (seed 003, PROVIDERS.md and the official clients): `{data}` / `{errors}`
 * envelopes, card payments with their payment transactions, refunds, transaction refunds, search
 * pages and webhooks. Amounts are decimals in major units; field names are Craftgate's.
 */
import { z } from "zod"
import type { RefundStatus } from "../../../machines/lifecycle/index.js"

const decimal = z.union([z.number(), z.string()])

/** The currencies Craftgate takes (its `Currency` enum). */
export const CRAFTGATE_CURRENCIES = ["TRY", "USD", "EUR", "GBP", "ARS", "BRL", "CNY", "AED", "IQD", "AZN", "KZT", "KWD", "SAR", "BHD", "RUB", "JPY", "EGP", "MXN", "RON"] as const

/** Refund statuses (RefundStatus). */
export const REFUND_STATUSES = ["SUCCESS", "FAILURE", "WAITING"] as const
/** A refund or transaction refund status. */
export type CraftgateRefundStatus = (typeof REFUND_STATUSES)[number]

/** Where a refund goes; CARD is the deprecated alias of PROVIDER. */
export const refundDestinationType = z.enum(["PROVIDER", "WALLET", "CARD"]).transform((v): "PROVIDER" | "WALLET" => (v === "CARD" ? "PROVIDER" : v))

/** `{"errors": {errorCode, errorDescription, errorGroup?}}`. */
export const errorEnvelope = z.looseObject({
  errors: z.looseObject({
    errorCode: z.union([z.string(), z.number()]).transform(String),
    errorDescription: z.string().nullish(),
    errorGroup: z.string().nullish(),
  }),
})

/** One payment transaction (basket item) of a payment. */
export const paymentTransaction = z.looseObject({
  id: z.number(),
  name: z.string().nullish(),
  externalId: z.string().nullish(),
  price: decimal,
  paidPrice: decimal,
})

/** A card payment (PaymentResponse). */
export const cardPayment = z.looseObject({
  id: z.number(),
  createdDate: z.string().nullish(),
  price: decimal,
  paidPrice: decimal,
  walletPrice: decimal.nullish(),
  currency: z.string(),
  installment: z.number().nullish(),
  conversationId: z.string().nullish(),
  externalId: z.string().nullish(),
  paymentStatus: z.enum(["SUCCESS", "FAILURE", "INIT_THREEDS", "CALLBACK_THREEDS", "WAITING"]),
  paymentPhase: z.enum(["AUTH", "PRE_AUTH", "POST_AUTH"]).nullish(),
  refundStatus: z.enum(["NO_REFUND", "NOT_REFUNDED", "PARTIAL_REFUNDED", "FULLY_REFUNDED"]).nullish(),
  lastFourDigits: z.string().nullish(),
  paymentTransactions: z.array(paymentTransaction).nullish(),
})

/** A transaction refund (PaymentTransactionRefundResponse). */
export const transactionRefund = z.looseObject({
  id: z.number(),
  conversationId: z.string().nullish(),
  createdDate: z.string().nullish(),
  status: z.enum(REFUND_STATUSES),
  isAfterSettlement: z.boolean().nullish(),
  refundPrice: decimal,
  refundBankPrice: decimal.nullish(),
  refundWalletPrice: decimal.nullish(),
  currency: z.string(),
  paymentTransactionId: z.number(),
  paymentId: z.number(),
  refundDestinationType: z.string().nullish(),
})

/** A payment refund (seed 003): CANCEL has an id and no transaction refunds; REFUND the reverse. */
export const paymentRefund = z.looseObject({
  id: z.number().nullish(),
  conversationId: z.string().nullish(),
  createdDate: z.string().nullish(),
  status: z.enum(REFUND_STATUSES),
  refundPrice: decimal,
  refundBankPrice: decimal.nullish(),
  refundWalletPrice: decimal.nullish(),
  refundType: z.enum(["CANCEL", "REFUND"]),
  refundDestinationType: z.string().nullish(),
  authCode: z.string().nullish(),
  hostReference: z.string().nullish(),
  transId: z.string().nullish(),
  currency: z.string(),
  paymentId: z.number(),
  paymentTransactionRefunds: z.array(transactionRefund).nullish().transform((v) => v ?? []),
})

/** A search page (`{data: {page?, size?, totalSize?, items}}`). */
export const pageOf = <T extends z.ZodType>(item: T) => z.looseObject({ items: z.array(item) })

/** A webhook body; the signature covers eventType, eventTimestamp, status and payloadId. */
export const webhookBody = z.looseObject({
  eventType: z.string(),
  eventTimestamp: z.union([z.number(), z.string()]),
  status: z.string(),
  payloadId: z.union([z.number(), z.string()]).transform(String),
})

/** A card payment as returned. */
export type CardPayment = z.infer<typeof cardPayment>
/** A payment refund as returned. */
export type PaymentRefund = z.infer<typeof paymentRefund>
/** A transaction refund as returned. */
export type TransactionRefund = z.infer<typeof transactionRefund>
/** A webhook as received. */
export type CraftgateWebhook = z.infer<typeof webhookBody>

/** Card data: a full card, or a stored card by its keys. */
export type CraftgateCard =
  | { readonly cardHolderName: string; readonly cardNumber: string; readonly expireYear: string; readonly expireMonth: string; readonly cvc: string }
  | { readonly cardUserKey: string; readonly cardToken: string }

/** Body of `POST /payment/v1/card-payments` (amounts in major units). */
export interface CreateCardPaymentBody {
  readonly price: number
  readonly paidPrice: number
  readonly walletPrice: number
  readonly installment: number
  readonly currency: string
  readonly paymentGroup?: "PRODUCT" | "LISTING_OR_SUBSCRIPTION"
  readonly paymentPhase?: "AUTH" | "PRE_AUTH"
  readonly conversationId?: string
  readonly externalId?: string
  readonly card: CraftgateCard
  readonly items: readonly { readonly name?: string; readonly price: number; readonly externalId?: string }[]
}

/** Body of `POST /payment/v1/card-payments/{id}/post-auth`. */
export interface PostAuthBody {
  readonly paidPrice?: number
}

/** Body of `POST /payment/v1/refunds` (seed 003). */
export interface RefundPaymentBody {
  readonly paymentId: number
  readonly conversationId?: string
  readonly refundDestinationType?: "PROVIDER" | "WALLET"
  readonly chargeFromMe?: boolean
}

/** Body of `POST /payment/v1/refund-transactions`. */
export interface RefundTransactionBody {
  readonly paymentTransactionId: number
  readonly conversationId?: string
  readonly refundPrice?: number
  readonly refundDestinationType?: "PROVIDER" | "WALLET"
  readonly chargeFromMe?: boolean
}

/** Query of the refund and transaction refund searches. */
export interface RefundSearch {
  readonly conversationId?: string
  readonly paymentId?: string | number
  readonly paymentTransactionId?: string | number
}

/** Where a Craftgate refund status sits in the ledger: WAITING holds its amount until settled. */
export const ledgerStatus = (s: CraftgateRefundStatus): RefundStatus => (s === "SUCCESS" ? "succeeded" : s === "FAILURE" ? "failed" : "pending")

/**
 * Craftgate prints `createdDate` as local time in Istanbul without a zone ("2026-11-23T12:00:00");
 * this reads it as the instant it names, or undefined when it cannot.
 */
export const craftgateInstant = (createdDate: string | null | undefined): string | undefined => {
  if (!createdDate) return undefined
  const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(createdDate)
  const t = Date.parse(local ? `${createdDate}+03:00` : createdDate)
  return Number.isNaN(t) ? undefined : new Date(t).toISOString()
}

/** The inverse of craftgateInstant: an instant as Craftgate prints it (Istanbul, UTC+3, no zone). */
export const craftgateDate = (d: Date): string => new Date(d.getTime() + 3 * 3600_000).toISOString().slice(0, 19)
