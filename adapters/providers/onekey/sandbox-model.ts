/**
 * The OneKey sandbox's state and rules, apart from HTTP: deposits, refunds with the cumulative
 * ceiling, card results chosen ahead, forced errors, the refund status graph, deposit expiry on the
 * sandbox clock, and the ledger movements and notifications each change causes.
 */
import { toMajorNumber, toMinor } from "../../../src/money.js"
import { sandboxIdBase, type SandboxKernel, type SandboxResponse } from "../../sandbox/kernel.js"
import { bankAccount, ERRORS, isCardMethod, type OnekeyCardResult, type OnekeyErrorCode, type OnekeyRefundStatus } from "./wire.js"

/** A deposit as the sandbox keeps it (amounts in minor units). */
export interface SandboxDeposit {
  readonly id: number
  readonly invoiceId: string
  readonly amount: number
  readonly currency: string
  readonly country: string
  readonly method: string
  status: string
  readonly payer: unknown
  readonly createdAt: string
  readonly expiresAt: string
}

/** A refund as the sandbox keeps it; card refunds have string ids, bank refunds numeric ones (as OneKey). */
export interface SandboxRefund {
  readonly id: number | string
  readonly depositId: number
  readonly amount: number
  status: OnekeyRefundStatus
  readonly card: boolean
  readonly cause: string
  readonly createdAt: string
  readonly history: { status: OnekeyRefundStatus; at: string }[]
}

/** The refund status graph of PROVIDERS.md and D24's "Status flow" page. */
export const BANK_GRAPH: Readonly<Record<OnekeyRefundStatus, readonly OnekeyRefundStatus[]>> = {
  PENDING: ["DELIVERED", "INCORRECT_DETAILS", "CANCELLED"],
  INCORRECT_DETAILS: ["PENDING", "CANCELLED"],
  DELIVERED: ["COMPLETED", "REJECTED"],
  // The corner case D24 documents: the receiving bank rejects a completed refund days later.
  COMPLETED: ["REJECTED"],
  REJECTED: [],
  CANCELLED: [],
}

/** A card refund IN_PROGRESS (PENDING on GET) settles to COMPLETED or REJECTED. */
export const CARD_GRAPH: Readonly<Record<OnekeyRefundStatus, readonly OnekeyRefundStatus[]>> = {
  ...BANK_GRAPH,
  PENDING: ["COMPLETED", "REJECTED"],
  INCORRECT_DETAILS: [],
  DELIVERED: [],
}

/** Statuses that no longer count against the deposit. */
export const RELEASED: readonly OnekeyRefundStatus[] = ["REJECTED", "CANCELLED"]

/** A OneKey error answer. */
export const onekeyErrorResponse = (code: OnekeyErrorCode, description?: string): SandboxResponse => ({
  status: ERRORS[code].status,
  body: { code, description: description ?? ERRORS[code].description, type: ERRORS[code].type },
})

const CARD_NAMES: Record<string, string> = { VI: "Visa", MC: "Mastercard", AE: "American Express", DC: "Diners Club", EL: "Elo", HI: "Hipercard", JC: "JCB" }

/** OneKey retries an unanswered notification 5, 25, 125 and 625 minutes after the previous attempt. */
export const RETRY_MINUTES: readonly number[] = [5, 25, 125, 625]

/** Settings of the model. */
export interface ModelSettings {
  readonly depositExpiryMinutes: number
  readonly cardPartialRefunds: boolean
}

/** The sandbox's deposits and refunds. */
export class OnekeyModel {
  readonly deposits = new Map<number, SandboxDeposit>()
  readonly refunds = new Map<string, SandboxRefund>()
  readonly cardResults: { result: OnekeyCardResult; reason?: string; reason_code?: string | number }[] = []
  readonly forcedErrors: { code: OnekeyErrorCode; description?: string; count: number }[] = []
  /** Answers forced on the next refund reads (`GET /v3/refunds/{id}`), for lookups that fail. */
  readonly lookupErrors: { status: 404 | 500; count: number }[] = []
  // Ids keep growing across resets and process starts, so an engine or a store that outlives either
  // never sees an id reused.
  private nextDeposit = 300_600_000 + sandboxIdBase()
  private nextRefund = 168_000 + sandboxIdBase()

  /** Notifications not yet answered 200, by body, with when they were last sent (sandbox clock). */
  private readonly unanswered = new Map<string, { attempts: number; lastAt: number }>()

  constructor(private readonly kernel: SandboxKernel, private readonly settings: ModelSettings) {
    kernel.onReset(() => {
      this.deposits.clear()
      this.refunds.clear()
      this.cardResults.length = 0
      this.forcedErrors.length = 0
      this.lookupErrors.length = 0
      this.unanswered.clear()
    })
    kernel.onClock((now) => {
      this.expire(now)
      this.retryNotifications(now)
    })
  }

  /** Sends a notification; until the host answers 200 it is sent again as OneKey does (see RETRY_MINUTES). */
  notify(body: { refund_id: number | string } | { deposit_id: number }): void {
    const text = JSON.stringify(body)
    this.unanswered.set(text, { attempts: 1, lastAt: this.kernel.now().getTime() })
    this.kernel.sendWebhook({ headers: {}, body: text })
  }

  /** Re-sends every notification whose last delivery failed and whose next retry time has passed. */
  private retryNotifications(now: Date): void {
    for (const [text, n] of this.unanswered) {
      const last = this.kernel.delivered.findLast((d) => d.body === text)
      if (last?.status === 200) {
        this.unanswered.delete(text)
        continue
      }
      const delay = RETRY_MINUTES[n.attempts - 1]
      if (delay === undefined) {
        this.unanswered.delete(text)
        continue
      }
      if (now.getTime() - n.lastAt >= delay * 60_000) {
        this.unanswered.set(text, { attempts: n.attempts + 1, lastAt: now.getTime() })
        this.kernel.sendWebhook({ headers: {}, body: text })
      }
    }
  }

  /** Creates a PENDING deposit; it expires when the sandbox clock passes its expiration date. */
  createDeposit(b: { invoice_id: string; amount: number | string; currency: string; country: string; payment_method: string; payer: unknown }): SandboxResponse {
    let amount: number
    try {
      amount = toMinor(b.amount, b.currency)
    } catch {
      return onekeyErrorResponse(202, `Invalid request body: amount ${b.amount} ${b.currency}`)
    }
    if (amount <= 0) return onekeyErrorResponse(202, "Invalid request body: amount must be positive")
    const now = this.kernel.now()
    const method = b.payment_method.toUpperCase()
    const d: SandboxDeposit = {
      id: ++this.nextDeposit,
      invoiceId: b.invoice_id,
      amount,
      currency: b.currency,
      country: b.country,
      method,
      status: "PENDING",
      payer: b.payer,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.settings.depositExpiryMinutes * 60_000).toISOString(),
    }
    this.deposits.set(d.id, d)
    return {
      status: 200,
      body: {
        checkout_type: "ONE_SHOT",
        redirect_url: `http://127.0.0.1/checkout/${d.id}`,
        deposit_id: d.id,
        merchant_invoice_id: d.invoiceId,
        payment_info: {
          type: isCardMethod(method) ? "CREDIT_CARD" : "VOUCHER",
          payment_method: method,
          amount: toMajorNumber(amount, d.currency),
          currency: d.currency,
          expiration_date: wireTime(d.expiresAt),
          created_at: wireTime(d.createdAt),
        },
      },
    }
  }

  /** `GET /v3/deposits/{id}`. */
  depositView(d: SandboxDeposit) {
    return {
      deposit_id: d.id,
      invoice_id: d.invoiceId,
      country: d.country,
      currency: d.currency,
      local_amount: toMajorNumber(d.amount, d.currency),
      payment_method: d.method,
      payment_type: isCardMethod(d.method) ? "CREDIT_CARD" : "VOUCHER",
      status: d.status,
      created_at: wireTime(d.createdAt),
    }
  }

  /** The answer forced on the next refund read, if one is armed: OneKey's 208 (HTTP 404) or a 500. */
  takeLookupError(): SandboxResponse | undefined {
    const f = this.lookupErrors.find((x) => x.count > 0)
    if (!f) return undefined
    f.count -= 1
    return f.status === 404 ? onekeyErrorResponse(208) : { status: 500, body: { code: 500, description: "Internal server error (sandbox: forced lookup error)", type: "INTERNAL_ERROR" } }
  }

  /** `GET /v3/refunds/{id}`. */
  refundView(r: SandboxRefund) {
    const d = this.deposits.get(r.depositId)!
    return { deposit_id: r.depositId, merchant_invoice_id: d.invoiceId, status: r.status, amount: toMajorNumber(r.amount, d.currency) }
  }

  /** What a deposit's refunds hold: every refund not REJECTED or CANCELLED. */
  held(depositId: number): number {
    let sum = 0
    for (const r of this.refunds.values()) if (r.depositId === depositId && !RELEASED.includes(r.status)) sum += r.amount
    return sum
  }

  /** The customer pays: PENDING → COMPLETED, a capture in the ledger and a deposit notification. */
  completeDeposit(d: SandboxDeposit): SandboxResponse {
    if (d.status !== "PENDING") return { status: 409, body: { error: `Deposit ${d.id} is ${d.status}; only a PENDING deposit can be paid.` } }
    d.status = "COMPLETED"
    this.kernel.record({ type: "capture", paymentId: String(d.id), amount: d.amount, currency: d.currency, cause: "the customer paid" })
    this.notify({ deposit_id: d.id })
    return { status: 200, body: this.depositView(d) }
  }

  /** `POST /v3/refunds` after authentication, with the error codes of seed 002 in their order. */
  createRefund(body: { deposit_id: number; invoice_id: string; amount?: number | string; bank_account?: unknown }, cause: string): SandboxResponse {
    const deposit = this.deposits.get(body.deposit_id)
    if (!deposit || deposit.invoiceId !== body.invoice_id) return onekeyErrorResponse(208)
    const forced = this.forcedErrors.find((f) => f.count > 0)
    if (forced) {
      forced.count -= 1
      return onekeyErrorResponse(forced.code, forced.description)
    }
    if (deposit.status !== "COMPLETED") return onekeyErrorResponse(801)
    const card = isCardMethod(deposit.method)
    if (!card) {
      if (body.bank_account === undefined || body.bank_account === null) return onekeyErrorResponse(804)
      const bank = bankAccount.safeParse(body.bank_account)
      if (!bank.success) return onekeyErrorResponse(202, `Invalid request body: bank_account ${bank.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`)
    }
    let amount: number
    try {
      amount = body.amount === undefined ? deposit.amount : toMinor(body.amount, deposit.currency)
    } catch {
      return onekeyErrorResponse(802, "Amount to refund not valid: a positive decimal with at most two decimals")
    }
    if (amount <= 0 || this.held(deposit.id) + amount > deposit.amount) return onekeyErrorResponse(802)
    if (card && !this.settings.cardPartialRefunds && amount !== deposit.amount) return onekeyErrorResponse(802, "Amount to refund not valid: credit card deposits are refunded in full")
    const at = this.kernel.now().toISOString()
    if (!card) {
      const refund = this.add({ id: ++this.nextRefund, depositId: deposit.id, amount, status: "PENDING", card, cause, createdAt: at, history: [{ status: "PENDING", at }] })
      this.kernel.record({ type: "refund", paymentId: String(deposit.id), refundId: String(refund.id), amount, currency: deposit.currency, cause })
      return { status: 200, body: { refund_id: refund.id } }
    }
    const next = this.cardResults.shift() ?? { result: "SUCCESS" as const }
    const status: OnekeyRefundStatus = next.result === "SUCCESS" ? "COMPLETED" : next.result === "REJECTED" ? "REJECTED" : "PENDING"
    const refund = this.add({ id: String(80_000_000_000_000 + ++this.nextRefund), depositId: deposit.id, amount, status, card, cause, createdAt: at, history: [{ status, at }] })
    if (status !== "REJECTED") this.kernel.record({ type: "refund", paymentId: String(deposit.id), refundId: String(refund.id), amount, currency: deposit.currency, cause })
    return {
      status: 200,
      body: {
        refund_id: refund.id,
        deposit_id: deposit.id,
        merchant_invoice_id: deposit.invoiceId,
        refund_info: {
          type: "CREDIT_CARD",
          result: next.result,
          payment_method: deposit.method,
          payment_method_name: CARD_NAMES[deposit.method] ?? deposit.method,
          amount: toMajorNumber(amount, deposit.currency),
          currency: deposit.currency,
          created_at: wireTime(at),
          ...(next.result === "REJECTED" ? { reason: next.reason ?? "Refund rejected by the card issuer", reason_code: next.reason_code ?? 900 } : {}),
        },
      },
    }
  }

  /** A bank or issuer action on a refund, if the status graph allows it; each change notifies. */
  moveRefund(r: SandboxRefund, status: OnekeyRefundStatus): SandboxResponse {
    const allowed = (r.card ? CARD_GRAPH : BANK_GRAPH)[r.status]
    if (!allowed.includes(status)) {
      return { status: 409, body: { error: `A ${r.card ? "card" : "bank"} refund ${r.status} cannot become ${String(status)}; allowed: ${allowed.join(", ") || "none (final)"}.` } }
    }
    const was = r.status
    r.status = status
    r.history.push({ status, at: this.kernel.now().toISOString() })
    if (RELEASED.includes(status)) {
      const d = this.deposits.get(r.depositId)!
      const type = was === "COMPLETED" ? "refund_reversal" : "refund_release"
      this.kernel.record({ type, paymentId: String(r.depositId), refundId: String(r.id), amount: -r.amount, currency: d.currency, cause: r.cause })
    }
    this.notify({ refund_id: r.id })
    return { status: 200, body: { refund_id: r.id, status, history: r.history } }
  }

  private add(r: SandboxRefund): SandboxRefund {
    this.refunds.set(String(r.id), r)
    return r
  }

  private expire(now: Date): void {
    for (const d of this.deposits.values()) {
      if (d.status === "PENDING" && Date.parse(d.expiresAt) <= now.getTime()) {
        d.status = "EXPIRED"
        this.notify({ deposit_id: d.id })
      }
    }
  }
}

/** OneKey's `yyyy-MM-dd HH:mm:ss` (UTC) timestamps in answers. */
const wireTime = (iso: string): string => iso.slice(0, 19).replace("T", " ")
