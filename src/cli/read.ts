/**
 * The read commands: `list`, `status`, `history`. Each opens an existing store (never creates one),
 * reads through an engine that runs nothing (no recovery, no background work), and prints text or,
 * with `--json`, the same data as JSON.
 */
import { createEngine, type Engine } from "../engine.js"
import { replaySnapshots } from "../replay.js"
import type { ListQuery } from "../store.js"
import { CliError, intFlag, type Parsed } from "./args.js"
import { cliProviders, type CliProviders } from "./config.js"
import { describePayment, describeRefund, historyLines, historyText, paymentTable } from "./format.js"
import { chooseStore, describeStore, openExistingStore, type StoreFlags } from "./stores.js"

/** Runs `fn` with an engine on the existing store the flags name, and closes both. */
export const withEngine = async <T>(a: Parsed, fn: (engine: Engine, providers: CliProviders, where: string) => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> => {
  const choice = chooseStore(a.flags as StoreFlags, env, ["pglite", "postgres"])
  const providers = await cliProviders(a.flags.config, env)
  const store = await openExistingStore(choice)
  // Nothing runs by itself: the app's own engine does recovery and timers; a CLI run only does what it is asked.
  const engine = createEngine({ store, providers: providers.providers, recoverOnStart: false, backgroundIntervalMs: 0, onError: (e, where) => console.error(`! ${where}: ${e instanceof Error ? e.message : String(e)}`) })
  try {
    await engine.ready
    return await fn(engine, providers, describeStore(choice))
  } finally {
    await engine.close()
  }
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2))

/** The list API's query from `list`'s flags; a bad value is refused before any store is opened. */
export const listQuery = (a: Parsed): ListQuery => {
  const f = a.flags
  for (const k of ["since", "until"] as const) {
    if (f[k] !== undefined && Number.isNaN(Date.parse(f[k]!))) throw new CliError(`--${k} ${f[k]} is not an ISO-8601 time (e.g. 2026-01-31T00:00:00Z).`)
  }
  return {
    ...(f.provider ? { provider: f.provider } : {}),
    ...(f.status ? { status: f.status as ListQuery["status"] } : {}),
    ...(f.currency ? { currency: f.currency.toUpperCase() } : {}),
    ...(f["external-order-num"] ? { externalOrderNum: f["external-order-num"] } : {}),
    ...(f.since ? { startTime: f.since } : {}),
    ...(f.until ? { endTime: f.until } : {}),
    ...(a.bools["needs-review"] ? { needsReview: true } : {}),
    page: intFlag("page", f.page) ?? 1,
    perPage: intFlag("per-page", f["per-page"]) ?? 20,
  }
}

/** `paystate list`. */
export const listCommand = (a: Parsed): Promise<number> => {
  const query = listQuery(a)
  return withEngine(a, async (engine, _p, where) => {
    const page = await engine.payments.list(query)
    if (a.bools.json) {
      print(page)
      return 0
    }
    if (page.total === 0) {
      console.log(`No payments${Object.keys(query).length > 2 ? " match these filters" : ""} in ${where}.`)
      return 0
    }
    for (const line of paymentTable(page.data)) console.log(line)
    console.log(`page ${page.page} of ${page.lastPage} (${page.total} payment${page.total === 1 ? "" : "s"}) in ${where}${page.page < page.lastPage ? `; next: --page ${page.page + 1}` : ""}`)
    return 0
  })
}

/** `paystate status <id>`. */
export const statusCommand = (id: string, a: Parsed): Promise<number> =>
  withEngine(a, async (engine) => {
    const v = await engine.payments.get(id)
    if (a.bools.json) {
      print(v)
      return 0
    }
    console.log(`${v.id}  ${v.provider}${v.providerRef ? ` ${v.providerRef}` : ""}  ${v.state}${v.method ? `  ${v.method}` : ""}${v.externalOrderNum ? `  order ${v.externalOrderNum}` : ""}`)
    console.log(`  ${describePayment(v)}`)
    for (const r of v.refunds) console.log(`  ${describeRefund(r, v.currency)}`)
    return 0
  })

/** `paystate history <id>`: every event with what it names, the state and the money after it, and the refunds it changed. */
export const historyCommand = (id: string, a: Parsed): Promise<number> =>
  withEngine(a, async (engine, providers) => {
    const v = await engine.payments.get(id)
    // Events come masked from the engine (as the app's history shows them).
    const masked = new Map((await engine.payments.history(id)).map((h) => [h.version, h.event]))
    const row = await engine.store.load(id)
    if (!row) throw new CliError(`No payment "${id}".`)
    const journal = await engine.store.journal(id)
    // The state and the ledger after each event: the entry's snapshot where the store kept one, else
    // the event replayed through the provider's machine (an event-only journal rebuilds the same).
    const adapter = providers.providers[row.provider]
    if (!adapter && journal.some((j) => !j.snapshot)) throw new CliError(`history of a ${row.provider} payment replays its journal through ${row.provider}'s machine: pass --config with your app's providers.`)
    const replayed = adapter && journal.some((j) => !j.snapshot) ? replaySnapshots(journal, adapter) : []
    const entries = journal.map((j, i) => (j.snapshot ? j : { ...j, snapshot: replayed[i]! }))
    // An entry the engine did not hand back is shown by its type only, never unmasked.
    const lines = historyLines(row, entries, (j) => masked.get(j.version) ?? { type: (j.event as { type?: unknown }).type })
    if (a.bools.json) {
      print({ paymentId: v.id, provider: v.provider, currency: v.currency, entries: lines })
      return 0
    }
    console.log(`${v.id}  ${v.provider}  ${v.currency}`)
    for (const l of lines) for (const t of historyText(l, v.currency)) console.log(t)
    return 0
  })

/** `paystate replay --check`: replays every stored journal through the registered machines and reports divergences. */
export const replayCommand = (a: Parsed): Promise<number> =>
  withEngine(a, async (engine, providers) => {
    const [{ checkReplay }, { createRegistry }, { redactor }, { loadConfigMachines }] = await Promise.all([import("../replay.js"), import("../registry.js"), import("../redact.js"), import("./config.js")])
    const older = a.flags.config ? await loadConfigMachines(a.flags.config) : {}
    const result = await checkReplay(engine.store, (provider) => {
      const adapter = providers.providers[provider]
      if (!adapter) return undefined
      const r = redactor(adapter.sensitive)
      return { machine: adapter.machine, registry: createRegistry(adapter.machine, older[provider] ?? []), redact: (v) => r.redact(v as never, "journal") }
    })
    if (a.bools.json) print(result)
    else {
      for (const d of result.divergences) console.log(`✗ ${d.paymentId} (${d.provider}) diverges at ${d.at}`)
      console.log(`${result.payments} payment${result.payments === 1 ? "" : "s"} replayed, ${result.divergences.length} diverge${result.divergences.length === 1 ? "s" : ""}.`)
    }
    return result.divergences.length ? 1 : 0
  })
