/**
 * Model-based tests of Craftgate's refund machine (`craftgateRefund`) for its three inputs — a whole
 * refund on the payment's day (CANCEL), a whole refund the next day (REFUND of every payment
 * transaction) and a refund of one payment transaction: every simple path `xstate/graph` finds is
 * driven through a real engine against Craftgate's sandbox over HTTP (queued SUCCESS / WAITING /
 * FAILURE answers, lost answers then recovery's lookup, WAITING refunds settled by control calls and
 * reported by signed webhook or `payments.sync`, poll timers, a person's resolution) and must end in
 * the state the path predicts, having gone through its states, with paystate's ledger equal to
 * Craftgate's.
 */
import { afterAll, describe, expect, test } from "vitest"
import { craftgateRefundMachine } from "../../machines/craftgate/refund.js"
import type { RefundInput } from "../../machines/lifecycle/refund.js"
import { isPaystateError } from "../../src/errors.js"
import type { PaymentView } from "../../src/types.js"
import { expectLedgersAgree, istanbul, pay, refundsAt, txIds, startWorld, type World } from "../craftgate/helpers.js"
import { eventsOf, expectOnPath, MODEL_AT, ourRefund, report, simplePaths, type ModelPath, type ModelStep } from "./paths.js"

const POLL_MS = 3_600_000
const PAID = istanbul("2026-11-23T08:00")
const NEXT_DAY = istanbul("2026-11-24T08:00")
const dayRule = { timeZone: "Europe/Istanbul", cutoff: "00:00" }
const input = (facts: Record<string, unknown>, at: string): RefundInput => ({
  refundId: "rf_model",
  paymentId: "pay_model",
  kind: "refund",
  amount: 5000,
  at,
  effect: { op: "refund", payload: {} },
  pollDelaysMs: [POLL_MS],
  facts: { paidAt: PAID, earlierRefund: false, dayRule, passthrough: {}, ...facts },
})

// The reports Craftgate's answers, lookups and webhooks carry (reports.ts): SUCCESS, WAITING,
// FAILURE, and SPLIT when a REFUND's parts settle differently or another amount than planned.
const events = eventsOf(() => [report("succeeded", "SUCCESS"), report("pending", "WAITING"), report("failed", "FAILURE"), report("failed", "SPLIT")])

type Variant = { readonly name: string; readonly shape: "cancel" | "refund" | "transaction"; readonly paths: ModelPath[] }
const variants: Variant[] = [
  { name: "whole refund on the payment's day (CANCEL)", shape: "cancel", paths: simplePaths(craftgateRefundMachine, input({}, PAID), events) },
  { name: "whole refund the next day (REFUND)", shape: "refund", paths: simplePaths(craftgateRefundMachine, input({}, NEXT_DAY), events) },
  { name: "refund of one payment transaction", shape: "transaction", paths: simplePaths(craftgateRefundMachine, input({ paymentTransactionId: "1" }, PAID), events) },
]

/** Why Craftgate (and so its sandbox) cannot produce a path, or undefined when it can. */
const unproducible = (v: Variant, path: ModelPath): string | undefined => {
  for (const s of path.steps) {
    if (s.event.type !== "REPORT" || s.event.providerStatus !== "SPLIT") continue
    if (v.shape === "cancel")
      return "a CANCEL is of the whole payment and planned only when nothing was refunded before (seed 003); Craftgate cancels exactly that amount, so its answer is never split"
    if (v.shape === "transaction") return "a refund of one payment transaction is one transaction refund of the planned amount: there are no parts to settle differently"
  }
  return undefined
}

const thrown = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

/** Drives one path through a fresh engine and sandbox; answers the payment's view at the end. */
const drive = async (w: World, v: Variant, path: ModelPath): Promise<PaymentView> => {
  const engine = w.engine!
  const hooks = w.sandbox.kernel.webhookUrl
  const webhooks = async (on: boolean) => {
    await w.settle()
    w.sandbox.kernel.webhookUrl = on ? hooks : undefined
  }
  const p = await pay(w, PAID)
  const [book] = txIds(p)
  if (v.shape === "refund") await w.setTime(NEXT_DAY)
  const endpoint = v.shape === "transaction" ? "/payment/v1/refund-transactions" : "/payment/v1/refunds"
  const fault = (mode: "timeout" | "drop_response") => w.sandbox.kernel.faults.push({ path: endpoint, method: "POST", mode, count: 1 })
  const ask = () => engine.payments.refund(v.shape === "transaction" ? { paymentId: p.id, amount: 1000, paymentTransactionId: book } : { paymentId: p.id })
  const nextStatus = (status: "SUCCESS" | "WAITING" | "FAILURE") => w.control("/_sandbox/refunds/next-status", { status })
  const conversationId = async () => `ps-${p.id}-${ourRefund(await engine.payments.get(p.id)).id}`
  /** Craftgate's records of the refund, found by paystate's conversationId (as a person would). */
  const records = async () => {
    const c = encodeURIComponent(await conversationId())
    if (v.shape === "cancel") return ((await w.api("GET", `/payment-reporting/v1/refunds?conversationId=${c}`)).body.data.items as { id: number }[]).map((r) => `/_sandbox/refunds/${r.id}`)
    return ((await w.api("GET", `/payment-reporting/v1/refund-transactions?conversationId=${c}`)).body.data.items as { id: number }[])
      .sort((a, b) => a.id - b.id)
      .map((t) => `/_sandbox/refund-transactions/${t.id}`)
  }
  /** Settles a WAITING refund at Craftgate: every part succeeds or fails, or (SPLIT) the first fails and the rest succeed. */
  const settleAt = async (word: string) => {
    const parts = await records()
    expect(parts.length, "Craftgate has the refund's records").toBeGreaterThan(word === "SPLIT" ? 1 : 0)
    for (const [i, part] of parts.entries()) {
      const ok = word === "SUCCESS" || (word === "SPLIT" && i > 0)
      expect((await w.control(`${part}/${ok ? "succeed" : "fail"}`)).status).toBe(200)
    }
  }
  const resolve = async (outcome: "succeeded" | "failed") => {
    await engine.review.resolve(`${p.id}/${ourRefund(await engine.payments.get(p.id)).id}`, { outcome, note: "checked in Craftgate's panel", by: "model" })
  }

  const first: ModelStep | undefined = path.steps[0]
  if (!first) {
    // Stays unconfirmed: the request hangs and Craftgate performs nothing.
    fault("timeout")
    expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
  } else if (first.event.type === "REFUSED") {
    // Craftgate refuses (9002 cancelled / 9003 nothing left / 9005 above what the transaction has left):
    // the same refund was made in Craftgate's panel first, its webhook not delivered.
    await webhooks(false)
    const direct =
      v.shape === "transaction"
        ? await w.api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: Number(book), refundPrice: 30, conversationId: "merchant-panel" })
        : await w.api("POST", "/payment/v1/refunds", { paymentId: Number(p.providerRef), conversationId: "merchant-panel" })
    expect(direct.status).toBe(200)
    expect(isPaystateError(await thrown(ask()), "PROVIDER_REJECTED")).toBe(true)
    await webhooks(true)
    // The panel's refund is counted as external, so the ledgers can be compared.
    await engine.payments.sync(p.id)
  } else if (first.event.type === "REPORT" && (first.event.providerStatus !== "SPLIT")) {
    // Craftgate's own answer, as queued.
    await nextStatus(first.event.providerStatus as "SUCCESS" | "WAITING" | "FAILURE")
    await ask()
  } else if (first.event.type === "REPORT") {
    // SPLIT: the answer is lost while the REFUND waits; its parts then settle differently, and
    // recovery's lookup finds them.
    await webhooks(false)
    await nextStatus("WAITING")
    fault("drop_response")
    expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
    await settleAt("SPLIT")
    w.clock.advance(60_000)
    await engine.recover()
    await webhooks(true)
  } else if (first.event.type === "REVIEW.RESOLVE") {
    if (first.event.outcome === "succeeded") {
      // Performed (SUCCESS), the answer lost; a person who checked resolves it paid.
      await webhooks(false)
      fault("drop_response")
      expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
    } else {
      // Never performed (the request hung); a person who checked resolves it not paid.
      fault("timeout")
      expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
    }
    await resolve(first.event.outcome)
    await webhooks(true)
  } else throw new Error(`no way to start a refund with ${first.event.type}`)

  for (const s of path.steps.slice(1)) {
    const e = s.event
    if (e.type === "POLL") {
      // The poll timer falls due (both clocks move); Craftgate still has the refund WAITING.
      await w.setTime(new Date(w.clock.now().getTime() + POLL_MS + 1000).toISOString())
      expect(await engine.runDueTimers()).toBeGreaterThan(0)
    } else if (e.type === "REPORT") {
      // Craftgate settles it: a success comes by signed webhook; a failure sends none (seed 003),
      // so the host's sync brings it.
      await settleAt(e.providerStatus!)
      await w.settle()
      if (e.providerStatus !== "SUCCESS") await engine.payments.sync(p.id)
    } else if (e.type === "REVIEW.RESOLVE") {
      // What the person saw at Craftgate is what Craftgate did (its webhook not delivered).
      await webhooks(false)
      await settleAt(e.outcome === "succeeded" ? "SUCCESS" : "FAILURE")
      await resolve(e.outcome)
      await webhooks(true)
    } else throw new Error(`no way to produce ${e.type} in ${s.from}`)
  }
  await w.settle()
  // A person's resolution carries no Craftgate id: the host's next sync fills it in from Craftgate's records
  // (the refund's state does not move), so the ledgers can be compared refund by refund.
  if (first?.event.type === "REVIEW.RESOLVE") await engine.payments.sync(p.id)
  return engine.payments.get(p.id)
}

/** paystate's ledger equals Craftgate's: the shared helper, plus nothing moved for a refund still held or released. */
const expectAgree = async (w: World, view: PaymentView) => {
  const movements = await w.ledger()
  expectLedgersAgree(view, movements, "model")
  const r = ourRefund(view)
  const c = `ps-${view.id}-${r.id}`
  const mine = refundsAt(movements, view.providerRef).filter((m) => (m.conversationId ?? m.cause) === c)
  if (r.status === "succeeded") expect(mine.reduce((s, m) => s + m.amount, 0)).toBe(r.amount)
  // A split refund's money is on its parts (entries of their own); anything else not settled moved nothing.
  else if (r.state !== "split") expect(mine).toEqual([])
  expect(view.reservedAmount).toBe(view.refunds.filter((x) => x.status === "pending" || x.status === "requested").reduce((s, x) => s + x.amount, 0))
}

const worlds: World[] = []
afterAll(async () => {
  for (const w of worlds) await w.close()
})

describe.each(variants)("craftgateRefund, $name: every simple path through the engine and Craftgate's sandbox", (v) => {
  test("the model has the paths the machine's diagram shows", () => {
    expect(v.paths.length).toBe(19)
    const ends = new Set(v.paths.map((p) => p.final))
    for (const s of [v.shape === "cancel" ? "cancelling" : "refunding", "waiting", "succeeded", "failed", "split"]) expect(ends).toContain(s)
    for (const p of v.paths) expect(p.visited.slice(0, 2)).toEqual(["deciding", v.shape === "cancel" ? "cancelling" : "refunding"])
  })

  for (const path of v.paths) {
    const why = unproducible(v, path)
    // A skipped path names the reason: Craftgate (and so its sandbox) cannot produce one of its events.
    test.skipIf(why !== undefined)(`${path.name}${why ? ` — not producible: ${why}` : ""}`, async () => {
      const w = await startWorld(PAID)
      worlds.push(w)
      w.engine = w.newEngine({ adapter: { refundPollDelaysMs: [POLL_MS], timeoutMs: 300 }, engine: { retryBackoffMs: 10 } })
      await w.engine.ready
      const view = await drive(w, v, path)
      expectOnPath(view, path, "craftgateRefund")
      await expectAgree(w, view)
    })
  }
})
