/**
 * zod schemas of every KOMOJU body the client sends or receives (seed 001 and 000 examples,
 * PROVIDERS.md for errors and events). Responses are parsed loosely: KOMOJU may add fields, and a
 * client must not break on them; the fields paystate relies on are checked.
 */
import { z } from "zod"
import { KOMOJU_METHODS } from "../../../machines/komoju/methods.js"

/** Payment statuses (PROVIDERS.md). */
export const PAYMENT_STATUS = z.enum(["pending", "authorized", "captured", "cancelled", "expired", "refunded", "failed"])

const int = z.number().int()

/** A refund object inside a payment (seed 001 refund examples). */
export const komojuRefund = z.looseObject({
  id: z.string(),
  resource: z.literal("refund").optional(),
  status: z.string(),
  redirect_url: z.string().nullable().optional(),
  amount: int,
  currency: z.string(),
  payment: z.string(),
  description: z.string().nullable().optional(),
  created_at: z.string(),
  chargeback: z.boolean().optional(),
})
/** A refund as KOMOJU answers it. */
export type KomojuRefund = z.infer<typeof komojuRefund>

/**
 * A refund request inside a payment (seed 000; it carries no amount). `description` is in
 * komoju-node-sdk's RefundRequest model ("Optional description or reason for this refund request");
 * seed 000's example sent none and shows none. `bank_code` may be null (the same model).
 */
export const komojuRefundRequest = z.looseObject({
  id: z.string(),
  payment: z.string(),
  customer_name: z.string().optional(),
  bank_code: z.string().nullable().optional(),
  bank_name: z.string().optional(),
  branch_number: z.string().optional(),
  branch_name: z.string().nullable().optional(),
  account_number: z.string().optional(),
  description: z.string().nullable().optional(),
  status: z.string(),
  created_at: z.string(),
})
/** A refund request as KOMOJU answers it. */
export type KomojuRefundRequest = z.infer<typeof komojuRefundRequest>

/** A payment object (every seed 001 answer). */
export const komojuPayment = z.looseObject({
  id: z.string(),
  resource: z.literal("payment"),
  status: PAYMENT_STATUS,
  amount: int,
  tax: int,
  customer: z.string().nullable().optional(),
  payment_deadline: z.string().nullable(),
  payment_details: z.looseObject({ type: z.string() }).nullable(),
  payment_method_fee: int,
  total: int,
  currency: z.string(),
  description: z.string().nullable(),
  captured_at: z.string().nullable(),
  external_order_num: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable().transform((m) => m ?? {}),
  created_at: z.string(),
  amount_refunded: int,
  locale: z.string().nullable().optional(),
  refunds: z.array(komojuRefund),
  refund_requests: z.array(komojuRefundRequest).optional().transform((r) => r ?? []),
})
/** A payment as KOMOJU answers it. */
export type KomojuPayment = z.infer<typeof komojuPayment>

/** The list answer (seed 001 list example). */
export const komojuList = z.looseObject({
  resource: z.literal("list"),
  total: int,
  page: int,
  per_page: int,
  last_page: int,
  data: z.array(komojuPayment),
})
/** One page of payments. */
export type KomojuList = z.infer<typeof komojuList>

/** The error envelope (PROVIDERS.md; doc.komoju.com/docs/errors). */
export const komojuErrorBody = z.looseObject({
  error: z.looseObject({ message: z.string(), code: z.string(), param: z.string().nullable().optional() }),
})

/** A webhook event (PROVIDERS.md). */
export const komojuEvent = z.looseObject({
  id: z.string(),
  type: z.string(),
  resource: z.literal("event"),
  data: z.unknown(),
  created_at: z.string(),
  reason: z.string().nullable().optional(),
})
/** A webhook event as KOMOJU sends it. */
export type KomojuEvent = z.infer<typeof komojuEvent>

// ---- requests -------------------------------------------------------------------------------

const text = z.string().min(1)
const digits = (n: string) => z.union([z.string().regex(/^\d+$/, `${n} must be digits`), int.nonnegative()])

/** `payment_details` of a create (seed 001 create examples; each method's required fields). */
export const paymentDetailsInput = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("credit_card"), number: z.string().regex(/^\d{12,19}$/, "number must be 12–19 digits"), month: digits("month"), year: digits("year"), verification_value: z.string().optional(), name: z.string().optional(), email: z.string().optional() }),
  z.looseObject({ type: z.literal("konbini"), store: z.enum(["seven-eleven", "lawson", "family-mart", "ministop", "daily-yamazaki", "seicomart", "circle-k"]), email: text, phone: z.string().optional(), expiry_days: digits("expiry_days").optional() }),
  z.looseObject({ type: z.literal("bank_transfer"), email: text, family_name: text, given_name: text, family_name_kana: z.string().optional(), given_name_kana: z.string().optional(), phone: z.string().optional(), expiry_days: digits("expiry_days").optional() }),
  z.looseObject({ type: z.literal("pay_easy"), email: text, family_name: text, given_name: text, family_name_kana: z.string().optional(), given_name_kana: z.string().optional(), phone: z.string().optional(), expiry_days: digits("expiry_days").optional() }),
  z.looseObject({ type: z.literal("web_money"), prepaid_number: text, email: z.string().optional() }),
  z.looseObject({ type: z.literal("bit_cash"), prepaid_number: text, email: z.string().optional() }),
  z.looseObject({ type: z.literal("net_cash"), prepaid_number: text, email: z.string().optional() }),
  z.looseObject({ type: z.literal("nanaco"), prepaid_number: text, email: z.string().optional() }),
  z.looseObject({ type: z.literal("mobile"), email: z.string().optional() }),
  z.looseObject({ type: z.literal("japan_mobile"), brand: z.enum(["docomo", "au", "softbank"]), email: z.string().optional() }),
  z.looseObject({ type: z.literal("line_pay"), email: z.string().optional() }),
  z.looseObject({ type: z.literal("merpay"), email: z.string().optional() }),
  z.looseObject({ type: z.literal("paidy"), email: z.string().optional() }),
  z.looseObject({ type: z.literal("happy_money"), happy_money_id: text, happy_money_password: text }),
  z.looseObject({ type: z.literal("culture_voucher"), culture_id: text, culture_password: text }),
])
/** Method names the create schema accepts. */
export const METHOD_NAMES = KOMOJU_METHODS

/** The body of `POST /payments` (seed 001 create params). */
export const createPaymentBody = z.looseObject({
  amount: int.nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  payment_details: paymentDetailsInput.optional(),
  customer: z.string().optional(),
  capture: z.boolean().optional(),
  description: z.string().optional(),
  tax: z.union([int.nonnegative(), z.literal("auto"), z.string().regex(/^\d+(\.\d+)?$/)]).optional(),
  external_order_num: z.string().optional(),
  locale: z.enum(["en", "ja", "ko"]).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  return_url: z.string().optional(),
  email: z.string().optional(),
})
/** A create body. */
export type CreatePaymentBody = z.infer<typeof createPaymentBody>

/** The body of `PATCH /payments/:id`: only description and metadata (seed 001 update). */
export const updatePaymentBody = z.strictObject({ description: z.string().nullable().optional(), metadata: z.record(z.string(), z.string()).optional() })
/** An update body. */
export type UpdatePaymentBody = z.infer<typeof updatePaymentBody>

/** The body of `POST /payments/:id/refund` (seed 001 refund params). */
export const refundBody = z.strictObject({
  amount: int.nonnegative().optional(),
  description: z.string().optional(),
  name: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
})
/** A refund body. */
export type RefundBody = z.infer<typeof refundBody>

/**
 * The body of `POST /payments/:id/refund_request` (seed 000 params, all required but description;
 * formats from PROVIDERS.md: 4-digit Zengin bank code, 3-digit branch, account up to 7 digits).
 */
export const refundRequestBody = z.strictObject({
  amount: int.nonnegative(),
  customer_name: z.string().min(1).regex(/^[\x20-\x7e\uff61-\uff9f]+$/, "customer_name must be half-width characters (ASCII or half-width katakana)"),
  bank_code: z.string().regex(/^\d{4}$/, "bank_code must be a 4-digit Zengin code"),
  bank_name: z.string().min(1),
  branch_number: z.string().regex(/^\d{3}$/, "branch_number must be 3 digits"),
  branch_name: z.string().min(1),
  account_type: z.enum(["normal", "checking"]),
  account_number: z.string().regex(/^\d{1,7}$/, "account_number must be up to 7 digits"),
  include_payment_method_fee: z.boolean(),
  description: z.string().optional(),
})
/** A refund request body. */
export type RefundRequestBody = z.infer<typeof refundRequestBody>

/** Query of `GET /payments` (seed 001 list params). */
export const listQuery = z.strictObject({
  page: int.positive().optional(),
  per_page: int.positive().optional(),
  currency: z.string().optional(),
  external_order_num: z.string().optional(),
  status: PAYMENT_STATUS.optional(),
  start_time: z.string().optional(),
  end_time: z.string().optional(),
})
/** List filters. */
export type ListQuery = z.infer<typeof listQuery>
