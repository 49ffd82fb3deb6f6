/**
 * The Craftgate sandbox's books: card payments made of payment transactions, CANCELs and REFUNDs of
 * whole payments (seed 003's rule, judged by the sandbox's own clock), transaction refunds with their
 * per-transaction ceilings, WAITING refunds settled later, stored cards, the ledger of money moved, and
 * signed webhooks on success. Views are the official clients' response shapes: `PaymentResponse`,
 * `PaymentRefundResponse`, `PaymentTransactionRefundResponse` for the payment API, and the `Reporting…`
 * shapes (no refundType, no currency on transaction refunds) for the reporting API.
 * No HTTP here: the routes in sandbox.ts call these methods.
 */
import { sameDay, type DayRule } from "../../../machines/craftgate/same-day.js"
import { exponentOf, toMajorNumber, toMinor } from "../../../src/money.js"
import { sandboxIdBase, type SandboxKernel } from "../../sandbox/kernel.js"
import { craftgateDate, CRAFTGATE_CURRENCIES, type CraftgateRefundStatus } from "./wire.js"

/** A refusal in Craftgate's error shape; the routes turn it into `{errors}` with its HTTP status. */
export class CraftgateSandboxError extends Error {
  constructor(readonly status: number, readonly errorCode: string, readonly errorDescription: string, readonly errorGroup?: string) {
    super(errorDescription)
  }
}

/** Card numbers ending in this are refused by the bank (10051, NOT_SUFFICIENT_FUNDS). */
export const CRAFTGATE_DECLINED_CARD_SUFFIX = "0002"

type Status = CraftgateRefundStatus
interface Tx { id: number; name: string | null; externalId: string | null; price: number; paidPrice: number }
interface Payment {
  id: number; conversationId: string | null; externalId: string | null; currency: string; price: number; paidPrice: number; installment: number
  paymentGroup: string; phase: "AUTH" | "PRE_AUTH" | "POST_AUTH"; status: "SUCCESS" | "FAILURE"; createdAt: Date; lastFour: string; bin: string
  holder: string | null; stored: { cardUserKey: string; cardToken: string } | null; paidWithStoredCard: boolean; txs: Tx[]
}
/** A stored card: what a PCI-compliant store keeps in the sandbox's view (the number's bin and last four). */
interface StoredCard { cardUserKey: string; cardToken: string; bin: string; lastFour: string; holder: string | null }
interface TxRefund { id: number; conversationId: string | null; paymentId: number; paymentTransactionId: number; amount: number; status: Status; destination: string; chargeFromMe: boolean; createdAt: Date }
interface Refund { id: number; conversationId: string | null; paymentId: number; amount: number; status: Status; type: "CANCEL" | "REFUND"; destination: string; chargeFromMe: boolean; createdAt: Date; txRefundIds: number[] }

const fail = (status: number, code: string, description: string, group?: string): never => {
  throw new CraftgateSandboxError(status, code, description, group)
}
const invalid = (description: string) => fail(400, "6", description)

/** Reads a decimal amount in major units as minor units, or refuses it as Craftgate would. */
const amountOf = (v: unknown, currency: string, field: string): number => {
  if (typeof v !== "number" && typeof v !== "string") return invalid(`${field} is required.`)
  let n: number
  try {
    n = toMinor(v, currency)
  } catch {
    return invalid(`${field} must be a decimal with at most ${exponentOf(currency)} decimals.`)
  }
  if (n <= 0) invalid(`${field} must be positive.`)
  return n
}
const optionalString = (v: unknown, field: string, max = 256): string | null => {
  if (v === undefined || v === null) return null
  if (typeof v !== "string" || v.length > max) return invalid(`${field} must be a string of at most ${max} characters.`)
  return v
}
const destinationOf = (v: unknown): string => {
  if (v === undefined || v === null) return "PROVIDER"
  if (v !== "PROVIDER" && v !== "WALLET" && v !== "CARD") return invalid("refundDestinationType must be PROVIDER or WALLET.")
  return v === "WALLET" ? "WALLET" : "PROVIDER"
}
const chargeFromMeOf = (v: unknown): boolean => {
  if (v === undefined || v === null) return false
  if (typeof v !== "boolean") return invalid("chargeFromMe must be true or false.")
  return v
}
const idOf = (v: unknown, field: string): number => {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0) return invalid(`${field} is required (a number).`)
  return n
}

/** The sandbox's state and rules. */
export class CraftgateBook {
  private readonly payments = new Map<number, Payment>()
  private readonly refunds = new Map<number, Refund>()
  private readonly txRefunds = new Map<number, TxRefund>()
  private readonly cards = new Map<string, StoredCard>()
  /** Statuses the next refund requests take (each CANCEL, REFUND or transaction refund takes one). */
  readonly nextStatus: Status[] = []
  // Ids keep growing across process starts: a store that outlives the sandbox never sees one again.
  private seq = 1000 + sandboxIdBase()

  constructor(
    private readonly kernel: SandboxKernel,
    private readonly rule: Required<DayRule>,
    private readonly webhook: (e: { eventType: string; status: string; payloadId: number }) => void,
  ) {
    kernel.onReset(() => {
      this.payments.clear()
      this.refunds.clear()
      this.txRefunds.clear()
      this.cards.clear()
      this.nextStatus.length = 0
    })
  }

  // ---- views (Craftgate's response shapes, amounts in major units) ----

  private major = (n: number, currency: string) => toMajorNumber(n, currency)
  private cancelOf = (p: Payment) => [...this.refunds.values()].find((r) => r.paymentId === p.id && r.type === "CANCEL" && r.status !== "FAILURE")
  private txLeft = (p: Payment, tx: Tx) =>
    this.cancelOf(p) ? 0 : tx.paidPrice - [...this.txRefunds.values()].filter((r) => r.paymentTransactionId === tx.id && r.status !== "FAILURE").reduce((s, r) => s + r.amount, 0)

  private refundStatusOf(p: Payment) {
    const left = p.txs.reduce((sum, t) => sum + this.txLeft(p, t), 0)
    return p.status !== "SUCCESS" ? "NOT_REFUNDED" : left === p.paidPrice ? "NO_REFUND" : left === 0 ? "FULLY_REFUNDED" : "PARTIAL_REFUNDED"
  }

  /** The fields of `BasePaymentResponse` the sandbox knows. */
  private basePayment(p: Payment) {
    return {
      id: p.id,
      createdDate: craftgateDate(p.createdAt),
      price: this.major(p.price, p.currency),
      paidPrice: this.major(p.paidPrice, p.currency),
      walletPrice: 0,
      currency: p.currency,
      buyerMemberId: null,
      installment: p.installment,
      conversationId: p.conversationId,
      externalId: p.externalId,
      paymentType: "CARD_PAYMENT",
      paymentProvider: "BANK",
      paymentSource: "API",
      paymentGroup: p.paymentGroup,
      paymentStatus: p.status,
      paymentPhase: p.phase,
      paymentChannel: null,
      isThreeDS: false,
      paidWithStoredCard: p.paidWithStoredCard,
      binNumber: p.bin,
      lastFourDigits: p.lastFour,
      cardHolderName: p.holder,
      cardType: "CREDIT_CARD",
      cardAssociation: "MASTER_CARD",
      cardBrand: "World",
      authCode: null,
      hostReference: null,
      transId: null,
      orderId: null,
      paymentError: p.status === "FAILURE" ? { errorCode: "10051", errorDescription: "Insufficient card limit.", errorGroup: "NOT_SUFFICIENT_FUNDS" } : null,
    }
  }

  private txBase(p: Payment, t: Tx) {
    return {
      id: t.id,
      name: t.name,
      externalId: t.externalId,
      price: this.major(t.price, p.currency),
      paidPrice: this.major(t.paidPrice, p.currency),
      walletPrice: 0,
      transactionStatus: p.status === "SUCCESS" ? "APPROVED" : "WAITING_FOR_APPROVAL",
    }
  }

  /** A payment as `GET /payment/v1/card-payments/{id}` answers (`PaymentResponse`: no refund status). */
  paymentView(p: Payment) {
    return {
      ...this.basePayment(p),
      cardUserKey: p.stored?.cardUserKey ?? null,
      cardToken: p.stored?.cardToken ?? null,
      paymentTransactions: p.txs.map((t) => this.txBase(p, t)),
    }
  }

  /** A payment as the reporting API answers (`ReportingPaymentResponse`): with its refund status and refunds. */
  reportingPaymentView(p: Payment) {
    const captured = p.status === "SUCCESS" && p.phase !== "PRE_AUTH"
    return {
      ...this.basePayment(p),
      retryCount: 0,
      refundablePrice: this.major(captured ? p.txs.reduce((sum, t) => sum + this.txLeft(p, t), 0) : 0, p.currency),
      refundStatus: this.refundStatusOf(p),
      buyerMember: null,
      refunds: this.refundsOf(p.id).map((r) => this.reportingRefundView(r)),
      paymentTransactions: p.txs.map((t) => this.reportingTxView(p, t)),
    }
  }

  /** A payment transaction as the reporting API lists it (`ReportingPaymentTransaction`). */
  reportingTxView(p: Payment, t: Tx) {
    const captured = p.status === "SUCCESS" && p.phase !== "PRE_AUTH"
    const left = captured ? this.txLeft(p, t) : 0
    return {
      ...this.txBase(p, t),
      createdDate: craftgateDate(p.createdAt),
      transactionStatusDate: craftgateDate(p.createdAt),
      refundablePrice: this.major(left, p.currency),
      refundStatus: !captured ? "NOT_REFUNDED" : left === t.paidPrice ? "NO_REFUND" : left === 0 ? "FULLY_REFUNDED" : "PARTIAL_REFUNDED",
      payoutStatus: null,
      subMerchantMember: null,
    }
  }

  /**
   * A payment refund as the reporting API lists it (`ReportingPaymentRefundResponse`): the base
   * refund fields, `paymentType` and `error`; no refundType, no currency, no transaction refunds.
   */
  reportingRefundView(r: Refund) {
    const v = this.refundView(r)
    return {
      id: r.id,
      createdDate: v.createdDate,
      status: v.status,
      refundDestinationType: v.refundDestinationType,
      refundPrice: v.refundPrice,
      refundBankPrice: v.refundBankPrice,
      refundWalletPrice: v.refundWalletPrice,
      conversationId: v.conversationId,
      authCode: v.authCode,
      hostReference: v.hostReference,
      transId: v.transId,
      paymentId: v.paymentId,
      paymentType: "CARD_PAYMENT",
      error: null,
    }
  }

  /**
   * A transaction refund as the reporting API lists it (`ReportingPaymentTransactionRefundResponse`):
   * the base fields, `paymentType` and `error`; no currency and no paymentId.
   */
  reportingTxRefundView(t: TxRefund) {
    const { currency: _c, paymentId: _p, ...base } = this.txView(t)
    return { ...base, paymentType: "CARD_PAYMENT", error: null }
  }

  /** A transaction refund (PaymentTransactionRefundResponse). */
  txView(r: TxRefund) {
    const currency = this.payments.get(r.paymentId)!.currency
    const wallet = r.destination === "WALLET"
    return {
      id: r.id,
      conversationId: r.conversationId,
      createdDate: craftgateDate(r.createdAt),
      status: r.status,
      isAfterSettlement: false,
      refundPrice: this.major(r.amount, currency),
      refundBankPrice: this.major(wallet ? 0 : r.amount, currency),
      refundWalletPrice: this.major(wallet ? r.amount : 0, currency),
      currency,
      paymentTransactionId: r.paymentTransactionId,
      paymentId: r.paymentId,
      refundDestinationType: r.destination,
      authCode: null,
      hostReference: null,
      transId: null,
    }
  }

  /** A payment refund (seed 003): CANCEL with an id and no parts, REFUND without an id and with its parts. */
  refundView(r: Refund) {
    const p = this.payments.get(r.paymentId)!
    const parts = r.txRefundIds.map((id) => this.txRefunds.get(id)!)
    const status: Status = r.type === "CANCEL" ? r.status : parts.some((t) => t.status === "WAITING") ? "WAITING" : parts.some((t) => t.status === "SUCCESS") ? "SUCCESS" : "FAILURE"
    const wallet = r.destination === "WALLET"
    const cancel = r.type === "CANCEL"
    return {
      id: cancel ? r.id : null,
      conversationId: r.conversationId,
      createdDate: craftgateDate(r.createdAt),
      status,
      refundPrice: this.major(r.amount, p.currency),
      refundBankPrice: this.major(wallet ? 0 : r.amount, p.currency),
      refundWalletPrice: this.major(wallet ? r.amount : 0, p.currency),
      refundType: r.type,
      refundDestinationType: r.destination,
      authCode: cancel ? String(100000 + (r.id % 900000)) : null,
      hostReference: cancel ? `HR${r.id}` : null,
      transId: cancel ? `T${r.id}` : null,
      currency: p.currency,
      paymentId: p.id,
      paymentTransactionRefunds: parts.map((t) => this.txView(t)),
    }
  }

  // ---- lookups ----

  payment(id: number): Payment {
    return this.payments.get(id) ?? fail(404, "9001", `Payment ${id} not found.`)
  }
  refund(id: number): Refund {
    const r = this.refunds.get(id)
    // A REFUND has no id of its own at Craftgate (seed 003): only CANCELs are found by id.
    return r && r.type === "CANCEL" ? r : fail(404, "9006", `Refund ${id} not found.`)
  }
  txRefund(id: number): TxRefund {
    return this.txRefunds.get(id) ?? fail(404, "9006", `Transaction refund ${id} not found.`)
  }
  paymentTransaction(p: Payment, id: number): Tx {
    return p.txs.find((t) => t.id === id) ?? fail(404, "9004", `Payment transaction ${id} not found.`)
  }
  /**
   * A payment's refunds as the reporting API has them: its CANCELs, the refunds with an id (seed 003:
   * a REFUND has none; its money is in its transaction refunds). Newest first.
   */
  refundsOf(paymentId: number): Refund[] {
    return [...this.refunds.values()].filter((r) => r.paymentId === paymentId && r.type === "CANCEL").sort((a, b) => b.id - a.id)
  }
  txRefundsOf(paymentId: number, paymentTransactionId?: number): TxRefund[] {
    return [...this.txRefunds.values()].filter((r) => r.paymentId === paymentId && (paymentTransactionId === undefined || r.paymentTransactionId === paymentTransactionId)).sort((a, b) => b.id - a.id)
  }
  /** `GET /payment-reporting/v1/payments` (`SearchPaymentsRequest`), newest first. */
  searchPayments(q: URLSearchParams) {
    return [...this.payments.values()]
      .filter((p) =>
        matches(q, { conversationId: p.conversationId, externalId: p.externalId, paymentStatus: p.status, paymentId: p.id, currency: p.currency, lastFourDigits: p.lastFour, binNumber: p.bin, installment: p.installment }) &&
        (!q.get("paymentTransactionId") || p.txs.some((t) => String(t.id) === q.get("paymentTransactionId"))),
      )
      .sort((a, b) => b.id - a.id)
  }
  /** `GET /payment-reporting/v1/refunds` (`SearchPaymentRefundsRequest`): refunds with an id, newest first. */
  searchRefunds(q: URLSearchParams) {
    return [...this.refunds.values()]
      .filter((r) => r.type === "CANCEL" && matches(q, { id: r.id, conversationId: r.conversationId, paymentId: r.paymentId, status: this.refundView(r).status, currency: this.payments.get(r.paymentId)!.currency }))
      .sort((a, b) => b.id - a.id)
  }
  /** `GET /payment-reporting/v1/refund-transactions` (`SearchPaymentTransactionRefundsRequest`), newest first. */
  searchTxRefunds(q: URLSearchParams) {
    return [...this.txRefunds.values()]
      .filter((r) =>
        matches(q, { id: r.id, conversationId: r.conversationId, paymentId: r.paymentId, paymentTransactionId: r.paymentTransactionId, status: r.status, currency: this.payments.get(r.paymentId)!.currency, isAfterSettlement: "false" }),
      )
      .sort((a, b) => b.id - a.id)
  }

  // ---- operations ----

  /** `POST /payment/v1/card-payments`. */
  createPayment(b: Record<string, any>, cause: string): Payment {
    const currency = typeof b.currency === "string" && (CRAFTGATE_CURRENCIES as readonly string[]).includes(b.currency) ? b.currency : invalid(`currency must be one of ${CRAFTGATE_CURRENCIES.join(", ")}.`)
    if (!Array.isArray(b.items) || b.items.length === 0) invalid("items must list at least one item.")
    const price = amountOf(b.price, currency, "price")
    const paidPrice = amountOf(b.paidPrice, currency, "paidPrice")
    const items: number[] = b.items.map((i: { price?: unknown }, n: number) => amountOf(i?.price, currency, `items[${n}].price`))
    if (items.reduce((s, n) => s + n, 0) !== price) fail(400, "7", "The sum of the item prices must equal price.")
    if (paidPrice < price) fail(400, "8", "paidPrice cannot be lower than price.")
    if (b.walletPrice !== undefined && Number(b.walletPrice) !== 0) invalid("walletPrice must be 0: the sandbox has no wallets.")
    const installment = b.installment ?? 1
    if (!Number.isInteger(installment) || installment < 1 || installment > 12) invalid("installment must be 1 to 12.")
    if (b.paymentPhase !== undefined && b.paymentPhase !== "AUTH" && b.paymentPhase !== "PRE_AUTH") invalid("paymentPhase must be AUTH or PRE_AUTH.")
    const card = b.card as Record<string, unknown> | undefined
    const useStored = typeof card?.cardUserKey === "string" && typeof card?.cardToken === "string"
    if (!card || (!useStored && !(typeof card.cardNumber === "string" && /^\d{12,19}$/.test(card.cardNumber) && card.cardHolderName && card.expireYear && card.expireMonth && card.cvc))) {
      invalid("card needs cardHolderName, cardNumber, expireYear, expireMonth and cvc (or cardUserKey and cardToken).")
    }
    const storedCard = useStored ? (this.cards.get(`${card!.cardUserKey}/${card!.cardToken}`) ?? fail(422, "9011", "Stored card not found: no card with this cardUserKey and cardToken.")) : undefined
    const number = storedCard ? `${storedCard.bin}000000${storedCard.lastFour}` : String(card!.cardNumber)
    // The paid price spreads over the items pro rata; the last item takes the rounding.
    let given = 0
    const txs: Tx[] = items.map((itemPrice, i) => {
      const paid = i === items.length - 1 ? paidPrice - given : Math.floor((itemPrice * paidPrice) / price)
      given += paid
      const it = b.items[i] as { name?: unknown; externalId?: unknown }
      return { id: ++this.seq, name: optionalString(it.name, "name"), externalId: optionalString(it.externalId, "externalId"), price: itemPrice, paidPrice: paid }
    })
    const declined = number.endsWith(CRAFTGATE_DECLINED_CARD_SUFFIX)
    const p: Payment = {
      id: ++this.seq,
      conversationId: optionalString(b.conversationId, "conversationId"),
      externalId: optionalString(b.externalId, "externalId"),
      currency, price, paidPrice, installment,
      paymentGroup: b.paymentGroup === "LISTING_OR_SUBSCRIPTION" ? "LISTING_OR_SUBSCRIPTION" : "PRODUCT",
      phase: b.paymentPhase === "PRE_AUTH" ? "PRE_AUTH" : "AUTH",
      status: declined ? "FAILURE" : "SUCCESS",
      createdAt: this.kernel.now(),
      lastFour: number.slice(-4),
      bin: number.slice(0, 6),
      holder: storedCard ? storedCard.holder : optionalString(card!.cardHolderName, "cardHolderName"),
      stored: storedCard ? { cardUserKey: storedCard.cardUserKey, cardToken: storedCard.cardToken } : null,
      paidWithStoredCard: storedCard !== undefined,
      txs,
    }
    if (!storedCard && card!.storeCardAfterSuccessPayment === true && !declined) {
      // Craftgate stores the card and answers with its keys; the sandbox keeps only bin and last four.
      const cardUserKey = typeof card!.cardUserKey === "string" && card!.cardUserKey ? card!.cardUserKey : `cu-${++this.seq}`
      const s: StoredCard = { cardUserKey, cardToken: `ct-${++this.seq}`, bin: p.bin, lastFour: p.lastFour, holder: p.holder }
      this.cards.set(`${s.cardUserKey}/${s.cardToken}`, s)
      p.stored = { cardUserKey: s.cardUserKey, cardToken: s.cardToken }
    }
    this.payments.set(p.id, p)
    this.webhook({ eventType: "API_AUTH", status: p.status, payloadId: p.id })
    // A refused card is still a payment at Craftgate (FAILURE), findable by its conversationId.
    if (declined) fail(422, "10051", "Insufficient card limit.", "NOT_SUFFICIENT_FUNDS")
    if (p.phase === "AUTH") this.kernel.record({ type: "capture", paymentId: String(p.id), amount: paidPrice, currency, cause })
    return p
  }

  /** `POST /payment/v1/card-payments/{id}/post-auth`: captures a pre-authorization, up to its amount. */
  postAuth(id: number, b: Record<string, any>, cause: string): Payment {
    const p = this.payment(id)
    if (p.phase !== "PRE_AUTH" || p.status !== "SUCCESS") fail(422, "9007", "Only a successful PRE_AUTH payment can be post-authorized.")
    if (this.cancelOf(p)) fail(422, "9002", "The pre-authorization was cancelled.")
    const paidPrice = b.paidPrice === undefined || b.paidPrice === null ? p.paidPrice : amountOf(b.paidPrice, p.currency, "paidPrice")
    if (paidPrice > p.paidPrice) fail(422, "9009", "paidPrice cannot exceed the pre-authorized amount.")
    if (paidPrice !== p.paidPrice) {
      // A smaller capture spreads over the items as the paid price did; the last item takes the rounding.
      let given = 0
      const before = p.paidPrice
      p.txs.forEach((t, i) => {
        t.paidPrice = i === p.txs.length - 1 ? paidPrice - given : Math.floor((t.paidPrice * paidPrice) / before)
        given += t.paidPrice
      })
      p.paidPrice = paidPrice
    }
    p.phase = "POST_AUTH"
    this.kernel.record({ type: "capture", paymentId: String(p.id), amount: paidPrice, currency: p.currency, cause })
    return p
  }

  private takeStatus = (): Status => this.nextStatus.shift() ?? "SUCCESS"

  /** `POST /payment/v1/refunds`: the whole payment, as a CANCEL or a REFUND by seed 003's rule. */
  refundPayment(b: Record<string, any>, cause: string): Refund {
    const p = this.payment(idOf(b.paymentId, "paymentId"))
    const conversationId = optionalString(b.conversationId, "conversationId")
    const destination = destinationOf(b.refundDestinationType)
    const chargeFromMe = chargeFromMeOf(b.chargeFromMe)
    if (p.status !== "SUCCESS") fail(422, "9008", "A failed payment cannot be refunded.")
    if (this.cancelOf(p)) fail(422, "9002", "The payment is cancelled: nothing is left to refund.")
    const now = this.kernel.now()
    const base = { id: ++this.seq, conversationId, paymentId: p.id, destination, chargeFromMe, createdAt: now, txRefundIds: [] as number[] }
    if (p.phase === "PRE_AUTH") {
      // Nothing was captured: the pre-authorization is voided at once.
      const r: Refund = { ...base, amount: p.paidPrice, status: "SUCCESS", type: "CANCEL" }
      this.refunds.set(r.id, r)
      this.kernel.record({ type: "void", paymentId: String(p.id), refundId: String(r.id), amount: p.paidPrice, currency: p.currency, cause })
      this.webhook({ eventType: "REFUND", status: "SUCCESS", payloadId: r.id })
      return r
    }
    const open = p.txs.map((t) => ({ t, left: this.txLeft(p, t) })).filter((x) => x.left > 0)
    if (open.length === 0) fail(422, "9003", "The payment is already fully refunded.")
    const partialBefore = [...this.txRefunds.values()].some((r) => r.paymentId === p.id && r.status !== "FAILURE")
    const status = this.takeStatus()
    if (!partialBefore && sameDay(p.createdAt, now, this.rule)) {
      const r: Refund = { ...base, amount: p.paidPrice, status: "WAITING", type: "CANCEL" }
      this.refunds.set(r.id, r)
      if (status !== "WAITING") this.settleCancel(r, status, cause)
      return r
    }
    const r: Refund = { ...base, amount: 0, status: "WAITING", type: "REFUND" }
    this.refunds.set(r.id, r)
    for (const { t, left } of open) {
      const tr: TxRefund = { id: ++this.seq, conversationId, paymentId: p.id, paymentTransactionId: t.id, amount: left, status: "WAITING", destination, chargeFromMe, createdAt: now }
      this.txRefunds.set(tr.id, tr)
      r.txRefundIds.push(tr.id)
      r.amount += left
    }
    for (const id of r.txRefundIds) if (status !== "WAITING") this.settleTx(this.txRefunds.get(id)!, status, cause)
    return r
  }

  /** `POST /payment/v1/refund-transactions`: part or all of one transaction, up to what it has left. */
  refundTransaction(b: Record<string, any>, cause: string): TxRefund {
    const txId = idOf(b.paymentTransactionId, "paymentTransactionId")
    const conversationId = optionalString(b.conversationId, "conversationId")
    const destination = destinationOf(b.refundDestinationType)
    const chargeFromMe = chargeFromMeOf(b.chargeFromMe)
    const p = [...this.payments.values()].find((x) => x.txs.some((t) => t.id === txId)) ?? fail(404, "9004", `Payment transaction ${txId} not found.`)
    if (p.status !== "SUCCESS" || p.phase === "PRE_AUTH") fail(422, "9008", "Only a captured payment's transactions can be refunded.")
    if (this.cancelOf(p)) fail(422, "9002", "The payment is cancelled: nothing is left to refund.")
    const tx = p.txs.find((t) => t.id === txId)!
    const left = this.txLeft(p, tx)
    const amount = b.refundPrice === undefined || b.refundPrice === null ? left : amountOf(b.refundPrice, p.currency, "refundPrice")
    if (left === 0) fail(422, "9003", `Payment transaction ${txId} is already fully refunded.`)
    if (amount > left) fail(422, "9005", `refundPrice exceeds what payment transaction ${txId} has left to refund (${this.major(left, p.currency)}).`)
    const tr: TxRefund = { id: ++this.seq, conversationId, paymentId: p.id, paymentTransactionId: tx.id, amount, status: "WAITING", destination, chargeFromMe, createdAt: this.kernel.now() }
    this.txRefunds.set(tr.id, tr)
    const status = this.takeStatus()
    if (status !== "WAITING") this.settleTx(tr, status, cause)
    return tr
  }

  /** Settles a WAITING CANCEL; success moves the money and sends `REFUND`. */
  settleCancel(r: Refund, to: Status, cause: string): void {
    if (r.status !== "WAITING") fail(409, "9010", `Refund ${r.id} is already ${r.status}.`)
    const p = this.payments.get(r.paymentId)!
    r.status = to
    if (to !== "SUCCESS") return
    this.kernel.record({ type: "cancel", paymentId: String(p.id), refundId: String(r.id), refundType: "CANCEL", amount: r.amount, currency: p.currency, destination: r.destination, chargeFromMe: r.chargeFromMe, conversationId: r.conversationId, cause })
    this.webhook({ eventType: "REFUND", status: "SUCCESS", payloadId: r.id })
  }

  /** Settles a WAITING transaction refund; success moves the money and sends `REFUND_TX`. */
  settleTx(r: TxRefund, to: Status, cause: string): void {
    if (r.status !== "WAITING") fail(409, "9010", `Transaction refund ${r.id} is already ${r.status}.`)
    const p = this.payments.get(r.paymentId)!
    r.status = to
    if (to !== "SUCCESS") return
    this.kernel.record({ type: "refund", paymentId: String(p.id), refundId: `tx:${r.id}`, paymentTransactionId: r.paymentTransactionId, amount: r.amount, currency: p.currency, destination: r.destination, chargeFromMe: r.chargeFromMe, conversationId: r.conversationId, cause })
    this.webhook({ eventType: "REFUND_TX", status: "SUCCESS", payloadId: r.id })
  }
}

/** True when every filter given in the query equals the record's field. */
const matches = (q: URLSearchParams, fields: Record<string, string | number | null>): boolean =>
  Object.entries(fields).every(([k, v]) => {
    const want = q.get(k)
    return want === null || want === "" || String(v) === want
  })
