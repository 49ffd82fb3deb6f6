/**
 * Runs a schedule of commands, provider-side actions and faults against an engine and the sandbox
 * its adapter talks to, then settles everything and checks the invariants. The steps are plain data
 * (`paystate/testing/arbitraries` generates them with fast-check; a test may also write them by
 * hand), so a failing schedule is printed, shrunk and replayed as it is.
 *
 * Everything the runner does to the provider goes through the sandbox's HTTP control API (the
 * sandbox may run in another process, e.g. `paystate sandbox komoju`); with an in-process sandbox
 * (`startSandbox` from `paystate/sandbox`) it also waits for webhook deliveries and clears faults
 * directly. Give the adapter a short `timeoutMs` (e.g. 1000): a `timeout` fault holds the request.
 */
import type { SandboxKernel } from "../../adapters/sandbox/kernel.js"
import { craftgateHeaders } from "../../adapters/providers/craftgate/signing.js"
import { isCardMethod } from "../../machines/onekey/methods.js"
import type { ManualClock } from "../clock.js"
import { isPaystateError, type ErrorCode } from "../errors.js"
import type { PaymentView, RefundCommand } from "../types.js"
import { checkCeiling, checkCraftgateCancelRule, checkLedgerAgrees, checkNoDoubleEffect, sandboxLedger, type Violation } from "./invariants.js"

/** The sandboxes the runner knows how to drive. */
export type SandboxKind = "komoju" | "craftgate" | "onekey"

/** A sandbox fault mode (SANDBOXES.md). */
export type FaultMode = "timeout" | "error500" | "drop_response"

/** A webhook delivery mode (SANDBOXES.md). */
export type WebhookMode = "normal" | "duplicate" | "delay" | "reorder"

/** The provider operation a fault is armed on. */
export type FaultTarget = "refund" | "refundLookup" | "paymentLookup"

/** One step of a schedule. Shares are per mille (1..1000) of what is refundable at that moment. */
export type Step =
  /** The customer pays (cash, offsite, a deposit) or the merchant captures (a card hold). */
  | { readonly kind: "pay" }
  /** A refund: `share` of what is refundable (absent: everything left); `slot` picks its idempotency key (the same slot again is a retry with that key); `target` picks a Craftgate transaction. */
  | { readonly kind: "refund"; readonly share?: number; readonly slot: number; readonly target?: number }
  /** A refund beyond what is refundable: must be refused before anything is sent. */
  | { readonly kind: "overRefund"; readonly slot: number }
  /** A KOMOJU refund request (bank transfer back, for cash methods). */
  | { readonly kind: "refundRequest"; readonly share?: number; readonly slot: number }
  | { readonly kind: "cancel" }
  /** The next call of `target` at the sandbox fails with `mode`. */
  | { readonly kind: "fault"; readonly target: FaultTarget; readonly mode: FaultMode }
  | { readonly kind: "webhooks"; readonly mode: WebhookMode }
  /** The provider's next refund answer: left open (Craftgate WAITING, a OneKey card refund IN_PROGRESS) or refused (FAILURE, REJECTED). No-op for KOMOJU. */
  | { readonly kind: "nextOutcome"; readonly outcome: "open" | "refused" }
  /** The provider settles one refund it holds open (`pick` chooses which), succeeding or not. */
  | { readonly kind: "settle"; readonly pick: number; readonly ok: boolean }
  /** Time passes (engine and sandbox clocks together, when the engine's clock is a manual one). */
  | { readonly kind: "advance"; readonly minutes: number }
  | { readonly kind: "recover" }
  | { readonly kind: "sync" }

/** What the runner needs of an engine (any `createEngine` result fits). */
export interface ScheduleEngine {
  readonly payments: {
    get(paymentId: string): Promise<PaymentView>
    refund(command: RefundCommand): Promise<PaymentView>
    refundRequest(command: RefundCommand): Promise<PaymentView>
    capture(command: { paymentId: string; idempotencyKey?: string }): Promise<PaymentView>
    cancel(command: { paymentId: string; idempotencyKey?: string }): Promise<PaymentView>
    sync(paymentId: string): Promise<PaymentView>
  }
  recover(): Promise<number>
  runDueTimers(): Promise<number>
}

/** A sandbox: its URL, and, in process, its kernel; Craftgate's also its credentials (for signed reads). */
export interface ScheduleSandbox {
  readonly url: string
  readonly kernel?: SandboxKernel
  readonly credentials?: { readonly apiKey?: string; readonly secretKey?: string; readonly [k: string]: unknown }
}

/** The engine under test, the sandbox its adapter talks to, and which provider that is. */
export interface ScheduleWorld {
  readonly engine: ScheduleEngine
  readonly sandbox: ScheduleSandbox
  readonly kind: SandboxKind
  /** The engine's clock, when it is a manual one: `advance` moves it and the sandbox's together. */
  readonly clock?: ManualClock
  /** Craftgate's day rule, if not the default (Europe/Istanbul, midnight). */
  readonly dayRule?: { readonly timeZone?: string; readonly cutoff?: string }
}

/** Options of `runSchedule`. */
export interface RunOptions {
  /** Prefix of the idempotency keys the schedule's commands use: unique per run. */
  readonly keyPrefix: string
  /** Codes a command may fail with without failing the run. Default: the refusals and outages a schedule provokes. */
  readonly tolerate?: readonly ErrorCode[]
  /** Provider options added to every refund (e.g. a OneKey `bank_account`); the runner's defaults otherwise. */
  readonly refundOptions?: (view: PaymentView) => Record<string, unknown>
}

/** What a run did. */
export interface ScheduleRun {
  /** The payment after everything settled. */
  readonly view: PaymentView
  /** Every invariant broken, after any step or at the end. */
  readonly violations: readonly Violation[]
  /** The codes commands were refused with (tolerated ones), in order. */
  readonly refused: readonly ErrorCode[]
}

/** The codes a schedule's commands are expected to meet: refusals, a payment not in the right state, outages. */
export const TOLERATED_CODES: readonly ErrorCode[] = ["INVALID_INPUT", "INVALID_TRANSITION", "REFUND_EXCEEDS_REFUNDABLE", "PROVIDER_REJECTED", "PROVIDER_UNAVAILABLE", "CONCURRENT_MODIFICATION"]

/** The sandbox paths of each fault target. */
const FAULT_PATHS: Readonly<Record<SandboxKind, Readonly<Record<FaultTarget, { method: string; path: string }>>>> = {
  komoju: {
    refund: { method: "POST", path: "/api/v1/payments/:id/refund" },
    refundLookup: { method: "GET", path: "/api/v1/payments/:id" },
    paymentLookup: { method: "GET", path: "/api/v1/payments/:id" },
  },
  craftgate: {
    refund: { method: "POST", path: "/payment/v1/refund-transactions" },
    refundLookup: { method: "GET", path: "/payment-reporting/v1/refund-transactions" },
    paymentLookup: { method: "GET", path: "/payment/v1/card-payments/:id" },
  },
  onekey: {
    refund: { method: "POST", path: "/v3/refunds" },
    refundLookup: { method: "GET", path: "/v3/refunds/:id" },
    paymentLookup: { method: "GET", path: "/v3/deposits/:id" },
  },
}

/** A bank account each sandbox accepts for refunds that need one (OneKey bank refunds, KOMOJU refund requests). */
export const SANDBOX_BANK_ACCOUNTS = {
  onekey: { beneficiary: "Carlos Ramirez", bank_code: 1, branch: "9283", account_number: "18293435", account_type: "SAVING" },
  komoju: { customer_name: "TARO YAMADA", bank_code: "0001", bank_name: "Mizuho", branch_number: "001", branch_name: "Tokyo", account_type: "normal", account_number: "1234567", include_payment_method_fee: false },
} as const

const json = async (res: Response): Promise<any> => {
  const text = await res.text()
  try {
    return text ? JSON.parse(text) : undefined
  } catch {
    return undefined
  }
}

/**
 * One HTTP call to the sandbox, asked again (up to ten times) when the connection fails or hangs:
 * a read of the provider's API may meet faults the schedule armed for the engine (a dropped answer,
 * a held request; under load the runner's read can reach several of them before the engine does),
 * and a pooled keep-alive socket may be closing just as it is reused. Every call the runner repeats
 * is safe to repeat (a read, or a settlement the sandbox refuses the second time).
 */
const call = async (url: string, init: RequestInit): Promise<{ status: number; body: any }> => {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) })
      return { status: res.status, body: await json(res) }
    } catch (e) {
      if (attempt >= 10) throw e
    }
  }
}

/** A call to the sandbox's control API (no authentication). */
const control = (world: ScheduleWorld, method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: any }> =>
  call(world.sandbox.url + path, method === "POST" ? { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) } : { method })

/** A signed read of Craftgate's API (the reporting endpoints list what is WAITING). */
const craftgateRead = async (world: ScheduleWorld, path: string): Promise<any> => {
  const c = world.sandbox.credentials
  if (!c?.apiKey || !c.secretKey) throw new Error("runSchedule: a Craftgate sandbox needs its credentials (startSandbox's result has them)")
  const url = world.sandbox.url + path
  // Signed afresh per attempt: Craftgate's signature covers a random key, never reused.
  for (let attempt = 1; ; attempt++) {
    const r = await call(url, { headers: craftgateHeaders(url, "", { apiKey: c.apiKey, secretKey: c.secretKey }) })
    if (r.status < 500 || attempt >= 3) return r.body
  }
}

/** Waits until the sandbox has delivered every webhook it sent (in process), or a moment (out of process). */
const deliveries = async (world: ScheduleWorld): Promise<void> => {
  if (world.sandbox.kernel) await world.sandbox.kernel.settled()
  else await new Promise((r) => setTimeout(r, 100))
}

/** The provider-side actions that would settle a refund the provider holds open, as control paths. */
const openAtProvider = async (world: ScheduleWorld, view: PaymentView): Promise<{ path: string; ok: string; fail?: string }[]> => {
  const ref = view.providerRef
  if (!ref) return []
  switch (world.kind) {
    case "komoju": {
      // A cash refund waits until the customer collects it (there is no failing it); a refund
      // request until the bank transfer is made or refused. The ledger names refunds the engine may
      // not know yet (a lost answer); requests only the engine's view names.
      const ledger = await sandboxLedger(world.sandbox.url)
      const refunds = new Set([...ledger.filter((m) => m.paymentId === ref && m.type === "refund" && m.status === "pending").map((m) => String(m.refundId)), ...view.refunds.filter((r) => r.kind === "refund" && r.status === "pending" && r.providerRef).map((r) => r.providerRef!)])
      const paid = new Set(ledger.filter((m) => m.type === "refund_request_payout").map((m) => String(m.refundId)))
      const done = new Set(view.refunds.filter((r) => r.status === "succeeded").map((r) => r.providerRef))
      return [
        ...[...refunds].filter((id) => !done.has(id)).map((id) => ({ path: `/_sandbox/refunds/${id}/complete`, ok: "" })),
        ...view.refunds
          .filter((r) => r.kind === "refund_request" && RESERVING.has(r.status) && r.providerRef && !paid.has(r.providerRef))
          .map((r) => ({ path: `/_sandbox/refund_requests/${r.providerRef}`, ok: "/complete", fail: "/reject" })),
      ]
    }
    case "craftgate": {
      const txs = ((await craftgateRead(world, `/payment-reporting/v1/refund-transactions?paymentId=${ref}&status=WAITING&size=100`))?.data?.items ?? []) as { id: number }[]
      const refunds = ((await craftgateRead(world, `/payment-reporting/v1/payments/${ref}/refunds`))?.data?.items ?? []) as { id: number; status: string }[]
      return [
        ...txs.map((t) => ({ path: `/_sandbox/refund-transactions/${t.id}`, ok: "/succeed", fail: "/fail" })),
        ...refunds.filter((r) => r.status === "WAITING").map((r) => ({ path: `/_sandbox/refunds/${r.id}`, ok: "/succeed", fail: "/fail" })),
      ]
    }
    case "onekey": {
      const body = (await control(world, "GET", `/_sandbox/deposits/${ref}/refunds`)).body as { refunds?: { refund_id: string | number; status: string; card: boolean }[] } | undefined
      const next = (r: { status: string; card: boolean }): { ok: string; fail: string } | undefined => {
        if (r.status === "PENDING") return r.card ? { ok: "COMPLETED", fail: "REJECTED" } : { ok: "DELIVERED", fail: "CANCELLED" }
        if (r.status === "DELIVERED") return { ok: "COMPLETED", fail: "REJECTED" }
        if (r.status === "INCORRECT_DETAILS") return { ok: "PENDING", fail: "CANCELLED" }
        return undefined
      }
      return (body?.refunds ?? []).flatMap((r) => {
        const n = next(r)
        return n ? [{ path: `/_sandbox/refunds/${r.refund_id}/status`, ok: n.ok, fail: n.fail }] : []
      })
    }
  }
}

const RESERVING = new Set(["requested", "pending"])

/** Performs one provider-side settlement. */
const settleOne = async (world: ScheduleWorld, action: { path: string; ok: string; fail?: string }, ok: boolean): Promise<void> => {
  const to = ok || action.fail === undefined ? action.ok : action.fail
  // OneKey moves a refund by status in the body; the others by path. A 409/422 (already settled) is fine.
  if (world.kind === "onekey") await control(world, "POST", action.path, { status: to })
  else await control(world, "POST", action.path + to)
  await deliveries(world)
}

/** The engine's clock and the sandbox's, moved together. */
const advance = async (world: ScheduleWorld, minutes: number): Promise<void> => {
  if (!world.clock) return
  world.clock.advance(minutes * 60_000)
  await control(world, "POST", "/_sandbox/clock", { now: world.clock.now().toISOString() })
}

/** The provider options a refund needs by default (a OneKey bank refund needs the account; a Craftgate part names its transaction). */
const defaultRefundOptions = (world: ScheduleWorld, view: PaymentView, step: { target?: number }): Record<string, unknown> => {
  if (world.kind === "onekey" && !isCardMethod(view.method)) return { bank_account: SANDBOX_BANK_ACCOUNTS.onekey }
  if (world.kind === "craftgate" && step.target !== undefined) {
    const txs = (view.details.transactions ?? []) as { id: string }[]
    const tx = txs[step.target % Math.max(1, txs.length)]
    if (tx) return { paymentTransactionId: tx.id }
  }
  return {}
}

const shareOf = (view: PaymentView, share: number | undefined): number | undefined =>
  share === undefined ? undefined : Math.max(1, Math.floor((view.refundableAmount * Math.min(1000, Math.max(1, share))) / 1000))

/** Runs one step; answers the code a command was refused with, if it was. */
const runStep = async (world: ScheduleWorld, paymentId: string, step: Step, options: RunOptions, index: number): Promise<ErrorCode | undefined> => {
  const { engine } = world
  const tolerate = options.tolerate ?? TOLERATED_CODES
  const key = (kind: string, slot: number) => `${options.keyPrefix}-${kind}-${slot}`
  try {
    switch (step.kind) {
      case "pay": {
        const view = await engine.payments.get(paymentId)
        if (view.status === "authorized" && (world.kind === "craftgate" || view.method === "credit_card")) {
          await engine.payments.capture({ paymentId, idempotencyKey: key("capture", index) })
        } else if (view.providerRef && (view.status === "authorized" || view.status === "pending")) {
          await control(world, "POST", world.kind === "onekey" ? `/_sandbox/deposits/${view.providerRef}/complete` : `/_sandbox/payments/${view.providerRef}/pay`)
          await deliveries(world)
        }
        break
      }
      case "refund":
      case "overRefund": {
        const view = await engine.payments.get(paymentId)
        const extra = { ...defaultRefundOptions(world, view, step.kind === "refund" ? step : {}), ...options.refundOptions?.(view) }
        // A part of one Craftgate transaction is a share of what was paid for it, not of the whole payment.
        const tx = step.kind === "refund" && typeof extra.paymentTransactionId === "string" ? ((view.details.transactions ?? []) as { id: string; paidPrice?: number }[]).find((t) => t.id === extra.paymentTransactionId) : undefined
        const base = tx?.paidPrice !== undefined ? { ...view, refundableAmount: Math.min(tx.paidPrice, view.refundableAmount) } : view
        const amount = step.kind === "overRefund" ? view.refundableAmount + 1 : shareOf(base, step.share)
        await engine.payments.refund({ paymentId, ...(amount !== undefined ? { amount } : {}), idempotencyKey: key(step.kind, step.slot), ...extra })
        break
      }
      case "refundRequest": {
        const view = await engine.payments.get(paymentId)
        const amount = shareOf(view, step.share ?? 1000)!
        await engine.payments.refundRequest({ paymentId, amount, idempotencyKey: key("refundRequest", step.slot), ...SANDBOX_BANK_ACCOUNTS.komoju })
        break
      }
      case "cancel":
        await engine.payments.cancel({ paymentId, idempotencyKey: key("cancel", index) })
        break
      case "fault": {
        const f = FAULT_PATHS[world.kind][step.target]
        await control(world, "POST", "/_sandbox/faults", { path: f.path, method: f.method, mode: step.mode, count: 1 })
        break
      }
      case "webhooks":
        await control(world, "POST", "/_sandbox/webhooks", { mode: step.mode, delayMs: 30 })
        break
      case "nextOutcome":
        if (world.kind === "craftgate") await control(world, "POST", "/_sandbox/refunds/next-status", { status: step.outcome === "open" ? "WAITING" : "FAILURE" })
        if (world.kind === "onekey") await control(world, "POST", "/_sandbox/cards/next-result", { result: step.outcome === "open" ? "IN_PROGRESS" : "REJECTED" })
        break
      case "settle": {
        const open = await openAtProvider(world, await engine.payments.get(paymentId))
        if (open.length) await settleOne(world, open[step.pick % open.length]!, step.ok)
        break
      }
      case "advance":
        await advance(world, step.minutes)
        break
      case "recover":
        await engine.recover()
        await engine.runDueTimers()
        break
      case "sync":
        await engine.payments.sync(paymentId)
        break
    }
    await deliveries(world)
    return undefined
  } catch (e) {
    if (isPaystateError(e) && tolerate.includes(e.code)) return e.code
    throw e
  }
}

/**
 * Brings the provider and the engine to rest: faults cleared (in process; otherwise they are used
 * up), webhooks back to normal and flushed, every refund the provider holds open settled (`ok`),
 * time moved past the engine's backoff, recovery and due timers run, the payment synced — in
 * rounds, until nothing is reserved and nothing is open at the provider. Answers the payment.
 */
export const settleEverything = async (world: ScheduleWorld, paymentId: string, options: { readonly ok?: boolean; readonly rounds?: number } = {}): Promise<PaymentView> => {
  const { engine } = world
  let view = await engine.payments.get(paymentId)
  for (let round = 0; round < (options.rounds ?? 6); round++) {
    if (world.sandbox.kernel) world.sandbox.kernel.faults.length = 0
    await control(world, "POST", "/_sandbox/webhooks", { mode: "normal" })
    await control(world, "POST", "/_sandbox/webhooks/flush")
    for (const action of await openAtProvider(world, view)) await settleOne(world, action, options.ok ?? true)
    await deliveries(world)
    await advance(world, 6) // past the engine's longest backoff (5 min)
    // A lookup may still meet a fault armed out of process, or a busy sandbox: the next round asks again.
    await engine.recover().catch(() => 0)
    await engine.runDueTimers().catch(() => 0)
    await deliveries(world)
    view = await engine.payments.sync(paymentId).catch(() => engine.payments.get(paymentId))
    const open = await openAtProvider(world, view)
    if (view.reservedAmount === 0 && open.length === 0 && round > 0) break
  }
  return view
}

/** Every invariant that applies to the world's provider, on the payment as it is now. */
export const checkWorld = async (world: ScheduleWorld, view: PaymentView, options: { readonly final?: boolean } = {}): Promise<Violation[]> => {
  const movements = await sandboxLedger(world.sandbox.url)
  return [
    ...checkCeiling(view),
    ...checkNoDoubleEffect(movements.filter((m) => m.paymentId === view.providerRef)),
    ...checkLedgerAgrees(view, movements, { final: options.final ?? false }),
    ...(world.kind === "craftgate" ? checkCraftgateCancelRule(view, { movements, ...(world.dayRule ? { rule: world.dayRule } : {}) }) : []),
  ]
}

/**
 * Runs `steps` on the payment `paymentId` (already created through `world.engine`), checking the
 * ceiling after every step and the Craftgate rule on every whole refund; then settles everything
 * (`settleEverything`) and checks every invariant, the ledger as final. Throws only for what a
 * schedule must never meet (an error outside `options.tolerate`); broken invariants are returned.
 */
export const runSchedule = async (world: ScheduleWorld, paymentId: string, steps: readonly Step[], options: RunOptions): Promise<ScheduleRun> => {
  const violations: Violation[] = []
  const refused: ErrorCode[] = []
  for (const [i, step] of steps.entries()) {
    const prior = await world.engine.payments.get(paymentId)
    const before = world.kind === "craftgate" && step.kind === "refund" ? prior : undefined
    const at = world.clock?.now().toISOString() ?? new Date().toISOString()
    const code = await runStep(world, paymentId, step, options, i)
    if (code) refused.push(code)
    const view = await world.engine.payments.get(paymentId)
    violations.push(...checkCeiling(view, { before: prior }).map((v) => ({ ...v, message: `after step ${i} (${step.kind}): ${v.message}` })))
    if (before && world.clock) violations.push(...checkCraftgateCancelRule(view, { before, at, ...(world.dayRule ? { rule: world.dayRule } : {}) }))
  }
  const view = await settleEverything(world, paymentId)
  violations.push(...(await checkWorld(world, view, { final: true })))
  return { view, violations, refused }
}
