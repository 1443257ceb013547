/**
 * Stripe JSON <-> Tender's normalised shapes: PaymentIntent -> payment result, Refund -> refund result,
 * error JSON -> TenderError, Event -> webhook events.
 *
 * @module
 */
import {
  GATEWAY_OUTCOME_UNKNOWN,
  TenderError,
  type FailureReason,
  type GatewayPaymentResult,
  type GatewayRefundResult,
  type Money,
  type WebhookEvent,
} from '@tender/core';
import { fromStripeAmount } from './amounts';
import { METADATA_ORDER_ID, METADATA_PAYMENT_ID, METADATA_REFUND_ID } from './config';
import type {
  StripeCharge,
  StripeDispute,
  StripeErrorObject,
  StripeEvent,
  StripePaymentIntent,
  StripeRefund,
} from './stripe-types';

/** A failure reason from Stripe's error object (`decline_code` kept apart from `code`). */
export function failureFromStripeError(error: StripeErrorObject): FailureReason {
  const failure: FailureReason = {
    code: error.code ?? error.type ?? 'payment_failed',
    message: error.message ?? 'The payment failed',
  };
  if (error.decline_code) failure.declineCode = error.decline_code;
  return failure;
}

/**
 * Maps a PaymentIntent to Tender's view. `requires_payment_method` after a failed attempt is
 * `FAILED` (Tender confirms server-side, so a decline ends the attempt); without a failed attempt it
 * is waiting for Stripe.js to collect a method, so `REQUIRES_ACTION` with the client secret.
 */
export function paymentIntentToResult(pi: StripePaymentIntent, refunds?: readonly StripeRefund[]): GatewayPaymentResult {
  const amount = fromStripeAmount(pi.amount, pi.currency);
  const result: GatewayPaymentResult = {
    status: 'PENDING',
    gatewayReference: pi.id,
    amount,
    nextAction: null,
    failure: null,
    gatewayData: {
      paymentIntentId: pi.id,
      stripeStatus: pi.status,
      captureMethod: pi.capture_method,
      latestCharge: pi.latest_charge,
      ...(pi.payment_method ? { paymentMethod: pi.payment_method } : {}),
    },
  };
  const clientSecretAction = (action?: Record<string, unknown> | null) => ({
    type: 'client_secret' as const,
    clientSecret: pi.client_secret ?? '',
    ...(action ? { action } : {}),
  });
  switch (pi.status) {
    case 'requires_payment_method':
      if (pi.last_payment_error) {
        result.status = 'FAILED';
        result.failure = failureFromStripeError(pi.last_payment_error);
      } else {
        result.status = 'REQUIRES_ACTION';
        result.nextAction = clientSecretAction();
      }
      break;
    case 'requires_confirmation':
      result.status = 'REQUIRES_ACTION';
      result.nextAction = clientSecretAction();
      break;
    case 'requires_action':
      result.status = 'REQUIRES_ACTION';
      result.nextAction = clientSecretAction(pi.next_action);
      break;
    case 'processing':
      result.status = 'PROCESSING';
      break;
    case 'requires_capture':
      result.status = 'AUTHORIZED';
      break;
    case 'succeeded': {
      const captured = fromStripeAmount(pi.amount_received, pi.currency);
      result.status = 'CAPTURED';
      result.amountCaptured = captured;
      if (refunds) {
        const refunded = sumRefunded(refunds, captured);
        if (!refunded.isZero()) result.status = refunded.compare(captured) >= 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
      }
      break;
    }
    case 'canceled':
      result.status = 'CANCELLED';
      break;
    default:
      throw new TenderError({
        type: 'gateway_error',
        code: 'unexpected_gateway_status',
        message: `Stripe returned an unknown PaymentIntent status '${String(pi.status)}'`,
      });
  }
  if (refunds) result.refunds = refunds.map(refundToResult);
  return result;
}

function sumRefunded(refunds: readonly StripeRefund[], zeroLike: Money): Money {
  let total = zeroLike.subtract(zeroLike);
  for (const r of refunds) {
    if (r.status === 'failed' || r.status === 'canceled') continue;
    total = total.add(fromStripeAmount(r.amount, r.currency));
  }
  return total;
}

/** Maps a Stripe Refund to Tender's refund result (`refundId` from our metadata, if we made it). */
export function refundToResult(refund: StripeRefund): GatewayRefundResult {
  const status = refund.status === 'succeeded' ? 'SUCCEEDED' : refund.status === 'failed' || refund.status === 'canceled' ? 'FAILED' : 'PENDING';
  const result: GatewayRefundResult = {
    status,
    gatewayReference: refund.id,
    amount: fromStripeAmount(refund.amount, refund.currency),
    refundId: refund.metadata?.[METADATA_REFUND_ID] ?? null,
    failure: null,
  };
  if (status === 'FAILED') {
    const code = refund.failure_reason ?? (refund.status === 'canceled' ? 'canceled' : 'unknown');
    result.failure = { code, message: `Stripe refund ${refund.status}: ${code}` };
  }
  return result;
}

/** Where an HTTP error came from and whether it may have had an effect. */
export interface ErrorContext {
  status: number;
  headers: Record<string, string>;
  /** True for calls that can move money (create, confirm, capture, cancel, refund). */
  mutating: boolean;
  operation: string;
}

/**
 * Maps Stripe's error JSON to a TenderError (research §1.6). Card errors are `gateway_error`s with
 * the decline kept in `details`; callers that can turn a decline into a `FAILED` payment do so
 * before calling this. 5xx on a mutating call means the outcome is unknown (Stripe may have acted).
 */
export function stripeErrorToTenderError(error: StripeErrorObject | undefined, context: ErrorContext): TenderError {
  const { status, headers } = context;
  const type = error?.type ?? 'api_error';
  const code = error?.code;
  const message = `Stripe ${context.operation} failed: ${error?.message ?? `HTTP ${status}`}`;
  const details: Record<string, unknown> = { stripeStatus: status, stripeType: type };
  if (code) details.stripeCode = code;
  if (error?.decline_code) details.declineCode = error.decline_code;
  if (error?.param) details.stripeParam = error.param;
  if (headers['request-id']) details.requestId = headers['request-id'];
  const retryAfter = Number(headers['retry-after']);
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;

  if (type === 'idempotency_error') {
    return new TenderError({ type: 'idempotency_error', code: code ?? 'idempotency_key_reused', status: 422, message, details });
  }
  if (status === 429 || code === 'rate_limit') {
    return new TenderError({ type: 'rate_limit_error', code: code ?? 'rate_limit', message, details, retryable: true, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) });
  }
  if (status === 409) {
    return new TenderError({ type: 'gateway_error', code: code ?? 'idempotency_key_in_use', message, details, retryable: true });
  }
  if (status >= 500 || status === 424) {
    if (context.mutating) {
      return new TenderError({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN, message, details: { ...details, requestSent: true } });
    }
    return new TenderError({ type: 'gateway_error', code: code ?? 'stripe_api_error', message, details, retryable: true });
  }
  if (type === 'card_error' || status === 402) {
    return new TenderError({ type: 'gateway_error', code: code ?? 'card_declined', status: 402, message, details });
  }
  if (status === 401 || status === 403) {
    return new TenderError({ type: 'gateway_error', code: status === 401 ? 'gateway_authentication_failed' : 'gateway_permission_denied', message, details });
  }
  if (status === 404) {
    return new TenderError({ type: 'gateway_error', code: code ?? 'resource_missing', message, details });
  }
  // Remaining 400s are parameter problems; surface them to the caller as a 400 naming Tender's field.
  const param = error?.param ? tenderParam(error.param) : undefined;
  return new TenderError({ type: 'invalid_request_error', code: code ?? 'invalid_request', message, details, ...(param ? { param } : {}) });
}

function tenderParam(stripeParam: string): string {
  if (stripeParam === 'amount' || stripeParam === 'amount_to_capture') return 'amount';
  if (stripeParam === 'currency') return 'currency';
  if (stripeParam === 'payment_method') return 'payment_method';
  return stripeParam;
}

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}

/** PaymentIntent event types mapped to payment results. */
export const PAYMENT_INTENT_EVENTS: ReadonlySet<string> = new Set([
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.amount_capturable_updated',
  'payment_intent.requires_action',
  'payment_intent.processing',
]);

/** Refund event types mapped to refund results. */
export const REFUND_EVENTS: ReadonlySet<string> = new Set(['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated']);

/** Turns one Stripe Event into Tender's normalised webhook events. */
export function eventToWebhookEvents(event: StripeEvent): WebhookEvent[] {
  const object = event.data?.object ?? {};
  const occurredAt = iso(event.created);
  if (PAYMENT_INTENT_EVENTS.has(event.type)) {
    const pi = object as unknown as StripePaymentIntent;
    const result = paymentIntentToResult(pi);
    if (event.type === 'payment_intent.payment_failed' && result.status !== 'FAILED') {
      result.status = 'FAILED';
      result.failure = pi.last_payment_error ? failureFromStripeError(pi.last_payment_error) : { code: 'payment_failed', message: 'The payment failed' };
      result.nextAction = null;
    }
    return [
      {
        kind: 'payment',
        eventId: event.id,
        paymentId: pi.metadata?.[METADATA_PAYMENT_ID] ?? null,
        gatewayReference: pi.id,
        orderId: pi.metadata?.[METADATA_ORDER_ID] ?? null,
        result,
        occurredAt,
      },
    ];
  }
  if (REFUND_EVENTS.has(event.type)) {
    const refund = object as unknown as StripeRefund;
    return [
      {
        kind: 'refund',
        eventId: event.id,
        paymentId: refund.metadata?.[METADATA_PAYMENT_ID] ?? null,
        gatewayReference: refund.payment_intent,
        refund: refundToResult(refund),
        occurredAt,
      },
    ];
  }
  if (event.type === 'charge.refunded') {
    const charge = object as unknown as StripeCharge;
    const base = { eventId: event.id, paymentId: charge.metadata?.[METADATA_PAYMENT_ID] ?? null, gatewayReference: charge.payment_intent, orderId: charge.metadata?.[METADATA_ORDER_ID] ?? null };
    // Since API 2022-11-15 a charge no longer embeds its refunds; each refund arrives as its own
    // `refund.*` event, which is what syncs dashboard refunds. With the list present (older pins) it
    // is used directly.
    if (charge.refunds?.data) {
      const captured = fromStripeAmount(charge.amount_captured, charge.currency);
      return [
        {
          kind: 'payment',
          ...base,
          result: {
            status: charge.refunded ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
            gatewayReference: charge.payment_intent,
            amountCaptured: captured,
            refunds: charge.refunds.data.map(refundToResult),
          },
          occurredAt,
        },
      ];
    }
    return [
      {
        kind: 'note',
        ...base,
        type: event.type,
        data: { chargeId: charge.id, amountRefunded: fromStripeAmount(charge.amount_refunded, charge.currency).toString(), currency: charge.currency.toUpperCase(), refunded: charge.refunded },
      },
    ];
  }
  if (event.type.startsWith('charge.dispute.')) {
    const dispute = object as unknown as StripeDispute;
    return [
      {
        kind: 'note',
        eventId: event.id,
        paymentId: null,
        gatewayReference: dispute.payment_intent,
        type: event.type,
        data: {
          disputeId: dispute.id,
          chargeId: dispute.charge,
          amount: fromStripeAmount(dispute.amount, dispute.currency).toString(),
          currency: dispute.currency.toUpperCase(),
          reason: dispute.reason,
          status: dispute.status,
        },
      },
    ];
  }
  return [{ kind: 'ignored', eventId: event.id, reason: `Stripe event type '${event.type}' is not used by Tender` }];
}
