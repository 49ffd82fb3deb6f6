/**
 * The Craftgate machine on its own, driven with XState's pure transition API: no engine, no I/O, no
 * clock but the events' `at`. Every rule of seed 003 that can be decided before calling Craftgate is
 * decided here, and a property run checks it over random clocks, amounts and orders.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { initialTransition, transition } from "../../src/testing/machines.js"
import { createCraftgateMachine, craftgateMachine, sameDay, transactionsLeft } from "../../machines/craftgate/index.js"
import { totals, type MachineAction, type MachineContext, type PaymentEvent, type ProviderRefundState } from "../../machines/lifecycle/index.js"
import { istanbul } from "./helpers.js"

type Machine = typeof craftgateMachine
type Snap = ReturnType<typeof initialTransition<Machine>>[0]
const PAID = istanbul("2026-11-23T10:00")

const TXS = [
  { id: "11", name: "Book", paidPrice: 3000 },
  { id: "12", name: "Pen", paidPrice: 2000 },
]

const step = (machine: Machine, s: Snap, e: PaymentEvent): [Snap, MachineAction[]] => {
  const [next, actions] = transition(machine, s, e)
  return [next, actions as unknown as MachineAction[]]
}
const captured = (machine: Machine = craftgateMachine, at = PAID, phase = "AUTH"): Snap => {
  const [s] = initialTransition(machine, { id: "pay_1", provider: "craftgate", currency: "TRY", amount: 5000, method: "card", createdAt: at, request: {}, details: { paymentPhase: phase } })
  const status = phase === "PRE_AUTH" ? "authorized" : "captured"
  return step(machine, s, { type: "OP.SUCCEEDED", at, opId: "create", payment: { status, providerRef: "900", ...(status === "captured" ? { capturedAmount: 5000 } : {}), details: { transactions: TXS, paymentPhase: phase } } })[0]
}
const ctx = (s: Snap) => s.context as MachineContext
const refuse = (actions: MachineAction[]) => actions.find((a) => a.type === "refuse")?.params as { code: string; message: string; details?: any } | undefined
const effect = (actions: MachineAction[]) => actions.find((a) => a.type === "effect")?.params as { opId: string; op: string; payload: any } | undefined
const refund = (s: Snap, refundId: string, at: string, amount?: number, options: Record<string, unknown> = {}, machine: Machine = craftgateMachine) =>
  step(machine, s, { type: "REFUND", at, refundId, kind: "refund", ...(amount !== undefined ? { amount } : {}), options: options as never })
const report = (s: Snap, at: string, r: ProviderRefundState, machine: Machine = craftgateMachine) => step(machine, s, { type: "PROVIDER.SYNC", at, refunds: [r] })[0]

describe("Craftgate machine", () => {
  it("plans a same-day whole refund as a CANCEL of everything, and a next-day one as a REFUND per transaction", () => {
    const [c, ca] = refund(captured(), "r1", istanbul("2026-11-23T23:59"))
    expect(effect(ca)).toMatchObject({ op: "refund", payload: { expectedRefundType: "CANCEL" } })
    expect(ctx(c).refunds[0]).toMatchObject({ kind: "cancel", amount: 5000, status: "requested", details: { refundType: "CANCEL" } })
    expect(transactionsLeft(ctx(c)).map((t) => t.left)).toEqual([0, 0])

    const [r, ra] = refund(captured(), "r1", istanbul("2026-11-24T00:01"))
    expect(effect(ra)).toMatchObject({ op: "refund", payload: { expectedRefundType: "REFUND" } })
    expect(ctx(r).refunds[0]).toMatchObject({ kind: "refund", amount: 5000, details: { refundType: "REFUND", transactions: [{ id: "11", amount: 3000 }, { id: "12", amount: 2000 }] } })
  })

  it("judges the day by Craftgate's createdDate when the adapter reported it", () => {
    // paystate recorded the payment at 23:50, but Craftgate made it after midnight (a retried create).
    let s = captured(craftgateMachine, istanbul("2026-11-23T23:50"))
    s = step(craftgateMachine, s, { type: "PROVIDER.SYNC", at: istanbul("2026-11-24T00:02"), payment: { details: { paidAt: istanbul("2026-11-24T00:01") } } })[0]
    expect(effect(refund(s, "r1", istanbul("2026-11-24T09:00"))[1])?.payload.expectedRefundType).toBe("CANCEL")
  })

  it("after a partial refund, a whole refund the same day is a REFUND of what is left, never a CANCEL", () => {
    let [s, a] = refund(captured(), "r1", istanbul("2026-11-23T11:00"), 1000, { paymentTransactionId: "11" })
    expect(effect(a)).toMatchObject({ op: "refund-transaction", payload: { paymentTransactionId: "11", refundPrice: 1000 } })
    s = report(s, istanbul("2026-11-23T11:00"), { refundId: "r1", status: "succeeded", providerStatus: "SUCCESS" })
    ;[s, a] = refund(s, "r2", istanbul("2026-11-23T23:59"))
    expect(effect(a)?.payload.expectedRefundType).toBe("REFUND")
    expect(ctx(s).refunds[1]).toMatchObject({ kind: "refund", amount: 4000, details: { transactions: [{ id: "11", amount: 2000 }, { id: "12", amount: 2000 }] } })
  })

  it("a refused partial refund does not count as an earlier refund: the whole refund can still be a CANCEL", () => {
    let [s] = refund(captured(), "r1", istanbul("2026-11-23T11:00"), 1000, { paymentTransactionId: "11" })
    s = step(craftgateMachine, s, { type: "OP.FAILED", at: istanbul("2026-11-23T11:00"), opId: "r1", code: "9005", message: "no" })[0]
    expect(effect(refund(s, "r2", istanbul("2026-11-23T12:00"))[1])?.payload.expectedRefundType).toBe("CANCEL")
  })

  it("caps each transaction at what it has left, counting refunds still WAITING", () => {
    let s = captured()
    expect(refuse(refund(s, "r1", PAID, 3001, { paymentTransactionId: "11" })[1])).toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE", details: { paymentTransactionId: "11", left: 3000 } })
    s = refund(s, "r1", PAID, 2500, { paymentTransactionId: 11 })[0]
    s = report(s, PAID, { refundId: "r1", status: "pending", providerStatus: "WAITING" })
    expect(refuse(refund(s, "r2", PAID, 501, { paymentTransactionId: "11" })[1])).toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE", details: { left: 500 } })
    const [s2, a] = refund(s, "r2", PAID, undefined, { paymentTransactionId: "11" })
    expect(effect(a)?.payload.refundPrice).toBe(500)
    expect(transactionsLeft(ctx(s2)).map((t) => t.left)).toEqual([0, 2000])
    // The WAITING one fails: its share is back.
    const s3 = report(s2, PAID, { refundId: "r1", status: "failed", providerStatus: "FAILURE" })
    expect(transactionsLeft(ctx(s3)).map((t) => t.left)).toEqual([2500, 2000])
  })

  it("asks which transaction a partial amount is for when several have something left, and takes the only one otherwise", () => {
    let s = captured()
    const r = refuse(refund(s, "r1", PAID, 600)[1])
    expect(r).toMatchObject({ code: "INVALID_INPUT", details: { requested: 600, transactions: [{ paymentTransactionId: "11", left: 3000 }, { paymentTransactionId: "12", left: 2000 }] } })
    expect(r?.message).toMatch(/paymentTransactionId/)
    expect(refuse(refund(s, "r1", PAID, 1, { paymentTransactionId: "99" })[1])).toMatchObject({ code: "INVALID_INPUT" })
    expect(refuse(refund(s, "r1", PAID, 5001)[1])).toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE" })
    s = refund(s, "r1", PAID, undefined, { paymentTransactionId: "11" })[0]
    const [, a] = refund(s, "r2", PAID, 600)
    expect(effect(a)).toMatchObject({ op: "refund-transaction", payload: { paymentTransactionId: "12", refundPrice: 600 } })
  })

  it("treats an amount equal to everything left as the whole payment (a CANCEL on the day)", () => {
    expect(effect(refund(captured(), "r1", PAID, 5000)[1])).toMatchObject({ op: "refund", payload: { expectedRefundType: "CANCEL" } })
  })

  it("never plans a partial refund as a cancel, even of a whole transaction", () => {
    const [, a] = refund(captured(), "r1", PAID, 3000, { paymentTransactionId: "11" })
    expect(effect(a)?.op).toBe("refund-transaction")
  })

  it("refuses any refund after a CANCEL, settled or still WAITING", () => {
    let [s] = refund(captured(), "r1", PAID)
    s = report(s, PAID, { refundId: "r1", status: "pending", providerStatus: "WAITING", details: { refundType: "CANCEL" } })
    expect(refuse(refund(s, "r2", PAID, 100, { paymentTransactionId: "12" })[1])).toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE", details: { cancelRefundId: "r1" } })
    s = report(s, PAID, { refundId: "r1", status: "succeeded", providerStatus: "SUCCESS" })
    expect(s.value).toBe("refunded")
    expect(refuse(refund(s, "r3", PAID)[1])).toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE" })
  })

  it("counts an external CANCEL (made outside paystate) as taking every transaction", () => {
    const s = report(captured(), PAID, { providerRef: "777", kind: "cancel", amount: 5000, status: "succeeded", details: { refundType: "CANCEL" } })
    expect(ctx(s).refunds[0]).toMatchObject({ external: true })
    expect(transactionsLeft(ctx(s)).every((t) => t.left === 0)).toBe(true)
  })

  it("holds a whole refund back while another refund's outcome is unknown", () => {
    const [s] = refund(captured(), "r1", PAID, 100, { paymentTransactionId: "11" })
    expect(refuse(refund(s, "r2", PAID)[1])).toMatchObject({ code: "INVALID_TRANSITION", details: { inFlight: "r1" } })
  })

  it("passes refundDestinationType and chargeFromMe through", () => {
    expect(effect(refund(captured(), "r1", PAID, 100, { paymentTransactionId: "11", refundDestinationType: "WALLET", chargeFromMe: true })[1])?.payload).toEqual({
      paymentTransactionId: "11",
      refundPrice: 100,
      refundDestinationType: "WALLET",
      chargeFromMe: true,
    })
  })

  it("captures only a PRE_AUTH payment, up to the pre-authorized amount, and cancels only one", () => {
    const pre = captured(craftgateMachine, PAID, "PRE_AUTH")
    expect(pre.value).toBe("authorized")
    expect(refuse(step(craftgateMachine, pre, { type: "CAPTURE", at: PAID, opId: "c1", amount: 5001 })[1])).toMatchObject({ code: "INVALID_INPUT" })
    expect(effect(step(craftgateMachine, pre, { type: "CAPTURE", at: PAID, opId: "c1", amount: 4000 })[1])).toMatchObject({ op: "capture", payload: { amount: 4000 } })
    expect(effect(step(craftgateMachine, pre, { type: "CANCEL", at: PAID, opId: "x1" })[1])).toMatchObject({ op: "cancel" })
    expect(refuse(step(craftgateMachine, captured(), { type: "CANCEL", at: PAID, opId: "x1" })[1])).toMatchObject({ code: "INVALID_TRANSITION" })
  })

  it("uses the configured zone and cut-off", () => {
    const utc = createCraftgateMachine({ timeZone: "UTC" })
    // 23:30 Istanbul = 20:30 UTC; 01:00 Istanbul next day = 22:00 UTC the same UTC day.
    const s = captured(utc, istanbul("2026-11-23T23:30"))
    expect(effect(refund(s, "r1", istanbul("2026-11-24T01:00"), undefined, {}, utc)[1])?.payload.expectedRefundType).toBe("CANCEL")
    const late = createCraftgateMachine({ dayCutoff: "23:00" })
    const s2 = captured(late, istanbul("2026-11-23T23:30"))
    expect(effect(refund(s2, "r1", istanbul("2026-11-24T22:59"), undefined, {}, late)[1])?.payload.expectedRefundType).toBe("CANCEL")
  })

  it("over random clocks, amounts and outcomes: CANCEL only when allowed, no transaction beyond its price", () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant("advance" as const), minutes: fc.integer({ min: 0, max: 30 * 60 }) }),
      fc.record({ t: fc.constant("partial" as const), tx: fc.integer({ min: 0, max: 2 }), amount: fc.option(fc.integer({ min: 1, max: 3500 }), { nil: undefined }) }),
      fc.record({ t: fc.constant("amount" as const), amount: fc.integer({ min: 1, max: 5500 }) }),
      fc.record({ t: fc.constant("full" as const) }),
      fc.record({ t: fc.constant("settle" as const), pick: fc.nat(), to: fc.constantFrom("succeeded", "failed", "pending") }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 24 * 60 - 1 }), fc.array(op, { maxLength: 14 }), (startMinute, ops) => {
        const start = new Date(Date.parse("2026-11-23T00:00:00+03:00") + startMinute * 60_000)
        let now = start.getTime()
        let s = captured(craftgateMachine, start.toISOString())
        let n = 0
        for (const o of ops) {
          const at = new Date(now).toISOString()
          if (o.t === "advance") now += o.minutes * 60_000
          else if (o.t === "settle") {
            const open = ctx(s).refunds.filter((r) => r.status === "requested" || r.status === "pending")
            const r = open[o.pick % Math.max(1, open.length)]
            if (r) s = report(s, at, { refundId: r.id, status: o.to as "succeeded" })
          } else {
            const before = ctx(s)
            const [next, actions] =
              o.t === "partial" ? refund(s, `r${++n}`, at, o.amount, { paymentTransactionId: String(11 + o.tx) }) : refund(s, `r${++n}`, at, o.t === "amount" ? o.amount : undefined)
            const e = effect(actions)
            if (e?.op === "refund") {
              const allowed = before.refunds.every((r) => r.status === "failed") && sameDay(start, at)
              expect(e.payload.expectedRefundType).toBe(allowed ? "CANCEL" : "REFUND")
              expect(o.t).not.toBe("partial")
            }
            if (e) expect(ctx(next).refunds.at(-1)!.amount).toBeGreaterThan(0)
            s = next
          }
          const c = ctx(s)
          const left = transactionsLeft(c)
          for (const [i, t] of left.entries()) expect(t.left >= 0 && t.left <= TXS[i]!.paidPrice).toBe(true)
          const held = totals(c)
          expect(held.settled + held.reserved).toBeLessThanOrEqual(5000)
          expect(left.reduce((x, t) => x + t.left, 0)).toBe(held.refundable)
        }
      }),
      { numRuns: process.env.PAYSTATE_DEEP ? 20_000 : 500 },
    )
  })
})
