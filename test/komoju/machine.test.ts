/**
 * KOMOJU's machine driven with XState's pure transitions: the policy's rules, the ceiling counting
 * tax, pending cash refunds, refund requests and their fee, deadlines and polls.
 */
import { initialTransition, transition } from "../../src/testing/machines.js"
import { describe, expect, test } from "vitest"
import { komojuMachine, KOMOJU_REFUND_POLL_DELAYS_MS } from "../../machines/komoju/index.js"
import { totals, type MachineAction, type PaymentEvent } from "../../machines/lifecycle/index.js"
import type { DistributiveOmit } from "../../src/provider.js"

const AT = "2020-06-09T07:42:12.000Z"
type Snap = ReturnType<typeof initialTransition<typeof komojuMachine>>[0]

const start = (method: string | null, total = 1100, fee = 0) =>
  initialTransition(komojuMachine, { id: "pay_1", provider: "komoju", currency: "JPY", amount: total, method, createdAt: AT, request: {}, details: { komoju: { payment_method_fee: fee } } })

const step = (snap: Snap, event: DistributiveOmit<PaymentEvent, "at">) => {
  const [next, actions] = transition(komojuMachine, snap, { ...event, at: AT } as PaymentEvent)
  return { snap: next, actions: actions as unknown as MachineAction[] }
}
const refusal = (actions: MachineAction[]) => actions.find((a) => a.type === "refuse")?.params as { code: string; message: string } | undefined
const effects = (actions: MachineAction[]) => actions.filter((a) => a.type === "effect").map((a) => a.params as { opId: string; op: string; payload: Record<string, unknown> })

/** A payment KOMOJU answered as `status`. */
const at = (method: string | null, status: "pending" | "authorized" | "captured", total = 1100, fee = 0, deadline: string | null = null) => {
  const [s] = start(method, total, fee)
  return step(s, { type: "OP.SUCCEEDED", opId: "create", payment: { status, providerRef: "kp_1", amount: total, ...(status === "captured" ? { capturedAmount: total } : {}), deadline } })
}

describe("capture", () => {
  test("only an authorized credit card can be captured, and only as a whole", () => {
    const card = at("credit_card", "authorized")
    expect(effects(step(card.snap, { type: "CAPTURE", opId: "c1" }).actions)).toEqual([{ opId: "c1", op: "capture", payload: {} }])
    expect(refusal(step(card.snap, { type: "CAPTURE", opId: "c1", amount: 500 }).actions)?.code).toBe("INVALID_INPUT")
    const konbini = at("konbini", "authorized")
    const r = refusal(step(konbini.snap, { type: "CAPTURE", opId: "c1" }).actions)
    expect(r?.code).toBe("INVALID_TRANSITION")
    expect(r?.message).toMatch(/credit_card/)
    expect(refusal(step(at("credit_card", "captured").snap, { type: "CAPTURE", opId: "c1" }).actions)?.code).toBe("INVALID_TRANSITION")
  })
})

describe("cancel", () => {
  test("from pending or authorized only", () => {
    expect(effects(step(at(null, "pending").snap, { type: "CANCEL", opId: "x" }).actions)[0]?.op).toBe("cancel")
    expect(effects(step(at("konbini", "authorized").snap, { type: "CANCEL", opId: "x" }).actions)[0]?.op).toBe("cancel")
    const captured = step(at("credit_card", "captured").snap, { type: "CANCEL", opId: "x" })
    expect(refusal(captured.actions)?.code).toBe("INVALID_TRANSITION")
  })
})

describe("refunds", () => {
  test("no amount refunds everything left, tax included (seed bit_cash: 110 of 110)", () => {
    const { snap } = at("bit_cash", "captured", 110)
    const r = step(snap, { type: "REFUND", refundId: "r1", kind: "refund", options: {} })
    expect(effects(r.actions)).toEqual([{ opId: "r1", op: "refund", payload: { amount: 110 } }])
    const done = step(r.snap, { type: "OP.SUCCEEDED", opId: "r1", refunds: [{ refundId: "r1", providerRef: "kr1", amount: 110, status: "succeeded" }] })
    expect(done.snap.value).toBe("refunded")
  })

  test("a partial refund keeps captured, the last one makes refunded; more than is left is refused", () => {
    let { snap } = at("credit_card", "captured")
    snap = step(snap, { type: "REFUND", refundId: "r1", kind: "refund", amount: 500, options: { email: "a@b.c" } }).snap
    snap = step(snap, { type: "OP.SUCCEEDED", opId: "r1", refunds: [{ refundId: "r1", providerRef: "kr1", amount: 500, status: "succeeded" }] }).snap
    expect(snap.value).toEqual({ captured: "partiallyRefunded" })
    expect(refusal(step(snap, { type: "REFUND", refundId: "r2", kind: "refund", amount: 601, options: {} }).actions)?.code).toBe("REFUND_EXCEEDS_REFUNDABLE")
    const last = step(snap, { type: "REFUND", refundId: "r2", kind: "refund", options: {} })
    expect(effects(last.actions)[0]?.payload).toEqual({ amount: 600 })
    snap = step(last.snap, { type: "OP.SUCCEEDED", opId: "r2", refunds: [{ refundId: "r2", providerRef: "kr2", amount: 600, status: "succeeded" }] }).snap
    expect(snap.value).toBe("refunded")
  })

  test("a cash refund stays pending, holds its amount and asks for polls", () => {
    let { snap } = at("konbini", "captured")
    snap = step(snap, { type: "REFUND", refundId: "r1", kind: "refund", amount: 1100, options: {} }).snap
    const answered = step(snap, { type: "OP.SUCCEEDED", opId: "r1", refunds: [{ refundId: "r1", providerRef: "kr1", amount: 1100, status: "pending", providerStatus: "pending" }] })
    expect(answered.snap.value).toEqual({ captured: "unrefunded" })
    expect(totals(answered.snap.context)).toMatchObject({ reserved: 1100, refundable: 0 })
    const timer = answered.actions.find((a) => a.type === "timer")?.params as { name: string; at: string }
    expect(timer.name).toBe("poll")
    expect(Date.parse(timer.at) - Date.parse(AT)).toBe(KOMOJU_REFUND_POLL_DELAYS_MS[0])
    expect(refusal(step(answered.snap, { type: "REFUND", refundId: "r2", kind: "refund", amount: 1, options: {} }).actions)?.code).toBe("REFUND_EXCEEDS_REFUNDABLE")
  })
})

describe("refund requests", () => {
  const bank = { customer_name: "John Doe", bank_code: "1234", bank_name: "B", branch_number: "123", branch_name: "BR", account_type: "normal", account_number: "1234567" }

  test("are refused for methods that can refund (a card)", () => {
    const r = step(at("credit_card", "captured").snap, { type: "REFUND", refundId: "q1", kind: "refund_request", amount: 100, options: { ...bank, include_payment_method_fee: false } })
    expect(refusal(r.actions)?.code).toBe("INVALID_TRANSITION")
    expect(r.snap.context.refunds).toHaveLength(0)
  })

  test("pay back the amount plus the fee when asked, the fee once; a rejection releases the amount", () => {
    let { snap } = at("konbini", "captured", 1290, 190)
    const first = step(snap, { type: "REFUND", refundId: "q1", kind: "refund_request", amount: 1000, options: { ...bank, include_payment_method_fee: true } })
    expect(effects(first.actions)).toEqual([{ opId: "q1", op: "refund_request", payload: { amount: 1000, ...bank, include_payment_method_fee: true } }])
    expect(first.snap.context.refunds[0]).toMatchObject({ kind: "refund_request", amount: 1190 })
    snap = first.snap
    expect(refusal(step(snap, { type: "REFUND", refundId: "q2", kind: "refund_request", amount: 10, options: { ...bank, include_payment_method_fee: true } }).actions)?.code).toBe("INVALID_INPUT")
    snap = step(snap, { type: "OP.SUCCEEDED", opId: "q1", refunds: [{ refundId: "q1", providerRef: "kq1", kind: "refund_request", status: "pending", providerStatus: "pending" }] }).snap
    expect(totals(snap.context).refundable).toBe(100)
    snap = step(snap, { type: "PROVIDER.SYNC", refunds: [{ providerRef: "kq1", kind: "refund_request", status: "failed", providerStatus: "rejected" }] }).snap
    expect(totals(snap.context).refundable).toBe(1290)
    const all = step(snap, { type: "REFUND", refundId: "q3", kind: "refund_request", options: { ...bank, include_payment_method_fee: true } })
    expect(effects(all.actions)[0]?.payload.amount).toBe(1100)
    expect(all.snap.context.refunds.at(-1)?.amount).toBe(1290)
  })
})

describe("deadline", () => {
  test("at its deadline an authorized payment asks KOMOJU, and expires only on KOMOJU's word", () => {
    const a = at("konbini", "authorized", 1100, 0, "2020-06-12T14:59:59Z")
    expect(a.actions.find((x) => x.type === "timer")?.params).toMatchObject({ name: "deadline", at: "2020-06-12T14:59:59Z" })
    const fired = step(a.snap, { type: "TIMER", timerId: "deadline", name: "deadline" })
    expect(fired.snap.value).toBe("authorized")
    const ask = effects(fired.actions)[0]!
    expect(ask.op).toBe("payment.status")
    expect(step(fired.snap, { type: "OP.SUCCEEDED", opId: ask.opId, payment: { status: "expired" } }).snap.value).toBe("expired")
    const late = "2020-06-12T15:00:05.000Z"
    const [still, again] = transition(komojuMachine, fired.snap, { type: "OP.SUCCEEDED", opId: ask.opId, payment: { status: "authorized" }, at: late } as PaymentEvent)
    expect(still.value).toBe("authorized")
    expect((again as unknown as MachineAction[]).find((x) => x.type === "timer")?.params).toMatchObject({ name: "deadline", at: "2020-06-12T15:15:05.000Z" })
    // Paid in the last second, webhook delayed: KOMOJU says captured, so it is captured, not expired.
    expect(step(fired.snap, { type: "OP.SUCCEEDED", opId: ask.opId, payment: { status: "captured", capturedAmount: 1100 } }).snap.value).toEqual({ captured: "unrefunded" })
    const paid = step(a.snap, { type: "PROVIDER.SYNC", payment: { status: "captured", capturedAmount: 1100 } })
    expect(paid.actions.some((x) => x.type === "cancelTimer")).toBe(true)
    expect(step(paid.snap, { type: "TIMER", timerId: "deadline", name: "deadline" }).snap.value).toEqual({ captured: "unrefunded" })
  })
})
