/**
 * A host process for crash tests: runs one action with an engine on a PGlite data directory against
 * a provider's sandbox, and may be killed at a named crash point (PAYSTATE_CRASH_AT).
 * Prints one JSON line with the result.
 */
import { pgliteStore } from "../../adapters/stores/pglite.js"
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import { CLI_PROVIDERS } from "../../src/cli/providers.js"
import { createEngine } from "../../src/engine.js"
import { remoteFake } from "./remote-fake.js"

const env = (k: string): string => {
  const v = process.env[k]
  if (!v) throw new Error(`${k} is required`)
  return v
}

// "fake" is the fake provider hosted by the test process; any other name is a real provider's sandbox.
const name = env("CRASH_PROVIDER")
const provider = CLI_PROVIDERS.find((p) => p.name === name)
if (!provider && name !== "fake") throw new Error(`unknown provider ${name}`)
const adapter = provider ? provider.adapterFor({ url: env("CRASH_SANDBOX_URL") } as RunningSandbox) : remoteFake(env("CRASH_SANDBOX_URL"))
const engine = createEngine({
  store: pgliteStore({ dataDir: env("CRASH_DATA_DIR") }),
  providers: { [name]: adapter },
  backgroundIntervalMs: 0,
  leaseMs: Number(process.env.CRASH_LEASE_MS ?? 200),
  onError: (e, where) => console.error(where, e),
})

const action = env("CRASH_ACTION")
const input = JSON.parse(process.env.CRASH_INPUT ?? "{}")
try {
  let result: unknown
  if (action === "create") result = await engine.payments.create(input)
  else if (action === "refund") result = await engine.payments.refund(input)
  else if (action === "sync-then-refund") {
    await engine.payments.sync(input.paymentId)
    result = await engine.payments.refund(input)
  }
  else if (action === "recover") {
    await engine.ready
    await new Promise((r) => setTimeout(r, Number(process.env.CRASH_LEASE_MS ?? 200) + 50))
    const n = await engine.recover()
    result = { recovered: n, payment: input.paymentId ? await engine.payments.get(input.paymentId) : undefined }
  } else throw new Error(`unknown action ${action}`)
  console.log(JSON.stringify({ ok: true, result }))
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: e instanceof Error ? { message: e.message, code: (e as { code?: string }).code } : String(e) }))
} finally {
  await engine.close()
}
