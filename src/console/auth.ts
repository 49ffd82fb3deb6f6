/**
 * Who may use the console and whether a POST really comes from its own pages. Three ways in: an
 * `Authorization: Bearer <token>` header, the HttpOnly SameSite=Strict session cookie the login form
 * sets (signed, so it cannot be made without the console's secret), or the host's `authorize(req)`
 * hook. Every action needs a CSRF token bound to the session by an HMAC: a page of another site
 * cannot read it, and a token from one session is worthless in another.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import type { IncomingMessage } from "node:http"

/** What the host's `authorize` hook answers: allowed (optionally with who acts, kept in the journal) or not. */
export type AuthorizeResult = boolean | { readonly by?: string }

/** The host's own check of a request (its session, SSO header, mTLS…). */
export type AuthorizeHook = (req: IncomingMessage) => AuthorizeResult | Promise<AuthorizeResult>

/** An authenticated request: a stable session key (what the CSRF token is bound to) and who acts. */
export interface Principal {
  readonly sid: string
  readonly by: string
  readonly via: "bearer" | "cookie" | "authorize"
}

/** Name of the session cookie the login form sets. */
export const SESSION_COOKIE = "paystate_console"
/** Name of the cookie that gives a hook-authorized browser a CSRF session. */
export const ANON_COOKIE = "paystate_console_csrf"

const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64url")
const digest = (s: string) => createHash("sha256").update(s).digest()

/** Compares two strings in constant time (by their hashes, so lengths leak nothing either). */
export const safeEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b))

/** Reads one cookie from a request's Cookie header. */
export const cookieOf = (req: IncomingMessage, name: string): string | undefined => {
  const header = req.headers.cookie
  if (!header) return undefined
  for (const part of header.split(";")) {
    const i = part.indexOf("=")
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

/** The console's keys: sessions and CSRF tokens are HMACs under one secret. */
export const createAuth = (options: { readonly token?: string; readonly authorize?: AuthorizeHook; readonly secret?: string | Buffer; readonly sessionTtlMs?: number }) => {
  const secret = options.secret ? Buffer.from(options.secret) : randomBytes(32)
  const ttl = options.sessionTtlMs ?? 12 * 3600_000
  const mac = (purpose: string, value: string) => createHmac("sha256", secret).update(`${purpose}\u0000${value}`).digest("base64url")

  /** A signed session cookie value for someone who gave the token. */
  const issueSession = (name: string, now = Date.now()): string => {
    const body = b64(JSON.stringify({ sid: randomBytes(16).toString("base64url"), by: name, exp: now + ttl }))
    return `${body}.${mac("session", body)}`
  }

  const readSession = (value: string | undefined, now = Date.now()): Principal | undefined => {
    if (!value) return undefined
    const [body, sig, extra] = value.split(".")
    if (!body || !sig || extra !== undefined || !safeEqual(sig, mac("session", body))) return undefined
    try {
      const s = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as { sid?: unknown; by?: unknown; exp?: unknown }
      if (typeof s.sid !== "string" || typeof s.by !== "string" || typeof s.exp !== "number" || s.exp < now) return undefined
      return { sid: `cookie:${s.sid}`, by: s.by, via: "cookie" }
    } catch {
      return undefined
    }
  }

  const bearerOf = (req: IncomingMessage): string | undefined => {
    const h = req.headers.authorization
    const m = typeof h === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null
    return m?.[1]
  }

  /** Who the request is from, or undefined (answer 401). `anon` is the hook session cookie's value, if any. */
  const authenticate = async (req: IncomingMessage): Promise<Principal | undefined> => {
    const bearer = bearerOf(req)
    if (bearer !== undefined) {
      // A wrong bearer token is a refusal even if a cookie would pass: the caller said who it is.
      if (!options.token || !safeEqual(bearer, options.token)) return undefined
      return { sid: `bearer:${digest(options.token).toString("base64url")}`, by: "console", via: "bearer" }
    }
    if (options.token) {
      const s = readSession(cookieOf(req, SESSION_COOKIE))
      if (s) return s
    }
    if (options.authorize) {
      const r = await options.authorize(req)
      if (r === false || r === null || r === undefined) return undefined
      const anon = cookieOf(req, ANON_COOKIE)
      const by = typeof r === "object" && typeof r.by === "string" && r.by ? r.by : "console"
      return { sid: `authorize:${anon && /^[A-Za-z0-9_-]{16,64}$/.test(anon) ? anon : ""}`, by, via: "authorize" }
    }
    return undefined
  }

  /** The CSRF token of a session; empty for a hook session without its cookie yet (no POST can pass). */
  const csrfOf = (p: Principal): string => (p.sid === "authorize:" ? "" : mac("csrf", p.sid))

  /** True when `given` is the CSRF token of this session. */
  const checkCsrf = (p: Principal, given: unknown): boolean => {
    const want = csrfOf(p)
    return want !== "" && typeof given === "string" && given.length > 0 && given.length < 200 && safeEqual(given, want)
  }

  /** A fresh value for the hook session cookie. */
  const newAnon = (): string => randomBytes(18).toString("base64url")

  /** True when the token matches (the login form). */
  const checkToken = (given: unknown): boolean => !!options.token && typeof given === "string" && given.length < 1000 && safeEqual(given, options.token)

  return { authenticate, csrfOf, checkCsrf, issueSession, checkToken, newAnon, hasToken: !!options.token, sessionTtlMs: ttl }
}

/** The console's authentication, as `createAuth` builds it. */
export type ConsoleAuth = ReturnType<typeof createAuth>
