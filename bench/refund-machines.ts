/**
 * Issue 14's cost figures: one engine step with refund machines against the step the engine took
 * before them (the payment machine alone, the refund a row of its ledger), on the same payment, in the
 * same run, interleaved. A REFUND step now also starts the refund machine and takes its REFUND.CHANGED;
 * a settle routes the report to the refund machine and back.
 */
import { transition } from "xstate"
import { komojuMachine } from "../machines/komoju/index.js"
import type { LedgerEntry, PaymentEvent } from "../machines/lifecycle/index.js"
import { applyStep, startStep } from "../src/step.js"
import type { PersistedSnapshot } from "../src/store.js"

const AT = "2026-11-23T09:00:00.000Z"

/** A captured KOMOJU konbini payment with `n` settled refunds already on its ledger. */
export const capturedWith = (n: number): PersistedSnapshot => {
  let s = startStep(komojuMachine, { id: "pay_bench", provider: "komoju", currency: "JPY", amount: 1_000_000, method: "konbini", createdAt: AT, request: {} }).snapshot
  s = applyStep(komojuMachine, s, { type: "OP.SUCCEEDED", at: AT, opId: "create", payment: { status: "captured", providerRef: "kp_1", capturedAmount: 1_000_000 } }).snapshot
  for (let i = 0; i < n; i++) {
    s = applyStep(komojuMachine, s, { type: "REFUND", at: AT, refundId: `rf_old${i}`, kind: "refund", amount: 10, options: {} }).snapshot
    s = applyStep(komojuMachine, s, { type: "OP.SUCCEEDED", at: AT, opId: `rf_old${i}`, refunds: [{ refundId: `rf_old${i}`, providerRef: `kr_old${i}`, status: "succeeded", providerStatus: "completed" }] }).snapshot
  }
  return s
}

/** The step before refund machines, as src/step.ts took it: resolve, one transition, collect, persist, enabled, changed. */
export const legacyStep = (stored: PersistedSnapshot, event: PaymentEvent) => {
  const current = komojuMachine.resolveState(stored as never)
  const [next, actions] = transition(komojuMachine, current, event)
  const effects = actions.filter((a) => a.type === "effect")
  const snapshot = JSON.parse(JSON.stringify({ value: next.value, context: next.context })) as PersistedSnapshot
  const enabled = current.can(event)
  const changed = effects.length > 0 || JSON.stringify(snapshot) !== JSON.stringify(stored)
  return { snapshot, enabled, changed }
}

/** A refund held as before refund machines: a ledger row only (no `machine`), so the payment settles it itself. */
export const asLegacyRow = (s: PersistedSnapshot, refundId: string): PersistedSnapshot => {
  const ctx = s.context as unknown as { refunds: LedgerEntry[] }
  const { children: _c, ...rest } = s
  return { ...rest, context: { ...ctx, refunds: ctx.refunds.map((r) => (r.id === refundId ? { ...r, machine: undefined, state: undefined, path: undefined } : r)) } as never }
}

/** The two pairs of steps the figures time: [with refund machines, before them]. */
export const refundMachineCases = (settledBefore = 3) => {
  const base = capturedWith(settledBefore)
  const refund: PaymentEvent = { type: "REFUND", at: AT, refundId: "rf_new", kind: "refund", amount: 100, options: {} }
  const inFlight = applyStep(komojuMachine, base, refund).snapshot
  const settle: PaymentEvent = { type: "PROVIDER.SYNC", at: AT, refunds: [{ refundId: "rf_new", providerRef: "kr_new", status: "succeeded", providerStatus: "completed" }] }
  const legacyInFlight = asLegacyRow(inFlight, "rf_new")
  return {
    refund: { withMachines: () => applyStep(komojuMachine, base, refund), before: () => legacyStep(base, refund) },
    settle: { withMachines: () => applyStep(komojuMachine, inFlight, settle), before: () => legacyStep(legacyInFlight, settle) },
  }
}
