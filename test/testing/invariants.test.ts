/**
 * The kit's checkers find what they promise to find: each invariant broken on purpose, on views and
 * ledgers written by hand, and through the engine with an adapter that has a money bug (it refunds
 * twice, the second time with a key of its own), against KOMOJU's sandbox over HTTP. The same
 * schedule with the real adapter finds nothing: the property test in kit.property.test.ts can fail.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { komoju } from "../../adapters/providers/komoju/index.js"
import { startSandbox, type RunningSandbox } from "../../adapters/sandbox/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock } from "../../src/clock.js"
import { createEngine } from "../../src/engine.js"
import type { ProviderAdapter } from "../../src/provider.js"
import {
  assertNoViolations,
  checkCeiling,
  checkCraftgateCancelRule,
  checkLedgerAgrees,
  checkNoDoubleEffect,
  InvariantViolation,
  runSchedule,
  startWebhookReceiver,
  type Movement,
  type Step,
  type WebhookReceiver,
} from "../../src/testing/index.js"
import type { PaymentView, RefundView } from "../../src/types.js"

const at = "2026-11-23T09:00:00.000Z"

const refund = (over: Partial<RefundView> & Pick<RefundView, "id" | "amount" | "status">): RefundView => ({
  kind: "refund",
  machine: null,
  state: null,
  path: [],
  providerStatus: null,
  providerRef: null,
  reason: null,
  external: false,
  unattributed: false,
  needsReview: false,
  reviewReason: null,
  createdAt: at,
  updatedAt: at,
  details: {},
  ...over,
})

/** A captured payment of 1000 with the given refunds and totals computed the engine's way (unless overridden). */
const view = (refunds: RefundView[], over: Partial<PaymentView> = {}): PaymentView => {
  const settled = refunds.filter((r) => !r.unattributed && r.status === "succeeded").reduce((s, r) => s + r.amount, 0)
  const reserved = refunds.filter((r) => !r.unattributed && (r.status === "requested" || r.status === "pending")).reduce((s, r) => s + r.amount, 0)
  const ua = refunds.filter((r) => r.unattributed && ["succeeded", "requested", "pending"].includes(r.status)).reduce((s, r) => s + r.amount, 0)
  return {
    id: "pay_1",
    provider: "onekey",
    status: "captured",
    state: "captured",
    amount: 1000,
    currency: "MXN",
    capturedAmount: 1000,
    refundedAmount: settled,
    reservedAmount: reserved,
    unattributedAmount: ua,
    refundableAmount: Math.max(0, 1000 - settled - reserved - ua),
    method: "SE",
    providerRef: "77",
    description: null,
    metadata: {},
    externalOrderNum: null,
    deadline: null,
    createdAt: at,
    updatedAt: at,
    version: 3,
    refunds,
    details: {},
    ...over,
  }
}

const move = (refundId: string, amount: number, cause: string, over: Partial<Movement> = {}): Movement => ({ type: "refund", paymentId: "77", refundId, amount, cause, ...over })

describe("checkCeiling", () => {
  it("passes a ledger within what was captured, and flags one beyond it or totals that are not its refunds'", () => {
    expect(checkCeiling(view([refund({ id: "rf_a", amount: 600, status: "succeeded" }), refund({ id: "rf_b", amount: 400, status: "pending" })]))).toEqual([])
    const over = checkCeiling(view([refund({ id: "rf_a", amount: 600, status: "succeeded" }), refund({ id: "rf_b", amount: 500, status: "requested" })]))
    expect(over.map((v) => v.message)).toContainEqual(expect.stringMatching(/settled 600 \+ reserved 500 \+ unattributed 0 = 1100 exceeds captured 1000/))
    const held = checkCeiling(view([refund({ id: "rf_a", amount: 700, status: "succeeded" }), refund({ id: "ua:9", amount: 400, status: "succeeded", unattributed: true })]))
    expect(held.map((v) => v.invariant)).toContain("ceiling")
    const drift = checkCeiling(view([refund({ id: "rf_a", amount: 300, status: "succeeded" })], { refundedAmount: 200, refundableAmount: 800 }))
    expect(drift.map((v) => v.message)).toEqual([expect.stringMatching(/refundedAmount 200 is not the sum of succeeded refunds 300/), expect.stringMatching(/refundableAmount 800/)])
  })
})

describe("checkCeiling: money held twice while an answer is lost", () => {
  // A refund of ours in flight with no provider id, and a provider refund nobody has claimed yet:
  // they may be one refund (OneKey echoes nothing of ours), so the ledger holds both.
  const lost = refund({ id: "rf_lost", amount: 1000, status: "requested" })
  const claimed = refund({ id: "ua:77", amount: 1000, status: "pending", unattributed: true })
  it("allows it after a step that reserved nothing, by at most what refunds without a provider id reserve", () => {
    expect(checkCeiling(view([lost, claimed]), { before: view([lost]) })).toEqual([])
    expect(checkCeiling(view([lost, claimed]))).toEqual([])
    // An identified refund in flight cannot be the unattributed one: no allowance for it.
    const known = { ...lost, providerRef: "555" }
    expect(checkCeiling(view([known, claimed]), { before: view([known]) }).map((v) => v.message)).toEqual([expect.stringMatching(/exceeds captured 1000$/)])
    // More than the unidentified refunds could explain.
    const extra = refund({ id: "ua:78", amount: 300, status: "succeeded", unattributed: true })
    expect(checkCeiling(view([lost, claimed, extra]), { before: view([lost, claimed]) }).map((v) => v.invariant)).toContain("ceiling")
  })
  it("never in the step that reserves, and never for what the provider itself reported", () => {
    // The step reserved rf_lost while ua:77 already held the whole payment: the engine must have refused.
    expect(checkCeiling(view([lost, claimed]), { before: view([claimed]) }).map((v) => v.message)).toEqual([expect.stringMatching(/= 2000 exceeds captured 1000$/)])
    const settled = refund({ id: "rf_a", amount: 800, status: "succeeded" })
    const reported = refund({ id: "ua:9", amount: 300, status: "succeeded", unattributed: true })
    expect(checkCeiling(view([settled, reported, lost]), { before: view([settled, reported, lost]) }).map((v) => v.message)).toContainEqual(expect.stringMatching(/the provider's refunds \(settled 800 \+ unattributed 300\) exceed captured 1000/))
  })
})

describe("checkNoDoubleEffect", () => {
  it("flags a key that moved money twice, not one REFUND split over transactions or a refund and its reversal", () => {
    expect(checkNoDoubleEffect([move("1", 100, "ps-pay_1-rf_a"), move("2", 100, "ps-pay_1-rf_a")])).toHaveLength(1)
    expect(checkNoDoubleEffect([move("tx:1", 100, "x", { conversationId: "ps-pay_1-rf_a", paymentTransactionId: 1 }), move("tx:2", 50, "x", { conversationId: "ps-pay_1-rf_a", paymentTransactionId: 2 })])).toEqual([])
    expect(checkNoDoubleEffect([move("1", 100, "ps-pay_1-rf_a"), move("1", -100, "ps-pay_1-rf_a", { type: "refund_reversal" })])).toEqual([])
    // Causes that are no paystate key (a control call, an external refund) are no key of ours.
    expect(checkNoDoubleEffect([move("1", 100, "sandbox: external"), move("2", 100, "sandbox: external")])).toEqual([])
  })
})

describe("checkCraftgateCancelRule", () => {
  const cg = (refunds: RefundView[]) => view(refunds, { provider: "craftgate", currency: "TRY", details: { paidAt: "2026-11-23T07:00:00.000Z" } })
  it("flags a CANCEL on another Istanbul day or after a refund Craftgate did not refuse", () => {
    expect(checkCraftgateCancelRule(cg([refund({ id: "rf_c", kind: "cancel", amount: 1000, status: "succeeded", createdAt: "2026-11-23T20:00:00.000Z" })]))).toEqual([])
    // 21:30 UTC is 00:30 the next day in Istanbul.
    expect(checkCraftgateCancelRule(cg([refund({ id: "rf_c", kind: "cancel", amount: 1000, status: "succeeded", createdAt: "2026-11-23T21:30:00.000Z" })]))).toHaveLength(1)
    const after = cg([refund({ id: "rf_p", kind: "refund_tx", amount: 100, status: "pending" }), refund({ id: "rf_c", kind: "cancel", amount: 900, status: "succeeded", createdAt: "2026-11-23T10:00:00.000Z" })])
    expect(checkCraftgateCancelRule(after).map((v) => v.refundId)).toEqual(["rf_c"])
  })

  it("given the view before a command, flags a whole refund of the wrong kind; given the ledger, money moved beside a CANCEL", () => {
    const before = cg([])
    const asRefund = cg([refund({ id: "rf_w", kind: "refund", amount: 1000, status: "succeeded" })])
    expect(checkCraftgateCancelRule(asRefund, { before, at: "2026-11-23T10:00:00.000Z" })).toHaveLength(1)
    expect(checkCraftgateCancelRule(asRefund, { before, at: "2026-11-24T10:00:00.000Z" })).toEqual([])
    const cancelled = cg([refund({ id: "rf_c", kind: "cancel", amount: 1000, status: "succeeded", providerRef: "5" })])
    expect(checkCraftgateCancelRule(cancelled, { movements: [move("5", 1000, "x", { type: "cancel" })] })).toEqual([])
    expect(checkCraftgateCancelRule(cancelled, { movements: [move("5", 1000, "x", { type: "cancel" }), move("tx:9", 10, "y")] })).toHaveLength(1)
  })
})

describe("checkLedgerAgrees", () => {
  it("agrees with a ledger that is the provider's refund by refund", () => {
    const v = view([refund({ id: "rf_a", amount: 300, status: "succeeded", providerRef: "1" }), refund({ id: "rf_b", amount: 200, status: "failed", providerRef: "2" })])
    expect(checkLedgerAgrees(v, [move("1", 300, "ps-pay_1-rf_a"), move("2", 200, "ps-pay_1-rf_b"), move("2", -200, "ps-pay_1-rf_b", { type: "refund_release" })], { final: true })).toEqual([])
  })

  it("takes a refund split into parts as holding nothing: its parts hold what the provider moved", () => {
    const whole = refund({ id: "rf_w", amount: 205, status: "failed", providerStatus: "SPLIT", providerRef: "tx:7,8", details: { split: true } })
    const a = refund({ id: "rf_w~7", amount: 108, status: "succeeded", providerRef: "txr:7", details: { splitFrom: "rf_w" } })
    const b = refund({ id: "rf_w~8", amount: 98, status: "succeeded", providerRef: "txr:8", details: { splitFrom: "rf_w" } })
    const moved = [move("tx:7", 108, "ps-pay_1-rf_w"), move("tx:8", 98, "ps-pay_1-rf_w")]
    expect(checkLedgerAgrees(view([whole, a, b], { provider: "craftgate" }), moved, { final: true })).toEqual([])
    // Without its parts, the same whole refund is called failed while the provider holds its money.
    expect(checkLedgerAgrees(view([whole], { provider: "craftgate" }), moved, { final: true }).map((x) => x.message)).toContainEqual(expect.stringMatching(/failed, but the provider holds 206/))
  })

  it("flags two refunds of one amount held crosswise: identity, not amount", () => {
    const v = view([refund({ id: "rf_a", amount: 300, status: "succeeded", providerRef: "2" }), refund({ id: "rf_b", amount: 300, status: "succeeded", providerRef: "1" })])
    const found = checkLedgerAgrees(v, [move("1", 300, "ps-pay_1-rf_a"), move("2", 300, "ps-pay_1-rf_b")])
    expect(found.map((x) => x.refundId).sort()).toEqual(["rf_a", "rf_b"])
  })

  it("flags money the engine does not hold, holds twice, calls failed, or leaves unattributed or reserved at the end", () => {
    const succeededNoMoney = view([refund({ id: "rf_a", amount: 300, status: "succeeded", providerRef: "1" })])
    expect(checkLedgerAgrees(succeededNoMoney, [])).toHaveLength(1)
    const failedButMoved = view([refund({ id: "rf_a", amount: 300, status: "failed", providerRef: "1" })])
    expect(checkLedgerAgrees(failedButMoved, [move("1", 300, "ps-pay_1-rf_a")]).map((x) => x.message)).toContainEqual(expect.stringMatching(/failed, but the provider holds 300/))
    const twice = view([refund({ id: "rf_a", amount: 300, status: "succeeded", providerRef: "1" }), refund({ id: "ua:1", amount: 300, status: "succeeded", providerRef: "1", unattributed: true })])
    expect(checkLedgerAgrees(twice, [move("1", 300, "ps-pay_1-rf_a")]).map((x) => x.message)).toContainEqual(expect.stringMatching(/held by 2 entries/))
    const unheld = view([])
    expect(checkLedgerAgrees(unheld, [move("1", 300, "ps-pay_1-rf_a")])).toEqual([]) // not caught up yet: allowed
    expect(checkLedgerAgrees(unheld, [move("1", 300, "ps-pay_1-rf_a")], { final: true }).length).toBeGreaterThan(0)
    const ua = view([refund({ id: "ua:1", amount: 300, status: "succeeded", providerRef: "1", unattributed: true })])
    expect(checkLedgerAgrees(ua, [move("1", 300, "ps-pay_1-rf_a")])).toEqual([])
    expect(checkLedgerAgrees(ua, [move("1", 300, "ps-pay_1-rf_a")], { final: true }).map((x) => x.message)).toContainEqual(expect.stringMatching(/held as unattributed/))
    const open = view([refund({ id: "rf_a", amount: 300, status: "requested" })])
    expect(checkLedgerAgrees(open, [], { final: true }).map((x) => x.message)).toContainEqual(expect.stringMatching(/300 still reserved/))
  })

  it("assertNoViolations throws one error naming them all", () => {
    const found = checkCeiling(view([refund({ id: "rf_a", amount: 2000, status: "succeeded" })]))
    expect(() => assertNoViolations(found)).toThrow(InvariantViolation)
    expect(() => assertNoViolations(found)).toThrow(/\[ceiling\] pay_1/)
    expect(() => assertNoViolations([])).not.toThrow()
  })
})

describe("through the engine: a money bug the kit must find", () => {
  const secrets = { secretKey: "sk_inv", webhookSecret: "whsec_inv" }
  let sandbox: RunningSandbox
  let receiver: WebhookReceiver
  let current: ReturnType<typeof createEngine> | undefined
  beforeAll(async () => {
    receiver = await startWebhookReceiver(() => current)
    sandbox = await startSandbox("komoju", { webhookUrl: `${receiver.url}/webhooks/komoju`, ...secrets })
  })
  afterAll(async () => {
    await sandbox.close()
    await receiver.close()
  })

  /** KOMOJU's adapter, or one that sends every refund a second time under a key of its own. */
  const adapter = (buggy: boolean): ProviderAdapter<any> => {
    const real = komoju({ baseUrl: `${sandbox.url}/api/v1`, ...secrets, timeoutMs: 1000, retries: 0 })
    if (!buggy) return real
    return {
      ...real,
      execute: (effect, ctx) =>
        effect.op === "refund" ? Effect.tap(real.execute(effect, ctx), () => Effect.ignore(real.execute({ ...effect, idempotencyKey: `${effect.idempotencyKey}-again` }, ctx))) : real.execute(effect, ctx),
    }
  }

  const scheduleOf: Step[] = [{ kind: "refund", share: 300, slot: 0 }, { kind: "refund", share: 200, slot: 1 }, { kind: "refund", share: 200, slot: 1 }]

  const runWith = async (buggy: boolean, n: number) => {
    const clock = manualClock("2026-11-23T09:00:00.000Z")
    const engine = createEngine({ store: memoryStore(), providers: { komoju: adapter(buggy) }, clock, backgroundIntervalMs: 0, onError: () => {} })
    current = engine
    try {
      const p = await engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "credit_card", number: "4111111111111111", month: "12", year: "2030" } })
      return await runSchedule({ engine, sandbox, kind: "komoju", clock }, p.id, scheduleOf, { keyPrefix: `inv-${process.pid}-${n}` })
    } finally {
      await sandbox.kernel.settled()
      await engine.close()
      current = undefined
    }
  }

  it("the real adapter: nothing found", async () => {
    const r = await runWith(false, 1)
    expect(r.view.refundedAmount).toBeGreaterThan(0)
    expect(r.violations).toEqual([])
  })

  it("an adapter that refunds twice: the ledger check names the refund paystate does not own", async () => {
    const r = await runWith(true, 2)
    expect(r.violations.map((v) => v.invariant)).toContain("ledger")
    expect(r.violations.map((v) => v.message).join("\n")).toMatch(/-again/)
  })
})
