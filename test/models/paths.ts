/**
 * Shared pieces of the model-based refund machine tests: a refund machine's simple paths from
 * `xstate/graph`, each as the events and states the engine must reproduce against a sandbox, and
 * the expectation on the refund's ledger entry once the engine has been driven along it.
 */
import { expect } from "vitest"
import type { AnyStateMachine } from "xstate"
import { getSimplePaths } from "xstate/graph"
import type { RefundEvent, RefundInput } from "../../machines/lifecycle/refund.js"
import type { PaymentView, RefundView } from "../../src/types.js"

/** The time every model event carries: the refund machines never read it, only record it. */
export const MODEL_AT = "2026-11-23T09:00:00.000Z"

/** One step of a model path: the event, and the state value the machine is in before and after it. */
export interface ModelStep {
  readonly from: string
  readonly event: RefundEvent
  readonly to: string
  /** After the step: the machine flagged the refund for review (its last poll ran). */
  readonly needsReview: boolean
}

/** A refund machine path, as the engine must reproduce it. */
export interface ModelPath {
  /** A readable name: the initial state, then each event and the state it leads to. */
  readonly name: string
  readonly steps: readonly ModelStep[]
  /** The state value the path ends in. */
  readonly final: string
  /** The states it went through, consecutive repeats dropped, from the machine's initial state. */
  readonly visited: readonly string[]
}

const valueOf = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v))

/** A REPORT as an adapter hands it, with the ledger status and the provider's own word. */
export const report = (status: "succeeded" | "failed" | "pending", providerStatus: string): RefundEvent => ({ type: "REPORT", at: MODEL_AT, status, providerStatus })

/**
 * The events a refund machine can be sent in a snapshot: the given reports, a definite refusal, the
 * two resolutions, and a POLL only once the machine set its poll timer (`watching`) and before it
 * flagged itself for review — the engine's durable poll timer is the only source of POLL, and it
 * exists exactly then (`watch` / `poll` in machines/lifecycle/refund.ts).
 */
export const eventsOf =
  (reports: (snapshot: any) => readonly RefundEvent[]) =>
  (snapshot: any): RefundEvent[] => [
    ...reports(snapshot),
    { type: "REFUSED", at: MODEL_AT, code: "MODEL", message: "refused" },
    ...(snapshot.context.watching && !snapshot.context.needsReview ? [{ type: "POLL" as const, at: MODEL_AT, n: snapshot.context.polls as number }] : []),
    { type: "REVIEW.RESOLVE", at: MODEL_AT, outcome: "succeeded", note: "checked with the provider", by: "model" },
    { type: "REVIEW.RESOLVE", at: MODEL_AT, outcome: "failed", note: "checked with the provider", by: "model" },
  ]

const describeEvent = (e: RefundEvent): string =>
  e.type === "REPORT" ? `REPORT ${e.providerStatus}` : e.type === "REVIEW.RESOLVE" ? `RESOLVE ${e.outcome}` : e.type

/**
 * Every simple path of `machine` from `input` over `events`. A state is its value, its poll count
 * and its review flag: a POLL is a step of its own, and with one poll delay the schedule ends after
 * one, so the path count stays small.
 */
export const simplePaths = (machine: AnyStateMachine, input: RefundInput, events: (snapshot: any) => RefundEvent[]): ModelPath[] => {
  const paths = getSimplePaths(machine, {
    input,
    events: events as never,
    serializeState: ((s: any) => JSON.stringify([s.value, s.context.polls, s.context.needsReview])) as never,
  })
  const initial = String((machine.config as { initial?: unknown }).initial)
  return paths.map((p) => {
    const steps: ModelStep[] = []
    let from = valueOf(p.steps[0]!.state.value)
    for (const s of p.steps.slice(1)) {
      const to = valueOf(s.state.value)
      steps.push({ from, event: s.event as RefundEvent, to, needsReview: (s.state.context as { needsReview: boolean }).needsReview })
      from = to
    }
    const states = [initial, ...p.steps.map((s) => valueOf(s.state.value))]
    const visited = states.filter((s, i) => i === 0 || s !== states[i - 1])
    const name = [valueOf(p.steps[0]!.state.value), ...steps.map((s) => `${describeEvent(s.event)} → ${s.to}`)].join(" · ")
    return { name, steps, final: valueOf(p.state.value), visited }
  })
}

/** The refund paystate made for the path: neither external nor unattributed, nor a part split off it (Craftgate). */
export const ourRefund = (view: PaymentView): RefundView => {
  const mine = view.refunds.filter((r) => !r.external && !r.unattributed && r.details.splitFrom === undefined)
  expect(mine, `payment ${view.id} has exactly one refund of its own`).toHaveLength(1)
  return mine[0]!
}

/** The refund ended where the path predicts: its state, the states it went through, the machine that ran it. */
export const expectOnPath = (view: PaymentView, path: ModelPath, machine: string): RefundView => {
  const r = ourRefund(view)
  expect({ machine: r.machine, state: r.state, path: r.path }).toEqual({ machine, state: path.final, path: path.visited })
  expect(r.needsReview, "flagged for review exactly when the model is").toBe(path.steps.at(-1)?.needsReview ?? false)
  return r
}
