/**
 * OpenTelemetry: with an SDK registered (in-memory exporters), one refund gives a command span with
 * the provider call as its child, and the counters count it. Without an SDK everything is a no-op
 * (every other test runs that way).
 */
import { context, metrics, trace } from "@opentelemetry/api"
import { AsyncHooksContextManager } from "@opentelemetry/context-async-hooks"
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { afterAll, describe, expect, it } from "vitest"
import { setup } from "./helpers.js"

const spans = new InMemorySpanExporter()
context.setGlobalContextManager(new AsyncHooksContextManager().enable())
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }))
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 })
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
afterAll(() => {
  trace.disable()
  metrics.disable()
  context.disable()
})

describe("OpenTelemetry", () => {
  it("one refund: a command span with its provider call as a child, and counters by outcome", async () => {
    const { engine } = setup()
    const p = await engine.payments.create({ provider: "fake", amount: 1000, currency: "JPY" })
    spans.reset()
    await engine.payments.refund({ paymentId: p.id, amount: 300 })
    const finished = spans.getFinishedSpans()
    const command = finished.find((s) => s.name === "paystate.payments.refund")!
    const call = finished.find((s) => s.name === "paystate.provider.refund")!
    expect(command).toBeDefined()
    expect(command.attributes).toMatchObject({ "paystate.payment.id": p.id })
    expect(call.attributes).toMatchObject({ "paystate.provider": "fake", "paystate.op": "refund", "paystate.payment.id": p.id })
    expect(call.parentSpanContext?.spanId).toBe(command.spanContext().spanId)
    expect(call.spanContext().traceId).toBe(command.spanContext().traceId)
    await expect(engine.payments.refund({ paymentId: p.id, amount: 5000 })).rejects.toMatchObject({ code: "REFUND_EXCEEDS_REFUNDABLE" })
    const refused = spans.getFinishedSpans().filter((s) => s.name === "paystate.payments.refund").at(-1)!
    expect(refused.attributes["paystate.error.code"]).toBe("REFUND_EXCEEDS_REFUNDABLE")
    await reader.forceFlush()
    const points = metricExporter.getMetrics().flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics))
    const sum = (name: string, attrs: Record<string, string>) =>
      points
        .filter((m) => m.descriptor.name === name)
        .flatMap((m) => m.dataPoints as { attributes: Record<string, unknown>; value: unknown }[])
        .filter((d) => Object.entries(attrs).every(([k, v]) => d.attributes[k] === v))
        .reduce((n, d) => n + Number(d.value), 0)
    expect(sum("paystate.commands", { command: "payments.refund", outcome: "ok" })).toBe(1)
    expect(sum("paystate.commands", { command: "payments.refund", outcome: "REFUND_EXCEEDS_REFUNDABLE" })).toBe(1)
    expect(sum("paystate.provider.calls", { "paystate.op": "refund", outcome: "answered" })).toBe(1)
    expect(sum("paystate.refunds", { outcome: "succeeded" })).toBe(1)
  })
})
