/**
 * The engine as an Effect service, for hosts written with Effect: the same operations as the Promise
 * facade, each an Effect failing with PaystateError, and a layer that closes the engine with its scope
 * (`layer`, or `layerConfig` to read the providers' secrets from effect `Config`).
 */
import { Config, Context, Effect, Layer, type Scope } from "effect"
import { createEngine, type Engine, type EngineOptions } from "./engine.js"
import { isPaystateError, PaystateError, paystateError } from "./errors.js"
import type { Store } from "./store.js"
import type { Providers } from "./types.js"

type Promised<F> = F extends (...args: infer A) => Promise<infer R> ? (...args: A) => Effect.Effect<R, PaystateError> : never
type Effectful<T> = { readonly [K in keyof T]: Promised<T[K]> }

/** The engine's operations as Effects. */
export interface PaystateService {
  readonly payments: Effectful<Engine["payments"]>
  readonly webhooks: Effectful<Engine["webhooks"]>
  readonly runDueTimers: Promised<Engine["runDueTimers"]>
  readonly recover: Promised<Engine["recover"]>
  /** The Promise facade underneath, for code that needs it. */
  readonly engine: Engine
}

/** The paystate engine service. */
export class Paystate extends Context.Service<Paystate, PaystateService>()("paystate/Paystate") {}

const lift =
  <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
  (...args: A): Effect.Effect<R, PaystateError> =>
    Effect.tryPromise({
      try: () => f(...args),
      catch: (e) => (e instanceof PaystateError ? e : paystateError("PROVIDER_UNAVAILABLE", e instanceof Error ? e.message : String(e))),
    })

const liftAll = <T extends Record<string, (...args: any[]) => Promise<any>>>(o: T): Effectful<T> =>
  Object.fromEntries(Object.entries(o).map(([k, f]) => [k, lift(f)])) as Effectful<T>

/** Wraps a running engine as the Effect service shape. */
export const fromEngine = (engine: Engine): PaystateService => ({
  payments: liftAll(engine.payments),
  webhooks: liftAll(engine.webhooks),
  runDueTimers: lift(engine.runDueTimers),
  recover: lift(engine.recover),
  engine,
})

/** Starts an engine and waits until it is ready; closes it when the layer's scope closes. */
const started = (options: EngineOptions): Effect.Effect<PaystateService, PaystateError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const engine = createEngine(options)
        await engine.ready
        return fromEngine(engine)
      },
      catch: (e) => (e instanceof PaystateError ? e : paystateError("PROVIDER_UNAVAILABLE", `The engine could not start: ${e instanceof Error ? e.message : String(e)}`)),
    }),
    (service) => Effect.promise(() => service.engine.close()),
  )

/** A layer that starts the engine, waits until it is ready, and closes it when the scope closes. */
export const layer = (options: EngineOptions): Layer.Layer<Paystate, PaystateError> => Layer.effect(Paystate, started(options))

/** A value given as it is, or read from effect `Config` when the layer is built. */
export type Configured<A> = A | Config.Config<A>

/**
 * Engine options for `layerConfig`: the store and each provider may be a `Config` of it, typically a
 * provider factory mapped over its secrets read with `Config.Redacted`, so no secret is read before
 * the layer is built, nor shown by a log of the options.
 */
export type ConfiguredEngineOptions<P extends Providers = Providers> = Omit<EngineOptions<P>, "store" | "providers"> & {
  readonly store: Configured<Store>
  readonly providers: { readonly [K in keyof P]: Configured<P[K]> }
}

const resolve = <A>(value: Configured<A>): Effect.Effect<A, Config.ConfigError> => (Config.isConfig(value) ? (value as Config.Config<A>) : Effect.succeed(value))

/**
 * The engine layer with its store and providers read from effect `Config` (the current
 * `ConfigProvider`: the environment by default):
 *
 * ```ts
 * const komojuAdapter = Config.all({ secretKey: Config.Redacted("KOMOJU_SECRET_KEY"), webhookSecret: Config.Redacted("KOMOJU_WEBHOOK_SECRET") }).pipe(Config.map(komoju))
 * const PaystateLive = layerConfig({ store: pgliteStore({ dataDir: "./data" }), providers: { komoju: komojuAdapter } })
 * ```
 *
 * Fails with the `ConfigError` of a missing or malformed value, or with the PaystateError a
 * provider factory throws for what it read (CONFIGURATION_INVALID: an empty key, a bad URL).
 */
export const layerConfig = <const P extends Providers>(options: ConfiguredEngineOptions<P>): Layer.Layer<Paystate, PaystateError | Config.ConfigError> =>
  Layer.effect(
    Paystate,
    Effect.gen(function* () {
      const store = yield* resolve(options.store)
      const providers: Record<string, unknown> = {}
      for (const [name, provider] of Object.entries(options.providers as Record<string, Configured<unknown>>)) providers[name] = yield* resolve(provider)
      return { ...options, store, providers } as unknown as EngineOptions
    }).pipe(
      // A factory that refuses what Config read throws inside `Config.map`: a typed failure, not a defect.
      Effect.catchDefect((defect) => (isPaystateError(defect) ? Effect.fail(defect) : Effect.die(defect))),
      Effect.flatMap(started),
    ),
  )
