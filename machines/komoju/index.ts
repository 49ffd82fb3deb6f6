/** KOMOJU's payment machine: the lifecycle specialised by KOMOJU's rules. */
import { createPaymentMachine } from "../lifecycle/machine.js"
import { createKomojuPolicy, komojuPolicy, type KomojuPolicyOptions } from "./policy.js"

export { komojuPolicy, createKomojuPolicy, KOMOJU_REFUND_POLL_DELAYS_MS, REFUND_FIELDS, REFUND_REQUEST_FIELDS, type KomojuPolicyOptions, type KomojuDetails } from "./policy.js"
export {
  KOMOJU_METHODS,
  METHOD_RULES,
  CASH_METHODS,
  DEFAULT_TAX_RATE_PERCENT,
  isKomojuMethod,
  initialStatus,
  deadlineFor,
  autoTax,
  roundHalfUp,
  type KomojuMethod,
  type MethodRule,
  type DeadlineRule,
} from "./methods.js"

/** KOMOJU's payment machine with the default policy. */
export const komojuMachine = createPaymentMachine(komojuPolicy)

/** Builds KOMOJU's machine with other policy options (e.g. a poll schedule). */
export const createKomojuMachine = (options: KomojuPolicyOptions = {}) => (options.refundPollDelaysMs ? createPaymentMachine(createKomojuPolicy(options)) : komojuMachine)
