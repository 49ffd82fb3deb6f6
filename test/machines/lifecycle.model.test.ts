/**
 * Model-based test of the lifecycle machine with xstate/graph: every reachable snapshot (from a set
 * of commands, provider answers, refund reports and timers) keeps the ledger invariant, sits in the
 * state its facts imply, and every lifecycle state is reachable.
 */
import { describe, expect, it } from "vitest"
import { getShortestPaths } from "xstate/graph"
import { impliedStatus, lifecycleMachine, totals, type MachineContext, type PaymentEvent } from "../../machines/lifecycle/index.js"
import { familyLogic } from "../../src/testing/machines.js"

const at = "2026-11-23T00:00:00.000Z"
const input = { id: "p1", provider: "fake", currency: "JPY", amount: 1000, createdAt: at, deadline: "2026-11-30T00:00:00.000Z", request: {} }

const eventsFor = (snapshot: { context: MachineContext }): PaymentEvent[] => {
  const ctx = snapshot.context
  const events: PaymentEvent[] = [
    { type: "CAPTURE", at, opId: "cap" },
    { type: "CANCEL", at, opId: "cxl" },
    { type: "TIMER", at, timerId: "deadline", name: "deadline" },
  ]
  // Failed refunds release their amount, so the ledger could grow forever: three entries are enough.
  if (ctx.refunds.length < 3) {
    for (const amount of [600, 400]) events.push({ type: "REFUND", at, refundId: `rf${ctx.refunds.length}`, kind: "refund", amount, options: {} })
  }
  for (const [opId, op] of Object.entries(ctx.ops)) {
    if (op.status !== "requested") continue
    if (op.op === "create") {
      for (const status of ["authorized", "captured", "pending"] as const) events.push({ type: "OP.SUCCEEDED", at, opId, payment: { status, providerRef: "r1" } })
    } else events.push({ type: "OP.SUCCEEDED", at, opId })
    events.push({ type: "OP.FAILED", at, opId, code: "x", message: "no" })
  }
  for (const r of ctx.refunds) {
    for (const status of ["pending", "succeeded", "failed", "reversed"] as const) events.push({ type: "PROVIDER.SYNC", at, refunds: [{ refundId: r.id, status }] })
  }
  return events
}

describe("lifecycle machine (model-based)", () => {
  // One engine step per event: the payment machine with its refund machines (lifecycleRefund).
  const paths = getShortestPaths(familyLogic(lifecycleMachine) as unknown as typeof lifecycleMachine, {
    input,
    events: eventsFor as never,
    serializeState: (s: any) => JSON.stringify([s.value, s.children ? Object.values(s.children).map((c: any) => c.value) : [], s.context.reported, s.context.capturedAmount, s.context.refunds.map((r: any) => [r.amount, r.status]), Object.values(s.context.ops).map((o: any) => o.status)]),
  })

  it("explores a meaningful state space", () => {
    expect(paths.length).toBeGreaterThan(50)
  })

  it("every reachable snapshot keeps settled + reserved within the captured amount and sits in its implied state", () => {
    for (const path of paths) {
      const ctx = path.state.context as MachineContext
      const t = totals(ctx)
      expect(t.settled + t.reserved).toBeLessThanOrEqual(ctx.capturedAmount)
      const top = typeof path.state.value === "string" ? path.state.value : Object.keys(path.state.value as object)[0]
      expect(top).toBe(impliedStatus(ctx))
      if (top !== "captured" && top !== "refunded") expect(ctx.refunds).toEqual([])
    }
  })

  it("reaches every lifecycle state, including a refund reversal that reopens a refunded payment", () => {
    const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)))
    for (const s of ["pending", "authorized", "refunded", "cancelled", "expired", "failed"]) expect(reached).toContain(JSON.stringify(s))
    expect(reached).toContain(JSON.stringify({ captured: "unrefunded" }))
    expect(reached).toContain(JSON.stringify({ captured: "partiallyRefunded" }))
    const reopened = paths.some(
      (p) => JSON.stringify(p.state.value) === JSON.stringify({ captured: "unrefunded" }) && (p.state.context as MachineContext).refunds.some((r) => r.status === "reversed"),
    )
    expect(reopened).toBe(true)
  })
})
