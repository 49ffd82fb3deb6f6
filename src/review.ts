/**
 * The review API: what needs a person, and the two things a person can do about it. Items are
 * refunds flagged for review (polls ran out, the retry window passed, a provider id conflict),
 * parked effects, and unattributed provider refunds. Every action is an event on the payment, so it
 * is journaled with who and why, goes through the same step (the ceiling is checked there), and a
 * refusal writes nothing.
 */
import { z } from "zod"
import type { LedgerEntry, MachineContext, PaymentEvent } from "../machines/lifecycle/index.js"
import { isPaystateError, paystateError } from "./errors.js"
import type { OutboxRow, Store, StoredPayment } from "./store.js"
import type { PaymentView, ReviewItem, ReviewResolution } from "./types.js"
import { assertStorable, parseOrThrow } from "./validation.js"

/** What the review API needs from the engine. */
export interface ReviewDeps {
  readonly store: Store
  readonly now: () => string
  readonly leaseMs: number
  readonly load: (paymentId: string) => Promise<StoredPayment>
  readonly step: (paymentId: string, event: PaymentEvent, opts: { command: boolean; outboxDone?: readonly string[] }) => Promise<{ added: OutboxRow[] }>
  readonly runAll: (rows: OutboxRow[], reconcileFirst?: boolean) => Promise<unknown>
  readonly view: (row: StoredPayment) => PaymentView
  readonly onError: (error: unknown, where: string) => void
}

const itemId = z.string().min(3).max(400).regex(/^[^/\s]+\/\S+$/, "a review item id is <paymentId>/<refund or operation id>, as review.list() gives it")
const resolution = z.strictObject({
  outcome: z.enum(["succeeded", "failed"]),
  note: z.string().min(1, "say why in a note").max(2000),
  providerRef: z.string().min(1).max(200).optional(),
  by: z.string().min(1).max(200).optional(),
})
const retryOptions = z.strictObject({ note: z.string().max(2000).optional(), by: z.string().min(1).max(200).optional() }).optional()

const split = (id: string): { paymentId: string; rest: string } => {
  const i = id.indexOf("/")
  return { paymentId: id.slice(0, i), rest: id.slice(i + 1) }
}

const needsPerson = (r: LedgerEntry): boolean => !!r.needsReview || !!r.unattributed

const refundItem = (p: StoredPayment, r: LedgerEntry, parked?: OutboxRow): ReviewItem => ({
  id: `${p.id}/${r.id}`,
  paymentId: p.id,
  provider: p.provider,
  kind: r.unattributed ? "unattributed" : "refund",
  refundId: r.id,
  ...(parked ? { opId: parked.opId } : {}),
  amount: r.amount,
  currency: p.currency,
  status: r.status,
  providerRef: r.providerRef ?? null,
  reasons: [
    ...(r.unattributed ? [`The provider reported refund ${r.providerRef} that no paystate refund has claimed yet; it is held against the ceiling.`] : []),
    ...(r.needsReview ? [r.reviewReason ?? "Flagged for review."] : []),
    ...(parked ? [`Its ${parked.op} effect is parked: ${parked.lastError ?? "no answer"}`] : []),
  ],
  since: r.updatedAt,
})

/** Builds `engine.review`. */
export const createReview = (deps: ReviewDeps) => {
  const { store } = deps

  const list = async (): Promise<ReviewItem[]> => {
    const parked = await store.outbox(undefined, "parked")
    const parkedById = new Map(parked.map((o) => [o.id, o]))
    const items: ReviewItem[] = []
    const seen = new Set<string>()
    for (let page = 1; ; page++) {
      const batch = await store.list({ needsReview: true, page, perPage: 500 })
      for (const p of batch.data) {
        for (const r of (p.snapshot.context as unknown as MachineContext).refunds) {
          if (!needsPerson(r)) continue
          const item = refundItem(p, r, parkedById.get(`${p.id}/${r.id}`))
          seen.add(item.id)
          items.push(item)
        }
      }
      if (page >= batch.lastPage) break
    }
    for (const o of parked) {
      if (seen.has(o.id)) continue
      const p = await store.load(o.paymentId)
      const refund = p ? (p.snapshot.context as unknown as MachineContext).refunds.find((r) => r.id === o.opId) : undefined
      if (p && refund) items.push(refundItem(p, refund, o))
      else
        items.push({
          id: o.id,
          paymentId: o.paymentId,
          provider: o.provider,
          kind: "effect",
          opId: o.opId,
          currency: p?.currency ?? "",
          reasons: [`The ${o.op} effect is parked after ${o.attempts} attempts: ${o.lastError ?? "no answer"}`],
          since: o.createdAt,
        })
    }
    return items.sort((a, b) => a.since.localeCompare(b.since))
  }

  const find = async (id: string) => {
    assertStorable(id, "review item id")
    const { paymentId, rest } = split(parseOrThrow(itemId, id, "review item id"))
    const row = await store.load(paymentId)
    if (!row) throw paystateError("REVIEW_ITEM_NOT_FOUND", `No review item "${id}": there is no payment ${paymentId}.`, { id })
    const entry = (row.snapshot.context as unknown as MachineContext).refunds.find((r) => r.id === rest)
    const effect = (await store.outbox(paymentId)).find((o) => o.id === id && o.state !== "done")
    if (!entry && !effect) throw paystateError("REVIEW_ITEM_NOT_FOUND", `No review item "${id}": payment ${paymentId} has no refund or open effect ${rest}.`, { id })
    return { paymentId, entry, effect }
  }

  // A lookup that can never tell (REVIEW_REQUIRED) is the caller's answer; other failures leave the
  // item as it was (parked again or flagged after its polls) and the view shows it.
  const settle = (id: string) => (e: unknown) => {
    if (isPaystateError(e, "REVIEW_REQUIRED")) throw e
    deps.onError(e, `review retry of ${id}`)
  }

  /**
   * Looks again: a parked effect goes back to the queue and runs now; a flagged refund is polled
   * anew. Rejects with REVIEW_REQUIRED when no lookup can tell without doing the operation twice.
   */
  const retry = async (id: string, options?: { note?: string; by?: string }): Promise<PaymentView> => {
    assertStorable(options, "review.retry options")
    const o = parseOrThrow(retryOptions, options, "review.retry options")
    const { paymentId, entry, effect } = await find(id)
    // Each step takes the payment's lock itself; the machine re-checks what `find` saw.
    const at = deps.now()
    if (effect?.state === "parked") {
      await store.unparkOutbox(effect.id, at)
      if (entry?.needsReview) await deps.step(paymentId, { type: "REVIEW.RETRY", at, refundId: entry.id, by: o?.by ?? "host", lookup: false, ...(o?.note ? { note: o.note } : {}) }, { command: true })
      const claimed = await store.claimOutbox(at, deps.leaseMs, 1, [effect.id])
      await deps.runAll([...claimed], true).catch(settle(id))
    } else if (entry && entry.needsReview && !entry.unattributed) {
      const { added } = await deps.step(paymentId, { type: "REVIEW.RETRY", at, refundId: entry.id, by: o?.by ?? "host", lookup: !effect, ...(o?.note ? { note: o.note } : {}) }, { command: true })
      await deps.runAll(added).catch(settle(id))
    } else {
      throw paystateError("REVIEW_ITEM_NOT_FOUND", `"${id}" is not waiting for a retry: ${entry?.unattributed ? "an unattributed provider refund is resolved, not retried" : "nothing is parked or flagged"}.`, { id })
    }
    return deps.view(await deps.load(paymentId))
  }

  /** Settles an item by a person's word, journaled with who and why; refused if it would break the ceiling. */
  const resolve = async (id: string, resolutionInput: ReviewResolution): Promise<PaymentView> => {
    assertStorable(resolutionInput, "review.resolve resolution")
    const r = parseOrThrow(resolution, resolutionInput, "review.resolve resolution")
    const { paymentId, entry, effect } = await find(id)
    const by = r.by ?? "host"
    const at = deps.now()
    const outboxDone = effect ? [effect.id] : []
    if (entry) {
      await deps.step(paymentId, { type: "REVIEW.RESOLVE", at, refundId: entry.id, outcome: r.outcome, note: r.note, by, ...(r.providerRef ? { providerRef: r.providerRef } : {}) }, { command: true, outboxDone })
    } else if (effect) {
      const event: PaymentEvent =
        r.outcome === "succeeded"
          ? { type: "OP.SUCCEEDED", at, opId: effect.opId, review: { by, note: r.note } }
          : { type: "OP.FAILED", at, opId: effect.opId, code: "RESOLVED_BY_REVIEW", message: `${by}: ${r.note}`, review: { by, note: r.note } }
      await deps.step(paymentId, event, { command: false, outboxDone })
    }
    return deps.view(await deps.load(paymentId))
  }

  return { list, retry, resolve }
}
