/**
 * zod schemas of what a host passes to the engine for Craftgate: the create command (generic fields
 * in camelCase, Craftgate's own fields in Craftgate's spelling: `items`, `card`, `paymentPhase`, …)
 * and the refund options. Amounts are minor units here; the adapter converts them for the wire.
 */
import { z } from "zod"
import type { ProviderCreate } from "../../../src/provider.js"
import { CRAFTGATE_CURRENCIES, refundDestinationType } from "./wire.js"

const fullCard = z.strictObject({
  cardHolderName: z.string().min(1),
  cardNumber: z.string().regex(/^\d{12,19}$/, "cardNumber is 12 to 19 digits"),
  expireYear: z.string().regex(/^\d{2}(\d{2})?$/, "expireYear is YY or YYYY"),
  expireMonth: z.string().regex(/^(0?[1-9]|1[0-2])$/, "expireMonth is 1 to 12"),
  cvc: z.string().regex(/^\d{3,4}$/, "cvc is 3 or 4 digits"),
})
const storedCard = z.strictObject({ cardUserKey: z.string().min(1), cardToken: z.string().min(1) })

const item = z.strictObject({
  name: z.string().min(1).optional(),
  /** Minor units. */
  price: z.number().int().positive(),
  externalId: z.string().min(1).optional(),
})

/** `payments.create` for Craftgate. `amount` is the paid price; `price` defaults to the items' sum. */
export const craftgateCreateSchema: z.ZodType<ProviderCreate> = z
  .strictObject({
    provider: z.string(),
    amount: z.number().int().positive("a Craftgate payment needs a positive amount (the paid price, minor units)"),
    currency: z.enum(CRAFTGATE_CURRENCIES, { error: `Craftgate takes ${CRAFTGATE_CURRENCIES.join(", ")}` }),
    description: z.string().nullable().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    externalOrderNum: z.string().nullable().optional(),
    idempotencyKey: z.string().optional(),
    // Craftgate's own fields (CreatePaymentRequest)
    price: z.number().int().positive().optional(),
    installment: z.number().int().min(1).max(12).default(1),
    paymentGroup: z.enum(["PRODUCT", "LISTING_OR_SUBSCRIPTION"]).default("PRODUCT"),
    paymentPhase: z.enum(["AUTH", "PRE_AUTH"]).default("AUTH"),
    card: z.union([fullCard, storedCard]),
    items: z.array(item).min(1, "a Craftgate payment has at least one item"),
  })
  .superRefine((v, ctx) => {
    const sum = v.items.reduce((s, i) => s + i.price, 0)
    if (v.price !== undefined && v.price !== sum) ctx.addIssue({ code: "custom", path: ["items"], message: `the item prices add up to ${sum}, not price ${v.price}` })
    if (v.amount < (v.price ?? sum)) ctx.addIssue({ code: "custom", path: ["amount"], message: `amount (the paid price) cannot be lower than the items' price ${v.price ?? sum}` })
  })
  .transform(
    (v): ProviderCreate => ({
      amount: v.amount,
      method: "card",
      request: {
        price: v.price ?? v.items.reduce((s, i) => s + i.price, 0),
        installment: v.installment,
        paymentGroup: v.paymentGroup,
        paymentPhase: v.paymentPhase,
        card: v.card,
        items: v.items,
      },
      details: { paymentPhase: v.paymentPhase },
    }),
  )

/** Options of `payments.refund` for Craftgate. */
export const craftgateRefundSchema = z.strictObject({
  /** Refund this payment transaction (basket item) only; amount defaults to what it has left. */
  paymentTransactionId: z.union([z.string().regex(/^\d+$/, "paymentTransactionId is Craftgate's numeric id"), z.number().int().positive()]).transform(String).optional(),
  /** PROVIDER (default: back to the card) or WALLET (the buyer's Craftgate wallet); CARD reads as PROVIDER. */
  refundDestinationType: refundDestinationType.optional(),
  /** Charge the refund to the merchant's balance (marketplaces with short sub-merchant balances). */
  chargeFromMe: z.boolean().optional(),
})
