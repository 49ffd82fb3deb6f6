#!/usr/bin/env node
/** The `paystate` command: demo, sandbox, status, history, diagram. */
import { parseArgs } from "node:util"
import { toJson, toMermaid } from "../diagram.js"
import { isPaystateError } from "../errors.js"
import { formatMoney } from "../money.js"
import { toView } from "../view.js"
import { runDemo } from "./demo.js"
import { CLI_PROVIDERS, diagramMachines } from "./providers.js"
import { openStore } from "./stores.js"

const USAGE = `paystate — payment lifecycles as durable state machines

  paystate demo [--store memory|pglite] [--data-dir DIR] [--only komoju,craftgate,onekey]
  paystate sandbox <komoju|craftgate|onekey> [--port N] [--webhook-url URL] [credential flags]
  paystate status <payment-id> [--store pglite|postgres] [--data-dir DIR] [--url URL] [--json]
  paystate history <payment-id> [--store pglite|postgres] [--data-dir DIR] [--url URL]
  paystate diagram <lifecycle|komoju|craftgate|onekey> [--format mermaid|json]`

const main = async (argv: string[]): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      store: { type: "string" },
      "data-dir": { type: "string" },
      url: { type: "string" },
      port: { type: "string" },
      format: { type: "string" },
      only: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      "webhook-url": { type: "string" },
      "secret-key": { type: "string" },
      "webhook-secret": { type: "string" },
      "api-key": { type: "string" },
      login: { type: "string" },
      "read-only-key": { type: "string" },
      "webhook-key": { type: "string" },
      "time-zone": { type: "string" },
      cutoff: { type: "string" },
      "day-cutoff": { type: "string" },
      "webhook-signature-header": { type: "string" },
      "tax-rate": { type: "string" },
      "deposit-expiry-minutes": { type: "string" },
      "card-partial-refunds": { type: "string" },
    },
  })
  const flags = values as Record<string, string | undefined>
  const [command, arg] = positionals
  if (!command || values.help) {
    console.log(USAGE)
    return command || values.help ? 0 : 1
  }
  switch (command) {
    case "demo":
      return runDemo({ store: flags.store, dataDir: flags["data-dir"], only: flags.only?.split(",") })
    case "sandbox": {
      const p = CLI_PROVIDERS.find((x) => x.name === arg)
      if (!p) return fail(`Unknown provider "${arg ?? ""}". Use one of: ${CLI_PROVIDERS.map((x) => x.name).join(", ")}.`)
      const sandbox = await p.startSandbox(flags)
      console.log(`listening on ${sandbox.url}`)
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve)
        process.once("SIGTERM", resolve)
      })
      await sandbox.close()
      return 0
    }
    case "status":
    case "history": {
      if (!arg) return fail(`Usage: paystate ${command} <payment-id>`)
      const store = openStore(flags)
      try {
        await store.init()
        const row = await store.load(arg)
        if (!row) return fail(`No payment "${arg}" in the ${store.name} store.`)
        if (command === "status") {
          const v = toView(row)
          if (values.json) console.log(JSON.stringify(v, null, 2))
          else {
            console.log(`${v.id}  ${v.provider}  ${v.state}  ${formatMoney(v.amount, v.currency)}`)
            console.log(`  captured ${formatMoney(v.capturedAmount, v.currency)}, refunded ${formatMoney(v.refundedAmount, v.currency)}, reserved ${formatMoney(v.reservedAmount, v.currency)}, refundable ${formatMoney(v.refundableAmount, v.currency)}`)
            for (const r of v.refunds) console.log(`  ${r.kind} ${r.id}  ${formatMoney(r.amount, v.currency)}  ${r.status}${r.providerStatus ? ` (${r.providerStatus})` : ""}${r.needsReview ? "  NEEDS REVIEW" : ""}`)
          }
        } else {
          for (const j of await store.journal(arg)) console.log(`v${j.version}  ${j.at}  ${String((j.event as { type?: string }).type)}  → ${j.status}`)
        }
        return 0
      } finally {
        await store.close()
      }
    }
    case "diagram": {
      const machines = diagramMachines()
      const m = arg ? machines[arg] : undefined
      if (!m) return fail(`Unknown machine "${arg ?? ""}". Use one of: ${Object.keys(machines).join(", ")}.`)
      console.log(flags.format === "json" ? JSON.stringify(toJson(m), null, 2) : toMermaid(m))
      return 0
    }
    default:
      return fail(`Unknown command "${command}".\n\n${USAGE}`)
  }
}

const fail = (message: string): number => {
  console.error(message)
  return 1
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(isPaystateError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.stack ?? e.message : String(e))
    process.exit(1)
  },
)
