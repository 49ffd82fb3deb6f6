/**
 * The console in a real browser: Debian's Chromium driven by playwright-core, against the demo's
 * journeys on the sandboxes. A person signs in, filters the list, opens the Craftgate payment that was
 * refunded on its own day (a CANCEL) and sees the refund's path marked on its statechart, watches a
 * OneKey bank refund move while the page stays open, resolves a review item and sees the ledger
 * change. The screenshots in docs/console.md are the ones this test takes.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bank_account, flaggedRefund, paidOnekey, startConsoleWorld, TOKEN, type ConsoleWorld } from "./world.js"

// What the functions handed to page.evaluate see in the browser (this project's type check has no DOM lib).
declare const document: any
declare const window: any
declare const getComputedStyle: (e: any) => any
type Element = any

const CHROMIUM = "/usr/bin/chromium"
const SHOTS = resolve(import.meta.dirname, "../../docs/console")

let w: ConsoleWorld
let browser: BrowserContext
let page: Page
let profile: string

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does).`)
  w = await startConsoleWorld()
  profile = mkdtempSync(join(tmpdir(), "paystate-console-chromium-"))
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    viewport: { width: 1280, height: 900 },
    locale: "en-US",
    timezoneId: "Asia/Tokyo",
  })
  page = browser.pages()[0] ?? (await browser.newPage())
  page.setDefaultTimeout(10_000)
  mkdirSync(SHOTS, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  await w?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
const drawn = () => page.waitForFunction(() => Number(document.documentElement.dataset.diagrams ?? 0) > 0 && document.querySelectorAll("pre.mermaid:not([data-processed])").length === 0)
/** The node of `state` in the statechart of `machine`, as Mermaid drew it. */
const node = (machine: string, state: string, cls: "current" | "visited") => page.locator(`section.chart[data-machine="${machine}"] svg g.node.${cls}[id*="-state-${state}-"]`)

/** WCAG contrast ratio of an element's text colour against its own or nearest opaque background. */
const contrastOf = (selector: string) =>
  page.evaluate((sel) => {
    const el = document.querySelector(sel)
    if (!el) return 0
    const rgb = (s: string) => (s.match(/[\d.]+/g) ?? []).map(Number)
    const lum = ([r, g, b]: number[]) => {
      const c = [r!, g!, b!].map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
      return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!
    }
    let bg: number[] = [255, 255, 255]
    for (let e: Element | null = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor)
      if (c.length === 3 || (c.length === 4 && c[3]! > 0.9)) {
        bg = c.slice(0, 3)
        break
      }
    }
    const a = lum(rgb(getComputedStyle(el).color))
    const b = lum(bg)
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
  }, selector)

describe("the console in Chromium", () => {
  it("sign in, filter, the Craftgate CANCEL path, a OneKey refund live, a review resolved", async () => {
    const cancelPayment = await w.engine.payments.get(w.shown.craftgate![0]!.id)
    expect(cancelPayment.refunds[0]).toMatchObject({ kind: "cancel", details: expect.objectContaining({ refundType: "CANCEL" }) })
    const review = await flaggedRefund(w)
    const live = await paidOnekey(w, 50000)
    const waiting = await w.engine.payments.refund({ paymentId: live.id, amount: 20000, bank_account, idempotencyKey: "console-live-1" })
    const liveRefund = waiting.refunds[0]!
    expect(liveRefund).toMatchObject({ status: "pending", providerStatus: "PENDING", machine: "onekeyRefund" })

    // ---- sign in, by keyboard: the skip link comes first and shows where the focus is
    await page.goto(`${w.url}/payments`)
    await expect.poll(() => page.locator("h1").textContent()).toBe("Sign in")
    await page.keyboard.press("Tab")
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content")
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).toBe("solid")
    await page.locator("input[name=token]").focus()
    await page.keyboard.type(TOKEN)
    await page.keyboard.press("Tab")
    await page.keyboard.type("Ayşe")
    await page.keyboard.press("Enter")
    await page.waitForURL(/\/payments$/)
    expect(await page.locator("header .who").textContent()).toBe("Signed in as Ayşe")

    // ---- the list: every payment, amounts in major units, times in the viewer's zone with UTC on hover
    const rows = page.locator("tbody tr")
    expect(await rows.count()).toBe((await w.engine.payments.list({ perPage: 100 })).data.length)
    const firstTime = page.locator("tbody time").first()
    expect(await firstTime.getAttribute("title")).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/)
    await expect.poll(() => firstTime.textContent()).toMatch(/GMT\+9/)
    for (const sel of ["main p.meta", "a[href$='/review']", "tbody .badge", "button[type=submit]", "h1"]) expect(await contrastOf(sel), sel).toBeGreaterThanOrEqual(4.5)
    await shot("payments")

    await page.selectOption("select[name=provider]", "craftgate")
    await page.selectOption("select[name=status]", "refunded")
    await page.getByRole("button", { name: "Filter" }).click()
    await page.waitForURL(/provider=craftgate/)
    expect(page.url()).toContain("status=refunded")
    const ids = await page.locator("tbody tr td:first-child a").allTextContents()
    expect(ids.sort()).toEqual(w.shown.craftgate!.map((p) => p.id).sort())
    expect(await page.locator("tbody").textContent()).toContain("500.00 TRY")

    // ---- the Craftgate payment refunded on its own day: a CANCEL, its path marked
    await page.getByRole("link", { name: cancelPayment.id }).click()
    await page.waitForURL(new RegExp(`/payments/${cancelPayment.id}$`))
    await drawn()
    const refundRow = page.locator(`#refund-${cancelPayment.refunds[0]!.id}`)
    expect(await refundRow.textContent()).toMatch(/cancel\s+CANCEL/)
    expect(await page.locator("dd[data-k=settled]").textContent()).toBe("500.00 TRY")
    expect(await page.locator("dd[data-k=refundable]").textContent()).toBe("0.00 TRY")
    // The refund machine's path (the lead's refund machines): deciding → cancelling → succeeded.
    const chart = page.locator('section.chart[data-machine="craftgateRefund"]')
    expect(await chart.locator("p.path").textContent()).toBe("Path: deciding → cancelling → succeeded")
    expect(await node("craftgateRefund", "cancelling", "visited").count()).toBe(1)
    expect(await node("craftgateRefund", "deciding", "visited").count()).toBe(1)
    expect(await node("craftgateRefund", "succeeded", "current").count()).toBe(1)
    expect(await node("craftgateRefund", "refunding", "visited").count()).toBe(0)
    expect(await node("craftgate", "refunded", "current").count()).toBe(1)
    expect(await page.locator("ol.timeline").textContent()).toContain("captured.unrefunded → refunded")
    await shot("payment-craftgate-cancel")

    // ---- a OneKey bank refund moves while the page stays open (no reload)
    await page.goto(`${w.url}/payments/${live.id}`)
    await drawn()
    expect(await node("onekeyRefund", "pending", "current").count()).toBe(1)
    await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true))
    expect((await w.control("onekey", `/_sandbox/refunds/${liveRefund.providerRef}/status`, { status: "DELIVERED" })).status).toBe(200)
    await w.settle()
    const delivered = (await w.engine.payments.get(live.id)).refunds[0]!
    expect(delivered).toMatchObject({ state: "delivered", providerStatus: "DELIVERED" })
    await page.waitForFunction((v) => document.getElementById("live")?.dataset.version === String(v), (await w.engine.payments.get(live.id)).version)
    await drawn()
    expect(await node("onekeyRefund", "delivered", "current").count()).toBe(1)
    expect(await node("onekeyRefund", "pending", "visited").count()).toBe(1)
    expect(await page.locator("#live-status").textContent()).toMatch(/Updated live to version \d+/)
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true)
    expect((await w.control("onekey", `/_sandbox/refunds/${liveRefund.providerRef}/status`, { status: "COMPLETED" })).status).toBe(200)
    await w.settle()
    const completed = await w.engine.payments.get(live.id)
    await page.waitForFunction((v) => document.getElementById("live")?.dataset.version === String(v), completed.version)
    await drawn()
    expect(await page.locator("dd[data-k=settled]").textContent()).toBe("200.00 MXN")
    expect(await node("onekeyRefund", completed.refunds[0]!.state!, "current").count()).toBe(1)
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true)
    await shot("payment-onekey-live")

    // ---- the review queue: resolve the refund whose polls ran out; the ledger follows
    await page.goto(`${w.url}/review`)
    const item = page.locator(`article[data-item="${review.itemId}"]`)
    expect(await item.textContent()).toContain("120.00 MXN")
    await shot("review")
    await item.locator("input[value=succeeded]").check()
    await item.locator("form[action$='/review/resolve'] input[name=note]").fill("bank statement 2026-03 shows it paid")
    await item.getByRole("button", { name: "Resolve" }).click()
    await page.waitForURL(new RegExp(`/payments/${review.payment.id}\\?notice=resolved-succeeded`))
    expect(await page.locator("p.notice").textContent()).toContain("Resolved as succeeded")
    expect(await page.locator("dd[data-k=settled]").textContent()).toBe("120.00 MXN")
    expect(await page.locator("dd[data-k=reserved]").textContent()).toBe("0.00 MXN")
    expect(await page.locator("ol.timeline li").first().textContent()).toMatch(/REVIEW\.RESOLVE[\s\S]*by Ayşe \(review\)/)
    const after = await w.engine.payments.get(review.payment.id)
    expect(after.refunds.at(-1)).toMatchObject({ status: "succeeded", needsReview: false })
    expect((await w.engine.review.list()).some((i) => i.id === review.itemId)).toBe(false)

    // ---- a narrow window: one column, nothing wider than the screen
    await page.setViewportSize({ width: 400, height: 900 })
    await page.goto(`${w.url}/payments/${cancelPayment.id}`)
    await drawn()
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true)
    await shot("payment-narrow")
    await page.goto(`${w.url}/payments`)
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true)
    await page.setViewportSize({ width: 1280, height: 900 })
  })
})
