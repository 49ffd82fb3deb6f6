/** The Craftgate demo: a same-day full refund that is a CANCEL; a next-day partial then full REFUND. */
import type { DemoContext } from "../../../src/cli/demo-context.js"

const card = { cardHolderName: "Haluk Demir", cardNumber: "5528790000000008", expireYear: "2044", expireMonth: "07", cvc: "000" }
const items = [
  { name: "Book", price: 30000 },
  { name: "Pen", price: 20000 },
]

/** Runs the Craftgate journeys. */
export async function demoCraftgate(ctx: DemoContext): Promise<void> {
  const { engine } = ctx
  const day = new Date(ctx.clock.now())
  const at = (daysLater: number, istanbul: string) => {
    const d = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + daysLater))
    const [h, m] = istanbul.split(":").map(Number)
    return new Date(d.getTime() + ((h! - 3) * 60 + m!) * 60_000).toISOString()
  }

  ctx.title("a full refund on the day of the payment is a CANCEL")
  await ctx.setTime(at(0, "10:00"))
  let p = await engine.payments.create({ provider: "craftgate", amount: 50000, currency: "TRY", card, items })
  ctx.step(`card payment ${p.providerRef} of two items (Book 300.00, Pen 200.00), 10:00 Istanbul`, p)
  await ctx.setTime(at(0, "23:59"))
  p = await engine.payments.refund({ paymentId: p.id })
  ctx.step(`full refund at 23:59 Istanbul: ${p.refunds[0]!.details.refundType} #${p.refunds[0]!.details.craftgateRefundId}, no transaction refunds`, p)

  ctx.title("the next day: a partial refund, then the rest as a REFUND")
  await ctx.setTime(at(0, "10:00"))
  let q = await engine.payments.create({ provider: "craftgate", amount: 50000, currency: "TRY", card, items })
  const [book] = (q.details.transactions as { id: string }[]).map((t) => t.id)
  ctx.step(`card payment ${q.providerRef}, 10:00 Istanbul`, q)
  await ctx.setTime(at(1, "00:01"))
  q = await engine.payments.refund({ paymentId: q.id, amount: 10000, paymentTransactionId: book })
  ctx.step("00:01 the next day: 100.00 back on the Book's transaction", q)
  q = await engine.payments.refund({ paymentId: q.id })
  const parts = q.refunds[1]!.details.transactionRefunds as { amount: number }[]
  ctx.step(`the rest: ${q.refunds[1]!.details.refundType} of ${parts.length} transaction refunds (${parts.map((t) => (t.amount / 100).toFixed(2)).join(" + ")} TRY)`, q)
  await ctx.settle()
}
