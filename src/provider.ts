/**
 * The contract between the engine and a provider. The engine knows no provider by name: it loads a
 * payment, runs the provider's pure machine, stores what the machine asks for, and hands each effect
 * to the adapter. Adapters do all I/O through Effect services and answer in the machine's events.
 */
import type { Effect } from "effect"
import type { z } from "zod"
import type { PaystateError } from "./errors.js"
import type { Details, MachineContext, PaymentEvent, PaymentMachine } from "../machines/lifecycle/index.js"

/** One stored effect the machine asked for, as the adapter receives it. */
export interface OutboxEffect {
  /** `${paymentId}/${opId}`; unique in the store. */
  readonly id: string
  readonly paymentId: string
  readonly provider: string
  readonly opId: string
  readonly op: string
  readonly payload: Details
  /**
   * Stable across every attempt and every process: send it as the provider's idempotency key
   * (or, where the provider has none, as the correlation id used to find an earlier attempt).
   */
  readonly idempotencyKey: string
  /** 1 for the first attempt; recovery and retries count up. */
  readonly attempt: number
  /** When the effect was stored, just before its first send (engine clock, ISO 8601). */
  readonly createdAt: string
  /** When this attempt runs, by the engine's clock (ISO 8601): what "now" is for key lifetimes. */
  readonly at: string
  /**
   * Card data for this effect (card number, CVV, e-money password), held in the memory of the process
   * that took the command and never written anywhere. Absent after a restart or in another process:
   * an adapter that needs it and finds none fails the effect with `CARD_DATA_UNAVAILABLE`.
   */
  readonly secret?: Details
}

/**
 * What a lookup learned about an effect whose outcome was unknown (a crash, a timeout, a dropped
 * answer). This is the one rule every adapter follows: **a lookup is not the operation**.
 * - `answered`: the provider's own answer to the operation, found by identity (its id, our
 *   idempotency key / conversationId, or an idempotent replay of the same request). It may be a
 *   success or a definite refusal (`OP.FAILED`): only an answer to the operation itself fails it.
 * - `notPerformed`: the provider says authoritatively that it never saw the operation; the engine
 *   sends it again with the same idempotency key and the same bytes.
 * - `unknown`: the lookup could not tell (it failed, timed out, answered 4xx/5xx, or its answer is
 *   ambiguous); the engine asks again later with backoff and never fails the operation for it.
 *   With `final`, no later lookup can tell either (the only one left would repeat the operation,
 *   e.g. a replay whose idempotency key the provider has forgotten): the engine stops asking and a
 *   person resolves it (`REVIEW_REQUIRED`).
 * An error raised by `reconcile` is read as `unknown`.
 */
export type Reconciliation =
  | { readonly kind: "answered"; readonly events: OutcomeEvents }
  | { readonly kind: "notPerformed" }
  | { readonly kind: "unknown"; readonly reason: string; readonly final?: boolean }

/** The provider answered the operation: apply these events. */
export const answered = (events: OutcomeEvents): Reconciliation => ({ kind: "answered", events })
/** The provider never saw the operation: safe to send again with the same key and bytes. */
export const notPerformed: Reconciliation = { kind: "notPerformed" }
/** The lookup could not tell; ask again later. */
export const cannotTell = (reason: string): Reconciliation => ({ kind: "unknown", reason })
/** No lookup will ever tell without repeating the operation: a person must resolve it. */
export const onlyAPersonCanTell = (reason: string): Reconciliation => ({ kind: "unknown", reason, final: true })

/**
 * Whether the provider still holds an effect's idempotency key, so that the same request sent again
 * replays the first answer instead of being performed a second time. The age counts from when the
 * effect was stored (before its first send, so never too young) to the later of the engine's clock
 * and the adapter's own, if it has one: a doubt makes the key dead, which costs a person's look,
 * never a second payout.
 */
export const idempotencyKeyAlive = (effect: Pick<OutboxEffect, "createdAt" | "at">, lifetimeMs: number, adapterNow?: Date): boolean => {
  const created = Date.parse(effect.createdAt)
  const now = Math.max(Date.parse(effect.at), adapterNow?.getTime() ?? Number.NEGATIVE_INFINITY)
  return Number.isFinite(created) && Number.isFinite(now) && now - created < lifetimeMs
}

/**
 * Names of fields that need care, per provider, kept beside its wire schemas. Matched by key name
 * anywhere in a payload (case-insensitive).
 */
export interface SensitiveFields {
  /** Never leave memory (card number, CVV, passwords, prepaid numbers): removed from anything stored or shown. */
  readonly secret: readonly string[]
  /** Stored because a retry needs them (bank account numbers, holder names), masked wherever shown. */
  readonly masked: readonly string[]
  /** Personal data (e-mail, phone) masked in inspector events and logs. */
  readonly personal: readonly string[]
}

/** A webhook or notification as the host received it: the raw bytes matter for signatures. */
export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>
  readonly rawBody: string | Uint8Array
}

/** Events for one payment, addressed by paystate id or by the provider's payment reference. */
export interface PaymentUpdate {
  readonly paymentId?: string
  readonly providerRef?: string
  /** Events without `at`: the engine stamps them with its clock. */
  readonly events: readonly DistributiveOmit<PaymentEvent, "at">[]
}

/** What a verified webhook means. */
export interface WebhookResult {
  /** Keys that identify this delivery (delivery id, event id); any one already seen makes it a duplicate. */
  readonly dedupeKeys: readonly string[]
  readonly updates: readonly PaymentUpdate[]
}

/** Omit that keeps a union a union. */
export type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never

/** Events an effect produced, without `at`. */
export type OutcomeEvents = readonly DistributiveOmit<PaymentEvent, "at">[]

/**
 * The host-facing inputs of a provider, for types only: `createEngine` reads them off each adapter
 * so that `payments.create` takes that provider's own fields and a typo is a compile error. zod stays
 * the run-time check; adapters derive these types from the same schemas.
 */
export interface ProviderInputs {
  /** The provider's fields of `payments.create` (beside the common ones). */
  readonly create: object
  /** The options of `payments.refund`. */
  readonly refund: object
  /** The options of `payments.refundRequest` (`never` when the provider has none). */
  readonly refundRequest: object
}

/** What an adapter that declares no input types accepts: any fields, checked at run time only. */
export interface UntypedInputs extends ProviderInputs {
  readonly create: Readonly<Record<string, unknown>>
  readonly refund: Readonly<Record<string, unknown>>
  readonly refundRequest: Readonly<Record<string, unknown>>
}

/**
 * A provider plugged into the engine. Effects it returns have no requirements left: the adapter
 * provides its own client layer. Errors are PaystateErrors: `PROVIDER_REJECTED` is a definite
 * answer (the engine records the failure), `PROVIDER_UNAVAILABLE` means the outcome is unknown
 * (the engine keeps the effect in the outbox and reconciles before anything is sent again).
 */
export interface ProviderAdapter<I extends ProviderInputs = UntypedInputs> {
  /** Types only, never set: the inputs `createEngine` types commands with. */
  readonly inputs?: I
  readonly name: string
  readonly machine: PaymentMachine
  /** Validates the provider-specific part of `payments.create`; its output becomes machine input. */
  readonly createSchema: z.ZodType<ProviderCreate>
  /** Validates the provider-specific options of `payments.refund`. */
  readonly refundSchema: z.ZodType<Details>
  /** Validates `payments.refundRequest`; absent when the provider has no refund requests. */
  readonly refundRequestSchema?: z.ZodType<Details>
  /** Performs one effect with its idempotency key and answers with the events it implies. */
  readonly execute: (effect: OutboxEffect, payment: MachineContext) => Effect.Effect<OutcomeEvents, PaystateError>
  /**
   * Finds out what became of an effect whose outcome is unknown (a crash, a timeout, a dropped
   * response) without repeating it: see `Reconciliation`. Errors count as `unknown`.
   */
  readonly reconcile: (effect: OutboxEffect, payment: MachineContext) => Effect.Effect<Reconciliation, PaystateError>
  /** Verifies a webhook and translates it (fetching from the provider where the body is not trusted). */
  readonly webhook: (request: WebhookRequest) => Effect.Effect<WebhookResult, PaystateError>
  /** Reads the payment's current state at the provider, for `payments.sync`. */
  readonly fetch?: (payment: MachineContext) => Effect.Effect<OutcomeEvents, PaystateError>
  /** Fields of this provider's payloads that are secret, masked or personal (see `SensitiveFields`). */
  readonly sensitive?: SensitiveFields
}

/** The validated, provider-specific part of a create command, turned into machine input. */
export interface ProviderCreate {
  /** What the customer pays in minor units, as the machine's ceiling (e.g. amount + tax + fee). */
  readonly amount: number
  readonly method?: string | null
  readonly deadline?: string | null
  /** The payload the create effect sends, without card data: it is stored and journaled. */
  readonly request: Details
  /** Card data the create effect needs, kept in memory only (see `OutboxEffect.secret`). */
  readonly secret?: Details
  readonly details?: Details
}

/** An object type without its index signature (what a loose zod object adds), so typos stay errors. */
export type KnownKeys<T> = { [K in keyof T as string extends K ? never : number extends K ? never : symbol extends K ? never : K]: T[K] }

/** A provider's own create fields, from its create schema's input: the common fields taken out. */
export type CreateFieldsOf<Input> = Omit<KnownKeys<Input>, "provider" | "amount" | "currency" | "description" | "metadata" | "externalOrderNum" | "idempotencyKey">
