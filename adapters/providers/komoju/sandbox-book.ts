/**
 * The KOMOJU sandbox's rules: every operation of seed 001 and seed 000 on the sandbox's payments,
 * with KOMOJU's refusals, the money ledger of SANDBOXES.md and the webhook each change sends.
 */
import { CASH_METHODS, initialStatus, isKomojuMethod, METHOD_RULES, autoTax, deadlineFor, roundHalfUp, type KomojuMethod } from "../../../machines/komoju/methods.js"
import { isKnownCurrency } from "../../../src/money.js"
import type { SandboxKernel } from "../../sandbox/kernel.js"
import { boolParam, intParam, invalidParam, KomojuSandboxError, mapParam, missing, stringParam, unprocessable } from "./sandbox-params.js"
import { isoSeconds, komojuId, refundableOf, renderDetails, settledOf, totalOf, type SbPayment, type SbRefund, type SbRefundRequest } from "./sandbox-model.js"

/** Webhook event types the sandbox sends (PROVIDERS.md). */
export type KomojuEventType =
  | "payment.authorized"
  | "payment.captured"
  | "payment.updated"
  | "payment.expired"
  | "payment.cancelled"
  | "payment.failed"
  | "payment.refund.created"
  | "payment.refunded"
  | "refund_request.updated"

/** What the book needs from the server around it. */
export interface BookOptions {
  readonly kernel: SandboxKernel
  /** The sandbox's own URL, for instruction and redirect links. */
  readonly baseUrl: () => string
  readonly taxRatePercent: number
  /** `payment_method_fee` per method (all 0 in the seeds). */
  readonly paymentMethodFees: Partial<Record<KomojuMethod, number>>
  readonly emit: (type: KomojuEventType, payment: SbPayment) => void
}

/** A card number the sandbox declines (402 request_failed), to test a failed create. */
export const DECLINED_CARD = "4000000000000002"

const UPDATABLE = new Set(["description", "metadata"])
const NOT_UPDATABLE = new Set(["amount", "currency", "tax", "payment_details", "customer", "capture", "external_order_num", "status", "locale", "payment_deadline"])

/** The sandbox's payments and the rules over them. */
export class KomojuBook {
  readonly payments = new Map<string, SbPayment>()
  private readonly refunds = new Map<string, { payment: SbPayment; refund: SbRefund }>()
  private readonly requests = new Map<string, { payment: SbPayment; request: SbRefundRequest }>()
  private seq = 0

  constructor(private readonly o: BookOptions) {}

  private now(): string {
    return isoSeconds(this.o.kernel.now())
  }

  /** Forgets every payment. */
  reset(): void {
    this.payments.clear()
    this.refunds.clear()
    this.requests.clear()
  }

  /** `GET /payments/:id`. */
  get(id: string): SbPayment {
    const p = this.payments.get(id)
    if (!p) throw new KomojuSandboxError(404, "not_found", `The requested payment (${id}) could not be found`, "id")
    return p
  }

  /** Expires pending and authorized payments whose deadline has passed (sandbox clock). */
  expireDue(now: Date): void {
    for (const p of this.payments.values()) {
      // A deadline names its last second ("…T14:59:59Z" is 23:59:59 in Japan): it passes when that second ends.
      if ((p.status === "pending" || p.status === "authorized") && p.deadline && Date.parse(p.deadline) + 1000 <= now.getTime()) {
        p.status = "expired"
        this.o.emit("payment.expired", p)
      }
    }
  }

  /** `POST /payments` (seed 001 create). */
  create(body: Record<string, any>, cause: string): SbPayment {
    const amount = intParam(body, "amount", true)!
    const currency = stringParam(body, "currency", true)!
    if (!/^[A-Z]{3}$/.test(currency) || !isKnownCurrency(currency)) throw invalidParam("currency", "must be a 3 letter ISO currency code")
    const hasDetails = body.payment_details !== undefined && body.payment_details !== null && body.payment_details !== ""
    const customer = stringParam(body, "customer", false)
    if (hasDetails === (customer !== undefined)) {
      if (!hasDetails) throw missing("payment_details")
      throw unprocessable("Must specify exactly one of payment_details or customer", "payment_details")
    }
    let method: KomojuMethod | null = null
    let details: Record<string, any> | null = null
    if (hasDetails) {
      if (typeof body.payment_details !== "object") throw invalidParam("payment_details", "must be a hash describing the payment method")
      details = body.payment_details as Record<string, any>
      const type = stringParam(details, "type", true, "payment_details[type]")!
      if (!isKomojuMethod(type)) throw invalidParam("payment_details[type]", `unknown payment method "${type}"`)
      method = type
      for (const f of METHOD_RULES[type].required) stringParam(details, f, true, `payment_details[${f}]`)
      const currencies = METHOD_RULES[type].currencies
      if (currencies && !currencies.includes(currency)) throw invalidParam("currency", `${type} takes ${currencies.join(", ")}`)
      if (type === "credit_card" && String(details.number) === DECLINED_CARD) {
        throw new KomojuSandboxError(402, "request_failed", "The card was declined by the issuer", "payment_details[number]")
      }
    }
    const tax = this.taxOf(body, amount)
    const fee = method ? (this.o.paymentMethodFees[method] ?? 0) : 0
    // KOMOJU's amounts are integers of the minor unit; a total beyond 2^53 could not be answered exactly.
    if (!Number.isSafeInteger(amount + tax + fee)) throw invalidParam("amount", "amount + tax + payment_method_fee is too large")
    const capture = boolParam(body, "capture", false) ?? true
    const locale = stringParam(body, "locale", false) ?? "ja"
    if (!["en", "ja", "ko"].includes(locale)) throw invalidParam("locale", "must be en, ja or ko")
    const metadata = mapParam(body, "metadata") ?? {}
    const created = this.o.kernel.now()
    const expiry = details ? intParam(details, "expiry_days", false, "payment_details[expiry_days]") : undefined
    const id = komojuId()
    const status = initialStatus(method, capture)
    const p: SbPayment = {
      id,
      seq: ++this.seq,
      status,
      amount,
      tax,
      fee,
      currency,
      customer: customer ?? null,
      deadline: method ? deadlineFor(method, created, expiry) : null,
      method,
      details: null,
      description: stringParam(body, "description", false) ?? null,
      capturedAt: status === "captured" ? isoSeconds(created) : null,
      externalOrderNum: stringParam(body, "external_order_num", false) ?? null,
      metadata,
      createdAt: isoSeconds(created),
      locale,
      refunds: [],
      requests: [],
    }
    p.details = details ? renderDetails(id, details, totalOf(p), this.o.baseUrl()) : null
    this.payments.set(id, p)
    if (status === "captured") {
      this.o.kernel.record({ type: "capture", paymentId: id, amount: totalOf(p), currency, cause })
      this.o.emit("payment.captured", p)
    } else if (status === "authorized") this.o.emit("payment.authorized", p)
    return p
  }

  private taxOf(body: Record<string, any>, amount: number): number {
    const raw = body.tax
    if (raw === undefined || raw === null || raw === "" || raw === "auto") return autoTax(amount, this.o.taxRatePercent)
    // "If the tax is more precise than the currency allows, it will be rounded using a round half up algorithm."
    const n = typeof raw === "number" && raw >= 0 ? roundHalfUp(String(raw)) : typeof raw === "string" ? roundHalfUp(raw) : undefined
    if (n === undefined) throw invalidParam("tax", "must be 'auto' or a number, 0 or more, with '.' as decimal separator")
    return n
  }

  /** `PATCH /payments/:id`: only description and metadata change (seed 001 update). */
  update(id: string, body: Record<string, any>): SbPayment {
    const p = this.get(id)
    const fixed = Object.keys(body).filter((k) => NOT_UPDATABLE.has(k))
    if (fixed.length) throw unprocessable(`Only a payment's description and metadata can be changed, not ${fixed.join(", ")}`, fixed[0])
    if (!Object.keys(body).some((k) => UPDATABLE.has(k))) throw missing("description")
    if ("description" in body) p.description = body.description === null ? null : (stringParam(body, "description", false) ?? null)
    const metadata = mapParam(body, "metadata")
    if (metadata !== undefined) p.metadata = metadata
    this.o.emit("payment.updated", p)
    return p
  }

  /** `POST /payments/:id/capture`: an authorized credit card only (seed 001 capture). */
  capture(id: string, cause: string): SbPayment {
    const p = this.get(id)
    if (p.method !== "credit_card") throw unprocessable(`Only credit_card payments can be captured; this payment is ${p.method ?? "a customer payment"}`)
    if (p.status !== "authorized") throw unprocessable(`Only an authorized payment can be captured; this payment is ${p.status}`)
    return this.markCaptured(p, cause)
  }

  private markCaptured(p: SbPayment, cause: string): SbPayment {
    p.status = "captured"
    p.capturedAt = this.now()
    this.o.kernel.record({ type: "capture", paymentId: p.id, amount: totalOf(p), currency: p.currency, cause })
    this.o.emit("payment.captured", p)
    return p
  }

  /** `POST /payments/:id/cancel`: pending or authorized only (seed 001 cancel). */
  cancel(id: string, cause: string): SbPayment {
    const p = this.get(id)
    if (p.status !== "pending" && p.status !== "authorized") throw unprocessable(`Only a pending or authorized payment can be cancelled; this payment is ${p.status}`)
    p.status = "cancelled"
    this.o.kernel.record({ type: "cancel", paymentId: p.id, amount: totalOf(p), currency: p.currency, cause })
    this.o.emit("payment.cancelled", p)
    return p
  }

  private refundable(p: SbPayment, param = "amount"): number {
    if (p.status === "refunded") throw unprocessable("The payment is fully refunded: nothing is left to refund", param)
    if (p.status !== "captured") throw unprocessable(`Only a captured payment can be refunded; this payment is ${p.status}`)
    return refundableOf(p)
  }

  /** `POST /payments/:id/refund`: any amount up to what is left; none = all of it (seed 001 refund). */
  refund(id: string, body: Record<string, any>, cause: string): SbPayment {
    const p = this.get(id)
    const left = this.refundable(p)
    const amount = intParam(body, "amount", false) ?? left
    if (amount === 0) throw invalidParam("amount", left === 0 ? "nothing is left to refund" : "must be more than 0")
    if (amount > left) throw unprocessable(`The refund amount (${amount}) exceeds the refundable amount (${left})`, "amount")
    // Cash methods: the customer collects the money at a store, so the refund waits (seed: status pending + redirect_url).
    const cash = p.method !== null && (CASH_METHODS as readonly string[]).includes(p.method)
    const refund: SbRefund = {
      id: komojuId(),
      status: cash ? "pending" : "completed",
      redirectUrl: cash ? `${this.o.baseUrl()}/refunds/${komojuId()}` : null,
      amount,
      description: stringParam(body, "description", false) ?? null,
      createdAt: this.now(),
    }
    p.refunds.push(refund)
    this.refunds.set(refund.id, { payment: p, refund })
    this.o.kernel.record({ type: "refund", paymentId: p.id, refundId: refund.id, amount, currency: p.currency, cause, status: refund.status })
    this.o.emit("payment.refund.created", p)
    this.settleIfFull(p)
    return p
  }

  /** `POST /payments/:id/refund_request`: cash methods only, paid back by bank transfer (seed 000). */
  refundRequest(id: string, body: Record<string, any>, cause: string): SbPayment {
    const p = this.get(id)
    if (!p.method || !(CASH_METHODS as readonly string[]).includes(p.method)) {
      throw unprocessable(`Refund requests are only for payment methods that cannot refund (${CASH_METHODS.join(", ")}); refund this ${p.method ?? "customer"} payment instead`)
    }
    const left = this.refundable(p)
    const amount = intParam(body, "amount", true)!
    const customerName = stringParam(body, "customer_name", true)!
    const bankCode = stringParam(body, "bank_code", true)!
    const bankName = stringParam(body, "bank_name", true)!
    const branchNumber = stringParam(body, "branch_number", true)!
    const branchName = stringParam(body, "branch_name", true)!
    const accountType = stringParam(body, "account_type", true)!
    const accountNumber = stringParam(body, "account_number", true)!
    const include = boolParam(body, "include_payment_method_fee", true)!
    if (!/^\d{4}$/.test(bankCode)) throw invalidParam("bank_code", "must be the bank's 4-digit Zengin code")
    if (!/^\d{3}$/.test(branchNumber)) throw invalidParam("branch_number", "must be 3 digits")
    if (!/^\d{1,7}$/.test(accountNumber)) throw invalidParam("account_number", "must be up to 7 digits")
    if (accountType !== "normal" && accountType !== "checking") throw invalidParam("account_type", "must be normal or checking")
    if (!/^[\x20-\x7e\uff61-\uff9f]+$/.test(customerName)) throw invalidParam("customer_name", "must be half-width characters (ASCII or half-width katakana)")
    const fee = include ? p.fee : 0
    if (fee > 0 && p.requests.some((r) => r.fee > 0 && r.status !== "rejected")) throw unprocessable("The payment method fee was already refunded by an earlier refund request", "include_payment_method_fee")
    const payout = amount + fee
    if (payout === 0) throw invalidParam("amount", "nothing would be paid back")
    if (payout > left) throw unprocessable(`The refund request (${payout}) exceeds the refundable amount (${left})`, "amount")
    const request: SbRefundRequest = {
      id: komojuId(),
      status: "pending",
      amount,
      fee,
      payout,
      customerName,
      bankCode,
      bankName,
      branchNumber,
      branchName,
      accountType,
      accountNumber,
      description: stringParam(body, "description", false) ?? null,
      createdAt: this.now(),
      cause,
    }
    p.requests.push(request)
    this.requests.set(request.id, { payment: p, request })
    return p
  }

  /** Customer action: pays a pending or authorized payment (konbini, bank transfer, offsite…). */
  pay(id: string): SbPayment {
    const p = this.get(id)
    if (p.status !== "pending" && p.status !== "authorized") throw unprocessable(`Only a pending or authorized payment can be paid; this payment is ${p.status}`)
    if (p.method === "credit_card") throw unprocessable("An authorized card payment waits for the merchant's capture, not for the customer")
    return this.markCaptured(p, "sandbox: customer paid")
  }

  /** Customer action: the payment fails (offsite authorization refused, abandoned). */
  fail(id: string): SbPayment {
    const p = this.get(id)
    if (p.status !== "pending" && p.status !== "authorized") throw unprocessable(`Only a pending or authorized payment can fail; this payment is ${p.status}`)
    p.status = "failed"
    this.o.emit("payment.failed", p)
    return p
  }

  /** Customer action: collects a pending cash refund. */
  completeRefund(refundId: string): SbPayment {
    const found = this.refunds.get(refundId)
    if (!found) throw new KomojuSandboxError(404, "not_found", `The requested refund (${refundId}) could not be found`, "id")
    if (found.refund.status !== "pending") throw unprocessable(`The refund is already ${found.refund.status}`)
    found.refund.status = "completed"
    if (!this.settleIfFull(found.payment)) this.o.emit("payment.updated", found.payment)
    return found.payment
  }

  /** Bank action: the refund request's transfer is made (`completed`) or refused (`rejected`, amount released). */
  settleRequest(requestId: string, to: "completed" | "rejected"): SbPayment {
    const found = this.requests.get(requestId)
    if (!found) throw new KomojuSandboxError(404, "not_found", `The requested refund request (${requestId}) could not be found`, "id")
    const { payment: p, request } = found
    if (request.status !== "pending") throw unprocessable(`The refund request is already ${request.status}`)
    request.status = to
    if (to === "completed") {
      this.o.kernel.record({ type: "refund_request_payout", paymentId: p.id, refundId: request.id, amount: request.payout, currency: p.currency, cause: `${request.cause} (paid out by bank transfer)` })
    }
    this.o.emit("refund_request.updated", p)
    if (to === "completed") this.settleIfFull(p)
    return p
  }

  /** Marks the payment refunded once the money that went back covers its total (seed bit_cash: 110 of 110). */
  private settleIfFull(p: SbPayment): boolean {
    if (p.status === "captured" && settledOf(p) >= totalOf(p)) {
      p.status = "refunded"
      this.o.emit("payment.refunded", p)
      return true
    }
    return false
  }

  /** `GET /payments` (seed 001 list): filters, newest first, pages. */
  list(q: URLSearchParams) {
    const num = (name: string, dflt: number, max: number) => {
      const v = q.get(name)
      if (v === null || v === "") return dflt
      if (!/^\d+$/.test(v) || Number(v) < 1) throw invalidParam(name, "must be a positive integer")
      return Math.min(Number(v), max)
    }
    const time = (name: string) => {
      const v = q.get(name)
      if (v === null || v === "") return undefined
      const t = Date.parse(v)
      if (Number.isNaN(t)) throw invalidParam(name, "must be an ISO 8601 time")
      return t
    }
    const page = num("page", 1, Number.MAX_SAFE_INTEGER)
    const perPage = num("per_page", 10, 100)
    const status = q.get("status") || undefined
    if (status && !["pending", "authorized", "captured", "cancelled", "expired", "refunded", "failed"].includes(status)) throw invalidParam("status", "unknown status")
    const currency = q.get("currency") || undefined
    const order = q.get("external_order_num") || undefined
    const start = time("start_time")
    const end = time("end_time")
    const all = [...this.payments.values()]
      .filter((p) => (!status || p.status === status) && (!currency || p.currency === currency) && (!order || p.externalOrderNum === order))
      .filter((p) => (start === undefined || Date.parse(p.createdAt) >= start) && (end === undefined || Date.parse(p.createdAt) < end))
      .sort((a, b) => b.seq - a.seq)
    return { page, perPage, total: all.length, lastPage: Math.max(1, Math.ceil(all.length / perPage)), data: all.slice((page - 1) * perPage, page * perPage) }
  }
}
