/**
 * zod schemas of what a host passes to the engine for KOMOJU: the create command (generic fields in
 * camelCase, KOMOJU's own fields in KOMOJU's spelling), refund options and refund request options.
 * The create splits card data off into `secret` (memory only) and refuses amounts that are no safe
 * integers before anything is written.
 */
import { z } from "zod"
import { autoTax, METHOD_RULES, roundHalfUp, type KomojuMethod } from "../../../machines/komoju/methods.js"
import type { Json } from "../../../machines/lifecycle/types.js"
import type { CreateFieldsOf, KnownKeys, ProviderCreate } from "../../../src/provider.js"
import { KOMOJU_SENSITIVE } from "./sensitive.js"
import { paymentDetailsInput, refundRequestBody } from "./wire.js"

/** The `tax` KOMOJU takes: a number, a decimal string, or "auto" (10 %, rounded half up). */
const taxInput = z.union([z.number().nonnegative(), z.literal("auto"), z.string().regex(/^\d+(\.\d+)?$/, "tax must be 'auto' or a decimal with '.' as separator")])

/**
 * The tax in minor units, rounded half up as KOMOJU does; undefined when it is no safe integer
 * (e.g. `1e21`, whose text is no decimal KOMOJU reads, or digits beyond 2^53).
 */
const taxOf = (tax: number | string | undefined, amount: number, taxRatePercent: number): number | undefined => {
  if (tax === undefined || tax === "auto") {
    const t = autoTax(amount, taxRatePercent)
    return Number.isSafeInteger(t) ? t : undefined
  }
  const text = typeof tax === "number" ? String(tax) : tax
  return /^\d+(\.\d+)?$/.test(text) ? roundHalfUp(text) : undefined
}

const norm = (k: string): string => k.toLowerCase().replace(/[_-]/g, "")
const SECRET_KEYS = new Set(KOMOJU_SENSITIVE.secret.map(norm))

/** The brand KOMOJU shows for a card number (the prefixes of the card schemes KOMOJU takes). */
const cardBrand = (number: string): string => {
  if (/^4/.test(number)) return "visa"
  if (/^(5[1-5]|2[2-7])/.test(number)) return "master"
  if (/^3[47]/.test(number)) return "american_express"
  if (/^35/.test(number)) return "jcb"
  if (/^3(0|6|8)/.test(number)) return "diners_club"
  return "unknown"
}

/**
 * Splits `payment_details` into what may be stored and what may not: the secret fields (card
 * number, CVV, prepaid numbers, passwords; see sensitive.ts) go to memory only. What a SAQ-A merchant
 * may keep of a card (last four digits, brand, expiry month and year, holder name) stays.
 */
const splitDetails = (details: Record<string, unknown>): { kept: Record<string, unknown>; secret: Record<string, unknown>; card?: Record<string, Json> } => {
  const kept: Record<string, unknown> = {}
  const secret: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(details)) (SECRET_KEYS.has(norm(k)) ? secret : kept)[k] = v
  const number = typeof details.number === "string" ? details.number : undefined
  const card =
    details.type === "credit_card" && number
      ? { brand: cardBrand(number), last_four_digits: number.slice(-4), month: details.month as Json, year: details.year as Json }
      : undefined
  return { kept, secret, ...(card ? { card } : {}) }
}

/**
 * Builds the create schema; `taxRatePercent` is what "auto" means (KOMOJU: 10). Its zod input type is
 * kept (not erased to `ZodType<ProviderCreate>`) so that `KomojuInputs` derives the host's types from it.
 */
export const komojuCreateSchema = (taxRatePercent: number) =>
  z
    .strictObject({
      provider: z.string(),
      amount: z.number().int().nonnegative(),
      currency: z.string(),
      description: z.string().nullable().optional(),
      metadata: z.record(z.string(), z.string()).optional(),
      externalOrderNum: z.string().nullable().optional(),
      idempotencyKey: z.string().optional(),
      // KOMOJU's own fields (seed 001 create params)
      payment_details: paymentDetailsInput.optional(),
      customer: z.string().min(1).optional(),
      tax: taxInput.optional(),
      capture: z.boolean().optional(),
      locale: z.enum(["en", "ja", "ko"]).optional(),
      return_url: z.string().optional(),
      email: z.string().optional(),
    })
    .superRefine((v, ctx) => {
      // Seed 001: "Must specify exactly one of payment_details or customer."
      if ((v.payment_details === undefined) === (v.customer === undefined)) {
        ctx.addIssue({ code: "custom", path: ["payment_details"], message: "KOMOJU needs exactly one of payment_details or customer" })
      }
      if (v.metadata && "paystate_payment_id" in v.metadata) {
        ctx.addIssue({ code: "custom", path: ["metadata", "paystate_payment_id"], message: "paystate_payment_id is set by paystate to address webhooks" })
      }
      const method = v.payment_details?.type as KomojuMethod | undefined
      const currencies = method ? METHOD_RULES[method].currencies : null
      if (method && currencies && !currencies.includes(v.currency)) {
        ctx.addIssue({ code: "custom", path: ["currency"], message: `${method} takes ${currencies.join(", ")}, not ${v.currency}` })
      }
      // Every amount derived from the input must be a safe integer before anything is written:
      // otherwise the payment is stored and then fails forever when KOMOJU's answer cannot be read.
      const tax = taxOf(v.tax, v.amount, taxRatePercent)
      if (tax === undefined) ctx.addIssue({ code: "custom", path: ["tax"], message: "tax must be 'auto' or a decimal of minor units that rounds to a safe integer" })
      else if (!Number.isSafeInteger(v.amount + tax)) {
        ctx.addIssue({ code: "custom", path: ["amount"], message: `amount + tax (${v.amount} + ${tax}) is beyond ${Number.MAX_SAFE_INTEGER}, the largest amount paystate handles exactly` })
      }
    })
    .transform((v): ProviderCreate => {
      const tax = taxOf(v.tax, v.amount, taxRatePercent)!
      const method = (v.payment_details?.type as KomojuMethod | undefined) ?? null
      const split = v.payment_details ? splitDetails(v.payment_details as Record<string, unknown>) : undefined
      const request = {
        amount: v.amount,
        currency: v.currency,
        ...(split ? { payment_details: split.kept } : {}),
        ...(v.customer ? { customer: v.customer } : {}),
        ...(v.tax !== undefined ? { tax: v.tax } : {}),
        ...(v.capture !== undefined ? { capture: v.capture } : {}),
        ...(v.locale ? { locale: v.locale } : {}),
        ...(v.return_url ? { return_url: v.return_url } : {}),
        ...(v.email ? { email: v.email } : {}),
        ...(v.description ? { description: v.description } : {}),
        ...(v.externalOrderNum ? { external_order_num: v.externalOrderNum } : {}),
        metadata: v.metadata ?? {},
      }
      const secret = split && Object.keys(split.secret).length > 0 ? { payment_details: split.secret } : undefined
      // The ceiling is KOMOJU's `total`; until KOMOJU answers it is amount + tax (the fee is KOMOJU's to add).
      return {
        amount: v.amount + tax,
        method,
        deadline: null,
        request: request as ProviderCreate["request"],
        ...(secret ? { secret: secret as ProviderCreate["secret"] } : {}),
        details: { komoju: { amount: v.amount, tax, payment_method_fee: 0, total: v.amount + tax, ...(split?.card ? { payment_details: { type: "credit_card", ...split.card } } : {}) } },
      }
    })

/** Options of `payments.refund` for KOMOJU (seed 001 refund params besides amount and description). */
export const komojuRefundSchema = z.strictObject({ name: z.string().optional(), email: z.string().optional(), phone: z.string().optional() })

/**
 * Options of `payments.refundRequest` for KOMOJU: the bank account the money goes to (seed 000,
 * every field required; formats from PROVIDERS.md). `amount` and `description` are the command's own.
 */
export const komojuRefundRequestSchema = refundRequestBody.omit({ amount: true, description: true })

/** `KnownKeys` over each member of a union, so every payment method keeps its own fields. */
type EachKnown<T> = T extends unknown ? KnownKeys<T> : never

/**
 * KOMOJU's `payment_details`, one shape per method (`type`), from `paymentDetailsInput`: the fields the
 * seeds document for it, so a misspelt field is a compile error. At run time the schema still lets
 * fields it does not know through to KOMOJU (KOMOJU adds fields; paystate must not drop them).
 */
export type KomojuPaymentDetails = EachKnown<z.input<typeof paymentDetailsInput>>

/** `payment_details` of one method, e.g. `KomojuPaymentDetailsOf<"konbini">`. */
export type KomojuPaymentDetailsOf<M extends KomojuPaymentDetails["type"]> = Extract<KomojuPaymentDetails, { readonly type: M }>

type CreateFields = CreateFieldsOf<z.input<ReturnType<typeof komojuCreateSchema>>>

/**
 * KOMOJU's own fields of `payments.create`: exactly one of `payment_details` (typed per method) or
 * `customer` (a KOMOJU customer whose card KOMOJU keeps), as seed 001 requires, and the options
 * (`tax`, `capture`, `locale`, `return_url`, `email`).
 */
export type KomojuCreateFields = Omit<CreateFields, "payment_details" | "customer"> &
  ({ readonly payment_details: KomojuPaymentDetails; readonly customer?: undefined } | { readonly customer: string; readonly payment_details?: undefined })

/** KOMOJU's options of `payments.refund` (the refunded customer's name, e-mail and phone). */
export type KomojuRefundOptions = z.input<typeof komojuRefundSchema>

/** KOMOJU's options of `payments.refundRequest`: the bank account the money goes back to. */
export type KomojuRefundRequestOptions = z.input<typeof komojuRefundRequestSchema>

/** The host-facing inputs of the KOMOJU adapter, from its zod schemas (see `ProviderInputs`). */
export interface KomojuInputs {
  readonly create: KomojuCreateFields
  readonly refund: KomojuRefundOptions
  readonly refundRequest: KomojuRefundRequestOptions
}
