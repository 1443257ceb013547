/**
 * The sandbox's Razorpay state and rules: orders, UPI payments (intent and collect), captures, refunds
 * with `X-Refund-Idempotency`, and the events each change produces. Objects carry the fields Razorpay's
 * own objects carry (https://razorpay.com/docs/api/payments/, https://razorpay.com/docs/api/orders/,
 * https://razorpay.com/docs/api/refunds/); what Razorpay rejects is rejected here with its error
 * envelope (https://razorpay.com/docs/errors/).
 *
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import { retentionLimit, setBounded, UPI_VPA } from '@tender/core';
import { buildUpiLink } from '../upi-link';

/** How many objects the sandbox keeps before it forgets the oldest. */
export interface SandboxRetention {
  /** Orders, payments and refunds each (default 10 000). */
  objects?: number;
  /** Refund idempotency keys (default 10 000). */
  idempotencyKeys?: number;
  /** Webhook events and delivery records (default 10 000). */
  events?: number;
}

/** An error the sandbox answers with: Razorpay's envelope and status. */
export class RazorpaySandboxError extends Error {
  constructor(
    readonly status: number,
    readonly error: { code: string; description: string; source: string; step: string; reason: string; metadata: Record<string, unknown>; field?: string },
  ) {
    super(error.description);
  }
}

/** Razorpay's `BAD_REQUEST_ERROR` for input it refuses. */
export function badRequest(description: string, field?: string, reason = 'input_validation_failed'): RazorpaySandboxError {
  return new RazorpaySandboxError(400, { code: 'BAD_REQUEST_ERROR', description, source: 'business', step: 'payment_initiation', reason, metadata: {}, ...(field ? { field } : {}) });
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A Razorpay-looking id: prefix, `_`, 14 base62 characters. */
export function razorpayId(prefix: string): string {
  const bytes = randomBytes(14);
  let out = '';
  for (const b of bytes) out += BASE62[b % 62];
  return `${prefix}_${out}`;
}
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
const nowSeconds = (now: () => number) => Math.floor(now() / 1000);

type Notes = Record<string, string> | unknown[];

/** A sandbox order (Razorpay's order object). */
export interface SandboxOrder {
  id: string;
  entity: 'order';
  amount: number;
  amount_paid: number;
  amount_due: number;
  currency: string;
  receipt: string | null;
  offer_id: null;
  status: 'created' | 'attempted' | 'paid';
  attempts: number;
  notes: Notes;
  created_at: number;
  /** Sandbox-internal: whether payments are captured at once. */
  capture: 'automatic' | 'manual';
}

/** A sandbox payment (Razorpay's payment object, UPI method). */
export interface SandboxPayment {
  id: string;
  entity: 'payment';
  amount: number;
  currency: string;
  status: 'created' | 'authorized' | 'captured' | 'refunded' | 'failed';
  order_id: string;
  invoice_id: null;
  international: boolean;
  method: 'upi';
  amount_refunded: number;
  refund_status: null | 'partial' | 'full';
  captured: boolean;
  description: string | null;
  card_id: null;
  bank: null;
  wallet: null;
  vpa: string | null;
  email: string;
  contact: string;
  notes: Notes;
  fee: number | null;
  tax: number | null;
  error_code: string | null;
  error_description: string | null;
  error_source: string | null;
  error_step: string | null;
  error_reason: string | null;
  acquirer_data: { rrn: string | null; upi_transaction_id: string | null };
  upi: { payer_account_type: string | null; vpa: string | null; flow: 'intent' | 'collect' };
  created_at: number;
}

/** A sandbox refund (Razorpay's refund object). */
export interface SandboxRefund {
  id: string;
  entity: 'refund';
  amount: number;
  currency: string;
  payment_id: string;
  notes: Notes;
  receipt: string | null;
  acquirer_data: { arn: string | null };
  created_at: number;
  batch_id: null;
  status: 'pending' | 'processed' | 'failed';
  speed_processed: 'instant' | 'normal';
  speed_requested: 'normal' | 'optimum';
}

/** Extra, sandbox-only facts about a payment. */
interface PaymentMeta {
  expiresAt: number;
  link: string | null;
}

/** Options of {@link SandboxAccount}. */
export interface SandboxAccountOptions {
  /** Merchant name on intent links (`pn`); default `Tender Sandbox`. */
  merchantName?: string;
  /** Merchant VPA on intent links (`pa`); default `tender.sandbox@razorpay`. */
  merchantVpa?: string;
  /** Fee in basis points of the amount (default 200 = 2 %); GST of 18 % on top is the `tax`. */
  feeBasisPoints?: number;
  retention?: SandboxRetention;
  /** Time source (ms); default `Date.now`. */
  now?: () => number;
}

/** Emits one webhook event: type, the payload's entities. */
export type EmitEvent = (type: string, payload: Record<string, unknown>) => void;

const asNotes = (value: unknown, field = 'notes'): Notes => {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('The notes should be an object', field);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 15) throw badRequest('Number of fields in notes should be less than or equal to 15', field);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string' && typeof v !== 'number') throw badRequest(`The notes.${k} must be a string or a number`, field);
    if (String(v).length > 256) throw badRequest(`The notes.${k} may not be greater than 256 characters.`, field);
    out[k] = String(v);
  }
  return out;
};

const integerAmount = (value: unknown, field = 'amount'): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badRequest('The amount must be an integer.', field);
  return value;
};

/** Razorpay's list paging: newest first, `from` / `to` in Unix seconds (inclusive), `count` 1-100 (default 10), `skip`. */
function listPage<T extends { created_at: number }>(items: T[], query: URLSearchParams): T[] {
  const from = Number(query.get('from') ?? 0) || 0;
  const to = Number(query.get('to') ?? Infinity) || Infinity;
  const count = Math.min(100, Math.max(1, Number(query.get('count') ?? 10) || 10));
  const skip = Math.max(0, Number(query.get('skip') ?? 0) || 0);
  return items
    .filter((i) => i.created_at >= from && i.created_at <= to)
    .reverse()
    .slice(skip, skip + count);
}

/** The sandbox's Razorpay account. */
export class SandboxAccount {
  /** Orders by id (bounded). */
  readonly orders = new Map<string, SandboxOrder>();
  /** Payments by id (bounded). */
  readonly payments = new Map<string, SandboxPayment>();
  /** Refunds by id (bounded). */
  readonly refunds = new Map<string, SandboxRefund>();
  /** Disputes by id, each replaced (never mutated) on a change. */
  readonly disputes = new Map<string, Record<string, unknown>>();
  private readonly meta = new Map<string, PaymentMeta>();
  private readonly refundKeys = new Map<string, { fingerprint: string; refundId: string }>();
  private readonly limit: number;
  private readonly keyLimit: number;
  private readonly now: () => number;

  constructor(
    private readonly emit: EmitEvent,
    private readonly options: SandboxAccountOptions = {},
  ) {
    this.limit = retentionLimit(options.retention?.objects, 10_000, 'retention.objects');
    this.keyLimit = retentionLimit(options.retention?.idempotencyKeys, 10_000, 'retention.idempotencyKeys');
    this.now = options.now ?? Date.now;
  }

  // --- orders -------------------------------------------------------------------------------------

  /** `POST /v1/orders`: amount ≥ 100 paise, `receipt` ≤ 40 characters, `payment.capture` (or legacy `payment_capture`). */
  createOrder(body: Record<string, unknown>): SandboxOrder {
    const amount = integerAmount(body.amount);
    if (amount < 100) throw badRequest('The amount must be atleast INR 1.00', 'amount');
    const currency = body.currency ?? 'INR';
    if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw badRequest('The currency must be a valid ISO 4217 code', 'currency');
    if (body.receipt !== undefined && body.receipt !== null && (typeof body.receipt !== 'string' || body.receipt.length > 40)) {
      throw badRequest('The receipt may not be greater than 40 characters.', 'receipt');
    }
    const payment = body.payment as { capture?: unknown } | undefined;
    const legacy = body.payment_capture;
    const capture = payment?.capture !== undefined ? payment.capture : legacy === undefined ? 'automatic' : legacy === true || legacy === 1 || legacy === '1' ? 'automatic' : 'manual';
    if (capture !== 'automatic' && capture !== 'manual') throw badRequest('payment.capture must be automatic or manual', 'payment.capture');
    const order: SandboxOrder = {
      id: razorpayId('order'),
      entity: 'order',
      amount,
      amount_paid: 0,
      amount_due: amount,
      currency,
      receipt: (body.receipt as string | undefined) ?? null,
      offer_id: null,
      status: 'created',
      attempts: 0,
      notes: asNotes(body.notes),
      created_at: nowSeconds(this.now),
      capture,
    };
    setBounded(this.orders, order.id, order, this.limit);
    return order;
  }

  /** An order by id (400 "The id provided does not exist" otherwise, as Razorpay answers). */
  order(id: string): SandboxOrder {
    const order = this.orders.get(id);
    if (!order) throw badRequest('The id provided does not exist', 'id', 'NA');
    return order;
  }

  /** `GET /v1/orders`: newest first, filtered by `receipt`, `from` / `to` (Unix seconds), paged by `count` / `skip`. */
  listOrders(query: URLSearchParams): SandboxOrder[] {
    const receipt = query.get('receipt');
    return listPage([...this.orders.values()].filter((o) => receipt === null || o.receipt === receipt), query);
  }

  /** `GET /v1/payments`: every payment, newest first, `from` / `to` / `count` / `skip` (https://razorpay.com/docs/api/payments/fetch-all-payments/). */
  listPayments(query: URLSearchParams): SandboxPayment[] {
    return listPage([...this.payments.values()], query);
  }

  /** `GET /v1/refunds`: every refund, newest first, `from` / `to` / `count` / `skip` (https://razorpay.com/docs/api/refunds/fetch-all/). */
  listRefunds(query: URLSearchParams): SandboxRefund[] {
    return listPage([...this.refunds.values()], query);
  }

  /**
   * `PATCH /v1/{orders,payments,refunds}/:id`: only `notes` can be edited
   * (https://razorpay.com/docs/api/payments/update/, https://razorpay.com/docs/api/orders/update/,
   * https://razorpay.com/docs/api/refunds/update/); any other field is refused.
   */
  editNotes<T extends { notes: Notes }>(entity: T, body: Record<string, unknown>): T {
    const extra = Object.keys(body).filter((k) => k !== 'notes');
    if (extra.length > 0) throw badRequest(`${extra.join(', ')} is/are not required and should not be sent`, extra[0], 'NA');
    if (body.notes === undefined) throw badRequest('The notes field is required.', 'notes');
    entity.notes = asNotes(body.notes);
    return entity;
  }

  /** `GET /v1/orders/:id/payments`: the order's payment attempts, newest first. */
  orderPayments(orderId: string): SandboxPayment[] {
    this.order(orderId);
    return [...this.payments.values()].filter((p) => p.order_id === orderId).reverse();
  }

  /** The public view of an order (without sandbox-internal fields). */
  orderJson(order: SandboxOrder): Record<string, unknown> {
    const { capture: _capture, ...rest } = order;
    return rest;
  }

  // --- payments -----------------------------------------------------------------------------------

  /** `POST /v1/payments/validate/vpa`: 400 for a malformed VPA, `success: false` for one starting with `invalid`. */
  validateVpa(body: Record<string, unknown>): { vpa: string; success: boolean; customer_name: string | null } {
    const vpa = body.vpa;
    if (typeof vpa !== 'string' || !UPI_VPA.test(vpa)) throw badRequest('Invalid VPA. Please enter a valid Virtual Payment Address', 'vpa', 'invalid_vpa');
    // Convention of this sandbox: a handle starting with `invalid` is not registered with any PSP.
    const known = !vpa.toLowerCase().startsWith('invalid');
    return { vpa, success: known, customer_name: known ? 'Sandbox Customer' : null };
  }

  /**
   * `POST /v1/payments/create/upi`: checks what Razorpay checks (INR, ≥ 100 paise, the order's amount,
   * an unpaid order, email, contact, ip, referer, user_agent, a VPA for collect, `expiry_time`) and answers
   * the payment id plus, for intent, a `upi://pay` link.
   */
  createUpiPayment(body: Record<string, unknown>): { payment: SandboxPayment; link: string | null } {
    const amount = integerAmount(body.amount);
    if (body.currency !== 'INR') throw badRequest('Currency is not supported for UPI payments. Only INR is allowed', 'currency', 'currency_not_supported');
    if (amount < 100) throw badRequest('The amount must be atleast INR 1.00', 'amount');
    if (body.method !== 'upi') throw badRequest('The method field is invalid. It should be upi', 'method');
    if (typeof body.order_id !== 'string') throw badRequest('The order id field is required.', 'order_id');
    const order = this.order(body.order_id);
    if (order.status === 'paid') throw badRequest('Order has already been paid', 'order_id', 'order_already_paid');
    if (order.amount !== amount) throw badRequest('The amount must be equal to the order amount', 'amount');
    if (order.currency !== body.currency) throw badRequest('The currency must be equal to the order currency', 'currency');
    if (typeof body.email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email)) throw badRequest('The email field is required.', 'email');
    if (typeof body.contact !== 'string' || !/^\+?[0-9]{8,15}$/.test(body.contact)) throw badRequest('The contact field is required.', 'contact');
    for (const field of ['ip', 'referer', 'user_agent'] as const) {
      if (typeof body[field] !== 'string' || body[field] === '') throw badRequest(`The ${field} field is required.`, field);
    }
    const upi = (body.upi ?? {}) as Record<string, unknown>;
    const flow = upi.flow ?? 'collect';
    if (flow !== 'intent' && flow !== 'collect') throw badRequest('The upi.flow must be intent or collect', 'upi.flow');
    let vpa: string | null = null;
    if (flow === 'collect') {
      if (typeof upi.vpa !== 'string' || !UPI_VPA.test(upi.vpa)) throw badRequest('Invalid VPA. Please enter a valid Virtual Payment Address', 'vpa', 'invalid_vpa');
      vpa = upi.vpa;
    }
    const expiry = upi.expiry_time ?? 5;
    if (typeof expiry !== 'number' || !Number.isInteger(expiry) || expiry < 1 || expiry > 60) throw badRequest('The upi.expiry_time must be between 1 and 60 minutes', 'upi.expiry_time');
    const payment: SandboxPayment = {
      id: razorpayId('pay'),
      entity: 'payment',
      amount,
      currency: 'INR',
      status: 'created',
      order_id: order.id,
      invoice_id: null,
      international: false,
      method: 'upi',
      amount_refunded: 0,
      refund_status: null,
      captured: false,
      description: typeof body.description === 'string' ? body.description : null,
      card_id: null,
      bank: null,
      wallet: null,
      vpa,
      email: body.email,
      contact: body.contact,
      notes: asNotes(body.notes),
      fee: null,
      tax: null,
      error_code: null,
      error_description: null,
      error_source: null,
      error_step: null,
      error_reason: null,
      acquirer_data: { rrn: null, upi_transaction_id: null },
      upi: { payer_account_type: null, vpa, flow },
      created_at: nowSeconds(this.now),
    };
    const link =
      flow === 'intent'
        ? buildUpiLink({
            payeeVpa: this.options.merchantVpa ?? 'tender.sandbox@razorpay',
            payeeName: this.options.merchantName ?? 'Tender Sandbox',
            transactionRef: payment.id.replace(/[^A-Za-z0-9]/g, ''),
            note: 'razorpay',
            amountPaise: amount,
            merchantCode: '5411',
          })
        : null;
    order.attempts++;
    if (order.status === 'created') order.status = 'attempted';
    setBounded(this.payments, payment.id, payment, this.limit, (id) => this.meta.delete(id));
    this.meta.set(payment.id, { expiresAt: this.now() + expiry * 60_000, link });
    return { payment, link };
  }

  /** A payment by id (400 "The id provided does not exist" otherwise). */
  payment(id: string): SandboxPayment {
    const payment = this.payments.get(id);
    if (!payment) throw badRequest('The id provided does not exist', 'id', 'NA');
    return payment;
  }

  /** When an unpaid payment expires (ms), and its intent link. */
  paymentMeta(id: string): PaymentMeta | undefined {
    return this.meta.get(id);
  }

  /**
   * The payer approved in their UPI app: `created` (or `failed`, an in-app retry after a failure) ->
   * `authorized`, and on to `captured` when the order captures automatically.
   */
  approve(id: string, options: { vpa?: string } = {}): SandboxPayment {
    const payment = this.payment(id);
    if (payment.status !== 'created' && payment.status !== 'failed') throw badRequest(`Payment ${id} is ${payment.status}; only a created or failed payment can be approved`, 'id');
    const order = this.order(payment.order_id);
    const vpa = payment.vpa ?? options.vpa ?? 'success@razorpay';
    Object.assign(payment, {
      status: 'authorized',
      vpa,
      error_code: null,
      error_description: null,
      error_source: null,
      error_step: null,
      error_reason: null,
      acquirer_data: { rrn: digits(12), upi_transaction_id: `${digits(4)}${razorpayId('x').slice(2, 14).toUpperCase()}` },
      upi: { ...payment.upi, payer_account_type: 'bank_account', vpa },
    });
    this.setFee(payment);
    this.emit('payment.authorized', { payment: { entity: { ...payment } } });
    if (order.capture === 'automatic') this.markCaptured(payment, order);
    return payment;
  }

  /** The payer declined (or the bank failed the debit): `created` -> `failed`. */
  decline(id: string, reason: { code?: string; description?: string; reason?: string } = {}): SandboxPayment {
    const payment = this.payment(id);
    if (payment.status !== 'created') throw badRequest(`Payment ${id} is ${payment.status}; only a created payment can be declined`, 'id');
    this.fail(payment, {
      code: reason.code ?? 'BAD_REQUEST_ERROR',
      description: reason.description ?? 'Payment was unsuccessful as you may have declined the request or the transaction failed.',
      reason: reason.reason ?? 'payment_declined',
    });
    return payment;
  }

  /** The payment's time ran out unpaid: `created` -> `failed` (`payment_timed_out`). Idempotent. */
  expire(id: string): SandboxPayment {
    const payment = this.payment(id);
    if (payment.status === 'created') {
      this.fail(payment, { code: 'BAD_REQUEST_ERROR', description: 'Payment was not completed on time.', reason: 'payment_timed_out' });
    }
    return payment;
  }

  /** Expires every unpaid payment whose time has passed; returns how many. */
  expireDue(): number {
    let n = 0;
    const now = this.now();
    for (const [id, meta] of this.meta) {
      const payment = this.payments.get(id);
      if (payment?.status === 'created' && meta.expiresAt <= now) {
        this.expire(id);
        n++;
      }
    }
    return n;
  }

  /** `POST /v1/payments/:id/capture`: only an authorised payment, for exactly its amount and currency. */
  capture(id: string, body: Record<string, unknown>): SandboxPayment {
    const payment = this.payment(id);
    const amount = integerAmount(body.amount);
    if (payment.status === 'captured' || payment.status === 'refunded') throw badRequest('This payment has already been captured', 'id', 'NA');
    if (payment.status !== 'authorized') throw badRequest('Only payments which have been authorized and not yet captured can be captured', 'id', 'NA');
    if (body.currency !== undefined && body.currency !== payment.currency) throw badRequest('The currency should be same as the payment currency', 'currency');
    if (amount !== payment.amount) throw badRequest('Capture amount must be equal to the amount authorized', 'amount');
    this.markCaptured(payment, this.order(payment.order_id));
    return payment;
  }

  /**
   * Creates a refund; with an `X-Refund-Idempotency` key, the same key and body replay the first
   * refund and the same key with another body is refused (as Razorpay does).
   */
  refund(paymentId: string, body: Record<string, unknown>, key: string | null): { refund: SandboxRefund; replayed: boolean } {
    if (key !== null && !/^[A-Za-z0-9_-]{10,}$/.test(key)) throw badRequest('The X-Refund-Idempotency header must be at least 10 characters of letters, digits, _ or -', 'X-Refund-Idempotency');
    const fingerprint = JSON.stringify([paymentId, body]);
    if (key !== null) {
      const seen = this.refundKeys.get(key);
      if (seen) {
        if (seen.fingerprint !== fingerprint) throw badRequest('Different request with the same idempotency key has already been processed.', 'X-Refund-Idempotency', 'NA');
        const refund = this.refunds.get(seen.refundId);
        if (refund) return { refund, replayed: true };
      }
    }
    const payment = this.payment(paymentId);
    if (payment.status !== 'captured' && payment.status !== 'refunded') throw badRequest('The payment has not been captured yet', 'id', 'NA');
    const left = payment.amount - payment.amount_refunded;
    const amount = body.amount === undefined ? left : integerAmount(body.amount);
    if (amount < 100) throw badRequest('The amount must be atleast INR 1.00', 'amount');
    if (amount > left) throw badRequest('The refund amount provided is greater than amount captured', 'amount');
    const speed = body.speed ?? 'normal';
    if (speed !== 'normal' && speed !== 'optimum') throw badRequest('The speed must be normal or optimum', 'speed');
    const refund: SandboxRefund = {
      id: razorpayId('rfnd'),
      entity: 'refund',
      amount,
      currency: payment.currency,
      payment_id: payment.id,
      notes: asNotes(body.notes),
      receipt: typeof body.receipt === 'string' ? body.receipt : null,
      acquirer_data: { arn: null },
      created_at: nowSeconds(this.now),
      batch_id: null,
      status: 'pending',
      speed_processed: speed === 'optimum' ? 'instant' : 'normal',
      speed_requested: speed,
    };
    payment.amount_refunded += amount;
    payment.refund_status = payment.amount_refunded >= payment.amount ? 'full' : 'partial';
    if (payment.refund_status === 'full') payment.status = 'refunded';
    setBounded(this.refunds, refund.id, refund, this.limit);
    if (key !== null) setBounded(this.refundKeys, key, { fingerprint, refundId: refund.id }, this.keyLimit);
    this.emit('refund.created', { refund: { entity: { ...refund } }, payment: { entity: { ...payment } } });
    return { refund, replayed: false };
  }

  /** A refund by id (400 "The id provided does not exist" otherwise). */
  refundById(id: string): SandboxRefund {
    const refund = this.refunds.get(id);
    if (!refund) throw badRequest('The id provided does not exist', 'id', 'NA');
    return refund;
  }

  /** `GET /v1/payments/:id/refunds`: newest first. */
  paymentRefunds(paymentId: string): SandboxRefund[] {
    this.payment(paymentId);
    return [...this.refunds.values()].filter((r) => r.payment_id === paymentId).reverse();
  }

  /** Settles a pending refund: `processed` (default) or `failed` (the amount goes back to the payment). */
  settleRefund(id: string, outcome: 'processed' | 'failed' = 'processed'): SandboxRefund {
    const refund = this.refundById(id);
    if (refund.status !== 'pending') return refund;
    const payment = this.payments.get(refund.payment_id);
    refund.status = outcome;
    if (outcome === 'processed') refund.acquirer_data = { arn: digits(12) };
    if (outcome === 'failed' && payment) {
      payment.amount_refunded -= refund.amount;
      payment.refund_status = payment.amount_refunded === 0 ? null : 'partial';
      if (payment.status === 'refunded') payment.status = 'captured';
    }
    this.emit(`refund.${outcome}`, { refund: { entity: { ...refund } }, ...(payment ? { payment: { entity: { ...payment } } } : {}) });
    return refund;
  }

  /**
   * Razorpay's auto-refund of an authorisation that was not captured in time
   * (https://razorpay.com/docs/payments/refunds/auto-refunds/): the payment becomes `refunded` with
   * `captured: false`, a processed refund entity is created, and `refund.created` / `refund.processed` fire.
   */
  autoRefund(paymentId: string): SandboxRefund {
    const payment = this.payment(paymentId);
    if (payment.status !== 'authorized') throw badRequest(`Payment ${paymentId} is ${payment.status}; only an authorized payment is auto-refunded`, 'id');
    const refund: SandboxRefund = {
      id: razorpayId('rfnd'),
      entity: 'refund',
      amount: payment.amount,
      currency: payment.currency,
      payment_id: payment.id,
      notes: [],
      receipt: null,
      acquirer_data: { arn: null },
      created_at: nowSeconds(this.now),
      batch_id: null,
      status: 'pending',
      speed_processed: 'normal',
      speed_requested: 'normal',
    };
    Object.assign(payment, { status: 'refunded', captured: false, amount_refunded: payment.amount, refund_status: 'full' });
    setBounded(this.refunds, refund.id, refund, this.limit);
    this.emit('refund.created', { refund: { entity: { ...refund } }, payment: { entity: { ...payment } } });
    return this.settleRefund(refund.id, 'processed');
  }

  /**
   * Opens a dispute on a captured payment (a `payment.dispute.created` event); `phase` `retrieval`
   * is a request for information before any chargeback.
   */
  dispute(paymentId: string, reason = 'chargeback', phase: 'chargeback' | 'retrieval' | 'pre_arbitration' = 'chargeback'): Record<string, unknown> {
    const payment = this.payment(paymentId);
    const dispute = {
      id: razorpayId('disp'),
      entity: 'dispute',
      payment_id: payment.id,
      amount: payment.amount,
      currency: payment.currency,
      amount_deducted: 0,
      reason_code: reason,
      reason_description: 'The customer disputes the payment',
      respond_by: nowSeconds(this.now) + 7 * 86_400,
      status: 'open',
      phase,
      created_at: nowSeconds(this.now),
    };
    this.disputes.set(dispute.id, dispute);
    this.emit('payment.dispute.created', { payment: { entity: { ...payment } }, dispute: { entity: dispute } });
    return dispute;
  }

  /**
   * Moves a dispute with Razorpay's event for it (https://razorpay.com/docs/webhooks/payments/#disputes):
   * `payment.dispute.under_review` (evidence submitted), `.action_required` (open again, more evidence
   * asked), `.won`, `.lost` (the amount deducted), `.closed`.
   */
  updateDispute(id: string, status: 'open' | 'under_review' | 'won' | 'lost' | 'closed'): Record<string, unknown> {
    const current = this.disputes.get(id);
    if (!current) throw new Error(`No such dispute: ${id}`);
    if (['won', 'lost', 'closed'].includes(String(current.status))) throw new Error(`Dispute ${id} is ${String(current.status)}`);
    const dispute = { ...current, status, amount_deducted: status === 'lost' ? current.amount : current.amount_deducted };
    this.disputes.set(id, dispute);
    const payment = this.payment(String(current.payment_id));
    this.emit(`payment.dispute.${status === 'open' ? 'action_required' : status}`, { payment: { entity: { ...payment } }, dispute: { entity: { ...dispute } } });
    return dispute;
  }

  private setFee(payment: SandboxPayment): void {
    const bps = this.options.feeBasisPoints ?? 200;
    const base = Math.round((payment.amount * bps) / 10_000);
    const tax = Math.round(base * 0.18);
    payment.fee = base + tax;
    payment.tax = tax;
  }

  private markCaptured(payment: SandboxPayment, order: SandboxOrder): void {
    payment.status = 'captured';
    payment.captured = true;
    order.status = 'paid';
    order.amount_paid = payment.amount;
    order.amount_due = 0;
    this.emit('payment.captured', { payment: { entity: { ...payment } } });
    this.emit('order.paid', { payment: { entity: { ...payment } }, order: { entity: this.orderJson(order) } });
  }

  private fail(payment: SandboxPayment, error: { code: string; description: string; reason: string }): void {
    Object.assign(payment, {
      status: 'failed',
      error_code: error.code,
      error_description: error.description,
      error_source: 'customer',
      error_step: 'payment_authorization',
      error_reason: error.reason,
    });
    this.emit('payment.failed', { payment: { entity: { ...payment } } });
  }
}
