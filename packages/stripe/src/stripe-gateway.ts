/**
 * The Stripe gateway: PaymentIntents and Refunds over Stripe's REST API (form-encoded v1), sent
 * through core's HttpTransport so retries, circuit breaking and metrics match every other gateway.
 *
 * @module
 */
import * as core from '@tender/core';
import {
  TenderError,
  type ClientConfig,
  type GatewayCallContext,
  type GatewayCancelInput,
  type GatewayCaptureInput,
  type GatewayCreatePaymentInput,
  type GatewayPaymentResult,
  type GatewayRefundInput,
  type GatewayRefundResult,
  type GatewayRetrieveInput,
  type GatewayV1,
  type ParsedWebhook,
  type WebhookRequest,
} from '@tender/core';
import { toStripeAmount } from './amounts';
import {
  METADATA_ORDER_ID,
  METADATA_PAYMENT_ID,
  METADATA_REFUND_ID,
  STRIPE_DEFAULT_TOLERANCE_SECONDS,
  type StripeGatewayOptions,
} from './config';
import { STRIPE_CURRENCIES, STRIPE_PAYMENT_METHODS, stripeMaxAmount, stripeMaxAmountMinor } from './currencies';
import type { FormValue } from './form-encoding';
import { ListSchema, read, readPaymentIntent, readRefund, unusableAnswer } from './schemas';
import { verifyStripeSignature } from './signature';
import type { StripeErrorObject, StripeEvent, StripePaymentIntent, StripeRefund } from './stripe-types';
import { stripeBillingOver } from './stripe-billing';
import { stripeGatewayBilling } from './stripe-gateway-billing';
import { createStripeRequester, type StripeCall } from './stripe-requests';
import { stripeSettlements } from './settlements';
import { eventToWebhookEvents, paymentIntentToResult, refundToResult, stripeErrorToTenderError } from './transformers';

/** Refund reasons Stripe accepts in its `reason` enum; anything else travels in metadata. */
const STRIPE_REFUND_REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);

/** The Stripe gateway object: Gateway spec v1 plus Stripe-specific helpers. */
export interface StripeGateway extends GatewayV1 {
  readonly id: 'stripe';
  /** Stripe Customers (`POST /v1/customers`). */
  customers: NonNullable<GatewayV1['customers']>;
  /** Cards saved on Customers through SetupIntents, detached, made the invoice default. */
  savedMethods: NonNullable<GatewayV1['savedMethods']>;
  /** Stripe Billing subscriptions and their invoices. */
  subscriptions: NonNullable<GatewayV1['subscriptions']>;
  /** Throws the `invalid_request_error` `createPayment` would throw before sending; no I/O. */
  validateCreate(input: GatewayCreatePaymentInput): void;
  /** Synchronous here: verification needs no I/O. */
  verifyWebhook(request: WebhookRequest, now: Date): void;
  /** Synchronous here: parsing needs no I/O. */
  parseWebhook(request: WebhookRequest): ParsedWebhook;
  clientConfig(input?: { paymentMethod?: string; currency?: string }): ClientConfig;
  /** Releases the transport's pooled connections when this gateway created it. */
  close(): Promise<void>;
}

type CallOptions = StripeCall;

/**
 * Creates the Stripe gateway (id `stripe`).
 * @example
 * const stripe = createStripeGateway({ secretKey: process.env.STRIPE_SECRET_KEY!, webhookSecret: process.env.STRIPE_WEBHOOK_SECRET });
 */
export function createStripeGateway(options: StripeGatewayOptions): StripeGateway {
  const requester = createStripeRequester(options);
  const send = requester.send;
  // The Billing client's calls over this gateway's requester: one transport, one circuit.
  const billing = stripeGatewayBilling(stripeBillingOver(requester), options.testClock ? { testClock: options.testClock } : {});
  const secrets = options.webhookSecret === undefined ? [] : typeof options.webhookSecret === 'string' ? [options.webhookSecret] : [...options.webhookSecret];
  const tolerance = options.webhookToleranceSeconds ?? STRIPE_DEFAULT_TOLERANCE_SECONDS;

  /** A 2xx answer's JSON, or the TenderError for Stripe's error answer. */
  async function ok(method: 'GET' | 'POST', path: string, params: Record<string, FormValue> | undefined, call: CallOptions): Promise<unknown> {
    const res = await send(method, path, params, call);
    if (res.status >= 200 && res.status < 300) return res.json;
    throw stripeErrorToTenderError((res.json as { error?: StripeErrorObject } | null)?.error, {
      status: res.status,
      headers: res.headers,
      mutating: method === 'POST',
      operation: call.operation,
    });
  }

  /** An answer that must be a PaymentIntent (a typed gateway_error naming what is missing otherwise). */
  function paymentIntentOf(json: unknown, operation: string, mutating: boolean): StripePaymentIntent {
    const parsed = readPaymentIntent(json);
    if (!parsed.ok) throw unusableAnswer(operation, parsed.problems, mutating);
    return parsed.value;
  }

  function refundOf(json: unknown, operation: string, mutating: boolean, prefix?: string): StripeRefund {
    const parsed = readRefund(json, prefix);
    if (!parsed.ok) throw unusableAnswer(operation, parsed.problems, mutating);
    return parsed.value;
  }

  function listOf(json: unknown, operation: string): { data: unknown[]; has_more: boolean } {
    const parsed = read<{ data: unknown[]; has_more: boolean }>(ListSchema, json);
    if (!parsed.ok) throw unusableAnswer(operation, parsed.problems, false);
    return parsed.value;
  }

  /** Finds the PaymentIntent we created for a payment whose create response was lost. */
  async function findByPaymentId(paymentId: string, ctx: GatewayCallContext): Promise<StripePaymentIntent | null> {
    const query = `metadata['${METADATA_PAYMENT_ID}']:'${paymentId.replace(/'/g, "\\'")}'`;
    const operation = 'search_payment_intents';
    const list = listOf(await ok('GET', 'payment_intents/search', { query, limit: 1 }, { operation, ...(ctx.signal ? { signal: ctx.signal } : {}) }), operation);
    return list.data.length > 0 ? paymentIntentOf(list.data[0], operation, false) : null;
  }

  async function listRefunds(paymentIntentId: string, ctx: GatewayCallContext): Promise<StripeRefund[]> {
    const refunds: StripeRefund[] = [];
    const operation = 'list_refunds';
    let startingAfter: string | undefined;
    for (;;) {
      const page = listOf(
        await ok('GET', 'refunds', { payment_intent: paymentIntentId, limit: 100, starting_after: startingAfter }, { operation, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
        operation,
      );
      const items = page.data.map((item, i) => refundOf(item, operation, false, `data.${i}.`));
      refunds.push(...items);
      if (!page.has_more || items.length === 0) return refunds;
      startingAfter = items[items.length - 1]!.id;
    }
  }

  const signalOf = (ctx: GatewayCallContext) => (ctx.signal ? { signal: ctx.signal } : {});

  const gateway: StripeGateway = {
    specVersion: 'v1',
    id: 'stripe',
    capabilities: {
      paymentMethods: STRIPE_PAYMENT_METHODS,
      currencies: STRIPE_CURRENCIES,
      manualCapture: true,
      partialCapture: true,
      partialRefund: true,
      cancel: true,
      retrieve: true,
      maxAmountMinor: stripeMaxAmountMinor(),
      customers: true,
      savedMethods: true,
      subscriptions: true,
      settlements: true,
    },
    customers: billing.customers,
    settlements: stripeSettlements(requester),
    savedMethods: billing.savedMethods,
    subscriptions: billing.subscriptions,
    // The transport's own figures (an injected transport's too).
    worstCaseCallMs: requester.transport.worstCaseMs,
    canSend: () => requester.transport.circuitState !== 'open',

    validateCreate(input: GatewayCreatePaymentInput): void {
      createParams(input);
    },

    async createPayment(input: GatewayCreatePaymentInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult> {
      const params = createParams(input);
      const res = await send('POST', 'payment_intents', params, { operation: 'create_payment', idempotencyKey: ctx.idempotencyKey, ...signalOf(ctx) });
      if (res.status >= 200 && res.status < 300) return paymentIntentToResult(paymentIntentOf(res.json, 'create_payment', true));
      const error = (res.json as { error?: StripeErrorObject } | null)?.error;
      // A declined confirmation is an answer, not an error: Stripe hands back the PaymentIntent.
      const declined = error?.type === 'card_error' && error.payment_intent ? readPaymentIntent(error.payment_intent) : null;
      if (error && declined?.ok) {
        const result = paymentIntentToResult(declined.value);
        if (result.status !== 'FAILED') {
          result.status = 'FAILED';
          result.nextAction = null;
          result.failure = { code: error.code ?? 'card_declined', message: error.message ?? 'The card was declined', ...(error.decline_code ? { declineCode: error.decline_code } : {}) };
        }
        return result;
      }
      throw stripeErrorToTenderError(error, { status: res.status, headers: res.headers, mutating: true, operation: 'create_payment' });
    },

    async capture(input: GatewayCaptureInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult> {
      const json = await ok(
        'POST',
        `payment_intents/${encodeURIComponent(input.gatewayReference)}/capture`,
        { amount_to_capture: toStripeAmount(input.amount) },
        { operation: 'capture', idempotencyKey: ctx.idempotencyKey, ...signalOf(ctx) },
      );
      return paymentIntentToResult(paymentIntentOf(json, 'capture', true));
    },

    async cancel(input: GatewayCancelInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult> {
      let reference = input.gatewayReference;
      if (!reference) {
        const found = await findByPaymentId(input.paymentId, ctx);
        // Nothing reached Stripe: there is nothing to void.
        if (!found) return { status: 'CANCELLED', gatewayReference: null };
        reference = found.id;
      }
      const json = await ok('POST', `payment_intents/${encodeURIComponent(reference)}/cancel`, {}, {
        operation: 'cancel',
        idempotencyKey: ctx.idempotencyKey,
        ...signalOf(ctx),
      });
      return paymentIntentToResult(paymentIntentOf(json, 'cancel', true));
    },

    async refund(input: GatewayRefundInput, ctx: GatewayCallContext): Promise<GatewayRefundResult> {
      const reason = input.reason ?? undefined;
      const known = reason !== undefined && STRIPE_REFUND_REASONS.has(reason);
      const json = await ok(
        'POST',
        'refunds',
        {
          payment_intent: input.gatewayReference,
          amount: toStripeAmount(input.amount),
          reason: known ? reason : undefined,
          metadata: {
            [METADATA_REFUND_ID]: input.refundId,
            [METADATA_PAYMENT_ID]: input.paymentId,
            ...(reason !== undefined && !known ? { tender_reason: reason.slice(0, 500) } : {}),
          },
        },
        { operation: 'refund', idempotencyKey: ctx.idempotencyKey, ...signalOf(ctx) },
      );
      return refundToResult(refundOf(json, 'refund', true));
    },

    async retrieve(input: GatewayRetrieveInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult> {
      let pi: StripePaymentIntent | null;
      if (input.gatewayReference) {
        const res = await send('GET', `payment_intents/${encodeURIComponent(input.gatewayReference)}`, undefined, { operation: 'retrieve', ...signalOf(ctx) });
        if (res.status === 404) throw core.notFound('Stripe PaymentIntent', input.gatewayReference);
        if (res.status >= 300) throw stripeErrorToTenderError((res.json as { error?: StripeErrorObject })?.error, { status: res.status, headers: res.headers, mutating: false, operation: 'retrieve' });
        pi = paymentIntentOf(res.json, 'retrieve', false);
      } else {
        pi = await findByPaymentId(input.paymentId, ctx);
        // Stripe's search index can lag a write by up to a minute; the reconciler only requeries
        // payments older than its threshold, so by then "not found" means it never reached Stripe.
        if (!pi) throw core.notFound('Stripe PaymentIntent for payment', input.paymentId);
      }
      const refunds = pi.status === 'succeeded' && pi.latest_charge ? await listRefunds(pi.id, ctx) : undefined;
      return paymentIntentToResult(pi, refunds);
    },

    async retrieveRefund(input, ctx): Promise<GatewayRefundResult> {
      if (input.gatewayReference) {
        const json = await ok('GET', `refunds/${encodeURIComponent(input.gatewayReference)}`, undefined, { operation: 'retrieve_refund', ...signalOf(ctx) });
        return refundToResult(refundOf(json, 'retrieve_refund', false));
      }
      if (!input.paymentGatewayReference) throw core.notFound('refund', input.refundId);
      const refunds = await listRefunds(input.paymentGatewayReference, ctx);
      const match = refunds.find((r) => (r.metadata as Record<string, unknown> | null | undefined)?.[METADATA_REFUND_ID] === input.refundId);
      if (!match) throw core.notFound('refund', input.refundId);
      return refundToResult(match);
    },

    verifyWebhook(request: WebhookRequest, now: Date): void {
      if (secrets.length === 0) {
        throw new TenderError({ type: 'api_error', code: 'webhook_secret_missing', message: 'No Stripe webhook signing secret is configured (webhookSecret)' });
      }
      verifyStripeSignature(request.rawBody, request.headers['stripe-signature'], secrets, { toleranceSeconds: tolerance, now });
    },

    parseWebhook(request: WebhookRequest): ParsedWebhook {
      let event: StripeEvent;
      try {
        event = JSON.parse(Buffer.from(request.rawBody.buffer, request.rawBody.byteOffset, request.rawBody.byteLength).toString('utf8')) as StripeEvent;
      } catch {
        throw core.invalidRequest('invalid_webhook_payload', 'Stripe webhook body is not JSON');
      }
      return {
        // Validates the Event and each object it uses (requery, or a 400 naming the field).
        events: eventToWebhookEvents(event),
        acknowledgement: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' },
      };
    },

    clientConfig(): ClientConfig {
      if (!options.publishableKey) {
        throw new TenderError({ type: 'invalid_request_error', code: 'client_config_unavailable', message: 'Stripe publishableKey is not configured' });
      }
      return { gateway: 'stripe', params: { publishableKey: options.publishableKey, apiVersion: requester.apiVersion } };
    },

    async close(): Promise<void> {
      await requester.close();
    },
  };
  return gateway;
}

/**
 * The PaymentIntent create parameters for a payment, after every check made before sending: a payment
 * method this package can send, an amount Stripe can represent in the currency ({@link toStripeAmount}:
 * KWD in tens of fils, MGA whole, ISK and UGX ×100 and whole), and Stripe's maximum charge.
 * `validateCreate` and `createPayment` both call it, so the engine's pre-store check and the create
 * cannot disagree.
 * @throws TenderError `invalid_request_error`: `payment_method_not_supported` (`payment_method`),
 *   `amount_not_supported` or `amount_too_large` (`amount`).
 */
function createParams(input: GatewayCreatePaymentInput): Record<string, FormValue> {
  const pm = input.paymentMethod;
  const confirm = typeof pm === 'string' && pm.startsWith('pm_');
  const card = typeof pm === 'string' && pm.toLowerCase() === 'card';
  if (pm !== null && !confirm && !card) {
    throw core.invalidRequest('payment_method_not_supported', `Stripe takes a PaymentMethod id (pm_...) or 'card', not '${pm}'`, 'payment_method');
  }
  const amount = toStripeAmount(input.amount);
  if (amount > stripeMaxAmount(input.amount.currency)) {
    throw core.invalidRequest('amount_too_large', `Stripe takes at most ${stripeMaxAmount(input.amount.currency)} in ${input.amount.currency}'s smallest unit; got ${amount}`, 'amount');
  }
  const params: Record<string, FormValue> = {
    amount,
    currency: input.amount.currency.toLowerCase(),
    capture_method: input.captureMethod === 'manual' ? 'manual' : 'automatic',
    description: input.description ?? undefined,
    metadata: {
      ...input.metadata,
      [METADATA_PAYMENT_ID]: input.paymentId,
      ...(input.orderId ? { [METADATA_ORDER_ID]: input.orderId } : {}),
    },
  };
  // Stripe's name for the card-only restriction since API 2026-10-28 (`payment_method_types` before).
  if (input.savedMethod) {
    if (!confirm) throw core.invalidRequest('payment_method_not_supported', 'A saved Stripe payment method is a PaymentMethod id (pm_...)', 'payment_method');
    // A saved card charged on its Customer; without the customer present it is a merchant-initiated
    // charge (`off_session=true`), which Stripe declines with `authentication_required` when the
    // bank insists on 3-D Secure (https://docs.stripe.com/payments/save-and-reuse#charge-saved-payment-method).
    params.customer = input.savedMethod.gatewayCustomerId;
    params.payment_method = pm;
    params.confirm = true;
    params.allowed_payment_method_types = ['card'];
    if (input.savedMethod.offSession) params.off_session = true;
    else if (input.returnUrl) params.return_url = input.returnUrl;
  } else if (confirm) {
    params.payment_method = pm;
    params.confirm = true;
    // Cards only, so a 3-D Secure challenge can come back to return_url when one is given.
    params.allowed_payment_method_types = ['card'];
    if (input.returnUrl) params.return_url = input.returnUrl;
  } else if (card) {
    params.allowed_payment_method_types = ['card'];
  }
  // A risk step-up: ask the card's bank for 3-D Secure whatever Stripe's own rules would decide
  // (https://docs.stripe.com/api/payment_intents/create#create_payment_intent-payment_method_options-card-request_three_d_secure).
  if (input.threeDSecure === 'required') params.payment_method_options = { card: { request_three_d_secure: 'any' } };
  return params;
}

