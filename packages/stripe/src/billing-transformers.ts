/**
 * Stripe Billing objects -> the gateway spec's billing results: a PaymentMethod's display data, a
 * Subscription, an Invoice. Amounts go through {@link fromStripeAmount} (Stripe's currency
 * exponents), unix seconds become ISO strings. Shapes are the current API's
 * (https://docs.stripe.com/api/subscriptions/object, https://docs.stripe.com/api/invoices/object):
 * a subscription's current period is on its items, an invoice names its subscription under
 * `parent.subscription_details` and the PaymentIntent that paid it under `payments`.
 *
 * @module
 */
import type { GatewayInvoiceResult, GatewaySavedMethod, GatewaySubscriptionResult } from '@tender/core';
import { fromStripeAmount } from './amounts';
import { unusableAnswer } from './schemas';
import type { StripeBillingInvoice, StripeBillingPaymentMethod, StripeBillingSubscription } from './stripe-billing-schemas';
import { iso } from './transformers';

const isoOrNull = (seconds: number | null | undefined): string | null => iso(seconds) ?? null;

/** A PaymentMethod as the gateway spec shows it: its id and a card's display data, nothing else. */
export function paymentMethodToSaved(pm: StripeBillingPaymentMethod): GatewaySavedMethod {
  const card = pm.card;
  return {
    token: pm.id,
    type: pm.type,
    card: card
      ? {
          brand: card.brand,
          last4: card.last4,
          expMonth: card.exp_month,
          expYear: card.exp_year,
          funding: card.funding ?? null,
          country: card.country ?? null,
        }
      : null,
    walletEmail: null,
  };
}

/** Only the string values of a metadata object (Stripe's are all strings; anything else is dropped). */
function stringMetadata(metadata: Record<string, string> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) if (typeof value === 'string') out[key] = value;
  return out;
}

/**
 * Maps a Subscription. Tender's subscriptions have one item (one price): its price, quantity and
 * current period are the subscription's. `amount` is one period's price (unit amount × quantity).
 * @throws TenderError `invalid_gateway_response` for a subscription without items.
 */
export function subscriptionToResult(subscription: StripeBillingSubscription, operation: string, mutating: boolean): GatewaySubscriptionResult {
  const item = subscription.items.data[0];
  if (!item) throw unusableAnswer(operation, ['items.data is empty'], mutating);
  const quantity = item.quantity ?? 1;
  const price = item.price;
  return {
    gatewayReference: subscription.id,
    gatewayCustomerId: subscription.customer,
    status: subscription.status,
    priceId: price.id,
    quantity,
    amount: price.unit_amount === null ? null : fromStripeAmount(price.unit_amount * quantity, price.currency),
    interval: price.recurring?.interval ?? null,
    intervalCount: price.recurring?.interval_count ?? null,
    defaultPaymentMethod: subscription.default_payment_method,
    trialStart: isoOrNull(subscription.trial_start),
    trialEnd: isoOrNull(subscription.trial_end),
    currentPeriodStart: isoOrNull(item.current_period_start),
    currentPeriodEnd: isoOrNull(item.current_period_end),
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    canceledAt: isoOrNull(subscription.canceled_at),
    endedAt: isoOrNull(subscription.ended_at),
    latestInvoiceReference: subscription.latest_invoice,
    metadata: stringMetadata(subscription.metadata),
    createdAt: isoOrNull(subscription.created) ?? new Date(0).toISOString(),
  };
}

/**
 * Maps an Invoice. `paymentReference` is the PaymentIntent of its paid InvoicePayment (the current
 * API has no `invoice.payment_intent`): the invoice must have been read with `payments` included;
 * with that PaymentIntent expanded, `paymentMethod` is the PaymentMethod it charged.
 * A `status` of null (Stripe: a draft being deleted) reads as `draft`.
 * @throws TenderError `invalid_gateway_response` for an invoice without a customer.
 */
export function invoiceToResult(invoice: StripeBillingInvoice, operation: string): GatewayInvoiceResult {
  if (!invoice.customer) throw unusableAnswer(operation, ['customer is missing'], false);
  const money = (minor: number) => fromStripeAmount(minor, invoice.currency);
  const paid = invoice.payments?.data.find((p) => p.status === 'paid' && p.payment.payment_intent)?.payment.payment_intent;
  const paymentIntent = typeof paid === 'string' ? { id: paid, payment_method: null } : (paid ?? null);
  return {
    gatewayReference: invoice.id,
    gatewayCustomerId: invoice.customer,
    subscriptionReference: invoice.parent?.subscription_details?.subscription ?? null,
    status: invoice.status ?? 'draft',
    amountDue: money(invoice.amount_due),
    amountPaid: money(invoice.amount_paid),
    amountRemaining: money(invoice.amount_remaining),
    billingReason: invoice.billing_reason,
    number: invoice.number,
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    periodStart: isoOrNull(invoice.period_start),
    periodEnd: isoOrNull(invoice.period_end),
    attemptCount: invoice.attempt_count,
    nextPaymentAttempt: isoOrNull(invoice.next_payment_attempt),
    paidAt: isoOrNull(invoice.status_transitions?.paid_at),
    paymentReference: paymentIntent?.id ?? null,
    // The PaymentMethod the paying PaymentIntent charged (expanded), else the invoice's own default.
    paymentMethod: paymentIntent?.payment_method ?? invoice.default_payment_method ?? null,
    createdAt: isoOrNull(invoice.created) ?? new Date(0).toISOString(),
  };
}
