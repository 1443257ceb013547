/**
 * `createStripeBilling` against the sandbox over sockets: customers, saving a card, attach/list/detach,
 * off-session charges (and the authentication_required decline), a subscription on a test clock from
 * trial to paid, a failed renewal recovered with `invoices.pay`, cancel at period end and now.
 */
import { Money, TenderError } from '@tender/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeBilling, type StripeBilling } from '@tender/stripe';
import { DAY, startBillingHarness, type BillingHarness } from './billing-harness';

let h: BillingHarness;
let billing: StripeBilling;
const T0 = Date.UTC(2033, 2, 1) / 1000;

beforeAll(async () => {
  h = await startBillingHarness();
  billing = createStripeBilling({ secretKey: h.sandbox.secretKey, baseUrl: h.sandbox.url });
});

afterAll(async () => {
  await billing?.close();
  await h?.close();
});

async function rejection(promise: Promise<unknown>): Promise<TenderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TenderError);
  return error as TenderError;
}

describe('createStripeBilling', () => {
  it('manages customers', async () => {
    const customer = await billing.customers.create({ email: 'grace@example.com', name: 'Grace', metadata: { tender_customer_id: 'c_9' } }, { idempotencyKey: 'cust-grace' });
    expect(customer).toMatchObject({ object: 'customer', email: 'grace@example.com', name: 'Grace', metadata: { tender_customer_id: 'c_9' } });
    const again = await billing.customers.create({ email: 'grace@example.com', name: 'Grace', metadata: { tender_customer_id: 'c_9' } }, { idempotencyKey: 'cust-grace' });
    expect(again.id).toBe(customer.id);
    expect((await billing.customers.retrieve(customer.id)).id).toBe(customer.id);
    expect((await billing.customers.update(customer.id, { name: null })).name).toBeNull();
    const page = await billing.customers.list({ email: 'grace@example.com' });
    expect(page).toEqual({ data: [expect.objectContaining({ id: customer.id })], hasMore: false });
    expect(await billing.customers.del(customer.id)).toMatchObject({ id: customer.id, deleted: true });
    const missing = await rejection(billing.customers.retrieve(customer.id));
    expect(missing).toMatchObject({ type: 'gateway_error', code: 'resource_missing' });
  });

  it('saves a card with a SetupIntent, lists it, makes it the default, charges it off-session and detaches it', async () => {
    const customer = await billing.customers.create({ email: 'save@example.com' });
    const setup = await billing.setupIntents.create({ customer: customer.id, paymentMethod: 'pm_card_visa', confirm: true });
    expect(setup).toMatchObject({ status: 'succeeded', usage: 'off_session', customer: customer.id });
    const pm = setup.payment_method!;
    expect((await billing.setupIntents.retrieve(setup.id)).status).toBe('succeeded');
    expect(await billing.paymentMethods.retrieve(pm)).toMatchObject({ customer: customer.id, card: { brand: 'visa', last4: '4242' } });
    expect((await billing.paymentMethods.list(customer.id, { type: 'card' })).data.map((p) => p.id)).toEqual([pm]);
    expect((await billing.customers.update(customer.id, { defaultPaymentMethod: pm })).invoice_settings.default_payment_method).toBe(pm);

    const pi = await billing.paymentIntents.chargeOffSession({ customer: customer.id, paymentMethod: pm, amount: Money.of('12.50', 'EUR'), metadata: { order: 'R-1' } });
    expect(pi).toMatchObject({ status: 'succeeded', amount: 1250, currency: 'eur' });

    const detached = await billing.paymentMethods.detach(pm);
    expect(detached.customer).toBeNull();
    expect((await billing.customers.retrieve(customer.id)).invoice_settings.default_payment_method).toBeNull();
    expect((await billing.paymentMethods.list(customer.id)).data).toEqual([]);
  });

  it('reports an SCA card charged off-session as authentication_required, naming the PaymentIntent', async () => {
    const customer = await billing.customers.create({});
    const pm = await billing.paymentMethods.attach('pm_card_authenticationRequired', customer.id);
    const error = await rejection(billing.paymentIntents.chargeOffSession({ customer: customer.id, paymentMethod: pm.id, amount: Money.of('30.00', 'USD') }));
    expect(error).toMatchObject({ type: 'gateway_error', code: 'authentication_required', status: 402, details: { declineCode: 'authentication_required' } });
    expect(error.details?.paymentIntentId).toMatch(/^pi_/);
  });

  it('a SetupIntent with a 3-D Secure card waits for the customer; a declining one is an error', async () => {
    const customer = await billing.customers.create({});
    const sca = await billing.setupIntents.create({ customer: customer.id, paymentMethod: 'pm_card_threeDSecure2Required', confirm: true, returnUrl: 'https://shop.example/saved' });
    expect(sca.status).toBe('requires_action');
    expect(sca.next_action).toMatchObject({ type: 'redirect_to_url' });
    const pending = await billing.setupIntents.create({ customer: customer.id });
    const declined = await rejection(billing.setupIntents.confirm(pending.id, { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }));
    expect(declined).toMatchObject({ code: 'card_declined', details: { declineCode: 'insufficient_funds', setupIntentId: pending.id } });
  });

  it('runs a subscription from trial to paid, through a failed renewal and its recovery, to cancel at period end', async () => {
    const clock = await h.stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const customer = await billing.customers.create({ email: 'sub@example.com', testClock: clock.id });
    expect(customer.test_clock).toBe(clock.id);
    const card = await billing.setupIntents.create({ customer: customer.id, paymentMethod: 'pm_card_visa', confirm: true });
    const product = await billing.products.create({ name: 'Tender Team' });
    expect((await billing.products.retrieve(product.id)).name).toBe('Tender Team');
    const price = await billing.prices.create({ product: product.id, unitAmount: Money.of('19.00', 'USD'), interval: 'month' });
    expect(price).toMatchObject({ unit_amount: 1900, currency: 'usd', type: 'recurring', recurring: { interval: 'month', interval_count: 1 } });
    expect((await billing.prices.retrieve(price.id)).id).toBe(price.id);

    const sub = await billing.subscriptions.create({ customer: customer.id, price: price.id, trialPeriodDays: 14, defaultPaymentMethod: card.payment_method! }, { idempotencyKey: 'sub-1' });
    expect(sub).toMatchObject({ status: 'trialing', trial_end: T0 + 14 * DAY, default_payment_method: card.payment_method });
    await h.advance(clock.id, T0 + 14 * DAY + 2 * 3600);
    const active = await billing.subscriptions.retrieve(sub.id);
    expect(active.status).toBe('active');
    const paid = await billing.invoices.retrieve(active.latest_invoice!);
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 1900, billing_reason: 'subscription_cycle', parent: { subscription_details: { subscription: sub.id } } });
    expect(paid.payments?.data[0]).toMatchObject({ status: 'paid', payment: { payment_intent: { id: expect.stringMatching(/^pi_/), payment_method: card.payment_method } } });

    // The card on file starts declining: the next renewal fails and the subscription is past due.
    const failing = await billing.paymentMethods.attach('pm_card_chargeCustomerFail', customer.id);
    await billing.subscriptions.update(sub.id, { defaultPaymentMethod: failing.id });
    const renewal = active.items.data[0]!.current_period_end;
    await h.advance(clock.id, renewal + 2 * 3600);
    const pastDue = await billing.subscriptions.retrieve(sub.id);
    expect(pastDue.status).toBe('past_due');
    const open = await billing.invoices.retrieve(pastDue.latest_invoice!);
    expect(open).toMatchObject({ status: 'open', amount_remaining: 1900, attempt_count: 1 });
    expect(open.next_payment_attempt).toBeGreaterThan(renewal);
    const declined = await rejection(billing.invoices.pay(open.id));
    expect(declined).toMatchObject({ code: 'card_declined', status: 402 });
    expect((await billing.invoices.list({ subscription: sub.id, status: 'open' })).data.map((i) => i.id)).toEqual([open.id]);

    const recovered = await billing.invoices.pay(open.id, { paymentMethod: card.payment_method! });
    expect(recovered).toMatchObject({ status: 'paid', amount_paid: 1900 });
    expect((await billing.subscriptions.retrieve(sub.id)).status).toBe('active');
    expect((await billing.invoices.list({ customer: customer.id })).data).toHaveLength(3);

    const ending = await billing.subscriptions.update(sub.id, { cancelAtPeriodEnd: true, defaultPaymentMethod: card.payment_method! });
    expect(ending).toMatchObject({ status: 'active', cancel_at_period_end: true });
    await h.advance(clock.id, ending.items.data[0]!.current_period_end + 60);
    expect((await billing.subscriptions.retrieve(sub.id)).status).toBe('canceled');
    expect((await billing.subscriptions.list({ customer: customer.id })).data).toEqual([]);
    expect((await billing.subscriptions.list({ customer: customer.id, status: 'all' })).data.map((s) => s.id)).toEqual([sub.id]);
  });

  it('cancels a subscription now', async () => {
    const customer = await billing.customers.create({});
    const card = await billing.setupIntents.create({ customer: customer.id, paymentMethod: 'pm_card_mastercard', confirm: true });
    await billing.customers.update(customer.id, { defaultPaymentMethod: card.payment_method! });
    const product = await billing.products.create({ name: 'Yearly' });
    const price = await billing.prices.create({ product: product.id, unitAmount: Money.of('120', 'JPY'), interval: 'year' });
    const sub = await billing.subscriptions.create({ customer: customer.id, price: price.id, quantity: 3 });
    expect(sub.status).toBe('active');
    expect((await billing.invoices.retrieve(sub.latest_invoice!)).amount_paid).toBe(360);
    const canceled = await billing.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe('canceled');
    expect(canceled.ended_at).not.toBeNull();
  });
});
