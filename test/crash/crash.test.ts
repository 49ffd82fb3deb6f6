/**
 * Kills a real child process at named crash points and restarts it: the effect that was in flight
 * runs exactly once at the provider, and the engine ends in the right state.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fakeProvider } from "../../src/testing/fake-provider.js"
import { hostFake } from "./remote-fake.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-crash-"))
const fake = fakeProvider()
let url = ""
let close = () => {}

beforeAll(async () => {
  const h = await hostFake(fake)
  url = h.url
  close = () => h.server.close()
})
afterAll(() => {
  close()
  rmSync(dir, { recursive: true, force: true })
})

/** Runs the crash-test host process; resolves with its JSON line, or with `killed` when it died. */
const child = (env: Record<string, string>): Promise<{ killed: boolean; out: any; stderr: string }> =>
  new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "child.ts")], {
      env: { ...process.env, CRASH_PROVIDER: "fake", CRASH_SANDBOX_URL: url, CRASH_DATA_DIR: join(dir, "db"), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let out = ""
    let stderr = ""
    p.stdout.on("data", (c) => (out += c))
    p.stderr.on("data", (c) => (stderr += c))
    p.on("exit", (_code, signal) => {
      const line = out.trim().split("\n").filter(Boolean).pop()
      resolve({ killed: signal === "SIGKILL", out: line ? JSON.parse(line) : undefined, stderr })
    })
  })

const refunds = () => fake.ledger.filter((m) => m.op === "refund")

describe("crash recovery with a real child process", () => {
  let paymentId = ""

  it("creates a payment in one process", async () => {
    const r = await child({ CRASH_ACTION: "create", CRASH_INPUT: JSON.stringify({ provider: "fake", amount: 1000, currency: "JPY" }) })
    expect(r.out?.ok).toBe(true)
    paymentId = r.out.result.id
    expect(r.out.result.status).toBe("captured")
  })

  it("killed between the outbox write and the provider call: the restart sends the refund exactly once", async () => {
    const r = await child({ CRASH_ACTION: "refund", PAYSTATE_CRASH_AT: "after-outbox-write", CRASH_INPUT: JSON.stringify({ paymentId, amount: 400 }) })
    expect(r.killed).toBe(true)
    expect(refunds()).toHaveLength(0)
    const again = await child({ CRASH_ACTION: "recover", CRASH_INPUT: JSON.stringify({ paymentId }) })
    expect(again.out?.ok).toBe(true)
    expect(again.out.result.payment).toMatchObject({ refundedAmount: 400, reservedAmount: 0 })
    expect(refunds()).toHaveLength(1)
    const third = await child({ CRASH_ACTION: "recover", CRASH_INPUT: JSON.stringify({ paymentId }) })
    expect(third.out.result.recovered).toBe(0)
    expect(refunds()).toHaveLength(1)
  }, 60_000)

  it("killed after the provider performed the refund but before the outcome was stored: the restart reconciles and does not re-send", async () => {
    const r = await child({ CRASH_ACTION: "refund", PAYSTATE_CRASH_AT: "after-provider-call", CRASH_INPUT: JSON.stringify({ paymentId, amount: 600 }) })
    expect(r.killed).toBe(true)
    expect(refunds()).toHaveLength(2)
    const callsBefore = fake.calls.filter((c) => c.op === "refund").length
    const again = await child({ CRASH_ACTION: "recover", CRASH_INPUT: JSON.stringify({ paymentId }) })
    expect(again.out.result.payment).toMatchObject({ status: "refunded", refundedAmount: 1000, reservedAmount: 0 })
    expect(refunds()).toHaveLength(2)
    expect(fake.calls.filter((c) => c.op === "refund").length).toBe(callsBefore)
  }, 60_000)
})
