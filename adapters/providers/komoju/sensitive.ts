/**
 * Which KOMOJU fields need care, kept beside the wire schemas (wire.ts) they name. Key names are
 * matched case-insensitively anywhere in a payload by the engine's redaction module.
 *
 * - secret: what a PCI SAQ-A merchant may not keep. The card `number` and `verification_value` of a
 *   credit_card create (seed 001 create params), the `prepaid_number` of WebMoney, BitCash, NET CASH
 *   and nanaco, and the passwords of Happy Money and Culture Voucher. They reach KOMOJU from memory
 *   only (`ProviderCreate.secret`) and are never stored.
 * - masked: stored because a retry must send the same bytes, masked wherever shown: the bank account
 *   and the customer's names of a refund request (seed 000), the names of bank transfer and PayEasy
 *   payers. The generic key `name` (a refund's customer name, a card holder) is not listed: the key
 *   is too common (timer and event names) to mask everywhere; the card holder name is data a SAQ-A
 *   merchant may keep.
 * - personal: e-mails and phones (every method's `email`, refunds' `phone`).
 */
import type { SensitiveFields } from "../../../src/provider.js"

/** Secret fields of a create's `payment_details`, per method: removed from the stored request. */
export const SECRET_PAYMENT_DETAILS: Readonly<Record<string, readonly string[]>> = {
  credit_card: ["number", "verification_value"],
  web_money: ["prepaid_number"],
  bit_cash: ["prepaid_number"],
  net_cash: ["prepaid_number"],
  nanaco: ["prepaid_number"],
  happy_money: ["happy_money_password"],
  culture_voucher: ["culture_password"],
}

/** KOMOJU's sensitive fields, set as the adapter's `sensitive`. */
export const KOMOJU_SENSITIVE: SensitiveFields = {
  secret: ["number", "verification_value", "prepaid_number", "happy_money_password", "culture_password"],
  masked: ["account_number", "customer_name", "family_name", "given_name", "family_name_kana", "given_name_kana"],
  personal: ["email", "phone"],
}
