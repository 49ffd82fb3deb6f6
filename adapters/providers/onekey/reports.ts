/**
 * OneKey answers as the lifecycle's reports: what a refund status, a card result or a deposit status
 * means for the ledger and the payment. Shared by effects, notifications and `payments.sync`.
 */
import type { ProviderPaymentState, ProviderRefundState } from "../../../machines/lifecycle/index.js"
import { toMinor } from "../../../src/money.js"
import { ledgerStatus, paymentStatusOf, type OnekeyDepositStatusResponse, type OnekeyRefundResponse } from "./wire.js"

/** A decimal in major units as minor units, or undefined when it cannot be read exactly. */
export const minorOrUndefined = (value: number | string | undefined, currency: string): number | undefined => {
  if (value === undefined) return undefined
  try {
    return toMinor(value, currency)
  } catch {
    return undefined
  }
}

/** A refund's status as the ledger reads it; INCORRECT_DETAILS asks the host for new bank details. */
export const refundReport = (providerRef: string, status: string, extra: Partial<ProviderRefundState> = {}): ProviderRefundState => ({
  ...extra,
  providerRef,
  status: ledgerStatus(status),
  providerStatus: status,
  details: { ...(extra.details ?? {}), action_required: status === "INCORRECT_DETAILS" ? "corrected_bank_details" : null },
})

/** What `POST /v3/refunds` answered: a card result (SUCCESS / REJECTED / IN_PROGRESS) or a bank refund PENDING. */
export const createdRefundReport = (refundId: string, r: OnekeyRefundResponse): ProviderRefundState => {
  const info = r.refund_info
  if (!info?.result) return refundReport(String(r.refund_id), "PENDING", { refundId })
  const rejected = info.result === "REJECTED"
  const reason = rejected ? [info.reason_code, info.reason].filter((x) => x !== undefined && x !== null && x !== "").join(": ") || "REJECTED" : null
  return refundReport(String(r.refund_id), info.result, {
    refundId,
    reason,
    details: {
      refund_type: info.type ?? null,
      reason_code: info.reason_code === undefined || info.reason_code === null ? null : String(info.reason_code),
      reason_text: info.reason ?? null,
    },
  })
}

const PAYSTATE_ID = /^pay_[A-Za-z0-9_-]{22}$/

/** paystate's payment id when the deposit's invoice id is one (the adapter's default invoice id). */
export const paymentIdOf = (invoiceId: string | undefined): string | undefined => (invoiceId && PAYSTATE_ID.test(invoiceId) ? invoiceId : undefined)

/**
 * A deposit's state. No `capturedAmount`: `local_amount` may be in another currency than the one the
 * deposit was created in, and a deposit is paid whole, so the ceiling stays the amount created.
 */
export const depositState = (d: OnekeyDepositStatusResponse): ProviderPaymentState => ({
  status: paymentStatusOf(d.status),
  providerRef: String(d.deposit_id),
  details: { deposit_status: d.status, ...(d.payment_type ? { payment_type: d.payment_type } : {}) },
})
