/** The OneKey demo: partial refunds of an OXXO deposit up to its ceiling, then the 802 refusal of one more; a card refund settled by notification. */
import { Effect } from "effect"
import type { DemoContext } from "../../../src/cli/demo-context.js"
import { isPaystateError } from "../../../src/errors.js"
import { make } from "./client.js"
import { ONEKEY_SANDBOX_DEFAULTS } from "./sandbox.js"

const payer = { document: "ROMC850101HDFXXX01", email: "carlos@example.com", first_name: "Carlos", last_name: "Ramirez" }
const bank_account = { beneficiary: "Carlos Ramirez", bank_code: 1, branch: "9283", account_number: "18293435", account_type: "SAVING" as const }

/** Runs the OneKey journeys. */
export async function demoOnekey(ctx: DemoContext): Promise<void> {
  const { engine, sandbox } = ctx
  const post = (path: string, body: unknown) => fetch(sandbox.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

  ctx.title("partial refunds of an OXXO deposit up to the ceiling, then 802")
  let p = await engine.payments.create({ provider: "onekey", amount: 100000, currency: "MXN", country: "MX", payment_method: "OX", payer })
  ctx.step(`deposit ${p.providerRef} created for OXXO`, p)
  await post(`/_sandbox/deposits/${p.providerRef}/complete`, {})
  await ctx.settle()
  p = await engine.payments.get(p.id)
  ctx.step("the customer paid at OXXO; the notification was fetched and applied", p)
  p = await engine.payments.refund({ paymentId: p.id, amount: 40000, bank_account, idempotencyKey: `${p.id}-r1` })
  const first = p.refunds[0]!
  ctx.step(`refund of 400.00 MXN to the customer's bank: ${first.providerStatus}`, p)
  for (const status of ["DELIVERED", "COMPLETED"]) {
    await post(`/_sandbox/refunds/${first.providerRef}/status`, { status })
    await ctx.settle()
  }
  p = await engine.payments.get(p.id)
  ctx.step("the bank delivered and completed it (two notifications, each fetched)", p)
  p = await engine.payments.refund({ paymentId: p.id, amount: 35000, bank_account })
  ctx.step("second partial refund, 350.00 MXN", p)
  p = await engine.payments.refund({ paymentId: p.id, amount: 25000, bank_account })
  ctx.step("third partial refund, 250.00 MXN: the deposit's 1,000.00 are all refunded or in flight", p)
  try {
    await engine.payments.refund({ paymentId: p.id, amount: 10000, bank_account })
  } catch (e) {
    if (!isPaystateError(e, "REFUND_EXCEEDS_REFUNDABLE")) throw e
    ctx.step(`one more 100.00 MXN: refused before any call (${e.code})`)
  }
  const client = make({ baseUrl: sandbox.url, ...ONEKEY_SANDBOX_DEFAULTS })
  const direct = await Effect.runPromise(Effect.flip(client.createRefund({ deposit_id: Number(p.providerRef), invoice_id: String(p.details.invoice_id), amount: 100, bank_account }, `${p.id}-direct`)))
  ctx.step(`asked directly, OneKey answers ${(direct.details as { code: number }).code} ${(direct.details as { type: string }).type}`)

  ctx.title("a card refund in progress, settled by notification")
  let c = await engine.payments.create({ provider: "onekey", amount: 50595, currency: "MXN", country: "MX", payment_method: "AE", payer })
  await post(`/_sandbox/deposits/${c.providerRef}/complete`, {})
  await ctx.settle()
  await post("/_sandbox/cards/next-result", { result: "IN_PROGRESS" })
  c = await engine.payments.refund({ paymentId: c.id })
  ctx.step(`full refund to the American Express card: ${c.refunds[0]!.providerStatus}`, c)
  await post(`/_sandbox/refunds/${c.refunds[0]!.providerRef}/status`, { status: "COMPLETED" })
  await ctx.settle()
  c = await engine.payments.get(c.id)
  ctx.step("the issuer completed it; the notification settled the ledger", c)
}
