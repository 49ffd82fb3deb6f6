/**
 * zod schemas of what a host passes to the engine for KOMOJU: the create command (generic fields in
 * camelCase, KOMOJU's own fields in KOMOJU's spelling), refund options and refund request options.
 */
import { z } from "zod"
import { autoTax, METHOD_RULES, roundHalfUp, type KomojuMethod } from "../../../machines/komoju/methods.js"
import type { ProviderCreate } from "../../../src/provider.js"
import { paymentDetailsInput, refundRequestBody } from "./wire.js"

/** The `tax` KOMOJU takes: a number, a decimal string, or "auto" (10 %, rounded half up). */
const taxInput = z.union([z.number().nonnegative(), z.literal("auto"), z.string().regex(/^\d+(\.\d+)?$/, "tax must be 'auto' or a decimal with '.' as separator")])

/** Builds the create schema; `taxRatePercent` is what "auto" means (KOMOJU: 10). */
export const komojuCreateSchema = (taxRatePercent: number): z.ZodType<ProviderCreate> =>
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
    })
    .transform((v): ProviderCreate => {
      const tax = v.tax === undefined || v.tax === "auto" ? autoTax(v.amount, taxRatePercent) : (roundHalfUp(String(v.tax)) ?? 0)
      const method = (v.payment_details?.type as KomojuMethod | undefined) ?? null
      const request = {
        amount: v.amount,
        currency: v.currency,
        ...(v.payment_details ? { payment_details: v.payment_details } : {}),
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
      // The ceiling is KOMOJU's `total`; until KOMOJU answers it is amount + tax (the fee is KOMOJU's to add).
      return { amount: v.amount + tax, method, deadline: null, request: request as ProviderCreate["request"], details: { komoju: { amount: v.amount, tax, payment_method_fee: 0, total: v.amount + tax } } }
    }) as unknown as z.ZodType<ProviderCreate>

/** Options of `payments.refund` for KOMOJU (seed 001 refund params besides amount and description). */
export const komojuRefundSchema = z.strictObject({ name: z.string().optional(), email: z.string().optional(), phone: z.string().optional() })

/**
 * Options of `payments.refundRequest` for KOMOJU: the bank account the money goes to (seed 000,
 * every field required; formats from PROVIDERS.md). `amount` and `description` are the command's own.
 */
export const komojuRefundRequestSchema = refundRequestBody.omit({ amount: true, description: true })
