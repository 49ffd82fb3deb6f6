/**
 * `paystate/testing/arbitraries`: fast-check arbitraries for a host's property tests. Amounts in
 * minor units per currency, create commands per provider and method (each accepted by that
 * provider's sandbox as it is), and schedules of commands, faults, webhook modes and provider-side
 * settlements for `runSchedule` (`paystate/testing`). fast-check is an optional peer dependency of
 * paystate, needed only by this module.
 *
 * @example
 * import fc from "fast-check"
 * import { komojuPayment, schedule } from "paystate/testing/arbitraries"
 * await fc.assert(fc.asyncProperty(komojuPayment(), schedule("komoju"), async (create, steps) => { … }))
 */
import fc from "fast-check"
import type { craftgate } from "../../adapters/providers/craftgate/adapter.js"
import type { komoju } from "../../adapters/providers/komoju/adapter.js"
import type { onekey } from "../../adapters/providers/onekey/adapter.js"
import { CARD_METHODS } from "../../machines/onekey/methods.js"
import { exponentOf } from "../money.js"
import type { CreateCommon, InputsOf } from "../types.js"
import type { FaultMode, FaultTarget, SandboxKind, Step, WebhookMode } from "./schedule.js"

/** A create command for the provider named `N` whose adapter is `A` (its own typed fields). */
export type CreateFor<N extends string, A> = { readonly provider: N } & CreateCommon & InputsOf<A>["create"]

/** A KOMOJU create command. */
export type KomojuCreate<N extends string = "komoju"> = CreateFor<N, ReturnType<typeof komoju>>
/** A Craftgate create command. */
export type CraftgateCreate<N extends string = "craftgate"> = CreateFor<N, ReturnType<typeof craftgate>>
/** A OneKey create command. */
export type OnekeyCreate<N extends string = "onekey"> = CreateFor<N, ReturnType<typeof onekey>>

/**
 * An amount in `currency`'s minor units (JPY 1 = ¥1, USD 1 = $0.01), between `min` and `max` major
 * units (defaults 1 and 100 000), any minor unit in between: amounts that are no whole number of
 * major units are as likely as any other.
 */
export const amount = (currency: string, range: { readonly min?: number; readonly max?: number } = {}): fc.Arbitrary<number> => {
  const unit = 10 ** exponentOf(currency)
  return fc.integer({ min: Math.round((range.min ?? 1) * unit), max: Math.round((range.max ?? 100_000) * unit) })
}

/** The currencies each provider's sandbox takes for the payments these arbitraries make. */
export const CURRENCIES: Readonly<Record<SandboxKind, readonly string[]>> = {
  komoju: ["JPY"],
  craftgate: ["TRY", "USD", "EUR"],
  onekey: ["MXN", "BRL", "COP", "CLP"],
}

/** KOMOJU methods these arbitraries make payments of (JPY; card captured at once, cash ones authorized until paid). */
export const KOMOJU_PAYMENT_METHODS = ["credit_card", "konbini", "bank_transfer", "pay_easy", "web_money", "bit_cash", "net_cash", "nanaco"] as const
/** A KOMOJU method of `KOMOJU_PAYMENT_METHODS`. */
export type KomojuPaymentMethod = (typeof KOMOJU_PAYMENT_METHODS)[number]

const KONBINI_STORES = ["seven-eleven", "lawson", "family-mart", "ministop", "daily-yamazaki", "seicomart", "circle-k"] as const
/** Card numbers the sandboxes accept (test cards; the KOMOJU sandbox declines only DECLINED_CARD). */
const KOMOJU_CARDS = ["4111111111111111", "5555555555554444", "3530111333300000", "4242424242424242"] as const
const email = fc.constantFrom("taro@example.com", "hanako@example.jp", "buyer+1@example.com")
const familyName = fc.constantFrom("Yamada", "Suzuki", "Tanaka")
const givenName = fc.constantFrom("Taro", "Hanako", "Ken")

/** `payment_details` of one KOMOJU method, as the sandbox accepts it. */
export const komojuPaymentDetails = (method: KomojuPaymentMethod): fc.Arbitrary<Record<string, unknown>> => {
  switch (method) {
    case "credit_card":
      return fc.record({
        type: fc.constant("credit_card"),
        number: fc.constantFrom(...KOMOJU_CARDS),
        month: fc.integer({ min: 1, max: 12 }).map((m) => String(m).padStart(2, "0")),
        year: fc.integer({ min: 2030, max: 2040 }).map(String),
        verification_value: fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, "0")),
        name: fc.constantFrom("TARO YAMADA", "HANAKO SUZUKI"),
      })
    case "konbini":
      return fc.record({ type: fc.constant("konbini"), store: fc.constantFrom(...KONBINI_STORES), email })
    case "bank_transfer":
    case "pay_easy":
      return fc.record({ type: fc.constant(method), email, family_name: familyName, given_name: givenName })
    default:
      return fc.record({ type: fc.constant(method), prepaid_number: fc.stringMatching(/^[0-9]{16}$/) })
  }
}

/**
 * A KOMOJU create command: a method of `methods` (default all of `KOMOJU_PAYMENT_METHODS`), JPY,
 * an amount of `min`..`max` yen (KOMOJU adds 10 % tax on top), an order number.
 */
export const komojuPayment = <N extends string = "komoju">(
  options: { readonly provider?: N; readonly methods?: readonly KomojuPaymentMethod[]; readonly min?: number; readonly max?: number } = {},
): fc.Arbitrary<KomojuCreate<N>> =>
  fc
    .constantFrom(...(options.methods ?? KOMOJU_PAYMENT_METHODS))
    .chain((method) => fc.record({ amount: amount("JPY", { min: options.min ?? 100, max: options.max ?? 300_000 }), payment_details: komojuPaymentDetails(method), order: fc.nat() }))
    .map(({ amount, payment_details, order }) => ({ provider: options.provider ?? "komoju", amount, currency: "JPY", externalOrderNum: `order-${order}`, payment_details }) as unknown as KomojuCreate<N>)

/** The card the Craftgate sandbox accepts (any number not ending in CRAFTGATE_DECLINED_CARD_SUFFIX). */
export const craftgateCard = (): fc.Arbitrary<{ cardHolderName: string; cardNumber: string; expireYear: string; expireMonth: string; cvc: string }> =>
  fc.record({
    cardHolderName: fc.constantFrom("Haluk Demir", "Ayse Yilmaz"),
    cardNumber: fc.constantFrom("5258640000000001", "4543590000000006", "5528790000000008"),
    expireYear: fc.integer({ min: 2030, max: 2044 }).map(String),
    expireMonth: fc.integer({ min: 1, max: 12 }).map((m) => String(m).padStart(2, "0")),
    cvc: fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, "0")),
  })

/**
 * A Craftgate create command: 1..`maxItems` basket items (default 4) whose prices add up to the
 * amount, a card, AUTH (captured at once) or, with `preAuth`, sometimes PRE_AUTH (authorized until
 * captured).
 */
export const craftgatePayment = <N extends string = "craftgate">(
  options: { readonly provider?: N; readonly currency?: string; readonly maxItems?: number; readonly preAuth?: boolean; readonly min?: number; readonly max?: number } = {},
): fc.Arbitrary<CraftgateCreate<N>> => {
  const currency = options.currency ?? "TRY"
  return fc
    .record({
      prices: fc.array(amount(currency, { min: options.min ?? 1, max: options.max ?? 5_000 }), { minLength: 1, maxLength: options.maxItems ?? 4 }),
      card: craftgateCard(),
      paymentPhase: options.preAuth ? fc.constantFrom("AUTH", "PRE_AUTH") : fc.constant("AUTH"),
    })
    .map(({ prices, card, paymentPhase }) => ({
      provider: options.provider ?? "craftgate",
      amount: prices.reduce((s, p) => s + p, 0),
      currency,
      card,
      paymentPhase,
      items: prices.map((price, i) => ({ name: `item ${i + 1}`, price, externalId: `sku-${i + 1}` })),
    }) as unknown as CraftgateCreate<N>)
}

/** OneKey countries these arbitraries pay in, with their currency and methods (cash, bank transfer, cards). */
export const ONEKEY_COUNTRIES: Readonly<Record<string, { readonly currency: string; readonly methods: readonly string[] }>> = {
  MX: { currency: "MXN", methods: ["OX", "SE", "VI", "MC"] },
  BR: { currency: "BRL", methods: ["BL", "PX", "VI", "MC"] },
  CO: { currency: "COP", methods: ["PC", "VI"] },
  CL: { currency: "CLP", methods: ["WP", "VI"] },
}

/** A OneKey payer (names, e-mail, document). */
export const onekeyPayer = (): fc.Arbitrary<{ document: string; email: string; first_name: string; last_name: string }> =>
  fc.record({
    document: fc.stringMatching(/^[0-9]{8,12}$/),
    email: fc.constantFrom("carlos@example.com", "ana@example.com.br"),
    first_name: fc.constantFrom("Carlos", "Ana", "Lucia"),
    last_name: fc.constantFrom("Ramirez", "Souza", "Gomez"),
  })

/**
 * A OneKey create command: a country of `countries` (default all of `ONEKEY_COUNTRIES`), its
 * currency, one of its methods (a card method is refunded in full only, unless the sandbox allows
 * partial card refunds), a payer, an amount of `min`..`max` major units.
 */
export const onekeyPayment = <N extends string = "onekey">(
  options: { readonly provider?: N; readonly countries?: readonly string[]; readonly cards?: boolean; readonly min?: number; readonly max?: number } = {},
): fc.Arbitrary<OnekeyCreate<N>> =>
  fc
    .constantFrom(...(options.countries ?? Object.keys(ONEKEY_COUNTRIES)))
    .chain((country) => {
      const c = ONEKEY_COUNTRIES[country]!
      const methods = options.cards === false ? c.methods.filter((m) => !CARD_METHODS.includes(m)) : c.methods
      return fc.record({ country: fc.constant(country), currency: fc.constant(c.currency), payment_method: fc.constantFrom(...methods), amount: amount(c.currency, { min: options.min ?? 10, max: options.max ?? 20_000 }), payer: onekeyPayer() })
    })
    .map((v) => ({ provider: options.provider ?? "onekey", ...v }) as unknown as OnekeyCreate<N>)

/** A share of what is refundable, per mille (1..1000), weighted toward small parts and the whole. */
export const share = (): fc.Arbitrary<number> => fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 400 }) }, { weight: 1, arbitrary: fc.integer({ min: 401, max: 1000 }) }, { weight: 1, arbitrary: fc.constant(1000) })

/** A command step: refunds (some retried with an earlier key), over-refunds, refund requests, capture or payment, cancel, sync. */
export const commandStep = (kind: SandboxKind, options: { readonly slots?: number } = {}): fc.Arbitrary<Step> => {
  const slot = fc.nat({ max: (options.slots ?? 4) - 1 })
  const steps: fc.WeightedArbitrary<Step>[] = [
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("refund" as const), share: fc.option(share(), { nil: undefined }), slot, ...(kind === "craftgate" ? { target: fc.option(fc.nat({ max: 7 }), { nil: undefined, freq: 3 }) } : {}) }).map(dropUndefined) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("overRefund" as const), slot }) },
    { weight: 1, arbitrary: fc.constant({ kind: "pay" as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: "sync" as const }) },
  ]
  if (kind === "komoju") steps.push({ weight: 1, arbitrary: fc.record({ kind: fc.constant("refundRequest" as const), share: share(), slot }) })
  return fc.oneof(...steps)
}

/** A fault step: the next refund call, refund lookup or payment lookup at the sandbox times out, answers 500, or performs and drops its answer. */
export const faultStep = (): fc.Arbitrary<Step> =>
  fc.record({ kind: fc.constant("fault" as const), target: fc.constantFrom<FaultTarget>("refund", "refund", "refundLookup", "paymentLookup"), mode: fc.constantFrom<FaultMode>("timeout", "error500", "drop_response") })

/** A webhook step: deliveries become normal, duplicated, delayed or reordered. */
export const webhookStep = (): fc.Arbitrary<Step> => fc.record({ kind: fc.constant("webhooks" as const), mode: fc.constantFrom<WebhookMode>("normal", "duplicate", "delay", "reorder") })

/** A provider-side step: a refund the provider holds open settles (or fails), the next refund is left open or refused, time passes, recovery runs. */
export const providerStep = (): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("settle" as const), pick: fc.nat(), ok: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("nextOutcome" as const), outcome: fc.constantFrom<"open" | "refused">("open", "refused") }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("advance" as const), minutes: fc.integer({ min: 1, max: 36 * 60 }) }) },
    { weight: 2, arbitrary: fc.constant({ kind: "recover" as const }) },
  )

/**
 * A schedule for `runSchedule`: it starts with the payment paid (or captured) unless `unpaid`, then
 * 1..`maxLength` steps (default 12) mixing commands, faults, webhook modes and provider-side actions
 * by `weights`.
 */
export const schedule = (
  kind: SandboxKind,
  options: { readonly maxLength?: number; readonly unpaid?: boolean; readonly slots?: number; readonly weights?: { readonly commands?: number; readonly faults?: number; readonly webhooks?: number; readonly provider?: number } } = {},
): fc.Arbitrary<Step[]> => {
  const w = { commands: 5, faults: 2, webhooks: 1, provider: 3, ...options.weights }
  const step = fc.oneof(
    { weight: w.commands, arbitrary: commandStep(kind, options.slots === undefined ? {} : { slots: options.slots }) },
    { weight: w.faults, arbitrary: faultStep() },
    { weight: w.webhooks, arbitrary: webhookStep() },
    { weight: w.provider, arbitrary: providerStep() },
  )
  return fc.array(step, { minLength: 1, maxLength: options.maxLength ?? 12 }).map((steps) => (options.unpaid ? steps : [{ kind: "pay" as const }, ...steps]))
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
