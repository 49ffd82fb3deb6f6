/**
 * Bench helpers: statistics, interleaved A/B rounds, and the result record every figure writes to
 * bench/results.json. Nothing here knows paystate.
 */
import { loadavg } from "node:os"

/** Median of a list (the mean of the two middle values for an even count). */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The p-th percentile (0–100), nearest rank. */
export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

/** Median and range of samples, rounded for the report. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly samples: readonly number[]
}

const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toPrecision(digits + 2)) : x)

/** Summarises samples. */
export const summary = (xs: readonly number[]): Summary => ({
  median: round(median(xs)),
  min: round(Math.min(...xs)),
  max: round(Math.max(...xs)),
  samples: xs.map((x) => round(x)),
})

/** One figure of the report. */
export interface Figure {
  readonly id: string
  readonly title: string
  /** What "ratio" means for this figure, e.g. "paystate throughput / baseline throughput". */
  readonly ratioMeaning?: string
  readonly goal: string
  readonly unit?: string
  readonly subject?: { readonly label: string } & Summary
  readonly baseline?: { readonly label: string } & Summary
  readonly ratio?: Summary
  readonly value?: unknown
  /** True / false when the goal is measurable here; null when it could not be measured. */
  readonly meetsGoal: boolean | null
  readonly note?: string
  readonly seconds: number
}

/** Times an async function (ms). */
export const timeIt = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/**
 * Runs A and B alternately for `rounds` rounds (A B A B …, the order flipped every other round so a
 * drifting machine favours neither), after one unmeasured warm-up of each. Each call returns its
 * measure (e.g. ops per second). Returns both series and the per-round ratio A/B.
 */
export const interleave = async (
  rounds: number,
  a: (round: number) => Promise<number>,
  b: (round: number) => Promise<number>,
): Promise<{ a: number[]; b: number[]; ratio: number[] }> => {
  await a(-1)
  await b(-1)
  const as: number[] = []
  const bs: number[] = []
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      as.push(await a(r))
      bs.push(await b(r))
    } else {
      bs.push(await b(r))
      as.push(await a(r))
    }
  }
  return { a: as, b: bs, ratio: as.map((x, i) => x / bs[i]!) }
}

/** Runs `ops` operations with `clients` concurrent loops; returns operations per second. */
export const throughput = async (ops: number, clients: number, op: (i: number) => Promise<unknown>): Promise<number> => {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < ops; i = next++) await op(i)
    }),
  )
  return (ops / (performance.now() - t0)) * 1000
}

/** The machine as the bench saw it. */
export const machine = () => ({ loadavg: loadavg().map((x) => Number(x.toFixed(2))), node: process.version })

/** Prints one line per figure as it completes. */
export const say = (line: string) => process.stdout.write(`${line}\n`)
