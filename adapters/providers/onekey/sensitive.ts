/**
 * Which OneKey fields need care, beside the wire schemas they belong to (wire.ts). paystate uses
 * D24's non-PCI deposits API (`POST /v3/deposits` on the merchant API host: the customer pays on
 * OneKey's checkout), so no OneKey body paystate builds carries card data. The card fields of D24's
 * PCI endpoint (`cc-api.directa24.com`, `credit_card: {card_number, cvv, …}`) are listed as secret
 * anyway, so a host that slips them into a payload never has them stored, and `createSchema`
 * refuses a `credit_card` object outright.
 */
import type { SensitiveFields } from "../../../src/provider.js"

/** OneKey's sensitive field names (matched case-insensitively at any depth, see src/redact.ts). */
export const ONEKEY_SENSITIVE: SensitiveFields = {
  // D24 PCI deposits: `credit_card.{card_number, cvv}`; never sent by paystate, removed if seen.
  secret: ["credit_card", "card_number", "cvv"],
  // A bank refund's retry needs them (bank_account.account_number, beneficiary and document_id;
  // the deposit's payer document and names), so they are stored and masked wherever shown.
  masked: ["account_number", "beneficiary", "document", "document_id", "first_name", "last_name"],
  // payer.email and payer.phone of a deposit.
  personal: ["email", "phone"],
}
