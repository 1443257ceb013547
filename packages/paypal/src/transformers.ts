/**
 * PayPal JSON <-> Tender's normalised shapes: orders, captures, authorizations and refunds to results,
 * error JSON to TenderErrors, webhook events to Tender's webhook events.
 *
 * @module
 */
import {
  GATEWAY_OUTCOME_UNKNOWN,
  invalidRequest,
  Money,
  paymentAmount,
  TenderError,
  type DisputeStatus,
  type FailureReason,
  type GatewayDisputeReport,
  type GatewayPaymentResult,
  type GatewayRefundResult,
  type Payment,
  type WebhookEvent,
} from '@tender/core';
import { fromPayPalMoney } from './amounts';
import {
  AuthorizationSchema,
  CaptureSchema,
  EventSchema,
  read,
  RefundSchema,
  type PayPalAuthorization,
  type PayPalCapture,
  type PayPalErrorBody,
  type PayPalEvent,
  type PayPalLink,
  type PayPalOrder,
  type PayPalRefund,
} from './schemas';

/** Issues that are the buyer's funding instrument refusing: the payment fails (a card error). */
export const DECLINE_ISSUES: ReadonlySet<string> = new Set([
  'INSTRUMENT_DECLINED',
  'TRANSACTION_REFUSED',
  'PAYER_ACCOUNT_RESTRICTED',
  'PAYER_CANNOT_PAY',
  'PAYEE_BLOCKED_TRANSACTION',
  'REDIRECT_PAYER_FOR_ALTERNATE_FUNDING',
  'CARD_EXPIRED',
  'COMPLIANCE_VIOLATION',
  'DUPLICATE_INVOICE_ID',
  'MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED',
]);

/** The first `details[].issue` of a PayPal error body. */
export function issueOf(body: PayPalErrorBody | undefined | null): string | undefined {
  return body?.details?.find((d) => typeof d.issue === 'string')?.issue;
}

/** The failure reason for a declined payment (`instrument_declined`, PayPal's issue as `declineCode`). */
export function failureFromIssue(issue: string, message?: string): FailureReason {
  return { code: issue.toLowerCase(), message: message ?? `PayPal declined the payment (${issue})`, declineCode: issue };
}

/** Where an HTTP error came from and whether it may have had an effect. */
export interface ErrorContext {
  status: number;
  headers: Record<string, string>;
  /** True for calls that can move money (create, capture, authorize, void, refund). */
  mutating: boolean;
  operation: string;
}

/**
 * Maps PayPal's error JSON (`name`, `message`, `debug_id`, `details[].issue`;
 * https://developer.paypal.com/api/rest/responses/) to a TenderError. `debug_id` and the issue are kept
 * in `details` for PayPal support. 5xx on a call that moves money means the outcome is unknown; 429 and
 * 5xx on reads are retryable; declines are `gateway_error`s with status 402 (card errors).
 */
export function paypalErrorToTenderError(body: PayPalErrorBody | undefined | null, context: ErrorContext): TenderError {
  const { status, headers } = context;
  const issue = issueOf(body);
  const name = body?.name ?? body?.error;
  const description = body?.details?.find((d) => d.issue === issue)?.description ?? body?.message ?? body?.error_description;
  const message = `PayPal ${context.operation} failed: ${issue ?? name ?? `HTTP ${status}`}${description ? ` (${description})` : ''}`;
  const details: Record<string, unknown> = { paypalStatus: status };
  if (name) details.paypalName = name;
  if (issue) details.paypalIssue = issue;
  if (body?.debug_id) details.debugId = body.debug_id;
  else if (headers['paypal-debug-id']) details.debugId = headers['paypal-debug-id'];
  const retryAfter = Number(headers['retry-after']);
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;

  if (status === 429 || name === 'RATE_LIMIT_REACHED') {
    return new TenderError({ type: 'rate_limit_error', code: 'rate_limit', message, details, retryable: true, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) });
  }
  if (status >= 500) {
    if (context.mutating) return new TenderError({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN, message, details: { ...details, requestSent: true } });
    return new TenderError({ type: 'gateway_error', code: 'paypal_api_error', message, details, retryable: true });
  }
  if (issue && DECLINE_ISSUES.has(issue)) {
    return new TenderError({ type: 'gateway_error', code: issue.toLowerCase(), status: 402, message, details: { ...details, declineCode: issue } });
  }
  if (status === 401) return new TenderError({ type: 'gateway_error', code: 'gateway_authentication_failed', message, details });
  if (status === 403) return new TenderError({ type: 'gateway_error', code: 'gateway_permission_denied', message, details });
  if (status === 404) return new TenderError({ type: 'gateway_error', code: 'resource_missing', message, details });
  if (status === 409) return new TenderError({ type: 'gateway_error', code: 'request_in_progress', message, details, retryable: true });
  if (status === 422) {
    const param = issue && /AMOUNT|DECIMAL|VALUE|CURRENCY/.test(issue) ? 'amount' : undefined;
    return new TenderError({ type: 'invalid_request_error', code: issue ? issue.toLowerCase() : 'unprocessable_entity', status: 422, message, details, ...(param ? { param } : {}) });
  }
  return new TenderError({ type: 'invalid_request_error', code: issue ? issue.toLowerCase() : 'invalid_request', message, details });
}

/** The buyer-approval link of an order (`payer-action`, or the classic `approve`). */
export function approvalLink(links: readonly PayPalLink[] | undefined): string | null {
  const link = links?.find((l) => l.rel === 'payer-action') ?? links?.find((l) => l.rel === 'approve');
  return link?.href ?? null;
}

/** Maps a refund to Tender's refund result (`refundId`: the `invoice_id` Tender set; null for dashboard refunds). */
export function refundToResult(refund: PayPalRefund): GatewayRefundResult {
  const status = refund.status === 'COMPLETED' ? 'SUCCEEDED' : refund.status === 'FAILED' || refund.status === 'CANCELLED' ? 'FAILED' : 'PENDING';
  const result: GatewayRefundResult = {
    status,
    gatewayReference: refund.id,
    amount: fromPayPalMoney(refund.amount),
    refundId: refund.invoice_id && refund.invoice_id.startsWith('re_') ? refund.invoice_id : null,
    failure: null,
  };
  if (status === 'FAILED') {
    const reason = refund.status_details?.reason ?? refund.status.toLowerCase();
    result.failure = { code: reason.toLowerCase(), message: `PayPal refund ${refund.status}: ${reason}` };
  }
  return result;
}

const CAPTURED_LIKE = new Set(['COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED']);

function sumOf(amounts: Money[], currency: string): Money {
  return amounts.reduce((total, m) => total.add(m), Money.zero(currency));
}

/** Tender's view of one capture (a webhook's resource or an order's capture). */
export function captureToResult(capture: PayPalCapture, orderId: string | null): GatewayPaymentResult {
  const gatewayData: Record<string, unknown> = { captureId: capture.id, captureStatus: capture.status };
  const base = { gatewayReference: orderId, gatewayData };
  if (CAPTURED_LIKE.has(capture.status)) return { ...base, status: 'CAPTURED', amountCaptured: fromPayPalMoney(capture.amount), failure: null };
  if (capture.status === 'PENDING') return { ...base, status: 'PROCESSING' };
  const reason = capture.status_details?.reason ?? capture.status;
  return { ...base, status: 'FAILED', failure: failureFromIssue(reason, `PayPal capture ${capture.status}${capture.status_details?.reason ? `: ${capture.status_details.reason}` : ''}`) };
}

/** Tender's view of an authorization. */
export function authorizationToResult(authorization: PayPalAuthorization, orderId: string | null): GatewayPaymentResult {
  const gatewayData: Record<string, unknown> = { authorizationId: authorization.id, authorizationStatus: authorization.status };
  const base = { gatewayReference: orderId, gatewayData };
  switch (authorization.status) {
    case 'CREATED':
      return { ...base, status: 'AUTHORIZED', amount: fromPayPalMoney(authorization.amount), failure: null };
    case 'PENDING':
      return { ...base, status: 'PROCESSING' };
    case 'VOIDED':
      return { ...base, status: 'CANCELLED' };
    case 'DENIED':
      return { ...base, status: 'FAILED', failure: failureFromIssue('AUTHORIZATION_DENIED', 'PayPal denied the authorization') };
    case 'EXPIRED':
      return { ...base, status: 'EXPIRED' };
    default:
      // CAPTURED / PARTIALLY_CAPTURED: the captures say how much.
      return { ...base, status: 'CAPTURED' };
  }
}

/**
 * Maps an order to Tender's view. `APPROVED` is reported as `REQUIRES_ACTION` here: the gateway's
 * `retrieve` turns it into a capture or an authorization (see the gateway module); the captures,
 * authorizations and refunds of a `COMPLETED` order say where the money is.
 */
export function orderToResult(order: PayPalOrder): GatewayPaymentResult {
  const unit = order.purchase_units?.[0];
  const amount = unit?.amount ? fromPayPalMoney(unit.amount) : undefined;
  const gatewayData: Record<string, unknown> = { orderId: order.id, paypalStatus: order.status, ...(order.intent ? { intent: order.intent } : {}) };
  if (order.payer?.payer_id) gatewayData.payerId = order.payer.payer_id;
  const result: GatewayPaymentResult = { status: 'REQUIRES_ACTION', gatewayReference: order.id, gatewayData, ...(amount ? { amount } : {}) };
  const captures = unit?.payments?.captures ?? [];
  const authorizations = unit?.payments?.authorizations ?? [];
  const refunds = unit?.payments?.refunds ?? [];
  switch (order.status) {
    case 'CREATED':
    case 'SAVED':
    case 'PAYER_ACTION_REQUIRED':
    case 'APPROVED': {
      const url = approvalLink(order.links);
      // An APPROVED order has no approval link any more: the payment keeps the one it has.
      if (url) result.nextAction = { type: 'redirect', url };
      return result;
    }
    case 'VOIDED':
      return { ...result, status: 'CANCELLED', nextAction: null };
    case 'COMPLETED':
      break;
  }
  result.nextAction = null;
  const authorization = authorizations[0];
  if (authorization) {
    Object.assign(gatewayData, { authorizationId: authorization.id, authorizationStatus: authorization.status });
    const view = authorizationToResult(authorization, order.id);
    if (view.status !== 'CAPTURED') return { ...result, ...view, gatewayData, ...(amount ? { amount } : {}) };
  }
  const done = captures.filter((c) => CAPTURED_LIKE.has(c.status));
  if (done.length > 0) {
    const currency = done[0]!.amount.currency_code;
    gatewayData.captureId = done[done.length - 1]!.id;
    gatewayData.captureIds = done.map((c) => c.id);
    const captured = sumOf(done.map((c) => fromPayPalMoney(c.amount)), currency);
    result.status = 'CAPTURED';
    result.amountCaptured = captured;
    result.failure = null;
    result.refunds = refunds.map(refundToResult);
    const refunded = sumOf(result.refunds.filter((r) => r.status !== 'FAILED').map((r) => r.amount), currency);
    if (!refunded.isZero()) result.status = refunded.compare(captured) >= 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    return result;
  }
  const last = captures[captures.length - 1];
  if (last) {
    const view = captureToResult(last, order.id);
    return { ...result, ...view, gatewayData: { ...gatewayData, ...view.gatewayData }, ...(amount ? { amount } : {}) };
  }
  // COMPLETED without any payment: PayPal says the order is done but shows no money.
  return { ...result, status: 'PROCESSING' };
}

/**
 * A capture report as it applies to the payment it is bound to. Core checks `amount` against the
 * payment's amount and currency; a capture report carries only `amountCaptured`, so the capture's
 * money is offered for that check unless it can be this payment's: the same currency, and the whole
 * amount for an automatic payment (an order with `intent` CAPTURE is captured whole) or at most the
 * authorized amount for a manual one (a partial capture). Anything else fails as `amount_mismatch`.
 */
function captureResultFor(result: GatewayPaymentResult, captured: Money): (payment: Readonly<Payment>) => GatewayPaymentResult {
  return (payment) => {
    if (captured.currency !== payment.currency) return { ...result, amount: captured };
    const own = paymentAmount(payment);
    if (payment.captureMethod === 'manual') return captured.compare(own) <= 0 ? result : { ...result, amount: captured };
    return { ...result, amount: captured };
  };
}

/** What binds a webhook event to a payment; every field comes from the signed body. */
interface Binding {
  paymentId: string | null;
  gatewayReference: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Tender's payment ids (`pay_...`), the only `custom_id`s Tender sets. */
const tenderPaymentId = (value: unknown): string | null => {
  const v = text(value);
  return v && /^pay_[A-Za-z0-9_-]+$/.test(v) ? v : null;
};

/** The id at the end of a link's path (`.../captures/ABC` → `ABC`). */
function linkedId(links: unknown, rel: string, segment: string): string | null {
  if (!Array.isArray(links)) return null;
  const href = (links as unknown[]).find((l): l is PayPalLink => typeof l === 'object' && l !== null && (l as PayPalLink).rel === rel && typeof (l as PayPalLink).href === 'string')?.href;
  if (!href) return null;
  const match = new RegExp(`/${segment}/([A-Za-z0-9-]+)(?:[/?#]|$)`).exec(href);
  return match?.[1] ?? null;
}

/** The capture a refund belongs to (its `up` link; signed with the body). */
export function refundCaptureId(refund: { links?: unknown }): string | null {
  return linkedId(refund.links, 'up', 'captures');
}

/**
 * Looks up the payment a capture belongs to (the gateway asks PayPal's API for the capture named in
 * the signed body). Returns null when PayPal does not know it.
 */
export type CaptureLookup = (captureId: string) => Promise<{ paymentId: string | null; orderId: string | null } | null>;

const occurred = (event: PayPalEvent) => (event.create_time && !Number.isNaN(Date.parse(event.create_time)) ? { occurredAt: new Date(event.create_time).toISOString() } : {});

/** Event types handled as payment reports, refund reports or notes. */
export const PAYPAL_EVENT_TYPES = Object.freeze({
  requery: ['CHECKOUT.ORDER.APPROVED', 'CHECKOUT.ORDER.COMPLETED'],
  capture: ['PAYMENT.CAPTURE.COMPLETED', 'PAYMENT.CAPTURE.PENDING', 'PAYMENT.CAPTURE.DECLINED', 'PAYMENT.CAPTURE.DENIED'],
  refund: ['PAYMENT.CAPTURE.REFUNDED', 'PAYMENT.CAPTURE.REVERSED'],
  authorization: ['PAYMENT.AUTHORIZATION.CREATED', 'PAYMENT.AUTHORIZATION.VOIDED'],
});

/** A time PayPal sent, as ISO 8601 with ms, or null. */
function isoTime(value: unknown): string | null {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : null;
}

/**
 * PayPal's dispute status, stage and outcome as a Tender status
 * (https://developer.paypal.com/docs/api/customer-disputes/v1/#disputes_get: `status`,
 * `dispute_life_cycle_stage`, `dispute_outcome.outcome_code`). An `INQUIRY` is Stripe's "warning";
 * `CHARGEBACK`, `PRE_ARBITRATION` and `ARBITRATION` are disputes. A `RESOLVED` one is decided by its
 * outcome: `RESOLVED_SELLER_FAVOUR` / `DENIED` won, `RESOLVED_BUYER_FAVOUR` / `RESOLVED_WITH_PAYOUT`
 * lost, `ACCEPTED` accepted, `CANCELED_BY_BUYER` (or none) closed.
 */
export function paypalDisputeStatus(status: string, stage: string | null, outcome: string | null): DisputeStatus | null {
  const inquiry = stage === 'INQUIRY';
  switch (status) {
    case 'OPEN':
    case 'WAITING_FOR_SELLER_RESPONSE':
      return inquiry ? 'warning_needs_response' : 'needs_response';
    case 'WAITING_FOR_BUYER_RESPONSE':
    case 'UNDER_REVIEW':
    case 'OTHER':
      return inquiry ? 'warning_under_review' : 'under_review';
    case 'RESOLVED':
      switch (outcome) {
        case 'RESOLVED_SELLER_FAVOUR':
        case 'DENIED':
          return 'won';
        case 'RESOLVED_BUYER_FAVOUR':
        case 'RESOLVED_WITH_PAYOUT':
          return 'lost';
        case 'ACCEPTED':
          return 'accepted';
        default:
          return inquiry ? 'warning_closed' : 'closed';
      }
    default:
      return null;
  }
}

/**
 * A `CUSTOMER.DISPUTE.*` resource as a {@link GatewayDisputeReport}, reported at the dispute's
 * `update_time` (else the event's `create_time`), or null when its id, amount or status is not usable.
 */
export function disputeToReport(resource: Record<string, unknown>, eventTime: string | undefined): GatewayDisputeReport | null {
  const id = text(resource.dispute_id);
  const rawStatus = text(resource.status);
  const stage = text(resource.dispute_life_cycle_stage);
  const outcome = text((resource.dispute_outcome as { outcome_code?: unknown } | undefined)?.outcome_code);
  const status = rawStatus ? paypalDisputeStatus(rawStatus, stage, outcome) : null;
  const amount = resource.dispute_amount as { currency_code?: unknown; value?: unknown } | undefined;
  const reportedAt = isoTime(resource.update_time) ?? isoTime(eventTime);
  if (!id || !status || !reportedAt || typeof amount?.value !== 'string' || typeof amount.currency_code !== 'string') return null;
  let money: Money;
  try {
    money = fromPayPalMoney({ value: amount.value, currency_code: amount.currency_code });
  } catch {
    return null;
  }
  return {
    gatewayReference: id,
    status,
    gatewayStatus: [rawStatus, stage, outcome].filter((part) => part).join('/'),
    amount: money,
    reason: text(resource.reason),
    evidenceDueBy: isoTime(resource.seller_response_due_date),
    openedAt: isoTime(resource.create_time),
    reportedAt,
  };
}

/**
 * Turns one verified PayPal webhook event into Tender's webhook events.
 *
 * Binding uses only the signed body: the order id and Tender's payment id (`custom_id`, which Tender
 * sets to its payment id at create) inside the resource. A refund or dispute that names only a capture
 * (refunds made in PayPal's dashboard carry no `custom_id`) is bound by asking PayPal's API for that
 * capture (`lookupCapture`): the capture id is signed, and the API's answer comes over Tender's own
 * authenticated connection to PayPal.
 * @throws TenderError 400 `invalid_webhook_payload` for an envelope that is not usable.
 */
export async function eventToWebhookEvents(raw: unknown, lookupCapture: CaptureLookup): Promise<WebhookEvent[]> {
  const envelope = read(EventSchema, raw);
  if (!envelope.ok) throw invalidRequest('invalid_webhook_payload', `PayPal webhook body is not a usable event: ${envelope.problems.join('; ')}`);
  const event = envelope.value;
  const { id: eventId, event_type: type, resource } = event;
  const at = occurred(event);

  if (PAYPAL_EVENT_TYPES.requery.includes(type)) {
    const units = Array.isArray(resource.purchase_units) ? (resource.purchase_units as Record<string, unknown>[]) : [];
    const binding: Binding = { gatewayReference: text(resource.id), paymentId: tenderPaymentId(units[0]?.custom_id) };
    if (!binding.gatewayReference && !binding.paymentId) return [{ kind: 'ignored', eventId, reason: `PayPal ${type}: the order names no Tender payment` }];
    // The engine asks `retrieve`, which captures or authorizes an APPROVED order (idempotently).
    return [{ kind: 'requery', eventId, ...binding, reason: `PayPal ${type}` }];
  }

  if (PAYPAL_EVENT_TYPES.capture.includes(type) || PAYPAL_EVENT_TYPES.authorization.includes(type)) {
    const isCapture = type.startsWith('PAYMENT.CAPTURE.');
    const supplementary = (resource.supplementary_data as { related_ids?: { order_id?: unknown } } | undefined)?.related_ids;
    const binding: Binding = { paymentId: tenderPaymentId(resource.custom_id), gatewayReference: text(supplementary?.order_id) };
    if (!binding.paymentId && !binding.gatewayReference) return [{ kind: 'ignored', eventId, reason: `PayPal ${type}: names no Tender payment (no custom_id or order id)` }];
    if (isCapture) {
      const parsed = read(CaptureSchema, resource);
      if (!parsed.ok) return [{ kind: 'requery', eventId, ...binding, reason: `PayPal ${type}: the capture is not usable (${parsed.problems.join('; ')})` }];
      const result = captureToResult(parsed.value, binding.gatewayReference);
      if ((type === 'PAYMENT.CAPTURE.DECLINED' || type === 'PAYMENT.CAPTURE.DENIED') && result.status !== 'FAILED') {
        result.status = 'FAILED';
        result.failure = failureFromIssue(type.endsWith('DENIED') ? 'CAPTURE_DENIED' : 'CAPTURE_DECLINED');
      }
      return [{ kind: 'payment', eventId, ...binding, result, resultFor: captureResultFor(result, fromPayPalMoney(parsed.value.amount)), ...at }];
    }
    const parsed = read(AuthorizationSchema, resource);
    if (!parsed.ok) return [{ kind: 'requery', eventId, ...binding, reason: `PayPal ${type}: the authorization is not usable (${parsed.problems.join('; ')})` }];
    const result = authorizationToResult(parsed.value, binding.gatewayReference);
    if (type === 'PAYMENT.AUTHORIZATION.VOIDED') result.status = 'CANCELLED';
    // An authorization's amount is the payment's (integrity check); a VOIDED report needs none.
    if (result.status !== 'AUTHORIZED') delete result.amount;
    return [{ kind: 'payment', eventId, ...binding, result, ...at }];
  }

  if (PAYPAL_EVENT_TYPES.refund.includes(type)) {
    const parsed = read(RefundSchema, resource);
    let binding: Binding = { paymentId: tenderPaymentId(resource.custom_id), gatewayReference: null };
    const captureId = refundCaptureId(resource);
    if (captureId && !binding.paymentId) {
      const found = await lookupCapture(captureId);
      if (found) binding = { paymentId: tenderPaymentId(found.paymentId), gatewayReference: found.orderId };
    }
    if (!binding.paymentId && !binding.gatewayReference) return [{ kind: 'ignored', eventId, reason: `PayPal ${type}: the refund's capture is not a Tender payment's` }];
    if (!parsed.ok) return [{ kind: 'requery', eventId, ...binding, reason: `PayPal ${type}: the refund is not usable (${parsed.problems.join('; ')})` }];
    return [{ kind: 'refund', eventId, ...binding, refund: refundToResult(parsed.value), ...at }];
  }

  if (type.startsWith('CUSTOMER.DISPUTE.')) {
    const transactions = Array.isArray(resource.disputed_transactions) ? (resource.disputed_transactions as Record<string, unknown>[]) : [];
    const captureId = text(transactions[0]?.seller_transaction_id);
    const found = captureId ? await lookupCapture(captureId) : null;
    const binding: Binding = { paymentId: tenderPaymentId(found?.paymentId), gatewayReference: found?.orderId ?? null };
    if (!binding.paymentId && !binding.gatewayReference) return [{ kind: 'ignored', eventId, reason: `PayPal ${type}: the disputed transaction is not a Tender payment's` }];
    const report = disputeToReport(resource, event.create_time);
    if (report) return [{ kind: 'dispute', eventId, ...binding, type, dispute: report }];
    // Signed and bound, but without an id, amount or status Tender can read: kept on the payment's trail.
    const data: Record<string, unknown> = { disputeId: text(resource.dispute_id), captureId, reason: text(resource.reason), status: text(resource.status) };
    return [{ kind: 'note', eventId, ...binding, type, data }];
  }

  return [{ kind: 'ignored', eventId, reason: `PayPal event type '${type}' is not used by Tender` }];
}

