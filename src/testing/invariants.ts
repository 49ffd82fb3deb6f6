/**
 * Invariant checkers for property tests of a host's payments: each takes what the engine shows (a
 * `PaymentView`) and, where it needs one, what the provider did (the sandbox's ledger,
 * `GET /_sandbox/ledger`), and answers the violations it finds, never throwing, so a test can collect
 * them over a whole schedule. `assertNoViolations` turns a list into one error that names them all.
 * No test framework and no fast-check: they run under any runner.
 *
 * - `checkCeiling`: settled + reserved (+ unattributed) ≤ captured, and the view's totals are its refunds'.
 * - `checkNoDoubleEffect`: one money movement per idempotency key (per transaction, per kind).
 * - `checkCraftgateCancelRule`: a CANCEL only on the payment's business day with no earlier refund
 *   that Craftgate did not refuse, and a whole refund that could be a CANCEL is one.
 * - `checkLedgerAgrees`: the engine's ledger equals the sandbox's, refund by refund, by identity.
 */
import { sameDay, type DayRule } from "../../machines/craftgate/same-day.js"
import type { LedgerMovement } from "../../adapters/sandbox/kernel.js"
import type { PaymentView, RefundView } from "../types.js"

/** The invariants the checkers enforce. */
export type InvariantName = "ceiling" | "no-double-effect" | "craftgate-cancel-rule" | "ledger"

/** One broken invariant: which, where, and what was seen. */
export interface Violation {
  readonly invariant: InvariantName
  readonly paymentId?: string
  /** The paystate refund (ledger entry) it concerns, if one. */
  readonly refundId?: string
  readonly message: string
}

/** The error `assertNoViolations` throws: every violation, one per line. */
export class InvariantViolation extends Error {
  override readonly name = "InvariantViolation"
  constructor(readonly violations: readonly Violation[]) {
    super(`${violations.length} invariant violation${violations.length === 1 ? "" : "s"}:\n${violations.map((v) => `- [${v.invariant}]${v.paymentId ? ` ${v.paymentId}` : ""}${v.refundId ? `/${v.refundId}` : ""}: ${v.message}`).join("\n")}`)
  }
}

/** Throws an `InvariantViolation` naming every violation, when there is any. */
export const assertNoViolations = (violations: readonly Violation[]): void => {
  if (violations.length > 0) throw new InvariantViolation(violations)
}

/** A movement of a sandbox ledger (`GET /_sandbox/ledger` answers `{ movements }`). */
export type Movement = Pick<LedgerMovement, "type" | "paymentId" | "amount" | "cause"> & {
  readonly refundId?: string
  readonly seq?: number
  readonly at?: string
  readonly paymentTransactionId?: number | string
  readonly conversationId?: string | null
  readonly status?: string
}

/** Reads a sandbox's ledger over its control API (the sandbox may run in another process). */
export const sandboxLedger = async (sandboxUrl: string): Promise<Movement[]> => {
  const res = await fetch(`${sandboxUrl.replace(/\/$/, "")}/_sandbox/ledger`)
  if (!res.ok) throw new Error(`GET ${sandboxUrl}/_sandbox/ledger answered ${res.status}`)
  return ((await res.json()) as { movements: Movement[] }).movements
}

/** Statuses under which an entry holds money against the ceiling (the ledger's RESERVING + succeeded). */
const RESERVING = new Set(["requested", "pending"])

/** What `checkCeiling` knows of the step it checks. */
export interface CeilingOptions {
  /** The payment before the step: a refund it did not have was reserved by the step. */
  readonly before?: PaymentView
}

/**
 * The ceiling: what is refunded, reserved by refunds in flight and held by unattributed provider
 * refunds never exceeds what was captured; every amount is a non-negative safe integer; and the
 * view's totals are the sums of its own refunds (so the ceiling is checked on what the ledger holds,
 * not on a total that could drift from it).
 *
 * One allowance, by identity and never by amount: an unattributed provider refund may be one of ours
 * in flight whose answer was lost (it has no provider id yet, so nothing says which it is), and the
 * ledger holds both until the answer or a lookup tells. So the same money may be held twice, by at
 * most what our refunds without a provider id reserve. Not in a step that reserved a new refund: the
 * ceiling is checked in the transition that reserves, with everything held. And what the provider
 * reported (settled + unattributed, distinct by provider id) never exceeds what was captured.
 */
export const checkCeiling = (view: PaymentView, options: CeilingOptions = {}): Violation[] => {
  const out: Violation[] = []
  const v = (message: string, refundId?: string) => out.push({ invariant: "ceiling", paymentId: view.id, ...(refundId ? { refundId } : {}), message })
  let settled = 0
  let reserved = 0
  let unattributed = 0
  let unidentified = 0
  for (const r of view.refunds) {
    if (!Number.isSafeInteger(r.amount) || r.amount < 0) v(`refund amount ${r.amount} is no non-negative integer`, r.id)
    const holds = r.status === "succeeded" || RESERVING.has(r.status)
    if (r.unattributed) unattributed += holds ? r.amount : 0
    else if (r.status === "succeeded") settled += r.amount
    else if (RESERVING.has(r.status)) {
      reserved += r.amount
      if (!r.providerRef) unidentified += r.amount
    }
  }
  if (view.refundedAmount !== settled) v(`refundedAmount ${view.refundedAmount} is not the sum of succeeded refunds ${settled}`)
  if (view.reservedAmount !== reserved) v(`reservedAmount ${view.reservedAmount} is not the sum of refunds in flight ${reserved}`)
  if (view.unattributedAmount !== unattributed) v(`unattributedAmount ${view.unattributedAmount} is not the sum of unattributed refunds ${unattributed}`)
  const before = options.before
  const reservedNow = before !== undefined && view.refunds.some((r) => !r.unattributed && RESERVING.has(r.status) && !before.refunds.some((b) => b.id === r.id))
  const shared = reservedNow ? 0 : Math.min(unattributed, unidentified)
  if (settled + reserved + unattributed - shared > view.capturedAmount) {
    const allowance = shared > 0 ? ` by more than the ${shared} that refunds in flight without a provider id may share with unattributed ones` : ""
    v(`settled ${settled} + reserved ${reserved} + unattributed ${unattributed} = ${settled + reserved + unattributed} exceeds captured ${view.capturedAmount}${allowance}`)
  }
  if (settled + unattributed > view.capturedAmount) v(`the provider's refunds (settled ${settled} + unattributed ${unattributed}) exceed captured ${view.capturedAmount}`)
  const left = Math.max(0, view.capturedAmount - settled - reserved - unattributed)
  if (view.refundableAmount !== left) v(`refundableAmount ${view.refundableAmount} is not captured − settled − reserved − unattributed = ${left}`)
  return out
}

/** The idempotency key (ours: `ps-…`) a movement was made with, or undefined when its cause is none of ours. */
export const keyOfMovement = (m: Movement): string | undefined => {
  // Craftgate's movements carry the refund record's conversationId, also when a control call settled it.
  const text = typeof m.conversationId === "string" && m.conversationId ? m.conversationId : m.cause
  const key = /^ps-\S+/.exec(String(text ?? ""))?.[0]
  return key
}

/**
 * No double effect: a key paystate sent (`ps-<paymentId>-<operation>`) moved money at most once per
 * movement kind and payment transaction. A whole Craftgate REFUND moves one amount per transaction
 * under one key, which is one movement each; a second movement of the same kind for the same key
 * and transaction is a retry the provider performed twice.
 */
export const checkNoDoubleEffect = (movements: readonly Movement[]): Violation[] => {
  const seen = new Map<string, Movement>()
  const out: Violation[] = []
  for (const m of movements) {
    const key = keyOfMovement(m)
    if (!key) continue
    const slot = `${m.paymentId}\u0000${m.type}\u0000${m.paymentTransactionId ?? ""}\u0000${key}`
    const first = seen.get(slot)
    if (first) out.push({ invariant: "no-double-effect", message: `key ${key} moved money twice at the provider: ${m.type} ${first.amount} (${first.refundId ?? "-"}) and ${m.amount} (${m.refundId ?? "-"}) on payment ${m.paymentId}` })
    else seen.set(slot, m)
  }
  return out
}

/** When the payment was made, for Craftgate's day rule (Craftgate's createdDate, else paystate's). */
const paidAt = (view: PaymentView): string => (typeof view.details.paidAt === "string" ? view.details.paidAt : view.createdAt)

/**
 * Craftgate's CANCEL rule (seed 003): a whole-payment refund on the payment's business day, with no
 * earlier refund that Craftgate did not refuse, is a CANCEL; any other is a REFUND; a CANCEL takes
 * everything, so the money it moves is the only refund money of the payment.
 *
 * On `view` alone it checks what can be judged afterwards (failed is final): every CANCEL entry was
 * made on the payment's day with every entry before it failed, and, given `movements`, at most one
 * CANCEL moved money and nothing else did beside it. Given `before` (the view just before a refund
 * command) and `at` (the engine time of the command), it also checks the kind the command chose for
 * each new whole refund: CANCEL exactly when the rule allowed it then.
 */
export const checkCraftgateCancelRule = (view: PaymentView, options: { readonly rule?: DayRule; readonly movements?: readonly Movement[]; readonly before?: PaymentView; readonly at?: string } = {}): Violation[] => {
  const out: Violation[] = []
  const v = (message: string, refundId?: string) => out.push({ invariant: "craftgate-cancel-rule", paymentId: view.id, ...(refundId ? { refundId } : {}), message })
  const whole = (r: RefundView) => (r.kind === "cancel" || r.kind === "refund") && !r.id.includes("~") && !r.external && !r.unattributed
  view.refunds.forEach((r, i) => {
    if (r.kind !== "cancel" || !whole(r)) return
    if (!sameDay(paidAt(view), r.createdAt, options.rule)) v(`CANCEL made at ${r.createdAt}, not on the payment's business day (${paidAt(view)})`, r.id)
    const earlier = view.refunds.slice(0, i).filter((b) => b.status !== "failed")
    if (earlier.length) v(`CANCEL made after refunds Craftgate did not refuse: ${earlier.map((b) => `${b.id} ${b.status}`).join(", ")}`, r.id)
  })
  if (options.before && options.at) {
    const allowed = options.before.refunds.every((b) => b.status === "failed") && sameDay(paidAt(options.before), options.at, options.rule)
    for (const r of view.refunds) {
      if (!whole(r) || options.before.refunds.some((b) => b.id === r.id)) continue
      if (r.kind !== (allowed ? "cancel" : "refund")) v(`a whole refund at ${options.at} became a ${r.kind.toUpperCase()}; the rule asks for a ${allowed ? "CANCEL" : "REFUND"}`, r.id)
    }
  }
  if (options.movements && view.providerRef) {
    const moved = options.movements.filter((m) => m.paymentId === view.providerRef && (m.type === "cancel" || m.type === "refund"))
    const cancels = moved.filter((m) => m.type === "cancel")
    if (cancels.length > 1) v(`${cancels.length} CANCELs moved money`)
    if (cancels.length > 0 && moved.length > cancels.length) v(`money moved beside a CANCEL: ${moved.filter((m) => m.type !== "cancel").map((m) => `${m.type} ${m.amount}`).join(", ")}`)
  }
  return out
}

/** How a provider's sandbox ledger names refunds, for `checkLedgerAgrees`. */
export interface LedgerConvention {
  /** Movement types that move refund money (reversals and releases come back negative). */
  readonly refundTypes: readonly string[]
  /** The ledger refund ids a paystate entry stands for, from the entry's `providerRef`. */
  readonly movementIds: (providerRef: string) => readonly string[]
}

/** The conventions of the three providers' sandboxes (see each provider's docs page, "Sandbox"). */
export const LEDGER_CONVENTIONS: Readonly<Record<"komoju" | "craftgate" | "onekey", LedgerConvention>> = {
  // KOMOJU: a refund moves at creation (a cash refund waits `pending` with the money committed);
  // a refund request moves when the bank transfer is made.
  komoju: { refundTypes: ["refund", "refund_request_payout"], movementIds: (ref) => [ref] },
  // Craftgate: a CANCEL is one movement named by its refund id; a REFUND moves per transaction
  // (`tx:<id>`), a paystate entry naming them as `tx:<id>,<id>` or `txr:<id>`; WAITING moves nothing.
  craftgate: {
    refundTypes: ["refund", "cancel"],
    movementIds: (ref) => (ref.startsWith("tx:") ? ref.slice(3).split(",").map((id) => `tx:${id}`) : ref.startsWith("txr:") ? [`tx:${ref.slice(4)}`] : /^\d+$/.test(ref) ? [ref] : []),
  },
  // OneKey: a refund moves at creation; a cancelled or rejected one comes back as a negative movement.
  onekey: { refundTypes: ["refund", "refund_release", "refund_reversal"], movementIds: (ref) => [ref] },
}

/** The key paystate sends for a refund entry (the engine's `ps-<paymentId>-<operation id>`, at most 100 characters). */
const keyOfEntry = (paymentId: string, r: RefundView): string => `ps-${paymentId}-${r.id.split("~")[0]}`.slice(0, 100)

/**
 * The engine's ledger equals the sandbox's, refund by refund, by identity (never by amount):
 * - every refund the provider moved money for is held by exactly one entry, the one whose
 *   `providerRef` names it; a movement made with paystate's key for refund X is held by X, not by a
 *   neighbour, an external or an unattributed entry;
 * - a succeeded entry's movements add up to its amount; a failed or reversed entry's to zero; an
 *   entry in flight holds no more than its amount;
 * - with `final` (everything has settled at the provider and the engine has caught up): nothing is
 *   reserved any more, no refund made with paystate's key is left unattributed, and what the
 *   provider moved equals what the engine says was refunded (plus what it holds unattributed).
 */
export const checkLedgerAgrees = (
  view: PaymentView,
  movements: readonly Movement[],
  options: { readonly convention?: LedgerConvention; readonly final?: boolean } = {},
): Violation[] => {
  const convention = options.convention ?? LEDGER_CONVENTIONS[view.provider as keyof typeof LEDGER_CONVENTIONS]
  if (!convention) throw new Error(`checkLedgerAgrees: no ledger convention for provider "${view.provider}"; pass options.convention`)
  const out: Violation[] = []
  const v = (message: string, refundId?: string) => out.push({ invariant: "ledger", paymentId: view.id, ...(refundId ? { refundId } : {}), message })
  if (!view.providerRef) {
    if (view.refunds.some((r) => r.status === "succeeded")) v("refunds succeeded on a payment the provider has no id for")
    return out
  }
  const moved = movements.filter((m) => m.paymentId === view.providerRef && convention.refundTypes.includes(m.type))
  const ours = `ps-${view.id}-`
  // A refund split into parts (each naming it in `details.splitFrom`) holds nothing itself: its parts
  // hold what the provider moved, under ids the released whole may still name.
  const splitOff = new Set(view.refunds.map((r) => r.details?.splitFrom).filter((id): id is string => typeof id === "string"))
  const holdersOf = new Map<string, RefundView[]>()
  for (const r of view.refunds) {
    if (splitOff.has(r.id)) continue
    for (const id of r.providerRef ? convention.movementIds(r.providerRef) : []) holdersOf.set(id, [...(holdersOf.get(id) ?? []), r])
  }

  for (const m of moved) {
    const holders = holdersOf.get(String(m.refundId)) ?? []
    const key = keyOfMovement(m)
    if (holders.length !== 1) {
      // Before the engine has caught up, a refund whose answer was lost is not held yet.
      if (holders.length > 1 || options.final) v(`provider refund ${m.refundId} (${m.type} ${m.amount}, key ${key ?? m.cause}) is held by ${holders.length} entries${holders.length ? `: ${holders.map((h) => h.id).join(", ")}` : ""}`)
      continue
    }
    const r = holders[0]!
    if (!key?.startsWith(ours)) continue
    if (r.external || (r.unattributed && options.final)) v(`provider refund ${m.refundId}, made with paystate's key ${key}, is held as ${r.external ? "external" : "unattributed"} (${r.id})`, r.id)
    else if (!r.unattributed && key !== keyOfEntry(view.id, r)) v(`provider refund ${m.refundId}, made with key ${key}, is held by ${r.id}, whose key is ${keyOfEntry(view.id, r)}`, r.id)
  }

  for (const r of view.refunds) {
    if (!r.providerRef || splitOff.has(r.id)) continue
    const ids = convention.movementIds(r.providerRef)
    const net = moved.filter((m) => ids.includes(String(m.refundId))).reduce((s, m) => s + m.amount, 0)
    if (r.status === "succeeded" && net !== r.amount) v(`succeeded for ${r.amount}, but the provider moved ${net} for ${r.providerRef}`, r.id)
    if ((r.status === "failed" || r.status === "reversed") && net !== 0) v(`${r.status}, but the provider holds ${net} for ${r.providerRef}`, r.id)
    if (RESERVING.has(r.status) && (net < 0 || net > r.amount)) v(`${r.status} for ${r.amount}, but the provider moved ${net} for ${r.providerRef}`, r.id)
  }

  if (options.final) {
    // A refund whose outage outlived its retry window is parked and flagged for a person: it stays
    // reserved by design (nothing may tell the engine whether the provider has it) until someone
    // retries or resolves it. Everything else must have come to rest.
    const awaiting = view.refunds.filter((r) => RESERVING.has(r.status) && r.needsReview)
    const stuck = view.refunds.filter((r) => RESERVING.has(r.status) && !r.needsReview)
    if (stuck.length) v(`${stuck.reduce((s, r) => s + r.amount, 0)} still reserved by ${stuck.map((r) => `${r.id} ${r.status}`).join(", ")}`)
    const total = moved.reduce((s, m) => s + m.amount, 0)
    const held = view.refundedAmount + view.refunds.filter((r) => r.unattributed && r.status === "succeeded").reduce((s, r) => s + r.amount, 0)
    const undecided = awaiting.reduce((s, r) => s + r.amount, 0)
    // What the provider moved is what the engine holds as refunded, plus at most what waits for a person.
    if (total < held || total > held + undecided) v(`the provider moved ${total} in refunds; the engine holds ${held} as refunded${undecided ? ` and ${undecided} reserved for review` : ""}`)
  }
  return out
}
