/**
 * Money as integers in the currency's minor unit, with exact conversion to and from the decimal
 * strings and numbers the providers put on the wire. No floating point arithmetic touches an amount:
 * decimals are parsed and printed as digit strings.
 */

/** ISO 4217 minor-unit exponents for the currencies paystate knows. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  // zero-decimal
  JPY: 0, KRW: 0, CLP: 0, VND: 0, ISK: 0, PYG: 0, UGX: 0, XAF: 0, XOF: 0, IDR: 2,
  // two-decimal
  USD: 2, EUR: 2, GBP: 2, MXN: 2, BRL: 2, TRY: 2, ARS: 2, COP: 2, PEN: 2, UYU: 2, BOB: 2,
  CAD: 2, AUD: 2, NZD: 2, CHF: 2, CNY: 2, HKD: 2, SGD: 2, TWD: 2, THB: 2, MYR: 2, PHP: 2,
  INR: 2, ZAR: 2, SEK: 2, NOK: 2, DKK: 2, PLN: 2, CZK: 2, HUF: 2, RON: 2, ILS: 2, AED: 2,
  SAR: 2, EGP: 2, NGN: 2, KES: 2, GTQ: 2, CRC: 2, DOP: 2, PAB: 2, HNL: 2, NIO: 2,
  // three-decimal
  KWD: 3, BHD: 3, JOD: 3, OMR: 3, TND: 3, LYD: 3, IQD: 3,
})

/** True when paystate knows the currency's minor unit. */
export const isKnownCurrency = (currency: string): boolean =>
  Object.prototype.hasOwnProperty.call(CURRENCY_EXPONENTS, currency)

/** The number of decimal places of the currency's minor unit (JPY 0, USD 2, KWD 3). */
export const exponentOf = (currency: string): number => {
  const e = CURRENCY_EXPONENTS[currency]
  if (e === undefined) throw new RangeError(`Unknown currency "${currency}": use an ISO 4217 code paystate knows (see CURRENCY_EXPONENTS).`)
  return e
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/**
 * Converts a major-unit decimal ("20.5", 20.5, "1000") into an integer of minor units, exactly.
 * Throws a RangeError when the value has more decimals than the currency allows or is not finite.
 */
export const toMinor = (value: string | number, currency: string): number => {
  const exp = exponentOf(currency)
  const text = typeof value === "number" ? numberToText(value) : value.trim()
  const m = DECIMAL.exec(text)
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new RangeError(`"${value}" is not a decimal amount.`)
  const sign = m[1] === "-" ? -1 : 1
  let int = m[2] ?? ""
  let frac = m[3] ?? ""
  const shift = m[4] ? Number(m[4]) : 0
  if (shift > 0) {
    frac = frac.padEnd(shift, "0")
    int += frac.slice(0, shift)
    frac = frac.slice(shift)
  } else if (shift < 0) {
    int = int.padStart(-shift, "0")
    frac = int.slice(int.length + shift) + frac
    int = int.slice(0, int.length + shift)
  }
  const significant = frac.replace(/0+$/, "")
  if (significant.length > exp) {
    throw new RangeError(`${value} ${currency} has more decimals than ${currency} allows (${exp}).`)
  }
  const digits = (int + significant.padEnd(exp, "0")).replace(/^0+(?=\d)/, "") || "0"
  const minor = Number(digits)
  if (!Number.isSafeInteger(minor)) throw new RangeError(`${value} ${currency} is too large.`)
  return sign * minor === 0 ? 0 : sign * minor
}

/** Formats minor units as the major-unit decimal string ("2050" USD → "20.50", 1000 JPY → "1000"). */
export const toMajorString = (minor: number, currency: string): string => {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`${minor} is not an integer amount of minor units.`)
  const exp = exponentOf(currency)
  const neg = minor < 0
  const digits = String(Math.abs(minor)).padStart(exp + 1, "0")
  const int = digits.slice(0, digits.length - exp)
  const frac = digits.slice(digits.length - exp)
  return (neg ? "-" : "") + (exp === 0 ? int : `${int}.${frac}`)
}

/**
 * Formats minor units as a JSON number in major units (2050 USD → 20.5). The shortest decimal
 * that round-trips a double is what `JSON.stringify` prints, so the wire text is exact — as long as
 * the double holds the amount exactly. Throws a RangeError when it does not (e.g. 2^53 + 1 cents,
 * whose major-unit decimal needs more than a double's 15–17 digits): a provider would be sent
 * another amount than the one recorded.
 */
export const toMajorNumber = (minor: number, currency: string): number => {
  const major = Number(toMajorString(minor, currency))
  if (!roundTrips(major, minor, currency)) {
    throw new RangeError(`${minor} minor units of ${currency} cannot be sent exactly as a JSON number (${toMajorString(minor, currency)} would become ${String(major)}).`)
  }
  return major
}

const roundTrips = (major: number, minor: number, currency: string): boolean => {
  try {
    return toMinor(major, currency) === minor
  } catch {
    return false
  }
}

/**
 * True when `minor` is a safe integer whose major-unit value survives the trip to a JSON number and
 * back exactly, i.e. `toMajorNumber` would not throw. Every integer of at most 15 digits does.
 */
export const isExactOnWire = (minor: number, currency: string): boolean => {
  if (!Number.isSafeInteger(minor)) return false
  try {
    exponentOf(currency)
  } catch {
    return false
  }
  return roundTrips(Number(toMajorString(minor, currency)), minor, currency)
}

/** Renders an amount for people: "¥1,000", "20.50 USD". */
export const formatMoney = (minor: number, currency: string): string => {
  const [int, frac] = toMajorString(minor, currency).split(".")
  const grouped = (int ?? "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  return `${frac === undefined ? grouped : `${grouped}.${frac}`} ${currency}`
}

const numberToText = (n: number): string => {
  if (!Number.isFinite(n)) throw new RangeError(`${n} is not a finite amount.`)
  // String(n) gives the shortest round-trip text (possibly with an exponent, which the parser handles).
  return String(n)
}
