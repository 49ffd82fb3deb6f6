/**
 * The OneKey demo: partial refunds of an OXXO deposit up to its ceiling and the 802 refusal of one
 * more; a bank reversal that gives the ceiling back; a card refund settled by notification.
 */
import { Effect } from "effect"
import type { DemoContext } from "../../../src/cli/demo-context.js"
import { isPaystateError } from "../../../src/errors.js"
import { formatMoney } from "../../../src/money.js"
import { make } from "./client.js"
import { isOnekeyError } from "./errors.js"
import { ONEKEY_SANDBOX_DEFAULTS } from "./sandbox.js"

const payer = { document: "ROMC850101HDFXXX01", email: "carlos@example.com", first_name: "Carlos", last_name: "Ramirez" }
const bank_account = { beneficiary: "Carlos Ramirez", bank_code: 1, branch: "9283", account_number: "18293435", account_type: "SAVING" as const }

/** Runs the OneKey journeys. */
export async function demoOnekey(ctx: DemoContext): Promise<void> {
  const { engine, sandbox } = ctx
  const mxn = (minor: number) => formatMoney(minor, "MXN")
  const post = async (path: string, body: unknown = {}) => {
    const res = await fetch(sandbox.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`sandbox ${path}: HTTP ${res.status} ${await res.text()}`)
  }
  const bank = async (refundRef: string | null, ...statuses: string[]) => {
    for (const status of statuses) {
      await post(`/_sandbox/refunds/${refundRef}/status`, { status })
      await ctx.settle()
    }
  }

  ctx.title("partial refunds of an OXXO deposit up to the ceiling, then 802 for one more")
  let p = await engine.payments.create({ provider: "onekey", amount: 100000, currency: "MXN", country: "MX", payment_method: "OX", payer })
  ctx.step(`deposit ${p.providerRef} of ${mxn(p.amount)} created for OXXO (invoice ${p.details.invoice_id})`, p)
  await post(`/_sandbox/deposits/${p.providerRef}/complete`)
  await ctx.settle()
  p = await engine.payments.get(p.id)
  ctx.step("the customer paid at OXXO: OneKey notified {deposit_id}, paystate read the deposit (COMPLETED)", p)
  for (const [i, amount] of [40000, 35000, 25000].entries()) {
    p = await engine.payments.refund({ paymentId: p.id, amount, bank_account, idempotencyKey: `${p.id}-refund-${i + 1}` })
    const r = p.refunds[i]!
    ctx.step(`partial refund ${i + 1}: ${mxn(amount)} to the customer's bank, OneKey refund ${r.providerRef} ${r.providerStatus}`, p)
    if (i === 0) {
      await bank(r.providerRef, "DELIVERED", "COMPLETED")
      p = await engine.payments.get(p.id)
      ctx.step("the bank delivered and completed refund 1 (two notifications, each read back with GET /v3/refunds)", p)
    }
  }
  const refused: unknown = await engine.payments.refund({ paymentId: p.id, amount: 10000, bank_account }).then(() => new Error("a refund over the ceiling was accepted"), (e: unknown) => e)
  if (!isPaystateError(refused, "REFUND_EXCEEDS_REFUNDABLE")) throw refused
  ctx.step(`one more ${mxn(10000)}: refused before any call, ${refused.code} (OneKey code ${(refused.details as { code: number }).code})`)
  const client = make({ baseUrl: sandbox.url, ...ONEKEY_SANDBOX_DEFAULTS })
  const direct = await Effect.runPromise(Effect.flip(client.createRefund({ deposit_id: Number(p.providerRef), invoice_id: String(p.details.invoice_id), amount: 100, bank_account })))
  if (!isOnekeyError(direct, 802)) throw direct
  ctx.step(`asked directly, OneKey answers HTTP ${direct.details.status} ${direct.details.code} ${direct.details.type}: the three refunds hold the whole deposit`)

  ctx.title("the bank reverses a completed refund: its amount can be refunded again")
  const first = p.refunds[0]!
  await bank(first.providerRef, "REJECTED")
  p = await engine.payments.get(p.id)
  ctx.step(`refund ${first.providerRef} COMPLETED → REJECTED days later: kept on record as ${p.refunds[0]!.status}, ${mxn(first.amount)} refundable again`, p)
  p = await engine.payments.refund({ paymentId: p.id, amount: first.amount, bank_account: { ...bank_account, account_number: "55512340" } })
  ctx.step(`re-issued to a corrected account: ${p.refunds.at(-1)!.providerStatus}`, p)

  ctx.title("a card refund in progress, settled by notification")
  let c = await engine.payments.create({ provider: "onekey", amount: 50595, currency: "MXN", country: "MX", payment_method: "AE", payer })
  await post(`/_sandbox/deposits/${c.providerRef}/complete`)
  await ctx.settle()
  await post("/_sandbox/cards/next-result", { result: "IN_PROGRESS" })
  c = await engine.payments.refund({ paymentId: c.id })
  ctx.step(`full refund of ${mxn(c.capturedAmount)} to the American Express card: ${c.refunds[0]!.providerStatus}`, c)
  await bank(c.refunds[0]!.providerRef, "COMPLETED")
  c = await engine.payments.get(c.id)
  ctx.step("the issuer completed it; the notification was read back and settled the ledger", c)
}
