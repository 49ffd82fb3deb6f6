/**
 * The `paystate` command as a user runs it: the demo on PGlite prints every payment's id in words
 * that match its state, then `list`, `status` and `history` read the same store (text and --json),
 * `diagram` draws, `sandbox` starts and stops.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import type { PaymentView } from "../../src/types.js"
import { CLI_MAIN, cli, type CliRun } from "./helpers.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-cli-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("paystate demo, then list / status / history on its store", { timeout: 180_000 }, () => {
  const dataDir = join(dir, "demo")
  let demo: CliRun
  let payments: PaymentView[]
  beforeAll(async () => {
    demo = cli(["demo", "--data-dir", dataDir, "--only", "komoju,onekey"])
    // What the demo stored, read with the store itself (not through the CLI under test).
    const store = pgliteStore({ dataDir })
    await store.init()
    const { toView } = await import("../../src/view.js")
    payments = (await store.list({ perPage: 100 })).data.map(toView)
    await store.close()
  }, 180_000)

  it("runs the journeys, exits 0 and prints each payment's id, once per step and in the closing list", () => {
    expect(demo.status, demo.stderr).toBe(0)
    expect(demo.stdout).toContain("paystate demo — pglite store")
    expect(demo.stdout).toContain("802 INVALID_AMOUNT_TO_REFUND")
    expect(payments.length).toBeGreaterThanOrEqual(4)
    const closing = demo.stdout.slice(demo.stdout.indexOf("\nDone."))
    for (const p of payments) {
      expect(demo.stdout).toContain(`→ ${p.id} · `)
      expect(closing).toContain(`  ${p.id}\n`)
    }
  })

  it("words match the state: an unpaid konbini payment is 'authorized, awaiting the customer', never 'paid'", () => {
    const lines = demo.stdout.split("\n")
    const created = lines.findIndex((l) => l.includes("created a konbini payment"))
    const after = lines[created + 1]!
    expect(after).toMatch(/→ pay_\S+ · authorized, awaiting the customer · 1,100 JPY to pay, nothing paid yet$/)
    expect(after).not.toMatch(/paid 1,100/)
    // Once the customer paid, it is paid.
    expect(lines[created + 3]).toMatch(/captured · paid 1,100 JPY · refundable 1,100 JPY$/)
    // A OneKey OXXO deposit nobody has paid yet is pending, awaiting the customer.
    const deposit = lines.findIndex((l) => l.includes("created for OXXO"))
    expect(lines[deposit + 1]).toMatch(/pending, awaiting the customer · 1,000\.00 MXN, nothing paid yet$/)
    // Every "paid X" printed is a captured amount of that payment.
    for (const l of lines.filter((x) => x.includes("→ pay_"))) {
      const id = /→ (pay_\S+)/.exec(l)![1]!
      const paid = /· paid ([\d,.]+) /.exec(l)?.[1]
      if (paid) expect(payments.find((p) => p.id === id)!.capturedAmount).toBeGreaterThan(0)
    }
  })

  it("list shows every id, filters like the list API, pages, and --json is the API's page", () => {
    const all = cli(["list", "--data-dir", dataDir])
    expect(all.status, all.stderr).toBe(0)
    for (const p of payments) expect(all.stdout).toContain(p.id)
    expect(all.stdout).toMatch(new RegExp(`page 1 of 1 \\(${payments.length} payments\\)`))

    const onekey = JSON.parse(cli(["list", "--data-dir", dataDir, "--provider", "onekey", "--json"]).stdout)
    expect(onekey.data.map((p: PaymentView) => p.id).sort()).toEqual(payments.filter((p) => p.provider === "onekey").map((p) => p.id).sort())
    const refunded = JSON.parse(cli(["list", "--data-dir", dataDir, "--status", "refunded", "--currency", "jpy", "--json"]).stdout)
    expect(refunded.data.length).toBeGreaterThan(0)
    expect(refunded.data.every((p: PaymentView) => p.status === "refunded" && p.currency === "JPY")).toBe(true)
    const konbini = payments.find((p) => p.externalOrderNum)!
    const byOrder = JSON.parse(cli(["list", "--data-dir", dataDir, "--external-order-num", konbini.externalOrderNum!, "--json"]).stdout)
    expect(byOrder.data.map((p: PaymentView) => p.id)).toEqual([konbini.id])
    const future = cli(["list", "--data-dir", dataDir, "--since", "2999-01-01T00:00:00Z"])
    expect(future.stdout).toContain("No payments match these filters")
    const page2 = JSON.parse(cli(["list", "--data-dir", dataDir, "--per-page", "1", "--page", "2", "--json"]).stdout)
    expect(page2).toMatchObject({ page: 2, perPage: 1, total: payments.length, lastPage: payments.length })
    expect(page2.data).toHaveLength(1)
  })

  it("status prints the payment and each refund with its id, amount and state; --json is the view", () => {
    const p = payments.find((x) => x.provider === "onekey" && x.refunds.length >= 3)!
    const text = cli(["status", p.id, "--data-dir", dataDir])
    expect(text.status, text.stderr).toBe(0)
    for (const r of p.refunds) expect(text.stdout).toMatch(new RegExp(`${r.kind} ${r.id.replace(/[-]/g, "\\-")}  [\\d,.]+ MXN  ${r.status}`))
    const json = JSON.parse(cli(["status", p.id, "--data-dir", dataDir, "--json"]).stdout)
    expect(json).toMatchObject({ id: p.id, provider: "onekey", refundedAmount: p.refundedAmount, reservedAmount: p.reservedAmount })
  })

  it("history shows amounts, refund ids and the states each event led to; --json carries the same", () => {
    const p = payments.find((x) => x.provider === "onekey" && x.refunds.length >= 3)!
    const text = cli(["history", p.id, "--data-dir", dataDir])
    expect(text.status, text.stderr).toBe(0)
    const lines = text.stdout.split("\n")
    expect(lines[1]).toMatch(/^v1 .* CREATE  1,000\.00 MXN OX  → pending/)
    const first = p.refunds[0]!
    expect(text.stdout).toContain(`REFUND  refund ${first.id} 400.00 MXN`)
    expect(text.stdout).toMatch(new RegExp(`refund ${first.id.replace(/-/g, "\\-")}  400\\.00 MXN  requested → pending \\(PENDING\\)  provider ${first.providerRef}`))
    expect(text.stdout).toMatch(/succeeded \(COMPLETED\) → reversed \(REJECTED\)/)
    const json = JSON.parse(cli(["history", p.id, "--data-dir", dataDir, "--json"]).stdout)
    expect(json.entries.length).toBe(p.version)
    const reversed = json.entries.find((e: { refunds: { to: string }[] }) => e.refunds.some((r) => r.to.startsWith("reversed")))
    expect(reversed).toMatchObject({ event: "PROVIDER.SYNC", amounts: { captured: 100000 } })
    expect(json.entries.at(-1).amounts).toMatchObject({ refunded: p.refundedAmount, reserved: p.reservedAmount })
    // Masked as the app masks them: no bank account number in the journal's events.
    expect(text.stdout + JSON.stringify(json)).not.toContain("18293435")
  })

  it("a missing payment is exit 1 with its id", () => {
    const r = cli(["status", "pay_missing", "--data-dir", dataDir])
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('PAYMENT_NOT_FOUND: No payment "pay_missing"')
  })
})

describe("paystate diagram and sandbox", { timeout: 180_000 }, () => {
  it("diagram prints Mermaid or the JSON definition", () => {
    const mermaid = cli(["diagram", "craftgate"])
    expect(mermaid.stdout.startsWith("stateDiagram-v2")).toBe(true)
    expect(mermaid.stdout).toContain("captured --> refunded")
    expect(JSON.parse(cli(["diagram", "onekey", "--format", "json"]).stdout)).toMatchObject({ id: "onekey" })
    const nope = cli(["diagram", "nope"])
    expect(nope.status).toBe(2)
    expect(nope.stderr).toContain("lifecycle, lifecycleRefund, komoju, komojuRefund, komojuRefundRequest, craftgate, craftgateRefund, onekey, onekeyRefund")
  })

  it("sandbox prints its address once it listens, and stops on SIGTERM", async () => {
    const p = spawn(process.execPath, ["--import", "tsx", CLI_MAIN, "sandbox", "craftgate", "--port", "0", "--webhook-key", "hk_cli"], { stdio: ["ignore", "pipe", "pipe"] })
    const url = await new Promise<string>((resolve, reject) => {
      let out = ""
      p.stdout.on("data", (c) => {
        out += c
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
        if (m) resolve(m[1]!)
      })
      p.on("exit", () => reject(new Error(out)))
    })
    expect((await fetch(`${url}/_sandbox/ledger`)).status).toBe(200)
    const exited = new Promise((r) => p.on("exit", r))
    p.kill("SIGTERM")
    expect(await exited).toBe(0)
  }, 60_000)
})

describe("paystate demo twice on one data directory", { timeout: 180_000 }, () => {
  it("runs the second time as the first: the sandboxes never hand out an id the store has seen", () => {
    // Each run starts new sandboxes; their numeric ids used to restart too, and the second run's
    // notifications landed on the first run's payments (a OneKey reversal found the wrong refund).
    const dataDir = join(dir, "twice")
    for (const run of [1, 2]) {
      const r = cli(["demo", "--data-dir", dataDir, "--only", "onekey,craftgate"])
      expect(r.status, `run ${run}: ${r.stderr}`).toBe(0)
      expect(r.stdout).toContain("kept on record as reversed")
    }
  })
})
