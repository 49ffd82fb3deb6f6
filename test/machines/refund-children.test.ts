/**
 * A payment's snapshot carries only the refund machines in flight: settled and finished ones leave
 * it (their ledger entries keep state, path and version), and a settled one the bank reverses is
 * rebuilt from its entry and still moves.
 */
import { describe, expect, it } from "vitest"
import { onekeyMachine } from "../../machines/onekey/index.js"
import type { LedgerEntry, PaymentEvent } from "../../machines/lifecycle/index.js"
import { initialTransition, transition } from "../../src/testing/machines.js"

const at = "2026-11-23T09:00:00.000Z"

describe("refund machines in a payment snapshot", () => {
  it("keeps only refunds in flight; a reversal of a settled refund is still applied", () => {
    let [s] = initialTransition(onekeyMachine, { id: "pay_1", provider: "onekey", currency: "MXN", amount: 10_000, method: "SE", createdAt: at, request: {} })
    const step = (e: PaymentEvent) => ([s] = transition(onekeyMachine, s, e))
    step({ type: "OP.SUCCEEDED", at, opId: "create", payment: { status: "captured", providerRef: "d1" } })
    const refund = (i: number) => step({ type: "REFUND", at, refundId: `rf${i}`, kind: "refund", amount: 1000, options: { bank_account: { beneficiary: "x" } } } as never)
    for (let i = 0; i < 5; i++) {
      refund(i)
      step({ type: "OP.SUCCEEDED", at, opId: `rf${i}`, refunds: [{ refundId: `rf${i}`, providerRef: `ok${i}`, status: "succeeded", providerStatus: "COMPLETED" }] })
    }
    refund(5)
    step({ type: "OP.SUCCEEDED", at, opId: "rf5", refunds: [{ refundId: "rf5", providerRef: "ok5", status: "pending", providerStatus: "PENDING" }] })
    expect(Object.keys(s.children ?? {})).toEqual(["rf5"])
    const refunds = () => (s.context as unknown as { refunds: LedgerEntry[] }).refunds
    expect(refunds()[0]).toMatchObject({ state: "completed", machine: "onekeyRefund", machineVersion: "1", status: "succeeded" })
    // The bank rejects a COMPLETED refund: the machine is rebuilt from the entry and takes it.
    step({ type: "PROVIDER.SYNC", at, refunds: [{ providerRef: "ok2", status: "failed", providerStatus: "REJECTED" }] })
    expect(refunds()[2]).toMatchObject({ state: "reversed", status: "reversed", path: ["requesting", "completed", "reversed"] })
    expect(Object.keys(s.children ?? {})).toEqual(["rf5"])
    // A stale PENDING for a completed refund changes nothing.
    const before = JSON.stringify(s)
    step({ type: "PROVIDER.SYNC", at, refunds: [{ providerRef: "ok1", status: "pending", providerStatus: "PENDING" }] })
    expect(JSON.stringify(s)).toBe(before)
  })
})
