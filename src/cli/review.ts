/**
 * `paystate review list | retry <id> | resolve <id>` over the engine's review API: what needs a person
 * (refunds flagged for review, parked effects, unattributed provider refunds), with why; a retry
 * (look again at the provider); a resolution by a person's word, journaled with who and why.
 */
import { userInfo } from "node:os"
import { CliError, type Parsed } from "./args.js"
import { describePayment, describeRefund, reviewText } from "./format.js"
import { withEngine } from "./read.js"

const login = (): string => {
  try {
    return userInfo().username || "cli"
  } catch {
    return "cli"
  }
}

/** The payment id part of a review item id (`<paymentId>/<refund or operation id>`). */
const paymentOf = (id: string): string => {
  const i = id.indexOf("/")
  if (i <= 0) throw new CliError(`"${id}" is not a review item id: they look like <paymentId>/<refund or operation id>, as \`paystate review list\` shows them.`)
  return id.slice(0, i)
}

/** Runs one review command. */
export const reviewCommand = (sub: "list" | "retry" | "resolve", a: Parsed): Promise<number> => {
  const id = a.positionals[0]
  if (sub !== "list" && !id) throw new CliError(`Usage: paystate review ${sub} <item-id>${sub === "resolve" ? " --outcome succeeded|failed --note TEXT" : ""} (\`paystate review list\` shows the ids).`)
  if (sub === "resolve" && !a.flags.outcome) throw new CliError("review resolve needs --outcome succeeded|failed: what became of the refund or operation.")
  if (sub === "resolve" && !a.flags.note) throw new CliError('review resolve needs --note "…": why, kept in the journal with who resolved it.')
  const paymentId = sub === "list" ? "" : paymentOf(id!)
  return withEngine(a, async (engine, providers, where) => {
    if (sub === "list") {
      const items = await engine.review.list()
      if (a.bools.json) console.log(JSON.stringify(items, null, 2))
      else if (!items.length) console.log(`Nothing to review in ${where}.`)
      else {
        for (const i of items) for (const line of reviewText(i)) console.log(line)
        console.log(`${items.length} item${items.length === 1 ? "" : "s"} to review in ${where}.`)
      }
      return 0
    }
    // A retry calls the provider and a resolution steps the provider's machine: both need the payment's
    // provider configured as the app configures it.
    const payment = await engine.payments.get(paymentId)
    providers.require(payment.provider)
    const by = a.flags.by ?? login()
    const after =
      sub === "retry"
        ? await engine.review.retry(id!, { by, ...(a.flags.note ? { note: a.flags.note } : {}) })
        : await engine.review.resolve(id!, { outcome: a.flags.outcome as "succeeded" | "failed", note: a.flags.note!, by })
    if (a.bools.json) {
      console.log(JSON.stringify(after, null, 2))
      return 0
    }
    console.log(`${sub === "retry" ? "Retried" : `Resolved as ${a.flags.outcome}`} ${id} (by ${by}).`)
    console.log(`${after.id}  ${describePayment(after)}`)
    for (const r of after.refunds) console.log(`  ${describeRefund(r, after.currency)}`)
    const left = (await engine.review.list()).filter((i) => i.paymentId === after.id)
    if (left.length) console.log(`Still to review on this payment: ${left.map((i) => i.id).join(", ")}`)
    return 0
  })
}
