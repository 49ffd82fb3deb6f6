/** Shared set-up for engine tests: an engine on a store with the fake provider and a manual clock. */
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock } from "../../src/clock.js"
import { createEngine, type EngineOptions } from "../../src/engine.js"
import type { Store } from "../../src/store.js"
import { fakeProvider } from "../../src/testing/fake-provider.js"

/** An engine with the fake provider, no background loop, and a clock the test moves. */
export const setup = (opts: { store?: Store; fake?: ReturnType<typeof fakeProvider>; engine?: Partial<EngineOptions> } = {}) => {
  const fake = opts.fake ?? fakeProvider()
  const store = opts.store ?? memoryStore()
  const clock = manualClock("2026-11-23T03:00:00.000Z")
  const engine = createEngine({ store, providers: { fake }, clock, backgroundIntervalMs: 0, retryBackoffMs: 1000, onError: () => {}, ...opts.engine })
  return { engine, store, fake, clock }
}

/** Everything a store holds for a payment, to prove a refused command wrote nothing. */
export const dump = async (store: Store) => ({
  journal: await store.allJournal(),
  outbox: await store.outbox(),
  payments: (await store.list({ perPage: 1000 })).data,
})
