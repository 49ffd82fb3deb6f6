/**
 * Reading KOMOJU parameters the way KOMOJU does: from JSON (numbers, booleans) or form bodies
 * (everything a string, `a[b]=c` nesting), with KOMOJU's error envelope for anything missing or bad.
 */

/** An error answer in KOMOJU's envelope. */
export class KomojuSandboxError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message)
  }

  /** The HTTP answer. */
  toResponse() {
    return { status: this.status, body: { error: { message: this.message, code: this.code, param: this.param } } }
  }
}

/** 422 missing_parameter, as in KOMOJU's own example ("A required parameter (amount) is missing"). */
export const missing = (param: string) => new KomojuSandboxError(422, "missing_parameter", `A required parameter (${param}) is missing`, param)

/** 422 invalid_parameter for a value KOMOJU cannot take. */
export const invalidParam = (param: string, why: string) => new KomojuSandboxError(422, "invalid_parameter", `The parameter ${param} is invalid: ${why}`, param)

/** 422 unprocessable_entity: well-formed, but a rule forbids it. */
export const unprocessable = (message: string, param: string | null = null) => new KomojuSandboxError(422, "unprocessable_entity", message, param)

const present = (v: unknown) => v !== undefined && v !== null && v !== ""

/** A required or optional non-negative integer (amounts are integers of the minor unit). */
export const intParam = (body: Record<string, unknown>, name: string, required: boolean, label = name): number | undefined => {
  const v = body[name]
  if (!present(v)) {
    if (required) throw missing(label)
    return undefined
  }
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN
  if (!Number.isSafeInteger(n) || n < 0) throw invalidParam(label, "must be an integer of the currency's smallest unit, 0 or more, without separators or decimals")
  return n
}

/** A required or optional string. */
export const stringParam = (body: Record<string, unknown>, name: string, required: boolean, label = name): string | undefined => {
  const v = body[name]
  if (!present(v)) {
    if (required) throw missing(label)
    return undefined
  }
  if (typeof v !== "string" && typeof v !== "number") throw invalidParam(label, "must be a string")
  return String(v)
}

/** A boolean sent as JSON true/false or form "true"/"false". */
export const boolParam = (body: Record<string, unknown>, name: string, required: boolean): boolean | undefined => {
  const v = body[name]
  if (!present(v)) {
    if (required) throw missing(name)
    return undefined
  }
  if (v === true || v === "true" || v === "1") return true
  if (v === false || v === "false" || v === "0") return false
  throw invalidParam(name, "must be true or false")
}

/** A string-to-string map (metadata), from JSON or `metadata[key]=value`. */
export const mapParam = (body: Record<string, unknown>, name: string): Record<string, string> | undefined => {
  const v = body[name]
  if (v === undefined || v === null || v === "") return v === undefined ? undefined : {}
  if (typeof v !== "object" || Array.isArray(v)) throw invalidParam(name, "must be a set of key-value pairs")
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, typeof x === "string" ? x : JSON.stringify(x)]))
}
