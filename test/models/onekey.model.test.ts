/**
 * Model-based tests of OneKey's refund machine (`onekeyRefund`) for a bank refund (a cash deposit
 * paid back to a bank account) and a card refund: every simple path `xstate/graph` finds is driven
 * through a real engine against OneKey's sandbox over HTTP (the create answer, card results queued,
 * bank actions along OneKey's status graph each reported by notification, poll timers, a definite
 * OneKey error, a person's resolution) and must end in the state the path predicts, having gone
 * through its states, with paystate's ledger equal to OneKey's.
 *
 * The events are bounded by what OneKey can report (the machine takes any word anywhere; over every
 * word in every state it has 2 500-odd simple paths, nearly all of them orders OneKey never sends):
 * - a refund in `requesting` hears only the create answer: PENDING for a bank refund, SUCCESS /
 *   REJECTED / IN_PROGRESS for a card. A lost answer is looked up by replaying the POST with the same
 *   key (OneKey has no search and echoes no reference of ours), which answers that first response
 *   again before the current status is read, so the machine always goes through it first;
 * - afterwards a notification (or a lookup) reads the refund's current status, which is any status
 *   reachable along OneKey's status graph (docs/providers/onekey.md, Sandbox): bank PENDING →
 *   DELIVERED | INCORRECT_DETAILS | CANCELLED, INCORRECT_DETAILS → PENDING | CANCELLED, DELIVERED →
 *   COMPLETED | REJECTED, COMPLETED → REJECTED; a card in progress PENDING → COMPLETED | REJECTED.
 */
import { afterAll, describe, expect, test } from "vitest"
import { createActor } from "xstate"
import type { RefundEvent, RefundInput } from "../../machines/lifecycle/refund.js"
import { onekeyRefundMachine } from "../../machines/onekey/refund.js"
import { manualClock } from "../../src/clock.js"
import { isPaystateError } from "../../src/errors.js"
import type { PaymentView } from "../../src/types.js"
import { expectLedgersAgree, sandboxRefunds } from "../onekey/agree.js"
import { bank_account, paidDeposit, startWorld, type World } from "../onekey/helpers.js"
import { eventsOf, expectOnPath, MODEL_AT, ourRefund, report, simplePaths, type ModelPath, type ModelStep } from "./paths.js"

const POLL_MS = 3_600_000
type Kind = "bank" | "card"

/** OneKey's status graph, per kind of refund (the sandbox's `POST /_sandbox/refunds/{id}/status`). */
const GRAPH: Record<Kind, Record<string, readonly string[]>> = {
  bank: { PENDING: ["DELIVERED", "INCORRECT_DETAILS", "CANCELLED"], INCORRECT_DETAILS: ["PENDING", "CANCELLED"], DELIVERED: ["COMPLETED", "REJECTED"], COMPLETED: ["REJECTED"] },
  card: { PENDING: ["COMPLETED", "REJECTED"], COMPLETED: ["REJECTED"] },
}

/** The shortest route of bank / card actions from `from` to `to` (empty when already there, undefined when unreachable). */
const route = (kind: Kind, from: string, to: string): string[] | undefined => {
  const seen = new Map<string, string[]>([[from, []]])
  const queue = [from]
  while (queue.length) {
    const at = queue.shift()!
    if (at === to) return seen.get(at)!
    for (const n of GRAPH[kind][at] ?? []) if (!seen.has(n)) (seen.set(n, [...seen.get(at)!, n]), queue.push(n))
  }
  return undefined
}

/** The status OneKey holds a refund in while the machine is in `state` (after its last report). */
const heldIn = (state: string): string | undefined =>
  ({ pending: "PENDING", inProgress: "PENDING", incorrectDetails: "INCORRECT_DETAILS", delivered: "DELIVERED", completed: "COMPLETED" })[state]

const word = (w: string): RefundEvent => report(w === "COMPLETED" || w === "SUCCESS" ? "succeeded" : w === "REJECTED" || w === "CANCELLED" ? "failed" : "pending", w)

/** What OneKey can report next, in the machine's snapshot (see the file's comment). */
const reportsOf = (kind: Kind) => (snapshot: any): RefundEvent[] => {
  const state = String(snapshot.value)
  if (state === "requesting") return (kind === "bank" ? ["PENDING"] : ["SUCCESS", "REJECTED", "IN_PROGRESS"]).map(word)
  const held = heldIn(state)
  if (!held) return []
  const reachable = new Set<string>()
  const walk = (s: string) => {
    for (const n of GRAPH[kind][s] ?? []) if (!reachable.has(n)) (reachable.add(n), walk(n))
  }
  walk(held)
  return [...reachable].map(word)
}

const input = (kind: Kind): RefundInput => ({
  refundId: "rf_model",
  paymentId: "pay_model",
  kind: "refund",
  amount: kind === "bank" ? 4000 : 20000,
  at: MODEL_AT,
  effect: { op: "refund", payload: {} },
  pollDelaysMs: [POLL_MS],
})

const variants = (["bank", "card"] as const).map((kind) => ({ kind, paths: simplePaths(onekeyRefundMachine, input(kind), eventsOf(reportsOf(kind))) }))

const thrown = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

/** Drives one path through a fresh engine and sandbox; answers the payment's view at the end. */
const drive = async (w: World, kind: Kind, path: ModelPath, clock: ReturnType<typeof manualClock>): Promise<PaymentView> => {
  const engine = w.engine!
  const hooks = w.sandbox.kernel.webhookUrl
  const notifications = async (on: boolean) => {
    await w.settle()
    w.sandbox.kernel.webhookUrl = on ? hooks : undefined
  }
  const p = await paidDeposit(w, kind === "bank" ? 10000 : 20000, kind === "bank" ? "OX" : "VI")
  const ask = () => engine.payments.refund(kind === "bank" ? { paymentId: p.id, amount: 4000, bank_account } : { paymentId: p.id })
  const fault = (mode: "timeout" | "drop_response") => w.sandbox.kernel.faults.push({ path: "/v3/refunds", method: "POST", mode, count: 2 })
  /** OneKey's refund, found by the idempotency key that made it (as OneKey's dashboard would show it). */
  const atOneKey = async () => {
    const key = `ps-${p.id}-${ourRefund(await engine.payments.get(p.id)).id}`.slice(0, 100)
    return (await sandboxRefunds(w, p.providerRef)).find((r) => r.cause === key)
  }
  let held = "" // the status OneKey holds the refund in
  /** Moves the refund at OneKey along the shortest route to `to`; only the last move's notification is delivered. */
  const move = async (to: string, notifyLast: boolean) => {
    const steps = route(kind, held, to)
    expect(steps, `OneKey can move a refund from ${held} to ${to}`).toBeDefined()
    const id = (await atOneKey())!.refund_id
    for (const [i, s] of steps!.entries()) {
      await notifications(notifyLast && i === steps!.length - 1)
      const r = await w.control(`/_sandbox/refunds/${id}/status`, { status: s })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
    }
    held = to
    await notifications(true)
  }
  /** Where a person who resolved the refund "not paid" saw OneKey hold it. */
  const notPaid = () => (route(kind, held, "CANCELLED") !== undefined && held !== "COMPLETED" ? "CANCELLED" : "REJECTED")
  const resolve = async (outcome: "succeeded" | "failed") => {
    // The person found the refund in OneKey's panel and names its id: a later bank reversal reaches it.
    const found = await atOneKey()
    await engine.review.resolve(`${p.id}/${ourRefund(await engine.payments.get(p.id)).id}`, { outcome, note: "checked in OneKey's panel", by: "model", ...(found ? { providerRef: String(found.refund_id) } : {}) })
  }

  const first: ModelStep | undefined = path.steps[0]
  if (!first) {
    // Stays unconfirmed: every attempt hangs and OneKey performs nothing.
    fault("timeout")
    expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
  } else if (first.event.type === "REFUSED") {
    // A definite OneKey error with no natural trigger (803 INSUFFICIENT_FUNDS): nothing is refunded.
    expect((await w.control("/_sandbox/refunds/next-error", { code: 803 })).status).toBe(200)
    expect(isPaystateError(await thrown(ask()), "PROVIDER_REJECTED")).toBe(true)
  } else if (first.event.type === "REPORT") {
    // The create answer: a bank refund PENDING, a card's result as queued.
    const w0 = first.event.providerStatus!
    if (kind === "card") expect((await w.control("/_sandbox/cards/next-result", { result: w0 })).status).toBe(200)
    await ask()
    held = w0 === "SUCCESS" ? "COMPLETED" : w0 === "IN_PROGRESS" ? "PENDING" : w0
  } else if (first.event.type === "REVIEW.RESOLVE") {
    if (first.event.outcome === "succeeded") {
      // Performed, the answer lost; OneKey pays it out; a person who checked resolves it paid.
      await notifications(false)
      if (kind === "card") await w.control("/_sandbox/cards/next-result", { result: "SUCCESS" })
      fault("drop_response")
      expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
      held = kind === "card" ? "COMPLETED" : "PENDING"
      if (held !== "COMPLETED") await move("COMPLETED", false)
      await notifications(false)
    } else {
      // Never performed (every attempt hung); a person who checked resolves it not paid.
      fault("timeout")
      expect(isPaystateError(await thrown(ask()), "PROVIDER_UNAVAILABLE")).toBe(true)
    }
    w.sandbox.kernel.faults.length = 0
    await resolve(first.event.outcome)
    await notifications(true)
  } else throw new Error(`no way to start a refund with ${first.event.type}`)

  for (const s of path.steps.slice(1)) {
    const e = s.event
    if (e.type === "POLL") {
      // The poll timer falls due; OneKey still holds the refund where it was.
      clock.advance(POLL_MS + 1000)
      expect(await engine.runDueTimers()).toBeGreaterThan(0)
    } else if (e.type === "REPORT") {
      // The bank (or card issuer) moves it; the last move's notification brings the news.
      await move(e.providerStatus!, true)
      await w.settle()
    } else if (e.type === "REVIEW.RESOLVE") {
      // What the person saw at OneKey is what OneKey did (its notifications not delivered).
      await move(e.outcome === "succeeded" ? "COMPLETED" : notPaid(), false)
      await notifications(false)
      await resolve(e.outcome)
      await notifications(true)
    } else throw new Error(`no way to produce ${e.type} in ${s.from}`)
  }
  await w.settle()
  return engine.payments.get(p.id)
}

// The failure the bank paths above show, on the machine alone: OneKey still says INCORRECT_DETAILS
// (a poll's lookup, a duplicate notification, a sync) and the refund must stay where it is.
test("a refund in incorrectDetails that OneKey reports INCORRECT_DETAILS again stays in incorrectDetails", () => {
  const a = createActor(onekeyRefundMachine, { input: input("bank") }).start()
  for (const w of ["PENDING", "INCORRECT_DETAILS", "INCORRECT_DETAILS"]) a.send(word(w))
  expect(a.getSnapshot().value).toBe("incorrectDetails")
  a.stop()
})

const worlds: World[] = []
afterAll(async () => {
  for (const w of worlds) await w.close()
})

describe.each(variants)("onekeyRefund, $kind refund: every simple path through the engine and OneKey's sandbox", ({ kind, paths }) => {
  test("the model reaches every state OneKey's path has for this kind of refund", () => {
    expect(paths.length).toBeGreaterThan(kind === "bank" ? 100 : 20)
    expect(paths.length).toBeLessThan(400)
    const ends = new Set(paths.map((p) => p.final))
    const want = kind === "bank" ? ["requesting", "pending", "incorrectDetails", "delivered", "completed", "rejected", "cancelled", "reversed"] : ["requesting", "inProgress", "completed", "rejected", "reversed"]
    expect([...ends].sort()).toEqual(want.sort())
  })

  for (const path of paths) {
    test(path.name, async () => {
      const w = await startWorld()
      worlds.push(w)
      const clock = manualClock(new Date())
      w.engine = w.newEngine({ clock, adapter: { refundPollDelaysMs: [POLL_MS], timeoutMs: 150, retries: 1 }, engine: { retryBackoffMs: 10 } })
      await w.engine.ready
      const view = await drive(w, kind, path, clock)
      expectOnPath(view, path, "onekeyRefund")
      if (path.steps.length === 0) {
        // Unconfirmed: OneKey made nothing, and paystate holds the amount until it knows (agree.ts
        // expects every entry OneKey lacks to be failed, which an unknown outcome is not yet).
        expect(await sandboxRefunds(w, view.providerRef)).toEqual([])
        expect({ status: ourRefund(view).status, refunded: view.refundedAmount, reserved: view.reservedAmount }).toEqual({ status: "requested", refunded: 0, reserved: ourRefund(view).amount })
      } else await expectLedgersAgree(w, w.engine, view.id)
    })
  }
})
