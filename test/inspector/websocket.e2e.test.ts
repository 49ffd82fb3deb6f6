/**
 * The Stately inspector over a real WebSocket: the engine sends through `@statelyai/inspect`'s
 * WebSocket inspector to its bridge server, and a client standing in for the browser receives every
 * payment as a root actor and every refund as its child actor (`<paymentId>/<refundId>`), moving
 * through its own machine's states, with sensitive fields masked. Then `paystate demo --inspect`.
 */
import { spawn } from "node:child_process"
import { createServer } from "node:net"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import WebSocket from "ws"
import { createWebSocketInspector } from "@statelyai/inspect"
import { createInspectorServer } from "@statelyai/inspect/server"
import { komoju, startKomojuSandbox, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { createEngine } from "../../src/engine.js"
import { CLI_MAIN } from "../cli/helpers.js"

type Msg = { type: string; sessionId: string; parentId?: string; rootId?: string; name?: string; definition?: string; snapshot?: { value?: unknown; context?: any }; event?: { type: string }; sourceId?: string }

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
const listen = (url: string, into: Msg[]) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.on("message", (d) => into.push(JSON.parse(String(d))))
    ws.once("open", () => resolve(ws))
    ws.once("error", reject)
  })
const until = async (f: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out waiting for inspection events")
    await new Promise((r) => setTimeout(r, 25))
  }
}

let sandbox: RunningKomojuSandbox
beforeAll(async () => {
  sandbox = await startKomojuSandbox()
})
afterAll(() => sandbox.close())

describe("Stately inspector over WebSocket", () => {
  test("a payment is the root actor and its cash refund a child actor moving requested → awaitingCustomer → succeeded", async () => {
    const port = await freePort()
    const bridge = createInspectorServer({ port, autoOpen: false })
    const received: Msg[] = []
    const browser = await (async () => {
      for (let i = 0; ; i++) {
        try {
          return await listen(`ws://127.0.0.1:${port}`, received)
        } catch (e) {
          if (i > 100) throw e
          await new Promise((r) => setTimeout(r, 50))
        }
      }
    })()
    const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}` })
    const adapter = komoju({ baseUrl: sandbox.apiUrl, secretKey: sandbox.secretKey, webhookSecret: sandbox.webhookSecret, timeoutMs: 2000 })
    const engine = createEngine({ store: memoryStore(), providers: { komoju: adapter }, backgroundIntervalMs: 0, inspect: inspector.inspect as never })
    try {
      const control = (path: string) => fetch(`${sandbox.apiUrl.replace(/\/api\/v1\/?$/, "")}${path}`, { method: "POST" })
      const created = await engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "konbini", store: "lawson", email: "hanako@example.com" } } as never)
      await control(`/_sandbox/payments/${created.providerRef}/pay`)
      await engine.payments.sync(created.id)
      const r = await engine.payments.refund({ paymentId: created.id, amount: 400 })
      const refund = r.refunds[0]!
      await control(`/_sandbox/refunds/${refund.providerRef}/complete`)
      await engine.payments.sync(created.id)
      const child = `${created.id}/${refund.id}`
      await until(() => received.some((m) => m.type === "@xstate.snapshot" && m.sessionId === child && m.snapshot?.value === "succeeded"))

      const actors = received.filter((m) => m.type === "@xstate.actor")
      const root = actors.find((m) => m.sessionId === created.id)!
      expect(root).toMatchObject({ rootId: created.id, name: "komoju" })
      expect(root.parentId).toBeUndefined()
      expect(root.definition).toContain("captured")
      const refundActor = actors.find((m) => m.sessionId === child)!
      // Like a spawned child in XState, the refund actor is named by its id; its definition is its own machine's.
      expect(refundActor).toMatchObject({ parentId: created.id, rootId: created.id, name: refund.id })
      expect(JSON.parse(refundActor.definition!)).toMatchObject({ id: "komojuRefund" })
      expect(refundActor.definition).toContain("awaitingCustomer")
      // The refund's own states, in order, as the inspector saw them.
      const states = received.filter((m) => m.type === "@xstate.snapshot" && m.sessionId === child).map((m) => m.snapshot!.value)
      expect(states.filter((s, i) => s !== states[i - 1])).toEqual(["requested", "awaitingCustomer", "succeeded"])
      // Events between them: the payment sends reports to the refund, the refund answers REFUND.CHANGED.
      expect(received.some((m) => m.type === "@xstate.event" && m.sessionId === child && m.event?.type === "REPORT" && m.sourceId === created.id)).toBe(true)
      expect(received.some((m) => m.type === "@xstate.event" && m.sessionId === created.id && m.event?.type === "REFUND.CHANGED" && m.sourceId === child)).toBe(true)
      const last = received.filter((m) => m.type === "@xstate.snapshot" && m.sessionId === created.id).at(-1)!
      expect(last.snapshot!.value).toEqual({ captured: "partiallyRefunded" })
      // Personal data leaves the process masked.
      expect(JSON.stringify(received)).not.toContain("hanako@example.com")
    } finally {
      await engine.close()
      inspector.stop()
      browser.close()
      bridge.stop()
    }
  })

  test("paystate demo --inspect serves the bridge, says how to open it, and relays the demo's actors", async () => {
    const port = await freePort()
    const p = spawn(process.execPath, ["--import", "tsx", CLI_MAIN, "demo", "--store", "memory", "--only", "onekey", "--inspect", "--inspect-port", String(port)], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    p.stdout.on("data", (c) => (out += c))
    p.stderr.on("data", (c) => (out += c))
    try {
      await until(() => out.includes("Still serving the inspector"), 120_000)
      expect(out).toContain(`open http://localhost:${port} in a browser`)
      const html = await (await fetch(`http://127.0.0.1:${port}/`)).text()
      expect(html).toContain("stately.ai/inspect")
      const received: Msg[] = []
      const ws = await listen(`ws://127.0.0.1:${port}`, received)
      await until(() => received.some((m) => m.type === "@xstate.snapshot" && m.sessionId.includes("/")))
      ws.close()
      const child = received.find((m) => m.sessionId.includes("/"))!
      expect(child.sessionId.split("/")[0]).toMatch(/^pay_/)
    } finally {
      p.kill("SIGTERM")
      await new Promise((r) => p.once("exit", r))
    }
  }, 180_000)
})
