#!/usr/bin/env node
/** The `paystate` command: demo, sandbox, list, status, history, review, diagram. */
// Only the argument parser and the flag tables load up front: a usage error is answered at once, and
// each command loads what it needs (stores, providers, sandboxes) once its flags are known to be valid.
import { CliError, flagHelp, intFlag, parseCommand, type FlagSpecs } from "./args.js"
import { DEMO_FLAGS, DIAGRAM_FLAGS, LIST_FLAGS, PROVIDER_NAMES, READ_FLAGS, REPLAY_FLAGS, REVIEW_FLAGS } from "./flags.js"

const providerNames: readonly string[] = PROVIDER_NAMES

const USAGE = `paystate — payment lifecycles as durable state machines

  paystate demo [--store pglite|memory] [--data-dir DIR] [--only ${providerNames.join(",")}]
  paystate sandbox <${providerNames.join("|")}> [--port N] [--webhook-url URL] [provider flags]
  paystate list [filters] [--page N] [--per-page N] [--json] [store flags]
  paystate status <payment-id> [--json] [store flags]
  paystate history <payment-id> [--json] [store flags]
  paystate review list [--json] [store flags]
  paystate review retry <item-id> [--by NAME] [--note TEXT] [store flags] [--config FILE]
  paystate review resolve <item-id> --outcome succeeded|failed --note TEXT [--by NAME] [store flags] [--config FILE]
  paystate replay --check [store flags] [--config app.js] [--json]
  paystate diagram <machine> [--format mermaid|json]   (paystate diagram --list names them)
  paystate console [--port N] [--host ADDR] [--base-path PATH] [store flags] [--config FILE]   (token: PAYSTATE_CONSOLE_TOKEN)

Store flags: --store pglite|postgres, --data-dir DIR (PGlite, default .paystate/demo), --url URL and
--schema NAME (PostgreSQL; PAYSTATE_DATABASE_URL / PAYSTATE_DATABASE_SCHEMA; a URL alone means
PostgreSQL). Read commands never create a store. \`paystate <command> --help\` lists a command's flags.`

const commandHelp = (usage: string, specs: FlagSpecs) => `${usage}\n\n${flagHelp(specs)}`

const main = async (argv: readonly string[]): Promise<number> => {
  const [command, ...rest] = argv
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE)
    return command ? 0 : 2
  }
  switch (command) {
    case "demo": {
      const a = parseCommand("demo", rest, DEMO_FLAGS, 0)
      if (a.help) return help(commandHelp("paystate demo", DEMO_FLAGS))
      const only = a.flags.only?.split(",").map((s) => s.trim())
      const unknown = only?.filter((n) => !providerNames.includes(n)) ?? []
      if (unknown.length) throw new CliError(`--only ${unknown.join(",")}: no such provider. Use any of: ${providerNames.join(", ")}.`)
      const { runDemo } = await import("./demo.js")
      const port = intFlag("inspect-port", a.flags["inspect-port"]) ?? 8080
      if (port > 65535) throw new CliError(`--inspect-port ${port} is not a port (1–65535).`)
      return runDemo({ store: a.flags.store, dataDir: a.flags["data-dir"], only, ...(a.bools.inspect || a.flags["inspect-port"] !== undefined ? { inspectPort: port } : {}) })
    }
    case "sandbox": {
      const name = rest[0]
      const { cliProvider, sandboxFlagsOf } = await import("./providers.js")
      const p = name && !name.startsWith("-") ? cliProvider(name) : undefined
      if (!p) {
        if (name === "--help" || name === "-h") return help(`paystate sandbox <${providerNames.join("|")}> [flags]; \`paystate sandbox <provider> --help\` lists its flags.`)
        throw new CliError(`${name && !name.startsWith("-") ? `Unknown provider "${name}"` : "Name the provider first"}: paystate sandbox <${providerNames.join("|")}> [flags].`)
      }
      const specs = sandboxFlagsOf(p)
      const a = parseCommand(`sandbox ${p.name}`, rest.slice(1), specs, 0)
      if (a.help) return help(commandHelp(`paystate sandbox ${p.name}`, specs))
      const sandbox = await p.startSandbox(a.flags)
      console.log(`listening on ${sandbox.url}`)
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve)
        process.once("SIGTERM", resolve)
      })
      await sandbox.close()
      return 0
    }
    case "list": {
      const a = parseCommand("list", rest, LIST_FLAGS, 0)
      if (a.help) return help(commandHelp("paystate list [filters]", LIST_FLAGS))
      const { listCommand } = await import("./read.js")
      return listCommand(a)
    }
    case "status":
    case "history": {
      const a = parseCommand(command, rest, READ_FLAGS, 1)
      if (a.help) return help(commandHelp(`paystate ${command} <payment-id>`, READ_FLAGS))
      const id = a.positionals[0]
      if (!id) throw new CliError(`Usage: paystate ${command} <payment-id> (\`paystate list\` shows the ids).`)
      const { historyCommand, statusCommand } = await import("./read.js")
      return command === "status" ? statusCommand(id, a) : historyCommand(id, a)
    }
    case "review": {
      const [sub, ...args] = rest
      const specs = sub ? REVIEW_FLAGS[sub] : undefined
      if (!sub || !specs) {
        if (sub === "--help" || sub === "-h") return help("paystate review list | retry <item-id> | resolve <item-id> --outcome succeeded|failed --note TEXT")
        throw new CliError(`${sub ? `Unknown review command "${sub}"` : "Name a review command"}: use one of list, retry, resolve.`)
      }
      const a = parseCommand(`review ${sub}`, args, specs, sub === "list" ? 0 : 1)
      if (a.help) return help(commandHelp(`paystate review ${sub}${sub === "list" ? "" : " <item-id>"}`, specs))
      const { reviewCommand } = await import("./review.js")
      return reviewCommand(sub as "list" | "retry" | "resolve", a)
    }
    case "replay": {
      const a = parseCommand("replay", rest, REPLAY_FLAGS, 0)
      if (a.help || !a.bools.check) return help(commandHelp("paystate replay --check", REPLAY_FLAGS))
      const { replayCommand } = await import("./read.js")
      return replayCommand(a)
    }
    case "diagram": {
      const a = parseCommand("diagram", rest, DIAGRAM_FLAGS, 1)
      if (a.help) return help(commandHelp("paystate diagram <machine> | --list", DIAGRAM_FLAGS))
      const name = a.positionals[0]
      const [{ diagramMachines, diagramList }, { toJson, toMermaid }] = await Promise.all([import("./providers.js"), import("../diagram.js")])
      const machines = diagramMachines()
      if (a.bools.list) {
        const list = diagramList()
        console.log(a.flags.format === "json" ? JSON.stringify(list, null, 2) : list.map((m) => `${m.name.padEnd(22)} ${m.kind.padEnd(8)} v${m.version}  ${m.provider}`).join("\n"))
        return 0
      }
      const m = name ? machines[name] : undefined
      if (!m) throw new CliError(`${name ? `Unknown machine "${name}"` : "Name a machine"}: use one of ${Object.keys(machines).join(", ")}.`)
      console.log(a.flags.format === "json" ? JSON.stringify(toJson(m), null, 2) : toMermaid(m))
      return 0
    }
    case "console": {
      const { CONSOLE_FLAGS, consoleCommand } = await import("./console.js")
      const a = parseCommand("console", rest, CONSOLE_FLAGS, 0)
      if (a.help) return help(commandHelp("paystate console", CONSOLE_FLAGS))
      return consoleCommand(a)
    }
    default:
      throw new CliError(`Unknown command "${command}". Commands: demo, sandbox, list, status, history, review, replay, diagram, console.\n\n${USAGE}`)
  }
}

/** A PaystateError, recognised without loading the errors module (and Effect) up front. */
const isPaystateErrorLike = (e: unknown): e is { code: string; message: string } =>
  !!e && typeof e === "object" && (e as { _tag?: unknown })._tag === "PaystateError" && typeof (e as { code?: unknown }).code === "string"

const help = (text: string): number => {
  console.log(text)
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof CliError) {
      console.error(e.message)
      process.exit(2)
    }
    // INVALID_INPUT from a filter or a note is the caller's to fix, like a usage error.
    if (isPaystateErrorLike(e)) {
      console.error(`${e.code}: ${e.message}`)
      process.exit(e.code === "INVALID_INPUT" ? 2 : 1)
    }
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e))
    process.exit(1)
  },
)
