/**
 * Craftgate webhook hardening (issue 13 item 4) through `engine.webhooks.handle`: a freshness window
 * on `eventTimestamp` (numeric only), the shape of every signed field checked before the HMAC so a
 * genuine signature cannot be re-cut into another event, headers read one value each (a repeated
 * signature header refused). Every refusal is WEBHOOK_REJECTED and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { craftgateWebhookSignature, parseWebhook, signCraftgateWebhook } from "../../adapters/providers/craftgate/index.js"
import { Effect } from "effect"
import { istanbul, pay, rejects, startWorld, txIds, type World } from "./helpers.js"

let world: World
beforeAll(async () => {
  world = await startWorld()
  world.engine = world.newEngine()
  await world.control("/_sandbox/webhook-url", { url: null })
})
afterAll(() => world.close())

const engine = () => world.engine!
const key = () => world.sandbox.credentials.webhookKey
const nowS = () => Math.floor(world.clock.now().getTime() / 1000)
const header = "x-cg-signature-v1"

/** A delivery whose body is `body` verbatim, signed over `fields` (by default the body's own fields). */
const raw = (body: Record<string, unknown>, fields: Record<string, unknown> = body, headers?: Record<string, unknown>) => ({
  headers: headers ?? { "content-type": "application/json", [header]: craftgateWebhookSignature(key(), fields as never) },
  rawBody: JSON.stringify(body),
})

/** A WAITING transaction refund at Craftgate that succeeded since: a genuine REFUND_TX settles it. */
const settledAtCraftgate = async () => {
  const p = await pay(world, istanbul("2026-11-23T10:00"))
  await world.control("/_sandbox/refunds/next-status", { status: "WAITING" })
  const v = await engine().payments.refund({ paymentId: p.id, amount: 500, paymentTransactionId: txIds(p)[0] })
  const id = v.refunds[0]!.details.transactionRefundId as number
  await world.control(`/_sandbox/refund-transactions/${id}/succeed`)
  return { p, id }
}

/** Handles every delivery, expects WEBHOOK_REJECTED for each, and that the journal did not grow. */
const refusedAll = async (deliveries: readonly { headers: Record<string, unknown>; rawBody: string | Uint8Array }[], reason?: string) => {
  const before = (await engine().store.allJournal()).length
  for (const d of deliveries) {
    const e = await rejects(engine().webhooks.handle("craftgate", d as never), "WEBHOOK_REJECTED")
    if (reason) expect((e.details as { reason?: string }).reason, e.message).toBe(reason)
  }
  expect((await engine().store.allJournal()).length).toBe(before)
}

describe("Craftgate webhook freshness", () => {
  it("refuses a genuinely signed delivery older or newer than webhookToleranceSeconds (default 300 s); a fresh one is processed", async () => {
    const { p, id } = await settledAtCraftgate()
    const at = (s: number) => signCraftgateWebhook(key(), { eventType: "REFUND_TX", eventTimestamp: s, status: "SUCCESS", payloadId: String(id) })
    await refusedAll([at(nowS() - 301), at(nowS() - 2 * 365 * 86400)], "stale")
    await refusedAll([at(nowS() + 301)], "future")
    // Nothing refused above was remembered: the fresh delivery is not taken for a duplicate.
    expect(await engine().webhooks.handle("craftgate", at(nowS() - 299))).toEqual({ status: "processed", paymentIds: [p.id] })
    expect((await engine().payments.get(p.id)).refunds[0]).toMatchObject({ status: "succeeded" })
  })

  it("takes the window from the configuration, and judges it by the configured clock", async () => {
    const strict = world.newEngine({ adapter: { webhookToleranceSeconds: 10 } })
    try {
      const h = signCraftgateWebhook(key(), { eventType: "PAYOUT_COMPLETED", eventTimestamp: nowS() - 11, status: "SUCCESS", payloadId: "5" })
      await rejects(strict.webhooks.handle("craftgate", h), "WEBHOOK_REJECTED")
      const ok = signCraftgateWebhook(key(), { eventType: "PAYOUT_COMPLETED", eventTimestamp: nowS() - 9, status: "SUCCESS", payloadId: "5" })
      expect(await strict.webhooks.handle("craftgate", ok)).toEqual({ status: "ignored", paymentIds: [] })
    } finally {
      await strict.close()
    }
    expect(() => world.newEngine({ adapter: { webhookToleranceSeconds: -1 } })).toThrow(/webhookToleranceSeconds/)
  })

  it("accepts only a numeric eventTimestamp (epoch seconds, digits)", async () => {
    const base = { eventType: "REFUND_TX", status: "SUCCESS", payloadId: "1" }
    const iso = new Date(world.clock.now()).toISOString()
    await refusedAll(
      [
        raw({ ...base, eventTimestamp: iso }),
        raw({ ...base, eventTimestamp: `${nowS()}.5` }),
        raw({ ...base, eventTimestamp: nowS() + 0.5 }),
        raw({ ...base, eventTimestamp: -nowS() }),
        raw({ ...base, eventTimestamp: `${nowS()}e0` }),
        raw({ ...base, eventTimestamp: ` ${nowS()}` }),
        raw({ ...base, eventTimestamp: null }),
        raw({ ...base }),
      ],
      "bad_fields",
    )
  })
})

describe("Craftgate webhook fields: the shifted-field re-cut", () => {
  it("refuses every re-cut of a genuine signature, although its HMAC matches", async () => {
    const { p, id } = await settledAtCraftgate()
    const genuine = { eventType: "REFUND_TX", eventTimestamp: String(nowS()), status: "SUCCESS", payloadId: String(id) }
    const signature = craftgateWebhookSignature(key(), genuine)
    const ts = genuine.eventTimestamp
    const pid = genuine.payloadId
    // Each re-cut concatenates to the same string as the genuine event, so the HMAC matches.
    const recuts = [
      { eventType: "REFUND_TX", eventTimestamp: ts, status: `SUCCESS${pid.slice(0, 1)}`, payloadId: pid.slice(1) },
      { eventType: "REFUND_TX", eventTimestamp: ts.slice(0, -1), status: `${ts.slice(-1)}SUCCESS`, payloadId: pid },
      { eventType: "REFUND", eventTimestamp: `_TX${ts}`, status: "SUCCESS", payloadId: pid },
      { eventType: `REFUND_TX${ts.slice(0, 1)}`, eventTimestamp: ts.slice(1), status: "SUCCESS", payloadId: pid },
      { eventType: "REFUND_TX", eventTimestamp: ts, status: "SUCCES", payloadId: `S${pid}` },
      { eventType: "REFUND_TX", eventTimestamp: `${ts}SUCCESS${pid}`, status: "", payloadId: "" },
    ]
    for (const r of recuts) expect(craftgateWebhookSignature(key(), r)).toBe(signature)
    await refusedAll(recuts.map((r) => ({ headers: { [header]: signature }, rawBody: JSON.stringify(r) })), "bad_fields")
    // The genuine one goes through.
    expect(await engine().webhooks.handle("craftgate", { headers: { [header]: signature }, rawBody: JSON.stringify(genuine) })).toEqual({ status: "processed", paymentIds: [p.id] })
  })

  it("refuses an event type outside Craftgate's set, another status, a payloadId that is not digits", async () => {
    const f = { eventTimestamp: nowS() }
    await refusedAll(
      [
        raw({ ...f, eventType: "REFUND_TXX", status: "SUCCESS", payloadId: "1" }),
        raw({ ...f, eventType: "refund_tx", status: "SUCCESS", payloadId: "1" }),
        raw({ ...f, eventType: "REFUND_TX", status: "WAITING", payloadId: "1" }),
        raw({ ...f, eventType: "REFUND_TX", status: "SUCCESS", payloadId: "1e3" }),
        raw({ ...f, eventType: "REFUND_TX", status: "SUCCESS", payloadId: "../1" }),
        raw({ ...f, eventType: "REFUND_TX", status: "SUCCESS", payloadId: -1 }),
        raw({ ...f, eventType: "REFUND_TX", status: "SUCCESS", payloadId: "" }),
      ],
      "bad_fields",
    )
  })

  it("refuses bodies that are not one JSON object of a few hundred bytes", async () => {
    const h = { [header]: "x" }
    await refusedAll([
      { headers: h, rawBody: "[]" },
      { headers: h, rawBody: "null" },
      { headers: h, rawBody: "{" },
      { headers: h, rawBody: JSON.stringify({ eventType: "REFUND_TX", eventTimestamp: nowS(), status: "SUCCESS", payloadId: "1", pad: "x".repeat(70_000) }) },
      { headers: h, rawBody: new Uint8Array([0xff, 0xfe, 0x00]) },
    ])
    await rejects(engine().webhooks.handle("craftgate", { headers: h, rawBody: { eventType: "REFUND_TX" } } as never), "WEBHOOK_REJECTED")
  })
})

describe("Craftgate webhook headers", () => {
  it("refuses a repeated, array-valued, non-string or missing signature header", async () => {
    const { id } = await settledAtCraftgate()
    const good = signCraftgateWebhook(key(), { eventType: "REFUND_TX", eventTimestamp: nowS(), status: "SUCCESS", payloadId: String(id) })
    const sig = good.headers[header]!
    const forged = craftgateWebhookSignature("not-the-key", JSON.parse(good.rawBody))
    await refusedAll(
      [
        { headers: { [header]: [sig, forged] }, rawBody: good.rawBody },
        { headers: { [header]: [forged, sig] }, rawBody: good.rawBody },
        { headers: { [header]: sig, "X-CG-Signature-V1": forged }, rawBody: good.rawBody },
        { headers: { [header]: sig, "X-CG-SIGNATURE-V1": sig }, rawBody: good.rawBody },
        { headers: { [header]: 12345 }, rawBody: good.rawBody },
      ],
      "bad_header",
    )
    await refusedAll([{ headers: {}, rawBody: good.rawBody }, { headers: { [header]: [] }, rawBody: good.rawBody }], "no_signature")
    await rejects(engine().webhooks.handle("craftgate", { headers: null, rawBody: good.rawBody } as never), "WEBHOOK_REJECTED")
    // One value, in an array or in any case of the name, is the header.
    expect(await engine().webhooks.handle("craftgate", { headers: { "X-Cg-Signature-V1": [sig] }, rawBody: good.rawBody })).toMatchObject({ status: "processed" })
  })

  it("refuses a valid signature over other fields (the signature is of the fields as sent)", async () => {
    const good = signCraftgateWebhook(key(), { eventType: "REFUND_TX", eventTimestamp: nowS(), status: "SUCCESS", payloadId: "77" })
    await refusedAll([{ headers: good.headers, rawBody: good.rawBody.replace('"77"', '"78"') }], "bad_signature")
  })

  it("parseWebhook answers WEBHOOK_REJECTED, never a raw error, for any request shape", async () => {
    const shapes: unknown[] = [undefined, null, {}, { headers: {} }, { rawBody: 5 }, { headers: "x", rawBody: "{}" }, { headers: { [header]: "a" }, rawBody: JSON.stringify({ __proto__: { x: 1 } }) }]
    for (const s of shapes) {
      const exit = await Effect.runPromise(Effect.exit(parseWebhook(s as never, { webhookKey: key() })))
      expect(exit._tag).toBe("Failure")
      const e = await Effect.runPromise(Effect.flip(parseWebhook(s as never, { webhookKey: key() })))
      expect(e.code).toBe("WEBHOOK_REJECTED")
    }
  })
})
