/**
 * KOMOJU's demo journeys for `paystate demo`: a konbini payment paid at the store and refunded by
 * bank transfer through a refund request, and a card payment refunded in part, then in full.
 */
import type { DemoContext } from "../../../src/cli/demo-context.js"
import { formatMoney } from "../../../src/money.js"

const customer = async (ctx: DemoContext, path: string): Promise<void> => {
  const res = await fetch(`${ctx.sandbox.url}${path}`, { method: "POST" })
  if (!res.ok) throw new Error(`sandbox ${path} answered ${res.status}: ${await res.text()}`)
  await ctx.settle()
}

/** Runs the KOMOJU journeys. */
export async function demoKomoju(ctx: DemoContext): Promise<void> {
  const { engine } = ctx
  await ctx.setTime(new Date().toISOString())

  ctx.title("konbini: paid at the store, refunded by bank transfer (refund request)")
  let p = await engine.payments.create({
    provider: "komoju",
    amount: 1000,
    currency: "JPY",
    externalOrderNum: `demo-konbini-${Date.now()}`,
    payment_details: { type: "konbini", store: "lawson", email: "taro@example.com" },
  })
  ctx.step(`created a konbini payment of ${formatMoney(1000, "JPY")} + 10% tax; it waits for the customer until ${p.deadline}`, p)
  await customer(ctx, `/_sandbox/payments/${p.providerRef}/pay`)
  p = await engine.payments.get(p.id)
  ctx.step("the customer paid at Lawson (webhook payment.captured)", p)
  p = await engine.payments.refundRequest({
    paymentId: p.id,
    customer_name: "ﾔﾏﾀﾞ ﾀﾛｳ",
    bank_code: "0001",
    bank_name: "KOMOJU BANK",
    branch_number: "123",
    branch_name: "KOMOJU BRANCH",
    account_type: "normal",
    account_number: "1234567",
    include_payment_method_fee: false,
  })
  const request = p.refunds.find((r) => r.kind === "refund_request")
  ctx.step(`asked KOMOJU to pay ${formatMoney(request?.amount ?? 0, "JPY")} back by bank transfer (refund request ${request?.providerStatus})`, p)
  await customer(ctx, `/_sandbox/refund_requests/${request?.providerRef}/complete`)
  p = await engine.payments.get(p.id)
  ctx.step("KOMOJU made the transfer (webhook refund_request.updated)", p)

  ctx.title("credit card: refunded in part, then in full")
  p = await engine.payments.create({
    provider: "komoju",
    amount: 1000,
    currency: "JPY",
    payment_details: { type: "credit_card", number: "4111111111111111", month: "01", year: "2030", verification_value: "123", name: "Taro Yamada" },
  })
  ctx.step("charged a card: captured at once", p)
  p = await engine.payments.refund({ paymentId: p.id, amount: 500 })
  ctx.step(`refunded ${formatMoney(500, "JPY")}`, p)
  p = await engine.payments.refund({ paymentId: p.id })
  ctx.step("refunded everything left", p)
  await ctx.settle()
}
