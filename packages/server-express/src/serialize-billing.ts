/**
 * Billing records -> API JSON (snake_case; amounts as major-unit strings plus integer minor units, as
 * payments are): saved payment methods, subscriptions, invoices and their audit trail.
 *
 * @module
 */
import { Money, type BillingTransition, type Invoice, type SavedPaymentMethod, type Subscription } from '@tender/core';

function minor(amount: string, currency: string): number {
  return Money.of(amount, currency).toMinor();
}

/** The API shape of a saved payment method (`deleted` once removed; a removed method is never the default). */
export function paymentMethodJson(m: SavedPaymentMethod): Record<string, unknown> {
  return {
    id: m.id,
    object: 'payment_method',
    user_id: m.userId,
    gateway: m.gateway,
    gateway_token: m.token,
    type: m.type,
    card: m.card
      ? { brand: m.card.brand, last4: m.card.last4, exp_month: m.card.expMonth, exp_year: m.card.expYear, funding: m.card.funding ?? null, country: m.card.country ?? null }
      : null,
    wallet_email: m.walletEmail,
    is_default: m.deletedAt === null && m.isDefault,
    deleted: m.deletedAt !== null,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}

/** The API shape of a subscription. */
export function subscriptionJson(s: Subscription): Record<string, unknown> {
  return {
    id: s.id,
    object: 'subscription',
    user_id: s.userId,
    gateway: s.gateway,
    gateway_reference: s.gatewayReference,
    status: s.status,
    price_id: s.priceId,
    quantity: s.quantity,
    amount: s.amount,
    amount_minor: s.amount !== null && s.currency !== null ? minor(s.amount, s.currency) : null,
    currency: s.currency,
    interval: s.interval,
    interval_count: s.intervalCount,
    payment_method_id: s.paymentMethodId,
    trial_start: s.trialStart,
    trial_end: s.trialEnd,
    current_period_start: s.currentPeriodStart,
    current_period_end: s.currentPeriodEnd,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt,
    ended_at: s.endedAt,
    latest_invoice: s.latestInvoiceReference,
    metadata: s.metadata,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

/** The API shape of an invoice. */
export function invoiceJson(i: Invoice): Record<string, unknown> {
  return {
    id: i.id,
    object: 'invoice',
    user_id: i.userId,
    subscription_id: i.subscriptionId,
    gateway: i.gateway,
    gateway_reference: i.gatewayReference,
    status: i.status,
    currency: i.currency,
    amount_due: i.amountDue,
    amount_due_minor: minor(i.amountDue, i.currency),
    amount_paid: i.amountPaid,
    amount_paid_minor: minor(i.amountPaid, i.currency),
    amount_remaining: i.amountRemaining,
    amount_remaining_minor: minor(i.amountRemaining, i.currency),
    billing_reason: i.billingReason,
    number: i.number,
    hosted_invoice_url: i.hostedInvoiceUrl,
    period_start: i.periodStart,
    period_end: i.periodEnd,
    attempt_count: i.attemptCount,
    next_payment_attempt: i.nextPaymentAttempt,
    payment_id: i.paymentId,
    paid_at: i.paidAt,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
  };
}

/** The API shape of a subscription's or invoice's audit-trail entry. */
export function billingTransitionJson(t: BillingTransition): Record<string, unknown> {
  return { id: t.id, resource_type: t.resourceType, resource_id: t.resourceId, from: t.from, to: t.to, reason: t.reason, actor: t.actor, at: t.at };
}
