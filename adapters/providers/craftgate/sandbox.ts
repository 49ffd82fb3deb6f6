/**
 * The Craftgate sandbox: card payments made of payment transactions, whole-payment refunds that are a
 * CANCEL on the payment's day (by the sandbox clock, Europe/Istanbul) with no earlier partial refund
 * and a REFUND of per-transaction refunds otherwise, per-transaction ceilings, WAITING refunds settled
 * by control calls, signed requests (both x-auth-version values) and signed webhooks on success only.
 */
import { sameDay, type DayRule } from "../../../machines/craftgate/same-day.js"
import { toMajorNumber, toMinor } from "../../../src/money.js"
import { SandboxKernel, serveSandbox, type RunningSandbox, type SandboxRequest, type SandboxResponse } from "../../sandbox/kernel.js"
import { sameSignature, signCraftgateRequest, signCraftgateWebhook } from "./signing.js"

/** Options of the Craftgate sandbox. */
export interface CraftgateSandboxOptions extends DayRule {
  readonly port?: number
  readonly webhookUrl?: string
  readonly apiKey?: string
  readonly secretKey?: string
  readonly webhookKey?: string
}

/** Default sandbox credentials. */
export const CRAFTGATE_SANDBOX_DEFAULTS = { apiKey: "craftgate-api-key", secretKey: "craftgate-secret-key", webhookKey: "craftgate-webhook-key" } as const

type Status = "SUCCESS" | "FAILURE" | "WAITING"
interface Tx { id: number; name: string | null; externalId: string | null; price: number; paidPrice: number }
interface Payment { id: number; conversationId: string | null; externalId: string | null; currency: string; price: number; paidPrice: number; phase: "AUTH" | "PRE_AUTH" | "POST_AUTH"; createdAt: Date; lastFour: string; txs: Tx[]; cancelled: boolean }
interface TxRefund { id: number; conversationId: string | null; paymentId: number; paymentTransactionId: number; amount: number; status: Status; destination: string; createdAt: Date; parent?: number }
interface Refund { id: number; conversationId: string | null; paymentId: number; amount: number; status: Status; type: "CANCEL" | "REFUND"; destination: string; createdAt: Date; txRefundIds: number[] }

const err = (status: number, errorCode: string, errorDescription: string, errorGroup?: string): SandboxResponse => ({
  status,
  body: { errors: { errorCode, errorDescription, ...(errorGroup ? { errorGroup } : {}) } },
})
const data = (body: unknown): SandboxResponse => ({ status: 200, body: { data: body } })

/** Craftgate prints local Istanbul time without a zone. */
const localTime = (d: Date) => new Date(d.getTime() + 3 * 3600_000).toISOString().slice(0, 19)

/** Starts the Craftgate sandbox on 127.0.0.1. */
export const startCraftgateSandbox = async (options: CraftgateSandboxOptions = {}): Promise<RunningSandbox> => {
  const creds = { ...CRAFTGATE_SANDBOX_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k in CRAFTGATE_SANDBOX_DEFAULTS)) }
  const rule: DayRule = { timeZone: options.timeZone, cutoff: options.cutoff }
  const kernel = new SandboxKernel("craftgate", options.webhookUrl)
  const payments = new Map<number, Payment>()
  const refunds = new Map<number, Refund>()
  const refundsByConversation = new Map<string, Refund>()
  const txRefunds = new Map<number, TxRefund>()
  const nextStatus: Status[] = []
  let seq = 1000
  kernel.onReset(() => {
    payments.clear()
    refunds.clear()
    refundsByConversation.clear()
    txRefunds.clear()
    nextStatus.length = 0
  })

  const authenticate = (req: SandboxRequest): SandboxResponse | undefined => {
    const h = req.headers
    if (!h["x-api-key"] || !h["x-rnd-key"] || !h["x-signature"] || !h["x-auth-version"]) return err(401, "1", "Missing authentication headers (x-api-key, x-rnd-key, x-auth-version, x-signature).")
    if (h["x-auth-version"] !== "1" && h["x-auth-version"] !== "v1") return err(401, "1", "Unsupported x-auth-version.")
    if (h["x-api-key"] !== creds.apiKey) return err(401, "1", "Invalid api key.")
    const u = new URL(req.url)
    const fullUrl = `http://${h["host"] ?? u.host}${u.pathname}${u.search}`
    const expected = signCraftgateRequest(fullUrl, creds.apiKey, creds.secretKey, h["x-rnd-key"], req.rawBody)
    if (!sameSignature(h["x-signature"], expected)) return err(401, "2", "Invalid signature.")
    return undefined
  }

  const txLeft = (tx: Tx) => tx.paidPrice - [...txRefunds.values()].filter((r) => r.paymentTransactionId === tx.id && r.status !== "FAILURE").reduce((s, r) => s + r.amount, 0)
  const takeStatus = (): Status => nextStatus.shift() ?? "SUCCESS"

  const txView = (r: TxRefund, currency: string) => ({
    id: r.id,
    conversationId: r.conversationId,
    createdDate: localTime(r.createdAt),
    status: r.status,
    isAfterSettlement: false,
    refundPrice: toMajorNumber(r.amount, currency),
    refundBankPrice: toMajorNumber(r.amount, currency),
    refundWalletPrice: 0,
    currency,
    paymentTransactionId: r.paymentTransactionId,
    paymentId: r.paymentId,
    refundDestinationType: r.destination,
  })
  const refundView = (r: Refund) => {
    const p = payments.get(r.paymentId)!
    return {
      id: r.type === "CANCEL" ? r.id : null,
      conversationId: r.conversationId,
      createdDate: localTime(r.createdAt),
      status: r.status,
      refundPrice: toMajorNumber(r.amount, p.currency),
      refundBankPrice: toMajorNumber(r.amount, p.currency),
      refundWalletPrice: 0,
      refundType: r.type,
      refundDestinationType: r.destination,
      authCode: r.type === "CANCEL" ? "A1B2C3" : null,
      hostReference: r.type === "CANCEL" ? `HR${r.id}` : null,
      transId: r.type === "CANCEL" ? `T${r.id}` : null,
      currency: p.currency,
      paymentId: p.id,
      paymentTransactionRefunds: r.txRefundIds.map((id) => txView(txRefunds.get(id)!, p.currency)),
    }
  }
  const paymentView = (p: Payment) => {
    const refunded = p.cancelled ? p.paidPrice : p.txs.reduce((s, t) => s + (t.paidPrice - txLeft(t)), 0)
    return {
      id: p.id,
      createdDate: localTime(p.createdAt),
      price: toMajorNumber(p.price, p.currency),
      paidPrice: toMajorNumber(p.paidPrice, p.currency),
      walletPrice: 0,
      currency: p.currency,
      installment: 1,
      conversationId: p.conversationId,
      externalId: p.externalId,
      paymentStatus: "SUCCESS",
      paymentPhase: p.phase,
      refundStatus: refunded === 0 ? "NO_REFUND" : refunded >= p.paidPrice ? "FULLY_REFUNDED" : "PARTIAL_REFUNDED",
      lastFourDigits: p.lastFour,
      paymentTransactions: p.txs.map((t) => ({ id: t.id, name: t.name, externalId: t.externalId, price: toMajorNumber(t.price, p.currency), paidPrice: toMajorNumber(t.paidPrice, p.currency), refundablePrice: toMajorNumber(p.cancelled ? 0 : txLeft(t), p.currency) })),
    }
  }

  const hook = (eventType: "REFUND" | "REFUND_TX", payloadId: number) => {
    const e = { eventType, eventTimestamp: Math.floor(kernel.now().getTime() / 1000), status: "SUCCESS", payloadId }
    kernel.sendWebhook({ headers: { "x-cg-signature-v1": signCraftgateWebhook(creds.webhookKey, e) }, body: JSON.stringify(e) })
  }
  const settleTx = (r: TxRefund, to: Status, cause: string) => {
    r.status = to
    if (to === "SUCCESS") {
      const p = payments.get(r.paymentId)!
      kernel.record({ type: "refund", paymentId: String(p.id), refundId: `tx:${r.id}`, paymentTransactionId: r.paymentTransactionId, amount: r.amount, currency: p.currency, cause })
      hook("REFUND_TX", r.id)
    }
  }
  const settleCancel = (r: Refund, to: Status, cause: string) => {
    const p = payments.get(r.paymentId)!
    r.status = to
    p.cancelled = to !== "FAILURE"
    if (to === "SUCCESS") {
      kernel.record({ type: "cancel", paymentId: String(p.id), refundId: String(r.id), amount: r.amount, currency: p.currency, cause })
      hook("REFUND", r.id)
    }
  }

  const body = (req: SandboxRequest) => (typeof req.body === "object" && req.body ? req.body : {}) as Record<string, any>
  const cause = (req: SandboxRequest) => String(body(req).conversationId ?? `${req.method} ${req.path} ${req.rawBody}`)
  const destination = (v: unknown) => (v === "WALLET" ? "WALLET" : "PROVIDER")

  const createPayment = (req: SandboxRequest): SandboxResponse => {
    const b = body(req)
    if (typeof b.currency !== "string" || !Array.isArray(b.items) || b.items.length === 0 || b.price === undefined || b.paidPrice === undefined || !b.card) {
      return err(400, "6", "price, paidPrice, currency, card and items are required.")
    }
    let price: number
    let paidPrice: number
    let items: number[]
    try {
      price = toMinor(b.price, b.currency)
      paidPrice = toMinor(b.paidPrice, b.currency)
      items = b.items.map((i: { price: unknown }) => toMinor(i.price as number, b.currency))
    } catch (e) {
      return err(400, "6", e instanceof Error ? e.message : "Invalid amount.")
    }
    if (items.reduce((s, n) => s + n, 0) !== price) return err(400, "7", "The sum of the basket item prices must equal price.")
    if (paidPrice < price) return err(400, "8", "paidPrice cannot be lower than price.")
    const number = String(b.card.cardNumber ?? "")
    if (number.endsWith("0002")) return err(422, "10051", "Insufficient funds.", "NOT_SUFFICIENT_FUNDS")
    const phase = b.paymentPhase === "PRE_AUTH" ? "PRE_AUTH" : "AUTH"
    // Paid price spreads over the items pro rata; the last item takes the rounding.
    let given = 0
    const txs: Tx[] = items.map((itemPrice, i) => {
      const paid = i === items.length - 1 ? paidPrice - given : Math.floor((itemPrice * paidPrice) / price)
      given += paid
      return { id: ++seq, name: b.items[i].name ?? null, externalId: b.items[i].externalId ?? null, price: itemPrice, paidPrice: paid }
    })
    const p: Payment = { id: ++seq, conversationId: b.conversationId ?? null, externalId: b.externalId ?? null, currency: b.currency, price, paidPrice, phase, createdAt: kernel.now(), lastFour: number.slice(-4), txs, cancelled: false }
    payments.set(p.id, p)
    if (phase === "AUTH") kernel.record({ type: "capture", paymentId: String(p.id), amount: paidPrice, currency: p.currency, cause: cause(req) })
    return data(paymentView(p))
  }

  const refundPayment = (req: SandboxRequest): SandboxResponse => {
    const b = body(req)
    const p = payments.get(Number(b.paymentId))
    if (!p) return err(404, "9001", "Payment not found.")
    if (p.cancelled) return err(422, "9002", "The payment is cancelled: nothing is left to refund.")
    const left = p.txs.map((t) => ({ t, left: txLeft(t) })).filter((x) => x.left > 0)
    if (left.length === 0) return err(422, "9003", "The payment is already fully refunded.")
    const partialBefore = [...txRefunds.values()].some((r) => r.paymentId === p.id && r.status !== "FAILURE")
    const status = takeStatus()
    const c = cause(req)
    if (!partialBefore && sameDay(p.createdAt, kernel.now(), rule)) {
      const r: Refund = { id: ++seq, conversationId: b.conversationId ?? null, paymentId: p.id, amount: p.paidPrice, status: "WAITING", type: "CANCEL", destination: destination(b.refundDestinationType), createdAt: kernel.now(), txRefundIds: [] }
      refunds.set(r.id, r)
      if (r.conversationId) refundsByConversation.set(r.conversationId, r)
      p.cancelled = true
      if (status !== "WAITING") settleCancel(r, status, c)
      return data(refundView(r))
    }
    const r: Refund = { id: ++seq, conversationId: b.conversationId ?? null, paymentId: p.id, amount: 0, status: "WAITING", type: "REFUND", destination: destination(b.refundDestinationType), createdAt: kernel.now(), txRefundIds: [] }
    for (const { t, left: amount } of left) {
      const tr: TxRefund = { id: ++seq, conversationId: b.conversationId ?? null, paymentId: p.id, paymentTransactionId: t.id, amount, status: "WAITING", destination: r.destination, createdAt: kernel.now(), parent: r.id }
      txRefunds.set(tr.id, tr)
      r.txRefundIds.push(tr.id)
      r.amount += amount
      if (status !== "WAITING") settleTx(tr, status, c)
    }
    r.status = status
    refunds.set(r.id, r)
    if (r.conversationId) refundsByConversation.set(r.conversationId, r)
    return data(refundView(r))
  }

  const refundTransaction = (req: SandboxRequest): SandboxResponse => {
    const b = body(req)
    const p = [...payments.values()].find((x) => x.txs.some((t) => t.id === Number(b.paymentTransactionId)))
    if (!p) return err(404, "9004", "Payment transaction not found.")
    if (p.cancelled) return err(422, "9002", "The payment is cancelled: nothing is left to refund.")
    const tx = p.txs.find((t) => t.id === Number(b.paymentTransactionId))!
    const left = txLeft(tx)
    let amount: number
    try {
      amount = b.refundPrice === undefined ? left : toMinor(b.refundPrice, p.currency)
    } catch {
      return err(400, "6", "Invalid refundPrice.")
    }
    if (amount <= 0 || amount > left) return err(422, "9005", `refundPrice exceeds what the payment transaction has left to refund (${toMajorNumber(left, p.currency)}).`)
    const tr: TxRefund = { id: ++seq, conversationId: b.conversationId ?? null, paymentId: p.id, paymentTransactionId: tx.id, amount, status: "WAITING", destination: destination(b.refundDestinationType), createdAt: kernel.now() }
    txRefunds.set(tr.id, tr)
    const status = takeStatus()
    if (status !== "WAITING") settleTx(tr, status, cause(req))
    return data(txView(tr, p.currency))
  }

  const settleRoute = (kind: "refunds" | "refund-transactions", to: Status) => ({
    method: "POST",
    path: `/_sandbox/${kind}/:id/${to === "SUCCESS" ? "succeed" : "fail"}`,
    handler: (req: SandboxRequest): SandboxResponse => {
      const id = Number(req.params.id)
      if (kind === "refund-transactions") {
        const r = txRefunds.get(id)
        if (!r) return err(404, "9006", "Refund transaction not found.")
        if (r.status !== "WAITING") return { status: 409, body: { error: `already ${r.status}` } }
        settleTx(r, to, "sandbox settle")
        return data(txView(r, payments.get(r.paymentId)!.currency))
      }
      const r = refunds.get(id)
      if (!r) return err(404, "9006", "Refund not found.")
      if (r.type === "CANCEL") {
        if (r.status !== "WAITING") return { status: 409, body: { error: `already ${r.status}` } }
        settleCancel(r, to, "sandbox settle")
      } else {
        for (const tid of r.txRefundIds) {
          const tr = txRefunds.get(tid)!
          if (tr.status === "WAITING") settleTx(tr, to, "sandbox settle")
        }
        r.status = to
      }
      return data(refundView(r))
    },
  })

  const authed = (handler: (req: SandboxRequest) => SandboxResponse) => (req: SandboxRequest) => authenticate(req) ?? handler(req)
  const search = <T extends { conversationId: string | null; paymentId: number }>(items: Iterable<T>, req: SandboxRequest, view: (x: T) => unknown) => {
    const conv = req.query.get("conversationId")
    const pid = req.query.get("paymentId")
    return data({ items: [...items].filter((x) => (!conv || x.conversationId === conv) && (!pid || x.paymentId === Number(pid))).map(view) })
  }

  return serveSandbox({
    kernel,
    port: options.port,
    notFound: () => err(404, "9000", "Not found."),
    invalidBody: () => err(400, "5", "The body is not valid JSON."),
    routes: [
      { method: "POST", path: "/payment/v1/card-payments", handler: authed(createPayment) },
      {
        method: "GET",
        path: "/payment/v1/card-payments",
        handler: authed((req) => {
          const conv = req.query.get("conversationId")
          return data({ items: [...payments.values()].filter((p) => !conv || p.conversationId === conv).map(paymentView) })
        }),
      },
      { method: "GET", path: "/payment/v1/card-payments/:id", handler: authed((req) => (payments.has(Number(req.params.id)) ? data(paymentView(payments.get(Number(req.params.id))!)) : err(404, "9001", "Payment not found."))) },
      {
        method: "POST",
        path: "/payment/v1/card-payments/:id/post-auth",
        handler: authed((req) => {
          const p = payments.get(Number(req.params.id))
          if (!p) return err(404, "9001", "Payment not found.")
          if (p.phase !== "PRE_AUTH") return err(422, "9007", "Only a PRE_AUTH payment can be post-authorized.")
          p.phase = "POST_AUTH"
          kernel.record({ type: "capture", paymentId: String(p.id), amount: p.paidPrice, currency: p.currency, cause: "post-auth" })
          return data(paymentView(p))
        }),
      },
      { method: "POST", path: "/payment/v1/refunds", handler: authed(refundPayment) },
      { method: "GET", path: "/payment/v1/refunds", handler: authed((req) => search(refunds.values(), req, refundView)) },
      { method: "GET", path: "/payment/v1/refunds/:id", handler: authed((req) => (refunds.has(Number(req.params.id)) ? data(refundView(refunds.get(Number(req.params.id))!)) : err(404, "9006", "Refund not found."))) },
      { method: "POST", path: "/payment/v1/refund-transactions", handler: authed(refundTransaction) },
      { method: "GET", path: "/payment/v1/refund-transactions", handler: authed((req) => search(txRefunds.values(), req, (r) => txView(r, payments.get(r.paymentId)!.currency))) },
      {
        method: "GET",
        path: "/payment/v1/refund-transactions/:id",
        handler: authed((req) => {
          const r = txRefunds.get(Number(req.params.id))
          return r ? data(txView(r, payments.get(r.paymentId)!.currency)) : err(404, "9006", "Refund transaction not found.")
        }),
      },
      {
        method: "POST",
        path: "/_sandbox/refunds/next-status",
        handler: (req) => {
          const s = body(req).status
          if (!["SUCCESS", "FAILURE", "WAITING"].includes(s)) return { status: 400, body: { error: 'Send {"status": "SUCCESS"|"FAILURE"|"WAITING"}' } }
          nextStatus.push(s)
          return { status: 200, body: { queued: nextStatus.length } }
        },
      },
      settleRoute("refunds", "SUCCESS"),
      settleRoute("refunds", "FAILURE"),
      settleRoute("refund-transactions", "SUCCESS"),
      settleRoute("refund-transactions", "FAILURE"),
    ],
  })
}
