/** The KOMOJU demo journey runs against the sandbox and ends where the issue says it does. */
import { afterAll, beforeAll, expect, test } from "vitest"
import { demoKomoju } from "../../adapters/providers/komoju/index.js"
import type { DemoContext } from "../../src/cli/demo-context.js"
import { startWorld, type KomojuWorld } from "./helpers.js"

let w: KomojuWorld
beforeAll(async () => {
  w = await startWorld()
})
afterAll(() => w.close())

test("konbini paid and refunded by refund request; card refunded in part then in full", async () => {
  const lines: string[] = []
  const ctx: DemoContext = {
    engine: w.engine,
    sandbox: w.sandbox,
    clock: w.clock,
    setTime: w.setTime,
    title: (t) => lines.push(`== ${t}`),
    step: (t, p) => lines.push(`${t}${p ? ` → ${p.state} refunded=${p.refundedAmount} reserved=${p.reservedAmount}` : ""}`),
    settle: w.settle,
  }
  await demoKomoju(ctx)
  expect(lines.filter((l) => l.startsWith("=="))).toHaveLength(2)
  const payments = (await w.engine.payments.list({ perPage: 10 })).data
  const konbini = payments.find((p) => p.method === "konbini")!
  const card = payments.find((p) => p.method === "credit_card")!
  expect(konbini).toMatchObject({ status: "refunded", refundedAmount: 1100 })
  expect(konbini.refunds.map((r) => [r.kind, r.status])).toEqual([["refund_request", "succeeded"]])
  expect(card).toMatchObject({ status: "refunded", refundedAmount: 1100 })
  expect(card.refunds.map((r) => r.amount)).toEqual([500, 600])
  expect(lines.some((l) => l.includes("captured.partiallyRefunded"))).toBe(true)
  expect(lines.at(-1)).toMatch(/→ refunded refunded=1100/)
})
