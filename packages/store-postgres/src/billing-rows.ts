/**
 * Conversions between database rows and billing records (migration 10's tables), with the same rules
 * as `rows.ts`: every read builds new objects, amounts leave as currency-scaled decimal strings and
 * are checked before they are written (Postgres would round extra decimals), timestamps leave as UTC
 * ISO strings with ms.
 *
 * @module
 */
import type { BillingTransition, GatewayCustomer, Invoice, SavedCardDetails, SavedPaymentMethod, Subscription } from '@tender/core';
import type { Row } from './driver';
import { amountParam, formatAmount, iso, isoOrNull, json } from './rows';

function str(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function int(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export const GATEWAY_CUSTOMER_COLUMNS = 'merchant_id, user_id, gateway, gateway_customer_id, created_at';

export function toGatewayCustomer(r: Row): GatewayCustomer {
  return {
    merchantId: String(r.merchant_id),
    userId: String(r.user_id),
    gateway: String(r.gateway),
    gatewayCustomerId: String(r.gateway_customer_id),
    createdAt: iso(r.created_at),
  };
}

/** Parameters $1..$5 in {@link GATEWAY_CUSTOMER_COLUMNS} order. */
export function gatewayCustomerParams(c: GatewayCustomer): unknown[] {
  return [c.merchantId, c.userId, c.gateway, c.gatewayCustomerId, c.createdAt];
}

export const SAVED_METHOD_COLUMNS =
  'id, merchant_id, user_id, gateway, token, type, card, wallet_email, is_default, created_at, updated_at, deleted_at';

export function toSavedPaymentMethod(r: Row): SavedPaymentMethod {
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    userId: String(r.user_id),
    gateway: String(r.gateway),
    token: String(r.token),
    type: String(r.type),
    // As the driver parsed it (a new object on every read), whatever JSON value was written.
    card: r.card === null || r.card === undefined ? null : (r.card as SavedCardDetails),
    walletEmail: str(r.wallet_email),
    isDefault: r.is_default === true,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    deletedAt: isoOrNull(r.deleted_at),
  };
}

/**
 * Parameters $1..$12 in {@link SAVED_METHOD_COLUMNS} order. `isDefault` is written as given; the store
 * inserts a default as not the default first and makes it the default once the insert succeeded.
 */
export function savedPaymentMethodParams(m: SavedPaymentMethod, isDefault = m.isDefault): unknown[] {
  return [
    m.id,
    m.merchantId,
    m.userId,
    m.gateway,
    m.token,
    m.type,
    json(m.card),
    m.walletEmail,
    isDefault,
    m.createdAt,
    m.updatedAt,
    m.deletedAt,
  ];
}

export const SUBSCRIPTION_COLUMNS =
  'id, merchant_id, user_id, gateway, gateway_reference, gateway_customer_id, status, price_id, quantity, amount, currency, ' +
  'billing_interval, interval_count, payment_method_id, trial_start, trial_end, current_period_start, current_period_end, ' +
  'cancel_at_period_end, canceled_at, ended_at, latest_invoice_reference, metadata, created_at, updated_at, synced_at, version';

export function toSubscription(r: Row): Subscription {
  const currency = str(r.currency);
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    userId: String(r.user_id),
    gateway: String(r.gateway),
    gatewayReference: String(r.gateway_reference),
    gatewayCustomerId: String(r.gateway_customer_id),
    status: r.status as Subscription['status'],
    priceId: String(r.price_id),
    quantity: Number(r.quantity),
    amount: r.amount === null || r.amount === undefined ? null : currency === null ? formatAmount(r.amount, '') : formatAmount(r.amount, currency),
    currency,
    interval: str(r.billing_interval),
    intervalCount: int(r.interval_count),
    paymentMethodId: str(r.payment_method_id),
    trialStart: isoOrNull(r.trial_start),
    trialEnd: isoOrNull(r.trial_end),
    currentPeriodStart: isoOrNull(r.current_period_start),
    currentPeriodEnd: isoOrNull(r.current_period_end),
    cancelAtPeriodEnd: r.cancel_at_period_end === true,
    canceledAt: isoOrNull(r.canceled_at),
    endedAt: isoOrNull(r.ended_at),
    latestInvoiceReference: str(r.latest_invoice_reference),
    metadata: (r.metadata ?? {}) as Record<string, string>,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    syncedAt: iso(r.synced_at),
    version: Number(r.version),
  };
}

/** Parameters $1..$27 in {@link SUBSCRIPTION_COLUMNS} order. */
export function subscriptionParams(s: Subscription): unknown[] {
  return [
    s.id,
    s.merchantId,
    s.userId,
    s.gateway,
    s.gatewayReference,
    s.gatewayCustomerId,
    s.status,
    s.priceId,
    s.quantity,
    s.amount === null ? null : amountParam(s.amount, 'amount'),
    s.currency,
    s.interval,
    s.intervalCount,
    s.paymentMethodId,
    s.trialStart,
    s.trialEnd,
    s.currentPeriodStart,
    s.currentPeriodEnd,
    s.cancelAtPeriodEnd,
    s.canceledAt,
    s.endedAt,
    s.latestInvoiceReference,
    json(s.metadata ?? {}),
    s.createdAt,
    s.updatedAt,
    s.syncedAt,
    s.version,
  ];
}

export const INVOICE_COLUMNS =
  'id, merchant_id, user_id, gateway, gateway_reference, subscription_id, status, currency, amount_due, amount_paid, ' +
  'amount_remaining, billing_reason, number, hosted_invoice_url, period_start, period_end, attempt_count, ' +
  'next_payment_attempt, payment_id, paid_at, created_at, updated_at, synced_at, version';

export function toInvoice(r: Row): Invoice {
  const currency = String(r.currency);
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    userId: String(r.user_id),
    gateway: String(r.gateway),
    gatewayReference: String(r.gateway_reference),
    subscriptionId: str(r.subscription_id),
    status: r.status as Invoice['status'],
    currency,
    amountDue: formatAmount(r.amount_due, currency),
    amountPaid: formatAmount(r.amount_paid, currency),
    amountRemaining: formatAmount(r.amount_remaining, currency),
    billingReason: str(r.billing_reason),
    number: str(r.number),
    hostedInvoiceUrl: str(r.hosted_invoice_url),
    periodStart: isoOrNull(r.period_start),
    periodEnd: isoOrNull(r.period_end),
    attemptCount: Number(r.attempt_count),
    nextPaymentAttempt: isoOrNull(r.next_payment_attempt),
    paymentId: str(r.payment_id),
    paidAt: isoOrNull(r.paid_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    syncedAt: iso(r.synced_at),
    version: Number(r.version),
  };
}

/** Parameters $1..$24 in {@link INVOICE_COLUMNS} order. */
export function invoiceParams(i: Invoice): unknown[] {
  return [
    i.id,
    i.merchantId,
    i.userId,
    i.gateway,
    i.gatewayReference,
    i.subscriptionId,
    i.status,
    i.currency,
    amountParam(i.amountDue, 'amountDue'),
    amountParam(i.amountPaid, 'amountPaid'),
    amountParam(i.amountRemaining, 'amountRemaining'),
    i.billingReason,
    i.number,
    i.hostedInvoiceUrl,
    i.periodStart,
    i.periodEnd,
    i.attemptCount,
    i.nextPaymentAttempt,
    i.paymentId,
    i.paidAt,
    i.createdAt,
    i.updatedAt,
    i.syncedAt,
    i.version,
  ];
}

export const BILLING_TRANSITION_COLUMNS = 'id, merchant_id, resource_type, resource_id, from_status, to_status, reason, actor, at';

export function toBillingTransition(r: Row): BillingTransition {
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    resourceType: r.resource_type as BillingTransition['resourceType'],
    resourceId: String(r.resource_id),
    from: str(r.from_status),
    to: String(r.to_status),
    reason: String(r.reason),
    actor: String(r.actor),
    at: iso(r.at),
  };
}

/** Parameters $1..$9 in {@link BILLING_TRANSITION_COLUMNS} order. */
export function billingTransitionParams(t: BillingTransition): unknown[] {
  return [t.id, t.merchantId, t.resourceType, t.resourceId, t.from, t.to, t.reason, t.actor, t.at];
}
