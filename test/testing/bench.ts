/**
 * The bench the kit's tests run schedules on, as a host would set one up: each provider's sandbox
 * over HTTP on 127.0.0.1 (started through `paystate/sandbox`) with a webhook route in front of the
 * engine of the current run, and a fresh engine on a memory store per run.
 */
import { craftgate } from "../../adapters/providers/craftgate/index.js"
import { komoju } from "../../adapters/providers/komoju/index.js"
import { onekey } from "../../adapters/providers/onekey/index.js"
import { startSandbox, type RunningSandbox } from "../../adapters/sandbox/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { manualClock, type ManualClock } from "../../src/clock.js"
import { createEngine } from "../../src/engine.js"
import type { ProviderAdapter } from "../../src/provider.js"
import { assertNoViolations, runSchedule, startWebhookReceiver, type SandboxKind, type ScheduleRun, type ScheduleWorld, type Step, type WebhookReceiver } from "../../src/testing/index.js"
import type { PaystateEngine } from "../../src/types.js"

/** The credentials each sandbox and its adapter share. */
export const CREDENTIALS = {
  komoju: { secretKey: "sk_kit", webhookSecret: "whsec_kit" },
  craftgate: { apiKey: "ak_kit", secretKey: "sk_kit", webhookKey: "wk_kit" },
  onekey: { login: "login_kit", secretKey: "sk_kit" },
} as const

/** A provider's sandbox, its webhook route, and the engine the route hands deliveries to. */
export interface Bench {
  readonly kind: SandboxKind
  readonly sandbox: RunningSandbox
  readonly receiver: WebhookReceiver
  engine: PaystateEngine | undefined
  close(): Promise<void>
}

/** Starts a provider's sandbox and a webhook route for it. */
export const startBench = async (kind: SandboxKind): Promise<Bench> => {
  const bench = { kind, engine: undefined } as { -readonly [K in keyof Bench]: Bench[K] }
  bench.receiver = await startWebhookReceiver(() => bench.engine)
  bench.sandbox = await startSandbox(kind, { webhookUrl: `${bench.receiver.url}/webhooks/${kind}`, ...CREDENTIALS[kind] })
  bench.close = async () => {
    await bench.sandbox.close()
    await bench.receiver.close()
  }
  return bench
}

/** The adapter a host would configure for the sandbox: short timeouts so that `timeout` faults cost little. */
const adapterFor = (kind: SandboxKind, url: string, clock: ManualClock): ProviderAdapter<any> => {
  const fast = { timeoutMs: 400, retries: 1, backoffMs: 5 }
  if (kind === "komoju") return komoju({ baseUrl: `${url}/api/v1`, ...CREDENTIALS.komoju, ...fast, now: () => clock.now() })
  if (kind === "craftgate") return craftgate({ baseUrl: url, ...CREDENTIALS.craftgate, ...fast, clock })
  // OneKey's X-Date is judged against real time (the sandbox's tolerance), so its client keeps the system clock.
  return onekey({ baseUrl: url, ...CREDENTIALS.onekey, ...fast })
}

let run = 0

/**
 * One schedule on a fresh engine (a memory store) against the bench's sandbox, starting
 * `startMinute` minutes after 2026-11-23T00:00Z (part of the input: Craftgate's rule depends on the
 * day). Throws an InvariantViolation naming whatever the kit's checkers found.
 */
export const runOne = async (bench: Bench, create: { readonly provider: string; readonly amount: number; readonly currency: string }, steps: readonly Step[], startMinute = 9 * 60): Promise<ScheduleRun> => {
  const { kind } = bench
  const clock = manualClock(new Date(Date.UTC(2026, 10, 23) + startMinute * 60_000).toISOString())
  // Each run starts from a sandbox that remembers nothing (queued answers, faults, payments), so a
  // counterexample replays alone exactly as it failed.
  await fetch(`${bench.sandbox.url}/_sandbox/reset`, { method: "POST" })
  await fetch(`${bench.sandbox.url}/_sandbox/clock`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ now: clock.now().toISOString() }) })
  const engine = createEngine({ store: memoryStore(), providers: { [kind]: adapterFor(kind, bench.sandbox.url, clock) }, clock, backgroundIntervalMs: 0, onError: () => {} })
  bench.engine = engine
  try {
    const payment = await engine.payments.create({ ...create, idempotencyKey: `kit-${process.pid}-${++run}` } as Parameters<typeof engine.payments.create>[0])
    const world: ScheduleWorld = { engine, sandbox: { url: bench.sandbox.url, kernel: bench.sandbox.kernel, credentials: CREDENTIALS[kind] }, kind, clock }
    const result = await runSchedule(world, payment.id, steps, { keyPrefix: `kit-${process.pid}-${run}` })
    assertNoViolations(result.violations)
    return result
  } finally {
    await bench.sandbox.kernel.settled()
    await engine.close()
    bench.engine = undefined
  }
}
