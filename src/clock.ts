/** The engine's notion of now; tests move a manual clock instead of sleeping. */
export interface Clock {
  now(): Date
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() }

/** A clock that moves only when told to, for tests, the demo and simulations. */
export interface ManualClock extends Clock {
  set(to: Date | string): void
  advance(ms: number): void
}

/** Creates a manual clock starting at `start` (default: the real time now). */
export const manualClock = (start: Date | string = new Date()): ManualClock => {
  let t = new Date(start).getTime()
  return {
    now: () => new Date(t),
    set: (to) => {
      t = new Date(to).getTime()
    },
    advance: (ms) => {
      t += ms
    },
  }
}
