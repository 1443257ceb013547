/**
 * ISO 4217 currency table: every active code with its minor-unit exponent (the number of decimals
 * the currency allows). Gateways may be stricter (Stripe treats ISK and HUF specially); that is their
 * business, at their edge. Source: ISO 4217 list one (SIX), 2024 edition.
 *
 * @module
 */

import { invalidRequest } from './errors';

const ZERO_DECIMAL = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const THREE_DECIMAL = 'BHD IQD JOD KWD LYD OMR TND';
const FOUR_DECIMAL = 'CLF UYW';
const TWO_DECIMAL =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
  'CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL ' +
  'GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD ' +
  'LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN ' +
  'PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL ' +
  'THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL';

function table(): ReadonlyMap<string, number> {
  const map = new Map<string, number>();
  const add = (codes: string, exponent: number) => {
    for (const code of codes.split(/\s+/)) if (code) map.set(code, exponent);
  };
  add(TWO_DECIMAL, 2);
  add(ZERO_DECIMAL, 0);
  add(THREE_DECIMAL, 3);
  add(FOUR_DECIMAL, 4);
  return map;
}

/** Every known ISO 4217 code mapped to its minor-unit exponent. */
export const CURRENCY_EXPONENTS: ReadonlyMap<string, number> = table();

/** True when `code` is a known ISO 4217 currency (upper case). */
export function isCurrency(code: string): boolean {
  return CURRENCY_EXPONENTS.has(code);
}

/**
 * The minor-unit exponent of a currency (MYR 2, JPY 0, KWD 3).
 * @throws TenderError `invalid_currency` for an unknown code.
 */
export function currencyExponent(code: string): number {
  const exponent = CURRENCY_EXPONENTS.get(code);
  if (exponent === undefined) throw unknownCurrency(code);
  return exponent;
}

function unknownCurrency(code: string) {
  return invalidRequest('invalid_currency', `Unknown ISO 4217 currency '${code}'`, 'currency');
}
