/**
 * Razorpay JSON <-> Tender's normalised shapes: payment -> payment result, refund -> refund result,
 * error envelope -> TenderError, webhook event -> webhook events.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  GATEWAY_OUTCOME_UNKNOWN,
  GATEWAY_PAYMENT_NOT_FOUND,
  invalidRequest,
  maskEmail,
  Money,
  TenderError,
  type DisputeStatus,
  type FailureReason,
  type GatewayDisputeReport,
  type GatewayPaymentResult,
  type Payment,
  type GatewayRefundResult,
  type WebhookEvent,
  type WebhookEventTarget,
} from '@tender/core';
import { NOTES_PAYMENT_ID, NOTES_REFUND_ID } from './config';
import { EventSchema, noteValue, PaymentSchema, read, RefundSchema, type RazorpayErrorObject, type RazorpayEvent, type RazorpayPayment, type RazorpayRefund } from './schemas';

/** `success@razorpay` -> `s***@razorpay`: enough to recognise, not enough to collect from. */
export function maskVpa(vpa: string): string {
  return maskEmail(vpa);
}

/**
 * The non-secret data worth keeping from a Razorpay payment, set only when Razorpay gave a value:
 * `razorpayPaymentId`, `razorpayOrderId`, `rrn` (`acquirer_data.rrn`, the bank's reference),
 * `upiTransactionId` (`acquirer_data.upi_transaction_id`), `approvalCode` (`acquirer_data.auth_code`),
 * `feeMinor` and `taxMinor` (Razorpay's `fee`, GST included, and `tax`, in paise), `vpa` (the payer's
 * VPA, masked) and `upiFlow`. No status: a stale report (an out-of-order webhook) is merged too.
 */
export function paymentGatewayData(payment: RazorpayPayment): Record<string, unknown> {
  const data: Record<string, unknown> = { razorpayPaymentId: payment.id };
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== '') data[key] = value;
  };
  set('razorpayOrderId', payment.order_id);
  set('rrn', payment.acquirer_data?.rrn);
  set('upiTransactionId', payment.acquirer_data?.upi_transaction_id);
  set('approvalCode', payment.acquirer_data?.auth_code);
  if (payment.status === 'captured' || payment.status === 'refunded' || payment.status === 'authorized') {
    set('feeMinor', payment.fee);
    set('taxMinor', payment.tax);
  }
  const vpa = payment.vpa ?? payment.upi?.vpa;
  if (vpa) data.vpa = maskVpa(vpa);
  set('upiFlow', payment.upi?.flow);
  return data;
}

/** A failure reason from a failed payment's `error_*` fields (`error_reason` is the most precise code). */
export function failureOf(payment: Pick<RazorpayPayment, 'error_code' | 'error_reason' | 'error_description'>): FailureReason {
  return {
    code: payment.error_reason ?? payment.error_code ?? 'payment_failed',
    message: payment.error_description ?? 'The UPI payment failed',
  };
}

/**
 * Maps a Razorpay payment to Tender's view: `created` -> `REQUIRES_ACTION` (the payer has not approved
 * yet; the stored next action is kept), `authorized` -> `AUTHORIZED`, `captured` -> `CAPTURED`
 * (`PARTIALLY_REFUNDED`/`REFUNDED` when the refunds are given), `refunded` -> `REFUNDED`, `failed` ->
 * `FAILED`. Amounts are paise.
 */
export function paymentToResult(payment: RazorpayPayment, refunds?: readonly RazorpayRefund[]): GatewayPaymentResult {
  const amount = Money.fromMinor(payment.amount, payment.currency);
  const result: GatewayPaymentResult = { status: 'PENDING', gatewayReference: payment.id, amount, failure: null, gatewayData: paymentGatewayData(payment) };
  if (isAutoRefunded(payment)) {
    // Never captured: Razorpay gave the authorised money back, a void by the provider (CANCELLED: core
    // ranks EXPIRED below AUTHORIZED and would ignore it as stale). Not a capture followed by a refund.
    result.status = 'CANCELLED';
    result.nextAction = null;
    result.failure = { code: 'authorization_refunded', message: 'Razorpay refunded the authorisation, which was not captured in time (auto-refund)' };
    return result;
  }
  switch (payment.status) {
    case 'created':
      result.status = 'REQUIRES_ACTION';
      break;
    case 'authorized':
      result.status = 'AUTHORIZED';
      result.nextAction = null;
      break;
    case 'captured':
    case 'refunded': {
      result.status = payment.status === 'refunded' ? 'REFUNDED' : 'CAPTURED';
      result.amountCaptured = amount;
      result.nextAction = null;
      if (refunds) {
        let refunded = Money.zero(payment.currency);
        for (const r of refunds) if (r.status !== 'failed') refunded = refunded.add(Money.fromMinor(r.amount, r.currency));
        result.status = refunded.isZero() ? 'CAPTURED' : refunded.compare(amount) >= 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
        result.refunds = refunds.map(refundToResult);
      }
      break;
    }
    case 'failed':
      result.status = 'FAILED';
      result.failure = failureOf(payment);
      result.nextAction = null;
      break;
  }
  return result;
}

/**
 * True for a payment Razorpay auto-refunded: `refunded` with `captured: false`, an authorisation not
 * captured in time (https://razorpay.com/docs/payments/refunds/auto-refunds/: "An auto-refunded payment
 * was never captured, so the value is always false").
 */
export function isAutoRefunded(payment: Pick<RazorpayPayment, 'status' | 'captured'>): boolean {
  return payment.status === 'refunded' && payment.captured === false;
}

/** Maps a Razorpay refund (`pending` / `processed` / `failed`) to Tender's refund result. */
export function refundToResult(refund: RazorpayRefund): GatewayRefundResult {
  const status = refund.status === 'processed' ? 'SUCCEEDED' : refund.status === 'failed' ? 'FAILED' : 'PENDING';
  return {
    status,
    gatewayReference: refund.id,
    amount: Money.fromMinor(refund.amount, refund.currency),
    refundId: noteValue(refund.notes, NOTES_REFUND_ID) ?? (refund.receipt && refund.receipt.startsWith('re_') ? refund.receipt : null),
    failure: status === 'FAILED' ? { code: 'refund_failed', message: 'Razorpay reported the refund as failed' } : null,
  };
}

/** Where an HTTP error came from and whether it may have had an effect. */
export interface ErrorContext {
  status: number;
  /** True for calls that can move money (order/payment create, capture, refund). */
  mutating: boolean;
  operation: string;
}

/** Razorpay's field names in Tender's REST naming. */
function tenderParam(field: string | null | undefined): string | undefined {
  if (!field) return undefined;
  const map: Record<string, string> = { amount: 'amount', currency: 'currency', vpa: 'vpa', 'upi.vpa': 'vpa', email: 'bill_email', contact: 'bill_mobile', description: 'description' };
  return map[field] ?? field;
}

/**
 * Maps Razorpay's error envelope (https://razorpay.com/docs/errors/: `BAD_REQUEST_ERROR`,
 * `GATEWAY_ERROR`, `SERVER_ERROR`) to a TenderError:
 * - 401: `gateway_error` `gateway_authentication_failed` (the key pair is wrong; not the caller's fault);
 * - 429: retryable `rate_limit_error`;
 * - 409 (a refund with the same `X-Refund-Idempotency` still in flight): retryable;
 * - "different request with the same idempotency key": `idempotency_error` (422);
 * - 5xx, `GATEWAY_ERROR`, `SERVER_ERROR`: `gateway_outcome_unknown` after a call that may have moved
 *   money (the reconciler settles it), a retryable `gateway_error` after a read;
 * - other 4xx `BAD_REQUEST_ERROR`s: `invalid_request_error` naming Tender's field (`amount`, `vpa`, ...),
 *   code from Razorpay's `reason` when it gives one.
 */
export function razorpayErrorToTenderError(error: RazorpayErrorObject | undefined, context: ErrorContext): TenderError {
  const { status } = context;
  const code = error?.code ?? undefined;
  const description = error?.description ?? `HTTP ${status}`;
  const message = `Razorpay ${context.operation} failed: ${description}`;
  const details: Record<string, unknown> = { razorpayStatus: status };
  if (code) details.razorpayCode = code;
  if (error?.reason && error.reason !== 'NA') details.razorpayReason = error.reason;
  if (error?.source && error.source !== 'NA') details.razorpaySource = error.source;
  if (error?.step && error.step !== 'NA') details.razorpayStep = error.step;
  if (error?.field) details.razorpayField = error.field;

  if (status === 401) return new TenderError({ type: 'gateway_error', code: 'gateway_authentication_failed', message, details });
  if (status === 429) return new TenderError({ type: 'rate_limit_error', code: 'rate_limit', message, details, retryable: true });
  if (/different request with the same idempotency key/i.test(description)) {
    return new TenderError({ type: 'idempotency_error', code: 'idempotency_key_reused', status: 422, message, details });
  }
  if (status === 409) return new TenderError({ type: 'gateway_error', code: 'idempotency_key_in_use', message, details, retryable: true });
  if (status >= 500 || code === 'GATEWAY_ERROR' || code === 'SERVER_ERROR') {
    if (context.mutating) return new TenderError({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN, message, details: { ...details, requestSent: true } });
    return new TenderError({ type: 'gateway_error', code: code === 'GATEWAY_ERROR' ? 'razorpay_gateway_error' : 'razorpay_server_error', message, details, retryable: true });
  }
  if (status === 403) return new TenderError({ type: 'gateway_error', code: 'gateway_permission_denied', message, details });
  if (status === 404 || /does not exist/i.test(description)) return new TenderError({ type: 'gateway_error', code: 'resource_missing', message, details });
  const param = tenderParam(error?.field);
  let tenderCode = error?.reason && error.reason !== 'NA' ? error.reason : 'invalid_request';
  if (/refund amount.*greater|greater than.*(captured|refund)/i.test(description)) tenderCode = 'amount_too_large';
  return new TenderError({ type: 'invalid_request_error', code: tenderCode, message, details, ...(param ? { param } : {}) });
}

/** `retrieve`'s answer when Razorpay has no record of the payment (it never reached Razorpay). */
export function paymentNotFound(what: string): TenderError {
  return new TenderError({ type: 'not_found_error', code: GATEWAY_PAYMENT_NOT_FOUND, message: `Razorpay has no ${what}`, param: 'id' });
}

/** Payment events mapped to payment results (https://razorpay.com/docs/webhooks/payments/). */
export const PAYMENT_EVENTS: ReadonlySet<string> = new Set(['payment.authorized', 'payment.captured', 'payment.failed', 'order.paid']);
/** Refund events mapped to refund results (https://razorpay.com/docs/webhooks/refunds/). */
export const REFUND_EVENTS: ReadonlySet<string> = new Set(['refund.created', 'refund.processed', 'refund.failed']);

const entityOf = (payload: Record<string, unknown>, name: string): Record<string, unknown> | null => {
  const wrapper = payload[name];
  if (typeof wrapper !== 'object' || wrapper === null) return null;
  const entity = (wrapper as Record<string, unknown>).entity;
  return typeof entity === 'object' && entity !== null && !Array.isArray(entity) ? (entity as Record<string, unknown>) : null;
};
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * The inbox id of a delivery: the `x-razorpay-event-id` header Razorpay sends (unique per event, the
 * same on retries) joined to a digest of the signed body. The header is not covered by the signature,
 * so it alone must not decide what counts as a duplicate: a genuine body replayed under a made-up id
 * is then one more (harmless) delivery of the same report, and no one can pair a body with the id of
 * a later genuine event to have that event dropped as a duplicate. Without the header, the digest.
 */
export function eventIdOf(headerValue: string | string[] | undefined, rawBody: Uint8Array): string {
  const header = Array.isArray(headerValue) ? headerValue[0] : headerValue;
  const digest = createHash('sha256').update(rawBody).digest('hex');
  if (typeof header === 'string' && header.trim() !== '') return `${header.trim().slice(0, 64)}:${digest.slice(0, 16)}`;
  return `body_${digest.slice(0, 32)}`;
}

/** A Razorpay time (Unix seconds) as ISO 8601, or null. */
function secondsIso(value: unknown): string | null {
  const ms = typeof value === 'number' ? value * 1000 : NaN;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}

/**
 * Razorpay's dispute statuses (`open`, `under_review`, `won`, `lost`, `closed`,
 * https://razorpay.com/docs/api/disputes/) as Tender's; a dispute in the `retrieval` phase (a
 * request for information before any chargeback) is an inquiry, Stripe's "warning".
 */
export function razorpayDisputeStatus(status: string, phase: string | null): DisputeStatus | null {
  const inquiry = phase === 'retrieval';
  switch (status) {
    case 'open':
      return inquiry ? 'warning_needs_response' : 'needs_response';
    case 'under_review':
      return inquiry ? 'warning_under_review' : 'under_review';
    case 'won':
      return 'won';
    case 'lost':
      return 'lost';
    case 'closed':
      return inquiry ? 'warning_closed' : 'closed';
    default:
      return null;
  }
}

/**
 * A dispute entity as a {@link GatewayDisputeReport} reported at the event's `created_at` (else the
 * dispute's own), or null when its id, amount, currency or status is not usable.
 */
export function disputeToReport(dispute: Record<string, unknown>, eventTime: string | undefined): GatewayDisputeReport | null {
  const id = str(dispute.id);
  const rawStatus = str(dispute.status);
  const phase = str(dispute.phase);
  const status = rawStatus ? razorpayDisputeStatus(rawStatus, phase) : null;
  const openedAt = secondsIso(dispute.created_at);
  const reportedAt = eventTime ?? openedAt;
  if (!id || !status || !reportedAt || typeof dispute.amount !== 'number' || typeof dispute.currency !== 'string') return null;
  let amount: Money;
  try {
    amount = Money.fromMinor(dispute.amount, dispute.currency.toUpperCase());
  } catch {
    return null;
  }
  return {
    gatewayReference: id,
    status,
    gatewayStatus: phase ? `${rawStatus}/${phase}` : rawStatus!,
    amount,
    reason: str(dispute.reason_code),
    evidenceDueBy: secondsIso(dispute.respond_by),
    openedAt,
    reportedAt,
  };
}

/**
 * Turns one verified Razorpay webhook into Tender's events. The signature proves Razorpay sent the
 * body, not that the payment in it is ours: any payment on the account is reported, and a payment's
 * `notes` can be chosen by the payer's browser (Razorpay Checkout takes `notes` as a client-side option,
 * https://razorpay.com/docs/payments/payment-gateway/web-integration/standard/build-integration/#checkout-options).
 * So an event binds only through:
 * - the Razorpay payment id (`gatewayReference`: the payment's `id`, a refund's `payment_id`), which
 *   the engine matches against the reference it stored from our own create call;
 * - Tender's payment id in the notes of the **order** (`order.paid` carries it), when the payment
 *   belongs to that order: orders are created server-side with the key secret only
 *   (https://razorpay.com/docs/api/orders/create/), so their notes are ours.
 * The payment's own notes never bind a refund or dispute. A payment event they alone point to is bound
 * through them, so it is acknowledged, but carries a `resultFor` that applies it only to a payment that
 * holds this Razorpay payment id, or has none yet and was given this payment's order. A payment event about a
 * payment that carries no Tender note at all (another integration on the same account) is `ignored`,
 * so it is acknowledged instead of being retried for a day. An event Tender cannot use but that still
 * names a payment becomes a `requery`; one that names nothing is a 400.
 * @throws TenderError 400 `invalid_webhook_payload`.
 */
export function eventToWebhookEvents(body: unknown, eventId: string): WebhookEvent[] {
  const envelope = read<RazorpayEvent>(EventSchema, body);
  if (!envelope.ok) throw invalidRequest('invalid_webhook_payload', `Razorpay webhook body is not a usable event: ${envelope.problems.join('; ')}`);
  const { event: type, payload } = envelope.value;
  // `created_at` is Unix seconds; one outside Date's range is left out rather than thrown on.
  const createdMs = typeof envelope.value.created_at === 'number' ? envelope.value.created_at * 1000 : NaN;
  const occurredAt = Number.isFinite(createdMs) && Math.abs(createdMs) <= 8.64e15 ? { occurredAt: new Date(createdMs).toISOString() } : {};
  const paymentEntity = entityOf(payload, 'payment');
  const orderEntity = entityOf(payload, 'order');
  const paymentOrderId = paymentEntity ? str(paymentEntity.order_id) : null;
  // The order's notes bind only when the payment (if any) is one of that order's payments.
  const orderNote = orderEntity && (!paymentEntity || (paymentOrderId !== null && paymentOrderId === str(orderEntity.id))) ? noteValue(orderEntity.notes, NOTES_PAYMENT_ID) : null;
  const paymentNote = paymentEntity ? noteValue(paymentEntity.notes, NOTES_PAYMENT_ID) : null;
  const binding: WebhookEventTarget = {
    paymentId: orderNote,
    gatewayReference: paymentEntity ? str(paymentEntity.id) : null,
    ...(paymentNote ? { hint: { paymentId: paymentNote } } : {}),
  };
  const bound = () => Boolean(binding.paymentId || binding.gatewayReference);
  /** A payment that carries no Tender note anywhere was not created by Tender. */
  const notOurs = (): WebhookEvent | null =>
    paymentEntity && str(paymentEntity.id) && !paymentNote && !orderNote ? { kind: 'ignored', eventId, reason: `Razorpay ${type} is about payment ${str(paymentEntity.id) ?? '?'}, which Tender did not create (no ${NOTES_PAYMENT_ID} note)` }
      : null;
  const unusable = (problems: readonly string[], what: string): WebhookEvent => {
    if (!bound()) throw invalidRequest('invalid_webhook_payload', `Razorpay ${type} event ${eventId} is not usable and names no payment: ${problems.join('; ')}`, 'payload');
    return { kind: 'requery', eventId, reason: `Razorpay ${type}: the ${what} is not usable (${problems.join('; ')})`, ...binding };
  };

  if (PAYMENT_EVENTS.has(type)) {
    const foreign = notOurs();
    if (foreign) return [foreign];
    const parsed = read<RazorpayPayment>(PaymentSchema, paymentEntity);
    if (!parsed.ok) return [unusable(parsed.problems, 'payment')];
    let result: GatewayPaymentResult;
    try {
      result = paymentToResult(parsed.value);
    } catch (error) {
      // An amount core cannot represent (a currency it does not know): requery rather than a 400 retried for a day.
      return [unusable([String((error as Error).message)], 'payment')];
    }
    if (type === 'payment.failed' && result.status !== 'FAILED') {
      result.status = 'FAILED';
      result.failure = failureOf(parsed.value);
      result.nextAction = null;
    }
    if (orderNote || !paymentNote) return [{ kind: 'payment', eventId, ...binding, result, ...occurredAt }];
    // Only the payment's own (payer-settable) note names a Tender payment. It may find that payment, so
    // the event is acknowledged rather than retried for a day, but the report applies only when the
    // payment found is provably this one: it holds this Razorpay payment id (the engine then checks it),
    // or it has none yet and this payment is on the order Tender created for it.
    const razorpayPayment = parsed.value;
    const resultFor = (payment: Readonly<Payment>): GatewayPaymentResult => {
      if (payment.gatewayReference) return result;
      const order = payment.gatewayData.razorpayOrderId;
      if (typeof order === 'string' && order === razorpayPayment.order_id) return result;
      return { status: payment.status };
    };
    return [{ kind: 'payment', eventId, ...binding, paymentId: paymentNote, result, resultFor, ...occurredAt }];
  }

  if (REFUND_EVENTS.has(type)) {
    const foreign = notOurs();
    if (foreign) return [foreign];
    const refundEntity = entityOf(payload, 'refund');
    // The refund names its payment itself; no other field decides which payment it gives money back on.
    const refunded = refundEntity ? str(refundEntity.payment_id) : null;
    if (refunded) binding.gatewayReference = refunded;
    // An auto-refund (the payment entity says `captured: false`) returns an authorisation that was never
    // captured: it is news about the payment (CANCELLED), not a refund of captured money.
    if (paymentEntity && paymentEntity.captured === false && binding.gatewayReference) {
      const payment = read<RazorpayPayment>(PaymentSchema, paymentEntity);
      if (payment.ok) {
        const reported = { ...payment.value, status: 'refunded' as const, captured: false };
        try {
          return [{ kind: 'payment', eventId, gatewayReference: binding.gatewayReference, paymentId: null, result: paymentToResult(reported), ...occurredAt }];
        } catch (error) {
          return [unusable([String((error as Error).message)], 'payment')];
        }
      }
    }
    const parsed = read<RazorpayRefund>(RefundSchema, refundEntity);
    if (!parsed.ok) return [unusable(parsed.problems, 'refund')];
    let refund: GatewayRefundResult;
    try {
      refund = refundToResult(parsed.value);
    } catch (error) {
      return [unusable([String((error as Error).message)], 'refund')];
    }
    if (type === 'refund.failed') refund.status = 'FAILED';
    if (refund.status === 'FAILED' && !refund.failure) refund.failure = { code: 'refund_failed', message: 'Razorpay reported the refund as failed' };
    return [{ kind: 'refund', eventId, ...binding, refund, ...occurredAt }];
  }

  if (type.startsWith('payment.dispute.')) {
    const foreign = notOurs();
    if (foreign) return [foreign];
    const dispute = entityOf(payload, 'dispute');
    const disputed = dispute ? str(dispute.payment_id) : null;
    if (disputed) binding.gatewayReference = disputed;
    if (!bound()) throw invalidRequest('invalid_webhook_payload', `Razorpay ${type} event ${eventId} names no payment`, 'payload');
    const report = dispute ? disputeToReport(dispute, occurredAt.occurredAt) : null;
    if (report) return [{ kind: 'dispute', eventId, ...binding, type, dispute: report }];
    // Signed and bound, but without an id, amount or status Tender can read: kept on the payment's trail.
    const data: Record<string, unknown> = {};
    if (dispute) {
      for (const key of ['id', 'amount', 'currency', 'reason_code', 'reason_description', 'status', 'phase', 'respond_by']) {
        if (dispute[key] !== undefined && dispute[key] !== null) data[key === 'id' ? 'disputeId' : key] = dispute[key];
      }
    }
    return [{ kind: 'note', eventId, ...binding, type, data }];
  }
  return [{ kind: 'ignored', eventId, reason: `Razorpay event '${type}' is not used by Tender` }];
}
