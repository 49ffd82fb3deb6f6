/**
 * The engine's view of a store: every failure that is not the store's own conflict signal becomes a
 * typed `STORE_UNAVAILABLE` (a database that is down, refuses the connection or times out), so a host
 * can tell "the database is down" from "the provider is down".
 */
import { paystateError, PaystateError } from "./errors.js"
import { StoreConflict, type Store } from "./store.js"

const wrap =
  <A extends unknown[], R>(store: Store, name: string, fn: (...args: A) => Promise<R>) =>
  async (...args: A): Promise<R> => {
    try {
      return await fn(...args)
    } catch (e) {
      if (e instanceof StoreConflict || e instanceof PaystateError) throw e
      const code = (e as { code?: unknown })?.code
      throw paystateError("STORE_UNAVAILABLE", `The ${store.name} store failed in ${name}: ${e instanceof Error ? e.message : String(e)}`, {
        store: store.name,
        operation: name,
        ...(typeof code === "string" ? { code } : {}),
      }, true)
    }
  }

/** Wraps every method of a store so that its failures are typed. */
export const guardStore = (store: Store): Store => {
  const out: Record<string, unknown> = { name: store.name }
  for (const key of Object.keys(store) as (keyof Store)[]) {
    const v = store[key]
    if (typeof v === "function") out[key] = wrap(store, key, (v as (...a: unknown[]) => Promise<unknown>).bind(store))
  }
  return out as unknown as Store
}
