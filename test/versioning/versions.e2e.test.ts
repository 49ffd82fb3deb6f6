/**
 * Versioned machines through the engine against the KOMOJU sandbox: payments and cash refunds stored
 * under v1 finish on v1 after a v2 (with a state more) is registered, new ones start on v2, and an
 * engine that dropped v1 while stored snapshots still use it refuses to start.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { createMachine } from "xstate"
import { komoju, startKomojuSandbox, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { komojuMachine, komojuPolicy } from "../../machines/komoju/index.js"
import { komojuRefundMachine } from "../../machines/komoju/refund.js"
import { createPaymentMachine } from "../../machines/lifecycle/index.js"
import { createEngine, type Engine } from "../../src/engine.js"
import { isPaystateError } from "../../src/errors.js"
import { replaySnapshots } from "../../src/replay.js"
import { createRegistry } from "../../src/registry.js"
import type { Store } from "../../src/store.js"

// v2 of KOMOJU's refund: a cash refund the customer has not collected can be marked `reminded`
// (a state v1 does not have), still waiting for the customer.
const config = komojuRefundMachine.config as any
const komojuRefundV2 = createMachine(
  {
    ...config,
    version: "2",
    states: {
      ...config.states,
      awaitingCustomer: { ...config.states.awaitingCustomer, on: { ...config.states.awaitingCustomer.on, POLL: { target: "reminded", actions: "poll" } } },
      reminded: { ...config.states.awaitingCustomer, description: "The customer was reminded to collect the refund." },
    },
  },
  komojuRefundMachine.implementations as never,
)
const komojuV2 = createPaymentMachine({ ...komojuPolicy, version: "2", refundMachines: { ...komojuPolicy.refundMachines!, komojuRefund: komojuRefundV2 as never } })

let sandbox: RunningKomojuSandbox
const store: Store = memoryStore()
beforeAll(async () => {
  sandbox = await startKomojuSandbox()
})
afterAll(() => sandbox.close())

const adapter = (machine = komojuMachine) => ({ ...komoju({ baseUrl: sandbox.apiUrl, secretKey: sandbox.secretKey, webhookSecret: sandbox.webhookSecret, timeoutMs: 2000 }), machine })
const control = (path: string) => fetch(`${sandbox.apiUrl.replace(/\/api\/v1\/?$/, "")}${path}`, { method: "POST" }).then((r) => r.json())
const paidKonbini = async (engine: Engine) => {
  const p = await engine.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "konbini", store: "lawson", email: "test@example.com" } } as never)
  await control(`/_sandbox/payments/${p.providerRef}/pay`)
  return engine.payments.sync(p.id)
}

describe("machine versions", () => {
  const ids: { v1: string; v1Refund?: string; v2?: string } = { v1: "" }

  test("under v1: a konbini payment with a cash refund waiting for the customer", async () => {
    const e1 = createEngine({ store, providers: { komoju: adapter() }, backgroundIntervalMs: 0 })
    await e1.ready
    const p = await paidKonbini(e1)
    const r = await e1.payments.refund({ paymentId: p.id, amount: 400 })
    expect(r.refunds[0]).toMatchObject({ machine: "komojuRefund", state: "awaitingCustomer", status: "pending" })
    ids.v1 = p.id
    ids.v1Refund = r.refunds[0]!.providerRef!
    const row = await store.load(p.id)
    expect(row!.snapshot).toMatchObject({ machine: "komoju", version: "1" })
    expect(Object.values(row!.snapshot.children!)[0]).toMatchObject({ machine: "komojuRefund", version: "1", value: "awaitingCustomer" })
    await e1.close()
  })

  test("dropping v1 while a stored payment uses it fails at start-up with a clear error", async () => {
    const e = createEngine({ store, providers: { komoju: adapter(komojuV2) }, backgroundIntervalMs: 0, recoverOnStart: false })
    const err = await e.ready.then(() => undefined, (x: unknown) => x)
    expect(isPaystateError(err, "MACHINE_VERSION_MISSING")).toBe(true)
    expect((err as Error).message).toMatch(/komoju@1/)
    // Commands are refused the same way: nothing runs on a machine the engine does not have.
    await expect(e.payments.get(ids.v1)).rejects.toMatchObject({ code: "MACHINE_VERSION_MISSING" })
    await e.close()
  })

  test("with v2 registered beside v1: the v1 payment and refund finish on v1, a new one starts on v2", async () => {
    const e2 = createEngine({ store, providers: { komoju: adapter(komojuV2) }, machines: { komoju: [komojuMachine] }, backgroundIntervalMs: 0 })
    await e2.ready
    // v1 refund: a poll stays in awaitingCustomer (v1 has no `reminded`), then the customer collects it.
    await control(`/_sandbox/refunds/${ids.v1Refund}/complete`)
    const done = await e2.payments.sync(ids.v1)
    expect(done.refunds[0]).toMatchObject({ state: "succeeded", status: "succeeded", path: ["requested", "awaitingCustomer", "succeeded"] })
    expect((await store.load(ids.v1))!.snapshot).toMatchObject({ machine: "komoju", version: "1" })
    // A new refund on the v1 payment starts on v1's refund machine: replay stays deterministic.
    const again = await e2.payments.refund({ paymentId: ids.v1, amount: 100 })
    expect(Object.values((await store.load(ids.v1))!.snapshot.children!)[0]).toMatchObject({ machine: "komojuRefund", version: "1" })
    expect(again.refunds[1]!.state).toBe("awaitingCustomer")

    const p = await paidKonbini(e2)
    const r = await e2.payments.refund({ paymentId: p.id, amount: 300 })
    const row = (await store.load(p.id))!
    expect(row.snapshot).toMatchObject({ machine: "komoju", version: "2" })
    expect(Object.values(row.snapshot.children!)[0]).toMatchObject({ machine: "komojuRefund", version: "2", value: "awaitingCustomer" })
    ids.v2 = p.id
    // v2's extra state: the first poll reminds the customer.
    const timer = (await store.dueTimers("9999-01-01T00:00:00.000Z", 100)).find((t) => t.paymentId === p.id && t.name === "poll")!
    expect(timer).toBeTruthy()
    const e3 = createEngine({ store, providers: { komoju: adapter(komojuV2) }, machines: { komoju: [komojuMachine] }, backgroundIntervalMs: 0, clock: { now: () => new Date(Date.parse(timer.fireAt) + 1000) } })
    await e3.ready
    await e3.runDueTimers()
    expect((await e3.payments.get(p.id)).refunds[0]).toMatchObject({ state: "reminded", status: "pending" })
    void r
    await e3.close()
    await e2.close()
  })

  test("replay rebuilds every stored snapshot, refunds included, on the versions they name", async () => {
    const registry = createRegistry(komojuV2, [komojuMachine])
    for (const id of [ids.v1, ids.v2!]) {
      const rebuilt = replaySnapshots(await store.journal(id), { machine: komojuV2, registry })
      expect(rebuilt.at(-1)).toEqual((await store.load(id))!.snapshot)
    }
  })
})
