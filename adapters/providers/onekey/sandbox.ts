/**
 * The OneKey (Directa24 v3) sandbox: `POST /v3/deposits`, `GET /v3/deposits/{id}`, `POST /v3/refunds`,
 * `GET /v3/refunds/{id}` and `GET /v3/banks` with OneKey's signature and date checks, its error
 * codes and `X-Idempotency-Key`; the customer and bank actions under `/_sandbox/`; and the common
 * control API (clock, faults, webhook modes, ledger, reset) of the shared kernel.
 */
import { SandboxKernel, serveSandbox, type RunningSandbox, type SandboxRequest, type SandboxResponse } from "../../sandbox/kernel.js"
import { OnekeyModel, onekeyErrorResponse as error } from "./sandbox-model.js"
import { sameSignature, signOnekey } from "./signing.js"
import { CARD_RESULTS, depositRequest, ERRORS, REFUND_STATUSES, refundRequest, type OnekeyErrorCode, type OnekeyRefundStatus } from "./wire.js"

/** Options of the OneKey sandbox; credentials default to ONEKEY_SANDBOX_DEFAULTS. */
export interface OnekeySandboxOptions {
  readonly port?: number
  /** Where notifications go (also settable with `POST /_sandbox/webhook-url`). */
  readonly webhookUrl?: string
  readonly login?: string
  readonly secretKey?: string
  readonly readOnlyKey?: string
  /** How long a deposit waits for the customer before it expires on the sandbox clock. Default 3 days. */
  readonly depositExpiryMinutes?: number
  /** Accept partial refunds of card deposits (D24 enables them per market). Default false (seed 002). */
  readonly cardPartialRefunds?: boolean
  /** How far `X-Date` may be from the real time before 103. Default 15 minutes. */
  readonly dateToleranceMinutes?: number
}

/** A running OneKey sandbox, with the credentials it checks. */
export interface RunningOnekeySandbox extends RunningSandbox {
  readonly credentials: { readonly login: string; readonly secretKey: string; readonly readOnlyKey: string }
}

/** Default sandbox credentials (also what the demo's adapter uses). */
export const ONEKEY_SANDBOX_DEFAULTS = { login: "onekey-login", secretKey: "onekey-secret", readOnlyKey: "onekey-read-only" } as const

const BANKS: Record<string, { code: number; name: string }[]> = {
  MX: [{ code: 1, name: "BBVA Bancomer" }, { code: 2, name: "Banorte" }, { code: 3, name: "Santander" }],
  BR: [{ code: 1, name: "Banco do Brasil" }, { code: 237, name: "Bradesco" }, { code: 341, name: "Itaú" }],
  CL: [{ code: 1, name: "Banco de Chile" }, { code: 12, name: "BancoEstado" }],
  CO: [{ code: 1007, name: "Bancolombia" }, { code: 1051, name: "Davivienda" }],
}

const X_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/

const issues = (e: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }) =>
  `Invalid request body: ${e.issues.map((i) => `${i.path.map(String).join(".") || "(body)"} ${i.message}`).join("; ")}`

/** Starts the OneKey sandbox on 127.0.0.1. */
export const startOnekeySandbox = async (options: OnekeySandboxOptions = {}): Promise<RunningOnekeySandbox> => {
  const credentials = {
    login: options.login ?? ONEKEY_SANDBOX_DEFAULTS.login,
    secretKey: options.secretKey ?? ONEKEY_SANDBOX_DEFAULTS.secretKey,
    readOnlyKey: options.readOnlyKey ?? ONEKEY_SANDBOX_DEFAULTS.readOnlyKey,
  }
  const toleranceMs = (options.dateToleranceMinutes ?? 15) * 60_000
  const kernel = new SandboxKernel("onekey", options.webhookUrl)
  const model = new OnekeyModel(kernel, { depositExpiryMinutes: options.depositExpiryMinutes ?? 3 * 24 * 60, cardPartialRefunds: options.cardPartialRefunds ?? false })

  /** X-Login, X-Date and `Authorization: D24 <sig>` of a merchant call: 101, 100, 103, 102. */
  const authenticate = (req: SandboxRequest): SandboxResponse | undefined => {
    const login = req.headers["x-login"]
    const date = req.headers["x-date"]
    const auth = req.headers["authorization"]
    if (!login) return error(101, "Missing or invalid format for required header X-Login")
    if (!date || !X_DATE.test(date)) return error(101, "Missing or invalid format for required header X-Date (yyyy-MM-ddTHH:mm:ssZ)")
    if (!auth) return error(101, "Missing or invalid format for required header Authorization")
    if (login !== credentials.login) return error(100)
    // Real time, not the sandbox clock: clients sign with the time of their machine even while a
    // test has moved the sandbox clock.
    if (Math.abs(Date.parse(date) - Date.now()) > toleranceMs) return error(103)
    const m = /^D24 ([0-9a-fA-F]{64})$/.exec(auth)
    if (!m || !sameSignature(m[1]!.toLowerCase(), signOnekey(credentials.secretKey, date, login, req.rawBody))) return error(102)
    return undefined
  }

  // A reused X-Idempotency-Key is compared on the exact bytes of the body (the kernel's fingerprint of
  // the raw body): D24 documents no looser comparison, and it signs the exact bytes, so a client that
  // passes here sends what any comparison OneKey makes would accept.
  const conflicts = {
    // Not a OneKey code: the first request with this key is still running, so nothing is definite yet.
    inFlight: { status: 409, body: { code: 805, description: "A request with this X-Idempotency-Key is still being processed", type: "ERROR_IN_REFUND" } },
    mismatch: error(202, "Invalid request body: X-Idempotency-Key was already used with another body"),
  }
  const cause = (req: SandboxRequest) => req.headers["x-idempotency-key"] ?? `${req.method} ${req.path} ${req.rawBody}`

  const sandbox = await serveSandbox({
    kernel,
    port: options.port,
    notFound: () => error(208),
    invalidBody: () => error(202, "Invalid request body: not valid JSON"),
    routes: [
      {
        method: "POST",
        path: "/v3/deposits",
        handler: (req) =>
          authenticate(req) ??
          kernel.idempotent(req.headers["x-idempotency-key"], req, () => {
            const parsed = depositRequest.safeParse(req.body)
            return parsed.success ? model.createDeposit(parsed.data) : error(202, issues(parsed.error))
          }, conflicts),
      },
      {
        method: "GET",
        path: "/v3/deposits/:id",
        handler: (req) => {
          const d = model.deposits.get(Number(req.params.id))
          return authenticate(req) ?? (d ? { status: 200, body: model.depositView(d) } : error(208))
        },
      },
      {
        method: "POST",
        path: "/v3/refunds",
        handler: (req) =>
          authenticate(req) ??
          kernel.idempotent(req.headers["x-idempotency-key"], req, () => {
            const parsed = refundRequest.safeParse(req.body)
            return parsed.success ? model.createRefund(parsed.data, cause(req)) : error(202, issues(parsed.error))
          }, conflicts),
      },
      {
        method: "GET",
        path: "/v3/refunds/:id",
        handler: (req) => {
          const r = model.refunds.get(req.params.id!)
          return authenticate(req) ?? model.takeLookupError() ?? (r ? { status: 200, body: model.refundView(r) } : error(208))
        },
      },
      {
        method: "GET",
        path: "/v3/banks",
        handler: (req) => {
          const auth = req.headers["authorization"]
          if (!auth) return error(101, "Missing or invalid format for required header Authorization")
          if (auth !== `Bearer ${credentials.readOnlyKey}`) return error(100)
          const banks = BANKS[req.query.get("country") ?? ""]
          return banks ? { status: 200, body: banks } : error(208)
        },
      },
      {
        method: "POST",
        path: "/_sandbox/deposits/:id/complete",
        handler: (req) => {
          const d = model.deposits.get(Number(req.params.id))
          return d ? model.completeDeposit(d) : error(208)
        },
      },
      {
        method: "GET",
        path: "/_sandbox/deposits",
        handler: (req) => {
          const invoice = req.query.get("invoice_id")
          const deposits = [...model.deposits.values()].filter((d) => !invoice || d.invoiceId === invoice)
          return { status: 200, body: { deposits: deposits.map((d) => ({ ...model.depositView(d), expiration_date: d.expiresAt, held: model.held(d.id) })) } }
        },
      },
      {
        method: "GET",
        path: "/_sandbox/deposits/:id/refunds",
        handler: (req) => {
          const id = Number(req.params.id)
          if (!model.deposits.has(id)) return error(208)
          const refunds = [...model.refunds.values()].filter((r) => r.depositId === id)
          return { status: 200, body: { deposit_id: id, held: model.held(id), refunds: refunds.map((r) => ({ refund_id: r.id, ...model.refundView(r), card: r.card, cause: r.cause, history: r.history })) } }
        },
      },
      {
        method: "POST",
        path: "/_sandbox/cards/next-result",
        handler: (req) => {
          const { result, reason, reason_code } = req.body ?? {}
          if (!CARD_RESULTS.includes(result)) return { status: 400, body: { error: 'Send {"result": "SUCCESS"|"REJECTED"|"IN_PROGRESS", "reason"?, "reason_code"?}.' } }
          model.cardResults.push({ result, ...(typeof reason === "string" ? { reason } : {}), ...(reason_code !== undefined ? { reason_code } : {}) })
          return { status: 200, body: { queued: model.cardResults.map((c) => c.result) } }
        },
      },
      {
        method: "POST",
        path: "/_sandbox/refunds/next-error",
        handler: (req) => {
          const code = Number(req.body?.code) as OnekeyErrorCode
          const count = req.body?.count === undefined ? 1 : Number(req.body.count)
          if (!(code in ERRORS) || !Number.isInteger(count) || count < 0) {
            return { status: 400, body: { error: `Send {"code": one of ${Object.keys(ERRORS).join(", ")}, "count"?: N, "description"?}.` } }
          }
          model.forcedErrors.push({ code, count, ...(typeof req.body?.description === "string" ? { description: req.body.description } : {}) })
          return { status: 200, body: { forced: model.forcedErrors.filter((f) => f.count > 0) } }
        },
      },
      {
        method: "POST",
        path: "/_sandbox/refunds/lookup-error",
        handler: (req) => {
          const status = Number(req.body?.status)
          const count = req.body?.count === undefined ? 1 : Number(req.body.count)
          if ((status !== 404 && status !== 500) || !Number.isInteger(count) || count < 0) return { status: 400, body: { error: 'Send {"status": 404|500, "count"?: N}.' } }
          // count 0 disarms every lookup error still armed.
          if (count === 0) model.lookupErrors.length = 0
          else model.lookupErrors.push({ status, count })
          return { status: 200, body: { armed: model.lookupErrors.filter((f) => f.count > 0) } }
        },
      },
      {
        method: "POST",
        path: "/_sandbox/refunds/:id/status",
        handler: (req) => {
          const r = model.refunds.get(req.params.id!)
          if (!r) return error(208)
          const status = req.body?.status as OnekeyRefundStatus
          if (!REFUND_STATUSES.includes(status)) return { status: 400, body: { error: `Send {"status": one of ${REFUND_STATUSES.join(", ")}}.` } }
          return model.moveRefund(r, status)
        },
      },
    ],
  })
  return { ...sandbox, credentials }
}
