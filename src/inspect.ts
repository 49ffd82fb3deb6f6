/**
 * Bridges the engine to XState's inspection protocol, so a payments person can watch payments move
 * in the Stately inspector. Payments are not live actors (each step is a pure transition on a stored
 * snapshot), so each payment is presented as an actor whose session id is the payment id.
 */
import type { AnyStateMachine, InspectionEvent } from "xstate"
import type { Redactor } from "./redact.js"
import type { StoredPayment } from "./store.js"

/** Receives XState inspection events (what `createWebSocketInspector().inspect` accepts). */
export type InspectFn = (event: InspectionEvent) => void

/** The engine's side of inspection. */
export interface EngineInspector {
  start(row: StoredPayment, machine: AnyStateMachine): void
  step(row: StoredPayment, event: { type: string }): void
  stop(): void
}

const noop: EngineInspector = { start: () => {}, step: () => {}, stop: () => {} }

/** Wraps an inspector callback or observer; without one, inspection costs nothing. */
export const createInspector = (target: InspectFn | { next?: InspectFn } | undefined, redactorOf: (provider: string) => Redactor): EngineInspector => {
  const emit: InspectFn | undefined = typeof target === "function" ? target : target?.next?.bind(target)
  if (!emit) return noop
  // Inspector events leave the process: card data never, masked and personal fields masked.
  const shown = (row: StoredPayment) => redactorOf(row.provider).redact({ value: row.snapshot.value, context: row.snapshot.context }, "inspect")
  const refs = new Map<string, Record<string, unknown>>()
  const refOf = (row: StoredPayment, machine?: AnyStateMachine) => {
    let ref = refs.get(row.id)
    if (!ref) {
      const snapshot = { status: "active", ...shown(row), output: undefined, error: undefined }
      ref = { id: row.id, sessionId: row.id, src: row.provider, logic: machine, _parent: undefined, system: undefined, getSnapshot: () => snapshot }
      refs.set(row.id, ref)
    }
    return ref
  }
  const safe = (e: InspectionEvent) => {
    try {
      emit(e)
    } catch {
      // An inspector must never break a payment.
    }
  }
  return {
    start: (row, machine) => {
      const actorRef = refOf(row, machine) as never
      safe({ type: "@xstate.actor", actorRef, rootId: row.id } as InspectionEvent)
      safe({ type: "@xstate.snapshot", actorRef, rootId: row.id, event: { type: "xstate.init" }, snapshot: { status: "active", ...shown(row) } } as never)
    },
    step: (row, raw) => {
      const actorRef = refOf(row) as never
      const event = redactorOf(row.provider).redact(raw, "inspect")
      safe({ type: "@xstate.event", actorRef, rootId: row.id, sourceRef: undefined, event } as InspectionEvent)
      safe({ type: "@xstate.snapshot", actorRef, rootId: row.id, event, snapshot: { status: "active", ...shown(row) } } as never)
    },
    stop: () => refs.clear(),
  }
}
