/**
 * `paystate/console`: the ops console as one Node request handler, for `node:http`, Express,
 * Fastify or Hono. A payments person sees every payment (the list API's filters, keyset pages), each
 * payment's statechart and its refunds' statecharts with the current state marked, the ledger and the
 * journal, live as the payment moves (server-sent events that watch the store, so the console may
 * run in another process than the engine), and settles the review queue through the engine's review
 * API. Everything shown is a masked view; every action is a POST with a CSRF token.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { isPaystateError } from "../errors.js"
import type { ProviderAdapter } from "../provider.js"
import { replaySnapshots } from "../replay.js"
import type { JournalEntry, ListQuery, Store } from "../store.js"
import type { PaymentView, PaystateEngine } from "../types.js"
import { historyLines } from "../cli/format.js"
import { CONSOLE_CSS, CONSOLE_JS, mermaidScript, mermaidVersion } from "./assets.js"
import { ANON_COOKIE, createAuth, SESSION_COOKIE, type AuthorizeHook, type Principal } from "./auth.js"
import { catalogOf, markedDiagram } from "./diagrams.js"
import { errorPage, listPage, loginPage, paymentFragment, paymentPage, reviewPage, type Frame, type ListFilters, type PaymentData, type TimelineEntry } from "./pages.js"

export { markedDiagram, nodeName, type MarkedDiagram } from "./diagrams.js"
export type { AuthorizeHook, AuthorizeResult } from "./auth.js"

/** The part of the engine the console uses (an `Engine` from `createEngine` has all of it). */
export interface ConsoleEngine {
  readonly payments: Pick<PaystateEngine["payments"], "list" | "get" | "history" | "sync">
  readonly review: PaystateEngine["review"]
  /** The engine's store; the console reads versions (live updates) and the journal's states from it. */
  readonly store?: Pick<Store, "load" | "journal">
}

/** Options of `createConsole`. */
export interface ConsoleOptions {
  readonly engine: ConsoleEngine
  /** Where live updates and journal states are read; default `engine.store`. */
  readonly store?: Pick<Store, "load" | "journal">
  /** The providers the engine was created with: their machines are what the console draws. */
  readonly providers?: Readonly<Record<string, ProviderAdapter<any>>>
  /** The access token: `Authorization: Bearer <token>`, or typed into the login form (which sets a session cookie). */
  readonly token?: string
  /** The host's own check (its session, SSO…): true, false, or `{ by }` naming who acts. */
  readonly authorize?: AuthorizeHook
  /** Where the console is mounted (e.g. "/ops"); requests under it are served. Express's `app.use(path, …)` strips it itself. */
  readonly basePath?: string
  /** Signs sessions and CSRF tokens; default a random one per process (sessions end with it). */
  readonly secret?: string | Buffer
  /** How often an open payment page's stream checks the store for a new version (ms). Default 500. */
  readonly pollMs?: number
  /** Most event streams open at once; more are answered 503. Default 200. */
  readonly maxStreams?: number
  /** How long a login lasts (ms). Default 12 h. */
  readonly sessionTtlMs?: number
  /** Mark cookies `Secure` (the console is served over HTTPS). Default: when the request is. */
  readonly secureCookies?: boolean
  /** Called with failures the console answered 500 for (never with request bodies). */
  readonly onError?: (error: unknown) => void
}

/** The console: a `(req, res)` handler (Express may pass `next`, which it calls for nothing), plus `close()`. */
export interface ConsoleHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void>
  /** Ends every open event stream and stops watching the store. */
  close(): void
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const STATUS_OF: Record<string, number> = {
  INVALID_INPUT: 400,
  PAYMENT_NOT_FOUND: 404,
  REVIEW_ITEM_NOT_FOUND: 404,
  UNKNOWN_PROVIDER: 404,
  INVALID_TRANSITION: 409,
  REFUND_EXCEEDS_REFUNDABLE: 409,
  REVIEW_REQUIRED: 409,
  CONCURRENT_MODIFICATION: 409,
  PROVIDER_REJECTED: 502,
  PROVIDER_AUTH_FAILED: 502,
  PROVIDER_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  ENGINE_CLOSED: 503,
}

const NOTICES: Record<string, string> = {
  synced: "Synced: the provider's view of the payment was read and applied.",
  retried: "Retried: the provider is being asked again; the journal records who and why.",
  "resolved-succeeded": "Resolved as succeeded: the refund counts as paid back; the journal records who and why.",
  "resolved-failed": "Resolved as failed: the amount is released; the journal records who and why.",
}

const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  // same-origin, not no-referrer: a form post must carry its real Origin for the same-origin check.
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  // Mermaid writes style attributes into its SVG; no inline script anywhere.
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

const MAX_BODY = 64 * 1024

/** Who or what caused a journal entry, in words. */
export const causeOf = (e: Record<string, unknown>): string => {
  const review = e.review as { by?: unknown } | undefined
  switch (e.type) {
    case "CREATE":
    case "CAPTURE":
    case "CANCEL":
    case "UPDATE":
    case "REFUND":
      return "the host app (command)"
    case "OP.SUCCEEDED":
    case "OP.FAILED":
      return review && typeof review.by === "string" ? `${review.by} (review)` : "the provider's answer"
    case "PROVIDER.SYNC":
      return "the provider (webhook or sync)"
    case "TIMER":
      return `a timer${typeof e.name === "string" ? ` (${e.name})` : ""}`
    case "REVIEW.RESOLVE":
    case "REVIEW.RETRY":
      return `${typeof e.by === "string" ? e.by : "a person"} (review)`
    case "REVIEW.FLAG":
      return "the engine (flagged for review)"
    default:
      return "the engine"
  }
}

/** Creates the console's request handler. Refuses to start without a token or an `authorize` hook. */
export const createConsole = (options: ConsoleOptions): ConsoleHandler => {
  if (!options || !options.engine) throw new TypeError("createConsole: pass { engine, token } (or { engine, authorize }).")
  if (!options.token && !options.authorize) throw new TypeError("createConsole: the console needs a `token` or an `authorize(req)` hook; it never runs open.")
  if (options.token !== undefined && (typeof options.token !== "string" || options.token.length < 16)) throw new TypeError("createConsole: `token` must be a string of at least 16 characters.")
  const { engine } = options
  const base = (options.basePath ?? "").replace(/\/+$/, "")
  if (base && !/^\/[A-Za-z0-9._~\-/]*$/.test(base)) throw new TypeError(`createConsole: basePath "${base}" must be a path like "/ops".`)
  const store = options.store ?? engine.store
  const pollMs = options.pollMs ?? 500
  const maxStreams = options.maxStreams ?? 200
  const auth = createAuth(options)
  const catalog = catalogOf(options.providers)
  const providerNames = options.providers ? Object.keys(options.providers) : []
  const assetVersion = mermaidVersion()
  const onError = options.onError ?? ((e: unknown) => console.warn("[paystate/console]", e instanceof Error ? e.message : String(e)))

  const frame = (title: string, p?: Principal, csrf?: string): Frame => ({ base, title, assetVersion, ...(p ? { by: p.by, csrf: csrf ?? auth.csrfOf(p), signOut: p.via === "cookie" } : {}) })

  // ----- responses

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string | string[]> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, "cache-control": "no-store", "content-type": type, ...headers })
    res.end(body)
  }
  const html = (res: ServerResponse, status: number, body: string, headers?: Record<string, string | string[]>) => send(res, status, "text/html; charset=utf-8", body, headers)
  const json = (res: ServerResponse, status: number, value: unknown, headers?: Record<string, string | string[]>) => send(res, status, "application/json; charset=utf-8", JSON.stringify(value), headers)
  const redirect = (res: ServerResponse, to: string, headers: Record<string, string | string[]> = {}) => {
    res.writeHead(303, { ...SECURITY_HEADERS, "cache-control": "no-store", location: to, ...headers })
    res.end()
  }

  const secure = (req: IncomingMessage) => options.secureCookies ?? !!(req.socket as { encrypted?: boolean }).encrypted
  const cookie = (req: IncomingMessage, name: string, value: string, maxAgeSeconds: number) =>
    `${name}=${value}; Path=${base || "/"}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure(req) ? "; Secure" : ""}`

  const wantsJson = (req: IncomingMessage, path: string) => path.startsWith("/api/") || (/application\/json/.test(String(req.headers.accept ?? "")) && !/text\/html/.test(String(req.headers.accept ?? "")))

  const failure = (e: unknown): { status: number; code: string; message: string } => {
    if (e instanceof HttpError) return { status: e.status, code: e.code, message: e.message }
    if (isPaystateError(e)) return { status: STATUS_OF[e.code] ?? 500, code: e.code, message: e.message }
    onError(e)
    return { status: 500, code: "INTERNAL", message: "The console could not answer; see the server's log." }
  }

  // ----- request bodies (a framework may have parsed one already)

  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const pre = (req as { body?: unknown }).body
    const type = String(req.headers["content-type"] ?? "")
    let text: string
    if (pre && typeof pre === "object" && !Buffer.isBuffer(pre)) return pre as Record<string, unknown>
    if (typeof pre === "string" || Buffer.isBuffer(pre)) text = pre.toString()
    else {
      text = await new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = []
        let size = 0
        req.on("data", (c: Buffer) => {
          size += c.length
          if (size > MAX_BODY) {
            reject(new HttpError(413, "PAYLOAD_TOO_LARGE", `A console form is at most ${MAX_BODY} bytes.`))
            req.destroy()
          } else chunks.push(c)
        })
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
        req.on("error", reject)
      })
    }
    if (!text) return {}
    if (type.includes("application/json")) {
      try {
        const v = JSON.parse(text) as unknown
        return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
      } catch {
        throw new HttpError(400, "INVALID_INPUT", "The body is not JSON.")
      }
    }
    return Object.fromEntries(new URLSearchParams(text))
  }

  /** A POST from another site's page says so in Origin; refuse it before looking at anything else. */
  const sameOrigin = (req: IncomingMessage) => {
    const origin = req.headers.origin
    if (origin === undefined) return true
    try {
      return new URL(origin).host === req.headers.host
    } catch {
      return false
    }
  }

  // ----- data

  const str = (v: unknown, max = 2000): string | undefined => (typeof v === "string" && v.length > 0 ? v.slice(0, max) : undefined)

  const filtersOf = (q: URLSearchParams): ListFilters => {
    const per = Number(q.get("perPage"))
    return {
      ...(str(q.get("status"), 20) ? { status: q.get("status")! } : {}),
      ...(str(q.get("provider"), 100) ? { provider: q.get("provider")! } : {}),
      ...(str(q.get("currency"), 3) ? { currency: q.get("currency")!.toUpperCase() } : {}),
      ...(str(q.get("order"), 255) ? { order: q.get("order")! } : {}),
      ...(str(q.get("since"), 40) ? { since: q.get("since")! } : {}),
      ...(str(q.get("until"), 40) ? { until: q.get("until")! } : {}),
      ...(q.get("review") === "1" ? { review: true } : {}),
      ...(Number.isInteger(per) && per > 0 ? { perPage: Math.min(per, 200) } : {}),
    }
  }
  // The form's datetime-local fields are labelled UTC; a full ISO time passes as it is.
  const isoOf = (v: string | undefined) => (v === undefined ? undefined : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v) ? `${v}${v.length === 16 ? ":00" : ""}Z` : v)
  const listQueryOf = (f: ListFilters, after: string | null): ListQuery => ({
    ...(f.status ? { status: f.status as ListQuery["status"] } : {}),
    ...(f.provider ? { provider: f.provider } : {}),
    ...(f.currency ? { currency: f.currency } : {}),
    ...(f.order ? { externalOrderNum: f.order } : {}),
    ...(f.since ? { startTime: isoOf(f.since)! } : {}),
    ...(f.until ? { endTime: isoOf(f.until)! } : {}),
    ...(f.review ? { needsReview: true } : {}),
    perPage: f.perPage ?? 50,
    ...(after ? { after } : {}),
  })

  const timelineOf = async (view: PaymentView): Promise<TimelineEntry[]> => {
    const history = await engine.payments.history(view.id)
    const masked = new Map(history.map((h) => [h.version, h.event as unknown as Record<string, unknown>]))
    const adapter = options.providers && Object.hasOwn(options.providers, view.provider) ? options.providers[view.provider] : undefined
    if (store && adapter) {
      try {
        const [row, journal] = await Promise.all([store.load(view.id), store.journal(view.id)])
        if (row) {
          // States after each entry: the stored snapshot, or the journal replayed through the machine.
          // Only state names and amounts leave this function; the snapshots themselves are never shown.
          const replayed = journal.some((j) => !j.snapshot) ? replaySnapshots(journal, adapter) : []
          const entries: JournalEntry[] = journal.map((j, i) => (j.snapshot ? j : { ...j, snapshot: replayed[i]! }))
          const lines = historyLines(row, entries, (j) => masked.get(j.version) ?? { type: (j.event as { type?: unknown }).type })
          return lines.map((l, i) => ({
            version: l.version,
            at: l.at,
            event: l.event,
            summary: l.summary,
            cause: causeOf(l.detail as Record<string, unknown>),
            before: i === 0 ? null : lines[i - 1]!.state,
            after: l.state,
            refunds: l.refunds.map((r) => ({ id: r.id, kind: r.kind, from: r.from, to: r.to })),
            detail: l.detail,
          }))
        }
      } catch (e) {
        // A journal this console's machines cannot replay still shows, by status.
        onError(e)
      }
    }
    return history.map((h, i) => {
      const e = h.event as unknown as Record<string, unknown>
      return { version: h.version, at: h.at, event: String(e.type ?? "?"), summary: "", cause: causeOf(e), before: i === 0 ? null : history[i - 1]!.status, after: h.status, refunds: [], detail: e }
    })
  }

  const paymentData = async (id: string): Promise<PaymentData> => {
    const view = await engine.payments.get(id)
    const timeline = await timelineOf(view)
    const pm = catalog.payment(view.provider)
    return {
      view,
      timeline,
      ...(pm ? { payment: markedDiagram(pm, view.state) } : {}),
      refunds: view.refunds.map((r) => {
        const m = r.machine ? catalog.refund(view.provider, r.machine) : undefined
        return { refund: r, ...(m ? { diagram: markedDiagram(m, r.state, r.path ?? []) } : {}) }
      }),
    }
  }

  // ----- live updates: one store watcher per payment, shared by its open streams

  interface Watch {
    readonly subs: Set<ServerResponse>
    version: number
    timer: NodeJS.Timeout
    busy: boolean
  }
  const watches = new Map<string, Watch>()
  let streams = 0
  const versionOf = async (id: string): Promise<number | undefined> => {
    if (store) return (await store.load(id))?.version
    return (await engine.payments.get(id).catch((e: unknown) => (isPaystateError(e, "PAYMENT_NOT_FOUND") ? undefined : Promise.reject(e))))?.version
  }
  const sse = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  const unwatch = (id: string, res: ServerResponse) => {
    const w = watches.get(id)
    if (!w || !w.subs.delete(res)) return
    streams--
    if (w.subs.size === 0) {
      clearInterval(w.timer)
      watches.delete(id)
    }
  }
  const watch = (id: string, res: ServerResponse, version: number) => {
    let w = watches.get(id)
    if (!w) {
      const created: Watch = {
        subs: new Set(),
        version,
        busy: false,
        timer: setInterval(async () => {
          if (created.busy) return
          created.busy = true
          try {
            const v = await versionOf(id)
            if (v === undefined) for (const s of created.subs) sse(s, "gone", { id })
            else if (v !== created.version) {
              created.version = v
              for (const s of created.subs) sse(s, "version", { version: v })
            }
          } catch {
            // The store is briefly unreachable: the next tick asks again.
          } finally {
            created.busy = false
          }
        }, pollMs),
      }
      created.timer.unref()
      watches.set(id, (w = created))
    }
    w.subs.add(res)
    streams++
  }

  // ----- routes

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://console.invalid")
    let path = url.pathname
    if (base && (path === base || path.startsWith(`${base}/`))) path = path.slice(base.length) || "/"
    const method = req.method ?? "GET"

    // Static files carry no data: served to anyone, so the login page is styled too.
    if (method === "GET" && path.startsWith("/assets/")) {
      const long = { "cache-control": "public, max-age=31536000, immutable" }
      if (path === "/assets/console.css") return send(res, 200, "text/css; charset=utf-8", CONSOLE_CSS, long)
      if (path === "/assets/console.js") return send(res, 200, "text/javascript; charset=utf-8", CONSOLE_JS, long)
      if (path === "/assets/mermaid.min.js") return send(res, 200, "text/javascript; charset=utf-8", await mermaidScript(), long)
      return send(res, 404, "text/plain; charset=utf-8", "Not found")
    }

    if (method === "GET" && path === "/favicon.ico") {
      res.writeHead(204, SECURITY_HEADERS).end()
      return
    }

    if (path === "/login" && auth.hasToken) {
      if (method === "GET") return html(res, 200, loginPage(frame("Sign in")))
      if (method === "POST") {
        if (!sameOrigin(req)) return html(res, 403, errorPage(frame("Refused"), "Refused", "This form was posted from another site.", "CSRF"))
        const body = await readBody(req)
        if (!auth.checkToken(body.token)) return html(res, 401, loginPage(frame("Sign in"), "That token is not the console's access token."))
        const name = (str(body.name, 100) ?? "console").replace(/[\u0000-\u001f]/g, "")
        return redirect(res, `${base}/payments`, { "set-cookie": cookie(req, SESSION_COOKIE, auth.issueSession(name), Math.floor(auth.sessionTtlMs / 1000)) })
      }
    }

    let principal = await auth.authenticate(req)
    if (!principal) {
      if (wantsJson(req, path) || method !== "GET") return json(res, 401, { error: "UNAUTHENTICATED", message: "Sign in: send Authorization: Bearer <token>, or use the login page." }, { "www-authenticate": 'Bearer realm="paystate console"' })
      return auth.hasToken
        ? html(res, 401, loginPage(frame("Sign in")), { "www-authenticate": 'Bearer realm="paystate console"' })
        : html(res, 401, errorPage(frame("Not signed in"), "Not signed in", "The host app did not let this request in."))
    }
    const setCookies: string[] = []
    if (principal.via === "authorize" && principal.sid === "authorize:") {
      // A hook-authorized browser gets a CSRF session of its own (its forms carry the matching token).
      const anon = auth.newAnon()
      principal = { ...principal, sid: `authorize:${anon}` }
      setCookies.push(cookie(req, ANON_COOKIE, anon, Math.floor(auth.sessionTtlMs / 1000)))
    }
    const p = principal
    const extra: Record<string, string | string[]> = setCookies.length ? { "set-cookie": setCookies } : {}
    const f = (title: string) => frame(title, p)

    if (method === "POST") {
      const body = await readBody(req)
      const given = req.headers["x-csrf-token"] ?? body._csrf
      if (!sameOrigin(req) || !auth.checkCsrf(p, Array.isArray(given) ? given[0] : given)) {
        const message = "The CSRF token is missing or wrong: reload the page and try again. Nothing was changed."
        return wantsJson(req, path) ? json(res, 403, { error: "CSRF", message }) : html(res, 403, errorPage(f("Refused"), "Refused", message, "CSRF", `${base}/payments`))
      }
      return action(req, res, path, body, p)
    }
    if (method !== "GET" && method !== "HEAD") return json(res, 405, { error: "METHOD_NOT_ALLOWED", message: "GET pages, POST actions." }, { allow: "GET, POST" })

    const parts = path.split("/").filter(Boolean).map((s) => decodeURIComponent(s))
    try {
      if (path === "/" || path === "") return redirect(res, `${base}/payments`, extra)
      if (path === "/api/session") return json(res, 200, { csrf: auth.csrfOf(p), by: p.by, via: p.via }, extra)
      if (parts[0] === "payments" && parts.length === 1) {
        const filters = filtersOf(url.searchParams)
        try {
          const page = await engine.payments.list(listQueryOf(filters, url.searchParams.get("after")))
          return html(res, 200, listPage(f("Payments"), filters, providerNames, page), extra)
        } catch (e) {
          const x = failure(e)
          if (x.status !== 400) throw e
          return html(res, 400, listPage(f("Payments"), filters, providerNames, undefined, x), extra)
        }
      }
      if (parts[0] === "api" && parts[1] === "payments" && parts.length === 2) {
        const page = await engine.payments.list(listQueryOf(filtersOf(url.searchParams), url.searchParams.get("after")))
        return json(res, 200, { data: page.data, total: page.total, totalIsEstimate: page.totalIsEstimate ?? false, perPage: page.perPage, nextCursor: page.nextCursor ?? null }, extra)
      }
      if (parts[0] === "payments" && parts.length === 2) {
        const d = await paymentData(parts[1]!)
        const notice = NOTICES[url.searchParams.get("notice") ?? ""]
        return html(res, 200, paymentPage(f(`Payment ${d.view.id}`), d, notice), extra)
      }
      if (parts[0] === "payments" && parts.length === 3 && parts[2] === "fragment") return html(res, 200, paymentFragment(await paymentData(parts[1]!)), extra)
      if (parts[0] === "api" && parts[1] === "payments" && parts.length === 3) {
        const d = await paymentData(parts[2]!)
        return json(res, 200, { payment: d.view, timeline: d.timeline, diagrams: { payment: d.payment ?? null, refunds: d.refunds.map((r) => ({ refundId: r.refund.id, diagram: r.diagram ?? null })) } }, extra)
      }
      if (parts[0] === "payments" && parts.length === 3 && parts[2] === "events") {
        const id = parts[1]!
        const v = await engine.payments.get(id)
        if (streams >= maxStreams) return json(res, 503, { error: "TOO_MANY_STREAMS", message: "Too many live pages are open; close some." }, { "retry-after": "10" })
        res.writeHead(200, { ...SECURITY_HEADERS, ...extra, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" })
        res.write("retry: 2000\n\n")
        sse(res, "version", { version: v.version })
        watch(id, res, v.version)
        const ping = setInterval(() => res.write(": ping\n\n"), 15_000)
        ping.unref()
        const done = () => {
          clearInterval(ping)
          unwatch(id, res)
        }
        req.on("close", done)
        res.on("close", done)
        return
      }
      if (path === "/review") {
        const items = await engine.review.list()
        return html(res, 200, reviewPage(f("Review queue"), items, NOTICES[url.searchParams.get("notice") ?? ""]), extra)
      }
      if (path === "/api/review") return json(res, 200, { items: await engine.review.list() }, extra)
      return html(res, 404, errorPage(f("Not found"), "Not found", `Nothing at ${path}.`, undefined, `${base}/payments`), extra)
    } catch (e) {
      const x = failure(e)
      return wantsJson(req, path) ? json(res, x.status, { error: x.code, message: x.message }, extra) : html(res, x.status, errorPage(f(x.code), x.status === 404 ? "Not found" : "Could not answer", x.message, x.code, `${base}/payments`), extra)
    }
  }

  const action = async (req: IncomingMessage, res: ServerResponse, path: string, body: Record<string, unknown>, p: Principal): Promise<void> => {
    const parts = path.split("/").filter(Boolean).map((s) => decodeURIComponent(s))
    const asJson = wantsJson(req, path)
    // A bearer caller (a script) may name itself; a person is who signed in.
    const by = p.via === "bearer" ? (str(body.by, 200) ?? p.by) : p.by
    const done = (view: PaymentView, notice: string, back?: string) =>
      asJson ? json(res, 200, { payment: view }) : redirect(res, back === "review" ? `${base}/review?notice=${notice}` : `${base}/payments/${encodeURIComponent(view.id)}?notice=${notice}`)
    try {
      if (path === "/logout") {
        return redirect(res, `${base}/login`, { "set-cookie": cookie(req, SESSION_COOKIE, "", 0) })
      }
      if (parts[0] === "payments" && parts.length === 3 && parts[2] === "sync") return done(await engine.payments.sync(parts[1]!), "synced", str(body.back, 10))
      if (path === "/review/retry") {
        const id = str(body.id, 400)
        if (!id) throw new HttpError(400, "INVALID_INPUT", "Which review item? (id)")
        const note = str(body.note)
        return done(await engine.review.retry(id, { by, ...(note ? { note } : {}) }), "retried")
      }
      if (path === "/review/resolve") {
        const id = str(body.id, 400)
        if (!id) throw new HttpError(400, "INVALID_INPUT", "Which review item? (id)")
        const outcome = body.outcome
        if (outcome !== "succeeded" && outcome !== "failed") throw new HttpError(400, "INVALID_INPUT", "Choose an outcome: succeeded (paid back) or failed (not paid).")
        const note = str(body.note)
        if (!note) throw new HttpError(400, "INVALID_INPUT", "Say why in a note: it is kept in the journal with your name.")
        return done(await engine.review.resolve(id, { outcome, note, by }), `resolved-${outcome}`)
      }
      throw new HttpError(404, "NOT_FOUND", `No action at ${path}.`)
    } catch (e) {
      const x = failure(e)
      const heading = x.code === "REFUND_EXCEEDS_REFUNDABLE" ? "Refused: it would break the refund ceiling" : x.status === 404 ? "Not found" : "Refused"
      const message = x.code === "REFUND_EXCEEDS_REFUNDABLE" ? `${x.message} Nothing was changed.` : x.message
      return asJson ? json(res, x.status, { error: x.code, message }) : html(res, x.status, errorPage(frame(heading, p), heading, message, x.code, `${base}/review`))
    }
  }

  const handler = (async (req: IncomingMessage, res: ServerResponse) => {
    try {
      await handle(req, res)
    } catch (e) {
      const x = failure(e)
      if (!res.headersSent) json(res, x.status, { error: x.code, message: x.message })
      else res.end()
    }
  }) as ConsoleHandler
  handler.close = () => {
    for (const w of watches.values()) {
      clearInterval(w.timer)
      for (const s of w.subs) s.end()
    }
    watches.clear()
    streams = 0
  }
  return handler
}
