/** The Craftgate demo journey, as `paystate demo --only craftgate` runs it: a same-day CANCEL, then a next-day partial and full REFUND. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoCraftgate } from "../../adapters/providers/craftgate/index.js"
import type { DemoContext } from "../../src/cli/demo-context.js"
import type { PaymentView } from "../../src/types.js"
import { refundsAt, startWorld, type World } from "./helpers.js"

let world: World
beforeAll(async () => {
  world = await startWorld()
  world.engine = world.newEngine()
})
afterAll(() => world.close())

describe("Craftgate demo", () => {
  it("shows a same-day CANCEL and a next-day partial then full REFUND, matching Craftgate's ledger", async () => {
    const lines: string[] = []
    const views: PaymentView[] = []
    const ctx: DemoContext = {
      engine: world.engine!,
      sandbox: world.sandbox,
      clock: world.clock,
      setTime: world.setTime,
      title: (t) => lines.push(`== ${t}`),
      step: (t, p) => {
        lines.push(t)
        if (p) views.push(p)
      },
      settle: () => world.settle(),
    }
    await demoCraftgate(ctx)
    const text = lines.join("\n")
    expect(text).toMatch(/23:59 Istanbul, the same day: full refund → refundType CANCEL, Craftgate refund id \d+, no transaction refunds/)
    expect(text).toContain("refused before any call: REFUND_EXCEEDS_REFUNDABLE")
    expect(text).toMatch(/00:01 Istanbul the next day/)
    expect(text).toMatch(/the rest → refundType REFUND, no refund id, 2 transaction refunds/)
    const cancelled = views.find((v) => v.refunds[0]?.kind === "cancel")!
    const refunded = views.at(-1)!
    expect(cancelled).toMatchObject({ status: "refunded", refundedAmount: 50000 })
    expect(refunded).toMatchObject({ status: "refunded", refundedAmount: 50000 })
    expect(refunded.refunds.map((r) => [r.kind, r.amount])).toEqual([
      ["refund_tx", 10000],
      ["refund", 40000],
    ])
    const ledger = await world.ledger()
    expect(refundsAt(ledger, cancelled.providerRef).map((m) => [m.type, m.amount])).toEqual([["cancel", 50000]])
    expect(refundsAt(ledger, refunded.providerRef).map((m) => m.amount)).toEqual([10000, 20000, 20000])
  })
})
