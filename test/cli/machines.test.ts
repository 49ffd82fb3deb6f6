/**
 * `paystate diagram --list`, a diagram for every payment and refund machine, and `paystate replay
 * --check` over a store the demo filled, with a tampered snapshot found as a divergence.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { diagramMachines } from "../../src/cli/providers.js"
import { toMermaid } from "../../src/diagram.js"
import { cli } from "./helpers.js"

const MACHINES = ["lifecycle", "lifecycleRefund", "komoju", "komojuRefund", "komojuRefundRequest", "craftgate", "craftgateRefund", "onekey", "onekeyRefund"]

describe("paystate diagram", { timeout: 180_000 }, () => {
  it("--list names every payment and refund machine with its version", () => {
    const r = cli(["diagram", "--list", "--format", "json"])
    expect(r.status).toBe(0)
    const list = JSON.parse(r.stdout) as { name: string; kind: string; version: string; provider: string }[]
    expect(list.map((m) => m.name)).toEqual(MACHINES)
    expect(list.find((m) => m.name === "craftgateRefund")).toEqual({ name: "craftgateRefund", kind: "refund", version: "1", provider: "craftgate" })
  })

  it("draws each machine; the provider diagrams differ where their rules do", () => {
    // The CLI draws what diagramMachines() holds with toMermaid (one spawn checks that; the rest in-process).
    const machines = diagramMachines()
    const out = Object.fromEntries(MACHINES.map((m) => [m, toMermaid(machines[m]!)]))
    expect(cli(["diagram", "onekeyRefund"]).stdout.trim()).toBe(out.onekeyRefund)
    for (const m of MACHINES) expect(out[m]!.startsWith("stateDiagram-v2")).toBe(true)
    expect(new Set(["komoju", "craftgate", "onekey", "lifecycle"].map((m) => out[m])).size).toBe(4)
    expect(out.komoju).toContain("CAPTURE [creditCard] / startCapture")
    expect(out.craftgate).toContain("CAPTURE [preAuthWithinAmount] / startCapture")
    // OneKey deposits are never authorized apart from paid: no authorized state, no capture.
    expect(out.onekey).not.toContain("authorized")
    expect(out.craftgateRefund).toContain("deciding --> cancelling: [sameDayWithoutPartial]")
    expect(out.komojuRefund).toContain("requested --> awaitingCustomer: REPORT [accepted && cashMethod]")
    expect(out.komojuRefundRequest).toContain("pending --> completed: REPORT [settles]")
    expect(out.onekeyRefund).toContain("completed --> reversed: REPORT [fails]")
    const json = JSON.parse(cli(["diagram", "craftgateRefund", "--format", "json"]).stdout)
    expect(json).toMatchObject({ id: "craftgateRefund", version: "1", initial: "deciding" })
    expect(json.states.deciding.always[1]).toEqual({ target: "#craftgateRefund.cancelling", guard: "sameDayWithoutPartial" })
    expect(json.states.cancelling.entry).toEqual(["assignKind", "requestWhole"])
  })

  it("an unknown format is an error naming the valid ones", () => {
    const r = cli(["diagram", "komoju", "--format", "svg"])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/mermaid/)
    expect(r.stderr).toMatch(/json/)
  })
})

describe("paystate replay --check", { timeout: 300_000 }, () => {
  it("rebuilds every snapshot of the demo's payments, refunds included, and reports a tampered one", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "paystate-replay-")), "data")
    expect(cli(["demo", "--data-dir", dir]).status).toBe(0)
    const ok = cli(["replay", "--check", "--data-dir", dir, "--json"])
    expect(ok.status).toBe(0)
    const result = JSON.parse(ok.stdout)
    expect(result.payments).toBeGreaterThanOrEqual(6)
    expect(result.divergences).toEqual([])

    // Someone edits a stored snapshot: the refund's state no longer follows from the journal.
    const store = pgliteStore({ dataDir: dir })
    await store.init()
    const [row] = (await store.list({ provider: "onekey" })).data.filter((p) => (p.snapshot.context as any).refunds.length > 0)
    const ctx = row!.snapshot.context as any
    const snapshot = { ...row!.snapshot, context: { ...ctx, refunds: ctx.refunds.map((r: any, i: number) => (i === 0 ? { ...r, state: "tampered" } : r)) } }
    await store.commit({ expectedVersion: row!.version, payment: { ...row!, snapshot } as never, journal: { at: row!.updatedAt, event: { type: "TAMPER", at: row!.updatedAt }, status: row!.status }, outboxAdd: [], outboxDone: [], timersSet: [], timersCancel: [], seen: [] })
    await store.close()
    const bad = cli(["replay", "--check", "--data-dir", dir])
    expect(bad.status).toBe(1)
    expect(bad.stdout).toContain(`${row!.id} (onekey) diverges at $.context.refunds[0].state`)
  })
})
