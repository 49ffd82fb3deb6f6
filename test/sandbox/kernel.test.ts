import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parseForm, SandboxKernel, serveSandbox, type RunningSandbox } from "../../adapters/sandbox/kernel.js"

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
