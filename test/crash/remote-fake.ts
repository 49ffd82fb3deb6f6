/**
 * The fake provider hosted in one process and called over HTTP from another, so a crash test can
 * kill the engine's process while the provider (and its ledger) lives on in the test process.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { paystateError, PaystateError } from "../../src/errors.js"
import type { ProviderAdapter } from "../../src/provider.js"
import { fakeProvider, type FakeProvider } from "../../src/testing/fake-provider.js"

/** Serves `fake.execute` and `fake.reconcile` on 127.0.0.1. */
export const hostFake = async (fake: FakeProvider): Promise<{ url: string; server: Server }> => {
  const server = createServer((req, res) => {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", async () => {
      const { effect, ctx } = JSON.parse(body)
      const run = req.url === "/reconcile" ? fake.reconcile(effect, ctx) : fake.execute(effect, ctx)
      const exit = await Effect.runPromise(Effect.result(run as Effect.Effect<unknown, PaystateError>))
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify(exit._tag === "Success" ? { ok: exit.success ?? null } : { error: { code: exit.failure.code, message: exit.failure.message } }))
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

/** An adapter whose effects run in the hosting process. */
export const remoteFake = (url: string): ProviderAdapter => {
  const local = fakeProvider()
  const call = (path: string, effect: unknown, ctx: unknown) =>
    Effect.tryPromise({
      try: async () => (await (await fetch(url + path, { method: "POST", body: JSON.stringify({ effect, ctx }) })).json()) as { ok?: unknown; error?: { code: string; message: string } },
      catch: (e) => paystateError("PROVIDER_UNAVAILABLE", String(e), undefined, true),
    }).pipe(Effect.flatMap((r) => (r.error ? Effect.fail(paystateError(r.error.code as never, r.error.message)) : Effect.succeed(r.ok))))
  return {
    ...local,
    execute: (effect, ctx) => call("/execute", effect, ctx) as never,
    reconcile: (effect, ctx) => call("/reconcile", effect, ctx).pipe(Effect.map((r) => (r === null ? undefined : r))) as never,
  }
}
