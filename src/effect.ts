/**
 * The engine as an Effect service, for hosts written with Effect: the same operations as the Promise
 * facade, each an Effect failing with PaystateError, and a layer that closes the engine with its scope.
 */
import { Context, Effect, Layer } from "effect"
import { createEngine, type Engine, type EngineOptions } from "./engine.js"
import { PaystateError, paystateError } from "./errors.js"

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

/** A layer that starts the engine, waits until it is ready, and closes it when the scope closes. */
export const layer = (options: EngineOptions): Layer.Layer<Paystate, PaystateError> =>
  Layer.effect(
    Paystate,
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
    ),
  )
