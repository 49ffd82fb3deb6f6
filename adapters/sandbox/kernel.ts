/**
 * The sandbox kernel every provider sandbox runs on: a real HTTP server on 127.0.0.1 with the common
 * control API of SANDBOXES.md (clock, faults, webhook delivery modes, ledger, reset, webhook URL),
 * idempotency storage, and JSON and form-encoded body parsing. A provider sandbox only adds routes.
 *
 * The kernel is as strict as a real server about what it reads, because the demo and the tests run a
 * sandbox inside the host's own process: bodies and headers become null-prototype objects, the keys
 * `__proto__`, `constructor` and `prototype` are refused, a body over 1 MiB is answered 413, and a
 * malformed percent-escape in the path, the query or a form body is answered 400, never 500. Nothing
 * a request sends can change an object another request reads.
 */
import { createHash } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** A parsed request as a route handler sees it. */
export interface SandboxRequest {
  readonly method: string
  readonly path: string
  readonly url: string
  readonly query: URLSearchParams
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly rawBody: string
  /** JSON or form-encoded body (with `a[b]=c` nesting), or {} when empty. */
  readonly body: any
  readonly params: Readonly<Record<string, string>>
}

/** What a handler answers. */
export interface SandboxResponse {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

/** A provider route. */
export interface SandboxRoute {
  readonly method: string
  /** Path with `:name` segments, e.g. `/api/v1/payments/:id/refund`. */
  readonly path: string
  readonly handler: (req: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>
}

/** One money movement the sandbox performed. */
export interface LedgerMovement {
  readonly seq: number
  readonly at: string
  readonly type: string
  readonly paymentId: string
  readonly refundId?: string
  readonly amount: number
  readonly currency: string
  /** The idempotency key, or a description of the request, that caused it. */
  readonly cause: string
  readonly [extra: string]: unknown
}

/** A fault armed through `POST /_sandbox/faults`. */
export interface Fault {
  readonly path: string
  readonly method: string
  readonly mode: "timeout" | "error500" | "drop_response"
  count: number
}

/** An outgoing webhook. */
export interface OutgoingWebhook {
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** Webhook delivery modes of SANDBOXES.md. */
export type WebhookMode = "normal" | "duplicate" | "delay" | "reorder"

/** Shared state and services a provider sandbox uses. */
export class SandboxKernel {
  private clockOffsetMs = 0
  private seq = 0
  readonly ledger: LedgerMovement[] = []
  readonly faults: Fault[] = []
  readonly delivered: { at: string; url: string; status: number | string; body: string }[] = []
  webhookUrl: string | undefined
  webhookMode: WebhookMode = "normal"
  /** How long `delay` mode holds a webhook. */
  webhookDelayMs = 300
  private held: OutgoingWebhook[] = []
  private timers = new Set<NodeJS.Timeout>()
  private idem = new Map<string, { fingerprint: string; response?: SandboxResponse; at: number }>()
  private resetHooks: (() => void)[] = []
  private clockHooks: ((now: Date) => void | Promise<void>)[] = []
  private pendingDeliveries = new Set<Promise<void>>()

  constructor(readonly name: string, webhookUrl?: string) {
    this.webhookUrl = webhookUrl
  }

  /** The sandbox's clock: real time plus whatever `POST /_sandbox/clock` moved it by. */
  now(): Date {
    return new Date(Date.now() + this.clockOffsetMs)
  }

  /** Moves the clock and lets deadlines that passed fire. */
  async setClock(now: Date): Promise<void> {
    this.clockOffsetMs = now.getTime() - Date.now()
    for (const hook of this.clockHooks) await hook(this.now())
  }

  /** Registers what to do when the clock moves (expire payments, and so on). */
  onClock(hook: (now: Date) => void | Promise<void>): void {
    this.clockHooks.push(hook)
  }

  /** Registers what to forget on `POST /_sandbox/reset`. */
  onReset(hook: () => void): void {
    this.resetHooks.push(hook)
  }

  /** Records a money movement. */
  record(movement: Omit<LedgerMovement, "seq" | "at"> & { at?: string }): LedgerMovement {
    const m = { ...movement, seq: ++this.seq, at: movement.at ?? this.now().toISOString() } as LedgerMovement
    this.ledger.push(m)
    return m
  }

  /**
   * Runs `perform` once per idempotency key: a repeat with the same body gets the first answer, a
   * repeat while the first is still running gets 409, a repeat with another body gets 422.
   * Keys live 24 hours of sandbox time.
   */
  async idempotent(
    key: string | undefined,
    req: SandboxRequest,
    perform: () => Promise<SandboxResponse> | SandboxResponse,
    conflict: { inFlight: SandboxResponse; mismatch: SandboxResponse },
  ): Promise<SandboxResponse> {
    if (!key) return perform()
    const scoped = `${req.method} ${req.path} ${key}`
    const fingerprint = createHash("sha256").update(req.rawBody).digest("hex")
    const now = this.now().getTime()
    const prior = this.idem.get(scoped)
    if (prior && now - prior.at < 24 * 3600_000) {
      if (prior.fingerprint !== fingerprint) return conflict.mismatch
      if (!prior.response) return conflict.inFlight
      return prior.response
    }
    this.idem.set(scoped, { fingerprint, at: now })
    try {
      const response = await perform()
      // Only answers the provider would repeat are kept; a 5xx leaves the key free for a retry.
      if (response.status < 500) this.idem.set(scoped, { fingerprint, at: now, response })
      else this.idem.delete(scoped)
      return response
    } catch (e) {
      this.idem.delete(scoped)
      throw e
    }
  }

  /** Sends a webhook to the configured URL in the current delivery mode. */
  sendWebhook(hook: OutgoingWebhook): void {
    if (!this.webhookUrl) return
    switch (this.webhookMode) {
      case "normal":
        this.deliver(hook)
        return
      case "duplicate":
        this.deliver(hook)
        this.deliver(hook)
        return
      case "delay": {
        const t = setTimeout(() => {
          this.timers.delete(t)
          this.deliver(hook)
        }, this.webhookDelayMs)
        this.timers.add(t)
        return
      }
      case "reorder":
        // Held in pairs and sent newest first; `flushWebhooks` sends any odd one out.
        this.held.push(hook)
        if (this.held.length >= 2) this.flushWebhooks()
        return
    }
  }

  /** Delivers every held webhook, newest first. */
  flushWebhooks(): void {
    const held = this.held.reverse()
    this.held = []
    for (const h of held) this.deliver(h)
  }

  /** Resolves when every delivery started so far has finished (for tests and the demo). */
  async settled(): Promise<void> {
    while (this.pendingDeliveries.size > 0 || this.timers.size > 0) {
      await Promise.all([...this.pendingDeliveries])
      if (this.timers.size > 0) await new Promise((r) => setTimeout(r, 20))
    }
  }

  private deliver(hook: OutgoingWebhook): void {
    const url = this.webhookUrl
    if (!url) return
    const p = fetch(url, { method: "POST", headers: { "content-type": "application/json", ...hook.headers }, body: hook.body })
      .then(async (res) => {
        await res.arrayBuffer().catch(() => undefined)
        this.delivered.push({ at: this.now().toISOString(), url, status: res.status, body: hook.body })
      })
      .catch((e: unknown) => {
        this.delivered.push({ at: this.now().toISOString(), url, status: String(e), body: hook.body })
      })
      .finally(() => this.pendingDeliveries.delete(p))
    this.pendingDeliveries.add(p)
  }

  /** Takes the next armed fault matching this request, if any. */
  takeFault(method: string, path: string): Fault | undefined {
    const f = this.faults.find((x) => x.count > 0 && x.method.toUpperCase() === method && pathMatches(x.path, path))
    if (f) f.count -= 1
    return f
  }

  /** Forgets everything (ledger, faults, idempotency keys, provider state) and returns to real time. */
  reset(): void {
    this.ledger.length = 0
    this.faults.length = 0
    this.delivered.length = 0
    this.idem.clear()
    this.held = []
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.clockOffsetMs = 0
    this.webhookMode = "normal"
    for (const hook of this.resetHooks) hook()
  }

  /** Stops pending delayed deliveries. */
  dispose(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}

const pathMatches = (pattern: string, path: string): boolean => {
  if (pattern === path) return true
  const re = compile(pattern)
  return re.regex.test(path)
}

const compiled = new Map<string, { regex: RegExp; names: string[] }>()
const compile = (pattern: string) => {
  let c = compiled.get(pattern)
  if (!c) {
    const names: string[] = []
    const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\/:([A-Za-z_]+)/g, (_m, n: string) => {
      names.push(n)
      return "/([^/]+)"
    })
    c = { regex: new RegExp(`^${source}$`), names }
    // Fault paths come from requests: the cache stays bounded so no client can grow it forever.
    if (compiled.size < 1000) compiled.set(pattern, c)
  }
  return c
}

/** Keys no request may send: assigning them can reach Object.prototype. */
/**
 * Where a sandbox's numeric ids start: later at every process start (a thousand ids a second since
 * 2026), so a store that outlives the sandbox (the demo's data directory, a host's dev database) never
 * meets a provider id again. A real provider never reuses one, and the engine finds payments by it: a
 * second `npm start` used to land the new deposits' notifications on the first run's payments.
 */
export const sandboxIdBase = (now = Date.now()): number => Math.max(0, Math.floor((now - Date.UTC(2026, 0, 1)) / 1000)) * 1000

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"])

/** The most bytes a request body may have (1 MiB); a larger one is answered 413. */
export const MAX_BODY_BYTES = 1024 * 1024

/** The deepest nesting of a JSON or form body the kernel accepts. */
export const MAX_BODY_DEPTH = 64

/** Why the kernel refused a request before any route saw it. */
export interface RequestProblem {
  readonly status: 400 | 413
  readonly reason: "forbidden_key" | "malformed_encoding" | "malformed_form" | "too_deep" | "too_large" | "malformed_url"
  readonly message: string
}

/** Thrown by the parsers for a request that no route should see. */
export class SandboxRequestError extends Error {
  constructor(readonly problem: RequestProblem) {
    super(problem.message)
  }
}

const refuse = (reason: RequestProblem["reason"], message: string, status: 400 | 413 = 400): never => {
  throw new SandboxRequestError({ status, reason, message })
}

const checkKey = (key: string): void => {
  if (FORBIDDEN_KEYS.has(key)) refuse("forbidden_key", `The key "${key}" is not accepted.`)
}

/** decodeURIComponent with `+` as a space, refusing a malformed escape (as Rails and Rack do). */
const decodeFormPart = (part: string): string => {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "))
  } catch {
    return refuse("malformed_encoding", `Malformed percent-encoding in "${part.slice(0, 80)}".`)
  }
}

/**
 * Parses `a=1&b[c]=2&d[]=x` into nested objects (and arrays for `[]`), as Rails does for KOMOJU.
 * Objects have no prototype; `__proto__`, `constructor` and `prototype` keys, a malformed escape, a
 * key used both as a value and as an object, and nesting deeper than 64 throw `SandboxRequestError`.
 */
export const parseForm = (raw: string): Record<string, unknown> => {
  const out: Record<string, any> = Object.create(null)
  for (const pair of raw.split("&")) {
    if (pair === "") continue
    const eq = pair.indexOf("=")
    const key = decodeFormPart(eq < 0 ? pair : pair.slice(0, eq))
    const value = eq < 0 ? "" : decodeFormPart(pair.slice(eq + 1))
    const parts = key.split(/\[|\]\[|\]/).filter((p, i) => p !== "" || i === 0)
    const trailingArray = key.endsWith("[]")
    if (parts.length > MAX_BODY_DEPTH) refuse("too_deep", `The key "${key.slice(0, 80)}" is nested deeper than ${MAX_BODY_DEPTH} levels.`)
    let node: any = out
    parts.forEach((part, i) => {
      checkKey(part)
      if (Array.isArray(node)) refuse("malformed_form", `The key "${key.slice(0, 80)}" nests inside a list.`)
      const last = i === parts.length - 1
      const existing = node[part]
      if (last) {
        if (trailingArray) {
          if (existing === undefined) node[part] = [value]
          else if (Array.isArray(existing)) existing.push(value)
          else refuse("malformed_form", `The key "${key.slice(0, 80)}" is both a list and something else.`)
        } else if (existing !== undefined && typeof existing === "object") {
          refuse("malformed_form", `The key "${key.slice(0, 80)}" is both a value and an object.`)
        } else node[part] = value
      } else if (existing === undefined) {
        node = node[part] = Object.create(null)
      } else if (typeof existing === "object" && !Array.isArray(existing)) {
        node = existing
      } else refuse("malformed_form", `The key "${key.slice(0, 80)}" is both a value and an object.`)
    })
  }
  return out
}

/**
 * A copy of parsed JSON with null-prototype objects, refusing forbidden keys and nesting deeper
 * than 64. Iterative: a 100,000-deep body is refused, not a stack overflow.
 */
export const safeJson = (value: unknown): unknown => {
  if (value === null || typeof value !== "object") return value
  const make = (v: object): any => (Array.isArray(v) ? new Array(v.length) : Object.create(null))
  const root = make(value)
  const jobs: { src: any; dst: any; depth: number }[] = [{ src: value, dst: root, depth: 1 }]
  while (jobs.length > 0) {
    const { src, dst, depth } = jobs.pop()!
    if (depth > MAX_BODY_DEPTH) refuse("too_deep", `The body is nested deeper than ${MAX_BODY_DEPTH} levels.`)
    const keys = Array.isArray(src) ? src.map((_, i) => i) : Object.keys(src)
    for (const k of keys) {
      if (typeof k === "string") checkKey(k)
      const v = src[k]
      if (v !== null && typeof v === "object") {
        const d = make(v)
        dst[k] = d
        jobs.push({ src: v, dst: d, depth: depth + 1 })
      } else dst[k] = v
    }
  }
  return root
}

/** Reads the body up to `MAX_BODY_BYTES`; past it, drains (without keeping) and refuses with 413. */
const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let drained = 0
    const declared = Number(req.headers["content-length"])
    let tooLarge = Number.isFinite(declared) && declared > MAX_BODY_BYTES
    req.on("data", (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY_BYTES) tooLarge = true
      if (!tooLarge) chunks.push(c)
      else if ((drained += c.length) > 64 * MAX_BODY_BYTES) req.destroy()
    })
    req.on("end", () => {
      if (tooLarge) reject(new SandboxRequestError({ status: 413, reason: "too_large", message: `The request body is larger than ${MAX_BODY_BYTES} bytes.` }))
      else resolve(Buffer.concat(chunks).toString("utf8"))
    })
    req.on("error", reject)
  })

const INVALID_JSON = Symbol("invalid-json")

const parseBody = (raw: string, contentType: string | undefined): unknown => {
  if (raw.trim() === "") return Object.create(null)
  if (contentType?.includes("application/x-www-form-urlencoded")) return parseForm(raw)
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    // curl -d sends form bodies without saying so when no content type is given
    return contentType?.includes("json") ? INVALID_JSON : parseForm(raw)
  }
  return safeJson(parsed)
}

const decodePathPart = (part: string): string => {
  try {
    return decodeURIComponent(part)
  } catch {
    return refuse("malformed_encoding", "Malformed percent-encoding in the path.")
  }
}

/** Checks every percent-escape of the path and the query, so a route never meets a URIError. */
const checkUrl = (rawUrl: string): URL => {
  let url: URL
  try {
    url = new URL(rawUrl, "http://127.0.0.1")
  } catch {
    return refuse("malformed_url", "The request URL cannot be parsed.")
  }
  decodePathPart(url.pathname)
  for (const pair of url.search.slice(1).split("&")) {
    const eq = pair.indexOf("=")
    const key = decodeFormPart(eq < 0 ? pair : pair.slice(0, eq))
    if (eq >= 0) decodeFormPart(pair.slice(eq + 1))
    // Rails reads `a[b]=c` in a query as it does in a form: the same keys are refused.
    for (const part of key.split(/\[|\]\[|\]/)) checkKey(part)
  }
  return url
}

/** The provider-neutral answer for a refused request, when the sandbox gives no shape of its own. */
export const genericRejection = (problem: RequestProblem): SandboxResponse => ({
  status: problem.status,
  body: { error: { code: problem.status === 413 ? "payload_too_large" : "bad_request", message: problem.message } },
})

/** Options of a running sandbox. */
export interface SandboxServerOptions {
  readonly kernel: SandboxKernel
  readonly routes: readonly SandboxRoute[]
  readonly port?: number
  /** Answer for a body that is not valid JSON, in the provider's own error shape. */
  readonly invalidBody: (req: SandboxRequest) => SandboxResponse
  /** Answer for an unknown path, in the provider's own error shape. */
  readonly notFound: (req: SandboxRequest) => SandboxResponse
  /**
   * Answer for a request the kernel refuses before any route (a forbidden key, a malformed escape,
   * a body over 1 MiB), in the provider's own error shape. Default: `genericRejection`.
   */
  readonly rejected?: (req: SandboxRequest, problem: RequestProblem) => SandboxResponse
}

/** A running sandbox. */
export interface RunningSandbox {
  readonly url: string
  readonly port: number
  readonly kernel: SandboxKernel
  close(): Promise<void>
}

/** Starts a sandbox HTTP server on 127.0.0.1 with the control API and the provider's routes. */
export const serveSandbox = async (options: SandboxServerOptions): Promise<RunningSandbox> => {
  const { kernel } = options
  const routes = [...controlRoutes(kernel), ...options.routes]
  const hanging = new Set<ServerResponse>()
  const routeTable = routes.map((route) => ({ route, compiled: compile(route.path) }))
  const server: Server = createServer(async (req, res) => {
    const method = (req.method ?? "GET").toUpperCase()
    // Null prototype: a header named "constructor" or "__proto__" is just a header.
    const headers: Record<string, string | undefined> = Object.create(null)
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v
    const minimal = (): SandboxRequest => ({ method, path: req.url ?? "/", url: req.url ?? "/", query: new URLSearchParams(), headers, rawBody: "", body: Object.create(null), params: Object.create(null) })
    const reject = (request: SandboxRequest, problem: RequestProblem) => {
      let answer: SandboxResponse
      try {
        answer = options.rejected ? options.rejected(request, problem) : genericRejection(problem)
      } catch {
        answer = genericRejection(problem)
      }
      // A refused body may still be arriving: close the connection rather than read it for a reuse.
      send(res, { ...answer, headers: { ...answer.headers, connection: "close" } })
    }
    try {
      const url = checkUrl(req.url ?? "/")
      const rawBody = await readBody(req)
      const base = { method, path: url.pathname, url: url.toString(), query: url.searchParams, headers, rawBody }
      let matched: { route: SandboxRoute; params: Record<string, string> } | undefined
      for (const { route, compiled: c } of routeTable) {
        if (route.method !== method) continue
        const m = c.regex.exec(url.pathname)
        if (m) {
          const params: Record<string, string> = Object.create(null)
          c.names.forEach((n, i) => (params[n] = decodePathPart(m[i + 1] ?? "")))
          matched = { route, params }
          break
        }
      }
      const unparsed: SandboxRequest = { ...base, body: Object.create(null), params: matched?.params ?? Object.create(null) }
      if (!matched) return send(res, options.notFound(unparsed))
      let body: unknown
      try {
        body = parseBody(rawBody, headers["content-type"])
      } catch (e) {
        if (e instanceof SandboxRequestError) return reject(unparsed, e.problem)
        throw e
      }
      if (body === INVALID_JSON) return send(res, options.invalidBody(unparsed))
      const request: SandboxRequest = { ...unparsed, body }
      const fault = url.pathname.startsWith("/_sandbox/") ? undefined : kernel.takeFault(method, url.pathname)
      if (fault?.mode === "timeout") {
        // Never answers and never performs: the client's own timeout decides.
        hanging.add(res)
        res.on("close", () => hanging.delete(res))
        return
      }
      if (fault?.mode === "error500") return send(res, { status: 500, body: { error: { code: "internal_server_error", message: "sandbox fault: error500" } } })
      const response = await matched.route.handler(request)
      if (fault?.mode === "drop_response") {
        req.socket.destroy()
        return
      }
      send(res, response)
    } catch (e) {
      if (e instanceof SandboxRequestError) return reject(minimal(), e.problem)
      send(res, { status: 500, body: { error: { code: "sandbox_error", message: e instanceof Error ? e.message : String(e) } } })
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    kernel,
    close: async () => {
      kernel.dispose()
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const send = (res: ServerResponse, r: SandboxResponse): void => {
  if (res.headersSent || res.destroyed) return
  const text = r.body === undefined ? "" : typeof r.body === "string" ? r.body : JSON.stringify(r.body)
  res.writeHead(r.status, { "content-type": "application/json; charset=utf-8", ...r.headers })
  res.end(text)
}

const ok = (body: unknown = { ok: true }): SandboxResponse => ({ status: 200, body })
const bad = (message: string): SandboxResponse => ({ status: 400, body: { error: message } })

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)
const FAULT_MODES = ["timeout", "error500", "drop_response"] as const
const WEBHOOK_MODES = ["normal", "duplicate", "delay", "reorder"] as const

const isWebhookUrl = (v: string): boolean => {
  try {
    const u = new URL(v)
    return u.protocol === "http:" || u.protocol === "https:"
  } catch {
    return false
  }
}

// Every control route checks the type of what it reads: a body value is whatever the client sent.
const controlRoutes = (kernel: SandboxKernel): SandboxRoute[] => [
  {
    method: "POST",
    path: "/_sandbox/clock",
    handler: async (req) => {
      const now = isObject(req.body) ? req.body.now : undefined
      const t = typeof now === "string" ? Date.parse(now) : Number.NaN
      if (Number.isNaN(t) || Math.abs(t) > 8.64e15) return bad('Send {"now": "<ISO-8601>"}.')
      await kernel.setClock(new Date(t))
      return ok({ now: kernel.now().toISOString() })
    },
  },
  { method: "GET", path: "/_sandbox/clock", handler: () => ok({ now: kernel.now().toISOString() }) },
  {
    method: "POST",
    path: "/_sandbox/webhook-url",
    handler: (req) => {
      const url = isObject(req.body) ? req.body.url : undefined
      if (url !== null && (typeof url !== "string" || !isWebhookUrl(url))) return bad('Send {"url": "http://…"} or {"url": null}.')
      kernel.webhookUrl = url ?? undefined
      return ok({ url: kernel.webhookUrl ?? null })
    },
  },
  {
    method: "POST",
    path: "/_sandbox/faults",
    handler: (req) => {
      const { path, method, mode, count } = isObject(req.body) ? req.body : ({} as Record<string, unknown>)
      const usage = bad('Send {"path", "method", "mode": "timeout"|"error500"|"drop_response", "count": 1..1000000}.')
      if (typeof path !== "string" || path.length > 2000 || !FAULT_MODES.includes(mode as never)) return usage
      if (method !== undefined && (typeof method !== "string" || !/^[A-Za-z]{1,16}$/.test(method))) return usage
      if (count !== undefined && (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 1_000_000)) return usage
      kernel.faults.push({ path, method: (method ?? "POST").toUpperCase(), mode: mode as Fault["mode"], count: count ?? 1 })
      return ok({ faults: kernel.faults })
    },
  },
  {
    method: "POST",
    path: "/_sandbox/webhooks",
    handler: (req) => {
      const body = isObject(req.body) ? req.body : {}
      const mode = body.mode
      if (!WEBHOOK_MODES.includes(mode as never)) return bad('Send {"mode": "normal"|"duplicate"|"delay"|"reorder"}.')
      const delayMs = body.delayMs
      if (delayMs !== undefined && (typeof delayMs !== "number" || !Number.isFinite(delayMs) || delayMs < 0 || delayMs > 600_000)) return bad("delayMs is a number of milliseconds, 0..600000.")
      if (kernel.webhookMode === "reorder" && mode !== "reorder") kernel.flushWebhooks()
      kernel.webhookMode = mode as WebhookMode
      if (typeof delayMs === "number") kernel.webhookDelayMs = delayMs
      return ok({ mode })
    },
  },
  {
    method: "POST",
    path: "/_sandbox/webhooks/flush",
    handler: () => {
      kernel.flushWebhooks()
      return ok()
    },
  },
  { method: "GET", path: "/_sandbox/webhooks", handler: () => ok({ mode: kernel.webhookMode, delivered: kernel.delivered }) },
  { method: "GET", path: "/_sandbox/ledger", handler: () => ok({ movements: kernel.ledger }) },
  {
    method: "POST",
    path: "/_sandbox/reset",
    handler: () => {
      kernel.reset()
      return ok()
    },
  },
]
