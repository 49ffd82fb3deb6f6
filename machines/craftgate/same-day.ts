/**
 * Craftgate's "same day" (seed 003: a whole refund on the payment's day, with no earlier partial
 * refund, is a CANCEL). The sources do not name the zone or the hour the day turns, so both are
 * configurable: the calendar date in `timeZone` (default Europe/Istanbul, UTC+3 without DST), with
 * business days starting at `cutoff` local time (default "00:00", midnight).
 */

/** How days are judged. */
export interface DayRule {
  /** IANA time zone. Default Europe/Istanbul. */
  readonly timeZone?: string
  /** "HH:MM" local time at which a new business day starts. Default "00:00". */
  readonly cutoff?: string
}

/** The rule Craftgate is assumed to apply when nothing else is configured. */
export const DEFAULT_DAY_RULE: Required<DayRule> = { timeZone: "Europe/Istanbul", cutoff: "00:00" }

const CUTOFF = /^([01]\d|2[0-3]):([0-5]\d)$/

const formatters = new Map<string, Intl.DateTimeFormat>()
const formatter = (timeZone: string): Intl.DateTimeFormat => {
  let f = formatters.get(timeZone)
  if (!f) {
    // Throws a RangeError for a zone the runtime does not know, which checkDayRule turns into advice.
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
    formatters.set(timeZone, f)
  }
  return f
}

/**
 * Fills in the defaults and checks the rule, so that a typo fails when the adapter or sandbox is
 * built rather than at the first refund. Throws a RangeError that says what to pass instead.
 */
export const checkDayRule = (rule: DayRule = {}): Required<DayRule> => {
  const timeZone = rule.timeZone ?? DEFAULT_DAY_RULE.timeZone
  const cutoff = rule.cutoff ?? DEFAULT_DAY_RULE.cutoff
  try {
    formatter(timeZone)
  } catch {
    throw new RangeError(`Unknown time zone "${timeZone}": pass an IANA zone name such as "Europe/Istanbul".`)
  }
  if (!CUTOFF.test(cutoff)) throw new RangeError(`Invalid day cut-off "${cutoff}": pass local time as "HH:MM", 00:00 to 23:59 (e.g. "00:00" for midnight).`)
  return { timeZone, cutoff }
}

/** The wall-clock date and minute of the day of an instant in a zone. */
const localParts = (at: string | Date, timeZone: string) => {
  const t = new Date(at)
  if (Number.isNaN(t.getTime())) throw new RangeError(`"${String(at)}" is not a time.`)
  const parts: Record<string, string> = {}
  for (const p of formatter(timeZone).formatToParts(t)) parts[p.type] = p.value
  return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day), minute: Number(parts.hour) * 60 + Number(parts.minute) }
}

/**
 * The business day (YYYY-MM-DD) an instant belongs to: the local date of the most recent cut-off.
 * With cut-off 23:00, 23:30 on the 5th and 22:59 on the 6th both belong to the 5th.
 */
export const businessDay = (at: string | Date, rule: DayRule = {}): string => {
  const { timeZone, cutoff } = checkDayRule(rule)
  const [h, min] = cutoff.split(":").map(Number)
  const local = localParts(at, timeZone)
  // Wall-clock arithmetic (not a fixed shift of the instant) keeps the rule right across DST changes.
  const back = local.minute < h! * 60 + min! ? 1 : 0
  return new Date(Date.UTC(local.y, local.m - 1, local.d - back)).toISOString().slice(0, 10)
}

/** True when both instants fall on the same business day under the rule. */
export const sameDay = (a: string | Date, b: string | Date, rule: DayRule = {}): boolean => businessDay(a, rule) === businessDay(b, rule)
