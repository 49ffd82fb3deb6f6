/**
 * The OneKey (Directa24 v3) sandbox: deposits, refunds with the cumulative ceiling and every error
 * code of seed 002, signed and dated requests, card results chosen ahead, bank status changes that
 * follow the status graph, and a `{refund_id}` notification on every change.
 */
import { toMajorNumber, toMinor } from "../../../src/money.js"
import { SandboxKernel, serveSandbox, type RunningSandbox, type SandboxRequest, type SandboxResponse } from "../../sandbox/kernel.js"
import { signOnekey, sameSignature } from "./signing.js"
import { bankAccount, depositRequest, ERRORS, isCardMethod, refundRequest, type OnekeyErrorCode, type OnekeyRefundStatus } from "./wire.js"

/** Options of the OneKey sandbox; credentials default to the documented sandbox values. */
export interface OnekeySandboxOptions {
  readonly port?: number
  readonly webhookUrl?: string
  readonly login?: string
  readonly secretKey?: string
  readonly readOnlyKey?: string
}

/** Default sandbox credentials (also the adapter's defaults for the demo). */
export const ONEKEY_SANDBOX_DEFAULTS = { login: "onekey-login", secretKey: "onekey-secret", readOnlyKey: "onekey-read-only" } as const

interface Deposit {
  id: number
  invoiceId: string
  amount: number
  currency: string
  country: string
  method: string
  status: string
  payer: unknown
  createdAt: string
}

interface Refund {
  id: number | string
  depositId: number
  amount: number
  status: OnekeyRefundStatus
  card: boolean
  cause: string
  createdAt: string
}

/** Moves a bank refund may make (PROVIDERS.md status graph). */
const GRAPH: Record<OnekeyRefundStatus, readonly OnekeyRefundStatus[]> = {
  PENDING: ["DELIVERED", "INCORRECT_DETAILS", "CANCELLED", "REJECTED", "COMPLETED"],
  INCORRECT_DETAILS: ["PENDING", "CANCELLED"],
  DELIVERED: ["COMPLETED", "REJECTED"],
  COMPLETED: ["REJECTED"],
  REJECTED: [],
  CANCELLED: [],
}

const RELEASED: readonly OnekeyRefundStatus[] = ["REJECTED", "CANCELLED"]
const BANKS: Record<string, { code: number; name: string }[]> = {
  MX: [{ code: 1, name: "BBVA Bancomer" }, { code: 2, name: "Banorte" }, { code: 3, name: "Santander" }],
  BR: [{ code: 1, name: "Banco do Brasil" }, { code: 237, name: "Bradesco" }, { code: 341, name: "Itaú" }],
  CL: [{ code: 1, name: "Banco de Chile" }, { code: 12, name: "BancoEstado" }],
}

const error = (code: OnekeyErrorCode, description?: string): SandboxResponse => ({
  status: ERRORS[code].status,
  body: { code, description: description ?? ERRORS[code].description, type: ERRORS[code].type },
})

/** Starts the OneKey sandbox on 127.0.0.1. */
export const startOnekeySandbox = async (options: OnekeySandboxOptions = {}): Promise<RunningSandbox> => {
  const creds = { ...ONEKEY_SANDBOX_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) }
  const kernel = new SandboxKernel("onekey", options.webhookUrl)
  const deposits = new Map<number, Deposit>()
  const refunds = new Map<string, Refund>()
  const cardResults: { result: "SUCCESS" | "REJECTED" | "IN_PROGRESS"; reason?: string; reason_code?: string }[] = []
  let nextDeposit = 300_600_000
  let nextRefund = 168_000
  kernel.onReset(() => {
    deposits.clear()
    refunds.clear()
    cardResults.length = 0
  })

  /** Checks X-Login, X-Date and the D24 signature of a merchant call. */
  const authenticate = (req: SandboxRequest): SandboxResponse | undefined => {
    const login = req.headers["x-login"]
    const date = req.headers["x-date"]
    const auth = req.headers["authorization"]
    if (!login || !date || !auth) return error(101, `Missing required header: ${!login ? "X-Login" : !date ? "X-Date" : "Authorization"}`)
    if (login !== creds.login) return error(100)
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(date)) return error(101, "X-Date must be yyyy-MM-ddTHH:mm:ssZ")
    // Checked against real time, not the sandbox clock: clients sign with the real time even when a
    // test has moved the sandbox clock.
    if (Math.abs(Date.parse(date) - Date.now()) > 15 * 60_000) return error(103, "X-Date is too far from the current time")
    const m = /^D24 ([0-9a-f]{64})$/.exec(auth)
    if (!m || !sameSignature(m[1]!, signOnekey(creds.secretKey, date, login, req.rawBody))) return error(102)
    return undefined
  }

  const notify = (refund: Refund) => kernel.sendWebhook({ headers: {}, body: JSON.stringify({ refund_id: refund.id }) })
  const nonReleased = (depositId: number) =>
    [...refunds.values()].filter((r) => r.depositId === depositId && !RELEASED.includes(r.status)).reduce((s, r) => s + r.amount, 0)

  const setStatus = (refund: Refund, status: OnekeyRefundStatus) => {
    const deposit = deposits.get(refund.depositId)!
    const was = refund.status
    refund.status = status
    if (RELEASED.includes(status) && !RELEASED.includes(was)) {
      kernel.record({ type: was === "COMPLETED" ? "refund_reversal" : "refund_release", paymentId: String(refund.depositId), refundId: String(refund.id), amount: -refund.amount, currency: deposit.currency, cause: refund.cause })
    }
    notify(refund)
  }

  const depositView = (d: Deposit) => ({
    deposit_id: d.id,
    invoice_id: d.invoiceId,
    country: d.country,
    currency: d.currency,
    local_amount: toMajorNumber(d.amount, d.currency),
    payment_method: d.method,
    payment_type: isCardMethod(d.method) ? "CREDIT_CARD" : "VOUCHER",
    status: d.status,
    created_at: d.createdAt,
    payer: d.payer,
  })

  const createRefund = (req: SandboxRequest): SandboxResponse => {
    const parsed = refundRequest.safeParse(req.body)
    if (!parsed.success) return error(300, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "))
    const body = parsed.data
    const deposit = deposits.get(body.deposit_id)
    if (!deposit || deposit.invoiceId !== body.invoice_id) return error(208)
    if (deposit.status !== "COMPLETED") return error(801)
    let amount: number
    try {
      amount = body.amount === undefined ? deposit.amount : toMinor(body.amount, deposit.currency)
    } catch {
      return error(802, "Amount must be a positive decimal with at most two decimals")
    }
    if (amount <= 0 || nonReleased(deposit.id) + amount > deposit.amount) return error(802)
    const card = isCardMethod(deposit.method)
    // Seed 002: card deposits take a full refund; other methods full or partial ones.
    if (card && amount !== deposit.amount) return error(802, "Credit card deposits can only be refunded in full")
    if (!card && !body.bank_account) return error(804)
    if (!card && !bankAccount.safeParse(body.bank_account).success) return error(300, "Invalid bank_account")
    const cause = req.headers["x-idempotency-key"] ?? `POST /v3/refunds ${req.rawBody}`
    const now = kernel.now()
    if (!card) {
      const refund: Refund = { id: ++nextRefund, depositId: deposit.id, amount, status: "PENDING", card, cause, createdAt: now.toISOString() }
      refunds.set(String(refund.id), refund)
      kernel.record({ type: "refund", paymentId: String(deposit.id), refundId: String(refund.id), amount, currency: deposit.currency, cause })
      return { status: 200, body: { refund_id: refund.id } }
    }
    const next = cardResults.shift() ?? { result: "SUCCESS" as const }
    const refund: Refund = {
      id: String(80_000_000 + ++nextRefund),
      depositId: deposit.id,
      amount,
      status: next.result === "SUCCESS" ? "COMPLETED" : next.result === "REJECTED" ? "REJECTED" : "PENDING",
      card,
      cause,
      createdAt: now.toISOString(),
    }
    refunds.set(String(refund.id), refund)
    if (next.result !== "REJECTED") kernel.record({ type: "refund", paymentId: String(deposit.id), refundId: String(refund.id), amount, currency: deposit.currency, cause })
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
          payment_method_name: deposit.method === "AE" ? "American Express" : deposit.method === "MC" ? "Mastercard" : "Visa",
          amount: toMajorNumber(amount, deposit.currency),
          currency: deposit.currency,
          created_at: now.toISOString().slice(0, 19).replace("T", " "),
          ...(next.result === "REJECTED" ? { reason: next.reason ?? "Refund rejected by the card issuer", reason_code: next.reason_code ?? "CARD_REFUND_REJECTED" } : {}),
        },
      },
    }
  }

  const conflicts = {
    inFlight: { status: 409, body: { code: 805, description: "A request with this idempotency key is in progress", type: "ERROR_IN_REFUND" } },
    mismatch: { status: 400, body: { code: 300, description: "X-Idempotency-Key reused with another body", type: "INVALID_PARAMS" } },
  }

  return serveSandbox({
    kernel,
    port: options.port,
    notFound: () => error(208),
    invalidBody: () => error(300, "The body is not valid JSON"),
    routes: [
      {
        method: "POST",
        path: "/v3/deposits",
        handler: (req) =>
          authenticate(req) ??
          kernel.idempotent(req.headers["x-idempotency-key"], req, () => {
            const parsed = depositRequest.safeParse(req.body)
            if (!parsed.success) return error(300, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "))
            const b = parsed.data
            let amount: number
            try {
              amount = toMinor(b.amount, b.currency)
            } catch {
              return error(300, "amount has more decimals than the currency allows")
            }
            const d: Deposit = { id: ++nextDeposit, invoiceId: b.invoice_id, amount, currency: b.currency, country: b.country, method: b.payment_method, status: "PENDING", payer: b.payer, createdAt: kernel.now().toISOString() }
            deposits.set(d.id, d)
            return { status: 200, body: { deposit_id: d.id, checkout_type: "ONE_SHOT", redirect_url: `http://127.0.0.1/checkout/${d.id}` } }
          }, conflicts),
      },
      {
        method: "GET",
        path: "/v3/deposits/:id",
        handler: (req) => {
          const denied = authenticate(req)
          if (denied) return denied
          const d = deposits.get(Number(req.params.id))
          return d ? { status: 200, body: depositView(d) } : error(208)
        },
      },
      { method: "POST", path: "/v3/refunds", handler: (req) => authenticate(req) ?? kernel.idempotent(req.headers["x-idempotency-key"], req, () => createRefund(req), conflicts) },
      {
        method: "GET",
        path: "/v3/refunds/:id",
        handler: (req) => {
          const denied = authenticate(req)
          if (denied) return denied
          const r = refunds.get(req.params.id!)
          if (!r) return error(208)
          const d = deposits.get(r.depositId)!
          return { status: 200, body: { deposit_id: r.depositId, merchant_invoice_id: d.invoiceId, status: r.status, amount: toMajorNumber(r.amount, d.currency) } }
        },
      },
      {
        method: "GET",
        path: "/v3/banks",
        handler: (req) => {
          if (req.headers["authorization"] !== `Bearer ${creds.readOnlyKey}`) return error(100)
          const country = req.query.get("country") ?? ""
          return BANKS[country] ? { status: 200, body: BANKS[country] } : error(208)
        },
      },
      {
        method: "POST",
        path: "/_sandbox/deposits/:id/complete",
        handler: (req) => {
          const d = deposits.get(Number(req.params.id))
          if (!d) return error(208)
          if (d.status !== "PENDING") return { status: 409, body: { error: `deposit is ${d.status}` } }
          d.status = "COMPLETED"
          kernel.record({ type: "capture", paymentId: String(d.id), amount: d.amount, currency: d.currency, cause: "customer paid" })
          kernel.sendWebhook({ headers: {}, body: JSON.stringify({ deposit_id: d.id }) })
          return { status: 200, body: depositView(d) }
        },
      },
      {
        method: "POST",
        path: "/_sandbox/cards/next-result",
        handler: (req) => {
          const result = req.body?.result
          if (!["SUCCESS", "REJECTED", "IN_PROGRESS"].includes(result)) return { status: 400, body: { error: 'Send {"result": "SUCCESS"|"REJECTED"|"IN_PROGRESS"}' } }
          cardResults.push({ result, reason: req.body.reason, reason_code: req.body.reason_code })
          return { status: 200, body: { queued: cardResults.length } }
        },
      },
      {
        method: "POST",
        path: "/_sandbox/refunds/:id/status",
        handler: (req) => {
          const r = refunds.get(req.params.id!)
          if (!r) return error(208)
          const status = req.body?.status as OnekeyRefundStatus
          // A card refund in progress settles straight to COMPLETED or REJECTED.
          const allowed = r.card && r.status === "PENDING" ? ["COMPLETED", "REJECTED"] : GRAPH[r.status]
          if (!allowed.includes(status)) return { status: 409, body: { error: `${r.status} cannot move to ${String(status)}; allowed: ${allowed.join(", ") || "none"}` } }
          setStatus(r, status)
          return { status: 200, body: { refund_id: r.id, status } }
        },
      },
    ],
  })
}
