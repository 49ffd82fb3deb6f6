/**
 * KOMOJU's refund paths as statecharts (seed 001 refunds, seed 000 refund requests):
 * - `komojuRefund`: a card or e-money refund completes at once (requested → succeeded | failed); a
 *   cash refund (konbini, pay-easy, bank transfer) is `pending` with a `redirect_url` until the
 *   customer collects it at a store (requested → awaitingCustomer → succeeded | failed).
 * - `komojuRefundRequest`: a refund request for a cash payment, paid back by bank transfer:
 *   requested → pending → completed | rejected.
 */
import { and } from "xstate"
import { awaiting, refundContext, refundSetup } from "../lifecycle/refund.js"

/** KOMOJU refunds: card and e-money at once, cash ones once the customer collects them. */
export const komojuRefundMachine = refundSetup
  .extend({
    guards: {
      /** The payment was made in cash (konbini, pay-easy, bank transfer): the customer collects the refund. */
      cashMethod: ({ context }) => context.facts.cash === true,
    },
  })
  .createMachine({
    id: "komojuRefund",
    version: "1",
    context: refundContext,
    initial: "requested",
    states: {
      requested: {
        tags: ["reserved", "unconfirmed"],
        entry: "request",
        on: awaiting({ paid: "succeeded", notPaid: "failed", accepted: "pending", refused: "failed", first: [{ guard: and(["accepted", "cashMethod"]), target: "awaitingCustomer", actions: "record" }] }),
      },
      awaitingCustomer: {
        description: "KOMOJU answered pending with a redirect_url: the customer collects the money at a store.",
        tags: ["reserved"],
        entry: "watch",
        on: awaiting({ paid: "succeeded", notPaid: "failed" }),
      },
      pending: {
        description: "KOMOJU accepted a card or e-money refund without completing it yet (rare).",
        tags: ["reserved"],
        entry: "watch",
        on: awaiting({ paid: "succeeded", notPaid: "failed" }),
      },
      succeeded: { tags: ["settled"], type: "final", entry: "stopWatching" },
      failed: { tags: ["released"], type: "final", entry: "stopWatching" },
    },
  })

/** KOMOJU refund requests: paid back by bank transfer, or rejected by KOMOJU. */
export const komojuRefundRequestMachine = refundSetup.createMachine({
  id: "komojuRefundRequest",
  version: "1",
  context: refundContext,
  initial: "requested",
  states: {
    requested: {
      tags: ["reserved", "unconfirmed"],
      entry: "request",
      on: awaiting({ paid: "completed", notPaid: "rejected", accepted: "pending", refused: "rejected" }),
    },
    pending: {
      description: "KOMOJU has the request; it pays the customer's bank account by transfer.",
      tags: ["reserved"],
      entry: "watch",
      on: awaiting({ paid: "completed", notPaid: "rejected" }),
    },
    completed: { tags: ["settled"], type: "final", entry: "stopWatching" },
    rejected: { tags: ["released"], type: "final", entry: "stopWatching" },
  },
})

