/**
 * The payment and refund state machines: one transition table each, and nothing else decides
 * which status may follow which.
 *
 * @module
 */
import { stateConflict } from './errors';
import type { InvoiceStatus, SubscriptionStatus } from './billing';
import type { DisputeStatus } from './dispute';
import type { PaymentStatus, RefundStatus } from './payment';

/**
 * Allowed payment transitions. Reading guide:
 * - Success after `FAILED` / `EXPIRED` is allowed because a gateway can report money taken after we gave
 *   up (late FPX approval, a customer finishing after our expiry): money moved, so we must record it.
 * - Refund states move both ways between `CAPTURED`, `PARTIALLY_REFUNDED` and `REFUNDED` because a refund
 *   can fail after it was requested (Stripe `refund.failed`), giving the amount back to the payment.
 * - `CANCELLED -> CAPTURED` only records a customer who paid a hosted page after it was cancelled here.
 * - `REQUIRES_REVIEW` is a hold before any gateway call (the risk engine's review band): an approval
 *   sends it back to `PENDING` and on to the gateway, a decline fails it, a cancel cancels it.
 */
export const PAYMENT_TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  PENDING: ['REQUIRES_REVIEW', 'REQUIRES_ACTION', 'PROCESSING', 'AUTHORIZED', 'CAPTURED', 'FAILED', 'CANCELLED', 'EXPIRED'],
  REQUIRES_REVIEW: ['PENDING', 'FAILED', 'CANCELLED'],
  REQUIRES_ACTION: ['PROCESSING', 'AUTHORIZED', 'CAPTURED', 'FAILED', 'CANCELLED', 'EXPIRED'],
  PROCESSING: ['REQUIRES_ACTION', 'AUTHORIZED', 'CAPTURED', 'FAILED', 'CANCELLED', 'EXPIRED'],
  // PROCESSING while a capture or void is in flight, so a crash mid-call leaves it for the reconciler.
  AUTHORIZED: ['PROCESSING', 'CAPTURED', 'CANCELLED', 'EXPIRED', 'FAILED'],
  CAPTURED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  PARTIALLY_REFUNDED: ['REFUNDED', 'CAPTURED'],
  REFUNDED: ['PARTIALLY_REFUNDED', 'CAPTURED'],
  FAILED: ['AUTHORIZED', 'CAPTURED'],
  EXPIRED: ['AUTHORIZED', 'CAPTURED'],
  CANCELLED: ['CAPTURED'],
};

/** Allowed refund transitions; `SUCCEEDED -> FAILED` exists because gateways report late refund failures. */
export const REFUND_TRANSITIONS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  PENDING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: ['FAILED'],
  FAILED: [],
};

/**
 * How far along the happy path a status is. A gateway report that would move a payment to a lower
 * rank than it already has is stale (webhooks arrive out of order) and is recorded but not applied.
 */
const PAYMENT_RANK: Readonly<Record<PaymentStatus, number>> = {
  PENDING: 0,
  REQUIRES_REVIEW: 0,
  REQUIRES_ACTION: 1,
  PROCESSING: 2,
  FAILED: 3,
  EXPIRED: 3,
  AUTHORIZED: 4,
  CANCELLED: 5,
  CAPTURED: 5,
  PARTIALLY_REFUNDED: 6,
  REFUNDED: 7,
};

/** Statuses from which nothing but a gateway's late report can move the payment. */
export const TERMINAL_PAYMENT_STATUSES: readonly PaymentStatus[] = ['REFUNDED', 'FAILED', 'CANCELLED', 'EXPIRED'];

/** Statuses in which money has been taken and refunds are possible. */
export const REFUNDABLE_PAYMENT_STATUSES: readonly PaymentStatus[] = ['CAPTURED', 'PARTIALLY_REFUNDED'];

/** True when the table allows `from -> to` (a no-op `from === to` is not a transition). */
export function canTransitionPayment(from: PaymentStatus, to: PaymentStatus): boolean {
  return PAYMENT_TRANSITIONS[from].includes(to);
}

/** True when the table allows the refund transition `from -> to`. */
export function canTransitionRefund(from: RefundStatus, to: RefundStatus): boolean {
  return REFUND_TRANSITIONS[from].includes(to);
}

/**
 * Throws a 409 `illegal_transition` TenderError unless the table allows `from -> to`.
 * @throws TenderError
 */
export function assertPaymentTransition(from: PaymentStatus, to: PaymentStatus): void {
  if (!canTransitionPayment(from, to)) {
    throw stateConflict('illegal_transition', `A payment cannot move from ${from} to ${to}`, { from, to });
  }
}

/** Refund counterpart of {@link assertPaymentTransition}. */
export function assertRefundTransition(from: RefundStatus, to: RefundStatus): void {
  if (!canTransitionRefund(from, to)) {
    throw stateConflict('illegal_transition', `A refund cannot move from ${from} to ${to}`, { from, to });
  }
}

/**
 * True when a gateway-reported status would move the payment backwards along the happy path (a
 * stale, out-of-order report). Refund-driven moves are decided by refund records, not by this.
 */
export function isStalePaymentReport(current: PaymentStatus, reported: PaymentStatus): boolean {
  // An authorisation that lapsed (PayPal's EXPIRED authorization, Fiuu's StatCode 21 on capture) is
  // news about the authorisation, not an old report about the attempt before it: nothing is held.
  if (current === 'AUTHORIZED' && reported === 'EXPIRED') return false;
  return PAYMENT_RANK[reported] < PAYMENT_RANK[current];
}

/**
 * Allowed subscription transitions, as Stripe Billing moves them
 * (https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses). Tender mirrors the
 * gateway's state and may see only some of the steps (a requery reads the newest state), so every
 * move the gateway can make in one or more steps is here: a trial can be added to an active
 * subscription (`active -> trialing`), a paused one resumes, `canceled` and `incomplete_expired` end it.
 */
export const SUBSCRIPTION_TRANSITIONS: Readonly<Record<SubscriptionStatus, readonly SubscriptionStatus[]>> = {
  incomplete: ['active', 'trialing', 'past_due', 'incomplete_expired', 'canceled', 'unpaid', 'paused'],
  incomplete_expired: [],
  trialing: ['active', 'past_due', 'canceled', 'unpaid', 'paused', 'incomplete'],
  active: ['past_due', 'canceled', 'unpaid', 'paused', 'trialing', 'incomplete'],
  past_due: ['active', 'canceled', 'unpaid', 'paused', 'trialing'],
  unpaid: ['active', 'canceled', 'past_due', 'paused', 'trialing'],
  paused: ['active', 'trialing', 'canceled', 'past_due'],
  canceled: [],
};

/**
 * Allowed invoice transitions (https://docs.stripe.com/invoicing/overview#invoice-statuses): a draft
 * is finalized (`open`) or, for a zero amount, paid at once; an open invoice is paid, voided or
 * marked uncollectible, which can still be paid or voided. `paid` and `void` are final.
 */
export const INVOICE_TRANSITIONS: Readonly<Record<InvoiceStatus, readonly InvoiceStatus[]>> = {
  draft: ['open', 'paid', 'void', 'uncollectible'],
  open: ['paid', 'void', 'uncollectible'],
  uncollectible: ['paid', 'void', 'open'],
  paid: [],
  void: [],
};

/** True when the subscription table allows `from -> to`. */
export function canTransitionSubscription(from: SubscriptionStatus, to: SubscriptionStatus): boolean {
  return SUBSCRIPTION_TRANSITIONS[from].includes(to);
}

/** True when the invoice table allows `from -> to`. */
export function canTransitionInvoice(from: InvoiceStatus, to: InvoiceStatus): boolean {
  return INVOICE_TRANSITIONS[from].includes(to);
}

/**
 * Allowed dispute transitions (statuses in `dispute.ts`). Tender sees some steps only (a webhook may
 * be lost and the next one says more), so every move a gateway can make in one or more steps is here:
 * an inquiry can be escalated to a chargeback (Stripe: "If the inquiry escalates to a chargeback, the
 * status changes to needs_response", https://docs.stripe.com/disputes/how-disputes-work#inquiries),
 * a dispute under review can ask for more evidence again (PayPal `UNDER_REVIEW` back to
 * `WAITING_FOR_SELLER_RESPONSE`, https://developer.paypal.com/docs/api/customer-disputes/v1/), and a
 * closed status (`won`, `lost`, `accepted`, `closed`, `warning_closed`) is final.
 */
export const DISPUTE_TRANSITIONS: Readonly<Record<DisputeStatus, readonly DisputeStatus[]>> = {
  warning_needs_response: ['warning_under_review', 'warning_closed', 'needs_response', 'under_review', 'won', 'lost', 'accepted', 'closed'],
  warning_under_review: ['warning_needs_response', 'warning_closed', 'needs_response', 'under_review', 'won', 'lost', 'accepted', 'closed'],
  needs_response: ['under_review', 'won', 'lost', 'accepted', 'closed'],
  under_review: ['needs_response', 'won', 'lost', 'accepted', 'closed'],
  warning_closed: [],
  won: [],
  lost: [],
  accepted: [],
  closed: [],
};

/** How far along a dispute is: breaks the tie between two reports the gateway made in the same second. */
const DISPUTE_RANK: Readonly<Record<DisputeStatus, number>> = {
  warning_needs_response: 0,
  warning_under_review: 1,
  needs_response: 2,
  under_review: 3,
  warning_closed: 4,
  won: 4,
  lost: 4,
  accepted: 4,
  closed: 4,
};

/** True when the dispute table allows `from -> to`. */
export function canTransitionDispute(from: DisputeStatus, to: DisputeStatus): boolean {
  return DISPUTE_TRANSITIONS[from].includes(to);
}

/**
 * True when a dispute report is older news than the stored state: the gateway made it before the
 * report stored (`reportedAt < syncedAt`), or in the same instant with a status less far along.
 * Gateways do not deliver webhooks in order, so a `won` followed by a late `under_review` keeps `won`.
 */
export function isStaleDisputeReport(stored: { status: DisputeStatus; syncedAt: string }, reported: { status: DisputeStatus; reportedAt: string }): boolean {
  const a = Date.parse(reported.reportedAt);
  const b = Date.parse(stored.syncedAt);
  if (a !== b) return a < b;
  return DISPUTE_RANK[reported.status] < DISPUTE_RANK[stored.status];
}
