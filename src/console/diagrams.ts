/**
 * The console's statecharts: `toMermaid` text of a payment or refund machine with Mermaid classes
 * that mark the current state and the states a refund went through. Mermaid lays them out in the
 * browser; the console only names which nodes to mark, by the same ids `toMermaid` gives them.
 */
import type { AnyStateMachine } from "xstate"
import { refundMachinesOf } from "../../machines/lifecycle/index.js"
import { toMermaid } from "../diagram.js"
import type { ProviderAdapter } from "../provider.js"

interface NodeLike {
  readonly id: string
  readonly states: Record<string, NodeLike>
}

/** A machine drawn for one payment or refund: the Mermaid text and which nodes it marks. */
export interface MarkedDiagram {
  /** The machine's id (e.g. "craftgateRefund"). */
  readonly machine: string
  readonly version: string
  readonly mermaid: string
  /** The node of the current state, if the machine has it. */
  readonly current: string | null
  /** Nodes visited before the current one, in order, without repeats. */
  readonly visited: readonly string[]
}

/** A state path ("captured.partiallyRefunded") as `toMermaid`'s node name ("captured_partiallyRefunded"). */
export const nodeName = (statePath: string): string => statePath.replace(/\./g, "_")

const nodeNames = (machine: AnyStateMachine): Set<string> => {
  const root = machine.root as unknown as NodeLike
  const out = new Set<string>()
  const walk = (n: NodeLike) => {
    for (const c of Object.values(n.states)) {
      out.add(c.id.slice(root.id.length + 1).replace(/\./g, "_"))
      walk(c)
    }
  }
  walk(root)
  return out
}

// Dark text on light fills (contrast above 7:1); the current state also gets a thick border, so it
// does not rely on colour alone.
const CLASS_DEFS = [
  "  classDef current fill:#ffd166,stroke:#6b3e00,stroke-width:4px,color:#111111,font-weight:bold",
  "  classDef visited fill:#cfe8d5,stroke:#1e5b2c,stroke-width:2px,color:#111111",
]

/** The machine's diagram with `current` (a state path) and the `path` before it marked. */
export const markedDiagram = (machine: AnyStateMachine, current: string | null | undefined, path: readonly string[] = []): MarkedDiagram => {
  const names = nodeNames(machine)
  const cur = current ? nodeName(current) : undefined
  const known = cur && names.has(cur) ? cur : null
  const visited = [...new Set(path.map(nodeName))].filter((n) => names.has(n) && n !== known)
  const lines = [toMermaid(machine), ...CLASS_DEFS]
  if (visited.length) lines.push(`  class ${visited.join(",")} visited`)
  if (known) lines.push(`  class ${known} current`)
  return { machine: (machine.root as unknown as NodeLike).id, version: machine.version ?? "1", mermaid: lines.join("\n"), current: known, visited }
}

/** The payment machine and refund machines each provider runs, by provider name and machine name. */
export interface MachineCatalog {
  payment(provider: string): AnyStateMachine | undefined
  refund(provider: string, machine: string): AnyStateMachine | undefined
}

/** A catalog from the engine's providers (the adapters' `machine`, and the refund machines it starts). */
export const catalogOf = (providers: Readonly<Record<string, Pick<ProviderAdapter, "machine">>> | undefined): MachineCatalog => ({
  payment: (provider) => (providers && Object.hasOwn(providers, provider) ? (providers[provider]!.machine as unknown as AnyStateMachine) : undefined),
  refund: (provider, name) => {
    if (!providers || !Object.hasOwn(providers, provider)) return undefined
    const a = providers[provider] as Pick<ProviderAdapter, "machine"> & { readonly refundMachines?: Readonly<Record<string, AnyStateMachine>> }
    const all = { ...refundMachinesOf(a.machine as unknown as AnyStateMachine), ...a.refundMachines }
    return Object.hasOwn(all, name) ? all[name] : undefined
  },
})
