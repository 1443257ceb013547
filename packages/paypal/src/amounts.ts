/**
 * Amounts on PayPal's wire: decimal strings with PayPal's own number of decimals per currency
 * (https://developer.paypal.com/api/rest/reference/currency-codes/). HUF, JPY and TWD take no decimals
 * on PayPal ("Decimal amounts cause an error"), even though ISO 4217 gives HUF and TWD two.
 *
 * @module
 */
import { invalidRequest, Money } from '@tender/core';

/** Currencies PayPal takes only in whole units. */
export const PAYPAL_ZERO_DECIMAL: ReadonlySet<string> = new Set(['HUF', 'JPY', 'TWD']);

/** PayPal's number of decimals for a currency (0 for HUF, JPY, TWD; 2 for the rest of its list). */
export function paypalDecimals(currency: string): number {
  return PAYPAL_ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2;
}

/**
 * Money as PayPal's `value` string (`"10.50"`, `"1500"` for JPY, `"100"` for HUF).
 * @throws TenderError `invalid_request_error` `amount_not_supported` (param `amount`) when the amount
 *   has decimals PayPal does not take (HUF 100.50).
 */
export function toPayPalValue(money: Money, param = 'amount'): string {
  const decimals = paypalDecimals(money.currency);
  if (decimals >= money.exponent) return money.toString();
  const minor = money.toMinorBigInt();
  const unit = 10n ** BigInt(money.exponent - decimals);
  if (minor % unit !== 0n) {
    throw invalidRequest(
      'amount_not_supported',
      `PayPal takes ${money.currency} in whole units only (no decimals); got ${money.toString()}`,
      param,
    );
  }
  return (minor / unit).toString();
}

/** PayPal's `{ currency_code, value }` for Money. */
export function toPayPalMoney(money: Money, param = 'amount'): { currency_code: string; value: string } {
  return { currency_code: money.currency, value: toPayPalValue(money, param) };
}

/** A PayPal `{ currency_code, value }` as Money (throws `invalid_amount` for a value that is not a decimal). */
export function fromPayPalMoney(amount: { currency_code: string; value: string }): Money {
  return Money.of(amount.value, amount.currency_code.toUpperCase());
}
