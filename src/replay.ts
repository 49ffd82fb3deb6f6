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
    const event = entry.event as unknown as { type: string; input?: PaymentInput }
    if (event.type === "CREATE") current = startStep(machines, event.input as PaymentInput).snapshot
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
