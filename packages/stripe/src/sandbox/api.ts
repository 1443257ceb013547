/**
 * The sandbox's Stripe: PaymentIntents, Charges, Refunds and Events held in memory, with Stripe's
 * object shapes, state rules and error JSON. HTTP concerns live in `server.ts`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { pushBounded, retentionLimit, setBounded } from '@tender/core';
import { STRIPE_THREE_DECIMAL, stripeDecimals } from '../amounts';
import { stripeMaxAmount } from '../currencies';
import type {
  StripeCharge,
  StripeErrorObject,
  StripeEvent,
  StripePaymentIntent,
  StripePaymentIntentStatus,
  StripeRefund,
} from '../stripe-types';
import { TEST_CARDS, type TestCard } from './test-cards';

/** A Stripe error response the handlers throw. */
export class SandboxError extends Error {
  constructor(
    readonly status: number,
    readonly error: StripeErrorObject,
    /** Whether Stripe would save this response under the idempotency key (it ran the endpoint). */
    readonly executed = false,
  ) {
    super(error.message);
  }
}

/** Who made a request (for `event.request`). */
export interface RequestInfo {
  requestId: string;
  idempotencyKey: string | null;
}

type Params = Record<string, unknown>;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// Ids need no cryptographic freshness per call; drawing from a refilled pool keeps ids cheap.
let pool = randomBytes(4096);
let poolOffset = 0;

/** A Stripe-looking id (`pi_3Q...`): prefix and 24 random alphanumerics. */
export function stripeId(prefix: string, length = 24): string {
  if (poolOffset + length > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  let out = `${prefix}_`;
  for (let i = 0; i < length; i++) out += ALNUM[pool[poolOffset + i]! % ALNUM.length];
  poolOffset += length;
  return out;
}

const DOC = 'https://stripe.com/docs/error-codes/';

export function invalid(message: string, param?: string, code?: string, extra: Partial<StripeErrorObject> = {}): SandboxError {
  return new SandboxError(400, {
    type: 'invalid_request_error',
    message,
    ...(code ? { code, doc_url: `${DOC}${code.replace(/_/g, '-')}` } : {}),
    ...(param ? { param } : {}),
    ...extra,
  });
}

/**
 * Stripe's `resource_missing`: 404 for the object a URL names, 400 for one a request's parameters
 * refer to ("No such price: 'price_...'" with `param` `items[0][price]` is a 400). Path parameters are
 * named `id` (or `intent` for PaymentIntents and SetupIntents); pass `where` when another name is a path's.
 */
export function missing(resource: string, id: string, param = 'id', where: 'path' | 'body' = param === 'id' || param === 'intent' ? 'path' : 'body'): SandboxError {
  return new SandboxError(where === 'path' ? 404 : 400, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    doc_url: `${DOC}resource-missing`,
    message: `No such ${resource}: '${id}'`,
    param,
  });
}

export function str(params: Params, key: string): string | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(`Invalid string: ${JSON.stringify(v)}`, key);
  return v;
}

export function int(params: Params, key: string, required = false): number | undefined {
  const v = params[key];
  if (v === undefined || v === '') {
    if (required) throw invalid(`Missing required param: ${key}.`, key, 'parameter_missing');
    return undefined;
  }
  if (typeof v !== 'string' || !/^-?[0-9]+$/.test(v)) throw invalid(`Invalid integer: ${String(v)}`, key, 'parameter_invalid_integer');
  return Number(v);
}

export function bool(params: Params, key: string): boolean | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(`Invalid boolean: ${String(v)}`, key);
}

/**
 * `payment_method_options[card][request_three_d_secure]`: `automatic` (Stripe's default), `any` or
 * `challenge` (https://docs.stripe.com/api/payment_intents/create#create_payment_intent-payment_method_options-card-request_three_d_secure).
 */
function requestThreeDSecureOf(params: Params): 'automatic' | 'any' | 'challenge' {
  const options = params.payment_method_options;
  if (options === undefined || options === '') return 'automatic';
  const param = 'payment_method_options[card][request_three_d_secure]';
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalid('Invalid object', 'payment_method_options');
  const card = (options as Params).card;
  if (card === undefined || card === '') return 'automatic';
  if (typeof card !== 'object' || card === null || Array.isArray(card)) throw invalid('Invalid object', 'payment_method_options[card]');
  const value = (card as Params).request_three_d_secure;
  if (value === undefined || value === '') return 'automatic';
  if (value !== 'automatic' && value !== 'any' && value !== 'challenge') throw invalid(`Invalid ${param}: must be one of automatic, any, or challenge`, param);
  return value;
}

export function enumOf<T extends string>(params: Params, key: string, values: readonly T[]): T | undefined {
  const v = str(params, key);
  if (v === undefined || v === '') return undefined;
  if (!values.includes(v as T)) throw invalid(`Invalid ${key}: must be one of ${values.join(', ')}`, key);
  return v as T;
}

/** Applies a `metadata` parameter with Stripe's rules: `''` unsets a key, `metadata=` clears all. */
export function applyMetadata(current: Record<string, string>, value: unknown): Record<string, string> {
  if (value === undefined) return current;
  if (value === '') return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('Invalid object', 'metadata');
  const next = { ...current };
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw invalid(`Invalid string: ${JSON.stringify(v)}`, `metadata[${k}]`);
    if (k.length > 40) throw invalid(`Metadata keys can have up to 40 characters; ${k} has ${k.length}.`, `metadata[${k}]`);
    if (v.length > 500) throw invalid(`Metadata values can have up to 500 characters, but you passed in a value that is ${v.length} characters.`, `metadata[${k}]`);
    if (v === '') delete next[k];
    else next[k] = v;
  }
  if (Object.keys(next).length > 50) throw invalid('You can have up to 50 metadata keys.', 'metadata');
  return next;
}

const SYMBOLS: Record<string, string> = { USD: '$', EUR: '€', GBP: '£', JPY: '¥' };

/** `999,999.99` style: Stripe's limit in major units with its own decimals. */
function majorUnits(amount: number, currency: string): string {
  const decimals = stripeDecimals(currency);
  const digits = String(amount).padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return decimals ? `${whole}.${digits.slice(-decimals)}` : whole;
}

/**
 * Stripe's amount rules: at least 1, at most the currency's digit limit (https://docs.stripe.com/currencies,
 * "Maximum charge amounts"), answered like Stripe: 400 `invalid_request_error`, code
 * `amount_too_large`, `param` the amount field, "Amount must be no more than $999,999.99".
 */
function checkAmount(amount: number, currency: string, param: string): void {
  if (amount < 1) throw invalid('This value must be greater than or equal to 1.', param, 'amount_too_small');
  const code = currency.toUpperCase();
  const max = stripeMaxAmount(code);
  if (amount > max) {
    const symbol = SYMBOLS[code];
    throw invalid(`Amount must be no more than ${symbol ? `${symbol}${majorUnits(max, code)}` : `${majorUnits(max, code)} ${code}`}`, param, 'amount_too_large');
  }
  if (STRIPE_THREE_DECIMAL.has(currency.toUpperCase()) && amount % 10 !== 0) {
    throw invalid(`Amounts in ${currency} must be rounded to the nearest ten (the last digit must be 0).`, param, 'invalid_amount');
  }
}

/** Wall-clock Unix seconds (objects on a test clock use the clock's time instead). */
export const now = (): number => Math.floor(Date.now() / 1000);

/** A PaymentMethod the sandbox can charge: a test card, and the Customer it is attached to. */
export interface ChargeablePaymentMethod {
  card: TestCard;
  customer: string | null;
  /** Went through a SetupIntent (cards that ask for authentication only on setup then pay off-session). */
  setUp: boolean;
}

/**
 * What the payment side asks of the billing side (saved PaymentMethods and Customers live there):
 * installed by the billing module; without it only test PaymentMethod ids such as `pm_card_visa` pay.
 */
export interface PaymentMethodDirectory {
  /** The saved PaymentMethod `id`, or a test id turned into a fresh PaymentMethod; undefined if unknown. */
  resolve(id: string, customer: string | null): { id: string; method: ChargeablePaymentMethod } | undefined;
  /** Whether the Customer exists. */
  hasCustomer(id: string): boolean;
  /** Current time for objects of this Customer (its test clock's frozen time, if any). */
  timeOf(customer: string | null): number;
}

/** A charge outcome's card-network advice fields, which the sandbox's test cards never set. */
const NO_ADVICE = { advice_code: null, network_advice_code: null, network_decline_code: null };

const AUTHENTICATION_REQUIRED = { code: 'authentication_required', declineCode: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' };

/** Listener for events the sandbox creates. */
export type EventListener = (event: StripeEvent) => void;

/**
 * How much the sandbox remembers. Stripe keeps objects for ever; a fake that runs for days (the
 * reference server's simulation mode) or under load must not grow without bound, so past these counts
 * the oldest are forgotten: a forgotten object answers 404 `resource_missing`, a forgotten idempotency
 * key is new again (Stripe forgets keys after 24 hours).
 */
export interface SandboxRetention {
  /** PaymentIntents kept, and as many charges and refunds, and of each billing object (customers, subscriptions, invoices...) (default 100 000). */
  objects?: number;
  /** Events kept for `GET /v1/events/:id` (default 10 000). */
  events?: number;
  /** Idempotency keys remembered with their saved responses (default 100 000). */
  idempotencyKeys?: number;
}

const DEFAULT_RETENTION: Required<SandboxRetention> = { objects: 100_000, events: 10_000, idempotencyKeys: 100_000 };

/** The in-memory Stripe account. */
export class SandboxAccount {
  readonly paymentIntents = new Map<string, StripePaymentIntent>();
  readonly charges = new Map<string, StripeCharge>();
  readonly refunds = new Map<string, StripeRefund>();
  /** Disputes by id, each replaced (never mutated) on a change. */
  readonly disputes = new Map<string, Record<string, unknown>>();
  /** The most recent events, oldest first: at least the last `retention.events`, trimmed in batches to that many once twice as many have piled up. */
  readonly events: StripeEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  /** Refunds of each charge, so the refundable remainder is not a scan over every refund. */
  private readonly refundsByCharge = new Map<string, StripeRefund[]>();
  private readonly retention: Required<SandboxRetention>;
  /** Saved PaymentMethods and Customers, when the billing side is installed. */
  directory: PaymentMethodDirectory | null = null;

  constructor(
    private readonly apiVersion: string,
    /** Base URL of the sandbox, for 3-D Secure page links. */
    private readonly baseUrl: () => string,
    retention: SandboxRetention = {},
  ) {
    this.retention = {
      objects: retentionLimit(retention.objects, DEFAULT_RETENTION.objects, 'retention.objects'),
      events: retentionLimit(retention.events, DEFAULT_RETENTION.events, 'retention.events'),
      idempotencyKeys: retentionLimit(retention.idempotencyKeys, DEFAULT_RETENTION.idempotencyKeys, 'retention.idempotencyKeys'),
    };
  }

  /** Subscribes to created events. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records and publishes an event. Invariant: nested values of Stripe objects are replaced, never mutated. */
  /**
   * Records and publishes an event about `object` (billing modules pass their own deep copies).
   * `previous` becomes `data.previous_attributes` of `*.updated` events.
   */
  emitEvent(type: string, object: object, request: RequestInfo | null, previous?: Record<string, unknown>): void {
    this.emit(type, object, request, previous);
  }

  private emit(type: string, object: object, request: RequestInfo | null, previous?: Record<string, unknown>): void {
    const event: StripeEvent = {
      id: stripeId('evt'),
      object: 'event',
      api_version: this.apiVersion,
      created: now(),
      // The event shows the object as it was at that moment. A shallow copy is a true snapshot
      // because this module never mutates nested values in place (it assigns new ones).
      data: previous ? { object: { ...(object as Record<string, unknown>) }, previous_attributes: previous } : { object: { ...(object as Record<string, unknown>) } },
      livemode: false,
      pending_webhooks: 1,
      request: request ? { id: request.requestId, idempotency_key: request.idempotencyKey } : { id: null, idempotency_key: null },
      type,
    };
    pushBounded(this.events, event, this.retention.events);
    for (const listener of this.listeners) listener(event);
  }

  // ---- PaymentIntents -------------------------------------------------------------------------

  createPaymentIntent(params: Params, request: RequestInfo | null): StripePaymentIntent {
    const amount = int(params, 'amount', true)!;
    const currencyRaw = str(params, 'currency');
    if (!currencyRaw) throw invalid('Missing required param: currency.', 'currency', 'parameter_missing');
    if (!/^[a-zA-Z]{3}$/.test(currencyRaw)) throw invalid(`Invalid currency: ${currencyRaw}.`, 'currency', 'invalid_currency' as string);
    const currency = currencyRaw.toLowerCase();
    checkAmount(amount, currency, 'amount');
    const captureMethod = enumOf(params, 'capture_method', ['automatic', 'automatic_async', 'manual'] as const) ?? 'automatic_async';
    const confirm = bool(params, 'confirm') ?? false;
    const customer = str(params, 'customer') || null;
    if (customer && !this.directory?.hasCustomer(customer)) throw missing('customer', customer, 'customer');
    const offSession = offSessionOf(params);
    if (offSession && !confirm) throw invalid('You may only specify `off_session` when `confirm` is true.', 'off_session');
    const requested = str(params, 'payment_method') || null;
    const paymentMethod = requested ? this.paymentMethodOf(requested, customer).id : null;
    const setupFutureUsage = enumOf(params, 'setup_future_usage', ['off_session', 'on_session'] as const) ?? null;
    // `allowed_payment_method_types` is the newer API versions' name (stripe 23 sends only it); older ones send `payment_method_types`.
    const allowed = params.allowed_payment_method_types;
    const typesParam = allowed !== undefined ? 'allowed_payment_method_types' : 'payment_method_types';
    const types = allowed ?? params.payment_method_types;
    if (types !== undefined && (!Array.isArray(types) || types.some((t) => typeof t !== 'string'))) throw invalid('Invalid array', typesParam);
    const requestThreeDSecure = requestThreeDSecureOf(params);
    const id = stripeId('pi');
    const pi: StripePaymentIntent = {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_details: { tip: {} },
      amount_received: 0,
      allowed_payment_method_types: allowed !== undefined ? (allowed as string[]) : null,
      application: null,
      application_fee_amount: null,
      automatic_payment_methods: types ? null : { allow_redirects: 'always', enabled: true },
      canceled_at: null,
      cancellation_reason: null,
      capture_method: captureMethod,
      client_secret: `${id}_secret_${stripeId('x', 25).slice(2)}`,
      confirmation_method: 'automatic',
      created: now(),
      currency,
      customer,
      customer_account: null,
      description: str(params, 'description') || null,
      excluded_payment_method_types: null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      managed_payments: null,
      metadata: applyMetadata({}, params.metadata),
      next_action: null,
      on_behalf_of: null,
      payment_method: paymentMethod,
      payment_method_configuration_details: null,
      payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: requestThreeDSecure } },
      payment_method_types: (types as string[] | undefined) ?? ['card'],
      payment_record: null,
      processing: null,
      receipt_email: str(params, 'receipt_email') || null,
      review: null,
      setup_future_usage: setupFutureUsage,
      shipping: null,
      source: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
      transfer_data: null,
      transfer_group: null,
    };
    if (customer) pi.created = this.directory!.timeOf(customer);
    setBounded(this.paymentIntents, id, pi, this.retention.objects);
    this.emit('payment_intent.created', pi, request);
    if (confirm) {
      if (!paymentMethod) {
        throw invalid(
          'You cannot confirm this PaymentIntent because it\'s missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.',
          undefined,
          'payment_intent_unexpected_state',
          { payment_intent: structuredClone(pi) },
        );
      }
      return this.runConfirm(pi, paymentMethod, str(params, 'return_url') ?? null, request, offSession);
    }
    return pi;
  }

  /**
   * The PaymentMethod behind `id` for a payment of `customer`: a test id (`pm_card_visa`) as is, or a
   * saved one, which must belong to that Customer (Stripe's rule for attached PaymentMethods).
   */
  private paymentMethodOf(id: string, customer: string | null): { id: string; method: ChargeablePaymentMethod } {
    const card = TEST_CARDS[id];
    if (card) return { id, method: { card, customer: null, setUp: false } };
    const saved = this.directory?.resolve(id, customer);
    if (!saved) throw missing('PaymentMethod', id, 'payment_method');
    if (saved.method.customer !== null && saved.method.customer !== customer) {
      throw invalid(
        customer
          ? `The provided PaymentMethod belongs to a different Customer than the one on this PaymentIntent (${customer}).`
          : `The provided PaymentMethod was previously attached to a Customer. To use it, pass its Customer in the \`customer\` parameter.`,
        'payment_method',
      );
    }
    return saved;
  }

  retrievePaymentIntent(id: string): StripePaymentIntent {
    const pi = this.paymentIntents.get(id);
    if (!pi) throw missing('payment_intent', id, 'intent');
    return pi;
  }

  updatePaymentIntent(id: string, params: Params): StripePaymentIntent {
    const pi = this.retrievePaymentIntent(id);
    if (params.metadata !== undefined) pi.metadata = applyMetadata(pi.metadata, params.metadata);
    const description = str(params, 'description');
    if (description !== undefined) pi.description = description || null;
    return pi;
  }

  confirmPaymentIntent(id: string, params: Params, request: RequestInfo): StripePaymentIntent {
    const pi = this.retrievePaymentIntent(id);
    if (pi.status !== 'requires_payment_method' && pi.status !== 'requires_confirmation') throw this.unexpectedState(pi, 'confirm', ['requires_payment_method', 'requires_confirmation']);
    const requested = str(params, 'payment_method') || (pi.payment_method as string | null);
    if (!requested) throw invalid('You must provide a payment method to confirm this PaymentIntent.', 'payment_method', 'payment_intent_unexpected_state');
    const paymentMethod = this.paymentMethodOf(requested, pi.customer as string | null).id;
    return this.runConfirm(pi, paymentMethod, str(params, 'return_url') ?? null, request, offSessionOf(params));
  }

  private runConfirm(pi: StripePaymentIntent, paymentMethod: string, returnUrl: string | null, request: RequestInfo | null, offSession = false): StripePaymentIntent {
    const { method } = this.paymentMethodOf(paymentMethod, pi.customer as string | null);
    let card = method.card;
    pi.payment_method = paymentMethod;
    pi.last_payment_error = null;
    // A card set up for later (SetupIntent) that asks for authentication only on setup pays off-session without it.
    const exempt = offSession && card.setupAuthenticationOnly === true && method.setUp;
    // `request_three_d_secure: any` (or `challenge`) asks for a challenge whatever the card's own
    // rule (https://docs.stripe.com/payments/3d-secure/authentication-flow#manual-three-ds): every
    // test card then answers `requires_action`, and off-session one cannot be answered.
    const requested = (pi.payment_method_options as { card?: { request_three_d_secure?: string } } | null)?.card?.request_three_d_secure;
    const asked = requested === 'any' || requested === 'challenge';
    if (asked) card = { ...card, threeDSecure: true };
    if (card.threeDSecure && offSession && (!exempt || asked)) {
      // Off-session nobody can answer a challenge: Stripe declines with `authentication_required`
      // and the PaymentIntent waits for a new PaymentMethod (or the customer coming back on-session).
      return this.authorise(pi, { ...card, decline: AUTHENTICATION_REQUIRED }, request);
    }
    if (card.threeDSecure && (!exempt || asked)) {
      const url = `${this.baseUrl()}/_sandbox/3ds/${pi.id}`;
      pi.status = 'requires_action';
      pi.next_action = returnUrl
        ? { type: 'redirect_to_url', redirect_to_url: { return_url: returnUrl, url } }
        : { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: url, source: stripeId('src') } };
      this.emit('payment_intent.requires_action', pi, request);
      return pi;
    }
    return this.authorise(pi, card, request);
  }

  /** Finishes a payment once the card (and 3-D Secure, if any) is through. */
  private authorise(pi: StripePaymentIntent, card: TestCard, request: RequestInfo | null): StripePaymentIntent {
    pi.next_action = null;
    const charge = this.createCharge(pi, card);
    pi.latest_charge = charge.id;
    if (card.decline) {
      const error: StripeErrorObject = {
        type: 'card_error',
        code: card.decline.code,
        decline_code: card.decline.declineCode,
        message: card.decline.message,
        charge: charge.id,
        doc_url: `${DOC}${card.decline.code.replace(/_/g, '-')}`,
        payment_method: { id: pi.payment_method!, type: 'card' },
      };
      pi.status = 'requires_payment_method';
      pi.last_payment_error = error;
      this.emit('charge.failed', charge, request);
      this.emit('payment_intent.payment_failed', pi, request);
      throw new SandboxError(402, { ...error, payment_intent: structuredClone(pi) }, true);
    }
    if (pi.capture_method === 'manual') {
      pi.status = 'requires_capture';
      pi.amount_capturable = pi.amount;
      this.emit('charge.succeeded', charge, request);
      this.emit('payment_intent.amount_capturable_updated', pi, request);
    } else {
      pi.status = 'succeeded';
      pi.amount_received = pi.amount;
      charge.captured = true;
      charge.amount_captured = pi.amount;
      this.emit('charge.succeeded', charge, request);
      this.emit('payment_intent.succeeded', pi, request);
    }
    return pi;
  }

  private createCharge(pi: StripePaymentIntent, card: TestCard): StripeCharge {
    const failed = card.decline !== undefined;
    const charge: StripeCharge = {
      id: stripeId('ch'),
      object: 'charge',
      amount: pi.amount,
      amount_captured: 0,
      amount_refunded: 0,
      application: null,
      application_fee: null,
      application_fee_amount: null,
      balance_transaction: null,
      billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null },
      calculated_statement_descriptor: 'TENDER SANDBOX',
      captured: false,
      created: pi.customer ? this.directory!.timeOf(pi.customer as string) : now(),
      currency: pi.currency,
      customer: pi.customer ?? null,
      description: pi.description,
      disputed: false,
      failure_balance_transaction: null,
      failure_code: failed ? card.decline!.code : null,
      failure_message: failed ? card.decline!.message : null,
      fraud_details: {},
      livemode: false,
      on_behalf_of: null,
      metadata: { ...pi.metadata },
      outcome: failed
        ? { ...NO_ADVICE, network_status: 'declined_by_network', reason: card.decline!.declineCode, risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' }
        : { ...NO_ADVICE, network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' },
      paid: !failed,
      payment_intent: pi.id,
      payment_method: pi.payment_method,
      payment_method_details: {
        card: {
          amount_authorized: failed ? null : pi.amount,
          authorization_code: failed ? null : '123456',
          brand: card.brand,
          checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
          country: 'US',
          electronic_commerce_indicator: card.threeDSecure && !failed ? '05' : null,
          exp_month: 12,
          exp_year: 2034,
          funding: 'credit',
          installments: null,
          last4: card.last4,
          mandate: null,
          network: card.brand,
          network_transaction_id: failed ? null : stripeId('x', 15).slice(2),
          regulated_status: 'unregulated',
          three_d_secure: card.threeDSecure && !failed ? { authentication_flow: 'challenge', result: 'authenticated', result_reason: null, version: '2.2.0' } : null,
          transaction_link_id: null,
          wallet: null,
        },
        type: 'card',
      },
      receipt_email: pi.receipt_email ?? null,
      receipt_number: null,
      receipt_url: null,
      refunded: false,
      review: null,
      shipping: null,
      source: null,
      source_transfer: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: failed ? 'failed' : 'succeeded',
      transfer_data: null,
      transfer_group: null,
    };
    setBounded(this.charges, charge.id, charge, this.retention.objects, (id) => this.refundsByCharge.delete(id));
    return charge;
  }

  /** Completes (or fails) a pending 3-D Secure challenge, as the customer would on the bank's page. */
  completeThreeDSecure(id: string, outcome: 'approve' | 'decline'): StripePaymentIntent {
    const pi = this.retrievePaymentIntent(id);
    if (pi.status !== 'requires_action') throw this.unexpectedState(pi, 'authenticate', ['requires_action']);
    const card = this.paymentMethodOf(String(pi.payment_method), pi.customer as string | null).method.card;
    if (outcome === 'decline') {
      pi.status = 'requires_payment_method';
      pi.next_action = null;
      pi.last_payment_error = {
        type: 'invalid_request_error',
        code: 'payment_intent_authentication_failure',
        doc_url: `${DOC}payment-intent-authentication-failure`,
        message: 'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
        payment_method: { id: pi.payment_method!, type: 'card' },
      };
      this.emit('payment_intent.payment_failed', pi, null);
      return pi;
    }
    try {
      return this.authorise(pi, card, null);
    } catch (error) {
      if (error instanceof SandboxError) return pi;
      throw error;
    }
  }

  capturePaymentIntent(id: string, params: Params, request: RequestInfo): StripePaymentIntent {
    const pi = this.retrievePaymentIntent(id);
    if (pi.status !== 'requires_capture') throw this.unexpectedState(pi, 'capture', ['requires_capture']);
    const amount = int(params, 'amount_to_capture') ?? pi.amount_capturable;
    if (amount > pi.amount_capturable) {
      throw invalid(`The amount_to_capture (${amount}) must be less than or equal to the amount_capturable (${pi.amount_capturable}).`, 'amount_to_capture', 'amount_too_large');
    }
    checkAmount(amount, pi.currency, 'amount_to_capture');
    if (params.metadata !== undefined) pi.metadata = applyMetadata(pi.metadata, params.metadata);
    pi.status = 'succeeded';
    pi.amount_received = amount;
    pi.amount_capturable = 0;
    const charge = this.charges.get(pi.latest_charge ?? '');
    if (charge) {
      charge.captured = true;
      charge.amount_captured = amount;
      // Stripe refunds the uncaptured remainder of a partial capture automatically.
      if (amount < charge.amount) charge.amount_refunded = charge.amount - amount;
      this.emit('charge.captured', charge, request);
    }
    this.emit('payment_intent.succeeded', pi, request);
    return pi;
  }

  cancelPaymentIntent(id: string, params: Params, request: RequestInfo): StripePaymentIntent {
    const pi = this.retrievePaymentIntent(id);
    const allowed: StripePaymentIntentStatus[] = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];
    if (!allowed.includes(pi.status)) throw this.unexpectedState(pi, 'cancel', allowed);
    pi.status = 'canceled';
    pi.canceled_at = now();
    pi.cancellation_reason = enumOf(params, 'cancellation_reason', ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const) ?? null;
    pi.amount_capturable = 0;
    pi.next_action = null;
    this.emit('payment_intent.canceled', pi, request);
    return pi;
  }

  /** `GET /v1/payment_intents/search`: supports `metadata['k']:'v'`, `status:'s'`, joined with AND. */
  searchPaymentIntents(query: string): StripePaymentIntent[] {
    const clauses = query.split(/\s+AND\s+/i).map((c) => c.trim()).filter(Boolean);
    if (clauses.length === 0) throw invalid('Missing required param: query.', 'query', 'parameter_missing');
    const tests = clauses.map((clause) => {
      const m = /^metadata\[(["'])(.+?)\1\]:(["'])(.*)\3$/.exec(clause);
      if (m) return (pi: StripePaymentIntent) => pi.metadata[m[2]!] === m[4]!.replace(/\\'/g, "'");
      const s = /^status:(["'])(.+)\1$/.exec(clause);
      if (s) return (pi: StripePaymentIntent) => pi.status === s[2];
      throw invalid(`Unsupported search query clause: ${clause}`, 'query');
    });
    return [...this.paymentIntents.values()].filter((pi) => tests.every((t) => t(pi))).reverse();
  }

  private unexpectedState(pi: StripePaymentIntent, action: string, allowed: readonly string[]): SandboxError {
    return invalid(
      `This PaymentIntent could not be ${action === 'capture' ? 'captured' : action === 'cancel' ? 'canceled' : action === 'confirm' ? 'confirmed' : 'authenticated'} because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be ${action === 'capture' ? 'captured' : action === 'cancel' ? 'canceled' : 'confirmed'}: ${allowed.join(', ')}.`,
      undefined,
      'payment_intent_unexpected_state',
      { payment_intent: structuredClone(pi) },
    );
  }

  // ---- Refunds --------------------------------------------------------------------------------

  createRefund(params: Params, request: RequestInfo | null): StripeRefund {
    const piId = str(params, 'payment_intent');
    const chargeId = str(params, 'charge');
    if (!piId && !chargeId) throw invalid('One of the following params should be provided for this request: payment_intent or charge.', undefined, 'parameter_missing');
    let charge: StripeCharge | undefined;
    let pi: StripePaymentIntent | undefined;
    if (piId) {
      pi = this.paymentIntents.get(piId);
      if (!pi) throw missing('payment_intent', piId, 'payment_intent');
      charge = this.charges.get(pi.latest_charge ?? '');
    } else {
      charge = this.charges.get(chargeId!);
      if (!charge) throw missing('charge', chargeId!, 'charge');
      pi = charge.payment_intent ? this.paymentIntents.get(charge.payment_intent) : undefined;
    }
    if (!charge || !charge.captured || charge.status !== 'succeeded') {
      throw invalid(`This PaymentIntent (${pi?.id ?? chargeId}) does not have a successful charge to refund.`, undefined, 'charge_not_refundable' as string);
    }
    const remaining = charge.amount_captured - this.refundedOf(charge);
    if (remaining <= 0) throw invalid(`Charge ${charge.id} has already been refunded.`, undefined, 'charge_already_refunded');
    const amount = int(params, 'amount') ?? remaining;
    if (amount > remaining) {
      throw invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount', 'amount_too_large');
    }
    checkAmount(amount, charge.currency, 'amount');
    const reason = enumOf(params, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer'] as const) ?? null;
    const refund: StripeRefund = {
      id: stripeId('re'),
      object: 'refund',
      amount,
      balance_transaction: null,
      charge: charge.id,
      created: now(),
      currency: charge.currency,
      customer: charge.customer ?? null,
      customer_account: null,
      destination_details: { card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
      metadata: applyMetadata({}, params.metadata),
      payment_intent: charge.payment_intent,
      payment_method: charge.payment_method,
      reason,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    };
    setBounded(this.refunds, refund.id, refund, this.retention.objects);
    const ofCharge = this.refundsByCharge.get(charge.id);
    if (ofCharge) ofCharge.push(refund);
    else this.refundsByCharge.set(charge.id, [refund]);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded >= charge.amount;
    this.emit('refund.created', refund, request);
    this.emit('charge.refunded', charge, request);
    const card = TEST_CARDS[String(charge.payment_method)];
    if (card?.refundFails) setImmediate(() => this.failRefund(refund.id, 'expired_or_canceled_card'));
    return refund;
  }

  /** Moves a refund to `failed` (the card could not take it), as Stripe reports it later. */
  failRefund(id: string, failureReason = 'declined'): StripeRefund {
    const refund = this.refunds.get(id);
    if (!refund) throw missing('refund', id);
    if (refund.status === 'failed') return refund;
    refund.status = 'failed';
    refund.failure_reason = failureReason;
    const charge = this.charges.get(refund.charge ?? '');
    if (charge) {
      charge.amount_refunded -= refund.amount;
      charge.refunded = false;
    }
    this.emit('refund.updated', refund, null);
    this.emit('refund.failed', refund, null);
    return refund;
  }

  private refundedOf(charge: StripeCharge): number {
    // Partial capture releases the rest without a Refund object; count only real refunds here.
    let total = 0;
    for (const r of this.refundsByCharge.get(charge.id) ?? []) if (r.status !== 'failed' && r.status !== 'canceled') total += r.amount;
    return total;
  }

  retrieveRefund(id: string): StripeRefund {
    const refund = this.refunds.get(id);
    if (!refund) throw missing('refund', id);
    return refund;
  }

  /** Refunds newest first, optionally for one PaymentIntent or Charge. */
  listRefunds(filter: { paymentIntent?: string; charge?: string }): StripeRefund[] {
    return [...this.refunds.values()]
      .filter((r) => (!filter.paymentIntent || r.payment_intent === filter.paymentIntent) && (!filter.charge || r.charge === filter.charge))
      .reverse();
  }

  retrieveCharge(id: string): StripeCharge {
    const charge = this.charges.get(id);
    if (!charge) throw missing('charge', id);
    return charge;
  }

  /**
   * Opens a dispute on a payment's charge (`charge.dispute.created`). With `inquiry`, an inquiry
   * (`warning_needs_response`, https://docs.stripe.com/disputes/how-disputes-work#inquiries): no
   * funds move. Otherwise a chargeback, whose amount Stripe withdraws at once
   * (`charge.dispute.funds_withdrawn`).
   */
  createDispute(paymentIntentId: string, reason = 'fraudulent', options: { inquiry?: boolean; amount?: number } = {}): Record<string, unknown> {
    const pi = this.retrievePaymentIntent(paymentIntentId);
    const charge = this.retrieveCharge(pi.latest_charge ?? '');
    charge.disputed = true;
    const dispute = {
      id: stripeId('dp'),
      object: 'dispute',
      amount: options.amount ?? charge.amount_captured,
      balance_transactions: [],
      charge: charge.id,
      created: now(),
      currency: charge.currency,
      enhanced_eligibility_types: [],
      evidence: { ...Object.fromEntries(DISPUTE_EVIDENCE_FIELDS.map((field) => [field, null])), enhanced_evidence: {} },
      intended_submission_method: null,
      evidence_details: { due_by: now() + 7 * 86400, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0, submission_method: 'not_submitted' },
      is_charge_refundable: false,
      livemode: false,
      metadata: {},
      payment_intent: pi.id,
      reason,
      status: options.inquiry ? 'warning_needs_response' : 'needs_response',
    };
    this.disputes.set(dispute.id, dispute);
    this.emit('charge.dispute.created', dispute, null);
    if (!options.inquiry) this.emit('charge.dispute.funds_withdrawn', dispute, null);
    return dispute;
  }

  /** Disputes newest first, optionally of one PaymentIntent or Charge (`GET /v1/disputes`). */
  listDisputes(filter: { paymentIntent?: string; charge?: string }): Record<string, unknown>[] {
    return [...this.disputes.values()].filter((d) => (!filter.paymentIntent || d.payment_intent === filter.paymentIntent) && (!filter.charge || d.charge === filter.charge)).reverse();
  }

  /**
   * `POST /v1/disputes/:id`: evidence, submitted at once unless `submit=false`
   * (https://docs.stripe.com/api/disputes/update): a chargeback goes `under_review`, an inquiry
   * `warning_under_review`.
   */
  submitDisputeEvidence(id: string, params: Record<string, unknown>): Record<string, unknown> {
    const current = this.retrieveDispute(id);
    const status = String(current.status);
    if (status !== 'needs_response' && status !== 'warning_needs_response') throw invalid(`This dispute is ${status} and no longer accepts evidence.`, 'evidence');
    if (params.submit === 'false') return current;
    return this.updateDispute(id, status === 'needs_response' ? 'under_review' : 'warning_under_review');
  }

  /**
   * `POST /v1/disputes/:id/close`: the merchant accepts the dispute; Stripe marks it `lost`
   * (https://docs.stripe.com/api/disputes/close) and sends `charge.dispute.closed`.
   */
  closeDispute(id: string): Record<string, unknown> {
    const status = String(this.retrieveDispute(id).status);
    if (status !== 'needs_response' && status !== 'warning_needs_response') throw invalid(`This dispute is ${status} and cannot be closed.`, 'id');
    return this.updateDispute(id, status === 'needs_response' ? 'lost' : 'warning_closed');
  }

  /** A dispute by id (`GET /v1/disputes/:id`). */
  retrieveDispute(id: string): Record<string, unknown> {
    const dispute = this.disputes.get(id);
    if (!dispute) throw missing('dispute', id);
    return dispute;
  }

  /**
   * Moves a dispute as Stripe would (https://docs.stripe.com/api/events/types): `charge.dispute.closed`
   * when it reaches `won`, `lost` or `warning_closed` (with `charge.dispute.funds_reinstated` when a
   * chargeback is won), `charge.dispute.updated` for any other change (evidence submitted). An
   * inquiry that escalates (`needs_response` from `warning_*`) has its funds withdrawn.
   */
  updateDispute(id: string, status: 'warning_under_review' | 'warning_closed' | 'needs_response' | 'under_review' | 'won' | 'lost'): Record<string, unknown> {
    const current = this.retrieveDispute(id);
    const from = String(current.status);
    if (['won', 'lost', 'warning_closed'].includes(from)) throw invalid(`This dispute is already closed (${from}).`, 'status');
    const submitted = status === 'under_review' || status === 'warning_under_review';
    const details = current.evidence_details as Record<string, unknown>;
    const dispute = {
      ...current,
      status,
      evidence_details: submitted ? { ...details, has_evidence: true, submission_count: Number(details.submission_count) + 1, submission_method: 'manual' } : details,
    };
    this.disputes.set(id, dispute);
    if (status === 'won' || status === 'lost' || status === 'warning_closed') {
      this.emit('charge.dispute.closed', dispute, null);
      if (status === 'won' && !from.startsWith('warning_')) this.emit('charge.dispute.funds_reinstated', dispute, null);
    } else {
      this.emit('charge.dispute.updated', dispute, null, { status: from });
      if (status === 'needs_response' && from.startsWith('warning_')) this.emit('charge.dispute.funds_withdrawn', dispute, null);
    }
    return dispute;
  }
}

/** `off_session`: a boolean, or Stripe's `one_off` / `recurring` (both mean off-session). */
function offSessionOf(params: Params): boolean {
  const v = params.off_session;
  if (v === undefined || v === 'false') return false;
  if (v === 'true' || v === 'one_off' || v === 'recurring') return true;
  throw invalid(`Invalid off_session: must be a boolean, one_off or recurring`, 'off_session');
}

/** Fields of a dispute's `evidence`, none given yet (https://docs.stripe.com/api/disputes/object#dispute_object-evidence). */
const DISPUTE_EVIDENCE_FIELDS = [
  'access_activity_log', 'billing_address', 'cancellation_policy', 'cancellation_policy_disclosure', 'cancellation_rebuttal', 'customer_communication',
  'customer_email_address', 'customer_name', 'customer_purchase_ip', 'customer_signature', 'duplicate_charge_documentation', 'duplicate_charge_explanation',
  'duplicate_charge_id', 'product_description', 'receipt', 'refund_policy', 'refund_policy_disclosure', 'refund_refusal_explanation',
  'service_date', 'service_documentation', 'shipping_address', 'shipping_carrier', 'shipping_date', 'shipping_documentation', 'shipping_tracking_number',
  'uncategorized_file', 'uncategorized_text',
] as const;
