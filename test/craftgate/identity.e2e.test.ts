/**
 * Refund identity under the faults real providers produce (issue 12), through the public API against
 * the sandbox over HTTP, on memory, PGlite and PostgreSQL: two in-flight transaction refunds of the
 * same amount on one transaction, one timed out before Craftgate saw it, the other performed with its
 * answer dropped, in both orders, with the performed one's REFUND_TX webhook handed to a SECOND engine
 * on the same database before any answer. A report lands only on the refund its conversationId names;
 * after recovery the library's ledger equals Craftgate's, refund by refund.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Engine } from "../../src/engine.js"
import { deliver, startHookTrap, type HookTrap } from "./hooks.js"
import { expectLedgersAgree, istanbul, pay, rejects, startWorld, txIds, type World } from "./helpers.js"
import { openDatabase, PG_URL, postgresEnabled, type Database, type DatabaseKind } from "./stores.js"

const kinds: DatabaseKind[] = ["memory", "pglite", ...((await postgresEnabled()) ? (["postgres"] as const) : [])]
if (!kinds.includes("postgres")) {
  describe("Craftgate refund identity on postgres", () => {
    it.skip(`skipped: no PostgreSQL at ${PG_URL} (in CI this fails instead)`, () => {})
  })
}

describe.each(kinds)("Craftgate refund identity on %s", (kind) => {
  let world: World
  let db: Database
  let trap: HookTrap
  let a: Engine
  let b: Engine
  beforeAll(async () => {
    world = await startWorld()
    db = await openDatabase(kind, "cgid")
    trap = await startHookTrap()
    await world.control("/_sandbox/webhook-url", { url: trap.url })
    // Two host processes on one database; A takes the commands, B receives the webhooks.
    a = world.newEngine({ store: db.open(), adapter: { timeoutMs: 300 } })
    await a.ready
    b = world.newEngine({ store: db.open(), adapter: { timeoutMs: 300 } })
    await b.ready
  }, 60_000)
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await world?.close()
    await trap?.close()
    await db?.close()
  })

  const timeoutFault = () => world.control("/_sandbox/faults", { path: "/payment/v1/refund-transactions", method: "POST", mode: "timeout", count: 1 })
  const dropFault = () => world.control("/_sandbox/faults", { path: "/payment/v1/refund-transactions", method: "POST", mode: "drop_response", count: 1 })

  for (const order of ["unperformed first", "performed first"] as const) {
    it(`two in-flight refunds of 700 on one transaction, ${order}: the webhook lands on the performed one only, recovery sends the other once`, async () => {
      const p = await pay(world, istanbul("2026-11-23T10:00"), a)
      await world.settle()
      trap.take()
      const tx = txIds(p)[0]!
      const refund = async (fault: () => Promise<unknown>) => {
        await fault()
        await rejects(a.payments.refund({ paymentId: p.id, amount: 700, paymentTransactionId: tx }), "PROVIDER_UNAVAILABLE")
        return (await a.payments.get(p.id)).refunds.at(-1)!.id
      }
      let unperformed: string
      let performed: string
      if (order === "unperformed first") {
        unperformed = await refund(timeoutFault)
        performed = await refund(dropFault)
      } else {
        performed = await refund(dropFault)
        unperformed = await refund(timeoutFault)
      }
      let v = await a.payments.get(p.id)
      expect(v.refunds.map((r) => [r.amount, r.status])).toEqual([
        [700, "requested"],
        [700, "requested"],
      ])
      expect(v).toMatchObject({ reservedAmount: 1400, refundedAmount: 0 })

      // Craftgate performed one of them and sent REFUND_TX; engine B gets it before any answer.
      await world.settle()
      const hooks = trap.take()
      expect(hooks.map((h) => h.body.eventType)).toEqual(["REFUND_TX"])
      expect(await deliver(b, hooks[0]!)).toEqual({ status: "processed", paymentIds: [p.id] })
      v = await b.payments.get(p.id)
      expect(v.refunds.find((r) => r.id === performed)).toMatchObject({ status: "succeeded", amount: 700, providerRef: expect.stringMatching(/^tx:\d+$/) })
      // The refund Craftgate never saw is untouched: no report names it.
      expect(v.refunds.find((r) => r.id === unperformed)).toMatchObject({ status: "requested", providerRef: null })
      expect(v).toMatchObject({ refundedAmount: 700, reservedAmount: 700, unattributedAmount: 0 })

      // Recovery (by A): the performed one is found by its conversationId, the other is sent once.
      world.clock.advance(30_000)
      await a.recover()
      await world.settle()
      for (const h of trap.take()) await deliver(b, h)
      world.clock.advance(30_000)
      await b.recover()

      v = await a.payments.get(p.id)
      expect(v.refunds.map((r) => r.status)).toEqual(["succeeded", "succeeded"])
      expect(v).toMatchObject({ refundedAmount: 1400, reservedAmount: 0, unattributedAmount: 0 })
      const movements = await world.ledger()
      expectLedgersAgree(v, movements, order)
      // Each refund moved money exactly once, under its own conversationId.
      const causes = movements.filter((m) => m.paymentId === p.providerRef && m.type === "refund").map((m) => m.cause)
      expect(causes.sort()).toEqual([`ps-${p.id}-${performed}`, `ps-${p.id}-${unperformed}`].sort())
    }, 30_000)
  }

  it("a transaction refund made outside paystate is held unattributed while a refund is in flight, then becomes external", async () => {
    const p = await pay(world, istanbul("2026-11-23T10:00"), a)
    await world.settle()
    trap.take()
    const tx = txIds(p)[1]!
    await timeoutFault()
    await rejects(a.payments.refund({ paymentId: p.id, amount: 500, paymentTransactionId: tx }), "PROVIDER_UNAVAILABLE")
    // The same amount on the same transaction, made in Craftgate's dashboard: no paystate conversationId.
    const direct = await world.api("POST", "/payment/v1/refund-transactions", { paymentTransactionId: Number(tx), refundPrice: 5, conversationId: "dashboard-1" })
    expect(direct.status).toBe(200)
    await world.settle()
    for (const h of trap.take()) expect(await deliver(b, h)).toMatchObject({ status: "processed" })
    let v = await b.payments.get(p.id)
    // Never paired with the in-flight refund of the same amount: held aside, counted against the ceiling.
    expect(v.refunds.find((r) => r.providerRef === `txr:${direct.body.data.id}`)).toMatchObject({ unattributed: true, amount: 500, status: "succeeded" })
    expect(v.refunds.find((r) => !r.unattributed)).toMatchObject({ status: "requested", providerRef: null })
    expect(v).toMatchObject({ unattributedAmount: 500, reservedAmount: 500, refundedAmount: 0 })
    world.clock.advance(30_000)
    await a.recover()
    await world.settle()
    for (const h of trap.take()) await deliver(a, h)
    v = await a.payments.get(p.id)
    expect(v.refunds.find((r) => r.providerRef === `txr:${direct.body.data.id}`)).toMatchObject({ external: true, unattributed: false })
    expect(v).toMatchObject({ refundedAmount: 1000, reservedAmount: 0, unattributedAmount: 0 })
    expectLedgersAgree(v, await world.ledger(), "external")
  }, 30_000)
})
