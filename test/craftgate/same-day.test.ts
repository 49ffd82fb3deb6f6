/**
 * "Same day" as Craftgate's CANCEL rule reads it: the calendar date in a configurable zone (default
 * Europe/Istanbul, UTC+3) with a configurable cut-off, judged on instants, never on the host's zone.
 */
import { describe, expect, it } from "vitest"
import { businessDay, checkDayRule, sameDay } from "../../machines/craftgate/index.js"
import { craftgate } from "../../adapters/providers/craftgate/index.js"
import { istanbul } from "./helpers.js"

describe("Craftgate business day", () => {
  it("reads the calendar date in Istanbul: 23:59 is still the payment's day, 00:01 is the next", () => {
    const paid = istanbul("2026-11-23T10:00")
    expect(businessDay(paid)).toBe("2026-11-23")
    expect(sameDay(paid, istanbul("2026-11-23T23:59"))).toBe(true)
    expect(sameDay(paid, istanbul("2026-11-24T00:01"))).toBe(false)
    // 21:00 UTC is already the next day in Istanbul, whatever zone the host runs in.
    expect(businessDay("2026-11-23T20:59:59.999Z")).toBe("2026-11-23")
    expect(businessDay("2026-11-23T21:00:00.000Z")).toBe("2026-11-24")
  })

  it("takes another zone, DST included", () => {
    const rule = { timeZone: "Europe/Berlin" }
    // 2026-03-29: Berlin moves from UTC+1 to UTC+2 at 01:00 UTC.
    expect(businessDay("2026-03-28T22:59:00Z", rule)).toBe("2026-03-28")
    expect(businessDay("2026-03-28T23:00:00Z", rule)).toBe("2026-03-29")
    expect(businessDay("2026-03-29T21:59:00Z", rule)).toBe("2026-03-29")
    expect(businessDay("2026-03-29T22:00:00Z", rule)).toBe("2026-03-30")
  })

  it("starts days at the cut-off: with 23:00, 23:30 and 22:59 the next evening are one business day", () => {
    const rule = { cutoff: "23:00" }
    expect(sameDay(istanbul("2026-11-23T23:30"), istanbul("2026-11-24T22:59"), rule)).toBe(true)
    expect(sameDay(istanbul("2026-11-23T22:59"), istanbul("2026-11-23T23:00"), rule)).toBe(false)
    expect(businessDay(istanbul("2026-11-24T00:30"), rule)).toBe("2026-11-23")
  })

  it("refuses a zone or cut-off it cannot use, saying what to pass", () => {
    expect(() => checkDayRule({ timeZone: "Mars/Olympus" })).toThrow(/IANA zone/)
    expect(() => checkDayRule({ cutoff: "24:00" })).toThrow(/HH:MM/)
    expect(() => checkDayRule({ cutoff: "7:00" })).toThrow(/HH:MM/)
    expect(checkDayRule()).toEqual({ timeZone: "Europe/Istanbul", cutoff: "00:00" })
    expect(() => craftgate({ baseUrl: "http://127.0.0.1:1", apiKey: "k", secretKey: "s", dayCutoff: "noon" })).toThrow(expect.objectContaining({ code: "CONFIGURATION_INVALID" }))
  })
})
