/**
 * Invoices (https://docs.stripe.com/api/invoices) of subscriptions, and how they are paid.
 *
 * Lifecycle: `draft` → `open` (finalized: numbered, `hosted_invoice_url` set) → `paid`, or `void`
 * (an incomplete subscription's first invoice after 23 hours). The first invoice of a subscription is
 * finalized and charged inside the create request, as Stripe does for `charge_automatically`. A
 * renewal invoice (`billing_reason: subscription_cycle`, also the one at the end of a trial) is created
 * as a draft at the period end (`invoice.created`) and, as on Stripe, finalized and charged one hour
 * later (`automatically_finalizes_at`); advance a test clock past both to see it paid or failed.
 *
 * A charge is a PaymentIntent for `amount_remaining`, made for the invoice's Customer with the
 * subscription's `default_payment_method`, else the Customer's `invoice_settings.default_payment_method`,
 * off-session for renewals. It shows in the invoice's `payments` list (InvoicePayment objects, the
 * current API's link between invoices and PaymentIntents: there is no `invoice.payment_intent` and
 * no `payment_intent.invoice` any more). A failed attempt sets `next_payment_attempt` from the retry
 * schedule ({@link SandboxBillingOptions}); a PaymentIntent of the invoice that succeeds later (3-D
 * Secure completed, confirmed with a new card) pays it, as does `POST /v1/invoices/:id/pay`.
 *
 * Events: `invoice.created`, `invoice.finalized`, `invoice.paid` + `invoice.payment_succeeded`,
 * `invoice.payment_failed`, `invoice.payment_action_required`, `invoice.voided`, besides the
 * PaymentIntent's and Charge's own.
 *
 * @module
 */
import { missing, SandboxError, str, stripeId, type RequestInfo } from '../api';
import type { StripeEvent, StripePaymentIntent } from '../../stripe-types';
import { materializePaymentMethod } from './payment-methods';
import { invalidRequest, type BillingState, type InvoiceState, type StripeObject } from './state';
import { subscriptionInvoiceFailed, subscriptionInvoiceNeedsAction, subscriptionInvoicePaid } from './subscriptions';

type Params = Record<string, unknown>;

/** An invoice line: what a subscription item costs for a period. */
export interface InvoiceLineInput {
  subscriptionItem: StripeObject;
  price: StripeObject;
  quantity: number;
  amount: number;
  description: string;
}

/** Creates a subscription invoice as a draft (`invoice.created`). */
export function createSubscriptionInvoice(
  state: BillingState,
  subscription: StripeObject,
  billingReason: 'subscription_create' | 'subscription_cycle',
  period: { start: number; end: number; /** Start of the period that just ended (a renewal's invoice period). */ previousStart?: number },
  lines: InvoiceLineInput[],
  request: RequestInfo | null,
): StripeObject {
  const customer = state.customer(subscription.customer as string);
  const time = state.timeOf(customer.id);
  const id = stripeId('in');
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  const currency = subscription.currency as string;
  const invoice: StripeObject = {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Tender Sandbox',
    account_tax_ids: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: total,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: true,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: billingReason === 'subscription_create' ? null : time + 3600,
    billing_reason: billingReason,
    collection_method: 'charge_automatically',
    confirmation_secret: null,
    created: time,
    currency,
    custom_fields: null,
    customer: customer.id,
    customer_account: null,
    customer_address: null,
    customer_email: customer.email,
    customer_name: customer.name,
    customer_phone: customer.phone,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: 'list',
      data: lines.map((line) => lineItem(id, subscription, line, period)),
      has_more: false,
      total_count: lines.length,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: { quote_details: null, subscription_details: { metadata: subscription.metadata, subscription: subscription.id }, type: 'subscription_details' },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    payments: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/invoice_payments?invoice=${id}` },
    period_end: time,
    // Stripe's invoice period looks back one period (the one that just ended); the lines carry the new one.
    period_start: billingReason === 'subscription_create' ? time : (period.previousStart ?? period.start),
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: customer.test_clock,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: time,
  };
  state.invoiceStates.set(id, { firstFailureAt: null, retries: 0 });
  state.keep(state.invoices, invoice, (gone) => state.invoiceStates.delete(gone));
  state.emit('invoice.created', invoice, request);
  return invoice;
}

function lineItem(invoice: string, subscription: StripeObject, line: InvoiceLineInput, period: { start: number; end: number }): StripeObject {
  return {
    id: stripeId('il'),
    object: 'line_item',
    amount: line.amount,
    currency: subscription.currency,
    description: line.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: { invoice_item: null, proration: false, proration_details: { credited_items: null }, subscription: subscription.id, subscription_item: line.subscriptionItem.id },
      type: 'subscription_item_details',
    },
    period: { end: period.end, start: period.start },
    pretax_credit_amounts: [],
    pricing: { price_details: { price: line.price.id, product: line.price.product }, type: 'price_details', unit_amount_decimal: line.price.unit_amount_decimal },
    quantity: line.quantity,
    quantity_decimal: String(line.quantity),
    subscription: subscription.id,
    subtotal: line.amount,
    taxes: [],
  };
}

/** Finalizes a draft (`invoice.finalized`); a zero-amount invoice is paid there and then. */
export function finalizeInvoice(state: BillingState, invoice: StripeObject, request: RequestInfo | null): void {
  const customer = state.customers.get(invoice.customer as string);
  const prefix = (customer?.invoice_prefix as string | undefined) ?? 'SANDBOX';
  const sequence = (state.invoiceSequence.get(prefix) ?? 0) + 1;
  state.invoiceSequence.set(prefix, sequence);
  if (customer) customer.next_invoice_sequence = sequence + 1;
  const time = state.timeOf(invoice.customer as string);
  invoice.status = 'open';
  invoice.number = `${prefix}-${String(sequence).padStart(4, '0')}`;
  invoice.effective_at = time;
  invoice.automatically_finalizes_at = null;
  invoice.hosted_invoice_url = `${state.baseUrl()}/_sandbox/invoices/${invoice.id}`;
  invoice.status_transitions = { ...(invoice.status_transitions as Params), finalized_at: time };
  state.emit('invoice.finalized', invoice, request);
  if (invoice.amount_due === 0) markInvoicePaid(state, invoice, null, request);
}

/** How an attempt to charge an invoice ended. */
export type AttemptOutcome = { kind: 'paid' } | { kind: 'action_required'; paymentIntent: StripePaymentIntent } | { kind: 'failed'; error: SandboxError | null };

/**
 * Charges an open invoice once. `retry` attempts come from the schedule and move it on; a failed
 * attempt that is not a scheduled retry (the first, or `POST /pay`) leaves the schedule as it was.
 */
export function attemptInvoicePayment(
  state: BillingState,
  invoice: StripeObject,
  options: { paymentMethod?: string; offSession: boolean; confirm?: boolean; retry?: boolean; request: RequestInfo | null },
): AttemptOutcome {
  const subscription = subscriptionOf(state, invoice);
  const customer = state.customer(invoice.customer as string);
  const paymentMethod =
    options.paymentMethod ??
    ((subscription?.default_payment_method as string | null) || ((customer.invoice_settings as Params).default_payment_method as string | null) || null);
  const ledger = state.invoiceStates.get(invoice.id)!;
  const confirm = options.confirm !== false;
  if (options.retry) ledger.retries++;
  if (confirm) {
    invoice.attempted = true;
    invoice.attempt_count = (invoice.attempt_count as number) + 1;
    if (!paymentMethod) return failed(state, invoice, ledger, null, options.request);
  }
  let pi: StripePaymentIntent;
  let error: SandboxError | null = null;
  try {
    pi = state.account.createPaymentIntent(
      {
        amount: String(invoice.amount_remaining),
        currency: invoice.currency,
        customer: customer.id,
        ...(paymentMethod ? { payment_method: paymentMethod } : {}),
        payment_method_types: ['card'],
        ...(confirm ? { confirm: 'true' } : {}),
        ...(options.offSession && confirm ? { off_session: 'true' } : {}),
        description: invoice.billing_reason === 'subscription_create' ? 'Subscription creation' : 'Subscription update',
      },
      options.request,
    );
  } catch (caught) {
    if (!(caught instanceof SandboxError)) throw caught;
    // Not a decline (the PaymentMethod is gone, say): a failed attempt without a PaymentIntent.
    if (caught.status !== 402) return failed(state, invoice, ledger, caught, options.request);
    error = caught;
    pi = state.account.paymentIntents.get(String((caught.error.payment_intent as { id?: string } | undefined)?.id))!;
  }
  recordPayment(state, invoice, pi);
  if (pi.status === 'succeeded') {
    markInvoicePaid(state, invoice, pi, options.request);
    return { kind: 'paid' };
  }
  if (pi.status === 'requires_action' || !confirm) {
    invoice.confirmation_secret = { client_secret: pi.client_secret, type: 'payment_intent' };
    if (pi.status === 'requires_action') {
      state.emit('invoice.payment_action_required', invoice, options.request);
      if (subscription) subscriptionInvoiceNeedsAction(state, subscription, invoice, options.request);
    }
    return { kind: 'action_required', paymentIntent: pi };
  }
  return failed(state, invoice, ledger, error, options.request);
}

function failed(state: BillingState, invoice: StripeObject, ledger: InvoiceState, error: SandboxError | null, request: RequestInfo | null): AttemptOutcome {
  const time = state.timeOf(invoice.customer as string);
  ledger.firstFailureAt ??= time;
  const schedule = state.retryScheduleDays;
  const isFirst = invoice.billing_reason === 'subscription_create';
  invoice.next_payment_attempt = !isFirst && ledger.retries < schedule.length ? ledger.firstFailureAt + schedule[ledger.retries]! * 86_400 : null;
  state.emit('invoice.payment_failed', invoice, request);
  const subscription = subscriptionOf(state, invoice);
  if (subscription) subscriptionInvoiceFailed(state, subscription, invoice, request, !isFirst && invoice.next_payment_attempt === null);
  return { kind: 'failed', error };
}

function recordPayment(state: BillingState, invoice: StripeObject, pi: StripePaymentIntent): void {
  state.linkPayment(pi.id, invoice.id);
  const payments = invoice.payments as { data: StripeObject[] } & Params;
  // The newest attempt is the default payment; earlier ones that did not pay are canceled.
  const earlier = payments.data.map((p) => (p.status === 'open' ? { ...p, is_default: false, status: 'canceled', status_transitions: { canceled_at: state.timeOf(invoice.customer as string), paid_at: null } } : p));
  const entry: StripeObject = {
    id: stripeId('inpay'),
    object: 'invoice_payment',
    amount_paid: null,
    amount_requested: pi.amount,
    created: pi.created,
    currency: pi.currency,
    invoice: invoice.id,
    is_default: true,
    livemode: false,
    payment: { payment_intent: pi.id, type: 'payment_intent' },
    status: 'open',
    status_transitions: { canceled_at: null, paid_at: null },
  };
  invoice.payments = { ...payments, data: [entry, ...earlier], total_count: earlier.length + 1 };
}

/** Marks an invoice paid (`invoice.paid`, and `invoice.payment_succeeded` when a payment paid it). */
export function markInvoicePaid(state: BillingState, invoice: StripeObject, pi: StripePaymentIntent | null, request: RequestInfo | null): void {
  const time = state.timeOf(invoice.customer as string);
  invoice.status = 'paid';
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.next_payment_attempt = null;
  invoice.auto_advance = false;
  invoice.attempted = true;
  invoice.status_transitions = { ...(invoice.status_transitions as Params), paid_at: time };
  if (pi) {
    const payments = invoice.payments as { data: StripeObject[] } & Params;
    invoice.payments = {
      ...payments,
      data: payments.data.map((p) =>
        (p.payment as Params).payment_intent === pi.id ? { ...p, amount_paid: pi.amount_received, status: 'paid', status_transitions: { canceled_at: null, paid_at: time } } : p,
      ),
    };
  }
  state.emit('invoice.paid', invoice, request);
  if (pi) state.emit('invoice.payment_succeeded', invoice, request);
  const subscription = subscriptionOf(state, invoice);
  if (subscription) subscriptionInvoicePaid(state, subscription, invoice, request);
}

/** Voids an open invoice (`invoice.voided`). */
export function voidInvoice(state: BillingState, invoice: StripeObject, request: RequestInfo | null): void {
  invoice.status = 'void';
  invoice.amount_remaining = 0;
  invoice.next_payment_attempt = null;
  invoice.auto_advance = false;
  invoice.status_transitions = { ...(invoice.status_transitions as Params), voided_at: state.timeOf(invoice.customer as string) };
  state.emit('invoice.voided', invoice, request);
}

/** A PaymentIntent made for an invoice succeeded after the attempt (3-D Secure done, confirmed anew): the invoice is paid. */
export function onPaymentIntentEvent(state: BillingState, event: StripeEvent): void {
  if (event.type !== 'payment_intent.succeeded') return;
  const id = event.data.object.id as string;
  const invoice = state.invoices.get(state.invoiceOfPaymentIntent.get(id) ?? '');
  const pi = state.account.paymentIntents.get(id);
  if (invoice && pi && invoice.status === 'open') markInvoicePaid(state, invoice, pi, null);
}

function subscriptionOf(state: BillingState, invoice: StripeObject): StripeObject | undefined {
  const details = (invoice.parent as { subscription_details?: { subscription?: string } } | null)?.subscription_details;
  return details?.subscription ? state.subscriptions.get(details.subscription) : undefined;
}

/** `GET /v1/invoices/:id`. */
export function retrieveInvoice(state: BillingState, id: string): StripeObject {
  const invoice = state.invoices.get(id);
  if (!invoice) throw missing('invoice', id);
  return invoice;
}

/** `GET /v1/invoices`: newest first, by `customer`, `subscription`, `status`. */
export function listInvoices(state: BillingState, params: Params): StripeObject[] {
  const customer = str(params, 'customer');
  const subscription = str(params, 'subscription');
  const status = str(params, 'status');
  return [...state.invoices.values()]
    .filter((i) => (!customer || i.customer === customer) && (!subscription || subscriptionOf(state, i)?.id === subscription) && (!status || i.status === status))
    .reverse();
}

/**
 * `POST /v1/invoices/:id/pay`: charges an open invoice now, with `payment_method` if given (a saved one
 * of the Customer, or a test id), else the default. A decline answers 402 like a PaymentIntent's.
 */
export function payInvoice(state: BillingState, id: string, params: Params, request: RequestInfo): StripeObject {
  const invoice = retrieveInvoice(state, id);
  if (invoice.status === 'paid') throw invalidRequest('Invoice is already paid', undefined, 'invoice_already_paid' as string);
  if (invoice.status !== 'open') throw invalidRequest(`This invoice can only be paid while open; it is ${String(invoice.status)}.`, undefined, 'invoice_not_editable');
  const requested = str(params, 'payment_method');
  const paymentMethod = requested ? materializePaymentMethod(state, requested).id : undefined;
  const offSession = params.off_session === 'true';
  const outcome = attemptInvoicePayment(state, invoice, { ...(paymentMethod ? { paymentMethod } : {}), offSession, request });
  if (outcome.kind === 'failed') {
    if (outcome.error) throw new SandboxError(outcome.error.status, outcome.error.error, true);
    throw new SandboxError(402, { type: 'invalid_request_error', code: 'invoice_no_payment_method_types', message: 'There is no default payment method set for this invoice, its subscription or its customer.' }, true);
  }
  if (outcome.kind === 'action_required') {
    throw new SandboxError(402, { type: 'card_error', code: 'invoice_payment_intent_requires_action', message: 'This payment requires additional user action before it can be completed successfully.', payment_intent: structuredClone(outcome.paymentIntent) }, true);
  }
  return invoice;
}
