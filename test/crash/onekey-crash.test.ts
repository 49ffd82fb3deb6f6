/**
 * The crash test against a real provider sandbox: a child process running the engine is killed
 * between the outbox write and the OneKey refund call; after restart the sandbox's ledger shows the
 * refund exactly once.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startOnekeySandbox } from "../../adapters/providers/onekey/index.js"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-crash-onekey-"))
let sandbox: RunningSandbox
beforeAll(async () => {
  sandbox = await startOnekeySandbox()
})
afterAll(async () => {
  await sandbox.close()
  rmSync(dir, { recursive: true, force: true })
})

const child = (env: Record<string, string>): Promise<{ killed: boolean; out: any }> =>
  new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "child.ts")], {
      env: { ...process.env, CRASH_PROVIDER: "onekey", CRASH_SANDBOX_URL: sandbox.url, CRASH_DATA_DIR: join(dir, "db"), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let out = ""
    p.stdout.on("data", (c) => (out += c))
    p.on("exit", (_c, signal) => {
      const line = out.trim().split("\n").filter(Boolean).pop()
      resolve({ killed: signal === "SIGKILL", out: line ? JSON.parse(line) : undefined })
    })
  })

const refundsAtProvider = async () =>
  ((await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: { type: string; amount: number }[] }).movements.filter((m) => m.type === "refund")

describe("crash recovery against the OneKey sandbox", () => {
  it("a refund killed after the outbox write is sent exactly once after restart", async () => {
    const created = await child({
      CRASH_ACTION: "create",
      CRASH_INPUT: JSON.stringify({ provider: "onekey", amount: 50000, currency: "MXN", country: "MX", payment_method: "OX", payer: { email: "a@b.co", first_name: "A", last_name: "B" } }),
    })
    expect(created.out?.ok).toBe(true)
    const id = created.out.result.id
    await fetch(`${sandbox.url}/_sandbox/deposits/${created.out.result.providerRef}/complete`, { method: "POST" })
    const sync = await child({ CRASH_ACTION: "recover", CRASH_INPUT: JSON.stringify({ paymentId: id }) })
    expect(sync.out?.ok).toBe(true)

    // The deposit is paid; the restarted engine learns it through payments.sync inside the refund child.
    const bank_account = { beneficiary: "A B", bank_code: 1, account_number: "1", account_type: "SAVING" }
    const syncAndRefund = await child({ CRASH_ACTION: "sync-then-refund", PAYSTATE_CRASH_AT: "after-outbox-write", CRASH_INPUT: JSON.stringify({ paymentId: id, amount: 20000, bank_account }) })
    expect(syncAndRefund.killed).toBe(true)
    expect(await refundsAtProvider()).toHaveLength(0)

    const again = await child({ CRASH_ACTION: "recover", CRASH_INPUT: JSON.stringify({ paymentId: id }) })
    expect(again.out?.ok).toBe(true)
    expect(again.out.result.payment.refunds).toHaveLength(1)
    expect(again.out.result.payment.reservedAmount).toBe(20000)
    expect(await refundsAtProvider()).toEqual([expect.objectContaining({ amount: 20000 })])
    await child({ CRASH_ACTION: "recover", CRASH_INPUT: JSON.stringify({ paymentId: id }) })
    expect(await refundsAtProvider()).toHaveLength(1)
  }, 90_000)
})
