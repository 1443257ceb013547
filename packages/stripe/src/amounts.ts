/**
 * Money <-> Stripe's integer "smallest currency unit" (https://docs.stripe.com/currencies). Stripe's decimals differ from
 * ISO 4217 for a few currencies, so nothing here multiplies by 100 blindly: a JPY amount is sent as
 * is, a KWD amount in fils whose last digit must be 0, an ISK or UGX amount ×100 and whole.
 * Source: Stripe, "Supported currencies", https://docs.stripe.com/currencies (sections "Zero-decimal
 * currencies", "Three-decimal currencies" and "Special cases").
 *
 * @module
 */
import { currencyExponent, invalidRequest, Money, normaliseCurrency } from '@tender/core';

/**
 * Currencies whose Stripe `amount` has no minor unit. UGX is not one, although Stripe lists it among
 * the zero-decimal currencies: see {@link WHOLE_UNITS_ONLY}.
 */
export const STRIPE_ZERO_DECIMAL: ReadonlySet<string> = new Set(
  'BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF'.split(' '),
);

/** Currencies Stripe takes in thousandths whose last digit must be 0 ("round to the nearest ten"). */
export const STRIPE_THREE_DECIMAL: ReadonlySet<string> = new Set('BHD JOD KWD OMR TND'.split(' '));

/**
 * Two-decimal in Stripe's API, yet only whole units may be charged: the "Special cases" of
 * https://docs.stripe.com/currencies#special-cases. ISK and UGX are zero-decimal now, but for backwards
 * compatibility Stripe keeps their API amounts two-decimal with the decimals always 00 (5 UGX is
 * `amount=500`) and refuses amounts not divisible by 100.
 */
const WHOLE_UNITS_ONLY: ReadonlySet<string> = new Set(['ISK', 'UGX']);

/** Number of decimals Stripe's `amount` field uses for a currency (upper-case code). */
export function stripeDecimals(currency: string): number {
  if (STRIPE_ZERO_DECIMAL.has(currency)) return 0;
  if (STRIPE_THREE_DECIMAL.has(currency)) return 3;
  return 2;
}

/**
 * Converts Money to Stripe's integer amount.
 * @throws TenderError `amount_not_supported` when Stripe cannot represent the amount exactly
 *   (KWD 5.125, MGA 10.50, ISK 10.5): rejected, never rounded.
 */
export function toStripeAmount(money: Money): number {
  const decimals = stripeDecimals(money.currency);
  const minor = money.toMinorBigInt();
  const shift = decimals - money.exponent;
  let amount: bigint;
  if (shift >= 0) {
    amount = minor * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    if (minor % divisor !== 0n) throw unsupported(money, `Stripe takes ${money.currency} with ${decimals} decimals`);
    amount = minor / divisor;
  }
  if (decimals === 3 && amount % 10n !== 0n) {
    throw unsupported(money, `Stripe requires ${money.currency} amounts to end in 0 (a multiple of 0.010)`);
  }
  if (WHOLE_UNITS_ONLY.has(money.currency) && amount % 100n !== 0n) {
    throw unsupported(money, `Stripe only accepts whole ${money.currency} amounts`);
  }
  if (amount > BigInt(Number.MAX_SAFE_INTEGER)) throw unsupported(money, 'Amount is too large for Stripe');
  return Number(amount);
}

/** Converts a Stripe integer amount and (any-case) currency code back to Money. */
export function fromStripeAmount(amount: number, currency: string): Money {
  const code = normaliseCurrency(currency);
  const decimals = stripeDecimals(code);
  const shift = currencyExponent(code) - decimals;
  if (shift === 0) return Money.fromMinor(amount, code);
  if (shift > 0) return Money.fromMinor(BigInt(amount) * 10n ** BigInt(shift), code);
  // Stripe has more decimals than ISO (ISK, UGX): exact division is guaranteed by Stripe's own rule.
  return Money.of(decimalText(BigInt(amount), decimals), code);
}

function decimalText(value: bigint, decimals: number): string {
  const digits = value.toString().padStart(decimals + 1, '0');
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`.replace(/\.?0+$/, '') || '0';
}

function unsupported(money: Money, why: string) {
  return invalidRequest('amount_not_supported', `${why}; got ${money.toString()} ${money.currency}`, 'amount');
}
