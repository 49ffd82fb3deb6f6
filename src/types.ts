/**
 * The public shapes of the Promise facade: commands in, plain-JSON views out. Amounts are integers
 * in the currency's minor unit (JPY 1000 = ¥1,000; USD 2050 = $20.50).
 */
import type { Details, PaymentStatus, RefundStatus } from "../machines/lifecycle/index.js"
import type { ProviderAdapter, UntypedInputs } from "./provider.js"
import type { ListPage, ListQuery } from "./store.js"

/**
 * One refund, refund request or cancel, as the host sees it. Each answer gives a fresh object; its
 * `details` and `path` are shared between answers and frozen (a refund's view is built once per change).
 */
export interface RefundView {
  readonly id: string
  readonly kind: string
  readonly amount: number
  readonly status: RefundStatus
  readonly providerStatus: string | null
  readonly providerRef: string | null
  readonly reason: string | null
  readonly external: boolean
  /** A provider refund not yet attributed to a paystate refund: held against the ceiling, not in `refundedAmount`. */
  readonly unattributed: boolean
  readonly needsReview: boolean
  /** Why it needs review. */
  readonly reviewReason: string | null
  /** The refund machine that runs it (e.g. "craftgateRefund"); null for a refund found at the provider. */
  readonly machine: string | null
  /** Its refund machine's state (e.g. "waiting", "awaitingCustomer"); null without a machine. */
  readonly state: string | null
  /** The states its refund machine went through, in order (e.g. deciding → cancelling → succeeded). */
  readonly path: readonly string[]
  readonly createdAt: string
  readonly updatedAt: string
  readonly details: Details
}

/** A payment, as the host sees it. */
export interface PaymentView {
  readonly id: string
  readonly provider: string
  readonly status: PaymentStatus
  /** The machine's state path, e.g. "captured.partiallyRefunded". */
  readonly state: string
  readonly amount: number
  readonly currency: string
  readonly capturedAmount: number
  /** Settled refunds. */
  readonly refundedAmount: number
  /** Refunds in flight, pending or of unknown outcome. */
  readonly reservedAmount: number
  /** Provider refunds not yet attributed to a paystate refund (held against the ceiling). */
  readonly unattributedAmount: number
  /** What a new refund may still take. */
  readonly refundableAmount: number
  readonly method: string | null
  readonly providerRef: string | null
  readonly description: string | null
  readonly metadata: Record<string, string>
  readonly externalOrderNum: string | null
  readonly deadline: string | null
  readonly createdAt: string
  readonly updatedAt: string
  readonly version: number
  readonly refunds: readonly RefundView[]
  readonly details: Details
}

/** The fields of `payments.create` every provider takes. */
export interface CreateCommon {
  /** Minor units (JPY has none, USD cents). */
  readonly amount: number
  /** An ISO 4217 code paystate knows (`CURRENCY_EXPONENTS`). */
  readonly currency: string
  readonly description?: string | null
  readonly metadata?: Record<string, string>
  readonly externalOrderNum?: string | null
  /** Same key, same payment: a retried create returns the first payment. */
  readonly idempotencyKey?: string
}

/** The fields of `payments.refund` and `payments.refundRequest` every provider takes. */
// A type alias, not an interface: a typed provider's refund options (with required fields) must still
// fit an index signature where schedules take any engine.
export type RefundCommon = {
  readonly paymentId: string
  /** Minor units; omitted = everything left to refund. */
  readonly amount?: number
  readonly description?: string | null
  /** Same key, same refund: a retried refund never refunds twice. */
  readonly idempotencyKey?: string
}

/** The providers an engine was created with, by the names the host gave them. */
export type Providers = Readonly<Record<string, ProviderAdapter<any>>>

/** The input types an adapter declares (any fields when it declares none). */
export type InputsOf<A> = A extends ProviderAdapter<infer I> ? I : UntypedInputs

/** `payments.create` for one of the engine's providers: `provider` picks which fields are allowed. */
export type CreateCommandFor<P extends Providers> = {
  readonly [K in keyof P & string]: { readonly provider: K } & CreateCommon & InputsOf<P[K]>["create"]
}[keyof P & string]

/** `payments.refund` (or `refundRequest`) with the options of the engine's providers. */
export type RefundCommandFor<P extends Providers, W extends "refund" | "refundRequest" = "refund"> = { readonly [K in keyof P]: RefundCommon & InputsOf<P[K]>[W] }[keyof P]

/** `payments.create` without provider types: any provider name, any fields (checked at run time). */
export type CreatePaymentCommand = CreateCommon & { readonly provider: string; readonly [providerField: string]: unknown }

/** `payments.refund` / `payments.refundRequest` without provider types. */
export type RefundCommand = RefundCommon & { readonly [providerOption: string]: unknown }

/** What `webhooks.handle` did with a delivery. */
export interface WebhookOutcome {
  readonly status: "processed" | "duplicate" | "ignored"
  readonly paymentIds: readonly string[]
}

/** One line of a payment's history. */
export interface HistoryEntry {
  readonly version: number
  readonly at: string
  readonly event: Details
  readonly status: PaymentStatus
}

/** Something that needs a person: a flagged refund, a parked effect, or an unattributed provider refund. */
export interface ReviewItem {
  /** `<paymentId>/<refund or operation id>`: what `review.retry` and `review.resolve` take. */
  readonly id: string
  readonly paymentId: string
  readonly provider: string
  readonly kind: "refund" | "effect" | "unattributed"
  readonly refundId?: string
  readonly opId?: string
  /** Minor units. */
  readonly amount?: number
  readonly currency: string
  readonly status?: RefundStatus
  readonly providerRef?: string | null
  /** Why it needs a person, in words. */
  readonly reasons: readonly string[]
  readonly since: string
}

/** How a person settles a review item. */
export interface ReviewResolution {
  readonly outcome: "succeeded" | "failed"
  /** Why; kept in the journal. */
  readonly note: string
  /** Who; kept in the journal. Default "host". */
  readonly by?: string
  /**
   * The provider's id of the refund, when the person found it (in the provider's dashboard) and
   * paystate never learnt it: later reports about it (a bank reversal) then reach this refund.
   */
  readonly providerRef?: string
}

/** The Promise facade `createEngine` returns, typed by the providers it was created with. */
export interface PaystateEngine<P extends Providers = Providers> {
  readonly payments: {
    create(command: CreateCommandFor<P>): Promise<PaymentView>
    get(paymentId: string): Promise<PaymentView>
    list(query?: ListQuery): Promise<ListPage<PaymentView>>
    update(command: { paymentId: string; description?: string | null; metadata?: Record<string, string>; idempotencyKey?: string }): Promise<PaymentView>
    capture(command: { paymentId: string; amount?: number; idempotencyKey?: string }): Promise<PaymentView>
    cancel(command: { paymentId: string; idempotencyKey?: string }): Promise<PaymentView>
    refund(command: RefundCommandFor<P>): Promise<PaymentView>
    refundRequest(command: RefundCommandFor<P, "refundRequest">): Promise<PaymentView>
    /** Reads the payment's state at the provider and applies it. */
    sync(paymentId: string): Promise<PaymentView>
    /** The payment's journal, oldest first: all of it, or a page (`afterVersion` = the last version you have, `limit`). */
    history(paymentId: string, page?: { readonly afterVersion?: number; readonly limit?: number }): Promise<readonly HistoryEntry[]>
  }
  readonly webhooks: {
    handle(provider: keyof P & string, request: { headers: Record<string, string | readonly string[] | undefined>; rawBody: string | Uint8Array }): Promise<WebhookOutcome>
  }
  /** What needs a person, and what a person can do about it (see docs/reliability.md). */
  readonly review: {
    list(): Promise<readonly ReviewItem[]>
    /** Looks again: a parked effect is reconciled now, a flagged refund is polled anew. */
    retry(id: string, options?: { note?: string; by?: string }): Promise<PaymentView>
    /** Settles an item by a person's word; refused with REFUND_EXCEEDS_REFUNDABLE if it would break the ceiling. */
    resolve(id: string, resolution: ReviewResolution): Promise<PaymentView>
  }
  /** Fires timers that are due by the engine clock. Runs by itself every `pollIntervalMs` too. */
  runDueTimers(): Promise<number>
  /** Reconciles outbox entries a crash or an outage left behind. Runs on start and periodically. */
  recover(): Promise<number>
  close(): Promise<void>
}
