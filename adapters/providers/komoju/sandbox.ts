/**
 * The KOMOJU sandbox: the Payments API of seed 001 and the refund requests of seed 000 on the shared
 * sandbox kernel (clock, faults, webhook modes, ledger, reset), with Basic auth, JSON and
 * form-encoded bodies, `X-KOMOJU-IDEMPOTENCY`, signed webhooks and the customer and bank actions.
 */
import { SandboxKernel, serveSandbox, type RunningSandbox, type SandboxRequest, type SandboxResponse, type SandboxRoute } from "../../sandbox/kernel.js"
import { isKomojuMethod, type KomojuMethod } from "../../../machines/komoju/methods.js"
import { KomojuBook, type KomojuEventType } from "./sandbox-book.js"
import { isoSeconds, komojuId, renderPayment, type SbPayment } from "./sandbox-model.js"
import { KomojuSandboxError } from "./sandbox-params.js"
import { komojuSignature } from "./signing.js"

/** The sandbox's default secret key: the seeds' own, so their curl examples run as they are. */
export const DEFAULT_KOMOJU_SECRET_KEY = "sk_123456"
/** The sandbox's default webhook secret. */
export const DEFAULT_KOMOJU_WEBHOOK_SECRET = "whsec_komoju_sandbox"
/** The credentials a sandbox started without any uses; spread them into `komoju({...})`. */
export const KOMOJU_SANDBOX_DEFAULTS = { secretKey: DEFAULT_KOMOJU_SECRET_KEY, webhookSecret: DEFAULT_KOMOJU_WEBHOOK_SECRET } as const

/** Options of `startKomojuSandbox`. */
export interface KomojuSandboxOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number
  /** Where webhooks go; none are sent until one is set (also `POST /_sandbox/webhook-url`). */
  readonly webhookUrl?: string
  /** Secret key accepted as the Basic auth user. Default `sk_123456` (the seeds' key). */
  readonly secretKey?: string
  /** HMAC key of `X-Komoju-Signature`. Default `whsec_komoju_sandbox`. */
  readonly webhookSecret?: string
  /** Tax rate of `tax: "auto"` (or none), in percent. Default 10. */
  readonly taxRatePercent?: number
  /** `payment_method_fee` per method; all 0 by default, as in every seed example. */
  readonly paymentMethodFees?: Partial<Record<KomojuMethod, number>>
}

/** A running KOMOJU sandbox. */
export interface RunningKomojuSandbox extends RunningSandbox {
  /** The API root to give the client: `${url}/api/v1`. */
  readonly apiUrl: string
  readonly secretKey: string
  readonly webhookSecret: string
  /** The sandbox's payments and rules, for tests that look inside. */
  readonly book: KomojuBook
}

const err = (status: number, code: string, message: string, param: string | null = null): SandboxResponse => ({ status, body: { error: { message, code, param } } })

/** Starts the KOMOJU sandbox on 127.0.0.1. */
export const startKomojuSandbox = async (options: KomojuSandboxOptions = {}): Promise<RunningKomojuSandbox> => {
  const secretKey = options.secretKey ?? DEFAULT_KOMOJU_SECRET_KEY
  const webhookSecret = options.webhookSecret ?? DEFAULT_KOMOJU_WEBHOOK_SECRET
  const kernel = new SandboxKernel("komoju", options.webhookUrl)
  const fees: Partial<Record<KomojuMethod, number>> = { ...(options.paymentMethodFees ?? {}) }
  let baseUrl = "http://127.0.0.1"

  const emit = (type: KomojuEventType, p: SbPayment): void => {
    const event = { id: komojuId(), type, resource: "event", data: renderPayment(p), created_at: isoSeconds(kernel.now()), reason: null }
    const body = JSON.stringify(event)
    kernel.sendWebhook({
      body,
      headers: { "X-Komoju-ID": komojuId(), "X-Komoju-Event": type, "X-Komoju-Signature": komojuSignature(webhookSecret, body) },
    })
  }
  const book = new KomojuBook({ kernel, baseUrl: () => baseUrl, taxRatePercent: options.taxRatePercent ?? 10, paymentMethodFees: fees, emit })
  kernel.onReset(() => book.reset())
  kernel.onClock((now) => book.expireDue(now))

  const authorized = (req: SandboxRequest): boolean => {
    const h = req.headers.authorization ?? ""
    const m = /^Basic\s+(.+)$/i.exec(h)
    if (!m) return false
    const decoded = Buffer.from(m[1]!, "base64").toString("utf8")
    return decoded.slice(0, decoded.indexOf(":") < 0 ? undefined : decoded.indexOf(":")) === secretKey
  }

  const guarded = (fn: (req: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>) => async (req: SandboxRequest): Promise<SandboxResponse> => {
    try {
      return await fn(req)
    } catch (e) {
      if (e instanceof KomojuSandboxError) return e.toResponse()
      throw e
    }
  }

  /** A Payments API route: Basic auth, due expiries first, KOMOJU's error envelope. */
  const api = (method: string, path: string, fn: (req: SandboxRequest, cause: string) => SbPayment | object): SandboxRoute => ({
    method,
    path: `/api/v1${path}`,
    handler: guarded(async (req) => {
      if (!authorized(req)) return err(401, "unauthorized", "User authorization failed: send your secret key as the Basic auth user")
      book.expireDue(kernel.now())
      const perform = () => {
        try {
          const out = fn(req, key ?? `${req.method} ${req.path}`)
          return { status: 200, body: isPayment(out) ? renderPayment(out) : out }
        } catch (e) {
          if (e instanceof KomojuSandboxError) return e.toResponse()
          throw e
        }
      }
      const key = method === "POST" ? req.headers["x-komoju-idempotency"] : undefined
      if (key === undefined) return perform()
      if (key === "" || key.length > 100 || !/^[\x20-\x7e]+$/.test(key)) {
        return err(400, "bad_request", "X-KOMOJU-IDEMPOTENCY must be 1 to 100 ASCII characters", "X-KOMOJU-IDEMPOTENCY")
      }
      return kernel.idempotent(key, req, perform, {
        inFlight: err(409, "conflict", "A request with this idempotency key is still being processed; retry later"),
        mismatch: err(422, "unprocessable_entity", "This idempotency key was used with another request body", "X-KOMOJU-IDEMPOTENCY"),
      })
    }),
  })

  const control = (path: string, fn: (req: SandboxRequest) => SbPayment | object): SandboxRoute => ({
    method: "POST",
    path,
    handler: guarded((req) => {
      book.expireDue(kernel.now())
      const out = fn(req)
      return { status: 200, body: isPayment(out) ? renderPayment(out) : out }
    }),
  })

  const routes: SandboxRoute[] = [
    api("GET", "/payments", (req) => {
      const page = book.list(req.query)
      return { resource: "list", total: page.total, page: page.page, per_page: page.perPage, last_page: page.lastPage, data: page.data.map(renderPayment) }
    }),
    api("GET", "/payments/:id", (req) => book.get(req.params.id!)),
    api("POST", "/payments", (req, cause) => book.create(req.body ?? {}, cause)),
    api("PATCH", "/payments/:id", (req) => book.update(req.params.id!, req.body ?? {})),
    api("POST", "/payments/:id/capture", (req, cause) => book.capture(req.params.id!, cause)),
    api("POST", "/payments/:id/refund", (req, cause) => book.refund(req.params.id!, req.body ?? {}, cause)),
    api("POST", "/payments/:id/refund_request", (req, cause) => book.refundRequest(req.params.id!, req.body ?? {}, cause)),
    api("POST", "/payments/:id/cancel", (req, cause) => book.cancel(req.params.id!, cause)),
    control("/_sandbox/payments/:id/pay", (req) => book.pay(req.params.id!)),
    control("/_sandbox/payments/:id/fail", (req) => book.fail(req.params.id!)),
    control("/_sandbox/refunds/:id/complete", (req) => book.completeRefund(req.params.id!)),
    control("/_sandbox/refund_requests/:id/complete", (req) => book.settleRequest(req.params.id!, "completed")),
    control("/_sandbox/refund_requests/:id/reject", (req) => book.settleRequest(req.params.id!, "rejected")),
    control("/_sandbox/payment-method-fees", (req) => {
      for (const [m, v] of Object.entries(req.body ?? {})) {
        const n = Number(v)
        if (!isKomojuMethod(m) || !Number.isSafeInteger(n) || n < 0) throw new KomojuSandboxError(400, "bad_request", `Send {"<method>": <fee in minor units>}; "${m}" is not valid`, m)
        fees[m] = n
      }
      return { payment_method_fees: fees }
    }),
  ]

  const running = await serveSandbox({
    kernel,
    routes,
    port: options.port ?? 0,
    invalidBody: () => err(400, "bad_request", "The request body is not valid JSON"),
    notFound: (req) => err(404, "not_found", `No route for ${req.method} ${req.path}`),
  })
  baseUrl = running.url
  return { ...running, apiUrl: `${running.url}/api/v1`, secretKey, webhookSecret, book }
}

const isPayment = (v: unknown): v is SbPayment => typeof v === "object" && v !== null && "seq" in v && "requests" in v
