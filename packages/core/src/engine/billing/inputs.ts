/**
 * Validation of the billing operations' inputs. Everything here throws a 400 `invalid_request_error`
 * naming the field (in the REST API's spelling) before any I/O, so bad input changes nothing.
 *
 * @module
 */
import { invalidRequest } from '../../errors';

/** Longest `user_id`, saved method token, price id or Tender id accepted. */
const MAX_ID_LENGTH = 255;
/** Control characters (C0, DEL, C1): never part of an id. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Stripe's limit on `trial_period_days` (https://docs.stripe.com/api/subscriptions/create#create_subscription-trial_period_days). */
export const MAX_TRIAL_DAYS = 730;
/** Largest `quantity` accepted for one subscription item. */
export const MAX_QUANTITY = 10_000;

/**
 * A required identifier: a non-empty string of at most 255 printable characters, not only spaces.
 * The value is never echoed in the error (a `user_id` may be personal data).
 */
export function requiredId(value: unknown, param: string): string {
  if (value === undefined || value === null || value === '') throw invalidRequest('parameter_missing', `${param} is required`, param);
  if (typeof value !== 'string') throw invalidRequest('invalid_string', `${param} must be a string`, param);
  if (value.trim().length === 0) throw invalidRequest('invalid_string', `${param} must not be blank`, param);
  if (value.length > MAX_ID_LENGTH) throw invalidRequest('string_too_long', `${param} must be at most ${MAX_ID_LENGTH} characters`, param);
  if (CONTROL.test(value)) throw invalidRequest('invalid_string', `${param} must contain printable characters only`, param);
  return value;
}

/** An optional identifier (absent, null or empty: null), else as {@link requiredId}. */
export function optionalId(value: unknown, param: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  return requiredId(value, param);
}

/** An optional free-text field (name, email) of at most `max` characters without control characters. */
export function optionalText(value: unknown, param: string, max: number): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalidRequest('invalid_string', `${param} must be a string`, param);
  if (value.length > max) throw invalidRequest('string_too_long', `${param} must be at most ${max} characters`, param);
  if (CONTROL.test(value)) throw invalidRequest('invalid_string', `${param} must not contain control characters`, param);
  return value;
}

/** An optional email address; the address itself never appears in the error. */
export function optionalEmail(value: unknown, param = 'email'): string | null {
  const email = optionalText(value, param, 254);
  if (email !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalidRequest('invalid_email', `${param} is not a valid email address`, param);
  return email;
}

/** An optional boolean (absent: `fallback`). */
export function optionalBoolean(value: unknown, param: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalidRequest('invalid_boolean', `${param} must be true or false`, param);
  return value;
}

/** An optional integer within [min, max] (absent: null). */
export function optionalInteger(value: unknown, param: string, min: number, max: number): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidRequest('invalid_integer', `${param} must be an integer from ${min} to ${max}`, param);
  }
  return value;
}

/**
 * A token as the browser's gateway-hosted fields produce it (Stripe `pm_...`). Something shaped like
 * a card number is refused as raw card data, and is not repeated in the error.
 */
export function gatewayToken(value: unknown, param: string): string {
  const token = requiredId(value, param);
  if (/^[\d\s-]{12,}$/.test(token) && token.replace(/\D/g, '').length >= 12) {
    throw invalidRequest(
      'raw_card_data_not_allowed',
      `${param} looks like a card number. Tender never takes card data: collect the card with the gateway's hosted fields (Stripe Elements) and send the token it returns`,
      param,
    );
  }
  return token;
}

/** A page size: 1–100, default 20 (`invalid_limit` otherwise, as `tender.payments.list` answers). */
export function pageLimit(value: unknown): number {
  if (value === undefined || value === null) return 20;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100) throw invalidRequest('invalid_limit', 'limit must be an integer from 1 to 100', 'limit');
  return value;
}

/** The input object itself (a REST body that is not an object is a 400). */
export function requireObject<T>(input: T): T {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidRequest('invalid_body', 'The request body must be an object');
  return input;
}
