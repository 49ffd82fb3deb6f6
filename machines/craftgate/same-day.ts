/**
 * Craftgate's "same day" (seed 003: a whole refund on the payment's day, with no earlier partial
 * refund, is a CANCEL). The day is the calendar date in a configurable time zone (default
 * Europe/Istanbul) whose days start at a configurable cut-off (default 00:00).
 */

/** How days are judged. */
export interface DayRule {
  /** IANA time zone. Default Europe/Istanbul (UTC+3, no DST). */
  readonly timeZone?: string
  /** "HH:MM" at which a new day starts; "00:00" is midnight. */
  readonly cutoff?: string
}

const formatters = new Map<string, Intl.DateTimeFormat>()
const formatter = (timeZone: string) => {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    formatters.set(timeZone, f)
  }
  return f
}

/** The business day (YYYY-MM-DD) an instant belongs to under the rule. */
export const businessDay = (at: string | Date, rule: DayRule = {}): string => {
  const [h, m] = (rule.cutoff ?? "00:00").split(":").map(Number)
  // A cut-off of 23:00 means 23:00 already belongs to the next day: shift by the cut-off, then read the date.
  const shifted = new Date(new Date(at).getTime() - ((h ?? 0) * 60 + (m ?? 0)) * 60_000)
  return formatter(rule.timeZone ?? "Europe/Istanbul").format(shifted)
}

/** True when both instants fall on the same business day. */
export const sameDay = (a: string | Date, b: string | Date, rule: DayRule = {}): boolean => businessDay(a, rule) === businessDay(b, rule)
