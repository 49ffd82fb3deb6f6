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

/** One payment transaction (basket item) of a payment (`PaymentTransaction`). */
export const paymentTransaction = z.looseObject({
  id: z.number(),
  name: z.string().nullish(),
  externalId: z.string().nullish(),
  price: decimal,
  paidPrice: decimal,
})

/**
 * A card payment (`PaymentResponse`, node client `src/response/PaymentResponse.ts`). It has no refund
 * status: that is a reporting field (`ReportingPaymentResponse.refundStatus`).
 */
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
  /** Only in reporting answers; read when present. */
  refundStatus: z.enum(["NO_REFUND", "NOT_REFUNDED", "PARTIAL_REFUNDED", "FULLY_REFUNDED"]).nullish(),
  binNumber: z.string().nullish(),
  lastFourDigits: z.string().nullish(),
  cardBrand: z.string().nullish(),
  /** A stored card's keys (`storeCardAfterSuccessPayment`, or a payment made with a stored card). */
  cardUserKey: z.string().nullish(),
  cardToken: z.string().nullish(),
  paymentTransactions: z.array(paymentTransaction).nullish(),
})

/** A payment in the reporting API (`ReportingPaymentResponse`): the payment fields and its refunds. */
export const reportingPayment = cardPayment.extend({
  refundablePrice: decimal.nullish(),
})

/** A transaction refund (`PaymentTransactionRefundResponse`): the payment API's answer and retrieve. */
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

/**
 * A transaction refund in the reporting API (`ReportingPaymentTransactionRefundResponse` =
 * `BasePaymentTransactionRefundResponse` + `paymentType`, `error`): no `currency` and no `paymentId`,
 * which the caller knows from the payment it asked about.
 */
export const reportingTransactionRefund = transactionRefund.extend({
  currency: z.string().nullish(),
  paymentId: z.number().nullish(),
  paymentType: z.string().nullish(),
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

/**
 * A payment refund in the reporting API (`ReportingPaymentRefundResponse` = `BasePaymentRefundResponse`
 * + `paymentType`, `error`): no `refundType`, no `currency`, no transaction refunds. paystate only takes
 * its id from it and retrieves the refund itself (`GET /payment/v1/refunds/{id}`) for the rest.
 */
export const reportingRefund = z.looseObject({
  id: z.number(),
  conversationId: z.string().nullish(),
  createdDate: z.string().nullish(),
  status: z.enum(REFUND_STATUSES),
  refundPrice: decimal,
  paymentId: z.number().nullish(),
})

/** A list page (`DataResponse`: `{data: {page, size, totalSize, items}}`). */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.looseObject({ items: z.array(item), page: z.number().nullish(), size: z.number().nullish(), totalSize: z.number().nullish() })

/** Webhook event types (`WebhookEventType`, node client `src/model/WebhookEventType.ts`). */
export const WEBHOOK_EVENT_TYPES = [
  "API_AUTH",
  "API_VERIFY_AND_AUTH",
  "CHECKOUTFORM_AUTH",
  "THREEDS_VERIFY",
  "REFUND",
  "REFUND_TX",
  "PAYOUT_COMPLETED",
  "AUTOPILOT",
  "WALLET_CREATED",
  "WALLET_TX_CREATED",
  "BNPL_NOTIFICATION",
  "MULTI_PAYMENT_COMPLETED",
  "MULTI_PAYMENT_EXPIRED",
  "BKM_EXPRESS_PAYMENT_NOTIFICATION",
] as const

/** Webhook statuses (`WebhookStatus`). */
export const WEBHOOK_STATUSES = ["SUCCESS", "FAILURE"] as const

/** A webhook timestamp: epoch seconds, a non-negative integer (a JSON number or a string of digits). */
const epochSeconds = z.union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d{1,15}$/)]).transform(String)

/**
 * A webhook body (`WebhookData`). The signature covers eventType + eventTimestamp + status + payloadId
 * concatenated with no separator, so each field's shape is checked before the HMAC: a letters-only
 * event type from the known set, digits, SUCCESS or FAILURE, digits. Shifting characters between
 * fields then always breaks one of the shapes, and a genuine signature cannot be re-cut into another event.
 */
export const webhookBody = z.looseObject({
  eventType: z.enum(WEBHOOK_EVENT_TYPES),
  eventTimestamp: epochSeconds,
  status: z.enum(WEBHOOK_STATUSES),
  payloadId: z.union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d{1,19}$/)]).transform(String),
})

/** A card payment as returned. */
export type CardPayment = z.infer<typeof cardPayment>
/** A payment refund as returned. */
export type PaymentRefund = z.infer<typeof paymentRefund>
/** A transaction refund as returned. */
export type TransactionRefund = z.infer<typeof transactionRefund>
/** A transaction refund as the reporting API lists it. */
export type ReportingTransactionRefund = z.infer<typeof reportingTransactionRefund>
/** A payment refund as the reporting API lists it. */
export type ReportingRefund = z.infer<typeof reportingRefund>
/** A payment as the reporting API returns it. */
export type ReportingPayment = z.infer<typeof reportingPayment>
/** A webhook as received. */
export type CraftgateWebhook = z.infer<typeof webhookBody>

/** Card data on the wire (`PaymentCard` or `StoredCard`, node client `src/request/dto/Card.ts`). */
export type CraftgateCard =
  | {
      readonly cardHolderName: string
      readonly cardNumber: string
      readonly expireYear: string
      readonly expireMonth: string
      readonly cvc: string
      readonly cardAlias?: string
      readonly storeCardAfterSuccessPayment?: boolean
      readonly cardUserKey?: string
    }
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

/**
 * Query of the reporting searches `GET /payment-reporting/v1/refunds` and `/refund-transactions`
 * (`SearchPaymentRefundsRequest`, `SearchPaymentTransactionRefundsRequest`); `page` and `size` are
 * set by the client, which reads every page.
 */
export interface RefundSearch {
  readonly conversationId?: string
  readonly paymentId?: string | number
  /** Transaction refunds only. */
  readonly paymentTransactionId?: string | number
  readonly status?: CraftgateRefundStatus
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
