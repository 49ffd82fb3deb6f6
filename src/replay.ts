/**
 * Rebuilds payments from their journal alone: the CREATE entry holds the machine input and every
 * later entry the event, so running them through the pure machine again must give the same snapshot.
 * Used to audit a store, to migrate between stores, and by the property tests.
 */
import type { PaymentEvent, PaymentInput } from "../machines/lifecycle/index.js"
import type { ProviderAdapter } from "./provider.js"
import type { MachineRegistry } from "./registry.js"
import { applyStep, startStep, toCommit } from "./step.js"
import type { JournalEntry, PersistedSnapshot, Store } from "./store.js"

/** Replays one payment's journal and returns the snapshot after each entry. */
export const replaySnapshots = (entries: readonly JournalEntry[], adapter: ProviderAdapter | { readonly machine: ProviderAdapter["machine"]; readonly registry?: MachineRegistry }): PersistedSnapshot[] => {
  const machines = "registry" in adapter && adapter.registry ? adapter.registry : adapter.machine
  const out: PersistedSnapshot[] = []
  let current: PersistedSnapshot | undefined
  for (const entry of entries) {
    const event = entry.event as unknown as { type: string; input?: PaymentInput; machine?: string; version?: string }
    if (event.type === "CREATE") current = startStep(machines, event.input as PaymentInput, event.machine ? { machine: event.machine, version: event.version } : undefined).snapshot
    else if (current) current = applyStep(machines, current, event as unknown as PaymentEvent).snapshot
    else throw new Error(`Journal of ${entry.paymentId} does not start with CREATE.`)
    out.push(current)
  }
  return out
}

/** Replays every payment of `from` into the empty store `to`, version by version. */
export const replayInto = async (from: Store, to: Store, providers: Readonly<Record<string, ProviderAdapter>>): Promise<number> => {
  await to.init()
  const all = await from.allJournal()
  const byPayment = new Map<string, JournalEntry[]>()
  for (const e of all) byPayment.set(e.paymentId, [...(byPayment.get(e.paymentId) ?? []), e])
  for (const [paymentId, entries] of byPayment) {
    const first = await from.load(paymentId)
    const adapter = first ? providers[first.provider] : undefined
    if (!adapter) throw new Error(`No adapter for payment ${paymentId}.`)
    const snapshots = replaySnapshots(entries, adapter)
    for (const [i, snapshot] of snapshots.entries()) {
      const entry = entries[i]!
      const step = { refusal: undefined, enabled: true, changed: true, snapshot, effects: [], timersSet: [], timersCancel: [], trace: [] }
      await to.commit(toCommit(i === 0 ? undefined : { version: i }, step, entry.event as never, { paymentId, provider: adapter.name, idempotencyKey: (o) => o, leaseUntil: entry.at }))
    }
  }
  return byPayment.size
}

/** A payment whose journal, replayed through the registered machines, does not rebuild its stored snapshot. */
export interface ReplayDivergence {
  readonly paymentId: string
  readonly provider: string
  /** Where the two first differ (a JSON path), or why the replay failed. */
  readonly at: string
  readonly stored?: unknown
  readonly replayed?: unknown
}

// Stores may reorder object keys (PostgreSQL jsonb does): compare with keys sorted.
const canonical = (v: unknown): string =>
  v && typeof v === "object"
    ? Array.isArray(v)
      ? `[${v.map(canonical).join(",")}]`
      : `{${Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`
    : JSON.stringify(v) ?? "undefined"

const firstDifference = (a: unknown, b: unknown, path = "$"): { at: string; stored: unknown; replayed: unknown } | undefined => {
  if (canonical(a) === canonical(b)) return undefined
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) === !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)])
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`)
      if (d) return d
    }
  }
  return { at: path, stored: a, replayed: b }
}

/**
 * Replays every stored journal through the registered machines and reports each payment whose
 * rebuilt snapshot (payment and refund machines alike) differs from the stored one. A host runs it
 * (`paystate replay --check`) before deploying a machine change: a divergence means the change would
 * alter what stored payments do. Both sides are compared masked (`journal` redaction), as the journal
 * keeps them.
 */
export const checkReplay = async (
  store: Store,
  registries: (provider: string) => { readonly machine: ProviderAdapter["machine"]; readonly registry?: MachineRegistry; readonly redact?: (value: unknown) => unknown } | undefined,
): Promise<{ readonly payments: number; readonly divergences: readonly ReplayDivergence[] }> => {
  const all = await store.allJournal()
  const byPayment = new Map<string, JournalEntry[]>()
  for (const e of all) byPayment.set(e.paymentId, [...(byPayment.get(e.paymentId) ?? []), e])
  const divergences: ReplayDivergence[] = []
  for (const [paymentId, entries] of byPayment) {
    const row = await store.load(paymentId)
    if (!row) continue
    const machines = registries(row.provider)
    if (!machines) {
      divergences.push({ paymentId, provider: row.provider, at: `no machine is registered for provider ${row.provider}` })
      continue
    }
    const mask = machines.redact ?? ((v: unknown) => v)
    try {
      const rebuilt = replaySnapshots([...entries].sort((x, y) => x.version - y.version), machines).at(-1)
      const d = firstDifference(mask(row.snapshot), mask(rebuilt))
      if (d) divergences.push({ paymentId, provider: row.provider, ...d })
    } catch (e) {
      divergences.push({ paymentId, provider: row.provider, at: `replay failed: ${e instanceof Error ? e.message : String(e)}` })
    }
  }
  return { payments: byPayment.size, divergences }
}
