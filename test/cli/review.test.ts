/**
 * `paystate review` over a PGlite store an app left behind: a refund parked after its retry window and
 * an unattributed provider refund are listed with why; `retry` looks again (with the app's providers
 * from --config) and the refund settles; `resolve` settles the unattributed one by a person's word,
 * journaled with who and why; an outcome that would break the ceiling is refused and writes nothing.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pgliteStore } from "../../adapters/stores/pglite.js"
import { manualClock } from "../../src/clock.js"
import { createEngine } from "../../src/engine.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"
import type { PaymentView, ReviewItem } from "../../src/types.js"
import { cli } from "./helpers.js"

const dir = mkdtempSync(join(tmpdir(), "paystate-cli-review-"))
const dataDir = join(dir, "app")
const config = join(import.meta.dirname, "fake-providers.config.ts")
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let parked: PaymentView
let held: PaymentView

beforeAll(async () => {
  const fake = fakeProvider()
  const clock = manualClock(new Date())
  const engine = createEngine({ store: pgliteStore({ dataDir }), providers: { fake }, clock, retryWindowMs: 3_600_000, backgroundIntervalMs: 0, onError: () => undefined })
  // A refund whose provider stayed unreachable past the retry window: parked, flagged, amount reserved.
  parked = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY", externalOrderNum: "review-1" })
  fake.script("refund", "unavailable", "unavailable")
  await engine.payments.refund({ paymentId: parked.id, amount: 100 }).catch(() => undefined)
  clock.advance(2 * 3_600_000)
  await engine.recover()
  parked = await engine.payments.get(parked.id)
  // A dashboard refund of 700 shows up while a refund of 600 is in flight: held aside, unattributed.
  held = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY", externalOrderNum: "review-2" })
  fake.script("refund", "unavailable")
  await engine.payments.refund({ paymentId: held.id, amount: 600 }).catch(() => undefined)
  const raw = JSON.stringify({ id: "evt_dash", providerRef: held.providerRef, refunds: [{ providerRef: "dash_9", amount: 700, status: "succeeded" }] })
  await engine.webhooks.handle("fake", { headers: { "x-fake-signature": fake.sign(raw) }, rawBody: raw })
  held = await engine.payments.get(held.id)
  await engine.close()
}, 120_000)

const items = (): ReviewItem[] => {
  const r = cli(["review", "list", "--data-dir", dataDir, "--json"])
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}

describe("paystate review", { timeout: 180_000 }, () => {
  it("list shows each item with its id, amount and why; --needs-review lists the payments", () => {
    const all = items()
    const refund = all.find((i) => i.paymentId === parked.id)!
    expect(refund).toMatchObject({ kind: "refund", amount: 100, currency: "JPY", provider: "fake" })
    expect(refund.reasons.join(" ")).toMatch(/parked/)
    const ua = all.find((i) => i.kind === "unattributed")!
    expect(ua).toMatchObject({ id: `${held.id}/ua:dash_9`, amount: 700, providerRef: "dash_9" })
    const text = cli(["review", "list", "--data-dir", dataDir])
    expect(text.stdout).toContain(`${refund.id}  refund  fake  100 JPY`)
    expect(text.stdout).toContain(`${ua.id}  unattributed  fake  700 JPY`)
    expect(text.stdout).toMatch(/^\s+- .*parked/m)
    const flagged = JSON.parse(cli(["list", "--data-dir", dataDir, "--needs-review", "--json"]).stdout)
    expect(flagged.data.map((p: PaymentView) => p.id).sort()).toEqual([parked.id, held.id].sort())
  })

  it("retry and resolve need the payment's provider as the app configures it", () => {
    const [item] = items()
    const r = cli(["review", "retry", item!.id, "--data-dir", dataDir])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain("This command calls fake, which the CLI does not know: pass --config with your app's providers.")
    const bad = cli(["review", "retry", "not-an-item", "--data-dir", dataDir, "--config", config])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('"not-an-item" is not a review item id')
  })

  it("retry looks again: the refund reaches the provider, settles, and leaves the list; the journal says who", () => {
    const item = items().find((i) => i.paymentId === parked.id)!
    const r = cli(["review", "retry", item.id, "--data-dir", dataDir, "--config", config, "--by", "ops@shop", "--note", "provider is back", "--json"])
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ id: parked.id, refundedAmount: 100, reservedAmount: 0 })
    expect(items().some((i) => i.paymentId === parked.id)).toBe(false)
    const history = JSON.parse(cli(["history", parked.id, "--data-dir", dataDir, "--config", config, "--json"]).stdout)
    expect(history.entries.find((e: { event: string }) => e.event === "REVIEW.RETRY")).toMatchObject({ summary: expect.stringContaining('by ops@shop: "provider is back"') })
  })

  it("resolve refuses an outcome that breaks the ceiling (exit 1, nothing written), then settles the unattributed refund as external", () => {
    const before = JSON.parse(cli(["history", held.id, "--data-dir", dataDir, "--config", config, "--json"]).stdout).entries.length
    const inFlight = held.refunds.find((r) => !r.unattributed)!
    const refused = cli(["review", "resolve", `${held.id}/${inFlight.id}`, "--outcome", "succeeded", "--note", "I am sure", "--data-dir", dataDir, "--config", config])
    expect(refused.status).toBe(1)
    expect(refused.stderr).toMatch(/^REFUND_EXCEEDS_REFUNDABLE: /)
    expect(JSON.parse(cli(["history", held.id, "--data-dir", dataDir, "--config", config, "--json"]).stdout).entries.length).toBe(before)

    const r = cli(["review", "resolve", `${held.id}/ua:dash_9`, "--outcome", "succeeded", "--note", "made in the dashboard by support", "--by", "ana", "--data-dir", dataDir, "--config", config])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Resolved as succeeded ${held.id}/ua:dash_9 (by ana).`)
    expect(r.stdout).toMatch(/refund ext_dash_9|dash_9.*external/)
    const after = JSON.parse(cli(["status", held.id, "--data-dir", dataDir, "--json"]).stdout) as PaymentView
    expect(after.refunds.find((x) => x.providerRef === "dash_9")).toMatchObject({ external: true, unattributed: false })
    const last = JSON.parse(cli(["history", held.id, "--data-dir", dataDir, "--config", config, "--json"]).stdout).entries.at(-1)
    expect(last).toMatchObject({ event: "REVIEW.RESOLVE", detail: { outcome: "succeeded", by: "ana", note: "made in the dashboard by support" } })
  })
})
