/** The OneKey demo journey, as `paystate demo --only onekey` runs it: partial refunds to the ceiling, then 802. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoOnekey } from "../../adapters/providers/onekey/demo.js"
import type { DemoContext } from "../../src/cli/demo-context.js"
import { manualClock } from "../../src/clock.js"
import type { PaymentView } from "../../src/types.js"
import { heldAtProvider, startWorld, type World } from "./helpers.js"

let world: World
beforeAll(async () => {
  world = await startWorld()
  world.engine = world.newEngine()
})
afterAll(() => world.close())

describe("OneKey demo", () => {
  it("shows partial refunds reaching the ceiling, the 802 refusal of one more, a reversal and a card refund", async () => {
    const lines: string[] = []
    const views: PaymentView[] = []
    const clock = manualClock()
    const ctx: DemoContext = {
      engine: world.engine!,
      sandbox: world.sandbox,
      clock,
      setTime: async (iso) => {
        clock.set(iso)
        await world.sandbox.kernel.setClock(new Date(iso))
      },
      title: (t) => lines.push(`== ${t}`),
      step: (t, p) => {
        lines.push(t)
        if (p) views.push(p)
      },
      settle: () => world.settle(),
    }
    await demoOnekey(ctx)
    const text = lines.join("\n")
    expect(text).toContain("REFUND_EXCEEDS_REFUNDABLE (OneKey code 802)")
    expect(text).toMatch(/OneKey answers HTTP 400 802 INVALID_AMOUNT_TO_REFUND/)
    const atCeiling = views.find((v) => v.refundableAmount === 0 && v.status === "captured")
    expect(atCeiling).toMatchObject({ capturedAmount: 100000, refundedAmount: 40000, reservedAmount: 60000 })
    const oxxo = await world.engine!.payments.get(atCeiling!.id)
    expect(oxxo.refunds.map((r) => r.status)).toEqual(["reversed", "pending", "pending", "pending"])
    expect(heldAtProvider(await world.ledger(), oxxo.providerRef)).toBe(oxxo.refundedAmount + oxxo.reservedAmount)
    expect(views.at(-1)).toMatchObject({ status: "refunded", refundedAmount: 50595 })
  })
})
