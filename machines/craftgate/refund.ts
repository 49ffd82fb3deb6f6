/**
 * Craftgate's refund path as a statechart (seed 003, PROVIDERS.md). A refund of the whole payment on
 * the day it was made, with no earlier refund, is a CANCEL (`sameDayWithoutPartial`); any other
 * refund is a REFUND, of the whole payment or of one payment transaction (`perTransaction`). A CANCEL
 * answers at once; a REFUND may wait (WAITING) until the bank settles it, and Craftgate sends no
 * webhook when one fails, so a waiting refund is looked up and flagged for review after the last poll.
 * A REFUND that Craftgate carries out as several transaction refunds is `split`: its parts are
 * entries of their own in the ledger and carry the money, so the whole is released.
 */
import { enqueueActions } from "xstate"
import { awaiting, refundContext, refundSetup, type RefundContext } from "../lifecycle/refund.js"
import type { Details } from "../lifecycle/types.js"
import { sameDay, type DayRule } from "./same-day.js"

/** What the payment's policy tells the refund machine (its `facts`). */
export interface CraftgateRefundFacts {
  /** When the payment was made (Craftgate's own time when known). */
  readonly paidAt: string
  /** True when an earlier refund of the payment was not refused: no CANCEL any more. */
  readonly earlierRefund: boolean
  /** The business-day rule (zone and cut-off) "same day" is judged by. */
  readonly dayRule: Required<DayRule>
  /** The payment transaction a partial refund goes to; absent for a whole-payment refund. */
  readonly paymentTransactionId?: string
  /** Options passed through to Craftgate (refundDestinationType, chargeFromMe). */
  readonly passthrough: Details
}

// Standalone enqueueActions are typed against EventObject; the machine's setup fixes the real types.
const act = (fn: (args: { context: RefundContext; enqueue: any }, params: any) => void): any => enqueueActions(fn as never)

const whole = (ctx: RefundContext, refundType: string) => ({
  type: "effect" as const,
  params: { opId: ctx.id, op: "refund", payload: { expectedRefundType: refundType, ...factsOf(ctx.facts).passthrough } },
})

/** Craftgate carried a REFUND out as several transaction refunds (the adapter's SPLIT report). */
const SPLIT = { guard: { type: "says", params: { word: "SPLIT" } }, target: "split", actions: "record" } as const

const factsOf = (facts: Details): CraftgateRefundFacts => facts as unknown as CraftgateRefundFacts

/** Seed 003's rule: a whole refund on the payment's business day, with no earlier refund, is a CANCEL. */
export const isSameDayWithoutPartial = (facts: CraftgateRefundFacts, at: string): boolean =>
  !facts.earlierRefund && facts.paymentTransactionId === undefined && sameDay(facts.paidAt, at, facts.dayRule)

/** Craftgate refunds: CANCEL on the payment's day, REFUND otherwise, settled at once or after WAITING. */
export const craftgateRefundMachine = refundSetup
  .extend({
    guards: {
      /** Seed 003: the whole payment, on its business day, with no refund before it. */
      sameDayWithoutPartial: ({ context }) => isSameDayWithoutPartial(factsOf(context.facts), context.createdAt),
      /** A partial refund names one payment transaction (refund-transactions endpoint). */
      perTransaction: ({ context }) => factsOf(context.facts).paymentTransactionId !== undefined,
    },
    actions: {
      /** What the ledger calls this refund once the rule decided (a CANCEL is kind `cancel`). */
      assignKind: act(({ context, enqueue }, params: { kind?: string; refundType: string }) =>
        enqueue.assign({ kind: params.kind ?? context.kind, details: { ...context.details, refundType: params.refundType } }),
      ),
      /** The whole payment through Craftgate's refund endpoint, with the type the rule expects. */
      requestWhole: act(({ context, enqueue }, params: { refundType: string }) => enqueue(whole(context, params.refundType))),
      /** One payment transaction through refund-transactions, or the whole payment as a REFUND. */
      requestRefundOrTransaction: act(({ context, enqueue }) =>
        enqueue(factsOf(context.facts).paymentTransactionId !== undefined && context.effect ? { type: "effect", params: { opId: context.id, ...context.effect } } : whole(context, "REFUND")),
      ),
    },
  })
  .createMachine({
    id: "craftgateRefund",
    version: "1",
    context: refundContext,
    initial: "deciding",
    states: {
      deciding: {
        description: "Seed 003: CANCEL when the whole payment is refunded on its day with no earlier refund; REFUND otherwise.",
        tags: ["reserved", "unconfirmed"],
        always: [
          { guard: "perTransaction", target: "refunding" },
          { guard: "sameDayWithoutPartial", target: "cancelling" },
          { target: "refunding" },
        ],
      },
      cancelling: {
        description: "POST /payment/v1/refunds with the whole payment: Craftgate cancels it (no money moved yet).",
        tags: ["reserved", "unconfirmed"],
        entry: [
          { type: "assignKind", params: { kind: "cancel", refundType: "CANCEL" } },
          { type: "requestWhole", params: { refundType: "CANCEL" } },
        ],
        on: awaiting({ paid: "succeeded", notPaid: "failed", accepted: "waiting", refused: "failed" }),
      },
      refunding: {
        description: "A REFUND: of the whole payment (one transaction refund per payment transaction) or of one transaction.",
        tags: ["reserved", "unconfirmed"],
        entry: [{ type: "assignKind", params: { refundType: "REFUND" } }, "requestRefundOrTransaction"],
        on: awaiting({ paid: "succeeded", notPaid: "failed", accepted: "waiting", refused: "failed", first: [SPLIT] }),
      },
      waiting: {
        description: "WAITING: the bank has not settled the refund; looked up on a schedule, review after the last poll.",
        tags: ["reserved"],
        entry: "watch",
        on: awaiting({ paid: "succeeded", notPaid: "failed", first: [SPLIT] }),
      },
      succeeded: { tags: ["settled"], type: "final", entry: "stopWatching" },
      failed: { tags: ["released"], type: "final", entry: "stopWatching" },
      split: {
        description: "Craftgate carried the REFUND out as transaction refunds: each is an entry of its own; this one holds nothing.",
        tags: ["released"],
        type: "final",
        entry: "stopWatching",
      },
    },
  })
