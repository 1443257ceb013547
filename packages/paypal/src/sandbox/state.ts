/**
 * The sandbox's PayPal account: orders, authorizations, captures and refunds with PayPal's rules
 * (Orders v2 and Payments v2 business errors, https://developer.paypal.com/api/rest/reference/orders/v2/errors/,
 * https://developer.paypal.com/docs/api/payments/v2/#errors), and the webhook events each change emits.
 * Objects are answered whole (links, times, breakdowns) so PayPal's own SDK models read them.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { retentionLimit, setBounded } from '@tender/core';
import { PAYPAL_CURRENCIES } from '../currencies';
import { PAYPAL_ZERO_DECIMAL } from '../amounts';
import type { SandboxEvent } from './webhook-sender';

/** How much the sandbox keeps before forgetting the oldest. */
export interface SandboxRetention {
  /** Orders, and separately authorizations, captures and refunds (default 100 000 each). */
  objects?: number;
  /** Events kept for inspection (default 10 000). */
  events?: number;
  /** PayPal-Request-Id answers kept for replay (default 100 000). */
  requestIds?: number;
}

/** Defaults of {@link SandboxRetention}. */
export const DEFAULT_RETENTION: Required<SandboxRetention> = { objects: 100_000, events: 10_000, requestIds: 100_000 };

/** A PayPal error answer. */
export class SandboxError extends Error {
  constructor(
    readonly status: number,
    override readonly name: string,
    readonly issue: string | null,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  /** PayPal's error JSON. */
  body(debugId: string): Record<string, unknown> {
    const body: Record<string, unknown> = { name: this.name, message: this.message, debug_id: debugId };
    if (this.issue) {
      body.details = [{ ...(this.field ? { field: this.field, location: 'body' } : {}), issue: this.issue, description: describe(this.issue) }];
      body.links = [{ href: `https://developer.paypal.com/api/rest/reference/orders/v2/errors/#${this.issue.toLowerCase()}`, rel: 'information_link', method: 'GET' }];
    }
    return body;
  }
}

const DESCRIPTIONS: Record<string, string> = {
  DECIMAL_PRECISION: 'If the currency supports decimals, only two decimal place precision is supported.',
  ORDER_NOT_APPROVED: 'Payer has not yet approved the Order for payment.',
  ORDER_ALREADY_CAPTURED: 'Order already captured.If \'intent=CAPTURE\' only one capture per order is allowed.',
  ORDER_ALREADY_AUTHORIZED: 'Order already authorized.If \'intent=AUTHORIZE\' only one authorization per order is allowed.',
  INSTRUMENT_DECLINED: 'The instrument presented was either declined by the processor or bank, or it can\'t be used for this payment.',
  REFUND_AMOUNT_EXCEEDED: 'The refund amount must be less than or equal to the capture amount that has not yet been refunded.',
  CAPTURE_FULLY_REFUNDED: 'The capture has already been fully refunded.',
  MAX_CAPTURE_AMOUNT_EXCEEDED: 'Capture amount exceeds allowable limit.',
  AUTHORIZATION_ALREADY_CAPTURED: 'Authorization has already been captured.',
  PREVIOUSLY_CAPTURED: 'Authorization has been previously captured and hence cannot be voided.',
  PREVIOUSLY_VOIDED: 'Authorization has been previously voided and hence cannot be voided again.',
  AUTHORIZATION_VOIDED: 'A voided authorization cannot be captured or reauthorized.',
  CURRENCY_NOT_SUPPORTED: 'Currency code is not currently supported.',
  CURRENCY_MISMATCH: 'Currency of capture must be the same as currency of authorization.',
  MAX_VALUE_EXCEEDED: 'Should be less than or equal to 999999999.99.',
  CANNOT_BE_ZERO_OR_NEGATIVE: 'Must be greater than zero.',
  ACTION_DOES_NOT_MATCH_INTENT: 'Order was created with an intent other than the one this call performs.',
  INVALID_RESOURCE_ID: 'Specified resource ID does not exist. Please check the resource ID and try again.',
  INVALID_PARAMETER_VALUE: 'The value of a field is invalid.',
  MISSING_REQUIRED_PARAMETER: 'A required field / parameter is missing.',
};
const describe = (issue: string) => DESCRIPTIONS[issue] ?? issue;

/** A 422 business error. */
const unprocessable = (issue: string, field?: string) =>
  new SandboxError(422, 'UNPROCESSABLE_ENTITY', issue, 'The requested action could not be performed, semantically incorrect, or failed business validation.', field);
/** A 400 schema error. */
export const invalid = (issue: string, field?: string) => new SandboxError(400, 'INVALID_REQUEST', issue, 'Request is not well-formed, syntactically incorrect, or violates schema.', field);
/** A 404. */
export const notFound = () => new SandboxError(404, 'RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID', 'The specified resource does not exist.');

/** `{ currency_code, value }`. */
export interface Amount {
  currency_code: string;
  value: string;
}

/** Minor units of a PayPal amount (cents, or whole units for HUF/JPY/TWD). */
function units(amount: Amount): bigint {
  const [whole, fraction = ''] = amount.value.split('.');
  return PAYPAL_ZERO_DECIMAL.has(amount.currency_code) ? BigInt(whole!) : BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
}
function fromUnits(value: bigint, currency: string): Amount {
  if (PAYPAL_ZERO_DECIMAL.has(currency)) return { currency_code: currency, value: value.toString() };
  const s = value.toString().padStart(3, '0');
  return { currency_code: currency, value: `${s.slice(0, -2)}.${s.slice(-2)}` };
}

/** Checks an amount as PayPal does. */
export function checkAmount(raw: unknown, field: string): Amount {
  const amount = raw as Partial<Amount> | undefined;
  if (!amount || typeof amount !== 'object') throw invalid('MISSING_REQUIRED_PARAMETER', field);
  if (typeof amount.currency_code !== 'string' || !/^[A-Z]{3}$/.test(amount.currency_code)) throw invalid('INVALID_PARAMETER_VALUE', `${field}/currency_code`);
  if (!PAYPAL_CURRENCIES.includes(amount.currency_code)) throw unprocessable('CURRENCY_NOT_SUPPORTED', `${field}/currency_code`);
  if (typeof amount.value !== 'string' || !/^[0-9]+(\.[0-9]+)?$/.test(amount.value) || amount.value.length > 32) throw invalid('INVALID_PARAMETER_VALUE', `${field}/value`);
  const fraction = amount.value.split('.')[1] ?? '';
  if (PAYPAL_ZERO_DECIMAL.has(amount.currency_code) ? fraction.length > 0 : fraction.length > 2) throw unprocessable('DECIMAL_PRECISION', `${field}/value`);
  const checked = { currency_code: amount.currency_code, value: amount.value };
  const minor = units(checked);
  if (minor <= 0n) throw unprocessable('CANNOT_BE_ZERO_OR_NEGATIVE', `${field}/value`);
  if (minor > (PAYPAL_ZERO_DECIMAL.has(amount.currency_code) ? 999_999_999n : 99_999_999_999n)) throw invalid('MAX_VALUE_EXCEEDED', `${field}/value`);
  return checked;
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** A PayPal-style id: 17 upper-case letters and digits. */
function paypalId(length = 17): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const b of bytes) id += ALPHANUM[b % 36];
  return id;
}

type Obj = Record<string, unknown>;

interface OrderRecord {
  id: string;
  intent: 'CAPTURE' | 'AUTHORIZE';
  status: 'CREATED' | 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'COMPLETED' | 'VOIDED';
  unit: { reference_id: string; amount: Amount; custom_id?: string; invoice_id?: string; description?: string; soft_descriptor?: string };
  experience: { return_url?: string; cancel_url?: string; brand_name?: string } | null;
  payer: Obj | null;
  /** A buyer whose funding instrument declines at capture/authorize (the approve page's "decline"). */
  declines: boolean;
  authorizationIds: string[];
  captureIds: string[];
  createTime: string;
  updateTime: string;
}

interface AuthorizationRecord {
  id: string;
  orderId: string;
  status: 'CREATED' | 'CAPTURED' | 'PARTIALLY_CAPTURED' | 'VOIDED' | 'DENIED';
  amount: Amount;
  customId?: string;
  captureIds: string[];
  createTime: string;
  updateTime: string;
  expirationTime: string;
}

interface CaptureRecord {
  id: string;
  orderId: string;
  authorizationId: string | null;
  status: 'COMPLETED' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'PENDING' | 'DECLINED';
  amount: Amount;
  finalCapture: boolean;
  customId?: string;
  invoiceId?: string;
  refundIds: string[];
  createTime: string;
  updateTime: string;
}

interface RefundRecord {
  id: string;
  captureId: string;
  status: 'COMPLETED' | 'PENDING' | 'FAILED' | 'CANCELLED';
  amount: Amount;
  customId?: string;
  invoiceId?: string;
  noteToPayer?: string;
  createTime: string;
  updateTime: string;
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const fee = (amount: Amount): Amount => {
  // 3.49% + 0.49 (whole units round), a plausible PayPal fee for the breakdown.
  const minor = units(amount);
  const f = (minor * 349n) / 10_000n + (PAYPAL_ZERO_DECIMAL.has(amount.currency_code) ? 49n : 49n);
  return fromUnits(f < minor ? f : 0n, amount.currency_code);
};
const minus = (a: Amount, b: Amount): Amount => fromUnits(units(a) - units(b), a.currency_code);

/** The account state; `base()` is the sandbox's URL for links. */
export class SandboxAccount {
  readonly orders = new Map<string, OrderRecord>();
  readonly authorizations = new Map<string, AuthorizationRecord>();
  readonly captures = new Map<string, CaptureRecord>();
  readonly refunds = new Map<string, RefundRecord>();
  /** Disputes by id, each replaced (never mutated) on a change. */
  readonly disputes = new Map<string, Obj>();
  private readonly retention: Required<SandboxRetention>;
  private readonly listeners: Array<(event: SandboxEvent) => void> = [];

  constructor(
    private readonly base: () => string,
    retention: SandboxRetention = {},
  ) {
    this.retention = {
      objects: retentionLimit(retention.objects, DEFAULT_RETENTION.objects, 'retention.objects'),
      events: retentionLimit(retention.events, DEFAULT_RETENTION.events, 'retention.events'),
      requestIds: retentionLimit(retention.requestIds, DEFAULT_RETENTION.requestIds, 'retention.requestIds'),
    };
  }

  /** The limits in force. */
  get limits(): Readonly<Required<SandboxRetention>> {
    return this.retention;
  }

  /** Subscribes to new events. */
  onEvent(listener: (event: SandboxEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(type: string, resourceType: string, summary: string, resource: Obj): void {
    const id = `WH-${paypalId(17)}-${paypalId(17)}`;
    const event: SandboxEvent = {
      id,
      event_version: '1.0',
      create_time: new Date().toISOString(),
      resource_type: resourceType,
      resource_version: '2.0',
      event_type: type,
      summary,
      resource,
      links: [
        { href: `${this.base()}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' },
        { href: `${this.base()}/v1/notifications/webhooks-events/${id}/resend`, rel: 'resend', method: 'POST' },
      ],
    };
    for (const listener of this.listeners) listener(event);
  }

  // ---- Orders -------------------------------------------------------------------------------

  /** `POST /v2/checkout/orders`. */
  createOrder(body: Obj): Obj {
    const intent = body.intent;
    if (intent !== 'CAPTURE' && intent !== 'AUTHORIZE') throw invalid(intent === undefined ? 'MISSING_REQUIRED_PARAMETER' : 'INVALID_PARAMETER_VALUE', '/intent');
    const units = body.purchase_units;
    if (!Array.isArray(units) || units.length === 0) throw invalid('MISSING_REQUIRED_PARAMETER', '/purchase_units');
    if (units.length > 1) throw unprocessable('MULTIPLE_PURCHASE_UNITS_NOT_SUPPORTED', '/purchase_units');
    const unit = units[0] as Obj;
    const referenceId = typeof unit.reference_id === 'string' ? unit.reference_id : 'default';
    const amount = checkAmount(unit.amount, `/purchase_units/@reference_id=='${referenceId}'/amount`);
    const text = (v: unknown, max: number, field: string): string | undefined => {
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || v.length > max) throw invalid('INVALID_STRING_MAX_LENGTH', field);
      return v;
    };
    const paypal = ((body.payment_source as Obj | undefined)?.paypal as Obj | undefined)?.experience_context as Obj | undefined;
    const order: OrderRecord = {
      id: paypalId(),
      intent,
      status: paypal ? 'PAYER_ACTION_REQUIRED' : 'CREATED',
      unit: {
        reference_id: referenceId,
        amount,
        ...(text(unit.custom_id, 127, '/purchase_units/0/custom_id') !== undefined ? { custom_id: unit.custom_id as string } : {}),
        ...(text(unit.invoice_id, 127, '/purchase_units/0/invoice_id') !== undefined ? { invoice_id: unit.invoice_id as string } : {}),
        ...(text(unit.description, 127, '/purchase_units/0/description') !== undefined ? { description: unit.description as string } : {}),
      },
      experience: paypal
        ? {
            ...(typeof paypal.return_url === 'string' ? { return_url: paypal.return_url } : {}),
            ...(typeof paypal.cancel_url === 'string' ? { cancel_url: paypal.cancel_url } : {}),
            ...(typeof paypal.brand_name === 'string' ? { brand_name: paypal.brand_name } : {}),
          }
        : null,
      payer: null,
      declines: false,
      authorizationIds: [],
      captureIds: [],
      createTime: now(),
      updateTime: now(),
    };
    if (!paypal) {
      const context = body.application_context as Obj | undefined;
      if (context && (typeof context.return_url === 'string' || typeof context.cancel_url === 'string')) {
        order.experience = { ...(typeof context.return_url === 'string' ? { return_url: context.return_url } : {}), ...(typeof context.cancel_url === 'string' ? { cancel_url: context.cancel_url } : {}) };
      }
    }
    setBounded(this.orders, order.id, order, this.retention.objects);
    return this.orderJson(order);
  }

  private order(id: string): OrderRecord {
    const order = this.orders.get(id);
    if (!order) throw notFound();
    return order;
  }

  /** `GET /v2/checkout/orders/{id}`. */
  getOrder(id: string): Obj {
    return this.orderJson(this.order(id));
  }

  /** The buyer approved on the approval page (or {@link PayPalSandbox.approve}). */
  approve(orderId: string, options: { declines?: boolean; payer?: { email?: string; givenName?: string; surname?: string } } = {}): Obj {
    const order = this.order(orderId);
    if (order.status === 'COMPLETED' || order.status === 'VOIDED') throw unprocessable('ORDER_ALREADY_COMPLETED');
    const payerId = paypalId(13);
    order.payer = {
      name: { given_name: options.payer?.givenName ?? 'Sandbox', surname: options.payer?.surname ?? 'Buyer' },
      email_address: options.payer?.email ?? 'sb-buyer@personal.example.com',
      payer_id: payerId,
      address: { country_code: 'US' },
    };
    order.declines = options.declines === true;
    order.status = 'APPROVED';
    order.updateTime = now();
    const json = this.orderJson(order);
    this.emit('CHECKOUT.ORDER.APPROVED', 'checkout-order', 'An order has been approved by buyer', json);
    return json;
  }

  /** `POST /v2/checkout/orders/{id}/capture` and `/authorize`. */
  completeOrder(id: string, action: 'capture' | 'authorize'): Obj {
    const order = this.order(id);
    if ((action === 'capture') !== (order.intent === 'CAPTURE')) throw unprocessable('ACTION_DOES_NOT_MATCH_INTENT');
    if (order.status === 'COMPLETED') throw unprocessable(action === 'capture' ? 'ORDER_ALREADY_CAPTURED' : 'ORDER_ALREADY_AUTHORIZED');
    if (order.status !== 'APPROVED') throw unprocessable('ORDER_NOT_APPROVED');
    if (order.declines) throw unprocessable('INSTRUMENT_DECLINED');
    order.status = 'COMPLETED';
    order.updateTime = now();
    if (action === 'capture') {
      const capture = this.newCapture(order, null, order.unit.amount, true);
      this.emit('PAYMENT.CAPTURE.COMPLETED', 'capture', `Payment completed for ${capture.amount.value} ${capture.amount.currency_code}`, this.captureJson(capture));
    } else {
      const t = new Date();
      const authorization: AuthorizationRecord = {
        id: paypalId(),
        orderId: order.id,
        status: 'CREATED',
        amount: order.unit.amount,
        ...(order.unit.custom_id ? { customId: order.unit.custom_id } : {}),
        captureIds: [],
        createTime: now(),
        updateTime: now(),
        expirationTime: new Date(t.getTime() + 29 * 24 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
      setBounded(this.authorizations, authorization.id, authorization, this.retention.objects);
      order.authorizationIds.push(authorization.id);
      this.emit('PAYMENT.AUTHORIZATION.CREATED', 'authorization', `A payment authorization was created`, this.authorizationJson(authorization));
    }
    return this.orderJson(order);
  }

  private newCapture(order: OrderRecord, authorizationId: string | null, amount: Amount, finalCapture: boolean, invoiceId?: string): CaptureRecord {
    const capture: CaptureRecord = {
      id: paypalId(),
      orderId: order.id,
      authorizationId,
      status: 'COMPLETED',
      amount,
      finalCapture,
      ...(order.unit.custom_id ? { customId: order.unit.custom_id } : {}),
      ...(invoiceId ?? order.unit.invoice_id ? { invoiceId: invoiceId ?? order.unit.invoice_id! } : {}),
      refundIds: [],
      createTime: now(),
      updateTime: now(),
    };
    setBounded(this.captures, capture.id, capture, this.retention.objects);
    order.captureIds.push(capture.id);
    return capture;
  }

  // ---- Payments -----------------------------------------------------------------------------

  private authorization(id: string): AuthorizationRecord {
    const authorization = this.authorizations.get(id);
    if (!authorization) throw notFound();
    return authorization;
  }

  /** `GET /v2/payments/authorizations/{id}`. */
  getAuthorization(id: string): Obj {
    return this.authorizationJson(this.authorization(id));
  }

  /** `POST /v2/payments/authorizations/{id}/capture`. */
  captureAuthorization(id: string, body: Obj): Obj {
    const authorization = this.authorization(id);
    if (authorization.status === 'VOIDED') throw unprocessable('AUTHORIZATION_VOIDED');
    if (authorization.status === 'CAPTURED') throw unprocessable('AUTHORIZATION_ALREADY_CAPTURED');
    if (authorization.status === 'DENIED') throw unprocessable('AUTHORIZATION_DENIED');
    const captured = authorization.captureIds.reduce((sum, c) => sum + units(this.captures.get(c)?.amount ?? { currency_code: authorization.amount.currency_code, value: '0' }), 0n);
    const remaining = units(authorization.amount) - captured;
    const amount = body.amount === undefined ? fromUnits(remaining, authorization.amount.currency_code) : checkAmount(body.amount, '/amount');
    if (amount.currency_code !== authorization.amount.currency_code) throw unprocessable('CURRENCY_MISMATCH', '/amount/currency_code');
    if (units(amount) > remaining) throw unprocessable('MAX_CAPTURE_AMOUNT_EXCEEDED', '/amount/value');
    const finalCapture = body.final_capture === true || units(amount) === remaining;
    const order = this.order(authorization.orderId);
    const capture = this.newCapture(order, authorization.id, amount, finalCapture, typeof body.invoice_id === 'string' ? body.invoice_id : undefined);
    authorization.captureIds.push(capture.id);
    authorization.status = finalCapture ? 'CAPTURED' : 'PARTIALLY_CAPTURED';
    authorization.updateTime = now();
    const json = this.captureJson(capture);
    this.emit('PAYMENT.CAPTURE.COMPLETED', 'capture', `Payment completed for ${amount.value} ${amount.currency_code}`, json);
    return json;
  }

  /** `POST /v2/payments/authorizations/{id}/void`. */
  voidAuthorization(id: string): Obj {
    const authorization = this.authorization(id);
    if (authorization.status === 'VOIDED') throw unprocessable('PREVIOUSLY_VOIDED');
    if (authorization.status === 'CAPTURED') throw unprocessable('PREVIOUSLY_CAPTURED');
    authorization.status = 'VOIDED';
    authorization.updateTime = now();
    const json = this.authorizationJson(authorization);
    this.emit('PAYMENT.AUTHORIZATION.VOIDED', 'authorization', 'A payment authorization was voided', json);
    return json;
  }

  private capture(id: string): CaptureRecord {
    const capture = this.captures.get(id);
    if (!capture) throw notFound();
    return capture;
  }

  /** `GET /v2/payments/captures/{id}`. */
  getCapture(id: string): Obj {
    return this.captureJson(this.capture(id));
  }

  /** `POST /v2/payments/captures/{id}/refund`; `dashboard` refunds carry no API caller ids. */
  refundCapture(id: string, body: Obj): Obj {
    const capture = this.capture(id);
    const refunded = capture.refundIds.reduce((sum, r) => {
      const refund = this.refunds.get(r);
      return refund && refund.status !== 'FAILED' && refund.status !== 'CANCELLED' ? sum + units(refund.amount) : sum;
    }, 0n);
    const remaining = units(capture.amount) - refunded;
    if (capture.status !== 'COMPLETED' && capture.status !== 'PARTIALLY_REFUNDED') throw unprocessable(capture.status === 'REFUNDED' ? 'CAPTURE_FULLY_REFUNDED' : 'REFUND_NOT_ALLOWED');
    const amount = body.amount === undefined ? fromUnits(remaining, capture.amount.currency_code) : checkAmount(body.amount, '/amount');
    if (amount.currency_code !== capture.amount.currency_code) throw unprocessable('CURRENCY_MISMATCH', '/amount/currency_code');
    if (units(amount) > remaining) throw unprocessable('REFUND_AMOUNT_EXCEEDED', '/amount/value');
    const refund: RefundRecord = {
      id: paypalId(),
      captureId: capture.id,
      status: 'COMPLETED',
      amount,
      ...(typeof body.custom_id === 'string' ? { customId: body.custom_id } : {}),
      ...(typeof body.invoice_id === 'string' ? { invoiceId: body.invoice_id } : {}),
      ...(typeof body.note_to_payer === 'string' ? { noteToPayer: body.note_to_payer } : {}),
      createTime: now(),
      updateTime: now(),
    };
    setBounded(this.refunds, refund.id, refund, this.retention.objects);
    capture.refundIds.push(refund.id);
    capture.status = units(amount) === remaining ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    capture.updateTime = now();
    const json = this.refundJson(refund);
    this.emit('PAYMENT.CAPTURE.REFUNDED', 'refund', `A ${amount.value} ${amount.currency_code} capture payment was refunded`, json);
    return json;
  }

  /** `GET /v2/payments/refunds/{id}`. */
  getRefund(id: string): Obj {
    const refund = this.refunds.get(id);
    if (!refund) throw notFound();
    return this.refundJson(refund);
  }

  /**
   * A dispute opened by the buyer on a capture (`CUSTOMER.DISPUTE.CREATED`): an `INQUIRY` by default,
   * or a `CHARGEBACK` the card issuer opened, waiting for the seller's response.
   */
  dispute(captureId: string, reason = 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED', stage: 'INQUIRY' | 'CHARGEBACK' = 'INQUIRY'): Obj {
    const capture = this.capture(captureId);
    const id = `PP-D-${Math.floor(Math.random() * 1e6)}`;
    const resource = {
      dispute_id: id,
      create_time: new Date().toISOString(),
      update_time: new Date().toISOString(),
      disputed_transactions: [{ seller_transaction_id: capture.id, create_time: capture.createTime, transaction_status: 'COMPLETED', gross_amount: capture.amount, invoice_number: capture.invoiceId, custom: capture.customId }],
      reason,
      status: stage === 'INQUIRY' ? 'OPEN' : 'WAITING_FOR_SELLER_RESPONSE',
      dispute_amount: capture.amount,
      seller_response_due_date: new Date(Date.now() + 10 * 86_400_000).toISOString(),
      dispute_life_cycle_stage: stage,
      dispute_channel: stage === 'INQUIRY' ? 'INTERNAL' : 'EXTERNAL',
      links: [{ href: `${this.base()}/v1/customer/disputes/${id}`, rel: 'self', method: 'GET' }],
    };
    this.disputes.set(id, resource);
    this.emit('CUSTOMER.DISPUTE.CREATED', 'dispute', `A new dispute opened with Case # ${id}`, resource);
    return resource;
  }

  /**
   * Moves a dispute (`CUSTOMER.DISPUTE.UPDATED`): a new status, and a new stage when an inquiry is
   * escalated to a claim (https://developer.paypal.com/docs/api/customer-disputes/v1/).
   */
  updateDispute(id: string, status: 'WAITING_FOR_SELLER_RESPONSE' | 'WAITING_FOR_BUYER_RESPONSE' | 'UNDER_REVIEW', stage?: 'INQUIRY' | 'CHARGEBACK' | 'PRE_ARBITRATION'): Obj {
    const current = this.openDispute(id);
    const resource = { ...current, status, dispute_life_cycle_stage: stage ?? current.dispute_life_cycle_stage, update_time: this.later(current) };
    this.disputes.set(id, resource);
    this.emit('CUSTOMER.DISPUTE.UPDATED', 'dispute', `A dispute was updated with Case # ${id}`, resource);
    return resource;
  }

  /** Resolves a dispute (`CUSTOMER.DISPUTE.RESOLVED`) with PayPal's `dispute_outcome.outcome_code`. */
  resolveDispute(id: string, outcome: 'RESOLVED_SELLER_FAVOUR' | 'RESOLVED_BUYER_FAVOUR' | 'ACCEPTED' | 'CANCELED_BY_BUYER' | 'DENIED'): Obj {
    const current = this.openDispute(id);
    const payout = outcome === 'RESOLVED_BUYER_FAVOUR' || outcome === 'ACCEPTED';
    const resource = {
      ...current,
      status: 'RESOLVED',
      update_time: this.later(current),
      dispute_outcome: { outcome_code: outcome, ...(payout ? { amount_refunded: current.dispute_amount } : {}) },
    };
    this.disputes.set(id, resource);
    this.emit('CUSTOMER.DISPUTE.RESOLVED', 'dispute', `A dispute was resolved with Case # ${id}`, resource);
    return resource;
  }

  private openDispute(id: string): Obj {
    const current = this.disputes.get(id);
    if (!current) throw notFound();
    if (current.status === 'RESOLVED') throw new Error(`Dispute ${id} is resolved`);
    return current;
  }

  /** An update time after the dispute's last one (PayPal's times order its reports). */
  private later(current: Obj): string {
    return new Date(Math.max(Date.now(), Date.parse(String(current.update_time)) + 1)).toISOString();
  }

  // ---- JSON ---------------------------------------------------------------------------------

  private link(path: string, rel: string, method = 'GET') {
    return { href: `${this.base()}${path}`, rel, method };
  }

  /** An order as PayPal answers it (`Prefer: return=representation`). */
  orderJson(order: OrderRecord): Obj {
    const payments: Obj = {};
    const authorizations = order.authorizationIds.map((a) => this.authorizations.get(a)).filter((a): a is AuthorizationRecord => a !== undefined);
    const captures = order.captureIds.map((c) => this.captures.get(c)).filter((c): c is CaptureRecord => c !== undefined);
    const refunds = captures.flatMap((c) => c.refundIds.map((r) => this.refunds.get(r)).filter((r): r is RefundRecord => r !== undefined));
    if (authorizations.length > 0) payments.authorizations = authorizations.map((a) => this.authorizationJson(a, false));
    if (captures.length > 0) payments.captures = captures.map((c) => this.captureJson(c, false));
    if (refunds.length > 0) payments.refunds = refunds.map((r) => this.refundJson(r));
    const unit: Obj = {
      reference_id: order.unit.reference_id,
      amount: order.unit.amount,
      payee: { email_address: 'sb-merchant@business.example.com', merchant_id: 'TENDERSANDBOX' },
      ...(order.unit.description ? { description: order.unit.description } : {}),
      ...(order.unit.custom_id ? { custom_id: order.unit.custom_id } : {}),
      ...(order.unit.invoice_id ? { invoice_id: order.unit.invoice_id } : {}),
      soft_descriptor: 'PAYPAL *TENDERSANDBOX',
      ...(Object.keys(payments).length > 0 ? { payments } : {}),
    };
    const links = [this.link(`/v2/checkout/orders/${order.id}`, 'self')];
    if (order.status === 'CREATED') links.push(this.link(`/checkoutnow?token=${order.id}`, 'approve'));
    if (order.status === 'PAYER_ACTION_REQUIRED') links.push(this.link(`/checkoutnow?token=${order.id}`, 'payer-action'));
    if (order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED' || order.status === 'APPROVED') {
      links.push(this.link(`/v2/checkout/orders/${order.id}`, 'update', 'PATCH'));
      links.push(this.link(`/v2/checkout/orders/${order.id}/${order.intent === 'CAPTURE' ? 'capture' : 'authorize'}`, order.intent === 'CAPTURE' ? 'capture' : 'authorize', 'POST'));
    }
    const json: Obj = {
      id: order.id,
      intent: order.intent,
      status: order.status,
      purchase_units: [unit],
      create_time: order.createTime,
      update_time: order.updateTime,
      links,
    };
    if (order.payer) {
      const payer = order.payer as { name: Obj; email_address: string; payer_id: string; address: Obj };
      json.payer = payer;
      json.payment_source = { paypal: { email_address: payer.email_address, account_id: payer.payer_id, account_status: 'VERIFIED', name: payer.name, address: payer.address } };
    }
    return json;
  }

  private authorizationJson(a: AuthorizationRecord, standalone = true): Obj {
    return {
      id: a.id,
      status: a.status,
      amount: a.amount,
      ...(a.customId ? { custom_id: a.customId } : {}),
      seller_protection: { status: 'ELIGIBLE', dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'] },
      expiration_time: a.expirationTime,
      links: [
        this.link(`/v2/payments/authorizations/${a.id}`, 'self'),
        this.link(`/v2/payments/authorizations/${a.id}/capture`, 'capture', 'POST'),
        this.link(`/v2/payments/authorizations/${a.id}/void`, 'void', 'POST'),
        this.link(`/v2/payments/authorizations/${a.id}/reauthorize`, 'reauthorize', 'POST'),
        this.link(`/v2/checkout/orders/${a.orderId}`, 'up'),
      ],
      create_time: a.createTime,
      update_time: a.updateTime,
      ...(standalone ? { supplementary_data: { related_ids: { order_id: a.orderId } } } : {}),
    };
  }

  private captureJson(c: CaptureRecord, standalone = true): Obj {
    const gross = c.amount;
    const paypalFee = fee(gross);
    return {
      id: c.id,
      status: c.status,
      amount: c.amount,
      final_capture: c.finalCapture,
      seller_protection: { status: 'ELIGIBLE', dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'] },
      seller_receivable_breakdown: { gross_amount: gross, paypal_fee: paypalFee, net_amount: minus(gross, paypalFee) },
      ...(c.customId ? { custom_id: c.customId } : {}),
      ...(c.invoiceId ? { invoice_id: c.invoiceId } : {}),
      links: [
        this.link(`/v2/payments/captures/${c.id}`, 'self'),
        this.link(`/v2/payments/captures/${c.id}/refund`, 'refund', 'POST'),
        c.authorizationId ? this.link(`/v2/payments/authorizations/${c.authorizationId}`, 'up') : this.link(`/v2/checkout/orders/${c.orderId}`, 'up'),
      ],
      create_time: c.createTime,
      update_time: c.updateTime,
      ...(standalone ? { supplementary_data: { related_ids: { order_id: c.orderId, ...(c.authorizationId ? { authorization_id: c.authorizationId } : {}) } } } : {}),
    };
  }

  private refundJson(r: RefundRecord): Obj {
    const paypalFee = fromUnits(0n, r.amount.currency_code);
    const capture = this.captures.get(r.captureId);
    const total = capture
      ? capture.refundIds.reduce((sum, id) => {
          const x = this.refunds.get(id);
          return x && x.status === 'COMPLETED' && x.createTime <= r.createTime ? sum + units(x.amount) : sum;
        }, 0n)
      : units(r.amount);
    return {
      id: r.id,
      amount: r.amount,
      ...(r.customId ? { custom_id: r.customId } : {}),
      ...(r.invoiceId ? { invoice_id: r.invoiceId } : {}),
      ...(r.noteToPayer ? { note_to_payer: r.noteToPayer } : {}),
      seller_payable_breakdown: { gross_amount: r.amount, paypal_fee: paypalFee, net_amount: r.amount, total_refunded_amount: fromUnits(total, r.amount.currency_code) },
      status: r.status,
      create_time: r.createTime,
      update_time: r.updateTime,
      links: [this.link(`/v2/payments/refunds/${r.id}`, 'self'), this.link(`/v2/payments/captures/${r.captureId}`, 'up')],
    };
  }
}
