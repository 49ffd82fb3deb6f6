/**
 * The Craftgate demo: a full refund at 23:59 Istanbul on the payment's day is a CANCEL (and nothing
 * can be refunded after it); on the next day, at 00:01, a partial refund of one item and then the
 * rest, which is a REFUND of one transaction refund per item.
 */
import { businessDay } from "../../../machines/craftgate/same-day.js"
import type { DemoContext } from "../../../src/cli/demo-context.js"
import { isPaystateError } from "../../../src/errors.js"
import { formatMoney } from "../../../src/money.js"

const card = { cardHolderName: "Haluk Demir", cardNumber: "5258640000000001", expireYear: "2044", expireMonth: "07", cvc: "000" }
const items = [
  { name: "Book", price: 30000, externalId: "sku-book" },
  { name: "Pen", price: 20000, externalId: "sku-pen" },
]

interface Movement {
  readonly type: string
  readonly paymentId: string
  readonly amount: number
  readonly paymentTransactionId?: number
}

/** Runs the Craftgate journeys. */
export async function demoCraftgate(ctx: DemoContext): Promise<void> {
  const { engine, sandbox } = ctx
  const tl = (minor: number) => formatMoney(minor, "TRY")
  // Times are Istanbul wall-clock (UTC+3, no DST) on the demo clock's Istanbul date, plus `days`.
  const today = businessDay(ctx.clock.now())
  const istanbul = (days: number, hhmm: string) => {
    const [h, m] = hhmm.split(":").map(Number)
    return new Date(Date.parse(`${today}T00:00:00+03:00`) + (days * 24 * 60 + h! * 60 + m!) * 60_000).toISOString()
  }
  const moved = async (providerRef: string | null) => {
    const { movements } = (await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: Movement[] }
    return movements
      .filter((m) => m.paymentId === providerRef)
      .map((m) => `${m.type} ${tl(m.amount)}${m.paymentTransactionId ? ` (transaction ${m.paymentTransactionId})` : ""}`)
      .join(", ")
  }

  ctx.title("a full refund on the day of the payment is a CANCEL")
  await ctx.setTime(istanbul(0, "10:00"))
  let p = await engine.payments.create({ provider: "craftgate", amount: 50000, currency: "TRY", card, items })
  ctx.step(`10:00 Istanbul: card payment ${p.providerRef} of two items, Book ${tl(30000)} and Pen ${tl(20000)}`, p)
  await ctx.setTime(istanbul(0, "23:59"))
  p = await engine.payments.refund({ paymentId: p.id })
  await ctx.settle()
  const cancel = p.refunds[0]!
  ctx.step(
    `23:59 Istanbul, the same day: full refund → refundType ${cancel.details.refundType}, Craftgate refund id ${cancel.details.craftgateRefundId}, no transaction refunds; Craftgate's ledger: ${await moved(p.providerRef)}`,
    p,
  )
  const refused = await engine.payments.refund({ paymentId: p.id, amount: 100, paymentTransactionId: (p.details.transactions as { id: string }[])[0]!.id }).then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isPaystateError(refused, "REFUND_EXCEEDS_REFUNDABLE")) throw refused ?? new Error("a refund after a CANCEL was accepted")
  ctx.step(`another refund after the CANCEL is refused before any call: ${refused.code}`)

  ctx.title("the next day: a partial refund of one item, then the rest as a REFUND")
  await ctx.setTime(istanbul(0, "10:00"))
  let q = await engine.payments.create({ provider: "craftgate", amount: 50000, currency: "TRY", card, items })
  const [book, pen] = q.details.transactions as { id: string; name: string }[]
  ctx.step(`10:00 Istanbul: card payment ${q.providerRef} (transactions ${book!.id} Book, ${pen!.id} Pen)`, q)
  await ctx.setTime(istanbul(1, "00:01"))
  q = await engine.payments.refund({ paymentId: q.id, amount: 10000, paymentTransactionId: book!.id })
  ctx.step(`00:01 Istanbul the next day: ${tl(10000)} back on the Book's transaction (refund-transactions)`, q)
  q = await engine.payments.refund({ paymentId: q.id })
  await ctx.settle()
  const rest = q.refunds[1]!
  const parts = rest.details.transactionRefunds as { paymentTransactionId: number; amount: number }[]
  ctx.step(
    `the rest → refundType ${rest.details.refundType}, no refund id, ${parts.length} transaction refunds (${parts.map((t) => `${t.paymentTransactionId}: ${tl(t.amount)}`).join(", ")}); Craftgate's ledger: ${await moved(q.providerRef)}`,
    q,
  )
}
