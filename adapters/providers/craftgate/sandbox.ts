/**
 * The Craftgate sandbox: Craftgate's payment paths and bodies on 127.0.0.1, with the signature checked
 * on every call (`x-auth-version` 1 or v1), CANCEL against REFUND decided by the sandbox's own clock,
 * per-transaction ceilings, WAITING refunds settled by control calls, and signed webhooks on success
 * only; plus the common control API (clock, faults, webhook modes, ledger, reset) of the kernel.
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
const page = (items: unknown[]): SandboxResponse => data({ page: 0, size: items.length, totalSize: items.length, items })

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
    api("POST", "/payment/v1/card-payments", (req) => data(book.paymentView(book.createPayment(req.body, cause(req))))),
    api("GET", "/payment/v1/card-payments/:id", (req) => data(book.paymentView(book.payment(num(req))))),
    api("POST", "/payment/v1/card-payments/:id/post-auth", (req) => data(book.paymentView(book.postAuth(num(req), req.body, `post-auth ${req.rawBody}`)))),
    api("GET", "/payment-reporting/v1/payments", (req) => page(book.searchPayments(req.query).map((p) => book.paymentView(p)))),
    api("POST", "/payment/v1/refunds", (req) => data(book.refundView(book.refundPayment(req.body, cause(req))))),
    api("GET", "/payment/v1/refunds/:id", (req) => data(book.refundView(book.refund(num(req))))),
    api("POST", "/payment/v1/refund-transactions", (req) => data(book.txView(book.refundTransaction(req.body, cause(req))))),
    api("GET", "/payment/v1/refund-transactions/:id", (req) => data(book.txView(book.txRefund(num(req))))),
    // Searches by conversationId (and paymentId, paymentTransactionId): under /payment/v1 as the
    // first clients had them, and under /payment-reporting/v1 as Craftgate's reporting API has them.
    ...["/payment/v1/refunds", "/payment-reporting/v1/refunds"].map((path) => api("GET", path, (req) => page(book.searchRefunds(req.query).map((r) => book.refundView(r))))),
    ...["/payment/v1/refund-transactions", "/payment-reporting/v1/refund-transactions"].map((path) => api("GET", path, (req) => page(book.searchTxRefunds(req.query).map((t) => book.txView(t))))),
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
