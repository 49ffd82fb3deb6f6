/**
 * zod schemas of what a host passes to the engine for Craftgate: the create command (generic fields
 * in camelCase, Craftgate's own fields in Craftgate's spelling: `items`, `card`, `paymentPhase`, …)
 * and the refund options. Amounts are minor units here; the adapter converts them for the wire.
 *
 * Card data never reaches the store: the card number, the CVC and the expiry that goes with them are
 * returned as `secret` (kept in the memory of the process that took the command); the stored request
 * keeps what a PCI SAQ-A merchant may keep — holder name, last four digits, expiry month and year.
 * A stored card (`cardUserKey` + `cardToken`) is no card data and is kept, so it survives a restart.
 */
import { z } from "zod"
import type { ProviderCreate } from "../../../src/provider.js"
import { CRAFTGATE_CURRENCIES, refundDestinationType } from "./wire.js"

/**
 * The largest amount (minor units) paystate sends to Craftgate: below 10^15 every amount has at most
 * 15 significant digits in major units, so the JSON number on the wire is exactly the decimal meant.
 */
export const CRAFTGATE_MAX_AMOUNT = 999_999_999_999_999

const amount = (what: string) => z.number().int().positive(`${what} must be positive (minor units)`).max(CRAFTGATE_MAX_AMOUNT, `${what} is above ${CRAFTGATE_MAX_AMOUNT} minor units, more than Craftgate's decimals carry exactly`)

const fullCard = z.strictObject({
  cardHolderName: z.string().min(1).max(256),
  cardNumber: z.string().regex(/^\d{12,19}$/, "cardNumber is 12 to 19 digits"),
  expireYear: z.string().regex(/^\d{2}(\d{2})?$/, "expireYear is YY or YYYY"),
  expireMonth: z.string().regex(/^(0?[1-9]|1[0-2])$/, "expireMonth is 1 to 12"),
  cvc: z.string().regex(/^\d{3,4}$/, "cvc is 3 or 4 digits"),
  /** Craftgate stores the card after a successful payment; its answer carries cardUserKey and cardToken. */
  storeCardAfterSuccessPayment: z.boolean().optional(),
  cardAlias: z.string().min(1).max(256).optional(),
  /** Store the card under this existing card user (with storeCardAfterSuccessPayment). */
  cardUserKey: z.string().min(1).max(256).optional(),
})
const storedCard = z.strictObject({ cardUserKey: z.string().min(1).max(256), cardToken: z.string().min(1).max(256) })

const item = z.strictObject({
  name: z.string().min(1).max(256).optional(),
  /** Minor units. */
  price: amount("an item price"),
  externalId: z.string().min(1).max(256).optional(),
})

/** The card as stored in the create request: a stored card's keys, or what may be kept of a full card. */
export type StoredCardRequest =
  | { readonly cardUserKey: string; readonly cardToken: string }
  | {
      readonly cardHolderName: string
      readonly lastFourDigits: string
      readonly expireYear: string
      readonly expireMonth: string
      readonly cardAlias?: string
      readonly storeCardAfterSuccessPayment?: boolean
      readonly cardUserKey?: string
    }

/** The card data of a create, in `ProviderCreate.secret`: never stored, journaled or logged. */
export interface CardSecret {
  readonly card: { readonly cardNumber: string; readonly cvc: string; readonly expireYear: string; readonly expireMonth: string }
}

/** `payments.create` for Craftgate. `amount` is the paid price; `price` defaults to the items' sum. */
export const craftgateCreateSchema = z
  .strictObject({
    provider: z.string(),
    amount: amount("a Craftgate payment's amount (the paid price)"),
    currency: z.enum(CRAFTGATE_CURRENCIES, { error: `Craftgate takes ${CRAFTGATE_CURRENCIES.join(", ")}` }),
    description: z.string().nullable().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    externalOrderNum: z.string().nullable().optional(),
    idempotencyKey: z.string().optional(),
    // Craftgate's own fields (CreatePaymentRequest)
    price: amount("price").optional(),
    installment: z.number().int().min(1).max(12).default(1),
    paymentGroup: z.enum(["PRODUCT", "LISTING_OR_SUBSCRIPTION"]).default("PRODUCT"),
    paymentPhase: z.enum(["AUTH", "PRE_AUTH"]).default("AUTH"),
    card: z.union([fullCard, storedCard]),
    items: z.array(item).min(1, "a Craftgate payment has at least one item").max(500),
  })
  .superRefine((v, ctx) => {
    const sum = v.items.reduce((s, i) => s + i.price, 0)
    if (!Number.isSafeInteger(sum) || sum > CRAFTGATE_MAX_AMOUNT) ctx.addIssue({ code: "custom", path: ["items"], message: `the item prices add up to more than ${CRAFTGATE_MAX_AMOUNT} minor units` })
    if (v.price !== undefined && v.price !== sum) ctx.addIssue({ code: "custom", path: ["items"], message: `the item prices add up to ${sum}, not price ${v.price}` })
    if (v.amount < (v.price ?? sum)) ctx.addIssue({ code: "custom", path: ["amount"], message: `amount (the paid price) cannot be lower than the items' price ${v.price ?? sum}` })
  })
  .transform((v): ProviderCreate => {
    const price = v.price ?? v.items.reduce((s, i) => s + i.price, 0)
    const common = { price, installment: v.installment, paymentGroup: v.paymentGroup, paymentPhase: v.paymentPhase, items: v.items }
    if ("cardToken" in v.card) {
      const card: StoredCardRequest = { cardUserKey: v.card.cardUserKey, cardToken: v.card.cardToken }
      return { amount: v.amount, method: "card", request: { ...common, card }, details: { paymentPhase: v.paymentPhase, storedCard: true } }
    }
    const { cardNumber, cvc, expireYear, expireMonth, cardHolderName, ...flags } = v.card
    const card: StoredCardRequest = { cardHolderName, lastFourDigits: cardNumber.slice(-4), expireYear, expireMonth, ...flags }
    const secret: CardSecret = { card: { cardNumber, cvc, expireYear, expireMonth } }
    return {
      amount: v.amount,
      method: "card",
      request: { ...common, card },
      secret: secret as unknown as NonNullable<ProviderCreate["secret"]>,
      details: { paymentPhase: v.paymentPhase, lastFourDigits: card.lastFourDigits },
    }
  })

/** Options of `payments.refund` for Craftgate. */
export const craftgateRefundSchema = z.strictObject({
  /** Refund this payment transaction (basket item) only; amount defaults to what it has left. */
  paymentTransactionId: z.union([z.string().regex(/^\d{1,19}$/, "paymentTransactionId is Craftgate's numeric id"), z.number().int().positive().max(Number.MAX_SAFE_INTEGER)]).transform(String).optional(),
  /** PROVIDER (default: back to the card) or WALLET (the buyer's Craftgate wallet); CARD reads as PROVIDER. */
  refundDestinationType: refundDestinationType.optional(),
  /** Charge the refund to the merchant's balance (marketplaces with short sub-merchant balances). */
  chargeFromMe: z.boolean().optional(),
})
