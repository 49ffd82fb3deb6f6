/**
 * OneKey Payments (Directa24 v3) wire formats: request and response bodies, statuses and error codes,
 * from seed 002 and PROVIDERS.md. Amounts on the wire are decimals in major units.
 */
import { z } from "zod"
import type { PaymentStatus, RefundStatus } from "../../../machines/lifecycle/index.js"

/** Card payment methods: refunded to the card, no bank account needed. */
export const CARD_METHODS = ["VI", "MC", "AE", "DC", "EL", "CL", "JC", "DI", "HI", "CS", "MS"] as const

/** True for a card payment method. */
export const isCardMethod = (method: string | null | undefined): boolean => CARD_METHODS.includes(String(method ?? "").toUpperCase() as never)

/** Refund statuses of `GET /v3/refunds/{id}`. */
export const REFUND_STATUSES = ["PENDING", "DELIVERED", "COMPLETED", "REJECTED", "CANCELLED", "INCORRECT_DETAILS"] as const
/** A refund status. */
export type OnekeyRefundStatus = (typeof REFUND_STATUSES)[number]

/** Deposit statuses of `GET /v3/deposits/{id}`. */
export const DEPOSIT_STATUSES = ["CREATED", "PENDING", "COMPLETED", "EARLY_RELEASED", "FOR_REVIEW", "EXPIRED", "CANCELLED"] as const

/** OneKey error codes and their HTTP statuses. */
export const ERRORS = {
  100: { type: "INVALID_CREDENTIALS", status: 401, description: "Invalid credentials" },
  101: { type: "MISSING_REQUIRED_HEADER", status: 400, description: "Missing required header" },
  102: { type: "INVALID_SIGNATURE", status: 401, description: "Invalid signature" },
  103: { type: "INVALID_DATE_RANGE", status: 400, description: "Invalid date range" },
  208: { type: "RESOURCE_NOT_FOUND", status: 404, description: "Resource not found" },
  300: { type: "INVALID_PARAMS", status: 400, description: "Invalid request parameters" },
  800: { type: "REFUND_NOT_ENABLED", status: 400, description: "Refunds are not enabled" },
  801: { type: "DEPOSIT_NOT_COMPLETED", status: 400, description: "The deposit is not completed" },
  802: { type: "INVALID_AMOUNT_TO_REFUND", status: 400, description: "Amount to refund not valid" },
  803: { type: "INSUFFICIENT_FUNDS", status: 400, description: "Insufficient funds" },
  804: { type: "MISSING_BANK_ACCOUNT", status: 400, description: "Missing bank account information" },
  805: { type: "ERROR_IN_REFUND", status: 400, description: "Error in refund" },
} as const
/** A OneKey error code. */
export type OnekeyErrorCode = keyof typeof ERRORS

/** `{code, description, type}`, the error envelope. */
export const errorBody = z.looseObject({ code: z.union([z.number(), z.string()]), description: z.string().optional(), type: z.string().optional() })

const amount = z.union([z.number(), z.string()])
const id = z.union([z.number(), z.string()]).transform(String)

/** The `bank_account` object of a refund request. */
export const bankAccount = z.strictObject({
  beneficiary: z.string().min(1).max(100),
  bank_code: z.union([z.number().int(), z.string().min(1)]),
  branch: z.string().max(20).optional(),
  account_number: z.string().min(1).max(40),
  account_type: z.enum(["SAVING", "CHECKING"]),
  document_id: z.string().max(40).optional(),
  document_type: z.string().max(10).optional(),
})

/** Body of `POST /v3/refunds`. */
export const refundRequest = z.looseObject({
  deposit_id: z.number().int().positive(),
  invoice_id: z.string().min(1),
  amount: amount.optional(),
  bank_account: bankAccount.optional(),
  comments: z.string().max(200).optional(),
  notification_url: z.string().url().optional(),
})

/** Answer of `POST /v3/refunds`: `{refund_id}` for cash methods, plus `refund_info` for cards. */
export const refundResponse = z.looseObject({
  refund_id: id,
  deposit_id: z.number().optional(),
  merchant_invoice_id: z.string().optional(),
  refund_info: z
    .looseObject({
      type: z.string().optional(),
      result: z.enum(["SUCCESS", "REJECTED", "IN_PROGRESS"]),
      payment_method: z.string().optional(),
      payment_method_name: z.string().optional(),
      amount: amount.optional(),
      currency: z.string().optional(),
      created_at: z.string().optional(),
      reason: z.string().optional(),
      reason_code: z.union([z.string(), z.number()]).optional(),
    })
    .optional(),
})

/** Answer of `GET /v3/refunds/{id}`. */
export const refundStatusResponse = z.looseObject({
  deposit_id: z.union([z.number(), z.string()]),
  merchant_invoice_id: z.string().optional(),
  status: z.enum(REFUND_STATUSES),
  amount: amount.optional(),
})

/** Body of `POST /v3/deposits`. */
export const depositRequest = z.looseObject({
  invoice_id: z.string().min(1).max(100),
  amount: amount,
  country: z.string().length(2),
  currency: z.string().length(3),
  payment_method: z.string().min(1).max(4),
  payer: z.looseObject({ document: z.string().optional(), email: z.string().email(), first_name: z.string().min(1), last_name: z.string().min(1) }),
  notification_url: z.string().url().optional(),
})

/** Answer of `POST /v3/deposits`. */
export const depositResponse = z.looseObject({ deposit_id: z.number(), checkout_type: z.string().optional(), redirect_url: z.string().optional() })

/** Answer of `GET /v3/deposits/{id}`. */
export const depositStatusResponse = z.looseObject({
  deposit_id: z.number(),
  invoice_id: z.string().optional(),
  country: z.string().optional(),
  currency: z.string(),
  local_amount: amount,
  payment_method: z.string().optional(),
  payment_type: z.string().optional(),
  status: z.enum(DEPOSIT_STATUSES),
})

/** Where a OneKey refund status sits in paystate's ledger (REJECTED after COMPLETED becomes a reversal there). */
export const ledgerStatus = (s: OnekeyRefundStatus | "SUCCESS" | "IN_PROGRESS"): RefundStatus =>
  s === "COMPLETED" || s === "SUCCESS" ? "succeeded" : s === "REJECTED" || s === "CANCELLED" ? "failed" : "pending"

/** The lifecycle status a deposit status means. */
export const paymentStatusOf = (s: (typeof DEPOSIT_STATUSES)[number]): PaymentStatus =>
  s === "COMPLETED" || s === "EARLY_RELEASED" ? "captured" : s === "EXPIRED" ? "expired" : s === "CANCELLED" ? "cancelled" : "pending"

/** `yyyy-MM-ddTHH:mm:ssZ` in UTC, no milliseconds: the X-Date format. */
export const xDate = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z")
