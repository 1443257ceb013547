/**
 * Stripe JSON <-> Tender's normalised shapes: PaymentIntent -> payment result, Refund -> refund result,
 * error JSON -> TenderError, Event -> webhook events (payments, refunds, disputes, subscriptions, invoices).
 *
 * @module
 */
import {
  GATEWAY_OUTCOME_UNKNOWN,
  invalidRequest,
  TenderError,
  type DisputeStatus,
  type FailureReason,
  type GatewayDisputeReport,
  type GatewayPaymentResult,
  type GatewayRefundResult,
  type Money,
  type WebhookEvent,
} from '@tender/core';
import { fromStripeAmount } from './amounts';
import { METADATA_ORDER_ID, METADATA_PAYMENT_ID, METADATA_REFUND_ID } from './config';
import { EventSchema, metadataValue, read, readCharge, readDispute, readPaymentIntent, readRefund } from './schemas';
import type { StripeDispute, StripeErrorObject, StripeEvent, StripePaymentIntent, StripeRefund } from './stripe-types';

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
    refundId: metadataValue(refund as unknown as Record<string, unknown>, METADATA_REFUND_ID),
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
 * Maps Stripe's error JSON to a TenderError (https://docs.stripe.com/api/errors). Card errors are `gateway_error`s with
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

/** Stripe's unix seconds as an ISO 8601 string (undefined for anything that is not a time). */
export function iso(unixSeconds: number | null | undefined): string | undefined {
  if (typeof unixSeconds !== 'number' || !Number.isFinite(unixSeconds)) return undefined;
  const date = new Date(unixSeconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** PaymentIntent event types mapped to payment results. */
const PAYMENT_INTENT_EVENTS: ReadonlySet<string> = new Set([
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.amount_capturable_updated',
  'payment_intent.requires_action',
  'payment_intent.processing',
]);

/** Refund event types mapped to refund results. */
export const REFUND_EVENTS: ReadonlySet<string> = new Set(['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated']);

/**
 * Subscription event types (https://docs.stripe.com/api/events/types#event_types-customer.subscription.created):
 * each becomes a `subscription` event the engine requeries by the subscription's id.
 */
export const SUBSCRIPTION_EVENTS: ReadonlySet<string> = new Set([
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.trial_will_end',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.subscription.pending_update_applied',
  'customer.subscription.pending_update_expired',
]);

/**
 * Invoice event types (https://docs.stripe.com/api/events/types#event_types-invoice.created): each
 * becomes an `invoice` event the engine requeries by the invoice's id.
 */
export const INVOICE_EVENTS: ReadonlySet<string> = new Set([
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'invoice.payment_action_required',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'invoice.updated',
]);

/** A Stripe object id: its prefix, `_`, then letters and digits (`sub_1MowQVLkdIwHu7ix`). */
function stripeObjectId(value: unknown, prefix: 'sub' | 'in'): string | null {
  return typeof value === 'string' && value.length <= 255 && new RegExp(`^${prefix}_[A-Za-z0-9]+$`).test(value) ? value : null;
}

/** What binds an event to a payment. All of it is signed: Stripe signs the whole Event body. */
interface Binding {
  paymentId: string | null;
  gatewayReference: string | null;
  orderId: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The binding of an object whose PaymentIntent id is `piField` (`id` for a PaymentIntent itself). */
function bindingOf(object: Record<string, unknown>, piField: 'id' | 'payment_intent'): Binding {
  return {
    paymentId: metadataValue(object, METADATA_PAYMENT_ID),
    gatewayReference: text(object[piField]),
    orderId: metadataValue(object, METADATA_ORDER_ID),
  };
}

const bound = (b: Binding) => b.paymentId !== null || b.gatewayReference !== null;

/**
 * A verified event about a payment that Tender cannot use as it is: a `requery` (the engine asks
 * Stripe for the PaymentIntent's current state) when it still names the payment, else a 400 naming
 * what is missing.
 */
function unusable(event: { id: string; type: string }, binding: Binding, problems: readonly string[], what: string): WebhookEvent {
  if (!bound(binding)) {
    throw invalidRequest('invalid_webhook_payload', `Stripe ${event.type} event ${event.id} is not usable and names no payment: ${problems.join('; ')}`, 'data.object');
  }
  return { kind: 'requery', eventId: event.id, reason: `Stripe ${event.type}: the ${what} is not usable (${problems.join('; ')})`, ...binding };
}

/**
 * Stripe's dispute statuses (https://docs.stripe.com/api/disputes/object#dispute_object-status) are
 * Tender's own names; `prevented` (a dispute stopped before it became one) ends it without a decision.
 */
const STRIPE_DISPUTE_STATUSES: Readonly<Record<string, DisputeStatus>> = {
  warning_needs_response: 'warning_needs_response',
  warning_under_review: 'warning_under_review',
  warning_closed: 'warning_closed',
  needs_response: 'needs_response',
  under_review: 'under_review',
  won: 'won',
  lost: 'lost',
  prevented: 'closed',
};

/**
 * A Dispute as a {@link GatewayDisputeReport} (reported at the Event's `created`), or null when its
 * amount, currency, creation time or a known status is missing.
 */
export function disputeToReport(dispute: StripeDispute, reportedAt: string | undefined): GatewayDisputeReport | null {
  const status = typeof dispute.status === 'string' ? STRIPE_DISPUTE_STATUSES[dispute.status] : undefined;
  const openedAt = iso(typeof dispute.created === 'number' ? dispute.created : undefined);
  if (!status || dispute.amount === undefined || dispute.currency === undefined || !(reportedAt ?? openedAt)) return null;
  const details = dispute.evidence_details as { due_by?: unknown } | null | undefined;
  return {
    gatewayReference: dispute.id,
    status,
    gatewayStatus: dispute.status,
    amount: fromStripeAmount(dispute.amount, dispute.currency),
    reason: typeof dispute.reason === 'string' ? dispute.reason : null,
    evidenceDueBy: iso(typeof details?.due_by === 'number' ? details.due_by : undefined) ?? null,
    openedAt: openedAt ?? null,
    reportedAt: (reportedAt ?? openedAt)!,
  };
}

/**
 * Turns one Stripe Event into Tender's normalised webhook events. Each object is read with a lenient
 * schema: when a field Tender needs is missing or malformed, the event becomes a `requery` if it still
 * names the payment (its PaymentIntent id or Tender's metadata), and a 400 `invalid_webhook_payload`
 * naming the field otherwise. Never a TypeError.
 *
 * Binding: the PaymentIntent id and the `tender_payment_id` / `tender_order_id` metadata are signed
 * with the rest of the Event (Stripe-Signature covers the whole body) and only Tender's secret key
 * can set metadata, so they may bind. A dispute's own metadata is not Tender's: a dispute binds by its
 * `payment_intent` only. Objects of charges made without a PaymentIntent (never Tender's) are ignored.
 * `customer.subscription.*` and `invoice.*` events ({@link SUBSCRIPTION_EVENTS}, {@link INVOICE_EVENTS})
 * become `subscription` / `invoice` events carrying only the object's id (checked to be a `sub_` /
 * `in_` id, else a 400): the engine requeries the object, so no other payload field decides.
 * @throws TenderError 400 `invalid_webhook_payload` for an Event envelope that is not usable.
 */
export function eventToWebhookEvents(event: StripeEvent): WebhookEvent[] {
  const envelope = read<StripeEvent>(EventSchema, event);
  if (!envelope.ok) throw invalidRequest('invalid_webhook_payload', `Stripe webhook body is not a usable Event: ${envelope.problems.join('; ')}`);
  const { id: eventId, type } = envelope.value;
  const object = envelope.value.data.object;
  const occurredAt = iso(envelope.value.created);
  const at = occurredAt ? { occurredAt } : {};

  // A subscription or invoice event binds by its object's id only: the engine requeries the object
  // over Stripe's API and mirrors what that answers, so nothing else in the payload decides.
  if (SUBSCRIPTION_EVENTS.has(type) || INVOICE_EVENTS.has(type)) {
    const kind = SUBSCRIPTION_EVENTS.has(type) ? 'subscription' : 'invoice';
    const gatewayReference = stripeObjectId(object.id, kind === 'subscription' ? 'sub' : 'in');
    if (!gatewayReference) {
      throw invalidRequest('invalid_webhook_payload', `Stripe ${type} event ${eventId} names no ${kind === 'subscription' ? 'Subscription (sub_...)' : 'Invoice (in_...)'}`, 'data.object.id');
    }
    return [{ kind, eventId, gatewayReference, type }];
  }

  if (PAYMENT_INTENT_EVENTS.has(type)) {
    const binding = bindingOf(object, 'id');
    const parsed = readPaymentIntent(object);
    if (!parsed.ok) return [unusable(envelope.value, binding, parsed.problems, 'PaymentIntent')];
    const pi = parsed.value;
    const result = paymentIntentToResult(pi);
    if (type === 'payment_intent.payment_failed' && result.status !== 'FAILED') {
      result.status = 'FAILED';
      result.failure = pi.last_payment_error ? failureFromStripeError(pi.last_payment_error) : { code: 'payment_failed', message: 'The payment failed' };
      result.nextAction = null;
    }
    // Every PaymentIntent Tender creates carries its payment id in metadata. One without it that took
    // no money (an invoice's failed or pending attempt, made by Stripe Billing) is no payment Tender
    // will ever know: answering "unknown, retry later" would have Stripe retry it for days
    // (https://docs.stripe.com/webhooks#automatic-retries). The invoice's own events carry its attempts.
    // A succeeded one still binds by its id: it is an invoice's payment once the invoice is mirrored.
    if (binding.paymentId === null && result.status !== 'CAPTURED' && result.status !== 'AUTHORIZED') {
      return [{ kind: 'ignored', eventId, reason: `Stripe ${type}: a PaymentIntent Tender did not create (no ${METADATA_PAYMENT_ID} metadata) that took no money` }];
    }
    return [{ kind: 'payment', eventId, ...binding, result, ...at }];
  }

  if (REFUND_EVENTS.has(type)) {
    const binding = bindingOf(object, 'payment_intent');
    const parsed = readRefund(object);
    if (!parsed.ok) return [unusable(envelope.value, binding, parsed.problems, 'Refund')];
    if (!bound(binding)) return [{ kind: 'ignored', eventId, reason: `Stripe ${type}: a refund of a charge made without a PaymentIntent (not Tender's)` }];
    return [{ kind: 'refund', eventId, ...binding, refund: refundToResult(parsed.value), ...at }];
  }

  if (type === 'charge.refunded') {
    const binding = bindingOf(object, 'payment_intent');
    const parsed = readCharge(object);
    if (!parsed.ok) return [unusable(envelope.value, binding, parsed.problems, 'Charge')];
    if (!bound(binding)) return [{ kind: 'ignored', eventId, reason: 'Stripe charge.refunded: a charge made without a PaymentIntent (not Tender\'s)' }];
    const charge = parsed.value;
    // Since API 2022-11-15 a charge no longer embeds its refunds; each refund arrives as its own
    // `refund.*` event, which is what syncs dashboard refunds. With the list present (older pins) it
    // is used directly.
    if (charge.refunds?.data) {
      const refunds: StripeRefund[] = [];
      for (const [index, item] of charge.refunds.data.entries()) {
        const refund = readRefund(item, `refunds.data.${index}.`);
        if (!refund.ok) return [unusable(envelope.value, binding, refund.problems, 'Charge')];
        refunds.push(refund.value);
      }
      return [
        {
          kind: 'payment',
          eventId,
          ...binding,
          result: {
            status: charge.refunded ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
            gatewayReference: binding.gatewayReference,
            amountCaptured: fromStripeAmount(charge.amount_captured, charge.currency),
            refunds: refunds.map(refundToResult),
          },
          ...at,
        },
      ];
    }
    return [
      {
        kind: 'note',
        eventId,
        ...binding,
        type,
        data: { chargeId: charge.id, amountRefunded: fromStripeAmount(charge.amount_refunded, charge.currency).toString(), currency: charge.currency.toUpperCase(), refunded: charge.refunded },
      },
    ];
  }

  if (type.startsWith('charge.dispute.')) {
    // The dispute's metadata is the dispute's own, not Tender's: it binds by its PaymentIntent only.
    const binding: Binding = { paymentId: null, gatewayReference: text(object.payment_intent), orderId: null };
    const parsed = readDispute(object);
    if (!parsed.ok) {
      if (!bound(binding)) throw invalidRequest('invalid_webhook_payload', `Stripe ${type} event ${eventId} is not usable: ${parsed.problems.join('; ')}`, 'data.object');
      return [{ kind: 'note', eventId, ...binding, type, data: { problems: parsed.problems } }];
    }
    if (!bound(binding)) return [{ kind: 'ignored', eventId, reason: `Stripe ${type}: a dispute of a charge made without a PaymentIntent (not Tender's)` }];
    const report = disputeToReport(parsed.value, occurredAt);
    if (!report) {
      // Signed and bound, but without the amount or a status Tender knows: kept on the payment's trail.
      const dispute = parsed.value;
      return [{ kind: 'note', eventId, ...binding, type, data: { disputeId: dispute.id, status: dispute.status ?? null, problems: ['amount, currency, status or created is missing or unknown'] } }];
    }
    return [{ kind: 'dispute', eventId, ...binding, type, dispute: report }];
  }
  return [{ kind: 'ignored', eventId, reason: `Stripe event type '${type}' is not used by Tender` }];
}
