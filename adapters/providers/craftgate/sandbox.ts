/**
 * The Craftgate sandbox: Craftgate's paths and bodies on 127.0.0.1 — exactly those of the official
 * clients' PaymentAdapter (card payments, post-auth, refunds, transaction refunds) and
 * PaymentReportingAdapter (searches and per-payment listings, in the reporting shapes) that paystate
 * uses, nothing invented — with the signature checked on every call (`x-auth-version` 1 or v1), CANCEL
 * against REFUND decided by the sandbox's own clock, per-transaction ceilings, WAITING refunds settled
 * by control calls, and signed webhooks on success only; plus the common control API (clock, faults,
 * webhook modes, ledger, reset) of the kernel.
 */
import { checkDayRule, type DayRule } from "../../../machines/craftgate/same-day.js"
import { SandboxKernel, serveSandbox, type RunningSandbox, type SandboxRequest, type SandboxResponse, type SandboxRoute } from "../../sandbox/kernel.js"
import { CraftgateBook, CraftgateSandboxError } from "./sandbox-book.js"
import { craftgateWebhookSignature, DEFAULT_WEBHOOK_SIGNATURE_HEADER, sameSignature, signCraftgateRequest } from "./signing.js"
import { REFUND_STATUSES, type CraftgateRefundStatus } from "./wire.js"

/** Options of the Craftgate sandbox. */
export interface CraftgateSandboxOptions extends DayRule {
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  readonly port?: number
  /** Where webhooks go (also settable by `POST /_sandbox/webhook-url`). */
  readonly webhookUrl?: string
  /** Default `craftgate-api-key`. */
  readonly apiKey?: string
  /** Default `craftgate-secret-key`. */
  readonly secretKey?: string
  /** The merchant hook key webhooks are signed with. Default `craftgate-webhook-key`. */
  readonly webhookKey?: string
  /** The header the webhook signature goes in. Default `x-cg-signature-v1`. */
  readonly webhookSignatureHeader?: string
  /** Alias of `cutoff`. */
  readonly dayCutoff?: string
}

/** Default sandbox credentials; an adapter built with them talks to a default sandbox. */
export const CRAFTGATE_SANDBOX_DEFAULTS = { apiKey: "craftgate-api-key", secretKey: "craftgate-secret-key", webhookKey: "craftgate-webhook-key" } as const

/** A running Craftgate sandbox, with the credentials it checks. */
export interface RunningCraftgateSandbox extends RunningSandbox {
  readonly credentials: { readonly apiKey: string; readonly secretKey: string; readonly webhookKey: string }
  /** The day rule the sandbox judges CANCEL against REFUND by. */
  readonly dayRule: Required<DayRule>
}

const error = (status: number, errorCode: string, errorDescription: string, errorGroup?: string): SandboxResponse => ({
  status,
  body: { errors: { errorCode, errorDescription, ...(errorGroup ? { errorGroup } : {}) } },
})
const data = (body: unknown): SandboxResponse => ({ status: 200, body: { data: body } })

/** The page size when a search names none (the sources do not give Craftgate's; paystate always sends one). */
const DEFAULT_PAGE_SIZE = 10
/** The largest page size the sandbox serves. */
const MAX_PAGE_SIZE = 100

/** A `DataResponse` page (`{page, size, totalSize, items}`) of `page` and `size` from the query (page 0 first). */
const page = <T>(q: URLSearchParams, all: readonly T[], view: (t: T) => unknown): SandboxResponse => {
  const int = (name: string, fallback: number, max: number) => {
    const raw = q.get(name)
    if (raw === null || raw === "") return fallback
    if (!/^\d{1,6}$/.test(raw)) throw new CraftgateSandboxError(400, "6", `${name} must be a number from 0 to ${max}.`)
    return Math.min(Number(raw), max)
  }
  const size = Math.max(1, int("size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))
  const n = int("page", 0, 999_999)
  return data({ page: n, size, totalSize: all.length, items: all.slice(n * size, n * size + size).map(view) })
}

/** A whole list as one `DataResponse` (the per-payment listings take no paging parameters in the clients). */
const list = <T>(all: readonly T[], view: (t: T) => unknown): SandboxResponse => data({ page: 0, size: all.length, totalSize: all.length, items: all.map(view) })

/** Starts the Craftgate sandbox on 127.0.0.1. */
export const startCraftgateSandbox = async (options: CraftgateSandboxOptions = {}): Promise<RunningCraftgateSandbox> => {
  const credentials = {
    apiKey: options.apiKey ?? CRAFTGATE_SANDBOX_DEFAULTS.apiKey,
    secretKey: options.secretKey ?? CRAFTGATE_SANDBOX_DEFAULTS.secretKey,
    webhookKey: options.webhookKey ?? CRAFTGATE_SANDBOX_DEFAULTS.webhookKey,
  }
  const dayRule = checkDayRule({ timeZone: options.timeZone, cutoff: options.dayCutoff ?? options.cutoff })
  const signatureHeader = options.webhookSignatureHeader ?? DEFAULT_WEBHOOK_SIGNATURE_HEADER
  const kernel = new SandboxKernel("craftgate", options.webhookUrl)
  const book = new CraftgateBook(kernel, dayRule, (e) => {
    const event = { eventType: e.eventType, eventTime: new Date(kernel.now().getTime() + 3 * 3600_000).toISOString().slice(0, 19), eventTimestamp: Math.floor(kernel.now().getTime() / 1000), status: e.status, payloadId: String(e.payloadId) }
    kernel.sendWebhook({ headers: { [signatureHeader]: craftgateWebhookSignature(credentials.webhookKey, event) }, body: JSON.stringify(event) })
  })

  const authenticate = (req: SandboxRequest): SandboxResponse | undefined => {
    const h = req.headers
    const missing = ["x-api-key", "x-rnd-key", "x-auth-version", "x-signature"].filter((k) => !h[k])
    if (missing.length) return error(401, "1", `Missing authentication header(s): ${missing.join(", ")}.`)
    if (h["x-auth-version"] !== "1" && h["x-auth-version"] !== "v1") return error(401, "1", `Unsupported x-auth-version "${h["x-auth-version"]}": send 1 or v1.`)
    if (h["x-api-key"] !== credentials.apiKey) return error(401, "1", "Invalid api key.")
    // The client signs the URL it called; behind 127.0.0.1 that is the Host header plus path and query.
    const u = new URL(req.url)
    const fullUrl = `http://${h.host ?? u.host}${u.pathname}${u.search}`
    const expected = signCraftgateRequest(fullUrl, credentials.apiKey, credentials.secretKey, h["x-rnd-key"]!, req.rawBody)
    if (!sameSignature(h["x-signature"]!, expected)) return error(401, "2", "Invalid signature.")
    return undefined
  }
  const cause = (req: SandboxRequest) => {
    const c = (req.body as { conversationId?: unknown } | undefined)?.conversationId
    return typeof c === "string" ? c : `${req.method} ${req.path} ${req.rawBody}`.slice(0, 300)
  }
  const guarded = (handler: (req: SandboxRequest) => SandboxResponse) => (req: SandboxRequest): SandboxResponse => {
    try {
      return handler(req)
    } catch (e) {
      if (e instanceof CraftgateSandboxError) return error(e.status, e.errorCode, e.errorDescription, e.errorGroup)
      throw e
    }
  }
  const api = (method: string, path: string, handler: (req: SandboxRequest) => SandboxResponse): SandboxRoute => ({
    method,
    path,
    handler: guarded((req) => {
      const refused = authenticate(req)
      if (refused) return refused
      if (method === "POST" && (typeof req.body !== "object" || req.body === null || Array.isArray(req.body))) return error(400, "5", "The body must be a JSON object.")
      return handler(req)
    }),
  })
  const num = (req: SandboxRequest) => {
    const id = req.params.id ?? ""
    return /^\d+$/.test(id) ? Number(id) : -1
  }

  const settle = (kind: "refunds" | "refund-transactions", to: CraftgateRefundStatus): SandboxRoute => ({
    method: "POST",
    path: `/_sandbox/${kind}/:id/${to === "SUCCESS" ? "succeed" : "fail"}`,
    handler: guarded((req) => {
      if (kind === "refunds") {
        const r = book.refund(num(req))
        book.settleCancel(r, to, "sandbox control")
        return data(book.refundView(r))
      }
      const t = book.txRefund(num(req))
      book.settleTx(t, to, "sandbox control")
      return data(book.txView(t))
    }),
  })

  const routes: SandboxRoute[] = [
    // The payment API (node client src/adapter/PaymentAdapter.ts).
    api("POST", "/payment/v1/card-payments", (req) => data(book.paymentView(book.createPayment(req.body, cause(req))))),
    api("GET", "/payment/v1/card-payments/:id", (req) => data(book.paymentView(book.payment(num(req))))),
    api("POST", "/payment/v1/card-payments/:id/post-auth", (req) => data(book.paymentView(book.postAuth(num(req), req.body, `post-auth ${req.rawBody}`)))),
    api("POST", "/payment/v1/refunds", (req) => data(book.refundView(book.refundPayment(req.body, cause(req))))),
    api("GET", "/payment/v1/refunds/:id", (req) => data(book.refundView(book.refund(num(req))))),
    api("POST", "/payment/v1/refund-transactions", (req) => data(book.txView(book.refundTransaction(req.body, cause(req))))),
    api("GET", "/payment/v1/refund-transactions/:id", (req) => data(book.txView(book.txRefund(num(req))))),
    // The reporting API (node client src/adapter/PaymentReportingAdapter.ts), in its shapes.
    api("GET", "/payment-reporting/v1/payments", (req) => page(req.query, book.searchPayments(req.query), (p) => book.reportingPaymentView(p))),
    api("GET", "/payment-reporting/v1/payments/:id", (req) => data(book.reportingPaymentView(book.payment(num(req))))),
    api("GET", "/payment-reporting/v1/payments/:id/transactions", (req) => {
      const p = book.payment(num(req))
      return list(p.txs, (t) => book.reportingTxView(p, t))
    }),
    api("GET", "/payment-reporting/v1/payments/:id/refunds", (req) => list(book.refundsOf(book.payment(num(req)).id), (r) => book.reportingRefundView(r))),
    api("GET", "/payment-reporting/v1/payments/:id/transactions/:txId/refunds", (req) => {
      const p = book.payment(num(req))
      const tx = book.paymentTransaction(p, /^\d+$/.test(req.params.txId ?? "") ? Number(req.params.txId) : -1)
      return list(book.txRefundsOf(p.id, tx.id), (t) => book.reportingTxRefundView(t))
    }),
    api("GET", "/payment-reporting/v1/refunds", (req) => page(req.query, book.searchRefunds(req.query), (r) => book.reportingRefundView(r))),
    api("GET", "/payment-reporting/v1/refund-transactions", (req) => page(req.query, book.searchTxRefunds(req.query), (t) => book.reportingTxRefundView(t))),
    {
      method: "POST",
      path: "/_sandbox/refunds/next-status",
      handler: (req) => {
        const { status, count } = (req.body ?? {}) as { status?: unknown; count?: unknown }
        if (!(REFUND_STATUSES as readonly unknown[]).includes(status)) return { status: 400, body: { error: 'Send {"status": "SUCCESS"|"WAITING"|"FAILURE", "count"?: N}.' } }
        const n = count === undefined ? 1 : Number(count)
        if (!Number.isInteger(n) || n < 1 || n > 1000) return { status: 400, body: { error: "count must be 1 to 1000." } }
        for (let i = 0; i < n; i++) book.nextStatus.push(status as CraftgateRefundStatus)
        return { status: 200, body: { queued: [...book.nextStatus] } }
      },
    },
    settle("refunds", "SUCCESS"),
    settle("refunds", "FAILURE"),
    settle("refund-transactions", "SUCCESS"),
    settle("refund-transactions", "FAILURE"),
  ]

  const running = await serveSandbox({
    kernel,
    routes,
    port: options.port,
    notFound: (req) => error(404, "9000", `No such Craftgate path: ${req.method} ${req.path}.`),
    invalidBody: () => error(400, "5", "The body is not valid JSON."),
  })
  return { ...running, credentials, dayRule }
}
