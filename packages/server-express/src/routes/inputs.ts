/**
 * Wire bodies to engine inputs: the names of the wire (snake_case, with the common aliases) mapped to
 * what `createTender`'s payments take. Shared by the REST routes and the gRPC service, so both
 * refuse and accept the same bodies.
 *
 * @module
 */
import { Money, TenderError, type CaptureInput, type CreatePaymentInput, type RefundInput, type Tender } from '@tender/core';
import type { CaptureBody, CreatePaymentBody, RefundBody } from '../schemas';
import { compact } from './shared';

function minorAmount(body: { amount_paisa?: string | number | null; amount_minor?: string | number | null }): string | number | undefined {
  if (body.amount_paisa != null && body.amount_minor != null) {
    throw new TenderError({ type: 'invalid_request_error', code: 'ambiguous_amount', message: 'Give either amount_paisa or amount_minor, not both', param: 'amount_minor' });
  }
  return body.amount_paisa ?? body.amount_minor ?? undefined;
}

/**
 * One value given under either of two names (a common alias and Tender's); two different values are refused.
 * @throws TenderError 400 `ambiguous_parameter`.
 */
export function eitherName(value: string | null | undefined, name: string, alias: string | null | undefined, aliasName: string): string | undefined {
  if (value != null && alias != null && value !== alias) {
    throw new TenderError({ type: 'invalid_request_error', code: 'ambiguous_parameter', message: `Give either ${name} or ${aliasName} (the same value), not two different ones`, param: aliasName });
  }
  return value ?? alias ?? undefined;
}

/** Keys of raw card data: refused wherever they appear, and never echoed or logged. */
const CARD_DATA_KEYS = /^(card|card_?number|number|pan|cvv|cvc|cvv2|cvc2|security_?code|expiry_?(month|year|date)?|exp_?(month|year)|track_?\d?)$/i;

const RAW_CARD_DATA_MESSAGE =
  'Raw card data is never accepted: collect cards with the gateway\'s hosted fields (Stripe Elements, Fiuu seamless) and send the token they give (payment_method: "pm_...")';

/** 13-19 digits, optionally grouped by spaces or dashes: the shape of a card number. */
const PAN_SHAPE = /^[0-9](?:[ -]?[0-9]){12,18}$/;

/** True for a string shaped like a card number that passes the Luhn check (ISO/IEC 7812-1). */
function looksLikePan(value: string): boolean {
  if (!PAN_SHAPE.test(value)) return false;
  const digits = value.replace(/[ -]/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Refuses raw card data anywhere in `value` (nested objects and arrays included): a key of card data
 * (`card_number`, `cvv`, `expiry_month`...), or with `values`, a string shaped like a card number.
 * The error names `param` (or, when it is empty, the path where it was found), never what: no value is echoed, so the number reaches
 * neither the answer nor a log line, and the request stops before the engine stores anything.
 * @throws TenderError 400 `raw_card_data_not_allowed`.
 */
export function assertNoCardData(value: unknown, param: string, options: { values?: boolean } = {}): void {
  const found = cardDataPath(value, param, options.values === true, 0);
  if (found !== null) {
    throw new TenderError({ type: 'invalid_request_error', code: 'raw_card_data_not_allowed', message: RAW_CARD_DATA_MESSAGE, param: (param || found).slice(0, 100) });
  }
}

function cardDataPath(value: unknown, path: string, values: boolean, depth: number): string | null {
  // The JSON body parser already refuses bodies nested deeper than 20 levels.
  if (depth > 32) return null;
  if (typeof value === 'string') return values && looksLikePan(value) ? path : null;
  if (typeof value === 'number') return values && looksLikePan(String(value)) ? path : null;
  if (value === null || typeof value !== 'object') return null;
  const entries: Array<[string, unknown]> = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [key, v] of entries) {
    const at = path ? `${path}.${key}` : key;
    if (!Array.isArray(value) && CARD_DATA_KEYS.test(key)) return at;
    const inner = cardDataPath(v, at, values, depth + 1);
    if (inner !== null) return inner;
  }
  return null;
}

/**
 * `payment_details`: `{ "vpa": "name@psp" }` asks for a UPI collect request (the payer's
 * app is asked to approve). Card data is refused (400 `raw_card_data_not_allowed`, without echoing
 * any value): cards are taken by the gateways' own hosted fields, so card numbers never reach this
 * server. Anything else is a 400 naming the field.
 */
function paymentDetails(value: unknown): { vpa?: string } {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: 'payment_details must be an object such as { "vpa": "name@bank" }', param: 'payment_details' });
  }
  const keys = Object.keys(value);
  assertNoCardData(value, 'payment_details');
  const other = keys.find((k) => k !== 'vpa');
  if (other !== undefined) {
    throw new TenderError({ type: 'invalid_request_error', code: 'parameter_unsupported', message: `payment_details.${other.slice(0, 40)} is not supported: payment_details takes only vpa (a UPI collect request)`, param: `payment_details.${other.slice(0, 40)}` });
  }
  const vpa = (value as { vpa?: unknown }).vpa;
  if (typeof vpa !== 'string') throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: 'payment_details.vpa must be a UPI address such as name@bank', param: 'payment_details.vpa' });
  return { vpa };
}

/**
 * Maps the validated wire body to the engine's create input. The common alias names are honoured:
 * `description` is `bill_description`, `callback_url` is `notify_url`, `user_id` is the engine's
 * `userId` and is also kept as `metadata.user_id`, `payment_details.vpa` is the payer's UPI address (a collect request).
 * `merchant_id` is checked against the caller by the router, not here.
 * @throws TenderError 400 for two different values under two names of one field, or payment_details
 * other than a vpa (raw card data there, or a card number as `payment_method`: `raw_card_data_not_allowed`).
 */
export function createInputFromBody(body: ReturnType<typeof CreatePaymentBody.parse>): CreatePaymentInput {
  // A card number typed where a method or token goes would be sent on and echoed by error messages.
  assertNoCardData({ payment_method: body.payment_method }, '', { values: true });
  const { vpa } = paymentDetails(body.payment_details);
  const customer = compact({ name: body.bill_name ?? undefined, email: body.bill_email ?? undefined, phone: body.bill_mobile ?? undefined, vpa });
  let metadata = body.metadata ? { ...body.metadata } : undefined;
  if (body.user_id != null) {
    eitherName(body.user_id, 'user_id', metadata?.user_id, 'metadata.user_id');
    metadata = { ...metadata, user_id: body.user_id };
  }
  return compact({
    userId: body.user_id ?? undefined,
    offSession: body.off_session ?? undefined,
    confirm: body.confirm ?? undefined,
    amount: body.amount ?? undefined,
    amountMinor: minorAmount(body),
    currency: body.currency,
    paymentMethod: body.payment_method ?? undefined,
    gateway: body.gateway ?? undefined,
    captureMethod: body.capture_method ?? undefined,
    orderId: body.order_id ?? undefined,
    description: eitherName(body.bill_description, 'bill_description', body.description, 'description'),
    customer: Object.keys(customer).length > 0 ? customer : undefined,
    returnUrl: body.return_url ?? undefined,
    notifyUrl: eitherName(body.notify_url, 'notify_url', body.callback_url, 'callback_url'),
    metadata,
  } as CreatePaymentInput & Record<string, unknown>);
}

/**
 * A `merchant_id` in a body must name the caller: a token acts for its own merchant only.
 * @throws TenderError 403 `merchant_mismatch` for another merchant's id.
 */
export function assertOwnMerchant(merchantId: string | null | undefined, caller: string): void {
  if (merchantId != null && merchantId !== caller) {
    throw new TenderError({ type: 'permission_error', code: 'merchant_mismatch', message: "merchant_id is not the merchant of this token (the token's sub); leave it out or give your own", param: 'merchant_id' });
  }
}

/**
 * Maps a validated capture body to the engine's input. One amount, never one of two silently
 * preferred; minor units are converted in the payment's currency (the caller's own payment only).
 * @throws TenderError 400 `ambiguous_amount` for two of `amount`, `amount_paisa` and `amount_minor`.
 */
export async function captureInputFromBody(tender: Tender, paymentId: string, merchantId: string, body: ReturnType<typeof CaptureBody.parse>): Promise<CaptureInput> {
  return compact({ amount: await amountFromBody(tender, paymentId, merchantId, body) });
}

/** Maps a validated refund body to the engine's input (amounts as {@link captureInputFromBody}). */
export async function refundInputFromBody(tender: Tender, paymentId: string, merchantId: string, body: ReturnType<typeof RefundBody.parse>): Promise<RefundInput> {
  const amount = await amountFromBody(tender, paymentId, merchantId, body);
  return compact({ amount, reason: body.reason ?? body.refund_reason ?? undefined, metadata: body.metadata ? { ...body.metadata } : undefined });
}

async function amountFromBody(
  tender: Tender,
  paymentId: string,
  merchantId: string,
  body: { amount?: string | number | null; amount_paisa?: string | number | null; amount_minor?: string | number | null },
): Promise<string | number | undefined> {
  const minor = minorAmount(body);
  if (body.amount != null && minor !== undefined) {
    throw new TenderError({ type: 'invalid_request_error', code: 'ambiguous_amount', message: `Give either amount or ${body.amount_paisa != null ? 'amount_paisa' : 'amount_minor'}, not both`, param: 'amount' });
  }
  return minor !== undefined ? minorToMajor(tender, paymentId, merchantId, minor, body.amount_paisa != null ? 'amount_paisa' : 'amount_minor') : (body.amount ?? undefined);
}

async function minorToMajor(tender: Tender, paymentId: string, merchantId: string, minor: string | number, param: string): Promise<string> {
  const payment = await tender.payments.get(paymentId, { merchantId });
  return Money.fromMinor(minor, payment.currency, param).toString();
}
