/**
 * `layerConfig` for Effect hosts: the engine layer with its providers built from effect `Config`,
 * secrets read with `Config.Redacted`, here from a ConfigProvider over a map (as `fromEnv` reads the
 * process environment in production). A missing variable fails the layer with a ConfigError, a value
 * the factory refuses with a typed PaystateError (CONFIGURATION_INVALID), never a defect.
 */
import { Config, ConfigProvider, Effect, Exit, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { komoju, startKomojuSandbox, type RunningKomojuSandbox } from "../../adapters/providers/komoju/index.js"
import { memoryStore } from "../../adapters/stores/memory.js"
import { layerConfig, Paystate, PaystateError } from "../../src/index.js"

let k: RunningKomojuSandbox
beforeAll(async () => {
  k = await startKomojuSandbox()
})
afterAll(async () => {
  await k?.close()
})

/** KOMOJU's adapter from three variables, the two secrets kept Redacted until a request is signed. */
const komojuFromConfig = Config.all({
  baseUrl: Config.String("KOMOJU_BASE_URL"),
  secretKey: Config.Redacted("KOMOJU_SECRET_KEY"),
  webhookSecret: Config.Redacted("KOMOJU_WEBHOOK_SECRET"),
}).pipe(Config.map((c) => komoju({ ...c, timeoutMs: 2000 })))

/** Runs `program` on the layer, reading Config from `env`. */
const run = <A, E>(env: Record<string, string>, program: Effect.Effect<A, E, Paystate>) =>
  Effect.runPromiseExit(
    program.pipe(Effect.provide(layerConfig({ store: memoryStore(), providers: { komoju: komojuFromConfig }, backgroundIntervalMs: 0, onError: () => {} }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))))),
  )

const env = () => ({ KOMOJU_BASE_URL: k.apiUrl, KOMOJU_SECRET_KEY: k.secretKey, KOMOJU_WEBHOOK_SECRET: k.webhookSecret })

const payAndRefund = Effect.gen(function* () {
  const paystate = yield* Paystate
  const p = yield* paystate.payments.create({ provider: "komoju", amount: 1000, currency: "JPY", payment_details: { type: "credit_card", number: "4111111111111111", month: "12", year: "2030", verification_value: "123" } })
  return yield* paystate.payments.refund({ paymentId: p.id, amount: 400 })
})

describe("layerConfig", () => {
  it("builds the engine from Config and pays and refunds against the sandbox", async () => {
    const exit = await run(env(), payAndRefund)
    expect(Exit.isSuccess(exit), String(exit)).toBe(true)
    expect(Exit.isSuccess(exit) ? exit.value : undefined).toMatchObject({ status: "captured", capturedAmount: 1100, refundedAmount: 400 })
  })

  it("fails with a ConfigError when a secret is missing, before anything is built", async () => {
    const { KOMOJU_SECRET_KEY: _, ...rest } = env()
    const before = k.book.payments.size
    const exit = await run(rest, payAndRefund)
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
    expect(error && "error" in error ? (error.error as { _tag?: string })._tag : undefined).toBe("ConfigError")
    expect(k.book.payments.size).toBe(before)
  })

  it("fails with the factory's CONFIGURATION_INVALID (a typed failure) for a value it refuses", async () => {
    const exit = await run({ ...env(), KOMOJU_BASE_URL: "komoju.com/api/v1" }, payAndRefund)
    const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
    const e = error && "error" in error ? error.error : undefined
    expect(e).toBeInstanceOf(PaystateError)
    expect(e).toMatchObject({ code: "CONFIGURATION_INVALID", details: { provider: "komoju", field: "baseUrl", reason: "not_a_url" } })
    // The refusal names the field; the secrets read beside it appear nowhere in it.
    expect(JSON.stringify({ m: (e as Error).message, d: (e as PaystateError).details })).not.toContain(k.secretKey)
  })
})
