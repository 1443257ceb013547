/**
 * What Stripe takes: the payment methods this package's `createPayment` handles, the presentment
 * currencies, and the largest `amount` per currency. Source: Stripe, "Supported currencies",
 * https://docs.stripe.com/currencies (sections "Supported presentment currencies", "Three-decimal
 * currencies" and "Maximum charge amounts").
 *
 * @module
 */
import { currencyExponent } from '@tender/core';
import { stripeDecimals } from './amounts';

/**
 * Payment method names `createPayment` handles: a Stripe PaymentMethod id (`pm_...`, confirmed as a
 * card) and `card` (an unconfirmed card PaymentIntent for Stripe.js). Any other name (`UPI`, `FPX`) is
 * not something this package can send to Stripe, so routing never picks Stripe for it.
 */
export const STRIPE_PAYMENT_METHODS: readonly string[] = ['card', 'CARD', 'pm_*'];

/**
 * Stripe's presentment currencies (upper case): the "Supported presentment currencies" list, plus the
 * three-decimal currencies the API supports for PaymentIntents and refunds (BHD, JOD, KWD, OMR, TND).
 * Whether one is available also depends on the account's country; Stripe answers that itself.
 */
export const STRIPE_CURRENCIES: readonly string[] = (
  'USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BIF BMD BND BOB BRL BSD BWP BYN BZD CAD CDF CHF CLP CNY COP ' +
  'CRC CVE CZK DJF DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR ISK JMD JPY ' +
  'KES KGS KHR KMF KRW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK ' +
  'NPR NZD PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SEK SGD SHP SLE SOS SRD STD SZL THB TJS TOP TRY ' +
  'TTD TWD TZS UAH UGX UYU UZS VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ' +
  'BHD JOD KWD OMR TND'
).split(' ');

/**
 * The largest `amount` Stripe takes, in Stripe's own smallest unit: "12 digits for IDR", "10 digits for
 * COP", "9 digits for INR", "8 digits for all other currencies, for a maximum charge of 999,999.99
 * (99999999)" (Maximum charge amounts, "Other payment methods"). Card networks allow more for some
 * currencies; these are the limits every payment method shares, and the PaymentIntent `amount`
 * reference's "supports up to eight digits" for the rest.
 */
export const STRIPE_MAX_AMOUNT: Readonly<Record<string, number>> = { IDR: 999_999_999_999, COP: 9_999_999_999, INR: 999_999_999, '*': 99_999_999 };

/** {@link STRIPE_MAX_AMOUNT} for one currency (upper case), in Stripe's smallest unit. */
export function stripeMaxAmount(currency: string): number {
  return STRIPE_MAX_AMOUNT[currency.toUpperCase()] ?? STRIPE_MAX_AMOUNT['*']!;
}

/**
 * The same limits in ISO 4217 minor units (what the engine's routing compares), per currency: they
 * differ from Stripe's units where Stripe's decimals differ from ISO's (ISK and UGX are two-decimal at
 * Stripe and zero-decimal in ISO, MGA the other way round).
 */
export function stripeMaxAmountMinor(): Record<string, number> {
  const limits: Record<string, number> = { '*': STRIPE_MAX_AMOUNT['*']! };
  for (const currency of STRIPE_CURRENCIES) {
    let iso: number;
    try {
      iso = currencyExponent(currency);
    } catch {
      continue; // not in Tender's ISO table: Tender cannot express an amount in it anyway
    }
    const shift = iso - stripeDecimals(currency);
    const max = stripeMaxAmount(currency);
    limits[currency] = shift >= 0 ? max * 10 ** shift : Math.floor(max / 10 ** -shift);
  }
  return limits;
}
