/**
 * The console over HTTP on loopback, as a host app mounts it, against the sandboxes: who gets in
 * (token, login cookie, the host's hook), that every action needs a CSRF token of its own session and
 * changes nothing without one, the list API's filters and keyset pages, live versions over SSE,
 * mounting under a path (node:http and Express), and that no card data reaches any page.
 */
import { once } from "node:events"
import { createServer, request } from "node:http"
import type { AddressInfo } from "node:net"
import { serve } from "@hono/node-server"
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response"
import express from "express"
import Fastify from "fastify"
import { Hono } from "hono"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createConsole } from "../../src/console/index.js"
import { bank_account, flaggedRefund, paidOnekey, startConsoleWorld, TOKEN, type ConsoleWorld } from "./world.js"

let w: ConsoleWorld
beforeAll(async () => {
  w = await startConsoleWorld()
})
afterAll(async () => {
  await w?.close()
})

const bearer = { authorization: `Bearer ${TOKEN}` }
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", ...headers }, body })
const csrfOf = async (url: string, headers: Record<string, string>) => ((await (await fetch(`${url}/api/session`, { headers })).json()) as { csrf: string }).csrf

/** What an action could change: the payment's version and journal, and the review queue. */
const state = async (paymentId: string) => ({
  version: (await w.engine.payments.get(paymentId)).version,
  journal: (await w.engine.payments.history(paymentId)).length,
  review: (await w.engine.review.list()).map((i) => i.id).sort(),
})

describe("createConsole", () => {
  it("refuses to run open: without a token or an authorize hook it throws", () => {
    expect(() => createConsole({ engine: w.engine } as never)).toThrow(/token.*authorize/)
    expect(() => createConsole({ engine: w.engine, token: "short" })).toThrow(/16 characters/)
  })
})

describe("authentication", () => {
  it("answers 401 to every page, API and stream without credentials, and 200 with the bearer token", async () => {
    const id = w.shown.komoju![0]!.id
    for (const path of ["/payments", `/payments/${id}`, `/payments/${id}/fragment`, `/payments/${id}/events`, "/review", "/api/payments", `/api/payments/${id}`, "/api/review", "/api/session"]) {
      const anon = await fetch(w.url + path, { redirect: "manual" })
      expect(anon.status, path).toBe(401)
      const body = await anon.text()
      expect(body, path).not.toContain(id.slice(4))
      const wrong = await fetch(w.url + path, { headers: { authorization: "Bearer not-the-token-at-all" } })
      expect(wrong.status, path).toBe(401)
      if (path.endsWith("/events")) continue
      const ok = await fetch(w.url + path, { headers: bearer })
      expect(ok.status, path).toBe(200)
    }
  })

  it("the login form sets an HttpOnly SameSite=Strict session cookie only for the right token", async () => {
    const bad = await post(`${w.url}/login`, form({ token: "wrong-token-wrong-token", name: "mallory" }), { accept: "text/html" })
    expect(bad.status).toBe(401)
    expect(bad.headers.get("set-cookie")).toBeNull()
    const good = await post(`${w.url}/login`, form({ token: TOKEN, name: "Ayşe" }), { accept: "text/html" })
    expect(good.status).toBe(303)
    const set = good.headers.get("set-cookie")!
    expect(set).toMatch(/^paystate_console=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/)
    const cookie = set.split(";")[0]!
    const page = await fetch(`${w.url}/payments`, { headers: { cookie } })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain("Signed in as Ayşe")
    // A cookie whose signature does not match is no session.
    const forged = cookie.replace(/.$/, (c) => (c === "A" ? "B" : "A"))
    expect((await fetch(`${w.url}/payments`, { headers: { cookie: forged } })).status).toBe(401)
  })

  it("a host's authorize hook lets its own requests in, names who acts, and still needs CSRF", async () => {
    const { payment, itemId } = await flaggedRefund(w)
    const hooked = await w.serve({ token: undefined, authorize: (req) => (req.headers["x-staff"] === "kemal" ? { by: "kemal@ops" } : false) })
    try {
      expect((await fetch(`${hooked.url}/payments`)).status).toBe(401)
      const page = await fetch(`${hooked.url}/review`, { headers: { "x-staff": "kemal" } })
      expect(page.status).toBe(200)
      const cookie = page.headers.get("set-cookie")!.split(";")[0]!
      expect(cookie).toMatch(/^paystate_console_csrf=/)
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!
      const before = await state(payment.id)
      // Without the CSRF cookie the token means nothing.
      expect((await post(`${hooked.url}/review/resolve`, form({ _csrf: csrf, id: itemId, outcome: "failed", note: "bank says no" }), { "x-staff": "kemal" })).status).toBe(403)
      expect(await state(payment.id)).toEqual(before)
      const ok = await post(`${hooked.url}/review/resolve`, form({ _csrf: csrf, id: itemId, outcome: "failed", note: "bank says no" }), { "x-staff": "kemal", cookie })
      expect(ok.status).toBe(200)
      const last = (await w.engine.payments.history(payment.id)).at(-1)!
      expect(last.event).toMatchObject({ type: "REVIEW.RESOLVE", outcome: "failed", by: "kemal@ops", note: "bank says no" })
    } finally {
      await hooked.close()
    }
  })
})

describe("every action needs the token and a CSRF token of its own session", () => {
  it("a refused action says why and changes nothing: unknown item, no note, no outcome", async () => {
    const { payment, itemId } = await flaggedRefund(w)
    const csrf = await csrfOf(w.url, bearer)
    const before = await state(payment.id)
    const cases: [Record<string, string>, number, string][] = [
      [{ id: `${payment.id}/rf_nope`, outcome: "succeeded", note: "x" }, 404, "REVIEW_ITEM_NOT_FOUND"],
      [{ id: itemId, outcome: "succeeded", note: "" }, 400, "INVALID_INPUT"],
      [{ id: itemId, outcome: "maybe", note: "x" }, 400, "INVALID_INPUT"],
    ]
    for (const [fields, status, code] of cases) {
      const r = await post(`${w.url}/review/resolve`, form({ ...fields, _csrf: csrf }), bearer)
      expect(r.status).toBe(status)
      expect(((await r.json()) as { error: string }).error).toBe(code)
      const page = await post(`${w.url}/review/resolve`, form({ ...fields, _csrf: csrf }), { ...bearer, accept: "text/html" })
      expect(page.status).toBe(status)
      expect(await page.text()).toContain(code)
    }
    expect(await state(payment.id)).toEqual(before)
  })

  it("sync, retry, resolve and sign-out: 401 without the token, 403 without or with a forged CSRF token, nothing changed; done with both", async () => {
    const { payment, itemId } = await flaggedRefund(w)
    const other = await flaggedRefund(w)
    const csrf = await csrfOf(w.url, bearer)
    // The CSRF token of another session (a login cookie's) is not this session's.
    const login = await post(`${w.url}/login`, form({ token: TOKEN, name: "someone else" }), { accept: "text/html" })
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!
    const otherCsrf = await csrfOf(w.url, { cookie })
    expect(otherCsrf).not.toBe(csrf)
    const actions: { path: string; fields: Record<string, string>; check: () => Promise<void> }[] = [
      {
        path: `/payments/${payment.id}/sync`,
        fields: {},
        check: async () => undefined,
      },
      {
        path: "/review/retry",
        fields: { id: other.itemId, note: "asked the bank to look" },
        // The retry is journaled with who and why (the lookup it starts follows it).
        check: async () => expect((await w.engine.payments.history(other.payment.id)).map((h) => h.event)).toContainEqual(expect.objectContaining({ type: "REVIEW.RETRY", by: "ops-script", note: "asked the bank to look" })),
      },
      {
        path: "/review/resolve",
        fields: { id: itemId, outcome: "succeeded", note: "bank statement shows it paid" },
        check: async () => {
          const v = await w.engine.payments.get(payment.id)
          expect(v.refunds.at(-1)).toMatchObject({ status: "succeeded", needsReview: false })
          expect(v.refundedAmount).toBe(12000)
          expect((await w.engine.payments.history(payment.id)).at(-1)!.event).toMatchObject({ type: "REVIEW.RESOLVE", outcome: "succeeded", by: "ops-script" })
        },
      },
    ]
    for (const a of actions) {
      const pid = a.path.startsWith("/payments/") ? payment.id : a.fields.id!.split("/")[0]!
      const before = await state(pid)
      const body = { ...a.fields, by: "ops-script" }
      const none = await post(w.url + a.path, form({ ...body, _csrf: csrf }))
      expect(none.status, a.path).toBe(401)
      const wrongToken = await post(w.url + a.path, form({ ...body, _csrf: csrf }), { authorization: "Bearer wrong-wrong-wrong-wrong" })
      expect(wrongToken.status, a.path).toBe(401)
      const noCsrf = await post(w.url + a.path, form(body), bearer)
      expect(noCsrf.status, a.path).toBe(403)
      expect(((await noCsrf.json()) as { error: string }).error).toBe("CSRF")
      for (const forged of ["forged-csrf-token", csrf.slice(0, -2) + (csrf.endsWith("AA") ? "BB" : "AA"), otherCsrf]) {
        const r = await post(w.url + a.path, form({ ...body, _csrf: forged }), bearer)
        expect(r.status, `${a.path} with ${forged}`).toBe(403)
      }
      // A POST another site's page makes says so in Origin: refused even with the right token.
      const crossSite = await post(w.url + a.path, form({ ...body, _csrf: csrf }), { ...bearer, origin: "http://evil.example" })
      expect(crossSite.status, a.path).toBe(403)
      expect(await state(pid), `${a.path} changed something while refused`).toEqual(before)
      const ok = await post(w.url + a.path, form({ ...body, _csrf: csrf }), bearer)
      expect(ok.status, `${a.path}: ${await ok.clone().text()}`).toBe(200)
      expect(((await ok.json()) as { payment: { id: string } }).payment.id).toBe(pid)
      await a.check()
    }
    // Sign-out with a cookie session: refused without its CSRF token, done with it.
    expect((await post(`${w.url}/logout`, form({}), { cookie })).status).toBe(403)
    const out = await post(`${w.url}/logout`, form({ _csrf: otherCsrf }), { cookie, accept: "text/html" })
    expect(out.status).toBe(303)
    expect(out.headers.get("set-cookie")).toMatch(/^paystate_console=; .*Max-Age=0/)
  })
})

describe("list", () => {
  it("filters by provider, status, currency, order number and time, and walks keyset pages", async () => {
    const get = async (q: string) => (await (await fetch(`${w.url}/api/payments?${q}`, { headers: bearer })).json()) as { data: { id: string; provider: string; status: string; currency: string; externalOrderNum: string | null; createdAt: string }[]; nextCursor: string | null; total: number }
    const cg = await get("provider=craftgate&status=refunded")
    expect(cg.data.map((p) => p.id).sort()).toEqual(w.shown.craftgate!.map((p) => p.id).sort())
    expect((await get("currency=jpy")).data.every((p) => p.currency === "JPY")).toBe(true)
    const konbini = w.shown.komoju!.find((p) => p.externalOrderNum)!
    expect((await get(`order=${encodeURIComponent(konbini.externalOrderNum!)}`)).data.map((p) => p.id)).toEqual([konbini.id])
    const all = await get("perPage=200")
    const seen: string[] = []
    let after: string | null = null
    do {
      const page: Awaited<ReturnType<typeof get>> = await get(`perPage=2${after ? `&after=${after}` : ""}`)
      seen.push(...page.data.map((p) => p.id))
      after = page.nextCursor
    } while (after)
    expect(seen).toEqual(all.data.map((p) => p.id))
    const newest = all.data[0]!.createdAt
    const since = await get(`since=${encodeURIComponent(newest)}`)
    expect(since.data.every((p) => p.createdAt >= newest)).toBe(true)
    // The HTML list shows amounts in major units, and a bad filter is a 400 that says why.
    const html = await (await fetch(`${w.url}/payments?provider=craftgate`, { headers: bearer })).text()
    expect(html).toContain("500.00 TRY")
    const bad = await fetch(`${w.url}/payments?since=yesterday`, { headers: bearer })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain("INVALID_INPUT")
  })
})

describe("live updates", () => {
  it("the event stream sends a new version when the store changes (a bank action at the sandbox)", async () => {
    const p = await paidOnekey(w, 40000)
    const v = await w.engine.payments.refund({ paymentId: p.id, amount: 10000, bank_account })
    const ref = v.refunds[0]!.providerRef
    const events: { event: string; data: any }[] = []
    const req = request(`${w.url}/payments/${p.id}/events`, { headers: bearer, agent: false })
    const res = await new Promise<import("node:http").IncomingMessage>((resolve) => req.on("response", resolve).end())
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toMatch(/text\/event-stream/)
    let buf = ""
    res.on("data", (c: Buffer) => {
      buf += c.toString()
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const block = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const ev = /^event: (.+)$/m.exec(block)?.[1]
        const data = /^data: (.+)$/m.exec(block)?.[1]
        if (ev && data) events.push({ event: ev, data: JSON.parse(data) })
      }
    })
    await expect.poll(() => events.length).toBeGreaterThan(0)
    expect(events[0]).toEqual({ event: "version", data: { version: v.version } })
    expect((await w.control("onekey", `/_sandbox/refunds/${ref}/status`, { status: "DELIVERED" })).status).toBe(200)
    await w.settle()
    const after = (await w.engine.payments.get(p.id)).version
    expect(after).toBeGreaterThan(v.version)
    await expect.poll(() => events.at(-1)?.data.version, { timeout: 5000 }).toBe(after)
    req.destroy()
  })
})

describe("mounting", () => {
  it("serves under a base path from node:http and from Express's app.use", async () => {
    const id = w.shown.onekey![0]!.id
    const plain = await w.serve({ basePath: "/ops" })
    try {
      const r = await fetch(`${plain.url}/payments/${id}`, { headers: bearer })
      expect(r.status).toBe(200)
      const text = await r.text()
      expect(text).toContain('href="/ops/payments"')
      expect(text).toContain(`data-events="/ops/payments/${id}/events"`)
    } finally {
      await plain.close()
    }
    const handler = createConsole({ engine: w.engine, providers: w.providers, token: TOKEN, basePath: "/ops" })
    const app = express()
    app.use(express.urlencoded({ extended: false }))
    app.use("/ops", handler)
    app.get("/", (_req, res) => void res.send("the shop"))
    const server = createServer(app).listen(0, "127.0.0.1")
    await once(server, "listening")
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops`
    try {
      const page = await fetch(`${base}/payments/${id}`, { headers: bearer })
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('href="/ops/review"')
      // A form Express parsed already is still read (and still needs its CSRF token).
      const csrf = await csrfOf(base, bearer)
      expect((await post(`${base}/payments/${id}/sync`, form({}), bearer)).status).toBe(403)
      expect((await post(`${base}/payments/${id}/sync`, form({ _csrf: csrf }), bearer)).status).toBe(200)
      expect((await fetch(`${base}/payments`)).status).toBe(401)
    } finally {
      handler.close()
      server.closeAllConnections()
      server.close()
    }
  })

  it("mounts in Fastify (hijacked reply) and Hono (@hono/node-server) as docs/console.md shows", async () => {
    const ops = createConsole({ engine: w.engine, providers: w.providers, token: TOKEN, basePath: "/ops" })
    const fastify = Fastify()
    // Leave form bodies unread: the console reads them from the raw request.
    fastify.addContentTypeParser("application/x-www-form-urlencoded", (_req, _payload, done) => done(null))
    fastify.all("/ops/*", (req, reply) => {
      reply.hijack()
      void ops(req.raw, reply.raw)
    })
    await fastify.listen({ port: 0, host: "127.0.0.1" })
    const hono = new Hono<{ Bindings: { incoming: import("node:http").IncomingMessage; outgoing: import("node:http").ServerResponse } }>()
    hono.all("/ops/*", (c) => {
      void ops(c.env.incoming, c.env.outgoing)
      return RESPONSE_ALREADY_SENT
    })
    const honoServer = serve({ fetch: hono.fetch, port: 0, hostname: "127.0.0.1" })
    await once(honoServer, "listening")
    try {
      for (const base of [`http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}/ops`, `http://127.0.0.1:${(honoServer.address() as AddressInfo).port}/ops`]) {
        expect((await fetch(`${base}/payments`)).status, base).toBe(401)
        expect((await fetch(`${base}/payments`, { headers: bearer })).status, base).toBe(200)
        const login = await post(`${base}/login`, form({ token: TOKEN, name: "x" }), { accept: "text/html" })
        expect(login.status, base).toBe(303)
        expect(login.headers.get("location")).toBe("/ops/payments")
        const id = w.shown.onekey![0]!.id
        const csrf = await csrfOf(base, bearer)
        expect((await post(`${base}/payments/${id}/sync`, form({ _csrf: "forged" }), bearer)).status, base).toBe(403)
        expect((await post(`${base}/payments/${id}/sync`, form({ _csrf: csrf }), bearer)).status, base).toBe(200)
      }
    } finally {
      ops.close()
      await fastify.close()
      honoServer.close()
    }
  })
})

describe("nothing sensitive", () => {
  it("no page, fragment or API answer of any demo payment carries a card number, CVV or the token", async () => {
    const secrets = ["4111111111111111", "5258640000000001", "verification_value\":\"123", "\"cvc\":\"000\"", TOKEN]
    const ids = Object.values(w.shown).flat().map((p) => p.id)
    for (const id of ids) {
      for (const path of [`/payments/${id}`, `/payments/${id}/fragment`, `/api/payments/${id}`]) {
        const text = await (await fetch(w.url + path, { headers: bearer })).text()
        for (const s of secrets) expect(text, `${path} shows ${s}`).not.toContain(s)
      }
    }
    for (const path of ["/payments", "/review", "/api/payments", "/api/review"]) {
      const text = await (await fetch(w.url + path, { headers: bearer })).text()
      for (const s of secrets) expect(text, `${path} shows ${s}`).not.toContain(s)
    }
  })
})
