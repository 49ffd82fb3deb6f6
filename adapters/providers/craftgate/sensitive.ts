/**
 * Craftgate's sensitive field names, beside its wire schemas (wire.ts, inputs.ts), matched by key
 * name anywhere in a payload, case-insensitively. Names are Craftgate's (`PaymentCard`, `StoredCard`,
 * `PaymentResponse`, `MemberResponse` of the official clients).
 */
import type { SensitiveFields } from "../../../src/provider.js"

/** What never leaves memory, what is stored but masked, and what is personal. */
export const CRAFTGATE_SENSITIVE: SensitiveFields = {
  // Card data (PCI DSS): the full number and the security code; the number only ever travels in
  // `secret`, and these names are removed from anything stored or shown should one slip through.
  // `encryptedCard`, `secureFieldsToken` and `tokenizedCard` are Craftgate's other ways of carrying card data.
  secret: ["cardNumber", "cvc", "cvv", "cvv2", "securityCode", "encryptedCard", "secureFieldsToken", "tokenizedCard"],
  // Names and documents: stored, masked when shown. A stored card's keys (cardUserKey, cardToken) are
  // not card data (they charge nothing without the merchant's API keys) and the host needs them whole
  // to pay with the stored card again, so they are not listed.
  masked: ["cardHolderName", "bankCardHolderName", "cardHolderIdentityNumber", "identityNumber"],
  personal: ["email", "phoneNumber", "gsmNumber", "phone"],
}
