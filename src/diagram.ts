/**
 * Renders a payment machine as a Mermaid state diagram or as XState's JSON definition, for docs and
 * for `paystate diagram`.
 */
import type { AnyStateMachine } from "xstate"

interface NodeLike {
  readonly key: string
  readonly id: string
  readonly states: Record<string, NodeLike>
  readonly type: string
  readonly initial?: { target: readonly NodeLike[] }
  readonly transitions: Map<string, readonly { target?: readonly NodeLike[]; eventType: string; guard?: unknown }[]>
  readonly always?: readonly { target?: readonly NodeLike[]; guard?: unknown }[]
}

const name = (n: NodeLike, root: NodeLike): string => n.id.slice(root.id.length + 1).replace(/\./g, "_") || "root"

/** Mermaid `stateDiagram-v2` text for a machine. */
export const toMermaid = (machine: AnyStateMachine): string => {
  const root = machine.root as unknown as NodeLike
  const lines = ["stateDiagram-v2"]
  const edges = new Set<string>()
  const walk = (node: NodeLike, indent: string) => {
    const children = Object.values(node.states)
    const init = node.initial?.target[0]
    if (init) lines.push(`${indent}[*] --> ${name(init, root)}`)
    for (const child of children) {
      const childStates = Object.values(child.states)
      if (childStates.length) {
        lines.push(`${indent}state ${name(child, root)} {`)
        walk(child, indent + "  ")
        lines.push(`${indent}}`)
      }
      if (child.type === "final") lines.push(`${indent}${name(child, root)} --> [*]`)
      for (const [event, ts] of child.transitions) {
        for (const t of ts) for (const target of t.target ?? []) edges.add(`${name(child, root)} --> ${name(target, root)}: ${event}`)
      }
      for (const t of child.always ?? []) {
        for (const target of t.target ?? []) edges.add(`${name(child, root)} --> ${name(target, root)}: ${label(child, target)}`)
      }
    }
  }
  walk(root, "  ")
  for (const e of edges) lines.push(`  ${e}`)
  return lines.join("\n")
}

const label = (from: NodeLike, to: NodeLike): string => {
  if (to.key === "refunded") return "refunds settle the whole captured amount"
  if (from.key === "refunded" && to.key === "captured") return "a settled refund is reversed"
  if (to.key === "partiallyRefunded") return "a refund settles"
  if (to.key === "unrefunded") return "the settled refund is reversed"
  if (to.key === "expired") return "deadline passes / provider reports expired"
  return `provider reports ${to.key}`
}

/** The machine's JSON definition (states, transitions, guards by name). */
export const toJson = (machine: AnyStateMachine): unknown => JSON.parse(JSON.stringify(machine.definition))
