/**
 * Pure mappings between Fiuu's wire fields and Tender's shapes: amounts, status tables, error
 * codes, form and text bodies.
 *
 * @module
 */
import { currencyExponent, invalidRequest, Money } from '@tender/core';
import type { CaptureMethod, FailureReason, PaymentStatus, RefundStatus } from '@tender/core';

/**
 * Formats an amount the way Fiuu wants it: major units with exactly two decimals, no separators
 * (`"10.00"`, `"25000.00"` for VND/IDR: Fiuu applies no minor-unit conversion, Fiuu API Spec v13.86 amount fields).
 * @throws TenderError `amount_too_precise` for a currency with more decimals than Fiuu carries.
 */
export function formatAmount(money: Money): string {
  const text = money.toString();
  const [whole, fraction = ''] = text.split('.');
  if (fraction.length > 2 && /[1-9]/.test(fraction.slice(2))) {
    throw invalidRequest('amount_too_precise', `Fiuu amounts carry 2 decimals; ${text} ${money.currency} has more`, 'amount');
  }
  return `${whole}.${fraction.slice(0, 2).padEnd(2, '0')}`;
}

/**
 * The largest amount Fiuu's amount fields carry, in major units: `n{10,2}` (Fiuu API Spec v13.86:
 * `amount` of the payment request and results, refund `Amount`; Appendix A reads `{y,x}` as y integer
 * digits and x decimals), so ten integer digits and two decimals.
 */
export const FIUU_MAX_AMOUNT = '9999999999.99';

/**
 * {@link FIUU_MAX_AMOUNT} in each currency's ISO 4217 minor units (what the engine's routing compares):
 * `999999999999` for a two-decimal currency, `9999999999` for a zero-decimal one (VND), plus `'*'`.
 */
export function fiuuMaxAmountMinor(currencies: readonly string[]): Record<string, number> {
  const limits: Record<string, number> = { '*': 999_999_999_999 };
  for (const currency of currencies) {
    const exponent = currencyExponent(currency);
    // 9999999999.99 major units, truncated to what the currency's minor unit can express.
    limits[currency] = exponent >= 2 ? 999_999_999_999 * 10 ** (exponent - 2) : Math.floor(9_999_999_999.99 * 10 ** exponent);
  }
  return limits;
}

/** Parses an amount Fiuu sent (`"10.00"`, `"25000.00"`, `"500"`) into Money, dropping zero decimals the currency lacks. */
export function parseAmount(text: string, currency: string): Money {
  const trimmed = String(text).trim().replace(/,/g, '');
  const m = /^([0-9]+)(?:\.([0-9]*))?$/.exec(trimmed);
  if (!m) throw invalidRequest('invalid_amount', `Fiuu sent an invalid amount '${text}'`, 'amount');
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  return Money.of(fraction ? `${m[1]}.${fraction}` : m[1]!, currency);
}

/**
 * Maps a payment-result `status` to ours. Success is `CAPTURED`, or `AUTHORIZED` for a pre-auth
 * (`tcctype=AUTH`); pending is `PROCESSING` (the customer is at the bank; the reconciler requeries).
 */
export function paymentStatusFromCode(status: string, preAuth: boolean): PaymentStatus {
  switch (status) {
    case '00':
      return preAuth ? 'AUTHORIZED' : 'CAPTURED';
    case '11':
      return 'FAILED';
    case '22':
      return 'PROCESSING';
    default:
      throw invalidRequest('invalid_status', `Unknown Fiuu status '${status}'`, 'status');
  }
}

const SUCCESS_NAMES: Record<string, PaymentStatus> = { captured: 'CAPTURED', settled: 'CAPTURED', authorized: 'AUTHORIZED' };
const FAILURE_NAMES = new Set(['failed', 'cancelled', 'canceled', 'chargeback', 'release', 'reject/hold', 'blocked', 'reqcancel', 'reqchargeback']);

/**
 * Maps a requery answer (`StatCode` + `StatName`, Fiuu API Spec v13.86 p.67) to ours. `StatName` (Fiuu's own word for
 * the transaction: `captured`, `settled`, `authorized`) refines a success; without one, a success
 * means what the stored payment's capture method says: an authorisation for a manual-capture payment
 * (it was created with `tcctype=AUTH`), a sale otherwise.
 * @param captureMethod - the payment's capture method as stored at create; absent for old payments.
 */
export function paymentStatusFromRequery(statCode: string, statName: string | null | undefined, captureMethod?: CaptureMethod | null): PaymentStatus {
  const name = (statName ?? '').trim().toLowerCase();
  if (statCode === '00') return SUCCESS_NAMES[name] ?? (captureMethod === 'manual' ? 'AUTHORIZED' : 'CAPTURED');
  if (statCode === '11') return name === 'cancelled' || name === 'canceled' || name === 'reqcancel' ? 'CANCELLED' : 'FAILED';
  if (statCode === '22') return 'PROCESSING';
  if (SUCCESS_NAMES[name]) return SUCCESS_NAMES[name]!;
  if (FAILURE_NAMES.has(name)) return 'FAILED';
  return 'PROCESSING';
}

/** Refund `Status` (`00`/`11`/`22`, or the inquiry words `pending`/`processing`/`rejected`/`success`) to ours. */
export function refundStatusFromFiuu(status: string | null | undefined): RefundStatus {
  switch ((status ?? '').trim().toLowerCase()) {
    case '00':
    case 'success':
    case 'successful':
      return 'SUCCEEDED';
    case '11':
    case 'rejected':
    case 'failed':
      return 'FAILED';
    default:
      return 'PENDING';
  }
}

/** Payment-page error descriptions (Fiuu API Spec v13.86 p.132–134), for failures Fiuu reports without a text. */
export const PAYMENT_ERROR_CODES: Readonly<Record<string, string>> = {
  P01: 'Payment timeout',
  P02: 'Merchant account issue or channel not available',
  P03: 'Incorrect vcode',
  P04: 'Incomplete or fake buyer information',
  P05: 'Invalid channel',
  P06: 'System busy',
  P07: 'Access denied or URL not registered',
  P09: 'Duplicate payment',
  P11: 'Amount mismatch from bank',
  P13: 'Currency not supported',
  P14: 'Amount below minimum',
  P15: 'Amount above maximum',
  '01': 'Unsuccessful: the customer did not authorise',
  '33': 'Payment window expired',
  '99': 'Record not found or the customer did not proceed',
};

/** A failure reason from a result's `error_code` / `error_desc`. */
export function failureFrom(errorCode: string | null | undefined, errorDesc: string | null | undefined, status: string): FailureReason {
  const code = errorCode && errorCode.trim() ? errorCode.trim() : status;
  const message = errorDesc && errorDesc.trim() ? errorDesc.trim() : (PAYMENT_ERROR_CODES[code] ?? 'Payment failed at Fiuu');
  return { code, message };
}

/** Decodes a form-encoded body into an ordered list of pairs (for echoing back unchanged) and a map. */
export function parseForm(body: Uint8Array | string): { pairs: Array<[string, string]>; fields: Record<string, string> } {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const pairs: Array<[string, string]> = [];
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of new URLSearchParams(text)) {
    pairs.push([k, v]);
    fields[k] = v;
  }
  return { pairs, fields };
}

/**
 * Parses a Fiuu API answer that may be JSON, `Key=value` lines (gate-query, reversal) or
 * `Key: value` lines (q_by_tid text mode). Only the first separator splits, so times survive.
 */
export function parseApiBody(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed) as Record<string, unknown>;
  if (trimmed.startsWith('[')) {
    const list = JSON.parse(trimmed) as unknown[];
    const first = list[0];
    return typeof first === 'object' && first !== null && !Array.isArray(first) ? (first as Record<string, unknown>) : {};
  }
  const out: Record<string, unknown> = {};
  for (const line of trimmed.split(/\r?\n|&/)) {
    const m = /^\s*([A-Za-z0-9_]+)\s*[=:]\s?(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** A field of a parsed API answer as a string ('' when absent or null). */
export function str(record: Record<string, unknown>, ...names: string[]): string {
  for (const name of names) {
    const value = record[name];
    if (value !== undefined && value !== null) return String(value);
  }
  return '';
}

/** Parses `extraP` (a JSON-encoded string, Fiuu API Spec v13.86 p.128–131); null when absent or not JSON. */
export function parseExtraP(raw: string | undefined): Record<string, unknown> | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
