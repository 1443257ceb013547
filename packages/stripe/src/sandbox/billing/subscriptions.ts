/**
 * Subscriptions (https://docs.stripe.com/api/subscriptions) of per-unit recurring Prices, charged
 * automatically.
 *
 * Statuses (https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses):
 * - create with a trial (`trial_period_days`): `trialing`, with a paid zero-amount first invoice;
 *   `customer.subscription.trial_will_end` three days before the trial ends (at once for a shorter
 *   trial). When the trial ends the subscription is `active` and its first real invoice is created;
 *   it is charged an hour later (see the invoices module).
 * - create without a trial: the first invoice is charged in the request. Paid: `active`. Not paid:
 *   `payment_behavior` decides: `allow_incomplete` (default) answers `incomplete`;
 *   `error_if_incomplete` answers the card error (HTTP 402) and keeps no subscription;
 *   `default_incomplete` does not charge and answers `incomplete` with the invoice's
 *   `confirmation_secret` to confirm client-side. `incomplete` turns `active` once the invoice is
 *   paid, `incomplete_expired` (invoice voided) after 23 hours.
 * - a renewal that fails: `past_due`, retried on the schedule; paid (a retry, `POST /v1/invoices/:id/pay`,
 *   or its PaymentIntent confirmed with a new card): `active` again; every retry failed: canceled
 *   (`cancellation_details.reason: payment_failed`), or `unpaid` / left `past_due` as configured.
 * - `cancel_at_period_end=true`: stays as it is until the period ends, then `canceled`
 *   (`customer.subscription.deleted`) with no further invoice. `DELETE` cancels now.
 *
 * Periods live on the SubscriptionItems (`current_period_start/end`), as in the current API.
 * `customer.subscription.created` is sent once the first invoice is settled (after its
 * `invoice.*` events), showing the status the create request answers with; later changes are
 * `customer.subscription.updated` with `previous_attributes`.
 *
 * @module
 */
import { applyMetadata, bool, enumOf, int, missing, SandboxError, str, stripeId, type RequestInfo } from '../api';
import { attemptInvoicePayment, createSubscriptionInvoice, finalizeInvoice, voidInvoice, type InvoiceLineInput } from './invoices';
import { planOf, retrievePrice } from './prices';
import { addInterval, changed, invalidRequest, type BillingState, type StripeObject } from './state';

type Params = Record<string, unknown>;

const DAY = 86_400;
/** Stripe sends `trial_will_end` this long before a trial ends. */
const TRIAL_WILL_END_LEAD = 3 * DAY;
/** An `incomplete` subscription whose first invoice is not paid expires after 23 hours. */
export const INCOMPLETE_EXPIRY_SECONDS = 23 * 3600;

const ENDED = new Set(['canceled', 'incomplete_expired']);

/** Whether a subscription has ended (no more invoices). */
export function hasEnded(subscription: StripeObject): boolean {
  return ENDED.has(subscription.status as string);
}

function items(subscription: StripeObject): StripeObject[] {
  return (subscription.items as { data: StripeObject[] }).data;
}

/** The current period, as the subscription's items hold it. */
export function periodOf(subscription: StripeObject): { start: number; end: number } {
  const first = items(subscription)[0]!;
  return { start: first.current_period_start as number, end: first.current_period_end as number };
}

/** The recurring interval of a subscription (all its prices share one). */
export function intervalOf(subscription: StripeObject): { interval: string; count: number } {
  const recurring = (items(subscription)[0]!.price as StripeObject).recurring as { interval: string; interval_count: number };
  return { interval: recurring.interval, count: recurring.interval_count };
}

function setPeriod(subscription: StripeObject, start: number, end: number): void {
  const list = subscription.items as Params & { data: StripeObject[] };
  subscription.items = { ...list, data: list.data.map((item) => ({ ...item, current_period_start: start, current_period_end: end })) };
}

/** Applies a change and sends `customer.subscription.updated` with what changed (once it was announced). */
function update(state: BillingState, subscription: StripeObject, change: (s: StripeObject) => void, request: RequestInfo | null): void {
  const before = structuredClone(subscription);
  change(subscription);
  const previous = changed(before, subscription);
  if (previous && state.subscriptionStates.get(subscription.id)?.announced) state.emit('customer.subscription.updated', subscription, request, previous);
}

function linesFor(subscription: StripeObject, trial: boolean): InvoiceLineInput[] {
  return items(subscription).map((item) => {
    const price = item.price as StripeObject;
    const quantity = item.quantity as number;
    const unit = price.unit_amount as number;
    const recurring = price.recurring as { interval: string; interval_count: number };
    const every = recurring.interval_count === 1 ? recurring.interval : `${recurring.interval_count} ${recurring.interval}s`;
    return {
      subscriptionItem: item,
      price,
      quantity,
      amount: trial ? 0 : unit * quantity,
      description: trial ? `Trial period for ${String(price.product)}` : `${quantity} × ${String(price.product)} (at ${unit} ${String(price.currency)} / ${every})`,
    };
  });
}

/** `POST /v1/subscriptions`. */
export function createSubscription(state: BillingState, params: Params, request: RequestInfo): StripeObject {
  const customerId = str(params, 'customer');
  if (!customerId) throw invalidRequest('Missing required param: customer.', 'customer', 'parameter_missing');
  const customer = state.customer(customerId);
  const rawItems = params.items;
  if (!Array.isArray(rawItems) || rawItems.length === 0) throw invalidRequest('Missing required param: items.', 'items', 'parameter_missing');
  const prices = rawItems.map((raw, i) => {
    const priceId = typeof raw === 'object' && raw !== null ? (raw as Params).price : undefined;
    if (typeof priceId !== 'string') throw invalidRequest('Missing required param: items[0][price].', `items[${i}][price]`, 'parameter_missing');
    const price = retrievePrice(state, priceId, `items[${i}][price]`);
    if (!price.recurring) throw invalidRequest(`The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`, `items[${i}][price]`);
    if (!price.active) throw invalidRequest(`The price specified is inactive. This field only accepts active prices.`, `items[${i}][price]`);
    return { price, quantity: int(raw as Params, 'quantity') ?? 1 };
  });
  const first = prices[0]!.price;
  for (const { price } of prices) {
    const a = first.recurring as Params;
    const b = price.recurring as Params;
    if (price.currency !== first.currency) throw invalidRequest('All prices on a subscription must have the same currency.', 'items');
    if (a.interval !== b.interval || a.interval_count !== b.interval_count) throw invalidRequest('All prices on a subscription must have the same `recurring.interval` and `recurring.interval_count`.', 'items');
  }
  // A customer is billed in one currency while it has a subscription running in it
  // (https://docs.stripe.com/api/customers/object#customer_object-currency: "the currency the
  // customer can be charged in for recurring billing purposes"); Stripe refuses another one.
  const running = [...state.subscriptions.values()].find((s) => s.customer === customer.id && !hasEnded(s) && s.currency !== first.currency);
  if (running) {
    throw invalidRequest(
      `You cannot combine currencies on a single customer. This customer has an active subscription, subscription schedule, discount, quote, or invoice item with currency ${String(running.currency)}.`,
    );
  }
  const collection = enumOf(params, 'collection_method', ['charge_automatically', 'send_invoice'] as const) ?? 'charge_automatically';
  if (collection !== 'charge_automatically') throw invalidRequest('The sandbox bills subscriptions with collection_method=charge_automatically only.', 'collection_method');
  const behavior = enumOf(params, 'payment_behavior', ['allow_incomplete', 'default_incomplete', 'error_if_incomplete', 'pending_if_incomplete'] as const) ?? 'allow_incomplete';
  if (behavior === 'pending_if_incomplete') throw invalidRequest('payment_behavior=pending_if_incomplete is only supported on updates.', 'payment_behavior');
  const defaultMethod = str(params, 'default_payment_method') || null;
  if (defaultMethod && state.paymentMethods.get(defaultMethod)?.customer !== customer.id) {
    throw invalidRequest(`The customer does not have a payment method with the ID ${defaultMethod}. The payment method must be attached to the customer.`, 'default_payment_method', 'resource_missing');
  }
  const time = state.timeOf(customer.id);
  const trialDays = int(params, 'trial_period_days');
  if (trialDays !== undefined && trialDays < 0) throw invalidRequest('Invalid non-negative integer', 'trial_period_days');
  // 730 days at most (https://docs.stripe.com/api/subscriptions/create#create_subscription-trial_period_days).
  if (trialDays !== undefined && trialDays > 730) throw invalidRequest('The maximum number of trial period days is 730 (2 years).', 'trial_period_days');
  const trialEndParam = params.trial_end;
  let trialEnd: number | null = null;
  if (trialDays !== undefined && trialDays > 0) trialEnd = time + trialDays * DAY;
  if (typeof trialEndParam === 'string' && trialEndParam !== 'now') {
    const at = int(params, 'trial_end')!;
    if (at <= time) throw invalidRequest('Invalid timestamp: must be an integer Unix timestamp in the future.', 'trial_end');
    trialEnd = at;
  }
  const recurring = first.recurring as { interval: string; interval_count: number };
  const periodEnd = trialEnd ?? addInterval(time, recurring.interval, recurring.interval_count);
  const id = stripeId('sub');
  const subscriptionItems = prices.map(({ price, quantity }) => ({
    id: stripeId('si', 14),
    object: 'subscription_item',
    billing_thresholds: null,
    created: time,
    current_period_end: periodEnd,
    current_period_start: time,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planOf(price),
    price,
    quantity,
    subscription: id,
    tax_rates: [],
  }));
  const subscription: StripeObject = {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: periodEnd === trialEnd ? trialEnd : time,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: 'classic' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    created: time,
    currency: first.currency,
    customer: customer.id,
    customer_account: null,
    days_until_due: null,
    default_payment_method: defaultMethod,
    default_source: null,
    default_tax_rates: [],
    description: str(params, 'description') || null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: { object: 'list', data: subscriptionItems, has_more: false, total_count: subscriptionItems.length, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: applyMetadata({}, params.metadata),
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: time,
    status: trialEnd ? 'trialing' : 'incomplete',
    test_clock: customer.test_clock,
    transfer_data: null,
    trial_end: trialEnd,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } },
    trial_start: trialEnd ? time : null,
  };
  customer.currency ??= first.currency;
  state.subscriptionStates.set(id, { trialWillEndSent: false, announced: false });
  state.keep(state.subscriptions, subscription, (gone) => state.subscriptionStates.delete(gone));
  if (bool(params, 'cancel_at_period_end')) {
    subscription.cancel_at_period_end = true;
    subscription.cancel_at = periodEnd;
    subscription.canceled_at = time;
  }
  const invoice = createSubscriptionInvoice(state, subscription, 'subscription_create', { start: time, end: periodEnd }, linesFor(subscription, trialEnd !== null), request);
  subscription.latest_invoice = invoice.id;
  finalizeInvoice(state, invoice, request);
  if (invoice.status === 'open') {
    const outcome = attemptInvoicePayment(state, invoice, { offSession: false, confirm: behavior !== 'default_incomplete', request });
    if (outcome.kind === 'paid') subscription.status = 'active';
    else if (behavior === 'error_if_incomplete') {
      voidInvoice(state, invoice, request);
      state.subscriptions.delete(id);
      state.subscriptionStates.delete(id);
      const error = outcome.kind === 'failed' ? outcome.error : null;
      if (error) throw new SandboxError(error.status, error.error, true);
      throw new SandboxError(402, { type: 'card_error', code: 'subscription_payment_intent_requires_action', message: 'Payment for this subscription requires additional user action before it can be completed successfully.' }, true);
    }
  } else if (!trialEnd) subscription.status = 'active';
  state.subscriptionStates.get(id)!.announced = true;
  state.emit('customer.subscription.created', subscription, request);
  if (trialEnd && trialEnd - time <= TRIAL_WILL_END_LEAD) trialWillEnd(state, subscription, request);
  return subscription;
}

/** `GET /v1/subscriptions/:id`. */
export function retrieveSubscription(state: BillingState, id: string): StripeObject {
  const subscription = state.subscriptions.get(id);
  if (!subscription) throw missing('subscription', id);
  return subscription;
}

/** `GET /v1/subscriptions`: newest first, by `customer`, `price`, `test_clock`, `status` (default: all but canceled; `all` for every one). */
export function listSubscriptions(state: BillingState, params: Params): StripeObject[] {
  const customer = str(params, 'customer');
  const price = str(params, 'price');
  const clock = str(params, 'test_clock');
  const status = str(params, 'status');
  return [...state.subscriptions.values()]
    .filter((s) => {
      if (customer && s.customer !== customer) return false;
      if (clock && s.test_clock !== clock) return false;
      if (price && !items(s).some((i) => (i.price as StripeObject).id === price)) return false;
      if (status === 'all') return true;
      if (status === 'ended') return hasEnded(s);
      if (status) return s.status === status;
      return s.status !== 'canceled';
    })
    .reverse();
}

/** `POST /v1/subscriptions/:id`: `cancel_at_period_end`, `cancel_at`, `default_payment_method`, `metadata`, `description`. */
export function updateSubscription(state: BillingState, id: string, params: Params, request: RequestInfo): StripeObject {
  const subscription = retrieveSubscription(state, id);
  if (hasEnded(subscription)) {
    throw invalidRequest(`A canceled subscription can only update its cancellation_details and metadata.`, undefined, 'resource_missing');
  }
  for (const key of ['items', 'proration_behavior', 'billing_cycle_anchor', 'trial_end']) {
    if (params[key] !== undefined) throw invalidRequest(`The sandbox does not change a subscription's ${key}.`, key);
  }
  const defaultMethod = str(params, 'default_payment_method');
  if (defaultMethod && state.paymentMethods.get(defaultMethod)?.customer !== subscription.customer) {
    throw invalidRequest(`The customer does not have a payment method with the ID ${defaultMethod}. The payment method must be attached to the customer.`, 'default_payment_method', 'resource_missing');
  }
  const atPeriodEnd = bool(params, 'cancel_at_period_end');
  const cancelAtRaw = params.cancel_at;
  const time = state.timeOf(subscription.customer as string);
  update(
    state,
    subscription,
    (s) => {
      if (defaultMethod !== undefined) s.default_payment_method = defaultMethod || null;
      if (params.metadata !== undefined) s.metadata = applyMetadata(s.metadata as Record<string, string>, params.metadata);
      const description = str(params, 'description');
      if (description !== undefined) s.description = description || null;
      if (atPeriodEnd !== undefined) {
        s.cancel_at_period_end = atPeriodEnd;
        s.cancel_at = atPeriodEnd ? periodOf(s).end : null;
        s.canceled_at = atPeriodEnd ? time : null;
        s.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: atPeriodEnd ? 'cancellation_requested' : null };
      }
      if (cancelAtRaw !== undefined) {
        const at = cancelAtRaw === '' ? null : int(params, 'cancel_at')!;
        if (at !== null && at <= time) throw invalidRequest('cancel_at must be in the future.', 'cancel_at');
        s.cancel_at = at;
        s.cancel_at_period_end = at !== null && at === periodOf(s).end;
        s.canceled_at = at === null ? null : time;
        s.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: at === null ? null : 'cancellation_requested' };
      }
    },
    request,
  );
  return subscription;
}

/** `DELETE /v1/subscriptions/:id`: canceled now; its open invoices are no longer collected automatically. */
export function cancelSubscription(state: BillingState, id: string, request: RequestInfo | null, reason = 'cancellation_requested'): StripeObject {
  const subscription = retrieveSubscription(state, id);
  if (hasEnded(subscription)) {
    throw invalidRequest(`No such subscription: '${id}'; it has been canceled already.`, 'id', 'resource_missing');
  }
  end(state, subscription, reason, request);
  return subscription;
}

function end(state: BillingState, subscription: StripeObject, reason: string, request: RequestInfo | null): void {
  const time = state.timeOf(subscription.customer as string);
  subscription.status = 'canceled';
  subscription.canceled_at ??= time;
  subscription.ended_at = time;
  subscription.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason };
  for (const invoice of state.invoices.values()) {
    const sub = (invoice.parent as { subscription_details?: { subscription?: string } } | null)?.subscription_details?.subscription;
    if (sub === subscription.id && invoice.status === 'open') {
      invoice.next_payment_attempt = null;
      invoice.auto_advance = false;
    }
  }
  state.emit('customer.subscription.deleted', subscription, request);
}

/** Sends `customer.subscription.trial_will_end`. */
export function trialWillEnd(state: BillingState, subscription: StripeObject, request: RequestInfo | null): void {
  const ledger = state.subscriptionStates.get(subscription.id)!;
  if (ledger.trialWillEndSent) return;
  ledger.trialWillEndSent = true;
  state.emit('customer.subscription.trial_will_end', subscription, request);
}

/** The moment a period ends: cancel (at period end), or start the next period (ending a trial) and draft its invoice. */
export function periodEnded(state: BillingState, subscription: StripeObject): void {
  const { start: previousStart, end: at } = periodOf(subscription);
  const cancelAt = subscription.cancel_at as number | null;
  if (subscription.cancel_at_period_end || (cancelAt !== null && cancelAt <= at)) {
    end(state, subscription, 'cancellation_requested', null);
    return;
  }
  const { interval, count } = intervalOf(subscription);
  const next = addInterval(at, interval, count);
  const wasTrial = subscription.status === 'trialing';
  update(
    state,
    subscription,
    (s) => {
      setPeriod(s, at, next);
      if (wasTrial) s.status = 'active';
    },
    null,
  );
  if (wasTrial) trialWillEnd(state, subscription, null);
  const invoice = createSubscriptionInvoice(state, subscription, 'subscription_cycle', { start: at, end: next, previousStart }, linesFor(subscription, false), null);
  update(state, subscription, (s) => void (s.latest_invoice = invoice.id), null);
}

/** An `incomplete` subscription's first invoice was not paid in 23 hours: `incomplete_expired`, the invoice voided. */
export function expireIncomplete(state: BillingState, subscription: StripeObject): void {
  const invoice = state.invoices.get(subscription.latest_invoice as string);
  if (invoice?.status === 'open') voidInvoice(state, invoice, null);
  update(state, subscription, (s) => {
    s.status = 'incomplete_expired';
    s.ended_at = state.timeOf(s.customer as string);
  }, null);
}

/** The subscription's invoice was paid: back to `active` if it was waiting for that payment. */
export function subscriptionInvoicePaid(state: BillingState, subscription: StripeObject, _invoice: StripeObject, request: RequestInfo | null): void {
  if (['incomplete', 'past_due', 'unpaid'].includes(subscription.status as string)) update(state, subscription, (s) => void (s.status = 'active'), request);
}

/** A charge of the subscription's invoice failed; `exhausted` when no retry is left. */
export function subscriptionInvoiceFailed(state: BillingState, subscription: StripeObject, invoice: StripeObject, request: RequestInfo | null, exhausted: boolean): void {
  if (hasEnded(subscription) || invoice.billing_reason === 'subscription_create') return;
  if (exhausted && state.whenRetriesExhausted === 'cancel') {
    end(state, subscription, 'payment_failed', request);
    return;
  }
  const status = exhausted && state.whenRetriesExhausted === 'unpaid' ? 'unpaid' : 'past_due';
  if (subscription.status !== status) update(state, subscription, (s) => void (s.status = status), request);
}

/** A charge of the subscription's invoice waits for the customer (3-D Secure). */
export function subscriptionInvoiceNeedsAction(state: BillingState, subscription: StripeObject, invoice: StripeObject, request: RequestInfo | null): void {
  if (hasEnded(subscription) || invoice.billing_reason === 'subscription_create') return;
  if (subscription.status !== 'past_due') update(state, subscription, (s) => void (s.status = 'past_due'), request);
}

/** Time at which a `trialing` subscription is sent `trial_will_end`, if still due. */
export function trialWillEndAt(state: BillingState, subscription: StripeObject): number | null {
  if (subscription.status !== 'trialing' || state.subscriptionStates.get(subscription.id)?.trialWillEndSent) return null;
  return (subscription.trial_end as number) - TRIAL_WILL_END_LEAD;
}
