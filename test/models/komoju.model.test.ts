/**
 * Model-based tests of KOMOJU's refund machines (`komojuRefund` for a card and for a cash payment,
 * `komojuRefundRequest`): every simple path `xstate/graph` finds is driven through a real engine
 * against KOMOJU's sandbox over HTTP — the sandbox producing what each event stands for (an answer,
 * a lost answer then a lookup, a customer collecting a cash refund, KOMOJU paying or rejecting a
 * refund request, a poll timer, a person's resolution) — and must end in the state the path
 * predicts, having gone through its states, with paystate's ledger equal to KOMOJU's.
 */
import { afterAll, describe, expect, test } from "vitest"
import { refundIdOf } from "../../adapters/providers/komoju/mapping.js"
import { renderPayment } from "../../adapters/providers/komoju/sandbox-model.js"
import { komojuRefundMachine, komojuRefundRequestMachine } from "../../machines/komoju/refund.js"
import type { RefundInput } from "../../machines/lifecycle/refund.js"
import { isPaystateError } from "../../src/errors.js"
import type { PaymentView } from "../../src/types.js"
import { BANK, startWorld, type KomojuWorld } from "../komoju/helpers.js"
import { DETAILS } from "../komoju/seeds.js"
import { eventsOf, expectOnPath, MODEL_AT, ourRefund, report, simplePaths, type ModelPath, type ModelStep } from "./paths.js"

const POLL_MS = 3_600_000
const input = (kind: string, cash: boolean): RefundInput => ({
  refundId: "rf_model",
  paymentId: "pay_model",
  kind,
  amount: 500,
  at: MODEL_AT,
  effect: { op: kind, payload: {} },
  pollDelaysMs: [POLL_MS],
  facts: { cash },
})

// The reports KOMOJU's answers, lookups and webhooks carry (mapping.ts): a refund is completed or
// pending; a refund request pending, completed or rejected. "failed" is the adapter's word for any
// other status KOMOJU might send: the machine takes it, so the model offers it.
const refundEvents = eventsOf(() => [report("succeeded", "completed"), report("pending", "pending"), report("failed", "failed")])
const requestEvents = eventsOf(() => [report("succeeded", "completed"), report("pending", "pending"), report("failed", "rejected")])

type Variant = { readonly name: string; readonly machine: string; readonly kind: "refund" | "refund_request"; readonly method: "credit_card" | "konbini"; readonly paths: ModelPath[] }
const variants: Variant[] = [
  { name: "komojuRefund, card", machine: "komojuRefund", kind: "refund", method: "credit_card", paths: simplePaths(komojuRefundMachine, input("refund", false), refundEvents) },
  { name: "komojuRefund, cash (konbini)", machine: "komojuRefund", kind: "refund", method: "konbini", paths: simplePaths(komojuRefundMachine, input("refund", true), refundEvents) },
  { name: "komojuRefundRequest (konbini)", machine: "komojuRefundRequest", kind: "refund_request", method: "konbini", paths: simplePaths(komojuRefundRequestMachine, input("refund_request", true), requestEvents) },
]

/**
 * Why the sandbox cannot produce a path, or undefined when it can. Each reason is KOMOJU's own
 * behaviour as the sandbox models it (docs/providers/komoju.md): a refund is `completed` or, for a
 * cash method, `pending` until collected; nothing fails a refund once KOMOJU took it.
 */
const unproducible = (v: Variant, path: ModelPath): string | undefined => {
  for (const s of path.steps) {
    if (v.kind === "refund" && s.event.type === "REPORT" && s.event.status === "failed")
      return "KOMOJU never reports a refund failed: its refunds are pending or completed (seed 001), and a lookup that cannot find one re-sends it rather than failing it"
    if (v.method === "credit_card" && s.to === "pending")
      return "KOMOJU completes a card refund at once (seed 001): the sandbox never answers a card refund pending"
  }
  return undefined
}

/**
 * Paths the sandbox can drive but whose end KOMOJU's ledger cannot share: a person resolving a cash
 * refund KOMOJU holds as pending "not paid". KOMOJU has no way to fail or withdraw a refund (no
 * sandbox action either), so its ledger keeps the pending refund; state and path are still checked.
 */
const ledgerCannotAgree = (v: Variant, path: ModelPath): string | undefined =>
  v.kind === "refund" && path.steps.some((s) => s.from !== "requested" && s.event.type === "REVIEW.RESOLVE" && s.event.outcome === "failed")
    ? "KOMOJU cannot fail a cash refund it accepted: a person's 'not paid' disagrees with KOMOJU's pending refund by design"
    : undefined

const thrown = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

/** Drives one path through a fresh engine and sandbox; answers the payment's view at the end. */
const drive = async (w: KomojuWorld, v: Variant, path: ModelPath): Promise<PaymentView> => {
  const hooks = w.sandbox.kernel.webhookUrl
  const webhooks = async (on: boolean) => {
    await w.settle()
    w.sandbox.kernel.webhookUrl = on ? hooks : undefined
  }
  const fault = (mode: "timeout" | "drop_response") =>
    w.sandbox.kernel.faults.push({ path: `/api/v1/payments/:id/${v.kind === "refund" ? "refund" : "refund_request"}`, method: "POST", mode, count: 3 })
  let p = await w.engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: DETAILS[v.method] })
  if (p.status === "authorized") {
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    await w.settle()
    p = await w.engine.payments.get(p.id)
  }
  expect(p.status).toBe("captured")
  const ask = () => (v.kind === "refund" ? w.engine.payments.refund({ paymentId: p.id, amount: 500 }) : w.engine.payments.refundRequest({ paymentId: p.id, amount: 500, ...BANK, include_payment_method_fee: false } as never))
  const komojuId = async () => {
    const r = ourRefund(await w.engine.payments.get(p.id))
    if (r.providerRef) return r.providerRef
    // Not known to paystate yet (its answer was lost): KOMOJU's own record carries paystate's id.
    const k = renderPayment(w.sandbox.book.get(p.providerRef!)) as any
    return ((v.kind === "refund" ? k.refunds : k.refund_requests) as any[]).find((x) => refundIdOf(x) === r.id)!.id as string
  }
  /** What KOMOJU does to the refund for a report of `status` (a customer, KOMOJU's bank transfer). */
  const settleAt = async (status: string) => {
    if (status === "pending") return
    const id = await komojuId()
    // A card refund KOMOJU completed at once has nothing left to settle.
    if (v.kind === "refund" && v.method === "credit_card") return
    if (v.kind === "refund") await w.control(`/_sandbox/refunds/${id}/complete`)
    else await w.control(`/_sandbox/refund_requests/${id}/${status === "succeeded" ? "complete" : "reject"}`)
  }
  const resolve = async (outcome: "succeeded" | "failed") => {
    await w.engine.review.resolve(`${p.id}/${ourRefund(await w.engine.payments.get(p.id)).id}`, { outcome, note: "checked in KOMOJU's dashboard", by: "model" })
  }

  // The first step decides how the refund is sent: answered, lost, hung or refused.
  const first: ModelStep | undefined = path.steps[0]
  if (!first) {
    // Stays requested: every attempt hangs and KOMOJU performs nothing.
    fault("timeout")
    expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
  } else if (first.event.type === "REFUSED") {
    // KOMOJU refuses with 422: everything was refunded outside paystate first (its webhook not delivered).
    await webhooks(false)
    const r = await w.api("POST", `/payments/${p.providerRef}/refund`, { amount: 1100 })
    expect(r.status).toBe(200)
    expect(isPaystateError(await thrown(ask()), "PROVIDER_REJECTED")).toBe(true)
  } else if (first.event.type === "REPORT" && (first.event.status === "pending" || (v.method === "credit_card" && first.event.status === "succeeded"))) {
    // KOMOJU's own answer: pending for cash, completed for a card.
    await ask()
    await w.settle()
  } else if (first.event.type === "REPORT") {
    // The answer is lost (KOMOJU performed it), KOMOJU then settles it, and recovery's lookup reports it.
    await webhooks(false)
    fault("drop_response")
    expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
    await settleAt(first.event.status)
    w.sandbox.kernel.faults.length = 0
    w.clock.advance(60_000)
    await w.engine.recover()
    await webhooks(true)
  } else if (first.event.type === "REVIEW.RESOLVE") {
    if (first.event.outcome === "succeeded") {
      // Performed, answer lost, settled at KOMOJU; a person who checked resolves it paid.
      await webhooks(false)
      fault("drop_response")
      expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
      await settleAt("succeeded")
    } else {
      // Never performed (every attempt hung); a person who checked resolves it not paid.
      fault("timeout")
      expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
    }
    w.sandbox.kernel.faults.length = 0
    await resolve(first.event.outcome)
    await webhooks(true)
  } else throw new Error(`no way to start a refund with ${first.event.type}`)

  for (const s of path.steps.slice(1)) {
    const e = s.event
    if (e.type === "POLL") {
      // The poll timer falls due; KOMOJU still holds the refund as pending.
      w.clock.advance(POLL_MS + 1000)
      expect(await w.engine.runDueTimers()).toBeGreaterThan(0)
    } else if (e.type === "REPORT") {
      // KOMOJU settles it; its webhook brings the news.
      await settleAt(e.status)
      await w.settle()
    } else if (e.type === "REVIEW.RESOLVE") {
      // What the person saw at KOMOJU is what KOMOJU did (its webhook not delivered).
      await webhooks(false)
      if (!ledgerCannotAgree(v, path)) await settleAt(e.outcome)
      await resolve(e.outcome)
      await webhooks(true)
    } else throw new Error(`no way to produce ${e.type} in ${s.from}`)
  }
  await w.settle()
  // A person's resolution carries no KOMOJU id: the host's next sync fills it in from KOMOJU's records
  // (the refund's state does not move), so the ledgers can be compared refund by refund.
  if (first?.event.type === "REVIEW.RESOLVE") await w.engine.payments.sync(p.id)
  return w.engine.payments.get(p.id)
}

/**
 * paystate's ledger equals KOMOJU's for the path's refund: a refund KOMOJU holds is on the entry with
 * its amount (completed = succeeded, pending = pending), a refund KOMOJU never made is failed or
 * still of unknown outcome, its money moved once by paystate's key, and the totals agree.
 */
const expectLedgersAgree = (w: KomojuWorld, v: Variant, view: PaymentView) => {
  const r = ourRefund(view)
  const k = renderPayment(w.sandbox.book.get(view.providerRef!)) as any
  const atKomoju = ((v.kind === "refund" ? k.refunds : k.refund_requests) as any[]).filter((x) => refundIdOf(x) === r.id)
  const moves = w.sandbox.kernel.ledger.filter((m) => m.paymentId === view.providerRef && m.cause.startsWith(`ps-${view.id}-${r.id}`))
  const held = atKomoju[0]?.status as string | undefined
  const expected = held === "completed" ? "succeeded" : held === "pending" ? "pending" : undefined
  if (expected) expect({ status: r.status, providerRef: r.providerRef }).toEqual({ status: expected, providerRef: atKomoju[0].id })
  else expect(["failed", "requested"], `refund ${r.id} is ${r.status} but KOMOJU ${held ?? "has none"}`).toContain(r.status)
  expect(atKomoju.length).toBeLessThanOrEqual(1)
  if (v.kind === "refund") {
    expect(moves.map((m) => [m.type, m.amount])).toEqual(atKomoju.map(() => ["refund", r.amount]))
  } else {
    expect(moves.map((m) => [m.type, m.amount])).toEqual(held === "completed" ? [["refund_request_payout", r.amount]] : [])
  }
  expect(view.refundedAmount).toBe(r.status === "succeeded" ? r.amount : 0)
  expect(view.reservedAmount).toBe(r.status === "pending" || r.status === "requested" ? r.amount : 0)
}

const worlds: KomojuWorld[] = []
afterAll(async () => {
  for (const w of worlds) await w.close()
})

describe.each(variants)("$name: every simple path through the engine and KOMOJU's sandbox", (v) => {
  test("the model has the paths the machine's diagram shows", () => {
    expect(v.paths.length).toBe(16)
    const ends = new Set(v.paths.map((p) => p.final))
    for (const s of v.kind === "refund" ? ["requested", v.method === "konbini" ? "awaitingCustomer" : "pending", "succeeded", "failed"] : ["requested", "pending", "completed", "rejected"]) expect(ends).toContain(s)
  })

  for (const path of v.paths) {
    const why = unproducible(v, path)
    // A skipped path names the reason: KOMOJU (and so its sandbox) cannot produce one of its events.
    test.skipIf(why !== undefined)(`${path.name}${why ? ` — not producible: ${why}` : ""}`, async () => {
      const w = await startWorld({ adapter: { refundPollDelaysMs: [POLL_MS], timeoutMs: 150 } })
      worlds.push(w)
      const view = await drive(w, v, path)
      expectOnPath(view, path, v.machine)
      if (!ledgerCannotAgree(v, path)) expectLedgersAgree(w, v, view)
    })
  }
})
