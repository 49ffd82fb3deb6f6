import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { request as httpRequest } from "node:http"
import { MAX_BODY_BYTES, parseForm, SandboxKernel, SandboxRequestError, serveSandbox, type RunningSandbox } from "../../adapters/sandbox/kernel.js"

describe("sandbox kernel", () => {
  let sandbox: RunningSandbox
  let performed = 0
  const received: { body: string; headers: Record<string, unknown> }[] = []
  let hookUrl = ""
  const hooks = createServer((req, res) => {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      received.push({ body, headers: req.headers })
      res.end("ok")
    })
  })

  beforeAll(async () => {
    await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", () => r()))
    hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`
    const kernel = new SandboxKernel("test", hookUrl)
    sandbox = await serveSandbox({
      kernel,
      invalidBody: () => ({ status: 400, body: { error: "invalid json" } }),
      notFound: () => ({ status: 404, body: { error: "not found" } }),
      routes: [
        {
          method: "POST",
          path: "/things/:id/pay",
          handler: (req) =>
            kernel.idempotent(req.headers["x-idem"], req, () => {
              performed++
              kernel.record({ type: "pay", paymentId: req.params.id!, amount: Number(req.body.amount), currency: "JPY", cause: req.headers["x-idem"] ?? "none" })
              kernel.sendWebhook({ headers: { "x-n": String(performed) }, body: JSON.stringify({ n: performed }) })
              return { status: 200, body: { id: req.params.id, body: req.body, n: performed } }
            }, { inFlight: { status: 409, body: {} }, mismatch: { status: 422, body: {} } }),
        },
      ],
    })
  })
  afterAll(async () => {
    await sandbox.close()
    hooks.close()
  })

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(sandbox.url + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) })

  it("parses Rails-style form bodies with nesting", () => {
    expect(parseForm("amount=1000&payment_details%5Btype%5D=konbini&metadata[a]=b&tags[]=x&tags[]=y")).toEqual({
      amount: "1000",
      payment_details: { type: "konbini" },
      metadata: { a: "b" },
      tags: ["x", "y"],
    })
  })

  it("takes form-encoded bodies and path parameters", async () => {
    const res = await fetch(`${sandbox.url}/things/abc/pay`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "amount=5&payment_details[type]=konbini" })
    expect(await res.json()).toMatchObject({ id: "abc", body: { amount: "5", payment_details: { type: "konbini" } } })
  })

  it("answers the first response to a repeated idempotency key without performing again; another body gets 422", async () => {
    const before = performed
    const a = await (await post("/things/t1/pay", { amount: 1 }, { "x-idem": "k1" })).json()
    const b = await (await post("/things/t1/pay", { amount: 1 }, { "x-idem": "k1" })).json()
    expect(b).toEqual(a)
    expect(performed).toBe(before + 1)
    expect((await post("/things/t1/pay", { amount: 2 }, { "x-idem": "k1" })).status).toBe(422)
  })

  it("error500 answers 500 and performs nothing; drop_response performs and closes the connection", async () => {
    await post("/_sandbox/faults", { path: "/things/:id/pay", method: "POST", mode: "error500", count: 1 })
    const before = performed
    expect((await post("/things/t2/pay", { amount: 1 })).status).toBe(500)
    expect(performed).toBe(before)
    await post("/_sandbox/faults", { path: "/things/t3/pay", method: "POST", mode: "drop_response", count: 1 })
    await expect(post("/things/t3/pay", { amount: 7 })).rejects.toThrow()
    expect(performed).toBe(before + 1)
    const ledger = (await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: { paymentId: string; amount: number }[] }
    expect(ledger.movements.filter((m) => m.paymentId === "t3")).toEqual([expect.objectContaining({ amount: 7, seq: expect.any(Number) })])
  })

  it("timeout never answers and performs nothing", async () => {
    await post("/_sandbox/faults", { path: "/things/t4/pay", method: "POST", mode: "timeout", count: 1 })
    const before = performed
    await expect(fetch(`${sandbox.url}/things/t4/pay`, { method: "POST", body: "{}", signal: AbortSignal.timeout(300) })).rejects.toThrow()
    expect(performed).toBe(before)
  })

  it("delivers webhooks once, twice in duplicate mode, and newest first in reorder mode", async () => {
    received.length = 0
    await post("/things/w1/pay", { amount: 1 })
    await sandbox.kernel.settled()
    expect(received).toHaveLength(1)
    await post("/_sandbox/webhooks", { mode: "duplicate" })
    await post("/things/w2/pay", { amount: 1 })
    await sandbox.kernel.settled()
    expect(received).toHaveLength(3)
    expect(received[1]!.body).toBe(received[2]!.body)
    await post("/_sandbox/webhooks", { mode: "reorder" })
    await post("/things/w3/pay", { amount: 1 })
    await post("/things/w4/pay", { amount: 1 })
    await sandbox.kernel.settled()
    const last = received.slice(-2).map((r) => JSON.parse(r.body).n)
    expect(last[0]).toBeGreaterThan(last[1])
    await post("/_sandbox/webhooks", { mode: "normal" })
  })

  it("moves its clock, and reset forgets the ledger and returns to real time", async () => {
    await post("/_sandbox/clock", { now: "2030-01-01T00:00:00Z" })
    expect(((await (await fetch(`${sandbox.url}/_sandbox/clock`)).json()) as { now: string }).now.startsWith("2030-01-01")).toBe(true)
    expect((await post("/_sandbox/clock", { now: "yesterday" })).status).toBe(400)
    await post("/_sandbox/reset", {})
    const ledger = (await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: unknown[] }
    expect(ledger.movements).toEqual([])
    expect(Math.abs(sandbox.kernel.now().getTime() - Date.now())).toBeLessThan(5000)
  })

  it("answers an unknown path and a broken JSON body in the provider's own shape", async () => {
    expect((await post("/nope", {})).status).toBe(404)
    expect((await post("/things/x/pay", "{broken")).status).toBe(400)
  })
})

describe("sandbox kernel: hostile requests", () => {
  let sandbox: RunningSandbox
  const seen: { body: any; headers: any; params: any }[] = []

  beforeAll(async () => {
    const kernel = new SandboxKernel("hostile")
    sandbox = await serveSandbox({
      kernel,
      invalidBody: () => ({ status: 400, body: { error: "invalid json" } }),
      notFound: () => ({ status: 404, body: { error: "not found" } }),
      routes: [
        {
          method: "POST",
          path: "/echo/:id",
          handler: (req) => {
            seen.push({ body: req.body, headers: req.headers, params: req.params })
            return {
              status: 200,
              body: {
                id: req.params.id,
                body: req.body,
                // What a route reads from a header it did not get must be nothing, not Object.prototype's.
                constructorHeader: typeof req.headers["constructor"],
                inheritedMode: (req.body as any).mode ?? null,
                queryA: req.query.get("a"),
              },
            }
          },
        },
        {
          method: "POST",
          path: "/boom",
          handler: (req) => {
            if ((req.body as any).explode) throw new TypeError("handler bug")
            return { status: 200, body: { fine: true } }
          },
        },
      ],
    })
  })
  afterAll(async () => {
    await sandbox.close()
    delete (Object.prototype as any).mode
    delete (Object.prototype as any).admin
    delete (Object.prototype as any).polluted
  })

  const raw = (path: string, body: string, contentType = "application/x-www-form-urlencoded", headers: Record<string, string> = {}) =>
    fetch(sandbox.url + path, { method: "POST", headers: { "content-type": contentType, ...headers }, body })

  /** Sends a request line as given (fetch would re-encode a malformed path). */
  const rawPath = (path: string): Promise<{ status: number; body: any }> =>
    new Promise((resolve, reject) => {
      const r = httpRequest({ host: "127.0.0.1", port: sandbox.port, method: "POST", path, headers: { "content-type": "application/json", "content-length": 2 } }, (res) => {
        let text = ""
        res.on("data", (c) => (text += c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }))
      })
      r.on("error", reject)
      r.end("{}")
    })

  it("a form body __proto__[mode]=duplicate is refused with 400 and Object.prototype stays clean", async () => {
    const res = await raw("/echo/p1", "amount=1&__proto__[mode]=duplicate")
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: { code: "bad_request", message: expect.stringContaining("__proto__") } })
    expect(({} as any).mode).toBeUndefined()
    // The next, innocent request reads no inherited "mode".
    const next = (await (await raw("/echo/p2", "amount=1")).json()) as { inheritedMode: unknown }
    expect(next.inheritedMode).toBeNull()
  })

  it("constructor[prototype][admin]=1 in a form body, a JSON body and a query is refused", async () => {
    expect((await raw("/echo/c1", "constructor[prototype][admin]=1")).status).toBe(400)
    expect((await raw("/echo/c2", JSON.stringify({ a: { constructor: { prototype: { admin: 1 } } } }), "application/json")).status).toBe(400)
    expect((await raw("/echo/c3?__proto__[admin]=1", "{}", "application/json")).status).toBe(400)
    expect((await raw("/echo/c4", '{"x":{"__proto__":{"polluted":true}}}', "application/json")).status).toBe(400)
    expect(({} as any).admin).toBeUndefined()
    expect(({} as any).polluted).toBeUndefined()
  })

  it("parseForm builds null-prototype objects and throws a typed error on forbidden keys and mixed shapes", () => {
    const form = parseForm("a[b]=1&tags[]=x") as any
    expect(Object.getPrototypeOf(form)).toBeNull()
    expect(Object.getPrototypeOf(form.a)).toBeNull()
    expect(form.toString).toBeUndefined()
    for (const bad of ["__proto__[x]=1", "a[constructor]=1", "prototype=1", "a=1&a[b]=2", "a[b]=1&a=2", "a[b]=1&a[]=2", "a%zz=1", "a=%E0%A4%A"]) {
      expect(() => parseForm(bad), bad).toThrow(SandboxRequestError)
    }
    expect(({} as any).x).toBeUndefined()
  })

  it("JSON bodies become null-prototype objects", async () => {
    seen.length = 0
    await raw("/echo/j1", JSON.stringify({ nested: { a: [{ b: 1 }] } }), "application/json")
    const body = seen[0]!.body
    expect(Object.getPrototypeOf(body)).toBeNull()
    expect(Object.getPrototypeOf(body.nested)).toBeNull()
    expect(Object.getPrototypeOf(body.nested.a[0])).toBeNull()
    expect(body.nested.a[0].b).toBe(1)
  })

  it("headers are a null-prototype object: a missing header named constructor reads as undefined", async () => {
    const res = (await (await raw("/echo/h1", "{}", "application/json")).json()) as { constructorHeader: string }
    expect(res.constructorHeader).toBe("undefined")
  })

  it("a body over 1 MiB is answered 413; one just under is accepted", async () => {
    const big = await raw("/echo/big", JSON.stringify({ s: "x".repeat(MAX_BODY_BYTES) }), "application/json")
    expect(big.status).toBe(413)
    expect(await big.json()).toEqual({ error: { code: "payload_too_large", message: expect.any(String) } })
    const fits = await raw("/echo/fits", JSON.stringify({ s: "x".repeat(MAX_BODY_BYTES - 100) }), "application/json")
    expect(fits.status).toBe(200)
  })

  it("malformed percent-encoding in the path, the query or a form body is answered 400, not 500", async () => {
    expect(await rawPath("/echo/%E0%A4%A")).toMatchObject({ status: 400, body: { error: { code: "bad_request" } } })
    expect(await rawPath("/echo/%zz")).toMatchObject({ status: 400 })
    expect(await rawPath("/echo/ok?a=%zz")).toMatchObject({ status: 400 })
    expect(await rawPath("/echo/ok?%E0=1")).toMatchObject({ status: 400 })
    expect((await raw("/echo/ok", "a=%E0%A4%A")).status).toBe(400)
    // A well-formed escape still reaches the route, decoded.
    expect(await rawPath("/echo/a%20b?a=%C3%A9")).toMatchObject({ status: 200, body: { id: "a b", queryA: "é" } })
  })

  it("a 100,000-deep JSON body is refused with 400, not a crash", async () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000)
    expect((await raw("/echo/deep", deep, "application/json")).status).toBe(400)
    const deepForm = "a" + "[b]".repeat(1000) + "=1"
    expect((await raw("/echo/deep", deepForm)).status).toBe(400)
    expect((await raw("/echo/after", "{}", "application/json")).status).toBe(200)
  })

  it("an exception in one request is that request's 500 and never reaches the next", async () => {
    const boom = await raw("/boom", JSON.stringify({ explode: true }), "application/json")
    expect(boom.status).toBe(500)
    expect(await boom.json()).toMatchObject({ error: { code: "sandbox_error" } })
    const fine = await raw("/boom", "{}", "application/json")
    expect(fine.status).toBe(200)
  })

  it("the control API checks the types of what it reads", async () => {
    const post = (path: string, body: unknown) => raw(path, JSON.stringify(body), "application/json")
    expect((await post("/_sandbox/faults", { path: "/boom", method: "POST", mode: "error500", count: "lots" })).status).toBe(400)
    expect((await post("/_sandbox/faults", { path: "/boom", method: { x: 1 }, mode: "error500" })).status).toBe(400)
    expect((await post("/_sandbox/faults", { path: ["/boom"], mode: "error500" })).status).toBe(400)
    expect((await post("/_sandbox/webhooks", { mode: "delay", delayMs: -5 })).status).toBe(400)
    expect((await post("/_sandbox/webhook-url", { url: "file:///etc/passwd" })).status).toBe(400)
    expect((await post("/_sandbox/clock", { now: { toString: "2030-01-01" } })).status).toBe(400)
    expect((await post("/_sandbox/clock", ["2030-01-01T00:00:00Z"])).status).toBe(400)
    expect(sandbox.kernel.faults).toEqual([])
  })

  it("a provider sandbox can answer refusals in its own shape", async () => {
    const kernel = new SandboxKernel("shaped")
    const s = await serveSandbox({
      kernel,
      invalidBody: () => ({ status: 400, body: {} }),
      notFound: () => ({ status: 404, body: {} }),
      rejected: (_req, problem) => ({ status: problem.status, body: { errors: { errorCode: problem.reason } } }),
      routes: [{ method: "POST", path: "/x", handler: () => ({ status: 200, body: {} }) }],
    })
    const res = await fetch(`${s.url}/x`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "__proto__[a]=1" })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ errors: { errorCode: "forbidden_key" } })
    await s.close()
  })
})

describe("paystate/sandbox", () => {
  it("starts a provider's sandbox by name and lists the providers", async () => {
    const { startSandbox, sandboxProviders } = await import("../../adapters/sandbox/index.js")
    expect(sandboxProviders()).toContain("onekey")
    const s = await startSandbox("onekey", { webhookUrl: "http://127.0.0.1:9/none" })
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await fetch(`${s.url}/_sandbox/ledger`)).status).toBe(200)
    await s.close()
    expect(() => startSandbox("nope")).toThrow(/No sandbox/)
  })
})
