/**
 * OpenTelemetry traces and metrics through `@opentelemetry/api`: a no-op until the host registers an
 * SDK. A span per command and per provider call; counters of commands, provider calls and refunds by
 * outcome; the outbox lag of what recovery picks up; the number of items that need review. Attributes
 * are ids, codes and operation names, never payloads.
 */
import { metrics, SpanStatusCode, trace, type Attributes } from "@opentelemetry/api"
import { isPaystateError } from "./errors.js"

/** The engine's instruments. */
export interface Telemetry {
  /** Runs `fn` in a span named `name`; its outcome (ok or the error code) is counted as a command when `command` is set. */
  readonly span: <T>(name: string, attributes: Attributes, fn: () => Promise<T>, command?: string) => Promise<T>
  /** Counts a provider call by operation and outcome (answered, refused, unknown). */
  readonly providerCall: (attributes: Attributes & { readonly outcome: string }) => void
  /** Counts a refund reaching an outcome (succeeded, failed, reversed, pending). */
  readonly refund: (attributes: Attributes & { readonly outcome: string }) => void
  /** Records how long an outbox entry waited before recovery picked it up (ms). */
  readonly outboxLag: (ms: number, attributes: Attributes) => void
  /** Records how many items need a person now. */
  readonly reviewItems: (n: number) => void
}

/** Creates the instruments on the global OpenTelemetry providers (no-ops without an SDK). */
export const createTelemetry = (): Telemetry => {
  const tracer = trace.getTracer("paystate")
  const meter = metrics.getMeter("paystate")
  const commands = meter.createCounter("paystate.commands", { description: "Commands by name and outcome (ok or error code)" })
  const calls = meter.createCounter("paystate.provider.calls", { description: "Provider calls by operation and outcome (answered, refused, unknown)" })
  const refunds = meter.createCounter("paystate.refunds", { description: "Refunds reaching an outcome, by outcome" })
  const lag = meter.createHistogram("paystate.outbox.lag", { description: "How long an outbox entry waited before recovery took it", unit: "ms" })
  const review = meter.createGauge("paystate.review.items", { description: "Items that need a person (engine.review.list)" })
  return {
    span: (name, attributes, fn, command) =>
      tracer.startActiveSpan(name, { attributes }, async (span) => {
        try {
          const result = await fn()
          span.setStatus({ code: SpanStatusCode.OK })
          if (command) commands.add(1, { ...attributes, command, outcome: "ok" })
          return result
        } catch (e) {
          const code = isPaystateError(e) ? e.code : "UNEXPECTED"
          span.setAttribute("paystate.error.code", code)
          span.setStatus({ code: SpanStatusCode.ERROR, message: code })
          if (command) commands.add(1, { ...attributes, command, outcome: code })
          throw e
        } finally {
          span.end()
        }
      }),
    providerCall: (attributes) => calls.add(1, attributes),
    refund: (attributes) => refunds.add(1, attributes),
    outboxLag: (ms, attributes) => lag.record(Math.max(0, ms), attributes),
    reviewItems: (n) => review.record(n),
  }
}
