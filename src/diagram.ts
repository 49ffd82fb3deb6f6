/**
 * Renders a payment or refund machine as a Mermaid state diagram or as a machine config in JSON (what
 * Stately's editor imports), for docs, for `paystate diagram` and for the console. Everything shown is
 * read off the machine itself: states, tags (what a state means to the ledger), descriptions, events,
 * guards and actions by name; nothing is guessed from state names.
 */
import type { AnyStateMachine } from "xstate"

interface TransitionLike {
  readonly target?: readonly NodeLike[]
  readonly eventType: string
  readonly guard?: unknown
  readonly actions?: readonly unknown[]
}

interface NodeLike {
  readonly key: string
  readonly id: string
  readonly states: Record<string, NodeLike>
  readonly type: string
  readonly tags?: readonly string[]
  readonly description?: string
  readonly entry?: readonly unknown[]
  readonly initial?: { target: readonly NodeLike[] }
  readonly transitions: Map<string, readonly TransitionLike[]>
  readonly always?: readonly TransitionLike[]
}

const name = (n: NodeLike, root: NodeLike): string => n.id.slice(root.id.length + 1).replace(/\./g, "_") || "root"

/** A guard's name as a reader sees it: `creditCard`, `says COMPLETED`, `accepted && cashMethod`. */
export const guardName = (g: unknown): string | undefined => {
  if (g === undefined || g === null) return undefined
  if (typeof g === "string") return g
  if (typeof g === "function") {
    const f = g as { name?: string; guards?: readonly unknown[] }
    if (f.guards) return f.guards.map((x) => guardName(x)).join(f.name === "or" ? " || " : f.name === "not" ? "!" : " && ")
    return f.name || "guard"
  }
  if (typeof g === "object") {
    const o = g as { type?: string; params?: Record<string, unknown> }
    const p = o.params ? Object.values(o.params).flat().join(", ") : ""
    return p ? `${o.type} ${p}` : o.type
  }
  return String(g)
}

const actionName = (a: unknown): string | undefined => {
  if (typeof a === "string") return a
  if (a && typeof a === "object" && typeof (a as { type?: unknown }).type === "string") return (a as { type: string }).type
  if (typeof a === "function") return (a as { name?: string }).name || undefined
  return undefined
}

// Internal transitions that only record facts would clutter every state; those that start something show.
const SHOWN_INTERNAL = new Set(["startCapture", "startCancel", "startUpdate", "reserveRefund", "poll"])

const edgeLabel = (event: string | undefined, t: TransitionLike): string => {
  const g = guardName(t.guard)
  const acts = (t.actions ?? []).map(actionName).filter((x): x is string => !!x)
  return [event, g ? `[${g}]` : event ? "" : "[else]", acts.length ? `/ ${acts.join(", ")}` : ""].filter(Boolean).join(" ")
}

/** Mermaid `stateDiagram-v2` text for a machine; node names are state ids with dots as underscores. */
export const toMermaid = (machine: AnyStateMachine): string => {
  const root = machine.root as unknown as NodeLike
  const lines = ["stateDiagram-v2"]
  const edges = new Set<string>()
  const notes: string[] = []
  const walk = (node: NodeLike, indent: string) => {
    const init = node.initial?.target[0]
    if (init) lines.push(`${indent}[*] --> ${name(init, root)}`)
    for (const child of Object.values(node.states)) {
      const id = name(child, root)
      const tags = child.tags?.length ? ` · ${child.tags.join(", ")}` : ""
      if (tags) lines.push(`${indent}state "${child.key}${tags}" as ${id}`)
      if (Object.values(child.states).length) {
        lines.push(`${indent}state ${id} {`)
        walk(child, indent + "  ")
        lines.push(`${indent}}`)
      }
      if (child.type === "final") lines.push(`${indent}${id} --> [*]`)
      if (child.description) notes.push(`  note right of ${id}: ${child.description.replace(/[:;]/g, ",")}`)
      for (const [event, ts] of child.transitions) {
        for (const t of ts) {
          const targets = t.target ?? []
          if (targets.length) for (const target of targets) edges.add(`${id} --> ${name(target, root)}: ${edgeLabel(event, t)}`)
          else if ((t.actions ?? []).some((a) => SHOWN_INTERNAL.has(actionName(a) ?? ""))) edges.add(`${id} --> ${id}: ${edgeLabel(event, t)}`)
        }
      }
      for (const t of child.always ?? []) for (const target of t.target ?? []) edges.add(`${id} --> ${name(target, root)}: ${edgeLabel(undefined, t)}`)
    }
  }
  walk(root, "  ")
  for (const e of edges) lines.push(`  ${e}`)
  lines.push(...notes)
  return lines.join("\n")
}

const transitionJson = (root: NodeLike, t: TransitionLike) => {
  const target = (t.target ?? []).map((n) => `#${n.id}`)
  const guard = guardName(t.guard)
  const actions = (t.actions ?? []).map(actionName).filter((x): x is string => !!x)
  return { ...(target.length ? { target: target.length === 1 ? target[0] : target } : {}), ...(guard ? { guard } : {}), ...(actions.length ? { actions } : {}) }
}

const nodeJson = (root: NodeLike, node: NodeLike): Record<string, unknown> => {
  const states = Object.values(node.states)
  const on: Record<string, unknown[]> = {}
  for (const [event, ts] of node.transitions) {
    // A node lists its ancestors' transitions too; keep those declared on the node itself.
    const own = ts.filter((t) => (t as { source?: NodeLike }).source === undefined || (t as { source?: NodeLike }).source === node)
    if (own.length) on[event] = own.map((t) => transitionJson(root, t))
  }
  const entry = (node.entry ?? []).map(actionName).filter((x): x is string => !!x)
  return {
    ...(node === root ? { id: root.id } : {}),
    ...(node.type === "final" ? { type: "final" } : {}),
    ...(node.description ? { description: node.description } : {}),
    ...(node.tags?.length ? { tags: [...node.tags] } : {}),
    ...(entry.length ? { entry } : {}),
    ...(node.initial?.target[0] ? { initial: node.initial.target[0].key } : {}),
    ...(node.always?.length ? { always: node.always.map((t) => transitionJson(root, t)) } : {}),
    ...(Object.keys(on).length ? { on } : {}),
    ...(states.length ? { states: Object.fromEntries(states.map((s) => [s.key, nodeJson(root, s)])) } : {}),
  }
}

/**
 * The machine as a config object in JSON (id, version, states with tags and descriptions, transitions
 * with guards and actions by name), the shape Stately's editor imports.
 */
export const toJson = (machine: AnyStateMachine): Record<string, unknown> => {
  const root = machine.root as unknown as NodeLike
  return { ...nodeJson(root, root), id: root.id, ...(machine.version ? { version: machine.version } : {}) }
}
