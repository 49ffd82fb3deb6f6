/**
 * Types shared by the lifecycle machine and every provider machine. Everything here is plain JSON so
 * that a snapshot can be persisted, journaled and replayed as is.
 */

import type { RefundEvent, RefundInput } from "./refund.js"

/** A payment's lifecycle status, as the host sees it. */
export type PaymentStatus = "pending" | "authorized" | "captured" | "refunded" | "cancelled" | "expired" | "failed"

/** Every lifecycle status, in lifecycle order. */
export const PAYMENT_STATUSES: readonly PaymentStatus[] = ["pending", "authorized", "captured", "refunded", "cancelled", "expired", "failed"]

/**
 * A refund's place in the ledger. `requested` (sent, outcome not known yet) and `pending` (accepted,
 * not settled) reserve their amount; `succeeded` settles it; `failed` (rejected, cancelled) releases
 * it; `reversed` (settled, then undone by the bank) releases it and stays on record.
 */
export type RefundStatus = "requested" | "pending" | "succeeded" | "failed" | "reversed"

/** JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Free-form, provider-owned data kept beside the generic fields. */
export type Details = Record<string, Json | undefined>

/** One refund (or refund request, or cancel) in a payment's ledger. Amounts are minor units. */
export interface LedgerEntry {
  /** paystate's id for the refund; stable across retries, used in idempotency keys. */
  readonly id: string
  /** "refund", "refund_request", "cancel" or a provider's own kind. */
  readonly kind: string
  readonly amount: number
  readonly status: RefundStatus
  /** The provider's own status word (e.g. WAITING, IN_PROGRESS, INCORRECT_DETAILS). */
  readonly providerStatus?: string | null
  /** The provider's id of the refund, once known. */
  readonly providerRef?: string | null
  /** Why it failed or was reversed. */
  readonly reason?: string | null
  /** True when it was found at the provider rather than asked for through paystate. */
  readonly external?: boolean
  /**
   * True for a provider refund that a report named by the provider's id only, while some paystate
   * refund in flight might still turn out to be it. It counts against the ceiling (so an over-refund
   * stays impossible) but not in the refunded totals; an answer naming both ids attributes it, and once
   * no refund is in flight without a provider id it becomes `external`. Its id is `ua:<providerRef>`.
   */
  readonly unattributed?: boolean
  /** True once polling gave up or a conflict was found: a person has to look at it. */
  readonly needsReview?: boolean
  /** Why it needs review, in words. */
  readonly reviewReason?: string | null
  /** How a person settled it through `engine.review.resolve`. */
  readonly review?: { readonly outcome: "succeeded" | "failed"; readonly note: string; readonly by: string; readonly at: string } | null
  readonly polls?: number
  /** The refund machine that runs this refund (e.g. "craftgateRefund"); absent for refunds found at the provider. */
  readonly machine?: string
  /** The version of that machine the refund runs on. */
  readonly machineVersion?: string
  /** The refund machine's current state, e.g. "waiting". */
  readonly state?: string
  /** The refund machine's states in the order it went through them. */
  readonly path?: readonly string[]
  readonly createdAt: string
  readonly updatedAt: string
  readonly details: Details
}

/** State of a non-refund operation (create, capture, cancel, update). */
export interface OperationState {
  readonly op: string
  readonly status: "requested" | "succeeded" | "failed"
  readonly error?: { readonly code: string; readonly message: string } | null
  readonly at: string
}

/** The context every payment machine carries. */
export interface PaymentContext {
  readonly id: string
  readonly provider: string
  readonly currency: string
  /** What the customer pays, in minor units (for KOMOJU: amount + tax + fee). */
  readonly amount: number
  /** What was captured and so can be refunded. */
  readonly capturedAmount: number
  readonly method: string | null
  readonly providerRef: string | null
  readonly description: string | null
  readonly metadata: Record<string, string>
  readonly externalOrderNum: string | null
  readonly createdAt: string
  readonly updatedAt: string
  readonly deadline: string | null
  /** The provider-specific payload the payment was created with (sent by the create effect). */
  readonly request: Details
  /** Provider-owned data (e.g. craftgate payment transactions, komoju payment_details). */
  readonly details: Details
  readonly refunds: readonly LedgerEntry[]
  readonly ops: Readonly<Record<string, OperationState>>
}

/** Input for a new payment machine. */
export interface PaymentInput {
  readonly id: string
  readonly provider: string
  readonly currency: string
  readonly amount: number
  readonly method?: string | null
  readonly description?: string | null
  readonly metadata?: Record<string, string>
  readonly externalOrderNum?: string | null
  readonly deadline?: string | null
  readonly createdAt: string
  readonly request?: Details
  readonly details?: Details
}

/** What a provider reports about a payment (from an API answer, a webhook or a lookup). */
export interface ProviderPaymentState {
  readonly status?: PaymentStatus
  readonly providerRef?: string
  readonly amount?: number
  readonly capturedAmount?: number
  readonly method?: string | null
  readonly description?: string | null
  readonly metadata?: Record<string, string>
  readonly deadline?: string | null
  readonly details?: Details
}

/**
 * What a provider reports about one refund. Matched to the ledger only by identity: `refundId`
 * (paystate's id, set only when the provider's answer proves it: an echo of our id or key, the answer
 * to our own call) and then `providerRef` (the provider's refund id). Never by amount, kind or age.
 */
export interface ProviderRefundState {
  readonly refundId?: string
  readonly providerRef?: string
  readonly kind?: string
  readonly amount?: number
  readonly status: RefundStatus
  readonly providerStatus?: string
  readonly reason?: string | null
  readonly details?: Details
}

/** Who settled an operation by hand through the review API, and why (kept in the journal). */
export interface ReviewNote {
  readonly by: string
  readonly note: string
}

/** Every event a payment machine takes. `at` is the engine clock's ISO time: machines never read a clock. */
export type PaymentEvent =
  | { readonly type: "CAPTURE"; readonly at: string; readonly opId: string; readonly amount?: number }
  | { readonly type: "CANCEL"; readonly at: string; readonly opId: string }
  | { readonly type: "UPDATE"; readonly at: string; readonly opId: string; readonly description?: string | null; readonly metadata?: Record<string, string> }
  | {
      readonly type: "REFUND"
      readonly at: string
      readonly refundId: string
      readonly kind: string
      readonly amount?: number
      readonly description?: string | null
      readonly options: Details
    }
  | { readonly type: "OP.SUCCEEDED"; readonly at: string; readonly opId: string; readonly payment?: ProviderPaymentState; readonly refunds?: readonly ProviderRefundState[]; readonly review?: ReviewNote }
  | { readonly type: "OP.FAILED"; readonly at: string; readonly opId: string; readonly code: string; readonly message: string; readonly payment?: ProviderPaymentState; readonly review?: ReviewNote }
  | { readonly type: "PROVIDER.SYNC"; readonly at: string; readonly payment?: ProviderPaymentState; readonly refunds?: readonly ProviderRefundState[] }
  | { readonly type: "TIMER"; readonly at: string; readonly timerId: string; readonly name: string; readonly data?: Details }
  /** A person settles a refund (or an unattributed provider refund) that needs review. */
  | { readonly type: "REVIEW.RESOLVE"; readonly at: string; readonly refundId: string; readonly outcome: "succeeded" | "failed"; readonly note: string; readonly by: string; readonly providerRef?: string }
  /** A person asks for a refund that needs review to be looked up again (and polled anew). */
  | { readonly type: "REVIEW.RETRY"; readonly at: string; readonly refundId: string; readonly note?: string; readonly by: string; readonly lookup?: boolean }
  /** The engine flags a refund for review (its effect ran out of its retry window); its amount stays reserved. */
  | { readonly type: "REVIEW.FLAG"; readonly at: string; readonly refundId: string; readonly reason: string }
  /** Internal: a refund machine's ledger meaning changed; the engine hands it to the payment in the same step. */
  | RefundChanged

/** What a refund machine's step means to the payment's ledger (sent by the engine, never journaled). */
export interface RefundChanged {
  readonly type: "REFUND.CHANGED"
  readonly at: string
  readonly refundId: string
  /** The refund machine's state path. */
  readonly state: string
  /** The version of the refund machine. */
  readonly version?: string
  /** On a refund machine's first step: its initial state, when it passed through it at once (Craftgate's `deciding`). */
  readonly entered?: string
  /** What its tags mean to the ledger. */
  readonly status: RefundStatus
  readonly kind: string
  readonly providerRef: string | null
  readonly providerStatus: string | null
  readonly reason: string | null
  readonly polls: number
  readonly needsReview: boolean
  readonly reviewReason: string | null
  readonly review: LedgerEntry["review"]
  readonly details: Details
}

/** A provider call the machine asks for; the engine stores it in the outbox before running it. */
export interface EffectRequest {
  /** Stable per payment: the idempotency key is derived from it, so a retry reuses it. */
  readonly opId: string
  /** The operation, e.g. "create", "capture", "refund", "refund.status". */
  readonly op: string
  readonly payload: Details
}

/** A durable timer the machine asks for; the engine fires it as a TIMER event, even after a restart. */
export interface TimerRequest {
  readonly timerId: string
  readonly name: string
  readonly at: string
  readonly data?: Details
}

/** Why the machine refused a command; the engine raises it as a PaystateError and writes nothing. */
export interface Refusal {
  readonly code: "INVALID_TRANSITION" | "REFUND_EXCEEDS_REFUNDABLE" | "INVALID_INPUT" | "PROVIDER_REJECTED"
  readonly message: string
  readonly details?: Details
}

/** The actions a machine hands the engine to carry out after the snapshot is stored. */
export type MachineAction =
  | { readonly type: "effect"; readonly params: EffectRequest }
  | { readonly type: "timer"; readonly params: TimerRequest }
  | { readonly type: "cancelTimer"; readonly params: { readonly timerId: string } }
  | { readonly type: "refuse"; readonly params: Refusal }
  /** Start refund machine `machine` (a name the policy's family knows) with this input. */
  | { readonly type: "startRefund"; readonly params: { readonly machine: string; readonly input: RefundInput } }
  /** Hand an event to the refund machine of `refundId`. */
  | { readonly type: "toRefund"; readonly params: { readonly refundId: string; readonly event: RefundEvent } }
