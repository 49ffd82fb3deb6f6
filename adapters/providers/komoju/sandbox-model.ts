/**
 * The KOMOJU sandbox's data: payments with their refunds and refund requests, the figures KOMOJU
 * derives from them (total, amount_refunded, what is left), and the JSON bodies in the exact shape
 * of the seed examples (key order included).
 */
import { randomBytes } from "node:crypto"

/** A refund held by the sandbox. */
export interface SbRefund {
  readonly id: string
  status: "pending" | "completed"
  readonly redirectUrl: string | null
  readonly amount: number
  readonly description: string | null
  readonly createdAt: string
}

/** A refund request held by the sandbox; `payout` is the amount plus the fee when included. */
export interface SbRefundRequest {
  readonly id: string
  status: "pending" | "completed" | "rejected"
  readonly amount: number
  readonly fee: number
  readonly payout: number
  readonly customerName: string
  readonly bankCode: string
  readonly bankName: string
  readonly branchNumber: string
  readonly branchName: string
  readonly accountType: string
  readonly accountNumber: string
  readonly description: string | null
  readonly createdAt: string
  /** The idempotency key or request that created it; the payout's ledger line names it. */
  readonly cause: string
}

/** A payment held by the sandbox. */
export interface SbPayment {
  readonly id: string
  readonly seq: number
  status: "pending" | "authorized" | "captured" | "cancelled" | "expired" | "refunded" | "failed"
  readonly amount: number
  readonly tax: number
  readonly fee: number
  readonly currency: string
  readonly customer: string | null
  readonly deadline: string | null
  readonly method: string | null
  details: Record<string, unknown> | null
  description: string | null
  capturedAt: string | null
  readonly externalOrderNum: string | null
  metadata: Record<string, string>
  readonly createdAt: string
  readonly locale: string
  readonly refunds: SbRefund[]
  readonly requests: SbRefundRequest[]
}

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

/** A KOMOJU-style id: 25 lowercase base-36 characters (seed: "7czbdbavjdbl3jjkrd7c65wi5"). */
export const komojuId = (): string => Array.from(randomBytes(25), (b) => ALPHABET[b % 36]).join("")

/** Seconds-precision UTC time, as KOMOJU prints it ("2020-06-09T07:42:16Z"). */
export const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z")

/** `amount + tax + payment_method_fee` (PROVIDERS.md). */
export const totalOf = (p: SbPayment): number => p.amount + p.tax + p.fee

/** Refunds (pending too: seed konbini/pay_easy/bank_transfer) and completed refund-request payouts. */
export const amountRefunded = (p: SbPayment): number =>
  p.refunds.reduce((s, r) => s + r.amount, 0) + p.requests.filter((r) => r.status === "completed").reduce((s, r) => s + r.payout, 0)

/** Money that has actually gone back: completed refunds and completed refund requests. */
export const settledOf = (p: SbPayment): number =>
  p.refunds.filter((r) => r.status === "completed").reduce((s, r) => s + r.amount, 0) + p.requests.filter((r) => r.status === "completed").reduce((s, r) => s + r.payout, 0)

/** What a new refund or refund request may still take: pending refund requests hold their payout too. */
export const refundableOf = (p: SbPayment): number =>
  totalOf(p) - amountRefunded(p) - p.requests.filter((r) => r.status === "pending").reduce((s, r) => s + r.payout, 0)

/** The refund object, as in the seed's refund examples. */
export const renderRefund = (p: SbPayment, r: SbRefund) => ({
  id: r.id,
  resource: "refund",
  status: r.status,
  redirect_url: r.redirectUrl,
  amount: r.amount,
  currency: p.currency,
  payment: p.id,
  description: r.description,
  created_at: r.createdAt,
  chargeback: false,
})

/**
 * The refund request object, as in seed 000 (it shows no amount or account type). Its `description`
 * is shown when one was sent: komoju-node-sdk's RefundRequest model has the optional field, and seed
 * 000's example, sent without one, shows none.
 */
export const renderRefundRequest = (p: SbPayment, r: SbRefundRequest) => ({
  id: r.id,
  payment: p.id,
  customer_name: r.customerName,
  bank_code: r.bankCode,
  bank_name: r.bankName,
  branch_number: r.branchNumber,
  branch_name: r.branchName,
  account_number: r.accountNumber,
  ...(r.description !== null ? { description: r.description } : {}),
  status: r.status,
  created_at: r.createdAt,
})

/** The payment object, key for key as in the seed examples. */
export const renderPayment = (p: SbPayment) => ({
  id: p.id,
  resource: "payment",
  status: p.status,
  amount: p.amount,
  tax: p.tax,
  customer: p.customer,
  payment_deadline: p.deadline,
  payment_details: p.details,
  payment_method_fee: p.fee,
  total: totalOf(p),
  currency: p.currency,
  description: p.description,
  captured_at: p.capturedAt,
  external_order_num: p.externalOrderNum,
  metadata: p.metadata,
  created_at: p.createdAt,
  amount_refunded: amountRefunded(p),
  locale: p.locale,
  refunds: p.refunds.map((r) => renderRefund(p, r)),
  refund_requests: p.requests.map((r) => renderRefundRequest(p, r)),
})

/** A payment body. */
export type RenderedPayment = ReturnType<typeof renderPayment>

const digits = (n: number): string => Array.from(randomBytes(n), (b) => String(b % 10)).join("")

const brandOf = (number: string): string => {
  if (/^4/.test(number)) return "visa"
  if (/^5[1-5]|^2[2-7]/.test(number)) return "master"
  if (/^3[47]/.test(number)) return "american_express"
  if (/^35/.test(number)) return "jcb"
  if (/^3(0|6|8)/.test(number)) return "diners_club"
  return "unknown"
}

/**
 * The `payment_details` KOMOJU answers for a method (seed create examples): what the customer
 * needs (instructions, receipt numbers, a redirect) and never the secrets that were sent.
 */
export const renderDetails = (id: string, input: Record<string, any>, total: number, baseUrl: string): Record<string, unknown> => {
  const type = String(input.type)
  const email = typeof input.email === "string" ? input.email : null
  const instructions = `${baseUrl}/en/instructions/${id}`
  const redirect = `${baseUrl}/offsite/new?uuid=${id}`
  switch (type) {
    case "credit_card": {
      const number = String(input.number)
      return { type, email, brand: brandOf(number), last_four_digits: number.slice(-4), month: Number(input.month), year: Number(input.year) }
    }
    case "konbini":
      return { type, email, store: input.store, confirmation_code: input.store === "circle-k" ? null : digits(4), receipt: digits(11), instructions_url: instructions }
    case "pay_easy":
      return { type, email, bank_id: digits(5), customer_id: digits(20), confirmation_id: digits(6), instructions_url: instructions }
    case "bank_transfer":
      return {
        type,
        email,
        order_id: `K${digits(10)}`,
        bank_name: "三井住友銀行",
        account_branch_name: "ひなぎく",
        account_number: digits(7),
        account_type: "普通預金",
        account_name: "株式会社DEGICA(カブシキガイシャ デジカ)",
        instructions_url: instructions,
      }
    case "web_money":
    case "net_cash":
    case "nanaco":
      return { type, email, short_amount: 0, prepaid_cards: [{ last_four_digits: String(input.prepaid_number).slice(-4), points: total }] }
    case "bit_cash":
      return { type, email }
    case "mobile":
      return { type, email, provider: null, redirect_url: redirect }
    case "japan_mobile":
      return { type, email, provider: input.brand, redirect_url: redirect }
    case "happy_money":
      return { type, email, happy_money_id: input.happy_money_id }
    case "culture_voucher":
      return { type, email, culture_id: input.culture_id }
    default:
      return { type, email, redirect_url: redirect }
  }
}
