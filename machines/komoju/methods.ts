/**
 * KOMOJU's payment methods and what each one means for the lifecycle, as the seed examples show it
 * (seed 001, "Create Payments": every example's request and answer). Pure data, shared by the
 * policy, the adapter's input schemas and the sandbox, so that all three agree on every rule.
 */

/** Every payment method of the seeds' create examples. */
export const KOMOJU_METHODS = [
  "credit_card",
  "konbini",
  "bank_transfer",
  "pay_easy",
  "web_money",
  "bit_cash",
  "net_cash",
  "nanaco",
  "mobile",
  "japan_mobile",
  "line_pay",
  "merpay",
  "paidy",
  "happy_money",
  "culture_voucher",
] as const

/** A KOMOJU payment method (`payment_details[type]`). */
export type KomojuMethod = (typeof KOMOJU_METHODS)[number]

/** How a method's `payment_deadline` is set, relative to the payment's creation. */
export type DeadlineRule =
  /** `days` later at 23:59:59 Japan time; `expiry_days` may ask for another number, up to `maxDays`. */
  | { readonly kind: "endOfDayJst"; readonly defaultDays: number; readonly maxDays: number }
  /** Exactly `days` after creation (prepaid cards). */
  | { readonly kind: "exact"; readonly days: number }

/** What one method means for the lifecycle. */
export interface MethodRule {
  /** Status right after create: captured at once, or authorized awaiting the customer (or, for a card with capture=false, the merchant). */
  readonly initial: "captured" | "authorized"
  /** Cash methods: a refund stays pending until the customer collects it, and refund requests are allowed. */
  readonly cash: boolean
  /** Currencies the method takes; null = any currency. */
  readonly currencies: readonly string[] | null
  readonly deadline: DeadlineRule | null
  /** `payment_details` fields the method cannot work without. */
  readonly required: readonly string[]
}

const JPY = ["JPY"] as const
const KRW = ["KRW"] as const

/** The rule of every method; each line's source is the seed's create example for that method. */
export const METHOD_RULES: Readonly<Record<KomojuMethod, MethodRule>> = {
  // captured at once (capture=false leaves it authorized); deadline 2020-06-09 → 06-16T14:59:59Z
  credit_card: { initial: "captured", cash: false, currencies: null, deadline: { kind: "endOfDayJst", defaultDays: 7, maxDays: 7 }, required: ["number", "month", "year"] },
  // authorized until paid at the store; expiry_days=3 → 06-12T14:59:59Z
  konbini: { initial: "authorized", cash: true, currencies: JPY, deadline: { kind: "endOfDayJst", defaultDays: 3, maxDays: 60 }, required: ["store", "email"] },
  // authorized until transferred; expiry_days=14 answered 06-16T14:59:59Z, so seven days at most
  bank_transfer: { initial: "authorized", cash: true, currencies: JPY, deadline: { kind: "endOfDayJst", defaultDays: 7, maxDays: 7 }, required: ["email", "family_name", "given_name"] },
  // authorized until paid; no expiry_days given → 06-19T14:59:59Z
  pay_easy: { initial: "authorized", cash: true, currencies: JPY, deadline: { kind: "endOfDayJst", defaultDays: 10, maxDays: 60 }, required: ["email", "family_name", "given_name"] },
  web_money: { initial: "captured", cash: false, currencies: JPY, deadline: null, required: ["prepaid_number"] },
  bit_cash: { initial: "captured", cash: false, currencies: JPY, deadline: null, required: ["prepaid_number"] },
  // captured at once; deadline exactly seven days after creation
  net_cash: { initial: "captured", cash: false, currencies: JPY, deadline: { kind: "exact", days: 7 }, required: ["prepaid_number"] },
  nanaco: { initial: "captured", cash: false, currencies: JPY, deadline: { kind: "exact", days: 7 }, required: ["prepaid_number"] },
  // authorized until the customer completes the carrier's page (KRW in the seed)
  mobile: { initial: "authorized", cash: false, currencies: KRW, deadline: null, required: [] },
  japan_mobile: { initial: "authorized", cash: false, currencies: JPY, deadline: null, required: ["brand"] },
  line_pay: { initial: "authorized", cash: false, currencies: JPY, deadline: null, required: [] },
  merpay: { initial: "authorized", cash: false, currencies: JPY, deadline: null, required: [] },
  paidy: { initial: "authorized", cash: false, currencies: JPY, deadline: null, required: [] },
  happy_money: { initial: "captured", cash: false, currencies: KRW, deadline: null, required: ["happy_money_id", "happy_money_password"] },
  culture_voucher: { initial: "captured", cash: false, currencies: KRW, deadline: null, required: ["culture_id", "culture_password"] },
}

/** Methods whose money goes back by refund request (bank transfer) because it cannot go back to the instrument. */
export const CASH_METHODS: readonly KomojuMethod[] = KOMOJU_METHODS.filter((m) => METHOD_RULES[m].cash)

/** True when `value` names a KOMOJU method. */
export const isKomojuMethod = (value: unknown): value is KomojuMethod => typeof value === "string" && (KOMOJU_METHODS as readonly string[]).includes(value)

/** The status a new payment starts in (seed create examples); `capture: false` only matters for cards. */
export const initialStatus = (method: KomojuMethod | null, capture: boolean): "pending" | "authorized" | "captured" => {
  // A payment made for a stored customer (no payment_details) starts pending, as in the seed's list example.
  if (method === null) return "pending"
  if (method === "credit_card" && !capture) return "authorized"
  return METHOD_RULES[method].initial
}

const DAY_MS = 86_400_000
const JST_MS = 9 * 3_600_000

/** The payment deadline of a method created at `createdAt`, or null when the method has none. */
export const deadlineFor = (method: KomojuMethod, createdAt: Date, expiryDays?: number): string | null => {
  const rule = METHOD_RULES[method].deadline
  if (!rule) return null
  if (rule.kind === "exact") return new Date(createdAt.getTime() + rule.days * DAY_MS).toISOString().replace(/\.\d{3}Z$/, "Z")
  const days = Math.min(Math.max(1, expiryDays ?? rule.defaultDays), rule.maxDays)
  // 23:59:59 Japan time on the day `days` after the (Japan) creation date.
  const jstMidnight = Math.floor((createdAt.getTime() + JST_MS) / DAY_MS) * DAY_MS
  return new Date(jstMidnight + (days + 1) * DAY_MS - 1000 - JST_MS).toISOString().replace(/\.\d{3}Z$/, "Z")
}

/** KOMOJU's default tax ("auto"): the highest Japanese consumption tax rate, in percent. */
export const DEFAULT_TAX_RATE_PERCENT = 10

/** Tax of `amount` minor units at `ratePercent`, rounded half up (seed: "round half up"). Integer math only. */
export const autoTax = (amount: number, ratePercent: number = DEFAULT_TAX_RATE_PERCENT): number => Math.floor((amount * ratePercent * 2 + 100) / 200)

/** Rounds a non-negative decimal string of minor units half up to an integer, without floating point. */
export const roundHalfUp = (text: string): number | undefined => {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(text.trim())
  if (!m) return undefined
  const int = Number(m[1])
  const firstDecimal = Number((m[2] ?? "0").charAt(0) || "0")
  const n = firstDecimal >= 5 ? int + 1 : int
  return Number.isSafeInteger(n) ? n : undefined
}
