/**
 * The machine versions an engine knows, per provider: the payment machine new payments start on, the
 * older ones that stored payments still name, and every refund machine of each. A stored snapshot
 * names its machine and version (`{ machine, version, value, context }`), so a payment or refund in
 * flight finishes on the version it started on while new ones start on the current version.
 */
import type { AnyStateMachine } from "xstate"
import { refundMachinesOf, type PaymentMachine } from "../machines/lifecycle/index.js"
import { paystateError } from "./errors.js"

/** A machine's name and version as a stored snapshot records them. */
export interface MachineRef {
  readonly machine: string
  readonly version: string
}

/** The machines of one provider, by name and version. */
export interface MachineRegistry {
  /** The payment machine new payments start on. */
  readonly current: PaymentMachine
  /** The payment machine a stored snapshot names; a snapshot that names none is on the current one. */
  payment(ref?: Partial<MachineRef>): PaymentMachine
  /** Refund machine `name` as `payment`'s family starts it. */
  refundFor(payment: PaymentMachine, name: string): AnyStateMachine
  /** The refund machine a stored refund snapshot names. */
  refund(ref: MachineRef): AnyStateMachine
  /** Every machine version registered, payment and refund machines alike. */
  versions(): readonly MachineRef[]
  /** True when `ref` is registered. */
  has(ref: MachineRef): boolean
}

/** The version a machine declares (XState's `version`), "1" when it declares none. */
export const versionOf = (m: AnyStateMachine): string => m.version ?? "1"

const key = (machine: string, version: string) => `${machine}@${version}`

/** Builds the registry of a provider: its current payment machine and the older versions kept for stored payments. */
export const createRegistry = (current: PaymentMachine, older: readonly AnyStateMachine[] = []): MachineRegistry => {
  const payments = new Map<string, PaymentMachine>()
  const refunds = new Map<string, AnyStateMachine>()
  for (const m of [current, ...older] as PaymentMachine[]) {
    if (!payments.has(key(m.id, versionOf(m)))) payments.set(key(m.id, versionOf(m)), m)
    for (const r of Object.values(refundMachinesOf(m))) if (!refunds.has(key(r.id, versionOf(r)))) refunds.set(key(r.id, versionOf(r)), r)
  }
  const missing = (ref: Partial<MachineRef>) =>
    paystateError("MACHINE_VERSION_MISSING", `No machine ${ref.machine}@${ref.version} is registered; registered: ${[...payments.keys(), ...refunds.keys()].join(", ")}. Keep the version in the engine's \`machines\` option until no stored payment uses it.`, {
      machine: ref.machine,
      version: ref.version,
    })
  return {
    current,
    payment: (ref) => {
      if (!ref?.machine) return current
      const m = payments.get(key(ref.machine, ref.version ?? "1"))
      if (!m) throw missing(ref)
      return m
    },
    refundFor: (payment, name) => {
      const m = refundMachinesOf(payment)[name]
      if (!m) throw missing({ machine: name, version: "?" })
      return m
    },
    refund: (ref) => {
      const m = refunds.get(key(ref.machine, ref.version))
      if (!m) throw missing(ref)
      return m
    },
    versions: () => [...payments.values(), ...refunds.values()].map((m) => ({ machine: m.id, version: versionOf(m) })),
    has: (ref) => payments.has(key(ref.machine, ref.version)) || refunds.has(key(ref.machine, ref.version)),
  }
}

const cache = new WeakMap<AnyStateMachine, MachineRegistry>()

/** The registry of a lone payment machine (its own version and its refund machines), built once. */
export const registryOf = (machine: PaymentMachine | MachineRegistry): MachineRegistry => {
  if ("refundFor" in machine) return machine
  let r = cache.get(machine)
  if (!r) cache.set(machine, (r = createRegistry(machine)))
  return r
}
