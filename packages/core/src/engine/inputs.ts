/**
 * The engine's request shapes and their validation. Everything here throws a 400 TenderError naming
 * the field at fault; nothing is stored for a request that fails validation.
 *
 * @module
 */
import { invalidRequest } from '../errors';
import { Money, normaliseCurrency, type AmountInput } from '../money';
import { UPI_VPA, type Actor, type CaptureMethod, type Customer } from '../payment';
import { optionalBoolean } from './billing/inputs';
import type { RiskSignals } from '../risk/types';

/** Input of `tender.payments.create`. Give exactly one of `amount` (major units) or `amountMinor`. */
export interface CreatePaymentInput {
  /** Major units as a decimal string (`"100.50"`) or a number (converted from its text, never float math). */
  amount?: AmountInput;
  /** Minor units as an integer (as in `amount_paisa`: paise, for INR). */
  amountMinor?: number | string;
  currency: string;
  /** Our method name (`FPX`, `GRABPAY`, `card`, `upi`...) or a gateway token such as a Stripe `pm_...` id. */
  paymentMethod?: string | null;
  /** Force a gateway; otherwise routing rules pick one. */
  gateway?: string | null;
  captureMethod?: CaptureMethod;
  orderId?: string | null;
  description?: string | null;
  customer?: Customer;
  returnUrl?: string | null;
  notifyUrl?: string | null;
  metadata?: Record<string, string>;
  /**
   * The merchant's user paying (`user_id`): the payment is listed under the user, and a saved method
   * given as `paymentMethod` must be this user's.
   */
  userId?: string | null;
  /**
   * With a saved method (`paymentMethod: "spm_..."`, or a token saved for `userId`): whether the
   * customer is absent, a merchant-initiated charge (Stripe `off_session`). Default true. A card that
   * needs the customer's authentication then fails with the gateway's `authentication_required`.
   */
  offSession?: boolean;
  /**
   * `false` stores the payment `PENDING` without calling the gateway; `tender.payments.authorize`
   * starts it later (two-step authorize). Default true.
   */
  confirm?: boolean;
  /**
   * Signals for the risk engine (`createTender({ risk })`): the client's IP and device, a card
   * fingerprint, the payer's country. Personal data: hashed for velocity counts, never stored on the
   * payment or logged. Ignored when the engine has no risk engine.
   */
  risk?: RiskSignals;
}

/** Input of `tender.payments.review`: an admin's decision on a payment held `REQUIRES_REVIEW`. */
export interface ReviewInput {
  /** `approve` sends the payment on to its gateway as its create would have; `decline` fails it (`risk_declined`). */
  decision: 'approve' | 'decline';
  /** Why, recorded on the audit trail (at most 500 characters). */
  reason?: string | null;
}

/** Input of `tender.payments.capture`. Without `amount`, the whole authorised amount is captured. */
export interface CaptureInput {
  amount?: AmountInput;
}

/** Input of `tender.payments.refund`. Without `amount`, everything not yet refunded is refunded. */
export interface RefundInput {
  amount?: AmountInput;
  reason?: string | null;
  metadata?: Record<string, string>;
}

/** Per-call options. */
export interface RequestOptions {
  /** The merchant the call acts for (default: the engine's `defaultMerchantId`). */
  merchantId?: string;
  /** Makes the call idempotent (Stripe semantics). */
  idempotencyKey?: string;
  /** Recorded on the audit trail (default `api`). */
  actor?: Actor;
  /** Called when the result is a replay of an earlier call with the same key. */
  onReplay?: () => void;
}

/** @internal A create request after validation. */
export interface ValidCreate {
  amount: Money;
  paymentMethod: string | null;
  gateway: string | null;
  captureMethod: CaptureMethod;
  orderId: string | null;
  description: string | null;
  customer: Customer;
  returnUrl: string | null;
  notifyUrl: string | null;
  metadata: Record<string, string>;
  userId: string | null;
  /** As given; null when absent (a saved-method charge then defaults to off-session). */
  offSession: boolean | null;
  confirm: boolean;
}

function optionalString(value: unknown, param: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidRequest('invalid_string', `${param} must be a string`, param);
  const trimmed = value.trim();
  if (trimmed.length === 0) return null;
  if (trimmed.length > max) throw invalidRequest('string_too_long', `${param} must be at most ${max} characters`, param);
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw invalidRequest('invalid_string', `${param} must not contain control characters`, param);
  return trimmed;
}

function optionalUrl(value: unknown, param: string): string | null {
  const text = optionalString(value, param, 2048);
  if (text === null) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidRequest('invalid_url', `${param} must be an absolute http(s) URL`, param);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidRequest('invalid_url', `${param} must be an absolute http(s) URL`, param);
  return text;
}

/**
 * Validates the merchant's id for a user (`user_id`): 1–255 characters, not only spaces, no control
 * characters. Kept exactly as given (not trimmed): it is the merchant's key for the user.
 * @throws TenderError 400 `invalid_user_id` naming `param`.
 */
export function validateUserId(value: unknown, param = 'user_id'): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 255 || /[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw invalidRequest('invalid_user_id', `${param} must be 1-255 printable characters`, param);
  }
  return value;
}

/** Validates merchant metadata: at most 50 string pairs, keys ≤ 40 and values ≤ 500 characters. */
export function validateMetadata(value: unknown, param = 'metadata'): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest('invalid_metadata', 'metadata must be an object of strings', param);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 50) throw invalidRequest('invalid_metadata', 'metadata may have at most 50 keys', param);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 40) throw invalidRequest('invalid_metadata', 'metadata keys must be 1-40 characters', `${param}[${k}]`);
    if (typeof v !== 'string' || v.length > 500) throw invalidRequest('invalid_metadata', 'metadata values must be strings of at most 500 characters', `${param}[${k}]`);
    out[k] = v;
  }
  return out;
}

function validateCustomer(value: unknown): Customer {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest('invalid_customer', 'customer must be an object', 'customer');
  const c = value as Record<string, unknown>;
  const customer: Customer = {};
  const name = optionalString(c.name, 'bill_name', 128);
  const email = optionalString(c.email, 'bill_email', 254);
  const phone = optionalString(c.phone, 'bill_mobile', 32);
  if (email !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalidRequest('invalid_email', 'bill_email is not a valid email address', 'bill_email');
  if (phone !== null && !/^\+?[0-9 ()-]{5,32}$/.test(phone)) throw invalidRequest('invalid_phone', 'bill_mobile is not a valid phone number', 'bill_mobile');
  const vpa = optionalString(c.vpa, 'vpa', 255);
  if (vpa !== null && !UPI_VPA.test(vpa)) throw invalidRequest('invalid_vpa', 'vpa is not a valid UPI address (name@psp)', 'vpa');
  if (name !== null) customer.name = name;
  if (email !== null) customer.email = email;
  if (phone !== null) customer.phone = phone;
  if (vpa !== null) customer.vpa = vpa;
  return customer;
}

/** @internal Validates a create request. */
export function validateCreate(input: CreatePaymentInput): ValidCreate {
  if (typeof input !== 'object' || input === null) throw invalidRequest('invalid_body', 'The request body must be an object');
  const currency = normaliseCurrency(input.currency);
  let amount: Money;
  if (input.amount !== undefined && input.amount !== null && input.amountMinor !== undefined && input.amountMinor !== null) {
    throw invalidRequest('ambiguous_amount', 'Give either amount or amount_minor, not both', 'amount');
  }
  if (input.amountMinor !== undefined && input.amountMinor !== null) amount = Money.fromMinor(input.amountMinor, currency, 'amount_minor');
  else if (input.amount !== undefined && input.amount !== null) amount = Money.of(input.amount, currency);
  else throw invalidRequest('parameter_missing', 'amount is required', 'amount');
  if (amount.isZero()) throw invalidRequest('amount_too_small', 'amount must be greater than zero', 'amount');
  // Every stored payment must convert to minor units (gateways and the REST layer need it), so the
  // limit is checked before anything is written; gateways' own maxima are checked by routing.
  try {
    amount.toMinor();
  } catch {
    throw invalidRequest('amount_too_large', `amount is larger than any gateway takes (at most ${Number.MAX_SAFE_INTEGER} minor units of ${currency})`, input.amountMinor != null ? 'amount_minor' : 'amount');
  }
  const confirm = optionalBoolean(input.confirm, 'confirm', true);
  // A payment authorised later is captured later too (seed 004: create, authorize, capture).
  const captureMethod = input.captureMethod ?? (confirm ? 'automatic' : 'manual');
  if (captureMethod !== 'automatic' && captureMethod !== 'manual') {
    throw invalidRequest('invalid_capture_method', "capture_method must be 'automatic' or 'manual'", 'capture_method');
  }
  return {
    amount,
    paymentMethod: optionalString(input.paymentMethod, 'payment_method', 64),
    gateway: optionalString(input.gateway, 'gateway', 32),
    captureMethod,
    orderId: optionalString(input.orderId, 'order_id', 64),
    description: optionalString(input.description, 'bill_description', 500),
    customer: validateCustomer(input.customer),
    returnUrl: optionalUrl(input.returnUrl, 'return_url'),
    notifyUrl: optionalUrl(input.notifyUrl, 'notify_url'),
    metadata: validateMetadata(input.metadata),
    userId: input.userId === undefined || input.userId === null ? null : validateUserId(input.userId),
    offSession: input.offSession === undefined || input.offSession === null ? null : optionalBoolean(input.offSession, 'off_session', true),
    confirm,
  };
}

/** @internal Validates an optional amount against a currency. */
export function optionalAmount(value: AmountInput | undefined | null, currency: string): Money | null {
  if (value === undefined || value === null) return null;
  const amount = Money.of(value, currency);
  if (amount.isZero()) throw invalidRequest('amount_too_small', 'amount must be greater than zero', 'amount');
  return amount;
}

/** @internal */
export function optionalReason(value: unknown): string | null {
  return optionalString(value, 'reason', 500);
}
