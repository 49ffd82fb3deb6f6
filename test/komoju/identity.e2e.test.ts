/**
 * KOMOJU refund identity and recovery through the engine, against the sandbox over HTTP, on memory,
 * PGlite and PostgreSQL: two in-flight refunds of the same amount (one never performed, one performed
 * with its answer lost) whose webhook reaches a second engine first; lookups that answer 404 and 500;
 * a five-minute outage; retries that send the same bytes; the idempotent replay as a lookup. Each
 * ends with the library's ledger equal to KOMOJU's, refund by refund.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import type { Engine } from "../../src/engine.js"
import { isPaystateError } from "../../src/errors.js"
import type { PaymentView } from "../../src/types.js"
import { DETAILS } from "./seeds.js"
import { cleanupDirs, notePostgresSkip, refundIdOfCause, startShared, storeKinds, type SharedWorld } from "./world.js"

afterAll(cleanupDirs)
notePostgresSkip()

const create = (e: Engine, method = "credit_card", extra: Record<string, unknown> = {}) =>
  e.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: DETAILS[method], ...extra })

/** The call fails with PROVIDER_UNAVAILABLE (outcome unknown), never a refusal. */
const unavailable = async (p: Promise<unknown>): Promise<void> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(isPaystateError(e, "PROVIDER_UNAVAILABLE"), String(e)).toBe(true)
}

/**
 * The library's ledger equals KOMOJU's refund by refund: every KOMOJU refund is on exactly one entry,
 * with its amount and status, and that entry is the paystate refund whose idempotency key made it;
 * every entry not failed is a KOMOJU refund; no key moved money twice.
 */
const expectAgree = async (w: SharedWorld, v: PaymentView): Promise<void> => {
  const k = await w.show(v.providerRef!)
  const moves = w.movements(v.providerRef!).filter((m) => m.type === "refund")
  for (const r of k.refunds as any[]) {
    const mine = v.refunds.filter((e) => e.providerRef === r.id)
    expect(mine, `KOMOJU refund ${r.id}`).toHaveLength(1)
    expect(mine[0]).toMatchObject({ amount: r.amount, status: r.status === "completed" ? "succeeded" : "pending", unattributed: false, external: false })
    const m = moves.find((x) => x.refundId === r.id)
    expect(refundIdOfCause(v.id, m.cause)).toBe(mine[0]!.id)
  }
  expect(v.refunds.filter((e) => e.status !== "failed").map((e) => e.providerRef).sort()).toEqual((k.refunds as any[]).map((r) => r.id).sort())
  expect(new Set(moves.map((m) => m.cause)).size).toBe(moves.length)
  const completed = (k.refunds as any[]).filter((r) => r.status === "completed").reduce((s, r) => s + r.amount, 0)
  const pending = (k.refunds as any[]).filter((r) => r.status === "pending").reduce((s, r) => s + r.amount, 0)
  expect(v.refundedAmount).toBe(completed)
  expect(v.reservedAmount).toBe(pending)
  expect(v.unattributedAmount).toBe(0)
}

describe.each(storeKinds("ident"))("refund identity on $name", ({ make }) => {
  let w: SharedWorld
  beforeAll(async () => {
    w = await startShared({ store: make(), engine: { retryWindowMs: 7 * 24 * 3_600_000 } })
  })
  afterAll(() => w?.close())

  test.each(["unperformed first", "performed first"] as const)(
    "two in-flight refunds of one amount (%s), the performed one's webhook at a second engine before any answer: each lands on its own refund",
    async (order) => {
      w.clearFaults()
      w.routeWebhooks(1)
      const p = await create(w.engines[0]!)
      await w.settle()
      const path = `/api/v1/payments/${p.providerRef}/refund`
      const unperformed = async () => {
        // Every attempt hangs and is never performed.
        w.fault(path, "timeout", 3)
        await unavailable(w.engines[0]!.payments.refund({ paymentId: p.id, amount: 300 }))
      }
      const performed = async () => {
        // Performed; every answer (the replays of the client's own retries too) is lost.
        w.fault(path, "drop_response", 3)
        await unavailable(w.engines[0]!.payments.refund({ paymentId: p.id, amount: 300 }))
      }
      if (order === "unperformed first") {
        await unperformed()
        await performed()
      } else {
        await performed()
        await unperformed()
      }
      await w.settle()
      const moves = w.movements(p.providerRef!).filter((m) => m.type === "refund")
      expect(moves).toHaveLength(1)
      const performedId = refundIdOfCause(p.id, moves[0].cause)
      // The second engine learnt of the performed refund from its webhook alone, by paystate's id.
      const mid = await w.engines[1]!.payments.get(p.id)
      expect(mid.refunds.map((r) => [r.id === performedId, r.status, r.providerRef === moves[0].refundId])).toEqual(
        order === "unperformed first"
          ? [
              [false, "requested", false],
              [true, "succeeded", true],
            ]
          : [
              [true, "succeeded", true],
              [false, "requested", false],
            ],
      )
      expect(mid).toMatchObject({ refundedAmount: 300, reservedAmount: 300, unattributedAmount: 0 })
      w.clearFaults()
      await w.recover(0)
      await w.settle()
      const v = await w.engines[0]!.payments.get(p.id)
      expect(v.refunds.map((r) => r.status)).toEqual(["succeeded", "succeeded"])
      expect(w.movements(p.providerRef!).filter((m) => m.type === "refund")).toHaveLength(2)
      await expectAgree(w, v)
      expect(await w.engines[1]!.payments.get(p.id)).toMatchObject({ refundedAmount: 600, reservedAmount: 0 })
    },
  )

  test("a lookup answering 404 and then 500 during recovery fails nothing: still reserved, settled once it works", async () => {
    w.clearFaults()
    w.routeWebhooks(null)
    const p = await create(w.engines[0]!)
    w.fault(`/api/v1/payments/${p.providerRef}/refund`, "drop_response", 3)
    await unavailable(w.engines[0]!.payments.refund({ paymentId: p.id, amount: 400 }))
    const lookupPath = `/api/v1/payments/${p.providerRef}`
    w.proxy.override = (r) => (r.method === "GET" && r.path === lookupPath ? { status: 404, body: { error: { code: "not_found", message: "The requested payment could not be found", param: "id" } } } : undefined)
    await w.recover(0, 310_000)
    let v = await w.engines[1]!.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "requested", providerRef: null })
    expect(v).toMatchObject({ reservedAmount: 400, refundedAmount: 0, refundableAmount: 700 })
    w.proxy.override = undefined
    w.fault(lookupPath, "error500", 10, "GET")
    await w.recover(1, 310_000)
    v = await w.engines[0]!.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "requested" })
    expect(v.reservedAmount).toBe(400)
    w.clearFaults()
    await w.recover(1, 310_000)
    v = await w.engines[0]!.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", amount: 400 })
    await expectAgree(w, v)
    expect(await w.engines[0]!.review.list()).toEqual([])
  })

  test("a status poll answering 404 and 500 never fails a pending cash refund", async () => {
    w.clearFaults()
    w.routeWebhooks(null)
    const p = await create(w.engines[0]!, "konbini")
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    await w.engines[0]!.payments.sync(p.id)
    const r = await w.engines[0]!.payments.refund({ paymentId: p.id, amount: 500 })
    expect(r.refunds[0]).toMatchObject({ status: "pending" })
    const lookupPath = `/api/v1/payments/${p.providerRef}`
    w.proxy.override = (q) => (q.method === "GET" && q.path === lookupPath ? { status: 404, body: { error: { code: "not_found", message: "not found", param: "id" } } } : undefined)
    w.clock.advance(3_600_000)
    await w.engines[0]!.runDueTimers()
    expect((await w.engines[0]!.payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending", reason: null })
    w.proxy.override = undefined
    w.fault(lookupPath, "error500", 10, "GET")
    await w.recover(0, 310_000)
    expect((await w.engines[0]!.payments.get(p.id)).refunds[0]).toMatchObject({ status: "pending" })
    w.clearFaults()
    await w.control(`/_sandbox/refunds/${r.refunds[0]!.providerRef}/complete`)
    await w.recover(0, 310_000)
    const v = await w.engines[0]!.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded" })
    await expectAgree(w, v)
  })

  test("a five-minute outage parks nothing; once KOMOJU answers, everything settles", async () => {
    w.clearFaults()
    w.routeWebhooks(0)
    const p = await create(w.engines[0]!)
    const refundPath = `/api/v1/payments/${p.providerRef}/refund`
    // One performed with its answer lost as the outage starts, then nothing answers for five minutes.
    w.fault(refundPath, "drop_response", 3)
    await unavailable(w.engines[0]!.payments.refund({ paymentId: p.id, amount: 200 }))
    w.fault(refundPath, "timeout", 3)
    await unavailable(w.engines[1]!.payments.refund({ paymentId: p.id, amount: 200 }))
    w.fault(refundPath, "error500", 1000)
    w.fault(`/api/v1/payments/${p.providerRef}`, "error500", 1000, "GET")
    await unavailable(w.engines[0]!.payments.refund({ paymentId: p.id, amount: 200 }))
    await unavailable(w.engines[1]!.payments.refund({ paymentId: p.id, amount: 200 }))
    for (let t = 0; t < 10; t++) await w.recover(t % 2, 30_000)
    const during = await w.engines[0]!.payments.get(p.id)
    expect(during.reservedAmount + during.refundedAmount).toBe(800)
    expect(await w.store.outbox(p.id, "parked")).toEqual([])
    expect(await w.engines[0]!.review.list()).toEqual([])
    w.clearFaults()
    await w.recover(1, 310_000)
    await w.settle()
    const v = await w.engines[0]!.payments.get(p.id)
    expect(v.refunds.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"])
    await expectAgree(w, v)
    expect(await w.store.outbox(p.id, "pending")).toEqual([])
    expect(await w.store.outbox(p.id, "parked")).toEqual([])
  })
})

describe.each(storeKinds("bytes", ["pglite", "postgres"]))("exact retries on $name", ({ make }) => {
  let w: SharedWorld
  beforeAll(async () => {
    w = await startShared({ store: make(), engine: { retryWindowMs: 7 * 24 * 3_600_000 } })
    w.routeWebhooks(null)
  })
  afterAll(() => w?.close())

  const posts = (path: string, key?: string) => w.proxy.requests.filter((r) => r.method === "POST" && r.path === path && (key === undefined || r.idempotencyKey === key))

  test("a create re-sent from the stored payload (another engine, jsonb key order) sends the first bytes", async () => {
    w.clearFaults()
    w.fault("/api/v1/payments", "error500", 3)
    const order = `bytes-${Date.now()}`
    // Keys whose jsonb order (shorter first) differs from the order they were written in.
    const metadata = { a_rather_long_metadata_key: "1", b: "2", cc: "3" }
    const e = await create(w.engines[0]!, "konbini", { externalOrderNum: order, metadata }).then(
      () => undefined,
      (x: unknown) => x,
    )
    expect(isPaystateError(e, "PROVIDER_UNAVAILABLE")).toBe(true)
    await w.restart(0)
    await w.recover(1, 310_000)
    const sent = posts("/api/v1/payments").filter((r) => r.body.includes(order))
    expect(sent.length).toBe(4)
    expect(new Set(sent.map((r) => r.idempotencyKey)).size).toBe(1)
    expect(new Set(sent.map((r) => r.body)).size).toBe(1)
    const list = w.sandbox.book.list(new URLSearchParams({ external_order_num: order }))
    expect(list.total).toBe(1)
  })

  test("a refund request re-sent after 500s sends the first bytes, and a different body under the same key is no refusal", async () => {
    w.clearFaults()
    const p = await create(w.engines[0]!, "konbini")
    await w.control(`/_sandbox/payments/${p.providerRef}/pay`)
    await w.engines[0]!.payments.sync(p.id)
    const path = `/api/v1/payments/${p.providerRef}/refund_request`
    w.fault(path, "error500", 3)
    const bank = { customer_name: "John Doe", bank_code: "1234", bank_name: "KOMOJU BANK", branch_number: "123", branch_name: "KOMOJU BRANCH", account_type: "normal", account_number: "1234567", include_payment_method_fee: false }
    await unavailable(w.engines[0]!.payments.refundRequest({ paymentId: p.id, amount: 300, description: "goodwill", ...bank }))
    await w.recover(1, 310_000)
    const sent = posts(path)
    expect(sent.length).toBe(4)
    expect(new Set(sent.map((r) => r.body)).size).toBe(1)
    const v = await w.engines[0]!.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ kind: "refund_request", status: "pending" })
    const k = await w.show(p.providerRef!)
    expect(k.refund_requests).toHaveLength(1)
    expect(k.refund_requests[0].description).toBe(`goodwill [paystate:${v.refunds[0]!.id}]`)

    // KOMOJU's answer to the same key with another body is about the key, not the operation.
    const row = await w.store.load(p.id)
    const effect = { id: `${p.id}/x`, paymentId: p.id, provider: "komoju", opId: "rf_mismatch", op: "refund_request", payload: { amount: 100, ...bank }, idempotencyKey: sent[0]!.idempotencyKey!, attempt: 2, createdAt: new Date().toISOString(), at: new Date().toISOString() }
    const { Effect } = await import("effect")
    const out = await Effect.runPromise(w.adapter.execute(effect, row!.snapshot.context as never)).then(
      () => undefined,
      (x: unknown) => x,
    )
    expect(isPaystateError(out, "PROVIDER_UNAVAILABLE"), String(out)).toBe(true)
    expect((await w.show(p.providerRef!)).refund_requests).toHaveLength(1)
  })

  test("the idempotent replay is the lookup while the key lives; after it, a refund KOMOJU shows without our id cannot tell", async () => {
    w.clearFaults()
    const p = await create(w.engines[0]!)
    const path = `/api/v1/payments/${p.providerRef}/refund`
    const lookup = `/api/v1/payments/${p.providerRef}`
    // A lookup that shows no description: no refund at KOMOJU can be told to be ours or not.
    w.proxy.rewrite = (r, json) => (r.method === "GET" && r.path === lookup ? { ...json, refunds: json.refunds.map((x: any) => ({ ...x, description: null })) } : json)
    w.fault(path, "drop_response", 3)
    await unavailable(w.engines[0]!.payments.refund({ paymentId: p.id, amount: 250 }))
    await w.recover(1, 310_000)
    let v = await w.engines[0]!.payments.get(p.id)
    expect(v.refunds[0]).toMatchObject({ status: "succeeded", amount: 250 })
    // The replay carried the first bytes under the first key, and KOMOJU answered the first response.
    const first = posts(path)
    expect(new Set(first.map((r) => r.body)).size).toBe(1)
    expect(first.length).toBe(4)
    expect(w.movements(p.providerRef!).filter((m) => m.type === "refund")).toHaveLength(1)

    w.fault(path, "drop_response", 3)
    await unavailable(w.engines[0]!.payments.refund({ paymentId: p.id, amount: 250 }))
    w.clock.advance(25 * 3_600_000)
    await w.recover(1, 310_000)
    v = await w.engines[0]!.payments.get(p.id)
    expect(v.refunds[1]).toMatchObject({ status: "requested", providerRef: null })
    expect(v.reservedAmount).toBe(250)
    expect(posts(path).length).toBe(7)
    w.proxy.rewrite = undefined
    await w.recover(1, 310_000)
    v = await w.engines[0]!.payments.get(p.id)
    expect(v.refunds.map((r) => r.status)).toEqual(["succeeded", "succeeded"])
    await expectAgree(w, v)
  })
})

describe("card data after a restart", () => {
  let w: SharedWorld
  beforeAll(async () => {
    w = await startShared({ store: storeKinds("card", ["memory"])[0]!.make() })
    w.routeWebhooks(null)
  })
  afterAll(() => w?.close())

  test("a card create never performed is not failed while KOMOJU may still be processing it; then CARD_DATA_UNAVAILABLE, never re-sent from the store", async () => {
    w.fault("/api/v1/payments", "timeout", 3)
    const order = `card-gone-${Date.now()}`
    const e = await create(w.engines[0]!, "credit_card", { externalOrderNum: order }).then(
      () => undefined,
      (x: unknown) => x,
    )
    expect(isPaystateError(e, "PROVIDER_UNAVAILABLE")).toBe(true)
    const id = (e as { details: { paymentId: string } }).details.paymentId
    await w.restart(0)
    w.clearFaults()
    const posts = () => w.proxy.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/payments").length
    const sent = posts()
    await w.recover(1, 60_000)
    expect((await w.engines[1]!.payments.get(id)).status).toBe("pending")
    await w.recover(1, 300_000)
    const v = await w.engines[1]!.payments.get(id)
    expect(v.status).toBe("failed")
    expect(JSON.stringify(await w.engines[1]!.payments.history(id))).toContain("CARD_DATA_UNAVAILABLE")
    expect(posts()).toBe(sent)
    expect(w.sandbox.book.list(new URLSearchParams({ external_order_num: order })).total).toBe(0)
  })

  test("the same create with its card data still in memory is re-sent and captured", async () => {
    w.fault("/api/v1/payments", "error500", 3)
    const e = await create(w.engines[0]!, "credit_card").then(
      () => undefined,
      (x: unknown) => x,
    )
    const id = (e as { details: { paymentId: string } }).details.paymentId
    await w.recover(0, 5_000)
    expect((await w.engines[0]!.payments.get(id)).status).toBe("captured")
  })
})
