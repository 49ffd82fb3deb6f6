/**
 * Craftgate wire formats (seed 003 and PROVIDERS.md): `{data}` / `{errors}` envelopes, card payments
 * with their payment transactions, refunds and transaction refunds. Amounts are decimals in major units.
 */
import { z } from "zod"
import type { RefundStatus } from "../../../machines/lifecycle/index.js"

const decimal = z.union([z.number(), z.string()])

/** `{"errors": {errorCode, errorDescription, errorGroup?}}`. */
export const errorEnvelope = z.looseObject({
  errors: z.looseObject({ errorCode: z.union([z.string(), z.number()]).transform(String), errorDescription: z.string().optional(), errorGroup: z.string().optional() }),
})

/** One payment transaction (basket item). */
export const paymentTransaction = z.looseObject({ id: z.number(), name: z.string().nullish(), externalId: z.string().nullish(), price: decimal, paidPrice: decimal })

/** A card payment. */
export const cardPayment = z.looseObject({
  id: z.number(),
  createdDate: z.string().optional(),
  price: decimal,
  paidPrice: decimal,
  walletPrice: decimal.optional(),
  currency: z.string(),
  installment: z.number().optional(),
  conversationId: z.string().nullish(),
  externalId: z.string().nullish(),
  paymentStatus: z.enum(["SUCCESS", "FAILURE", "INIT_THREEDS", "CALLBACK_THREEDS", "WAITING"]),
  paymentPhase: z.enum(["AUTH", "PRE_AUTH", "POST_AUTH"]).optional(),
  refundStatus: z.enum(["NO_REFUND", "NOT_REFUNDED", "PARTIAL_REFUNDED", "FULLY_REFUNDED"]).optional(),
  lastFourDigits: z.string().nullish(),
  paymentTransactions: z.array(paymentTransaction),
})

/** A transaction refund (PaymentTransactionRefundResponse). */
export const transactionRefund = z.looseObject({
  id: z.number(),
  conversationId: z.string().nullish(),
  createdDate: z.string().optional(),
  status: z.enum(["SUCCESS", "FAILURE", "WAITING"]),
  isAfterSettlement: z.boolean().optional(),
  refundPrice: decimal,
  refundBankPrice: decimal.optional(),
  refundWalletPrice: decimal.optional(),
  currency: z.string(),
  paymentTransactionId: z.number(),
  paymentId: z.number(),
  refundDestinationType: z.string().optional(),
})

/** A payment refund (seed 003 response fields): CANCEL has an id and no transaction refunds; REFUND the reverse. */
export const paymentRefund = z.looseObject({
  id: z.number().nullish(),
  conversationId: z.string().nullish(),
  createdDate: z.string().optional(),
  status: z.enum(["SUCCESS", "FAILURE", "WAITING"]),
  refundPrice: decimal,
  refundBankPrice: decimal.optional(),
  refundWalletPrice: decimal.optional(),
  refundType: z.enum(["CANCEL", "REFUND"]),
  refundDestinationType: z.string().optional(),
  authCode: z.string().nullish(),
  hostReference: z.string().nullish(),
  transId: z.string().nullish(),
  currency: z.string(),
  paymentId: z.number(),
  paymentTransactionRefunds: z.array(transactionRefund),
})

/** Search results (`{data: {items: [...]}}`). */
export const searchOf = <T extends z.ZodType>(item: T) => z.looseObject({ items: z.array(item) })

/** A webhook body. */
export const webhookBody = z.looseObject({
  eventType: z.string(),
  eventTimestamp: z.union([z.number(), z.string()]),
  status: z.string(),
  payloadId: z.union([z.number(), z.string()]).transform(String),
})

/** Refund destinations; CARD is the deprecated alias of PROVIDER. */
export const refundDestinationType = z.enum(["PROVIDER", "WALLET", "CARD"]).transform((v) => (v === "CARD" ? "PROVIDER" : v))

/** Where a Craftgate refund status sits in the ledger. */
export const ledgerStatus = (s: "SUCCESS" | "FAILURE" | "WAITING"): RefundStatus => (s === "SUCCESS" ? "succeeded" : s === "FAILURE" ? "failed" : "pending")
