/**
 * zod schemas of the commands' common fields. Provider fields are validated by the provider's own
 * schemas; both run before anything is loaded or written, so bad input never reaches the store.
 */
import { z } from "zod"
import { paystateError, type PaystateError } from "./errors.js"
import { isKnownCurrency } from "./money.js"

const minorAmount = z.number({ error: "amount must be a number of minor units" }).int("amount must be an integer number of minor units (JPY has none, USD cents)").safe()

/** A currency paystate knows, upper-case ISO 4217. */
export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, "currency must be a 3-letter upper-case ISO 4217 code")
  .refine(isKnownCurrency, { message: "currency is not an ISO 4217 code paystate knows" })

const paymentId = z.string({ error: "paymentId is required" }).min(1, "paymentId is required").max(200)
const idempotencyKey = z.string().min(1).max(200).optional()
const metadata = z.record(z.string(), z.string())

/** Common fields of `payments.create`; provider fields pass through to the provider schema. */
export const createCommonSchema = z.looseObject({
  provider: z.string({ error: "provider is required" }).min(1),
  amount: minorAmount.nonnegative("amount must not be negative"),
  currency: currencySchema,
  description: z.string().max(1000).nullable().optional(),
  metadata: metadata.optional(),
  externalOrderNum: z.string().max(255).nullable().optional(),
  idempotencyKey,
})

/** `payments.refund` / `payments.refundRequest` common fields. */
export const refundCommonSchema = z.looseObject({
  paymentId,
  amount: minorAmount.positive("a refund amount must be positive").optional(),
  description: z.string().max(1000).nullable().optional(),
  idempotencyKey,
})

/** `payments.capture`. */
export const captureSchema = z.strictObject({ paymentId, amount: minorAmount.positive().optional(), idempotencyKey })
/** `payments.cancel`. */
export const cancelSchema = z.strictObject({ paymentId, idempotencyKey })
/** `payments.update`: only description and metadata can change. */
export const updateSchema = z
  .strictObject({ paymentId, description: z.string().max(1000).nullable().optional(), metadata: metadata.optional(), idempotencyKey })
  .refine((u) => u.description !== undefined || u.metadata !== undefined, { message: "update needs a description or metadata" })

/** `payments.list` filters. */
export const listSchema = z
  .strictObject({
    provider: z.string().optional(),
    status: z.enum(["pending", "authorized", "captured", "refunded", "cancelled", "expired", "failed"]).optional(),
    currency: currencySchema.optional(),
    externalOrderNum: z.string().optional(),
    startTime: z.iso.datetime({ offset: true }).optional(),
    endTime: z.iso.datetime({ offset: true }).optional(),
    page: z.number().int().positive().optional(),
    perPage: z.number().int().positive().max(1000).optional(),
  })
  .optional()

/** Parses with a schema, raising INVALID_INPUT with the zod issues on failure. */
export const parseOrThrow = <T>(schema: z.ZodType<T>, value: unknown, what: string): T => {
  const r = schema.safeParse(value)
  if (!r.success) throw invalidInput(what, r.error)
  return r.data
}

/** The INVALID_INPUT error for a zod failure, with a message that names every bad field. */
export const invalidInput = (what: string, error: z.ZodError): PaystateError =>
  paystateError(
    "INVALID_INPUT",
    `Invalid ${what}: ${error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(input)"}: ${i.message}`).join("; ")}`,
    error.issues,
  )
