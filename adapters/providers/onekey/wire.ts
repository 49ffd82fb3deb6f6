/**
 * OneKey Payments (Directa24 v3) wire formats: request and response bodies, statuses and error codes,
 * from seed 002, PROVIDERS.md and D24's public API pages. Amounts on the wire are decimals in major
 * units. Answers are parsed leniently where D24 says it may add values (statuses, results, fields):
 * an unknown status reads as still pending, never as a final outcome.
 */
import { z } from "zod"
import type { PaymentStatus, RefundStatus } from "../../../machines/lifecycle/index.js"

export { CARD_METHODS, isCardMethod } from "../../../machines/onekey/index.js"

/** Refund statuses of `GET /v3/refunds/{id}`. */
export const REFUND_STATUSES = ["PENDING", "INCORRECT_DETAILS", "DELIVERED", "COMPLETED", "REJECTED", "CANCELLED"] as const
/** A refund status. */
export type OnekeyRefundStatus = (typeof REFUND_STATUSES)[number]
/** Results of a card refund in the `POST /v3/refunds` answer. */
export const CARD_RESULTS = ["SUCCESS", "REJECTED", "IN_PROGRESS"] as const
/** A card refund result. */
export type OnekeyCardResult = (typeof CARD_RESULTS)[number]

/**
 * Statuses a refund never returns to (PENDING ↔ INCORRECT_DETAILS can repeat): a notification that
 * finds one of these can be deduplicated by refund and status.
 */
export const ONE_WAY_STATUSES: readonly string[] = ["DELIVERED", "COMPLETED", "REJECTED", "CANCELLED"]

/** Deposit statuses of `GET /v3/deposits/{id}`. */
export const DEPOSIT_STATUSES = ["CREATED", "PENDING", "EARLY_RELEASED", "FOR_REVIEW", "COMPLETED", "EXPIRED", "CANCELLED", "DECLINED"] as const
/** A deposit status. */
export type OnekeyDepositStatus = (typeof DEPOSIT_STATUSES)[number]

/** OneKey error codes, their types and HTTP statuses (seed 002, PROVIDERS.md, D24 "API Codes"). */
export const ERRORS = {
  100: { type: "INVALID_CREDENTIALS", status: 401, description: "Invalid credentials" },
  101: { type: "MISSING_REQUIRED_HEADER", status: 400, description: "Missing or invalid format for required header" },
  102: { type: "INVALID_SIGNATURE", status: 400, description: "Invalid signature" },
  103: { type: "INVALID_DATE_RANGE", status: 400, description: "X-Date header value out of valid range" },
  202: { type: "INVALID_REQUEST_BODY", status: 400, description: "Invalid request body" },
  208: { type: "RESOURCE_NOT_FOUND", status: 404, description: "Resource not found" },
  800: { type: "REFUND_NOT_ENABLED", status: 400, description: "Refunds are not enabled" },
  801: { type: "DEPOSIT_NOT_COMPLETED", status: 400, description: "The deposit is not completed" },
  802: { type: "INVALID_AMOUNT_TO_REFUND", status: 400, description: "Amount to refund not valid" },
  803: { type: "INSUFFICIENT_FUNDS", status: 400, description: "Insufficient funds" },
  804: { type: "MISSING_BANK_ACCOUNT", status: 400, description: "Missing bank account information" },
  805: { type: "ERROR_IN_REFUND", status: 400, description: "Error in refund" },
} as const
/** A OneKey error code. */
export type OnekeyErrorCode = keyof typeof ERRORS

/** `{code, description, type}`; D24's status endpoints may nest it as `{error: {code, message}}`. */
const flatError = z.looseObject({
  code: z.union([z.number(), z.string()]),
  description: z.string().optional(),
  message: z.string().optional(),
  type: z.string().optional(),
})
/** The error envelope, flat or nested, as one flat shape. */
export const errorBody = z.union([flatError, z.looseObject({ error: flatError }).transform((e) => e.error)])

const amount = z.union([z.number(), z.string()])
const id = z.union([z.number(), z.string()]).transform(String)

/** The `bank_account` object of a refund request. */
export const bankAccount = z.strictObject({
  beneficiary: z.string().min(1).max(100),
  bank_code: z.union([z.number().int(), z.string().min(1).max(45)]),
  branch: z.string().max(20).optional(),
  account_number: z.string().min(1).max(45),
  account_type: z.enum(["SAVING", "CHECKING"]),
  document_id: z.string().max(40).optional(),
  document_type: z.string().max(10).optional(),
})
/** A bank account. */
export type OnekeyBankAccount = z.infer<typeof bankAccount>

/** Body of `POST /v3/refunds`. */
export const refundRequest = z.looseObject({
  deposit_id: z.number().int().positive(),
  invoice_id: z.string().min(1),
  amount: amount.optional(),
  bank_account: z.unknown().optional(),
  comments: z.string().max(200).optional(),
  notification_url: z.string().url().optional(),
})

/** Answer of `POST /v3/refunds`: `{refund_id}` for cash methods, plus `refund_info` for cards. */
export const refundResponse = z.looseObject({
  refund_id: id,
  deposit_id: z.union([z.number(), z.string()]).optional(),
  merchant_invoice_id: z.string().optional(),
  refund_info: z
    .looseObject({
      type: z.string().optional(),
      // Kept as a string: an unannounced result must not lose the refund_id of a refund that exists.
      result: z.string().optional(),
      payment_method: z.string().optional(),
      payment_method_name: z.string().optional(),
      amount: amount.optional(),
      currency: z.string().optional(),
      created_at: z.string().optional(),
      reason: z.string().nullish(),
      reason_code: z.union([z.string(), z.number()]).nullish(),
    })
    .nullish(),
})
/** A refund creation answer. */
export type OnekeyRefundResponse = z.infer<typeof refundResponse>

/** Answer of `GET /v3/refunds/{id}` (D24 may add fields; the status may be one it adds later). */
export const refundStatusResponse = z.looseObject({
  deposit_id: z.union([z.number(), z.string()]),
  merchant_invoice_id: z.string().optional(),
  status: z.string(),
  amount: amount.optional(),
})
/** A refund status answer. */
export type OnekeyRefundStatusResponse = z.infer<typeof refundStatusResponse>

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
export const depositResponse = z.looseObject({
  deposit_id: z.union([z.number(), z.string()]),
  checkout_type: z.string().optional(),
  redirect_url: z.string().optional(),
  merchant_invoice_id: z.string().optional(),
  payment_info: z.looseObject({ expiration_date: z.string().optional() }).optional(),
})
/** A deposit creation answer. */
export type OnekeyDepositResponse = z.infer<typeof depositResponse>

/** Answer of `GET /v3/deposits/{id}`. */
export const depositStatusResponse = z.looseObject({
  deposit_id: z.union([z.number(), z.string()]),
  invoice_id: z.string().optional(),
  country: z.string().optional(),
  currency: z.string(),
  local_amount: amount.optional(),
  amount: amount.optional(),
  payment_method: z.string().optional(),
  payment_type: z.string().optional(),
  status: z.string(),
})
/** A deposit status answer. */
export type OnekeyDepositStatusResponse = z.infer<typeof depositStatusResponse>

/** `GET /v3/banks?country=XX`. */
export const banksResponse = z.array(z.looseObject({ code: z.union([z.number(), z.string()]), name: z.string() }))

/**
 * Where a OneKey refund status or card result sits in paystate's ledger. REJECTED after COMPLETED
 * becomes `reversed` in the ledger itself; anything OneKey adds later stays `pending`.
 */
export const ledgerStatus = (s: string): RefundStatus =>
  s === "COMPLETED" || s === "SUCCESS" ? "succeeded" : s === "REJECTED" || s === "CANCELLED" ? "failed" : "pending"

/**
 * The lifecycle status a deposit status means. EARLY_RELEASED is not paid yet (D24: "the customer
 * hasn't paid yet") and FOR_REVIEW may still fail, so both stay pending: refunds need COMPLETED.
 */
export const paymentStatusOf = (s: string): PaymentStatus =>
  s === "COMPLETED" ? "captured" : s === "EXPIRED" ? "expired" : s === "CANCELLED" ? "cancelled" : s === "DECLINED" ? "failed" : "pending"

/** `yyyy-MM-ddTHH:mm:ssZ` in UTC, no milliseconds: the X-Date format. */
export const xDate = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z")

/** How long OneKey (Directa24 v3) keeps an X-Idempotency-Key: a repeat within it gets the first answer. */
export const ONEKEY_KEY_LIFETIME_MS = 24 * 3_600_000
