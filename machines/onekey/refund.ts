/**
 * OneKey's (Directa24 v3) refund path as a statechart (seed 002, PROVIDERS.md). A bank refund is
 * PENDING, then DELIVERED to the bank, then COMPLETED; OneKey may ask for corrected bank details
 * (INCORRECT_DETAILS), REJECT or CANCEL it; a card refund answers SUCCESS, REJECTED or IN_PROGRESS at
 * once. A COMPLETED refund can still be reversed when the bank rejects it afterwards: the money comes
 * back and the amount is free again, the refund kept on record.
 */
import { awaiting, refundContext, refundSetup, settledOn } from "../lifecycle/refund.js"

const says = (word: string) => ({ type: "says", params: { word } }) as const

/** What a OneKey state in flight takes: the provider's words first, then settled / rejected / accepted. */
const onekeyOn = (here: string) =>
  awaiting({
    paid: "completed",
    notPaid: "rejected",
    // PENDING again after IN_PROGRESS or DELIVERED is stale: those stay; from elsewhere it is `pending`.
    ...(here === "pending" || here === "inProgress" || here === "delivered" ? {} : { accepted: "pending" }),
    ...(here === "requesting" ? { refused: "rejected" } : {}),
    first: [
      // INCORRECT_DETAILS again (a poll, a repeated notification) is not a new PENDING: it stays.
      ...(here === "incorrectDetails" ? [{ guard: says("INCORRECT_DETAILS"), actions: "record" }] : []),
      { guard: says("CANCELLED"), target: "cancelled", actions: "record" },
      ...(here === "delivered"
        ? []
        : [
            { guard: says("DELIVERED"), target: "delivered", actions: "record" },
            ...(here === "inProgress" ? [] : [{ guard: says("IN_PROGRESS"), target: "inProgress", actions: "record" }]),
            ...(here === "incorrectDetails" ? [] : [{ guard: says("INCORRECT_DETAILS"), target: "incorrectDetails", actions: "record" }]),
          ]),
    ],
  })

/** OneKey refunds: bank refunds through PENDING → DELIVERED → COMPLETED, card ones SUCCESS / REJECTED / IN_PROGRESS. */
export const onekeyRefundMachine = refundSetup.createMachine({
  id: "onekeyRefund",
  version: "1",
  context: refundContext,
  initial: "requesting",
  states: {
    requesting: {
      description: "POST /v3/refunds sent; a card answers SUCCESS, REJECTED or IN_PROGRESS, a bank refund PENDING.",
      tags: ["reserved", "unconfirmed"],
      entry: "request",
      on: onekeyOn("requesting"),
    },
    pending: {
      description: "PENDING: OneKey has the refund and will send it to the bank.",
      tags: ["reserved"],
      entry: "watch",
      on: onekeyOn("pending"),
    },
    incorrectDetails: {
      description: "INCORRECT_DETAILS: the bank account was refused; the amount stays held until OneKey rejects or re-sends it.",
      tags: ["reserved"],
      entry: "watch",
      on: onekeyOn("incorrectDetails"),
    },
    inProgress: {
      description: "IN_PROGRESS: the card network has not answered yet.",
      tags: ["reserved"],
      entry: "watch",
      on: onekeyOn("inProgress"),
    },
    delivered: {
      description: "DELIVERED: the bank has the transfer; COMPLETED once it pays.",
      tags: ["reserved"],
      entry: "watch",
      on: onekeyOn("delivered"),
    },
    completed: {
      description: "COMPLETED (or card SUCCESS): the money went back; the bank can still reverse it.",
      tags: ["settled"],
      entry: "stopWatching",
      on: { REPORT: { guard: "fails", target: "reversed", actions: "record" }, ...settledOn },
    },
    rejected: { tags: ["released"], type: "final", entry: "stopWatching" },
    cancelled: { tags: ["released"], type: "final", entry: "stopWatching" },
    reversed: {
      description: "The bank rejected a COMPLETED refund: the money came back, the amount is free again.",
      tags: ["released", "reversed"],
      type: "final",
    },
  },
})
