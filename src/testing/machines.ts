/**
 * A payment machine and its refund machines stepped together, the way the engine steps them, with
 * the shape of XState's pure `initialTransition` / `transition`: for unit tests of a provider's rules
 * without an engine or a store. The snapshot is the persisted one (`{ machine, version, value,
 * context, children }`), the actions the plain ones the engine carries out.
 */
import type { MachineAction, PaymentEvent, PaymentInput, PaymentMachine } from "../../machines/lifecycle/index.js"
import type { MachineContext } from "../../machines/lifecycle/machine.js"
import type { MachineRegistry } from "../registry.js"
import { applyStep, startStep, type StepResult } from "../step.js"
import type { PersistedSnapshot } from "../store.js"

/** A persisted snapshot with its context typed. */
export type FamilySnapshot = PersistedSnapshot & { readonly context: MachineContext & PersistedSnapshot["context"] }

const actionsOf = (r: StepResult): MachineAction[] => [
  ...r.effects.map((params) => ({ type: "effect" as const, params })),
  ...r.timersCancel.map((timerId) => ({ type: "cancelTimer" as const, params: { timerId } })),
  ...r.timersSet.map((params) => ({ type: "timer" as const, params })),
  ...(r.refusal ? [{ type: "refuse" as const, params: r.refusal }] : []),
]

/** The first step of a payment: its snapshot and the actions the engine would carry out. */
export const initialTransition = <M extends PaymentMachine | MachineRegistry>(machine: M, input: PaymentInput): [FamilySnapshot, MachineAction[]] => {
  const r = startStep(machine, input)
  return [r.snapshot as FamilySnapshot, actionsOf(r)]
}

/** One step of a payment and its refunds; a refused step keeps the snapshot it was given (the engine writes nothing). */
export const transition = <M extends PaymentMachine | MachineRegistry>(machine: M, snapshot: PersistedSnapshot, event: PaymentEvent): [FamilySnapshot, MachineAction[]] => {
  const r = applyStep(machine, snapshot, event)
  return [(r.refusal ? snapshot : r.snapshot) as FamilySnapshot, actionsOf(r)]
}

/**
 * A payment machine with its refund machines as one actor logic, for `xstate/graph` (model-based
 * tests): each transition is one engine step; a refused step leaves the snapshot as it was.
 */
export const familyLogic = (machine: PaymentMachine | MachineRegistry) => ({
  config: {},
  transition: (snapshot: FamilySnapshot, event: PaymentEvent) => transition(machine, snapshot, event)[0],
  getInitialSnapshot: (_scope: unknown, input: PaymentInput) => initialTransition(machine, input)[0],
  getPersistedSnapshot: (snapshot: FamilySnapshot) => snapshot,
  restoreSnapshot: (snapshot: FamilySnapshot) => snapshot,
})
