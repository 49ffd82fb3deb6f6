/**
 * Bridges the engine to XState's inspection protocol, so a payments person can watch payments move
 * in the Stately inspector. Payments are not live actors (each step is a pure transition on a stored
 * snapshot), so the engine presents each payment as a root actor whose session id is the payment id,
 * and each refund as its child actor (`<paymentId>/<refundId>`) with its own machine; the events
 * between them (`toRefund`, `REFUND.CHANGED`) are shown as sent from one to the other.
 */
import type { AnyStateMachine, InspectionEvent } from "xstate"
import type { Redactor } from "./redact.js"
import type { MachineRegistry } from "./registry.js"
import type { StepResult, TraceItem } from "./step.js"
import type { StoredPayment } from "./store.js"

/** Receives XState inspection events (what `createWebSocketInspector().inspect` accepts). */
export type InspectFn = (event: InspectionEvent) => void

/** The engine's side of inspection. */
export interface EngineInspector {
  start(row: StoredPayment, machine: AnyStateMachine, result?: StepResult): void
  step(row: StoredPayment, event: { type: string }, result?: StepResult, registry?: MachineRegistry): void
  stop(): void
}

const noop: EngineInspector = { start: () => {}, step: () => {}, stop: () => {} }

type Ref = { id: string; sessionId: string; src: string; logic?: AnyStateMachine; _parent?: Ref; system?: undefined; getSnapshot: () => unknown }

/** Wraps an inspector callback or observer; without one, inspection costs nothing. */
export const createInspector = (target: InspectFn | { next?: InspectFn } | undefined, redactorOf: (provider: string) => Redactor): EngineInspector => {
  const emit: InspectFn | undefined = typeof target === "function" ? target : target?.next?.bind(target)
  if (!emit) return noop
  const safe = (e: unknown) => {
    try {
      emit(e as InspectionEvent)
    } catch {
      // An inspector must never break a payment.
    }
  }
  // Inspector events leave the process: card data never, masked and personal fields masked.
  const shown = (provider: string, value: unknown, context: unknown, done = false) => ({
    status: done ? "done" : "active",
    ...(redactorOf(provider).redact({ value, context } as never, "inspect") as object),
    output: undefined,
    error: undefined,
  })
  const machines = new Map<string, AnyStateMachine>()
  const announced = new Set<string>()
  // A stand-in ref per event, frozen at that event: the inspector reads getSnapshot() later, on idle.
  const refAt = (base: Omit<Ref, "getSnapshot">, snapshot: unknown): Ref => ({ ...base, getSnapshot: () => snapshot })
  const paymentBase = (row: StoredPayment): Omit<Ref, "getSnapshot"> => ({ id: row.id, sessionId: row.id, src: row.provider, logic: machines.get(row.id), _parent: undefined, system: undefined })
  const refundBase = (row: StoredPayment, item: TraceItem, registry?: MachineRegistry, parent?: Ref): Omit<Ref, "getSnapshot"> => {
    const sessionId = `${row.id}/${item.refundId}`
    const child = row.snapshot.children?.[item.refundId!]
    let logic = machines.get(sessionId)
    if (!logic && registry && child) logic = registry.refund(child)
    if (!logic && registry && item.machine) logic = refundByName(registry, item.machine)
    if (logic) machines.set(sessionId, logic)
    return { id: item.refundId!, sessionId, src: item.machine ?? "refund", logic, _parent: parent, system: undefined }
  }
  const announce = (ref: Ref, rootId: string) => {
    if (announced.has(ref.sessionId)) return
    announced.add(ref.sessionId)
    safe({ type: "@xstate.actor", actorRef: ref, rootId })
  }
  const emitTrace = (row: StoredPayment, outside: { type: string }, result: StepResult | undefined, registry?: MachineRegistry) => {
    const redact = (e: unknown) => redactorOf(row.provider).redact(e as never, "inspect")
    const root = row.id
    const payment = refAt(paymentBase(row), shown(row.provider, row.snapshot.value, row.snapshot.context))
    announce(payment, root)
    const trace = result?.trace ?? []
    if (!trace.length || trace[0]!.refundId) {
      safe({ type: "@xstate.event", actorRef: payment, rootId: root, sourceRef: undefined, event: redact(outside) })
      safe({ type: "@xstate.snapshot", actorRef: payment, rootId: root, event: redact(outside), snapshot: payment.getSnapshot() })
    }
    let lastRefund: Ref | undefined
    let lastPayment = payment
    for (const [i, item] of trace.entries()) {
      const event = redact(item.event)
      if (item.refundId) {
        const ref = refAt(refundBase(row, item, registry, lastPayment), shown(row.provider, item.value, item.context, item.done))
        if (item.started) announce(ref, root)
        // Routed events come from the payment: the inspector draws them as sent by it.
        safe({ type: "@xstate.event", actorRef: ref, rootId: root, sourceRef: lastPayment, event })
        safe({ type: "@xstate.snapshot", actorRef: ref, rootId: root, event, snapshot: ref.getSnapshot() })
        lastRefund = ref
      } else {
        lastPayment = refAt(paymentBase(row), shown(row.provider, item.value, item.context))
        const internal = i > 0 && item.event.type === "REFUND.CHANGED"
        safe({ type: "@xstate.event", actorRef: lastPayment, rootId: root, sourceRef: internal ? lastRefund : undefined, event })
        safe({ type: "@xstate.snapshot", actorRef: lastPayment, rootId: root, event, snapshot: lastPayment.getSnapshot() })
      }
    }
  }
  return {
    start: (row, machine, result) => {
      machines.set(row.id, machine)
      const ref = refAt(paymentBase(row), shown(row.provider, row.snapshot.value, row.snapshot.context))
      announce(ref, row.id)
      safe({ type: "@xstate.snapshot", actorRef: ref, rootId: row.id, event: { type: "xstate.init" }, snapshot: ref.getSnapshot() })
      void result
    },
    step: (row, raw, result, registry) => {
      if (registry && !machines.has(row.id)) machines.set(row.id, registry.payment(row.snapshot))
      emitTrace(row, raw, result, registry)
    },
    stop: () => {
      machines.clear()
      announced.clear()
    },
  }
}

/** A registered refund machine by name (a refund that finished within its first step left no snapshot to name its version). */
const refundByName = (registry: MachineRegistry, name: string): AnyStateMachine | undefined => {
  const v = registry.versions().find((r) => r.machine === name)
  return v ? registry.refund(v) : undefined
}
