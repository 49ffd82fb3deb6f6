/**
 * The seed examples (seed 001 create/refund/cancel/capture/update/list/show, seed 000 refund request):
 * each request exactly as its curl tab sends it (`-d` pairs), and the facts of its answer.
 */

/** Turns curl `-d` pairs into a form body. */
export const form = (pairs: readonly string[]): string => pairs.map((p) => { const i = p.indexOf("="); return `${encodeURIComponent(p.slice(0, i))}=${encodeURIComponent(p.slice(i + 1))}` }).join("&")

/** One create example: the curl body and its answer's facts. */
export interface CreateExample {
  readonly method: string
  readonly d: readonly string[]
  readonly status: "captured" | "authorized"
  readonly amount: number
  readonly tax: number
  readonly total: number
  readonly currency: string
  /** Keys of `payment_details` in the answer, in order. */
  readonly detailKeys: readonly string[]
  /** Deadline: days to 23:59:59 JST, "7d-exact", or null. */
  readonly deadline: number | "7d-exact" | null
}

/** Every create example of seed 001, in the file's order. */
export const CREATE_EXAMPLES: readonly CreateExample[] = [
  { method: "mobile", d: ["amount=1000", "currency=KRW", "email=foo@bar.com", "payment_details[email]=foo@bar.com", "payment_details[type]=mobile", "return_url=http://example.com", "tax=0"], status: "authorized", amount: 1000, tax: 0, total: 1000, currency: "KRW", detailKeys: ["type", "email", "provider", "redirect_url"], deadline: null },
  { method: "bit_cash", d: ["amount=100", "currency=JPY", "debug=true", "payment_details[email]=test@example.com", "payment_details[prepaid_number]=1111111111111111", "payment_details[type]=bit_cash"], status: "captured", amount: 100, tax: 10, total: 110, currency: "JPY", detailKeys: ["type", "email"], deadline: null },
  { method: "line_pay", d: ["amount=1000", "currency=JPY", "payment_details[email]=test@example.com", "payment_details[type]=line_pay", "return_url=https://example.com"], status: "authorized", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "redirect_url"], deadline: null },
  { method: "merpay", d: ["amount=1000", "currency=JPY", "payment_details[email]=test@example.com", "payment_details[type]=merpay", "return_url=https://example.com"], status: "authorized", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "redirect_url"], deadline: null },
  { method: "japan_mobile", d: ["amount=1000", "currency=JPY", "payment_details[brand]=docomo", "payment_details[email]=test@example.com", "payment_details[type]=japan_mobile", "return_url=https://example.com"], status: "authorized", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "provider", "redirect_url"], deadline: null },
  { method: "konbini", d: ["amount=1000", "currency=JPY", "external_order_num=123", "metadata[foobar]=hoge", "payment_details[email]=test@example.com", "payment_details[expiry_days]=3", "payment_details[phone]=090-1111-2222", "payment_details[store]=lawson", "payment_details[type]=konbini"], status: "authorized", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "store", "confirmation_code", "receipt", "instructions_url"], deadline: 3 },
  { method: "pay_easy", d: ["amount=1000", "currency=JPY", "external_order_num=123", "metadata[foobar]=hoge", "payment_details[email]=test@example.com", "payment_details[family_name]=山田", "payment_details[family_name_kana]=ヤマダ", "payment_details[given_name]=太郎", "payment_details[given_name_kana]=タロウ", "payment_details[phone]=080-1111-2222", "payment_details[type]=pay_easy"], status: "authorized", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "bank_id", "customer_id", "confirmation_id", "instructions_url"], deadline: 10 },
  { method: "net_cash", d: ["amount=1000", "currency=JPY", "external_order_num=123", "metadata[foobar]=hoge", "payment_details[email]=test@example.com", "payment_details[prepaid_number]=1111111111111111", "payment_details[type]=net_cash"], status: "captured", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "short_amount", "prepaid_cards"], deadline: "7d-exact" },
  { method: "happy_money", d: ["amount=1000", "currency=KRW", "external_order_num=123", "metadata[foobar]=hoge", "payment_details[happy_money_id]=11111111", "payment_details[happy_money_password]=11111111", "payment_details[type]=happy_money"], status: "captured", amount: 1000, tax: 100, total: 1100, currency: "KRW", detailKeys: ["type", "email", "happy_money_id"], deadline: null },
  { method: "bank_transfer", d: ["amount=1000", "currency=JPY", "external_order_num=123", "metadata[foobar]=hoge", "payment_details[email]=test@example.com", "payment_details[expiry_days]=14", "payment_details[family_name]=山田", "payment_details[family_name_kana]=ヤマダ", "payment_details[given_name]=太郎", "payment_details[given_name_kana]=タロウ", "payment_details[phone]=080-1111-2222", "payment_details[type]=bank_transfer"], status: "authorized", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "order_id", "bank_name", "account_branch_name", "account_number", "account_type", "account_name", "instructions_url"], deadline: 7 },
  { method: "culture_voucher", d: ["amount=1000", "currency=KRW", "external_order_num=123", "metadata[foobar]=hoge", "payment_details[culture_id]=11111111", "payment_details[culture_password]=11111111", "payment_details[type]=culture_voucher"], status: "captured", amount: 1000, tax: 100, total: 1100, currency: "KRW", detailKeys: ["type", "email", "culture_id"], deadline: null },
  { method: "credit_card", d: ["amount=1000", "currency=JPY", "external_order_num=123", "metadata[foobar]=hoge", "payment_details[email]=test@example.com", "payment_details[month]=01", "payment_details[name]=Taro Yamada", "payment_details[number]=4111111111111111", "payment_details[type]=credit_card", "payment_details[verification_value]=123", "payment_details[year]=2025"], status: "captured", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "brand", "last_four_digits", "month", "year"], deadline: 7 },
  { method: "web_money", d: ["amount=1000", "currency=JPY", "external_order_num=123", "metadata[foobar]=hoge", "payment_details[email]=test@example.com", "payment_details[prepaid_number]=1111111111111111", "payment_details[type]=web_money"], status: "captured", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "short_amount", "prepaid_cards"], deadline: null },
  { method: "nanaco", d: ["amount=1000", "currency=JPY", "external_order_num=123", "metadata[foobar]=hoge", "payment_details[email]=test@example.com", "payment_details[prepaid_number]=1111111111111111", "payment_details[type]=nanaco"], status: "captured", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "short_amount", "prepaid_cards"], deadline: "7d-exact" },
  { method: "paidy", d: ["amount=1000", "currency=JPY", "payment_details[billing_address_city]=武蔵野市", "payment_details[billing_address_line1]=いちご吉祥寺ビル 4F", "payment_details[billing_address_line2]=吉祥寺本町 2 丁目 5 番 10 号", "payment_details[billing_address_state]=東京都", "payment_details[billing_address_zip]=1800004", "payment_details[customer_age]=25", "payment_details[customer_last_order_amount]=20000", "payment_details[customer_last_order_at]=10", "payment_details[customer_lifetime_value]=250000", "payment_details[customer_name]=山田太郎", "payment_details[customer_name_kana]=マダ タロウ", "payment_details[customer_order_count]=2", "payment_details[email]=test@example.com", "payment_details[type]=paidy", "return_url=https://example.com"], status: "authorized", amount: 1000, tax: 100, total: 1100, currency: "JPY", detailKeys: ["type", "email", "redirect_url"], deadline: null },
]

/** Keys of every payment answer, in the seeds' order. */
export const PAYMENT_KEYS = ["id", "resource", "status", "amount", "tax", "customer", "payment_deadline", "payment_details", "payment_method_fee", "total", "currency", "description", "captured_at", "external_order_num", "metadata", "created_at", "amount_refunded", "locale", "refunds", "refund_requests"]
/** Keys of a refund object (seed 001 refund examples). */
export const REFUND_KEYS = ["id", "resource", "status", "redirect_url", "amount", "currency", "payment", "description", "created_at", "chargeback"]
/** Keys of a refund request object (seed 000). */
export const REFUND_REQUEST_KEYS = ["id", "payment", "customer_name", "bank_code", "bank_name", "branch_number", "branch_name", "account_number", "status", "created_at"]
/** Keys of the list answer (seed 001 list). */
export const LIST_KEYS = ["resource", "total", "page", "per_page", "last_page", "data"]

/**
 * Seed 001 refund examples: the payment (amount, tax; captured) and the refund call's `-d` pairs,
 * with the answer's refund amount, refund status and payment status.
 */
export const REFUND_EXAMPLES = [
  { method: "pay_easy", tax: 0, d: ["amount=1000", "email=test@example.com", "name=コモジュ太郎", "phone=080-1111-1111"], refund: 1000, refundStatus: "pending", paymentStatus: "captured", amountRefunded: 1000 },
  { method: "bit_cash", tax: undefined, amount: 100, d: [], refund: 110, refundStatus: "completed", paymentStatus: "refunded", amountRefunded: 110 },
  { method: "bank_transfer", tax: 0, d: ["amount=1000", "email=test@example.com", "name=コモジュ太郎", "phone=080-1111-1111"], refund: 1000, refundStatus: "pending", paymentStatus: "captured", amountRefunded: 1000 },
  { method: "line_pay", tax: 0, d: ["amount=1000"], refund: 1000, refundStatus: "completed", paymentStatus: "refunded", amountRefunded: 1000 },
  { method: "net_cash", tax: undefined, d: [], refund: 1100, refundStatus: "completed", paymentStatus: "refunded", amountRefunded: 1100 },
  { method: "merpay", tax: 0, d: ["amount=1000"], refund: 1000, refundStatus: "completed", paymentStatus: "refunded", amountRefunded: 1000 },
  { method: "japan_mobile", tax: 0, d: ["amount=1000"], refund: 1000, refundStatus: "completed", paymentStatus: "refunded", amountRefunded: 1000 },
  { method: "konbini", tax: 0, d: ["amount=1000", "email=test@example.com", "name=コモジュ太郎", "phone=080-1111-1111"], refund: 1000, refundStatus: "pending", paymentStatus: "captured", amountRefunded: 1000 },
  { method: "nanaco", tax: undefined, d: [], refund: 1100, refundStatus: "completed", paymentStatus: "refunded", amountRefunded: 1100 },
  { method: "credit_card", tax: undefined, d: ["amount=500"], refund: 500, refundStatus: "completed", paymentStatus: "captured", amountRefunded: 500 },
  { method: "paidy", tax: 0, d: ["amount=1000"], refund: 1000, refundStatus: "completed", paymentStatus: "refunded", amountRefunded: 1000 },
] as const

/** Seed 001 cancel examples: methods and taxes of the cancelled payments. */
export const CANCEL_EXAMPLES = [
  { method: "credit_card", tax: 0, capture: false },
  { method: "line_pay", tax: 0 },
  { method: "merpay", tax: 0 },
  { method: "japan_mobile", tax: 0, debug: true },
  { method: "pay_easy", tax: 100 },
  { method: "bank_transfer", tax: 100 },
  { method: "konbini", tax: 100 },
  { method: "paidy", tax: 0 },
] as const

/** Minimal `payment_details` per method, as the engine takes them. */
export const DETAILS: Record<string, Record<string, string>> = {
  credit_card: { type: "credit_card", number: "4111111111111111", month: "01", year: "2030", verification_value: "123", name: "Taro Yamada", email: "test@example.com" },
  konbini: { type: "konbini", store: "lawson", email: "test@example.com" },
  bank_transfer: { type: "bank_transfer", email: "test@example.com", family_name: "山田", given_name: "太郎", family_name_kana: "ヤマダ", given_name_kana: "タロウ", phone: "080-1111-2222" },
  pay_easy: { type: "pay_easy", email: "test@example.com", family_name: "山田", given_name: "太郎", family_name_kana: "ヤマダ", given_name_kana: "タロウ", phone: "080-1111-2222" },
  web_money: { type: "web_money", prepaid_number: "1111111111111111", email: "test@example.com" },
  bit_cash: { type: "bit_cash", prepaid_number: "1111111111111111", email: "test@example.com" },
  net_cash: { type: "net_cash", prepaid_number: "1111111111111111", email: "test@example.com" },
  nanaco: { type: "nanaco", prepaid_number: "1111111111111111", email: "test@example.com" },
  mobile: { type: "mobile", email: "foo@bar.com" },
  japan_mobile: { type: "japan_mobile", brand: "docomo", email: "test@example.com" },
  line_pay: { type: "line_pay", email: "test@example.com" },
  merpay: { type: "merpay", email: "test@example.com" },
  paidy: { type: "paidy", email: "test@example.com" },
  happy_money: { type: "happy_money", happy_money_id: "11111111", happy_money_password: "11111111" },
  culture_voucher: { type: "culture_voucher", culture_id: "11111111", culture_password: "11111111" },
}

/** The currency each method's seed example uses. */
export const CURRENCY: Record<string, string> = { mobile: "KRW", happy_money: "KRW", culture_voucher: "KRW" }

/** Seed 000's refund request, as its curl tab sends it. */
export const REFUND_REQUEST_000 = ["account_number=1234567", "account_type=normal", "amount=1000", "bank_code=1234", "bank_name=KOMOJU BANK", "branch_number=123", "branch_name=KOMOJU BRANCH", "customer_name=John Doe", "include_payment_method_fee=true"]
/** Seed 001's older refund request example (no bank_code or branch_name; 8-digit account, 4-digit branch). */
export const REFUND_REQUEST_001 = ["account_number=12345678", "account_type=normal", "amount=1000", "bank_name=KOMOJU BANK", "branch_number=1234", "customer_name=John Doe", "include_payment_method_fee=true"]
