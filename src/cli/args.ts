/**
 * Strict argument parsing for the CLI: every command declares its flags; an unknown flag, a flag
 * without its value, a value outside a flag's choices, or an extra argument is an error that lists
 * what is valid. Nothing is silently ignored (a dropped `--webhook-secret` is a wrong secret).
 */
import { parseArgs } from "node:util"

/** An error meant for the person at the terminal: printed without a stack, exit code 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message)
    this.name = "CliError"
  }
}

/** One flag a command takes. */
export interface FlagSpec {
  readonly type: "string" | "boolean"
  /** The values a string flag may take; anything else is an error listing them. */
  readonly choices?: readonly string[]
  /** Shown in usage: what the value is (e.g. "DIR", "N"). */
  readonly value?: string
  readonly describe: string
}

/** Flags by name (without the leading dashes). */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>

/** What a command line parsed into. */
export interface Parsed {
  readonly flags: Readonly<Record<string, string | undefined>>
  readonly bools: Readonly<Record<string, boolean>>
  readonly positionals: readonly string[]
}

const list = (specs: FlagSpecs) =>
  Object.entries(specs)
    .map(([k, s]) => `--${k}${s.type === "string" ? ` ${s.choices ? s.choices.join("|") : (s.value ?? "VALUE")}` : ""}`)
    .join(", ")

/**
 * Parses `args` against `specs` for `command` (used in messages). `maxPositionals` arguments may follow
 * the command; `--help` is always accepted.
 */
export const parseCommand = (command: string, args: readonly string[], specs: FlagSpecs, maxPositionals: number): Parsed & { help: boolean } => {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean", short: "h" } }
  for (const [k, s] of Object.entries(specs)) options[k] = { type: s.type }
  // strict: false, so that an unknown flag can be reported with the list of valid ones.
  const { values, positionals, tokens } = parseArgs({ args: [...args], options, allowPositionals: true, strict: false, tokens: true })
  for (const t of tokens ?? []) {
    if (t.kind !== "option") continue
    const spec = specs[t.name]
    if (t.name === "help") continue
    if (!spec) {
      throw new CliError(`Unknown flag ${t.rawName} for \`paystate ${command}\`. ${Object.keys(specs).length ? `Valid flags: ${list(specs)}.` : "It takes no flags."}`)
    }
    if (spec.type === "string" && (t.value === undefined || t.value === "")) throw new CliError(`--${t.name} needs a value (${spec.choices ? spec.choices.join(", ") : (spec.value ?? "a value")}).`)
    if (spec.type === "boolean" && t.value !== undefined) throw new CliError(`--${t.name} takes no value.`)
  }
  const flags: Record<string, string | undefined> = {}
  const bools: Record<string, boolean> = {}
  for (const [k, s] of Object.entries(specs)) {
    const v = values[k]
    if (s.type === "boolean") bools[k] = v === true
    else if (typeof v === "string") {
      if (s.choices && !s.choices.includes(v)) throw new CliError(`--${k} ${v} is not one of: ${s.choices.join(", ")}.`)
      flags[k] = v
    }
  }
  if (positionals.length > maxPositionals) {
    throw new CliError(`\`paystate ${command}\` takes ${maxPositionals === 0 ? "no arguments" : `at most ${maxPositionals} argument${maxPositionals > 1 ? "s" : ""}`}; got ${positionals.map((p) => JSON.stringify(p)).join(" ")}.`)
  }
  return { flags, bools, positionals, help: values.help === true }
}

/** The usage lines of a command's flags. */
export const flagHelp = (specs: FlagSpecs): string =>
  Object.entries(specs)
    .map(([k, s]) => `    --${k}${s.type === "string" ? ` ${s.choices ? s.choices.join("|") : (s.value ?? "VALUE")}` : ""}`.padEnd(40) + s.describe)
    .join("\n")

/** A positive integer flag, or undefined when absent. */
export const intFlag = (name: string, value: string | undefined, min = 1): number | undefined => {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) throw new CliError(`--${name} ${value} is not a whole number${min > 0 ? ` ≥ ${min}` : ""}.`)
  return Number(value)
}
