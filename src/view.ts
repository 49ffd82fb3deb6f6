/** Projection of a stored snapshot into the plain-JSON views the facade returns. */
import { totals, type MachineContext, type PaymentStatus } from "../machines/lifecycle/index.js"
import type { StoredPayment } from "./store.js"
import type { PaymentView, RefundView } from "./types.js"

/** The state path of a snapshot value, e.g. "captured.partiallyRefunded". */
export const statePath = (value: unknown): string => {
  if (typeof value === "string") return value
  if (value && typeof value === "object") {
    const [k, v] = Object.entries(value)[0] ?? []
    return k === undefined ? "" : `${k}.${statePath(v)}`.replace(/\.$/, "")
  }
  return String(value)
}

/** The lifecycle status of a snapshot value (its top-level state). */
export const statusOf = (value: unknown): PaymentStatus => statePath(value).split(".")[0] as PaymentStatus

/** Builds the view of a stored payment. */
export const toView = (row: StoredPayment): PaymentView => ({ ...toViewHead(row), refunds: (row.snapshot.context as unknown as MachineContext).refunds.map(refundView) })

/** The view of a stored payment with an empty `refunds` (the engine fills it lazily). */
export const toViewHead = (row: StoredPayment): PaymentView => {
  const ctx = row.snapshot.context as unknown as MachineContext
  const t = totals(ctx)
  return {
    id: ctx.id,
    provider: ctx.provider,
    status: statusOf(row.snapshot.value),
    state: statePath(row.snapshot.value),
    amount: ctx.amount,
    currency: ctx.currency,
    capturedAmount: ctx.capturedAmount,
    refundedAmount: t.settled,
    reservedAmount: t.reserved,
    unattributedAmount: t.unattributed,
    refundableAmount: Math.max(0, t.refundable),
    method: ctx.method,
    providerRef: ctx.providerRef,
    description: ctx.description,
    metadata: ctx.metadata,
    externalOrderNum: ctx.externalOrderNum,
    deadline: ctx.deadline,
    createdAt: ctx.createdAt,
    updatedAt: ctx.updatedAt,
    version: row.version,
    refunds: [],
    details: ctx.details,
  }
}

/** The view of one ledger entry, built once per entry: entries are immutable, so a payment with hundreds of settled refunds builds each one's view once. */
const refundViews = new WeakMap<object, RefundView>()
export const refundView = (r: MachineContext["refunds"][number]): RefundView => {
  let v = refundViews.get(r)
  if (!v) refundViews.set(r, (v = buildRefundView(r)))
  return v
}
const buildRefundView = (r: MachineContext["refunds"][number]): RefundView => ({
  id: r.id,
  kind: r.kind,
  amount: r.amount,
  status: r.status,
  providerStatus: r.providerStatus ?? null,
  providerRef: r.providerRef ?? null,
  reason: r.reason ?? null,
  external: r.external ?? false,
  unattributed: r.unattributed ?? false,
  needsReview: r.needsReview ?? false,
  reviewReason: r.reviewReason ?? null,
  machine: r.machine ?? null,
  state: r.state ?? null,
  path: r.path ?? [],
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  details: r.details,
})
