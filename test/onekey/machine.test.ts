/**
 * The OneKey machine on its own, driven with XState's pure transition API: no engine, no I/O. Every
 * rule of seed 002 that can be decided before calling OneKey is decided here.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { initialTransition, transition } from "../../src/testing/machines.js"
import type { MachineAction, MachineContext, PaymentEvent, ProviderRefundState } from "../../machines/lifecycle/index.js"
import { totals } from "../../machines/lifecycle/index.js"
import { createOnekeyMachine, onekeyMachine, ONEKEY_POLL_DELAYS_MS } from "../../machines/onekey/index.js"
import { bank_account } from "./helpers.js"

type Machine = typeof onekeyMachine
type Snap = ReturnType<typeof initialTransition<Machine>>[0]
const T0 = Date.parse("2026-03-01T10:00:00Z")
let tick = 0
const at = () => new Date(T0 + ++tick * 1000).toISOString()

const start = (method = "OX", amount = 100000, machine: Machine = onekeyMachine): Snap => {
  const [s] = initialTransition(machine, { id: "pay_1", provider: "onekey", currency: "MXN", amount, method, createdAt: at(), request: { country: "MX", payment_method: method } })
  return step(machine, s, { type: "OP.SUCCEEDED", opId: "create", payment: { status: "pending", providerRef: "300600001" } })[0]
}
const step = (machine: Machine, s: Snap, e: Omit<PaymentEvent, "at"> | PaymentEvent): [Snap, MachineAction[]] => {
  const [next, actions] = transition(machine, s, { at: at(), ...e } as PaymentEvent)
  return [next, actions as unknown as MachineAction[]]
}
const paid = (method = "OX", amount = 100000, machine: Machine = onekeyMachine) => step(machine, start(method, amount, machine), { type: "PROVIDER.SYNC", payment: { status: "captured" } })[0]
const ctx = (s: Snap) => s.context as MachineContext
const refuse = (actions: MachineAction[]) => actions.find((a) => a.type === "refuse")?.params as { code: string; details?: any } | undefined
const effect = (actions: MachineAction[]) => actions.find((a) => a.type === "effect")?.params as { opId: string; op: string; payload: any } | undefined
const refund = (machine: Machine, s: Snap, refundId: string, amount?: number, options: Record<string, unknown> = { bank_account }, description?: string) =>
  step(machine, s, { type: "REFUND", refundId, kind: "refund", ...(amount !== undefined ? { amount } : {}), options: options as never, ...(description ? { description } : {}) })
const report = (machine: Machine, s: Snap, r: ProviderRefundState) => step(machine, s, { type: "PROVIDER.SYNC", refunds: [r] })[0]

describe("OneKey machine", () => {
  it("refuses a refund until the deposit is COMPLETED (OneKey would answer 801)", () => {
    const [s, actions] = refund(onekeyMachine, start(), "r1", 100)
    expect(refuse(actions)).toMatchObject({ code: "INVALID_TRANSITION" })
    expect(ctx(s).refunds).toEqual([])
  })

  it("takes any number of partial refunds up to the deposit and refuses one more with OneKey's 802", () => {
    let s = paid()
    for (const [i, amount] of [40000, 35000, 25000].entries()) {
      const [next, actions] = refund(onekeyMachine, s, `r${i}`, amount)
      expect(effect(actions)).toMatchObject({ opId: `r${i}`, op: "refund", payload: { amount, bank_account } })
      s = next
    }
    expect(totals(ctx(s))).toMatchObject({ reserved: 100000, refundable: 0 })
    const [, actions] = refund(onekeyMachine, s, "r9", 1)
    expect(refuse(actions)).toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE", details: { code: 802, type: "INVALID_AMOUNT_TO_REFUND", requested: 1, refundable: 0 } })
  })

  it("always sends an explicit amount: no amount means what is left, not the whole deposit", () => {
    let s = paid()
    s = refund(onekeyMachine, s, "r1", 30000)[0]
    const [, actions] = refund(onekeyMachine, s, "r2")
    expect(effect(actions)?.payload.amount).toBe(70000)
  })

  it("refuses a cash or bank refund without bank_account (OneKey would answer 804)", () => {
    const [s, actions] = refund(onekeyMachine, paid("SE"), "r1", 100, {})
    expect(refuse(actions)).toMatchObject({ code: "INVALID_INPUT", details: { code: 804, type: "MISSING_BANK_ACCOUNT", providerCode: 804 } })
    expect(ctx(s).refunds).toEqual([])
  })

  it("refunds a card deposit to the card, in full, without a bank account", () => {
    const [, partial] = refund(onekeyMachine, paid("VI", 20000), "r1", 5000, {})
    expect(refuse(partial)).toMatchObject({ code: "INVALID_INPUT", details: { code: 802 } })
    const [s, full] = refund(onekeyMachine, paid("VI", 20000), "r2", undefined, { bank_account })
    expect(effect(full)?.payload).toEqual({ amount: 20000 })
    expect(ctx(s).refunds[0]).toMatchObject({ amount: 20000, status: "requested", details: { card: true } })
  })

  it("takes partial card refunds where the market allows them (cardPartialRefunds)", () => {
    const m = createOnekeyMachine({ cardPartialRefunds: true })
    let s = paid("MC", 20000, m)
    s = refund(m, s, "r1", 5000, {})[0]
    const [, actions] = refund(m, s, "r2", 15000, {})
    expect(effect(actions)?.payload).toEqual({ amount: 15000 })
  })

  it("sends the refund's description as comments when none are given, cut to OneKey's 200 characters", () => {
    const [, actions] = refund(onekeyMachine, paid(), "r1", 100, { bank_account }, "x".repeat(250))
    expect(effect(actions)?.payload.comments).toHaveLength(200)
    const [, own] = refund(onekeyMachine, paid(), "r1", 100, { bank_account, comments: "mine" }, "description")
    expect(effect(own)?.payload.comments).toBe("mine")
  })

  it("holds PENDING, INCORRECT_DETAILS and DELIVERED refunds, settles COMPLETED, releases REJECTED and CANCELLED", () => {
    let s = paid()
    for (const id of ["a", "b", "c"]) s = refund(onekeyMachine, s, id, 20000)[0]
    s = report(onekeyMachine, s, { refundId: "a", providerRef: "1", status: "pending", providerStatus: "PENDING" })
    s = report(onekeyMachine, s, { refundId: "b", providerRef: "2", status: "pending", providerStatus: "INCORRECT_DETAILS" })
    s = report(onekeyMachine, s, { refundId: "c", providerRef: "3", status: "pending", providerStatus: "DELIVERED" })
    expect(totals(ctx(s))).toMatchObject({ reserved: 60000, settled: 0, refundable: 40000 })
    s = report(onekeyMachine, s, { providerRef: "3", status: "succeeded", providerStatus: "COMPLETED" })
    s = report(onekeyMachine, s, { providerRef: "2", status: "failed", providerStatus: "CANCELLED" })
    s = report(onekeyMachine, s, { providerRef: "1", status: "failed", providerStatus: "REJECTED" })
    expect(totals(ctx(s))).toMatchObject({ reserved: 0, settled: 20000, refundable: 80000 })
    expect(s.value).toEqual({ captured: "partiallyRefunded" })
  })

  it("records a COMPLETED refund the bank later REJECTS as reversed, and gives its amount back", () => {
    let s = paid("OX", 30000)
    s = refund(onekeyMachine, s, "a", 30000)[0]
    s = report(onekeyMachine, s, { refundId: "a", providerRef: "1", status: "succeeded", providerStatus: "COMPLETED" })
    expect(s.value).toBe("refunded")
    s = report(onekeyMachine, s, { providerRef: "1", status: "failed", providerStatus: "REJECTED" })
    expect(ctx(s).refunds).toEqual([expect.objectContaining({ id: "a", status: "reversed", providerStatus: "REJECTED", amount: 30000 })])
    expect(s.value).toEqual({ captured: "unrefunded" })
    expect(effect(refund(onekeyMachine, s, "b", 30000)[1])).toBeDefined()
  })

  it("looks up a pending refund 5, 25, 125 and 625 minutes after it became pending, then asks a person", () => {
    let s = refund(onekeyMachine, paid(), "a", 1000)[0]
    const [next, actions] = step(onekeyMachine, s, { type: "OP.SUCCEEDED", opId: "a", refunds: [{ refundId: "a", providerRef: "168001", status: "pending", providerStatus: "PENDING" }] })
    const timer = actions.find((a) => a.type === "timer")?.params as { at: string }
    expect(Date.parse(timer.at) - Date.parse(ctx(next).refunds[0]!.updatedAt)).toBe(ONEKEY_POLL_DELAYS_MS[0])
    s = next
    for (let n = 0; n < ONEKEY_POLL_DELAYS_MS.length; n++) {
      const [after, fired] = step(onekeyMachine, s, { type: "TIMER", timerId: "poll:a", name: "poll", data: { refundId: "a", n } })
      expect(effect(fired)).toMatchObject({ op: "refund.status", payload: { refundId: "a", providerRef: "168001" } })
      expect(fired.some((a) => a.type === "timer")).toBe(n < ONEKEY_POLL_DELAYS_MS.length - 1)
      s = after
    }
    expect(ctx(s).refunds[0]).toMatchObject({ needsReview: true, status: "pending" })
  })

  it("cannot capture, cancel or update a deposit: the customer pays it", () => {
    const s = start()
    for (const e of [{ type: "CAPTURE", opId: "c" }, { type: "CANCEL", opId: "x" }, { type: "UPDATE", opId: "u", description: "d" }] as const) {
      expect(refuse(step(onekeyMachine, s, e)[1])?.code).toBe("INVALID_TRANSITION")
    }
  })

  it("keeps settled + held refunds within the deposit under any order of refunds and OneKey reports", () => {
    const statuses = [
      ["pending", "PENDING"],
      ["pending", "INCORRECT_DETAILS"],
      ["pending", "DELIVERED"],
      ["succeeded", "COMPLETED"],
      ["failed", "REJECTED"],
      ["failed", "CANCELLED"],
    ] as const
    const event = fc.oneof(
      fc.record({ kind: fc.constant("refund" as const), amount: fc.option(fc.integer({ min: 1, max: 60000 }), { nil: undefined }) }),
      fc.record({ kind: fc.constant("report" as const), index: fc.nat(8), status: fc.constantFrom(...statuses) }),
      fc.record({ kind: fc.constant("failed" as const), index: fc.nat(8) }),
    )
    fc.assert(
      fc.property(fc.constantFrom("OX", "SE", "VI"), fc.integer({ min: 1, max: 100000 }), fc.array(event, { maxLength: 30 }), (method, deposit, events) => {
        let s = paid(method, deposit)
        let n = 0
        for (const e of events) {
          if (e.kind === "refund") s = refund(onekeyMachine, s, `r${n++}`, e.amount)[0]
          else {
            const entry = ctx(s).refunds[e.index]
            if (!entry) continue
            s =
              e.kind === "failed"
                ? step(onekeyMachine, s, { type: "OP.FAILED", opId: entry.id, code: "802", message: "Amount to refund not valid" })[0]
                : report(onekeyMachine, s, { refundId: entry.id, providerRef: `ref-${entry.id}`, status: e.status[0], providerStatus: e.status[1] })
          }
          const t = totals(ctx(s))
          expect(t.settled + t.reserved).toBeLessThanOrEqual(deposit)
          expect(t.refundable).toBeGreaterThanOrEqual(0)
        }
      }),
      { numRuns: process.env.PAYSTATE_DEEP ? 5000 : 300 },
    )
  })
})
