/**
 * OneKey payment methods as the refund rules see them: a card deposit is refunded to the card; every
 * other method (OXXO, SPEI, boletos, bank transfers) is paid back by bank transfer and needs the
 * customer's bank account.
 */

/** Card payment method codes (PROVIDERS.md: VI, MC, AE; plus the other card brands D24 lists). */
export const CARD_METHODS: readonly string[] = ["VI", "MC", "AE", "DC", "EL", "CL", "JC", "DI", "HI", "CS", "MS"]

/** True for a card payment method (case-insensitive). */
export const isCardMethod = (method: string | null | undefined): boolean => CARD_METHODS.includes(String(method ?? "").toUpperCase())

/** OneKey's refund error codes the machine refuses with before any call, and their types. */
export const LOCAL_REFUSALS = {
  801: "DEPOSIT_NOT_COMPLETED",
  802: "INVALID_AMOUNT_TO_REFUND",
  804: "MISSING_BANK_ACCOUNT",
} as const
