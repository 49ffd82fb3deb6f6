/**
 * The structured log hook. Entries carry ids, codes, amounts and states, never payloads: no card
 * data, no bank account, no personal data can reach a log line through it. Messages are scrubbed of
 * card-like digit runs as a second guard.
 */
import { isPaystateError } from "./errors.js"
import { scrubText } from "./redact.js"

/** How much an entry matters. */
export type LogLevel = "debug" | "info" | "warn" | "error"

/** One structured log entry. */
export interface LogEntry {
  readonly level: LogLevel
  /** What happened, e.g. `step.committed`, `effect.unknown`, `webhook.rejected`. */
  readonly event: string
  /** The engine clock's time. */
  readonly at: string
  readonly paymentId?: string
  readonly provider?: string
  /** The operation and its id, for effects. */
  readonly op?: string
  readonly opId?: string
  /** The machine event that was stepped. */
  readonly eventType?: string
  /** The payment's status after a step. */
  readonly status?: string
  /** A PaystateError code. */
  readonly code?: string
  readonly message?: string
  /** Attempts so far, for effects. */
  readonly attempt?: number
}

/** Receives log entries. */
export type LogFn = (entry: LogEntry) => void

/** Builds the engine's logger: safe (a failing hook never breaks a payment) and scrubbed. */
export const createLogger = (hook: LogFn | undefined, now: () => string) => {
  const emit = (entry: Omit<LogEntry, "at">): void => {
    if (!hook) return
    try {
      hook({ ...entry, ...(entry.message !== undefined ? { message: scrubText(entry.message) } : {}), at: now() })
    } catch {
      // A log sink must never break a payment.
    }
  }
  /** An error as log fields: its code and scrubbed message. */
  const fromError = (e: unknown): Pick<LogEntry, "code" | "message"> =>
    isPaystateError(e) ? { code: e.code, message: e.message } : { message: e instanceof Error ? e.message : String(e) }
  return { emit, fromError }
}
