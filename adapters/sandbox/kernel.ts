/**
 * The sandbox kernel every provider sandbox runs on: a real HTTP server on 127.0.0.1 with the common
 * control API of SANDBOXES.md (clock, faults, webhook delivery modes, ledger, reset, webhook URL),
 * idempotency storage, and JSON and form-encoded body parsing. A provider sandbox only adds routes.
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
    compiled.set(pattern, c)
  }
  return c
}

/** Parses `a=1&b[c]=2&d[]=x` into nested objects (and arrays for `[]`), as Rails does for KOMOJU. */
export const parseForm = (raw: string): Record<string, unknown> => {
  const out: Record<string, any> = {}
  for (const [key, value] of new URLSearchParams(raw)) {
    const parts = key.split(/\[|\]\[|\]/).filter((p, i) => p !== "" || i === 0)
    const trailingArray = key.endsWith("[]")
    let node: any = out
    parts.forEach((part, i) => {
      const last = i === parts.length - 1
      if (last) {
        if (trailingArray) (node[part] ??= []).push(value)
        else node[part] = value
      } else node = node[part] ??= {}
    })
  }
  return out
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const parseBody = (raw: string, contentType: string | undefined): any => {
  if (raw.trim() === "") return {}
  if (contentType?.includes("application/x-www-form-urlencoded")) return parseForm(raw)
  try {
    return JSON.parse(raw)
  } catch {
    // curl -d sends form bodies without saying so when no content type is given
    return contentType?.includes("json") ? Symbol.for("invalid-json") : parseForm(raw)
  }
}

/** Options of a running sandbox. */
export interface SandboxServerOptions {
  readonly kernel: SandboxKernel
  readonly routes: readonly SandboxRoute[]
  readonly port?: number
  /** Answer for a body that is not valid JSON, in the provider's own error shape. */
  readonly invalidBody: (req: SandboxRequest) => SandboxResponse
  /** Answer for an unknown path, in the provider's own error shape. */
  readonly notFound: (req: SandboxRequest) => SandboxResponse
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
  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1")
      const rawBody = await readBody(req)
      const headers: Record<string, string | undefined> = {}
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v
      const method = (req.method ?? "GET").toUpperCase()
      const base = { method, path: url.pathname, url: url.toString(), query: url.searchParams, headers, rawBody }
      const body = parseBody(rawBody, headers["content-type"])
      let matched: { route: SandboxRoute; params: Record<string, string> } | undefined
      for (const route of routes) {
        if (route.method !== method) continue
        const c = compile(route.path)
        const m = c.regex.exec(url.pathname)
        if (m) {
          matched = { route, params: Object.fromEntries(c.names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? "")])) }
          break
        }
      }
      const request: SandboxRequest = { ...base, body: body === Symbol.for("invalid-json") ? {} : body, params: matched?.params ?? {} }
      if (!matched) return send(res, options.notFound(request))
      if (body === Symbol.for("invalid-json")) return send(res, options.invalidBody(request))
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

const controlRoutes = (kernel: SandboxKernel): SandboxRoute[] => [
  {
    method: "POST",
    path: "/_sandbox/clock",
    handler: async (req) => {
      const t = Date.parse(String(req.body?.now ?? ""))
      if (Number.isNaN(t)) return bad('Send {"now": "<ISO-8601>"}.')
      await kernel.setClock(new Date(t))
      return ok({ now: kernel.now().toISOString() })
    },
  },
  { method: "GET", path: "/_sandbox/clock", handler: () => ok({ now: kernel.now().toISOString() }) },
  {
    method: "POST",
    path: "/_sandbox/webhook-url",
    handler: (req) => {
      const url = req.body?.url
      if (url !== null && typeof url !== "string") return bad('Send {"url": "http://…"}.')
      kernel.webhookUrl = url ?? undefined
      return ok({ url: kernel.webhookUrl ?? null })
    },
  },
  {
    method: "POST",
    path: "/_sandbox/faults",
    handler: (req) => {
      const { path, method, mode, count } = req.body ?? {}
      if (typeof path !== "string" || !["timeout", "error500", "drop_response"].includes(mode)) {
        return bad('Send {"path", "method", "mode": "timeout"|"error500"|"drop_response", "count"}.')
      }
      kernel.faults.push({ path, method: String(method ?? "POST").toUpperCase(), mode, count: Number(count ?? 1) })
      return ok({ faults: kernel.faults })
    },
  },
  {
    method: "POST",
    path: "/_sandbox/webhooks",
    handler: (req) => {
      const mode = req.body?.mode
      if (!["normal", "duplicate", "delay", "reorder"].includes(mode)) return bad('Send {"mode": "normal"|"duplicate"|"delay"|"reorder"}.')
      if (kernel.webhookMode === "reorder" && mode !== "reorder") kernel.flushWebhooks()
      kernel.webhookMode = mode
      if (typeof req.body?.delayMs === "number") kernel.webhookDelayMs = req.body.delayMs
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
