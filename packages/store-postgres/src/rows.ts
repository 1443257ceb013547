/**
 * Conversions between database rows and Tender records. Every read builds new objects, so callers get
 * copies. Amounts leave as currency-scaled decimal strings, timestamps as UTC ISO strings with ms.
 *
 * @module
 */
import {
  Money,
  invalidRequest,
  type IdempotencyRecord,
  type OutboxRow,
  type Payment,
  type WebhookEndpoint,
  type Refund,
  type Transition,
} from '@tender/core';
import type { Row } from './driver';

/** Largest scale the `numeric(38,4)` columns hold; more decimals would be rounded by Postgres. */
const AMOUNT_TEXT = /^[0-9]{1,34}(\.[0-9]{1,4})?$/;

/**
 * Checks an amount before it is written: Postgres would silently round extra decimals, and Tender never
 * rounds money.
 */
export function amountParam(value: string, param: string): string {
  if (typeof value !== 'string' || !AMOUNT_TEXT.test(value)) {
    throw invalidRequest('invalid_amount', `${param} must be a non-negative decimal string with at most 4 decimals, got '${String(value)}'`, param);
  }
  return value;
}

/** A stored amount with exactly its currency's decimals. */
export function formatAmount(value: unknown, currency: string): string {
  const text = String(value);
  try {
    return Money.of(text, currency).toString();
  } catch {
    // An unknown currency code: give back the exact value without padding zeros.
    return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  }
}

/** A timestamptz as an ISO string (drivers give Dates; a host's custom type parser may give text). */
export function iso(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

/** A JS value as a jsonb parameter (stringified here: node-postgres would turn arrays into SQL arrays). */
export function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function str(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function obj<T>(value: unknown, fallback: T): T {
  return (value === null || value === undefined ? fallback : value) as T;
}

export const PAYMENT_COLUMNS =
  'id, merchant_id, order_id, status, amount, currency, amount_captured, amount_refunded, capture_method, gateway, ' +
  'gateway_reference, payment_method, description, customer, return_url, notify_url, metadata, next_action, failure, ' +
  'gateway_data, created_at, updated_at, version, user_id, saved_payment_method_id';

export function toPayment(r: Row): Payment {
  const currency = String(r.currency);
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    orderId: str(r.order_id),
    status: r.status as Payment['status'],
    amount: formatAmount(r.amount, currency),
    currency,
    amountCaptured: formatAmount(r.amount_captured, currency),
    amountRefunded: formatAmount(r.amount_refunded, currency),
    captureMethod: r.capture_method as Payment['captureMethod'],
    gateway: String(r.gateway),
    gatewayReference: str(r.gateway_reference),
    paymentMethod: str(r.payment_method),
    description: str(r.description),
    customer: obj(r.customer, {}),
    returnUrl: str(r.return_url),
    notifyUrl: str(r.notify_url),
    metadata: obj(r.metadata, {}),
    nextAction: obj(r.next_action, null),
    failure: obj(r.failure, null),
    gatewayData: obj(r.gateway_data, {}),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    version: Number(r.version),
    userId: str(r.user_id),
    savedPaymentMethodId: str(r.saved_payment_method_id),
  };
}

/** Parameters $1..$25 in {@link PAYMENT_COLUMNS} order. */
export function paymentParams(p: Payment): unknown[] {
  return [
    p.id,
    p.merchantId,
    p.orderId,
    p.status,
    amountParam(p.amount, 'amount'),
    p.currency,
    amountParam(p.amountCaptured, 'amountCaptured'),
    amountParam(p.amountRefunded, 'amountRefunded'),
    p.captureMethod,
    p.gateway,
    p.gatewayReference,
    p.paymentMethod,
    p.description,
    json(p.customer ?? {}),
    p.returnUrl,
    p.notifyUrl,
    json(p.metadata ?? {}),
    json(p.nextAction),
    json(p.failure),
    json(p.gatewayData ?? {}),
    p.createdAt,
    p.updatedAt,
    p.version,
    p.userId ?? null,
    p.savedPaymentMethodId ?? null,
  ];
}

export const REFUND_COLUMNS =
  'id, merchant_id, payment_id, status, amount, currency, reason, gateway_reference, failure, metadata, created_at, updated_at';

export function toRefund(r: Row): Refund {
  const currency = String(r.currency);
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    paymentId: String(r.payment_id),
    status: r.status as Refund['status'],
    amount: formatAmount(r.amount, currency),
    currency,
    reason: str(r.reason),
    gatewayReference: str(r.gateway_reference),
    failure: obj(r.failure, null),
    metadata: obj(r.metadata, {}),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** Parameters $1..$12 in {@link REFUND_COLUMNS} order. */
export function refundParams(r: Refund): unknown[] {
  return [
    r.id,
    r.merchantId,
    r.paymentId,
    r.status,
    amountParam(r.amount, 'amount'),
    r.currency,
    r.reason,
    r.gatewayReference,
    json(r.failure),
    json(r.metadata ?? {}),
    r.createdAt,
    r.updatedAt,
  ];
}

export const TRANSITION_COLUMNS = 'id, merchant_id, payment_id, refund_id, from_status, to_status, reason, actor, at';

export function toTransition(r: Row): Transition {
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    paymentId: String(r.payment_id),
    refundId: str(r.refund_id),
    from: str(r.from_status),
    to: String(r.to_status),
    reason: String(r.reason),
    actor: String(r.actor),
    at: iso(r.at),
  };
}

export const IDEMPOTENCY_COLUMNS =
  'merchant_id, key, fingerprint, state, locked_until, recovery_point, resource_type, resource_id, response, created_at, expires_at';

export function toIdempotencyRecord(r: Row): IdempotencyRecord {
  return {
    merchantId: String(r.merchant_id),
    key: String(r.key),
    fingerprint: String(r.fingerprint),
    state: r.state as IdempotencyRecord['state'],
    lockedUntil: isoOrNull(r.locked_until),
    recoveryPoint: String(r.recovery_point),
    resourceType: (r.resource_type ?? null) as IdempotencyRecord['resourceType'],
    resourceId: str(r.resource_id),
    response: obj(r.response, null),
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
  };
}

export function idempotencyParams(i: IdempotencyRecord): unknown[] {
  return [
    i.merchantId,
    i.key,
    i.fingerprint,
    i.state,
    i.lockedUntil,
    i.recoveryPoint,
    i.resourceType,
    i.resourceId,
    json(i.response),
    i.createdAt,
    i.expiresAt,
  ];
}

export const OUTBOX_COLUMNS =
  'id, merchant_id, type, payment_id, refund_id, data, payload, created_at, status, attempts, next_attempt_at, locked_until, last_error, delivered_at, ' +
  'relay_status, relay_attempts, relay_next_attempt_at, relay_locked_until, relay_error, published_at';

export function toOutboxRow(r: Row): OutboxRow {
  const payload = r.payload === null || r.payload === undefined ? null : obj<Record<string, unknown>>(r.payload, {});
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    type: String(r.type),
    paymentId: str(r.payment_id),
    refundId: str(r.refund_id),
    // No `data` (migration 9): the snapshot is the payload's `data`, stored once (see enqueueOutbox).
    data: r.data === null || r.data === undefined ? obj(payload?.data, {}) : obj(r.data, {}),
    payload,
    createdAt: iso(r.created_at),
    status: r.status as OutboxRow['status'],
    attempts: Number(r.attempts),
    nextAttemptAt: iso(r.next_attempt_at),
    lockedUntil: isoOrNull(r.locked_until),
    lastError: str(r.last_error),
    deliveredAt: isoOrNull(r.delivered_at),
    relay: {
      status: r.relay_status as OutboxRow['relay']['status'],
      attempts: Number(r.relay_attempts),
      nextAttemptAt: iso(r.relay_next_attempt_at),
      lockedUntil: isoOrNull(r.relay_locked_until),
      lastError: str(r.relay_error),
      publishedAt: isoOrNull(r.published_at),
    },
  };
}

export const WEBHOOK_ENDPOINT_COLUMNS = 'id, merchant_id, url, events, secret, description, created_at';

export function toWebhookEndpoint(r: Row): WebhookEndpoint {
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    url: String(r.url),
    events: (typeof r.events === 'string' ? JSON.parse(r.events) : r.events) as string[],
    secret: String(r.secret),
    description: r.description === null || r.description === undefined ? null : String(r.description),
    createdAt: iso(r.created_at),
  };
}
