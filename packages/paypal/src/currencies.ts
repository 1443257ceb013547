/**
 * What PayPal accepts: its currency list (https://developer.paypal.com/api/rest/reference/currency-codes/)
 * and its largest amount (an Orders v2 `amount.value` above 999999999.99 is refused with
 * `MAX_VALUE_EXCEEDED`, https://developer.paypal.com/api/rest/reference/orders/v2/errors/).
 *
 * @module
 */
import { currencyExponent } from '@tender/core';
import { paypalDecimals } from './amounts';

/** ISO 4217 codes PayPal's REST APIs take (BRL, MYR: in-country accounts only). */
export const PAYPAL_CURRENCIES: readonly string[] = Object.freeze([
  'AUD', 'BRL', 'CAD', 'CNY', 'CZK', 'DKK', 'EUR', 'HKD', 'HUF', 'ILS', 'JPY', 'MYR',
  'MXN', 'TWD', 'NZD', 'NOK', 'PHP', 'PLN', 'GBP', 'SGD', 'SEK', 'CHF', 'THB', 'USD',
]);

/** Payment methods this gateway accepts: PayPal checkout (the buyer approves on PayPal). */
export const PAYPAL_PAYMENT_METHODS: readonly string[] = Object.freeze(['paypal']);

/** The largest `amount.value` PayPal takes, in major units. */
export const PAYPAL_MAX_VALUE = '999999999.99';

/** PayPal's largest amount in Tender's minor units of `currency` (ISO exponent). */
export function paypalMaxAmountMinor(currency: string): number {
  const iso = currencyExponent(currency);
  const decimals = paypalDecimals(currency);
  // 999999999.99 in PayPal's decimals, then scaled to ISO minor units.
  const inPayPalUnits = decimals === 0 ? 999_999_999 : 99_999_999_999;
  return inPayPalUnits * 10 ** Math.max(0, iso - decimals);
}

/** {@link paypalMaxAmountMinor} for every currency PayPal takes (the gateway's `maxAmountMinor`). */
export function paypalMaxAmountTable(): Readonly<Record<string, number>> {
  return Object.freeze(Object.fromEntries(PAYPAL_CURRENCIES.map((c) => [c, paypalMaxAmountMinor(c)])));
}
