import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { memoryStore } from "../../adapters/stores/memory.js"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { manualClock } from "../../src/clock.js"
import { Paystate, layer } from "../../src/effect.js"
import { createEngine } from "../../src/engine.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-durable-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("durability across a restart (PGlite on disk)", () => {
  const dataDir = join(dir, "db")
  const fake = fakeProvider()
  let paymentId = ""
  let refundPaymentId = ""

  it("a deadline timer stored before a restart fires after it", async () => {
    const clock = manualClock("2026-11-23T00:00:00.000Z")
    const a = createEngine({ store: pgliteStore({ dataDir }), providers: { fake }, clock, backgroundIntervalMs: 0 })
    paymentId = (await a.payments.create({ provider: "fake", amount: 5000, currency: "JPY", initial_status: "authorized", deadline: "2026-11-25T00:00:00.000Z" })).id
    // An unknown outcome left for the next process to reconcile.
    refundPaymentId = (await a.payments.create({ provider: "fake", amount: 800, currency: "JPY" })).id
    fake.script("refund", "perform-then-unavailable")
    await expect(a.payments.refund({ paymentId: refundPaymentId, amount: 800 })).rejects.toMatchObject({ code: "PROVIDER_UNAVAILABLE" })
    await a.close()

    clock.set("2026-11-26T00:00:00.000Z")
    const b = createEngine({ store: pgliteStore({ dataDir }), providers: { fake }, clock, backgroundIntervalMs: 0 })
    await b.ready // start-up recovery reconciles the refund: the provider had performed it
    const refunded = await b.payments.get(refundPaymentId)
    expect(refunded).toMatchObject({ status: "refunded", refundedAmount: 800, reservedAmount: 0 })
    expect(fake.ledger.filter((m) => m.op === "refund")).toHaveLength(1)
    expect(fake.calls.filter((c) => c.op === "refund")).toHaveLength(1)
    expect(await b.runDueTimers()).toBe(1)
    expect((await b.payments.get(paymentId)).status).toBe("expired")
    const history = await b.payments.history(paymentId)
    expect(history.map((h) => h.event.type)).toEqual(["CREATE", "OP.SUCCEEDED", "TIMER"])
    await b.close()
  })
})

describe("Effect layer", () => {
  it("provides the engine as a service whose failures are PaystateErrors, and closes it with the scope", async () => {
    const fake = fakeProvider()
    const program = Effect.gen(function* () {
      const paystate = yield* Paystate
      const p = yield* paystate.payments.create({ provider: "fake", amount: 100, currency: "USD" })
      const r = yield* paystate.payments.refund({ paymentId: p.id, amount: 40 })
      const err = yield* Effect.flip(paystate.payments.refund({ paymentId: p.id, amount: 100 }))
      return { refunded: r.refundedAmount, code: err.code, tag: err._tag }
    })
    const out = await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(layer({ store: memoryStore(), providers: { fake }, backgroundIntervalMs: 0 })))))
    expect(out).toEqual({ refunded: 40, code: "REFUND_EXCEEDS_REFUNDABLE", tag: "PaystateError" })
  })

  it("narrows a failure by its tagged reason with Effect.catchReason", async () => {
    const program = Effect.gen(function* () {
      const paystate = yield* Paystate
      const p = yield* paystate.payments.create({ provider: "fake", amount: 100, currency: "USD" })
      return yield* paystate.payments.refund({ paymentId: p.id, amount: 500 }).pipe(
        Effect.map(() => "refunded"),
        Effect.catchReason("PaystateError", "RefundExceedsRefundable", (reason) => Effect.succeed(`only ${(reason.details as { refundable: number }).refundable} left`)),
      )
    })
    const out = await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(layer({ store: memoryStore(), providers: { fake: fakeProvider() }, backgroundIntervalMs: 0 })))))
    expect(out).toBe("only 100 left")
  })
})

describe("inspection", () => {
  it("sends XState inspection events for each payment step, keyed by payment id", async () => {
    type Seen = { type: string; rootId: string; event?: { type: string }; actorRef: { sessionId: string; _parent?: { sessionId: string } }; sourceRef?: { sessionId: string } }
    const seen: Seen[] = []
    const engine = createEngine({ store: memoryStore(), providers: { fake: fakeProvider() }, backgroundIntervalMs: 0, inspect: (e) => seen.push(e as never) })
    const p = await engine.payments.create({ provider: "fake", amount: 100, currency: "JPY" })
    const r = await engine.payments.refund({ paymentId: p.id, amount: 10 })
    const refundId = r.refunds[0]!.id
    expect(seen[0]).toMatchObject({ type: "@xstate.actor", rootId: p.id })
    // The outside events reach the payment actor; the refund is its child actor with events from the payment.
    const onPayment = seen.filter((e) => e.type === "@xstate.event" && e.actorRef.sessionId === p.id && !e.sourceRef)
    expect(onPayment.map((e) => e.event?.type)).toEqual(["OP.SUCCEEDED", "REFUND", "OP.SUCCEEDED"])
    const child = seen.find((e) => e.type === "@xstate.actor" && e.actorRef.sessionId === `${p.id}/${refundId}`)
    expect(child?.actorRef._parent?.sessionId).toBe(p.id)
    const toChild = seen.filter((e) => e.type === "@xstate.event" && e.actorRef.sessionId === `${p.id}/${refundId}`)
    expect(toChild.map((e) => e.event?.type)).toEqual(["xstate.init", "REPORT"])
    expect(toChild.every((e) => e.sourceRef?.sessionId === p.id)).toBe(true)
    const changed = seen.filter((e) => e.type === "@xstate.event" && e.event?.type === "REFUND.CHANGED")
    expect(changed.length).toBeGreaterThanOrEqual(2)
    expect(changed.every((e) => e.sourceRef?.sessionId === `${p.id}/${refundId}` && e.actorRef.sessionId === p.id)).toBe(true)
    expect(seen.every((e) => e.rootId === p.id)).toBe(true)
    await engine.close()
  })
})

describe("Stately inspector", () => {
  it("@statelyai/inspect serialises each payment as an actor with its machine definition and snapshots", async () => {
    const { createInspector } = await import("@statelyai/inspect")
    const sent: { type: string; name?: string; definition?: string; sessionId?: string; snapshot?: { value?: unknown } }[] = []
    const inspector = createInspector({ send: (e: never) => sent.push(e), start: () => {}, stop: () => {} } as never)
    const engine = createEngine({ store: memoryStore(), providers: { fake: fakeProvider() }, backgroundIntervalMs: 0, inspect: inspector.inspect as never })
    const p = await engine.payments.create({ provider: "fake", amount: 100, currency: "JPY" })
    await engine.payments.refund({ paymentId: p.id, amount: 40 })
    await expect.poll(() => sent.filter((e) => e.type === "@xstate.snapshot").length, { timeout: 2000 }).toBeGreaterThanOrEqual(4)
    const actor = sent.find((e) => e.type === "@xstate.actor")!
    expect(actor).toMatchObject({ name: "lifecycle", sessionId: p.id })
    expect(actor.definition).toContain("partiallyRefunded")
    expect(sent.filter((e) => e.type === "@xstate.snapshot").at(-1)?.snapshot?.value).toEqual({ captured: "partiallyRefunded" })
    await engine.close()
  })
})
