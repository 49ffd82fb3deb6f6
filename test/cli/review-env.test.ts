/**
 * `paystate review retry` for a real provider configured from its environment variables: a KOMOJU
 * refund that timed out while KOMOJU's lookups failed past the retry window is parked; the CLI, given
 * KOMOJU_* (here pointing at the sandbox), looks again, re-sends with the same idempotency key, and
 * the refund is paid once.
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { komoju, startKomojuSandbox, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { manualClock } from "../../src/clock.js"
import { createEngine } from "../../src/engine.js"
import type { PaymentView, ReviewItem } from "../../src/types.js"
import { cliAsync } from "./helpers.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-cli-env-"))
const dataDir = join(dir, "app")
const secretKey = `sk_${randomBytes(6).toString("hex")}`
const webhookSecret = `whsec_${randomBytes(6).toString("hex")}`
let sandbox: RunningKomojuSandbox
let payment: PaymentView
let item: ReviewItem

const fault = (path: string, method: string, mode: string) =>
  fetch(`${sandbox.url}/_sandbox/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path, method, mode, count: 1 }) })

beforeAll(async () => {
  sandbox = await startKomojuSandbox({ secretKey, webhookSecret })
  const clock = manualClock(new Date())
  const engine = createEngine({
    store: pgliteStore({ dataDir }),
    providers: { komoju: komoju({ baseUrl: sandbox.apiUrl, secretKey, webhookSecret, timeoutMs: 3000, retries: 0 }) },
    clock,
    retryWindowMs: 3_600_000,
    backgroundIntervalMs: 0,
    onError: () => undefined,
  })
  payment = await engine.payments.create({
    provider: "komoju",
    amount: 1000,
    currency: "JPY",
    payment_details: { type: "credit_card", number: "4111111111111111", month: "01", year: "2030", verification_value: "123", name: "Taro Yamada" },
  })
  expect(payment.status).toBe("captured")
  await fault("/api/v1/payments/:id/refund", "POST", "timeout")
  await engine.payments.refund({ paymentId: payment.id, amount: 300 }).catch(() => undefined)
  await fault("/api/v1/payments/:id", "GET", "error500")
  clock.advance(2 * 3_600_000)
  await engine.recover()
  const items = await engine.review.list()
  expect(items).toHaveLength(1)
  item = items[0]!
  await engine.close()
  sandbox.kernel.faults.length = 0
}, 120_000)
afterAll(async () => {
  await sandbox?.close()
  rmSync(dir, { recursive: true, force: true })
})

it("without KOMOJU_* the retry names what to set and changes nothing; with them it re-sends once and the refund settles", async () => {
  expect(item).toMatchObject({ kind: "refund", paymentId: payment.id, amount: 300 })
  const refused = await cliAsync(["review", "retry", item.id, "--data-dir", dataDir], { KOMOJU_SECRET_KEY: undefined, KOMOJU_WEBHOOK_SECRET: undefined })
  expect(refused.status).toBe(2)
  expect(refused.stderr).toContain("This command calls komoju: komoju is not configured: set KOMOJU_SECRET_KEY, KOMOJU_WEBHOOK_SECRET (or pass --config with your app's providers).")
  const ledger = async () => ((await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as { movements: { type: string; amount: number; cause: string }[] }).movements.filter((m) => m.type === "refund")
  expect(await ledger()).toEqual([])

  const env = { KOMOJU_SECRET_KEY: secretKey, KOMOJU_WEBHOOK_SECRET: webhookSecret, KOMOJU_BASE_URL: sandbox.apiUrl }
  const r = await cliAsync(["review", "retry", item.id, "--data-dir", dataDir, "--by", "ops", "--json"], env)
  expect(r.status, r.stderr).toBe(0)
  expect(JSON.parse(r.stdout)).toMatchObject({ id: payment.id, refundedAmount: 300, reservedAmount: 0, refundableAmount: 800 })
  const refunds = await ledger()
  expect(refunds).toHaveLength(1)
  expect(refunds[0]).toMatchObject({ amount: 300 })
  expect(refunds[0]!.cause).toContain(`ps-${payment.id}-`)
  expect(JSON.parse((await cliAsync(["review", "list", "--data-dir", dataDir, "--json"], env)).stdout)).toEqual([])
}, 120_000)
