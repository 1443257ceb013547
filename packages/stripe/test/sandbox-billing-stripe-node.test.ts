/**
 * Acceptance: the official `stripe` client (the installed major) drives every Stripe Billing endpoint
 * of the sandbox end to end: Customers, SetupIntents, PaymentMethods, off-session PaymentIntents,
 * Products and Prices, Subscriptions on a test clock (trial, renewal, failed renewal and recovery,
 * cancel at period end, cancel now) and Invoices; every webhook passes `stripe.webhooks.constructEvent`.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, startBillingHarness, type BillingHarness } from './billing-harness';

let h: BillingHarness;
let stripe: Stripe;
const T0 = Date.UTC(2031, 0, 15, 12) / 1000;

beforeAll(async () => {
  h = await startBillingHarness();
  stripe = h.stripe;
});

afterAll(async () => {
  expect(h.rejected).toEqual([]);
  await h?.close();
});

/** Posts the sandbox bank page's verdict, as the customer's browser would. */
async function authenticate(nextAction: unknown, result: 'approve' | 'decline'): Promise<void> {
  const action = nextAction as { use_stripe_sdk?: { stripe_js?: string }; redirect_to_url?: { url?: string } };
  const url = action.use_stripe_sdk?.stripe_js ?? action.redirect_to_url?.url;
  const res = await fetch(String(url), { method: 'POST', body: new URLSearchParams({ result }), redirect: 'manual' });
  await res.arrayBuffer();
  expect(res.status).toBeLessThan(400);
}

async function product(amount: number, interval: 'month' | 'year' = 'month'): Promise<Stripe.Price> {
  const prod = await stripe.products.create({ name: 'Tender Pro' });
  return stripe.prices.create({ product: prod.id, currency: 'usd', unit_amount: amount, recurring: { interval } });
}

describe('missing objects', () => {
  it('a missing object a URL names is a 404; one a parameter refers to is a 400 naming the parameter', async () => {
    await expect(stripe.prices.retrieve('price_missing')).rejects.toMatchObject({ code: 'resource_missing', statusCode: 404, param: 'id' });
    const customer = await stripe.customers.create({ email: 'missing@example.com' });
    await expect(stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_missing' }] })).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      code: 'resource_missing',
      statusCode: 400,
      param: 'items[0][price]',
      message: "No such price: 'price_missing'",
    });
    await expect(stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_missing', confirm: true })).rejects.toMatchObject({ code: 'resource_missing', statusCode: 400, param: 'payment_method' });
    await expect(stripe.paymentIntents.create({ amount: 100, currency: 'usd', customer: 'cus_missing' })).rejects.toMatchObject({ code: 'resource_missing', statusCode: 400, param: 'customer' });
  });
});

describe('Customers', () => {
  it('creates, retrieves, updates, lists and deletes', async () => {
    const created = await stripe.customers.create({ email: 'ada@example.com', name: 'Ada', metadata: { tender_customer_id: 'c_1' } });
    expect(created).toMatchObject({ object: 'customer', email: 'ada@example.com', name: 'Ada', metadata: { tender_customer_id: 'c_1' }, test_clock: null });
    expect(created.id).toMatch(/^cus_/);
    expect((await stripe.customers.retrieve(created.id)).id).toBe(created.id);
    const updated = await stripe.customers.update(created.id, { name: 'Ada L.', metadata: { tier: 'gold' } });
    expect(updated).toMatchObject({ name: 'Ada L.', metadata: { tender_customer_id: 'c_1', tier: 'gold' } });
    const listed = await stripe.customers.list({ email: 'ada@example.com' });
    expect(listed.data.map((c) => c.id)).toEqual([created.id]);
    const event = await h.event((e) => e.type === 'customer.updated' && e.data.object.id === created.id, 'customer.updated');
    expect((event.data as { previous_attributes?: Record<string, unknown> }).previous_attributes).toMatchObject({ name: 'Ada' });
    const deleted = await stripe.customers.del(created.id);
    expect(deleted).toMatchObject({ id: created.id, object: 'customer', deleted: true });
    await expect(stripe.customers.retrieve(created.id)).rejects.toMatchObject({ type: 'StripeInvalidRequestError', code: 'resource_missing', statusCode: 404 });
  });
});

describe('SetupIntents and PaymentMethods', () => {
  it('saves a card off-session: the PaymentMethod is attached, listed, made the default, then detached', async () => {
    const customer = await stripe.customers.create({ email: 'save@example.com' });
    const si = await stripe.setupIntents.create({ customer: customer.id, usage: 'off_session', allowed_payment_method_types: ['card'] });
    expect(si).toMatchObject({ object: 'setup_intent', status: 'requires_payment_method', usage: 'off_session', customer: customer.id });
    expect(si.client_secret).toMatch(new RegExp(`^${si.id}_secret_`));
    const confirmed = await stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa' });
    expect(confirmed.status).toBe('succeeded');
    const pmId = confirmed.payment_method as string;
    expect(pmId).toMatch(/^pm_/);
    expect(pmId).not.toBe('pm_card_visa');
    expect((await stripe.setupIntents.retrieve(si.id)).status).toBe('succeeded');
    const pm = await stripe.paymentMethods.retrieve(pmId);
    expect(pm).toMatchObject({ object: 'payment_method', type: 'card', customer: customer.id, card: { brand: 'visa', last4: '4242' } });
    await h.event((e) => e.type === 'setup_intent.succeeded' && e.data.object.id === si.id, 'setup_intent.succeeded');
    await h.event((e) => e.type === 'payment_method.attached' && e.data.object.id === pmId, 'payment_method.attached');

    const attached = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: customer.id });
    expect(attached).toMatchObject({ customer: customer.id, card: { brand: 'mastercard' } });
    const listed = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
    expect(listed.data.map((p) => p.id).sort()).toEqual([pmId, attached.id].sort());
    const viaCustomer = await stripe.customers.listPaymentMethods(customer.id);
    expect(viaCustomer.data).toHaveLength(2);

    const withDefault = await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pmId } });
    expect(withDefault.invoice_settings.default_payment_method).toBe(pmId);

    const detached = await stripe.paymentMethods.detach(pmId);
    expect(detached.customer).toBeNull();
    await h.event((e) => e.type === 'payment_method.detached' && e.data.object.id === pmId, 'payment_method.detached');
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({ invoice_settings: { default_payment_method: null } });
    expect((await stripe.paymentMethods.list({ customer: customer.id })).data.map((p) => p.id)).toEqual([attached.id]);
    await expect(stripe.paymentMethods.attach(pmId, { customer: customer.id })).rejects.toMatchObject({ code: 'payment_method_unexpected_state' });
  });

  it('lists and cancels SetupIntents, updates a saved PaymentMethod and reads it through its customer', async () => {
    const customer = await stripe.customers.create({});
    const open = await stripe.setupIntents.create({ customer: customer.id });
    const canceled = await stripe.setupIntents.cancel(open.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    await h.event((e) => e.type === 'setup_intent.canceled' && e.data.object.id === open.id, 'setup_intent.canceled');
    expect((await stripe.setupIntents.list({ customer: customer.id })).data.map((si) => si.id)).toEqual([open.id]);
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const updated = await stripe.paymentMethods.update(pm.id, { billing_details: { name: 'Ada Lovelace' }, metadata: { label: 'work' } });
    expect(updated).toMatchObject({ billing_details: { name: 'Ada Lovelace' }, metadata: { label: 'work' } });
    expect((await stripe.customers.retrievePaymentMethod(customer.id, pm.id)).id).toBe(pm.id);
    const other = await stripe.customers.create({});
    await expect(stripe.customers.retrievePaymentMethod(other.id, pm.id)).rejects.toMatchObject({ code: 'resource_missing' });
  });

  it('takes allowed_payment_method_types, the current API name of payment_method_types', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 800, currency: 'usd', allowed_payment_method_types: ['card'] });
    expect(pi).toMatchObject({ allowed_payment_method_types: ['card'], payment_method_types: ['card'], automatic_payment_methods: null });
    const si = await stripe.setupIntents.create({ allowed_payment_method_types: ['card'] });
    expect(si).toMatchObject({ allowed_payment_method_types: ['card'], payment_method_types: ['card'] });
  });

  it('creates a PaymentMethod from a test token', async () => {
    const pm = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_amex' } });
    expect(pm).toMatchObject({ type: 'card', customer: null, card: { brand: 'amex', last4: '8431' } });
  });

  it('asks for 3-D Secure when saving an SCA card, and saves it once authenticated', async () => {
    const customer = await stripe.customers.create({});
    const si = await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_authenticationRequired', confirm: true });
    expect(si.status).toBe('requires_action');
    await h.event((e) => e.type === 'setup_intent.requires_action' && e.data.object.id === si.id, 'setup_intent.requires_action');
    await authenticate(si.next_action, 'approve');
    const done = await stripe.setupIntents.retrieve(si.id);
    expect(done.status).toBe('succeeded');
    expect((await stripe.paymentMethods.retrieve(done.payment_method as string)).customer).toBe(customer.id);
  });

  it('fails setup with a declining card (402) and with a failed challenge', async () => {
    const customer = await stripe.customers.create({});
    const si = await stripe.setupIntents.create({ customer: customer.id });
    const error = await stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_chargeDeclined' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({ code: 'card_declined', decline_code: 'generic_decline', statusCode: 402 });
    expect((await stripe.setupIntents.retrieve(si.id)).status).toBe('requires_payment_method');
    await h.event((e) => e.type === 'setup_intent.setup_failed' && e.data.object.id === si.id, 'setup_intent.setup_failed');

    const sca = await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_threeDSecure2Required', confirm: true });
    await authenticate(sca.next_action, 'decline');
    const failed = await stripe.setupIntents.retrieve(sca.id);
    expect(failed.status).toBe('requires_payment_method');
    expect(failed.last_setup_error?.code).toBe('setup_intent_authentication_failure');
    expect((await stripe.paymentMethods.list({ customer: customer.id })).data).toEqual([]);
  });
});

describe('off-session PaymentIntents', () => {
  it('charges a saved card without the customer, and an SCA card fails with authentication_required', async () => {
    const customer = await stripe.customers.create({});
    const visa = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const pi = await stripe.paymentIntents.create({ amount: 1999, currency: 'usd', customer: customer.id, payment_method: visa.id, off_session: true, confirm: true });
    expect(pi).toMatchObject({ status: 'succeeded', customer: customer.id, payment_method: visa.id, amount_received: 1999 });
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).customer).toBe(customer.id);
    const expanded = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge', 'customer'] });
    expect(expanded.latest_charge).toMatchObject({ object: 'charge', customer: customer.id, paid: true });
    expect(expanded.customer).toMatchObject({ object: 'customer', id: customer.id });

    const sca = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: customer.id });
    const error = await stripe.paymentIntents.create({ amount: 1999, currency: 'usd', customer: customer.id, payment_method: sca.id, off_session: true, confirm: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    const cardError = error as Stripe.errors.StripeCardError;
    expect(cardError.code).toBe('authentication_required');
    expect(cardError.payment_intent?.status).toBe('requires_payment_method');
    expect(cardError.payment_intent?.last_payment_error?.code).toBe('authentication_required');
    await h.event((e) => e.type === 'payment_intent.payment_failed' && e.data.object.id === cardError.payment_intent?.id, 'payment_intent.payment_failed');

    // Back on-session, the customer authenticates the same PaymentIntent.
    const again = await stripe.paymentIntents.confirm(cardError.payment_intent!.id, { payment_method: sca.id });
    expect(again.status).toBe('requires_action');
    await authenticate(again.next_action, 'approve');
    expect((await stripe.paymentIntents.retrieve(again.id)).status).toBe('succeeded');
  });

  it('a card that asks for authentication only on setup pays off-session once set up', async () => {
    const customer = await stripe.customers.create({});
    const si = await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_authenticationRequiredOnSetup', confirm: true });
    await authenticate(si.next_action, 'approve');
    const pm = (await stripe.setupIntents.retrieve(si.id)).payment_method as string;
    const pi = await stripe.paymentIntents.create({ amount: 500, currency: 'eur', customer: customer.id, payment_method: pm, off_session: true, confirm: true });
    expect(pi.status).toBe('succeeded');
  });

  it('refuses a saved PaymentMethod of another customer', async () => {
    const a = await stripe.customers.create({});
    const b = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: a.id });
    await expect(stripe.paymentIntents.create({ amount: 500, currency: 'usd', customer: b.id, payment_method: pm.id, off_session: true, confirm: true })).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      param: 'payment_method',
    });
  });
});

describe('Products and Prices', () => {
  it('creates a recurring price for a product and lists it', async () => {
    const price = await product(1500);
    expect(price).toMatchObject({ object: 'price', type: 'recurring', unit_amount: 1500, currency: 'usd', recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed' } });
    expect((await stripe.prices.retrieve(price.id)).id).toBe(price.id);
    expect((await stripe.prices.list({ product: price.product as string })).data.map((p) => p.id)).toEqual([price.id]);
    const prod = await stripe.products.retrieve(price.product as string);
    expect(prod).toMatchObject({ object: 'product', name: 'Tender Pro', active: true });
    expect((await stripe.products.update(prod.id, { name: 'Tender Pro+' })).name).toBe('Tender Pro+');
    expect((await stripe.products.list({ limit: 100 })).data.some((p) => p.id === prod.id)).toBe(true);
  });
});

describe('Subscriptions on a test clock', () => {
  async function customerOnClock(card: string): Promise<{ clock: Stripe.TestHelpers.TestClock; customer: Stripe.Customer; pm: string }> {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0, name: 'billing' });
    expect(clock).toMatchObject({ object: 'test_helpers.test_clock', status: 'ready', frozen_time: T0 });
    const customer = await stripe.customers.create({ email: 'sub@example.com', test_clock: clock.id });
    expect(customer.test_clock).toBe(clock.id);
    const si = await stripe.setupIntents.create({ customer: customer.id, payment_method: card, confirm: true, usage: 'off_session' });
    expect(si.status).toBe('succeeded');
    const pm = si.payment_method as string;
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm } });
    return { clock, customer, pm };
  }

  it('a 14-day trial ends, the first invoice is created, finalized and paid, and the subscription is active', async () => {
    const { clock, customer, pm } = await customerOnClock('pm_card_visa');
    const price = await product(1500);
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 14, default_payment_method: pm, expand: ['latest_invoice'] });
    expect(sub).toMatchObject({ status: 'trialing', trial_start: T0, trial_end: T0 + 14 * DAY, default_payment_method: pm, test_clock: clock.id });
    expect(sub.items.data[0]).toMatchObject({ current_period_start: T0, current_period_end: T0 + 14 * DAY, price: { id: price.id } });
    const trialInvoice = sub.latest_invoice as Stripe.Invoice;
    expect(trialInvoice).toMatchObject({ status: 'paid', amount_due: 0, billing_reason: 'subscription_create' });
    await h.event((e) => e.type === 'customer.subscription.created' && e.data.object.id === sub.id, 'customer.subscription.created');

    await h.advance(clock.id, T0 + 12 * DAY);
    await h.event((e) => e.type === 'customer.subscription.trial_will_end' && e.data.object.id === sub.id, 'trial_will_end');
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('trialing');

    await h.advance(clock.id, T0 + 14 * DAY + 2 * 3600);
    const active = await stripe.subscriptions.retrieve(sub.id);
    expect(active.status).toBe('active');
    expect(active.items.data[0]!.current_period_start).toBe(T0 + 14 * DAY);
    const invoice = await stripe.invoices.retrieve(active.latest_invoice as string, { expand: ['payments.data.payment.payment_intent'] });
    expect(invoice).toMatchObject({ status: 'paid', amount_due: 1500, amount_paid: 1500, amount_remaining: 0, billing_reason: 'subscription_cycle', attempt_count: 1, customer: customer.id });
    expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
    // The invoice's period looks back on the one that ended (the trial); its line covers the new one.
    expect({ start: invoice.period_start, end: invoice.period_end }).toEqual({ start: T0, end: T0 + 14 * DAY });
    expect(invoice.hosted_invoice_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_sandbox\/invoices\/in_/);
    const page = await fetch(invoice.hosted_invoice_url!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<p id="status">paid</p>');
    expect(invoice.status_transitions.finalized_at).toBe(T0 + 14 * DAY + 3600);
    const payment = invoice.payments!.data[0]!;
    expect(payment).toMatchObject({ status: 'paid', amount_paid: 1500 });
    expect((payment.payment.payment_intent as Stripe.PaymentIntent).status).toBe('succeeded');
    const lines = await stripe.invoices.listLineItems(invoice.id);
    expect(lines.data[0]).toMatchObject({ object: 'line_item', amount: 1500, quantity: 1, period: { start: T0 + 14 * DAY } });
    for (const type of ['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded'] as const) {
      await h.event((e) => e.type === type && e.data.object.id === invoice.id, type);
    }
    const updated = await h.event((e) => e.type === 'customer.subscription.updated' && e.data.object.id === sub.id && (e.data.object as Stripe.Subscription).status === 'active', 'subscription updated to active');
    expect((updated.data as { previous_attributes?: Record<string, unknown> }).previous_attributes).toMatchObject({ status: 'trialing' });

    const invoiceEvents = await stripe.events.list({ type: 'invoice.*', limit: 100 });
    expect(invoiceEvents.data.every((e) => e.type.startsWith('invoice.'))).toBe(true);
    expect(invoiceEvents.data.some((e) => e.type === 'invoice.paid' && e.data.object.id === invoice.id)).toBe(true);

    const listed = await stripe.invoices.list({ subscription: sub.id });
    expect(listed.data.map((i) => i.id)).toEqual([invoice.id, trialInvoice.id]);
    expect((await stripe.invoices.list({ customer: customer.id })).data).toHaveLength(2);
    expect((await stripe.subscriptions.list({ customer: customer.id })).data.map((s) => s.id)).toEqual([sub.id]);
  });

  it('a renewal on a card that declines goes past_due; a new card and paying the invoice make it active again', async () => {
    const { clock, customer } = await customerOnClock('pm_card_chargeCustomerFail');
    const price = await product(2500);
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 14 });
    await h.advance(clock.id, T0 + 14 * DAY + 2 * 3600);
    const pastDue = await stripe.subscriptions.retrieve(sub.id);
    expect(pastDue.status).toBe('past_due');
    const invoice = await stripe.invoices.retrieve(pastDue.latest_invoice as string);
    expect(invoice).toMatchObject({ status: 'open', amount_due: 2500, amount_paid: 0, attempt_count: 1, attempted: true });
    expect(invoice.next_payment_attempt).toBe(T0 + 14 * DAY + 3600 + 3 * DAY);
    await h.event((e) => e.type === 'invoice.payment_failed' && e.data.object.id === invoice.id, 'invoice.payment_failed');
    await h.event((e) => e.type === 'charge.failed' && (e.data.object as Stripe.Charge).customer === customer.id, 'charge.failed');

    const visa = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.subscriptions.update(sub.id, { default_payment_method: visa.id });
    const paid = await stripe.invoices.pay(invoice.id);
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 2500, attempt_count: 2, next_payment_attempt: null });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await h.event((e) => e.type === 'invoice.paid' && e.data.object.id === invoice.id, 'invoice.paid');
  });

  it('paying an invoice with a declining card answers the card error', async () => {
    const { clock, customer } = await customerOnClock('pm_card_chargeCustomerFail');
    const price = await product(900);
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 3 });
    await h.event((e) => e.type === 'customer.subscription.trial_will_end' && e.data.object.id === sub.id, 'trial_will_end at once for a short trial');
    await h.advance(clock.id, T0 + 3 * DAY + 2 * 3600);
    const invoice = (await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string;
    await expect(stripe.invoices.pay(invoice)).rejects.toMatchObject({ type: 'StripeCardError', code: 'card_declined' });
    expect((await stripe.invoices.retrieve(invoice)).status).toBe('open');
  });

  it('every retry failing cancels the subscription', async () => {
    const { clock, customer } = await customerOnClock('pm_card_chargeCustomerFail');
    const price = await product(700);
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 7 });
    await h.advance(clock.id, T0 + 7 * DAY + 2 * 3600);
    await h.advance(clock.id, T0 + 16 * DAY);
    const ended = await stripe.subscriptions.retrieve(sub.id);
    expect(ended).toMatchObject({ status: 'canceled', cancellation_details: { reason: 'payment_failed' } });
    const invoice = await stripe.invoices.retrieve(ended.latest_invoice as string);
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 4, next_payment_attempt: null });
    await h.event((e) => e.type === 'customer.subscription.deleted' && e.data.object.id === sub.id, 'customer.subscription.deleted');
  });

  it('cancel_at_period_end keeps it active until the period ends, then cancels it without another invoice', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const price = await product(1200);
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(sub.status).toBe('active');
    const first = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(first).toMatchObject({ status: 'paid', amount_paid: 1200, billing_reason: 'subscription_create' });
    const periodEnd = sub.items.data[0]!.current_period_end;
    expect(periodEnd).toBe(Date.UTC(2031, 1, 15, 12) / 1000);

    const scheduled = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(scheduled).toMatchObject({ status: 'active', cancel_at_period_end: true, cancel_at: periodEnd, canceled_at: T0 });
    await h.advance(clock.id, periodEnd - DAY);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await h.advance(clock.id, periodEnd + DAY);
    const ended = await stripe.subscriptions.retrieve(sub.id);
    expect(ended).toMatchObject({ status: 'canceled', ended_at: periodEnd, latest_invoice: first.id });
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    await h.event((e) => e.type === 'customer.subscription.deleted' && e.data.object.id === sub.id, 'customer.subscription.deleted');
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toEqual([]);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(1);
  });

  it('cancels now', async () => {
    const { customer } = await customerOnClock('pm_card_visa');
    const price = await product(300, 'year');
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id, quantity: 2 }] });
    expect((await stripe.invoices.retrieve(sub.latest_invoice as string)).amount_paid).toBe(600);
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled).toMatchObject({ status: 'canceled', canceled_at: T0, ended_at: T0 });
    await expect(stripe.subscriptions.cancel(sub.id)).rejects.toMatchObject({ type: 'StripeInvalidRequestError' });
  });

  it('without a trial, a declined first payment answers incomplete (allow_incomplete) or the card error (error_if_incomplete)', async () => {
    const { customer } = await customerOnClock('pm_card_chargeCustomerFail');
    const price = await product(1000);
    const incomplete = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(incomplete.status).toBe('incomplete');
    expect((await stripe.invoices.retrieve(incomplete.latest_invoice as string)).status).toBe('open');
    await expect(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], payment_behavior: 'error_if_incomplete' })).rejects.toMatchObject({
      type: 'StripeCardError',
      code: 'card_declined',
    });
    expect((await stripe.subscriptions.list({ customer: customer.id })).data.map((s) => s.id)).toEqual([incomplete.id]);
  });

  it('a first payment that needs 3-D Secure leaves the subscription incomplete until the customer authenticates', async () => {
    const { customer } = await customerOnClock('pm_card_visa');
    const sca = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: customer.id });
    const price = await product(1300);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      default_payment_method: sca.id,
      expand: ['latest_invoice.payments.data.payment.payment_intent'],
    });
    expect(sub.status).toBe('incomplete');
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice.status).toBe('open');
    await h.event((e) => e.type === 'invoice.payment_action_required' && e.data.object.id === invoice.id, 'invoice.payment_action_required');
    const pi = invoice.payments!.data[0]!.payment.payment_intent as Stripe.PaymentIntent;
    expect(pi.status).toBe('requires_action');
    await authenticate(pi.next_action, 'approve');
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe('paid');
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await h.event((e) => e.type === 'customer.subscription.updated' && e.data.object.id === sub.id && (e.data.object as Stripe.Subscription).status === 'active', 'subscription active');
  });

  it('default_incomplete leaves the first invoice to be confirmed with its confirmation secret', async () => {
    const { customer } = await customerOnClock('pm_card_visa');
    const price = await product(1100);
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], payment_behavior: 'default_incomplete', expand: ['latest_invoice'] });
    expect(sub.status).toBe('incomplete');
    const invoice = sub.latest_invoice as Stripe.Invoice;
    const secret = invoice.confirmation_secret?.client_secret ?? '';
    const piId = secret.slice(0, secret.indexOf('_secret_'));
    const pi = await stripe.paymentIntents.confirm(piId, { payment_method: 'pm_card_visa' });
    expect(pi.status).toBe('succeeded');
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe('paid');
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('refuses to advance backwards or more than two intervals ahead', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const price = await product(100);
    await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await expect(stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 - 1 })).rejects.toMatchObject({ param: 'frozen_time' });
    await expect(stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 + 100 * DAY })).rejects.toMatchObject({ param: 'frozen_time' });
    const listed = await stripe.testHelpers.testClocks.list();
    expect(listed.data.some((c) => c.id === clock.id)).toBe(true);
    const deleted = await stripe.testHelpers.testClocks.del(clock.id);
    expect(deleted).toMatchObject({ id: clock.id, deleted: true });
    await expect(stripe.customers.retrieve(customer.id)).rejects.toMatchObject({ code: 'resource_missing' });
  });
});
