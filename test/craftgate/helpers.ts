/**
 * Shared setup of the Craftgate tests: a sandbox on 127.0.0.1, a webhook receiver that hands each
 * delivery to the engine under test, a manual clock moved together with the sandbox clock, and small
 * helpers for the sandbox's control API and signed direct calls.
 */
import { Effect } from "effect"
import { expect } from "vitest"
import { craftgate, craftgateHeaders, make, startCraftgateSandbox, type CraftgateAdapterConfig, type CraftgateSandboxOptions, type RunningCraftgateSandbox } from "../../adapters/providers/craftgate/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock, type ManualClock } from "../../src/clock.js"
import { createEngine, type Engine, type EngineOptions } from "../../src/engine.js"
import type { PaystateError } from "../../src/errors.js"
import type { Store } from "../../src/store.js"
import { startWebhookReceiver, type WebhookReceiver } from "../../src/testing/webhook-receiver.js"
import type { PaymentView } from "../../src/types.js"

/** A card the sandbox accepts. */
export const card = { cardHolderName: "Haluk Demir", cardNumber: "5258640000000001", expireYear: "2044", expireMonth: "07", cvc: "000" }
/** A card the sandbox declines (10051). */
export const declinedCard = { ...card, cardNumber: "5258640000000002" }
/** Two items: Book 30.00 and Pen 20.00 TRY. */
export const items = [
  { name: "Book", price: 3000, externalId: "b1" },
  { name: "Pen", price: 2000, externalId: "p1" },
]

/** An instant given as Istanbul wall-clock time (UTC+3, no DST), e.g. istanbul("2026-11-23T23:59"). */
export const istanbul = (local: string): string => new Date(`${local}:00+03:00`).toISOString()

/** A ledger movement of the sandbox. */
export interface Movement {
  readonly seq: number
  readonly type: string
  readonly paymentId: string
  readonly refundId?: string
  readonly paymentTransactionId?: number
  readonly amount: number
  readonly cause: string
  /** The conversationId of the refund record that moved the money (also when a control call settled it). */
  readonly conversationId?: string | null
  readonly destination?: string
  readonly chargeFromMe?: boolean
}

/** A sandbox, a receiver, a clock and (once set) the engine the receiver feeds. */
export interface World {
  sandbox: RunningCraftgateSandbox
  receiver: WebhookReceiver
  clock: ManualClock
  engine: Engine | undefined
  /** Moves the engine clock and the sandbox clock together. */
  setTime(iso: string): Promise<void>
  /** POST to the sandbox's control API. */
  control(path: string, body?: unknown): Promise<{ status: number; body: any }>
  /** A signed call to the sandbox's Craftgate API. */
  api(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: any }>
  ledger(): Promise<Movement[]>
  /** Waits until every webhook sent so far was handled. */
  settle(): Promise<void>
  /** An engine on a memory store (or the given one) wired to the sandbox and the receiver. */
  newEngine(opts?: { store?: Store; adapter?: Partial<CraftgateAdapterConfig>; engine?: Partial<EngineOptions> }): Engine
  close(): Promise<void>
}

/** Starts the world at `start` (engine and sandbox clocks). */
export const startWorld = async (start = "2026-11-23T09:00:00.000Z", options: CraftgateSandboxOptions = {}): Promise<World> => {
  const world = {} as World
  world.engine = undefined
  world.clock = manualClock(start)
  world.receiver = await startWebhookReceiver(() => world.engine)
  world.sandbox = await startCraftgateSandbox({ webhookUrl: `${world.receiver.url}/webhooks/craftgate`, ...options })
  await world.sandbox.kernel.setClock(new Date(start))
  world.setTime = async (iso) => {
    world.clock.set(iso)
    await world.sandbox.kernel.setClock(new Date(iso))
  }
  world.control = async (path, body = {}) => {
    const res = await fetch(world.sandbox.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    return { status: res.status, body: await res.json().catch(() => undefined) }
  }
  world.api = async (method, path, body) => {
    const url = world.sandbox.url + path
    const text = body === undefined ? "" : JSON.stringify(body)
    const res = await fetch(url, { method, headers: craftgateHeaders(url, text, world.sandbox.credentials), ...(body === undefined ? {} : { body: text }) })
    return { status: res.status, body: await res.json().catch(() => undefined) }
  }
  world.ledger = async () => ((await (await fetch(`${world.sandbox.url}/_sandbox/ledger`)).json()) as { movements: Movement[] }).movements
  world.settle = () => world.sandbox.kernel.settled()
  world.newEngine = (opts = {}) =>
    createEngine({
      store: opts.store ?? memoryStore(),
      // The adapter judges webhook freshness by the engine's clock, which the sandbox's moves with.
      providers: { craftgate: craftgate({ baseUrl: world.sandbox.url, ...world.sandbox.credentials, timeoutMs: 1500, retries: 1, backoffMs: 5, clock: world.clock, ...opts.adapter }) },
      clock: world.clock,
      backgroundIntervalMs: 0,
      onError: () => {},
      ...opts.engine,
    })
  world.close = async () => {
    await world.engine?.close()
    await world.sandbox.close()
    await world.receiver.close()
  }
  return world
}

/** A signed client for direct calls to the world's sandbox. */
export const clientOf = (world: World) => make({ baseUrl: world.sandbox.url, ...world.sandbox.credentials, timeoutMs: 1500, backoffMs: 5 })

/** Runs a client effect. */
export const run = <A>(e: Effect.Effect<A, PaystateError>) => Effect.runPromise(e)

/** Creates a captured card payment of the two default items at `at` (both clocks). */
export const pay = async (world: World, at: string, engine: Engine = world.engine!, extra: Record<string, unknown> = {}): Promise<PaymentView> => {
  await world.setTime(at)
  const p = await engine.payments.create({ provider: "craftgate", amount: 5000, currency: "TRY", card, items, ...extra })
  expect(p).toMatchObject({ status: extra.paymentPhase === "PRE_AUTH" ? "authorized" : "captured", providerRef: expect.stringMatching(/^\d+$/) })
  return p
}

/** The payment's transaction ids, in item order. */
export const txIds = (p: { details: Record<string, unknown> }): string[] => (p.details.transactions as { id: string }[]).map((t) => t.id)

/** Refunds and cancels the sandbox performed for a Craftgate payment id. */
export const refundsAt = (movements: readonly Movement[], providerRef: string | null): Movement[] =>
  movements.filter((m) => m.paymentId === providerRef && (m.type === "refund" || m.type === "cancel"))

/** The sum of refund and cancel movements for a payment. */
export const refundedAt = (movements: readonly Movement[], providerRef: string | null): number => refundsAt(movements, providerRef).reduce((s, m) => s + m.amount, 0)

/** Expects a promise to fail with a PaystateError of the given code; returns the error. */
export const rejects = async (p: Promise<unknown>, code: string): Promise<PaystateError> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err as PaystateError,
  )
  expect(e, `expected ${code}`).toBeDefined()
  expect(e!.code).toBe(code)
  return e!
}

/** The sandbox movements (refundId `tx:<id>` or the CANCEL's id) a library refund stands for, by its providerRef. */
export const movementIdsOf = (providerRef: string | null | undefined): string[] => {
  if (!providerRef) return []
  if (providerRef.startsWith("tx:")) return providerRef.slice(3).split(",").map((id) => `tx:${id}`)
  if (providerRef.startsWith("txr:")) return [`tx:${providerRef.slice(4)}`]
  return /^\d+$/.test(providerRef) ? [providerRef] : []
}

/**
 * The library's ledger equals the sandbox's, refund by refund: every money movement Craftgate made
 * for the payment is named by exactly one refund that holds money (succeeded), by Craftgate's id; a
 * paystate refund's movements carry its own conversationId (`ps-<paymentId>-<refundId>`); an
 * external refund's carry none of paystate's; and the amounts agree, per refund and in total.
 */
export const expectLedgersAgree = (view: PaymentView, movements: readonly Movement[], label = ""): void => {
  const moved = refundsAt(movements, view.providerRef)
  const holding = view.refunds.filter((r) => r.status === "succeeded")
  for (const m of moved) {
    const owners = holding.filter((r) => movementIdsOf(r.providerRef).includes(m.refundId!))
    expect(owners.map((r) => r.id), `${label} movement ${m.refundId} (${m.cause}) is named by exactly one settled refund`).toHaveLength(1)
    const r = owners[0]!
    const conversationId = m.conversationId ?? m.cause
    if (r.external || r.unattributed) expect(String(conversationId).startsWith(`ps-${view.id}-`), `${label} external ${r.id} is not paystate's`).toBe(false)
    else expect(conversationId, `${label} movement ${m.refundId} belongs to ${r.id.split("~")[0]}`).toBe(`ps-${view.id}-${r.id.split("~")[0]}`)
  }
  for (const r of holding) {
    const ids = movementIdsOf(r.providerRef)
    const mine = moved.filter((m) => ids.includes(m.refundId!))
    expect(mine.map((m) => m.refundId).sort(), `${label} refund ${r.id} (${r.providerRef}) moved money at Craftgate`).toEqual([...ids].sort())
    expect(mine.reduce((s, m) => s + m.amount, 0), `${label} refund ${r.id} amount`).toBe(r.amount)
  }
  expect(view.refundedAmount, `${label} refunded total`).toBe(moved.reduce((s, m) => s + m.amount, 0) - holding.filter((r) => r.unattributed).reduce((s, r) => s + r.amount, 0))
}
