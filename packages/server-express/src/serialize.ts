/**
 * Engine records -> API JSON (snake_case, amounts as strings plus integer minor units). The engine's
 * stored idempotent responses are engine records too, so replays go through the same functions.
 *
 * @module
 */
import { CANCEL_REQUESTED, Money, type NextAction, type Payment, type Refund, type Transition, type FailureReason } from '@tender/core';
import { riskJson } from './risk';

function minor(amount: string, currency: string): number {
  return Money.of(amount, currency).toMinor();
}

function failure(f: FailureReason | null): Record<string, string> | null {
  if (!f) return null;
  return { code: f.code, message: f.message, ...(f.declineCode ? { decline_code: f.declineCode } : {}) };
}

/** A NextAction with snake_case member names (params/fields keep the gateway's own names). */
export function nextActionJson(action: NextAction | null): Record<string, unknown> | null {
  if (!action) return null;
  switch (action.type) {
    case 'redirect':
      return { type: 'redirect', url: action.url, ...(action.method ? { method: action.method } : {}), ...(action.fields ? { fields: action.fields } : {}) };
    case 'seamless':
      return { type: 'seamless', gateway: action.gateway, params: action.params };
    case 'client_secret':
      return { type: 'client_secret', client_secret: action.clientSecret, ...(action.action ? { action: action.action } : {}) };
    case 'upi_intent':
      return { type: 'upi_intent', url: action.url, ...(action.qrCode ? { qr_code: action.qrCode } : {}), ...(action.expiresAt ? { expires_at: action.expiresAt } : {}) };
    case 'upi_collect':
      return { type: 'upi_collect', vpa: action.vpa, ...(action.expiresAt ? { expires_at: action.expiresAt } : {}) };
    default:
      return { type: action.type, data: (action as { data?: Record<string, unknown> }).data ?? {} };
  }
}

/** The API shape of a payment. */
export function paymentJson(p: Payment): Record<string, unknown> {
  return {
    id: p.id,
    object: 'payment',
    status: p.status,
    amount: p.amount,
    amount_minor: minor(p.amount, p.currency),
    currency: p.currency,
    gateway: p.gateway,
    gateway_reference: p.gatewayReference,
    order_id: p.orderId,
    payment_method: p.paymentMethod,
    capture_method: p.captureMethod,
    amount_captured: p.amountCaptured,
    amount_refunded: p.amountRefunded,
    description: p.description,
    bill_name: p.customer?.name ?? null,
    bill_email: p.customer?.email ?? null,
    bill_mobile: p.customer?.phone ?? null,
    return_url: p.returnUrl,
    notify_url: p.notifyUrl,
    next_action: nextActionJson(p.nextAction),
    failure: failure(p.failure),
    // Set while a cancel waits for the gateway's answer to the create (the payment stays PENDING
    // until the authorisation is voided or the capture refunded).
    cancellation_requested_at: typeof p.gatewayData[CANCEL_REQUESTED] === 'string' ? p.gatewayData[CANCEL_REQUESTED] : null,
    metadata: p.metadata,
    user_id: p.userId ?? null,
    saved_payment_method_id: p.savedPaymentMethodId ?? null,
    risk: riskJson(p),
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    ...upiSeedFields(p),
  };
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The UPI response fields, beside Tender's own: `payment_id`; for INR, `amount_paisa` and `fees_paisa` (the
 * gateway's fee once it reports one, else 0); while a UPI link or collect request is open,
 * `payment_url` (`upi://pay?...`), `qr_code` (PNG data URL) and `expires_at`; once paid,
 * `external_txn_id` (the UPI transaction id) and `gateway_response` (`rrn`, `approval_code`).
 */
function upiSeedFields(p: Payment): Record<string, unknown> {
  const out: Record<string, unknown> = { payment_id: p.id };
  if (p.currency === 'INR') {
    out.amount_paisa = minor(p.amount, p.currency);
    const fee = p.gatewayData.feeMinor;
    out.fees_paisa = typeof fee === 'number' && Number.isSafeInteger(fee) && fee >= 0 ? fee : 0;
  }
  const action = p.nextAction;
  if (action?.type === 'upi_intent') {
    out.payment_url = action.url;
    if (action.qrCode) out.qr_code = action.qrCode;
  }
  if ((action?.type === 'upi_intent' || action?.type === 'upi_collect') && action.expiresAt) out.expires_at = action.expiresAt;
  const external = text(p.gatewayData.upiTransactionId);
  const rrn = text(p.gatewayData.rrn);
  const approval = text(p.gatewayData.approvalCode);
  if (external) out.external_txn_id = external;
  if (rrn || approval) out.gateway_response = { rrn, approval_code: approval };
  return out;
}

/** The API shape of a refund. */
export function refundJson(r: Refund): Record<string, unknown> {
  return {
    id: r.id,
    object: 'refund',
    payment_id: r.paymentId,
    status: r.status,
    amount: r.amount,
    amount_minor: minor(r.amount, r.currency),
    currency: r.currency,
    reason: r.reason,
    gateway_reference: r.gatewayReference,
    failure: failure(r.failure),
    metadata: r.metadata,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** The API shape of an audit-trail entry. */
export function transitionJson(t: Transition): Record<string, unknown> {
  return { id: t.id, refund_id: t.refundId, from: t.from, to: t.to, reason: t.reason, actor: t.actor, at: t.at };
}

/** A page in the API's list shape. */
export function listJson<T>(data: T[], hasMore: boolean, nextCursor: string | null, map: (item: T) => Record<string, unknown>): Record<string, unknown> {
  return { object: 'list', data: data.map(map), has_more: hasMore, next_cursor: nextCursor };
}
