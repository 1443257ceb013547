/**
 * The Stripe gateway's billing members (customers, savedMethods, subscriptions) against the sandbox
 * over loopback, checked with the official `stripe` client: customers on a test clock, saving a card
 * through a SetupIntent and the typed errors when it cannot be saved, default and detach, a 14-day
 * trial that turns into a paid invoice when the clock passes it, off-session charges of a saved card,
 * cancel at period end and now, and the webhook events of subscriptions and invoices.
 */
import { Money, TenderError, type GatewayCallContext, type GatewayCreatePaymentInput, type WebhookEvent } from '@tender/core';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeGateway, type StripeGateway } from '@tender/stripe';
import { DAY, startBillingHarness, type BillingHarness } from './billing-harness';

const WEBHOOK_SECRET = 'whsec_gateway_billing';
const T0 = Date.UTC(2034, 4, 10, 9) / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

let h: BillingHarness;
let stripe: Stripe;
let clock: string;
let gateway: StripeGateway;
let keys = 0;

const ctx = (idempotencyKey = `key-${++keys}`): GatewayCallContext => ({ idempotencyKey, now: new Date(T0 * 1000) });

beforeAll(async () => {
  h = await startBillingHarness();
  stripe = h.stripe;
  clock = (await stripe.testHelpers.testClocks.create({ frozen_time: T0, name: 'gateway billing' })).id;
  gateway = createStripeGateway({ secretKey: h.sandbox.secretKey, baseUrl: h.sandbox.url, webhookSecret: WEBHOOK_SECRET, testClock: clock });
});

afterAll(async () => {
  expect(h.rejected).toEqual([]);
  await gateway?.close();
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

async function newCustomer(userId: string): Promise<string> {
  return (await gateway.customers.create({ merchantId: 'm_billing', userId }, ctx())).gatewayCustomerId;
}

async function monthlyPrice(unitAmount: number): Promise<Stripe.Price> {
  const product = await stripe.products.create({ name: 'Tender Pro' });
  return stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: unitAmount, recurring: { interval: 'month' } });
}

/** Signs a body as Stripe does and runs it through the gateway's verify + parse. */
function parse(body: string): WebhookEvent[] {
  const request = { headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET }) }, rawBody: Buffer.from(body) };
  gateway.verifyWebhook(request, new Date());
  return gateway.parseWebhook(request).events;
}

const eventBody = (type: string, object: unknown) =>
  JSON.stringify({ id: `evt_${type.replace(/\./g, '_')}`, object: 'event', api_version: Stripe.API_VERSION, created: T0, data: { object }, livemode: false, pending_webhooks: 1, request: null, type });

const payment = (over: Partial<GatewayCreatePaymentInput>): GatewayCreatePaymentInput => ({
  paymentId: `pay_${++keys}`,
  merchantId: 'm_billing',
  orderId: null,
  amount: Money.of('25.00', 'USD'),
  captureMethod: 'automatic',
  paymentMethod: null,
  description: null,
  customer: {},
  returnUrl: null,
  notifyUrl: null,
  metadata: {},
  ...over,
});

describe('capabilities', () => {
  it('declares customers, saved methods and subscriptions', () => {
    expect(gateway.capabilities).toMatchObject({ customers: true, savedMethods: true, subscriptions: true });
  });
});

describe('customers', () => {
  it('creates one customer per idempotency key, with Tender metadata, on the test clock', async () => {
    const first = await gateway.customers.create({ merchantId: 'm_billing', userId: 'user-ada', email: 'ada@example.com' }, ctx('customer-m_billing-user-ada'));
    const again = await gateway.customers.create({ merchantId: 'm_billing', userId: 'user-ada', email: 'ada@example.com' }, ctx('customer-m_billing-user-ada'));
    expect(first.gatewayCustomerId).toMatch(/^cus_/);
    expect(again.gatewayCustomerId).toBe(first.gatewayCustomerId);
    const customer = (await stripe.customers.retrieve(first.gatewayCustomerId)) as Stripe.Customer;
    expect(customer).toMatchObject({ email: 'ada@example.com', metadata: { tender_merchant_id: 'm_billing', tender_user_id: 'user-ada' }, test_clock: clock });
    expect((await stripe.customers.list({ test_clock: clock, email: 'ada@example.com' })).data).toHaveLength(1);
  });

  it('refuses a user id longer than Stripe metadata holds, before sending', async () => {
    const before = (await stripe.customers.list({ test_clock: clock, limit: 100 })).data.length;
    const error = await rejection(gateway.customers.create({ merchantId: 'm_billing', userId: 'u'.repeat(501) }, ctx()));
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_metadata', param: 'user_id', status: 400 });
    expect((await stripe.customers.list({ test_clock: clock, limit: 100 })).data).toHaveLength(before);
  });
});

describe('savedMethods', () => {
  it('saves a card through an off-session SetupIntent and answers its display data only', async () => {
    const customer = await newCustomer('user-save');
    const saved = await gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_visa' }, ctx());
    expect(saved).toEqual({
      token: expect.stringMatching(/^pm_/),
      type: 'card',
      card: { brand: 'visa', last4: '4242', expMonth: expect.any(Number), expYear: expect.any(Number), funding: expect.any(String), country: expect.any(String) },
      walletEmail: null,
    });
    const pm = await stripe.paymentMethods.retrieve(saved.token);
    expect(pm.customer).toBe(customer);
    expect(saved.card).toEqual({ brand: pm.card!.brand, last4: pm.card!.last4, expMonth: pm.card!.exp_month, expYear: pm.card!.exp_year, funding: pm.card!.funding, country: pm.card!.country });
    const [setup] = (await stripe.setupIntents.list({ customer })).data;
    expect(setup).toMatchObject({ status: 'succeeded', usage: 'off_session', payment_method: saved.token });
  });

  it('a card the bank declines on setup is a 402 card error naming the decline, and nothing is attached', async () => {
    const customer = await newCustomer('user-declined');
    const error = await rejection(gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_chargeDeclined' }, ctx()));
    expect(error).toMatchObject({ type: 'gateway_error', code: 'card_declined', status: 402, details: { declineCode: 'generic_decline' } });
    expect((await stripe.paymentMethods.list({ customer, type: 'card' })).data).toEqual([]);
  });

  it('a card that needs 3-D Secure to be saved server-side is a 402 authentication_required', async () => {
    const customer = await newCustomer('user-3ds');
    const error = await rejection(gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_authenticationRequired' }, ctx()));
    expect(error).toMatchObject({ type: 'gateway_error', code: 'authentication_required', status: 402, details: { setupIntentStatus: 'requires_action' } });
    expect((await stripe.paymentMethods.list({ customer, type: 'card' })).data).toEqual([]);
  });

  it('setDefault makes the card the invoice default; remove detaches it, and a second remove is a no-op', async () => {
    const customer = await newCustomer('user-default');
    const visa = await gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_visa' }, ctx());
    const mastercard = await gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_mastercard' }, ctx());
    await gateway.savedMethods.setDefault({ gatewayCustomerId: customer, token: mastercard.token }, ctx());
    expect(((await stripe.customers.retrieve(customer)) as Stripe.Customer).invoice_settings.default_payment_method).toBe(mastercard.token);
    await gateway.savedMethods.setDefault({ gatewayCustomerId: customer, token: visa.token }, ctx());
    expect(((await stripe.customers.retrieve(customer)) as Stripe.Customer).invoice_settings.default_payment_method).toBe(visa.token);

    await gateway.savedMethods.remove({ gatewayCustomerId: customer, token: mastercard.token }, ctx());
    expect((await stripe.paymentMethods.retrieve(mastercard.token)).customer).toBeNull();
    expect((await stripe.paymentMethods.list({ customer, type: 'card' })).data.map((p) => p.id)).toEqual([visa.token]);
    await gateway.savedMethods.remove({ gatewayCustomerId: customer, token: mastercard.token }, ctx());
  });

  it('remove refuses a card saved on another customer and leaves it attached', async () => {
    const owner = await newCustomer('user-owner');
    const other = await newCustomer('user-other');
    const saved = await gateway.savedMethods.save({ gatewayCustomerId: owner, token: 'pm_card_visa' }, ctx());
    const error = await rejection(gateway.savedMethods.remove({ gatewayCustomerId: other, token: saved.token }, ctx()));
    expect(error).toMatchObject({ type: 'not_found_error', status: 404 });
    expect((await stripe.paymentMethods.retrieve(saved.token)).customer).toBe(owner);
  });
});

describe('createPayment with a saved method', () => {
  it('charges a saved card off-session on its customer: CAPTURED', async () => {
    const customer = await newCustomer('user-offsession');
    const saved = await gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_visa' }, ctx());
    const result = await gateway.createPayment(payment({ paymentMethod: saved.token, savedMethod: { gatewayCustomerId: customer, offSession: true } }), ctx());
    expect(result).toMatchObject({ status: 'CAPTURED', gatewayReference: expect.stringMatching(/^pi_/) });
    expect(result.amountCaptured?.toString()).toBe('25.00');
    const pi = await stripe.paymentIntents.retrieve(result.gatewayReference!);
    expect(pi).toMatchObject({ customer, payment_method: saved.token, status: 'succeeded', allowed_payment_method_types: ['card'] });
  });

  it('a card whose bank asks for authentication off-session: FAILED with authentication_required', async () => {
    const customer = await newCustomer('user-sca');
    // Attached without a SetupIntent (a SetupIntent would need the customer's 3-D Secure step).
    const pm = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer });
    const result = await gateway.createPayment(payment({ paymentMethod: pm.id, savedMethod: { gatewayCustomerId: customer, offSession: true } }), ctx());
    expect(result).toMatchObject({ status: 'FAILED', failure: { code: 'authentication_required', declineCode: 'authentication_required' }, nextAction: null });
    expect((await stripe.paymentIntents.retrieve(result.gatewayReference!)).status).toBe('requires_payment_method');
  });

  it('on-session (the customer present), the same card asks for the 3-D Secure step', async () => {
    const customer = await newCustomer('user-sca-onsession');
    const pm = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer });
    const result = await gateway.createPayment(payment({ paymentMethod: pm.id, savedMethod: { gatewayCustomerId: customer, offSession: false } }), ctx());
    expect(result).toMatchObject({ status: 'REQUIRES_ACTION', nextAction: { type: 'client_secret' } });
  });

  it('a saved method must be a PaymentMethod id', () => {
    expect(() => gateway.validateCreate(payment({ paymentMethod: 'card', savedMethod: { gatewayCustomerId: 'cus_x', offSession: true } }))).toThrow(
      expect.objectContaining({ code: 'payment_method_not_supported', param: 'payment_method' }),
    );
  });
});

describe('subscriptions', () => {
  let customer: string;
  let token: string;
  let price: Stripe.Price;
  let reference: string;
  const trialEnd = T0 + 14 * DAY;

  beforeAll(async () => {
    customer = await newCustomer('user-subscriber');
    token = (await gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_visa' }, ctx())).token;
    price = await monthlyPrice(999);
  });

  it('creates a 14-day trial: trialing, with Tender metadata, the saved card and the trial period', async () => {
    const created = await gateway.subscriptions.create(
      {
        subscriptionId: 'subs_01',
        merchantId: 'm_billing',
        userId: 'user-subscriber',
        gatewayCustomerId: customer,
        priceId: price.id,
        quantity: 1,
        paymentMethod: token,
        trialDays: 14,
        metadata: { plan: 'pro' },
      },
      ctx('subscription-subs_01'),
    );
    reference = created.gatewayReference;
    expect(created).toMatchObject({
      gatewayReference: expect.stringMatching(/^sub_/),
      gatewayCustomerId: customer,
      status: 'trialing',
      priceId: price.id,
      quantity: 1,
      interval: 'month',
      intervalCount: 1,
      defaultPaymentMethod: token,
      trialStart: iso(T0),
      trialEnd: iso(trialEnd),
      currentPeriodStart: iso(T0),
      currentPeriodEnd: iso(trialEnd),
      cancelAtPeriodEnd: false,
      canceledAt: null,
      endedAt: null,
      latestInvoiceReference: expect.stringMatching(/^in_/),
      metadata: { plan: 'pro', tender_subscription_id: 'subs_01', tender_merchant_id: 'm_billing', tender_user_id: 'user-subscriber' },
      createdAt: iso(T0),
    });
    expect(created.amount?.toString()).toBe('9.99');
    expect(created.amount?.currency).toBe('USD');
    const again = await gateway.subscriptions.create(
      { subscriptionId: 'subs_01', merchantId: 'm_billing', userId: 'user-subscriber', gatewayCustomerId: customer, priceId: price.id, quantity: 1, paymentMethod: token, trialDays: 14, metadata: { plan: 'pro' } },
      ctx('subscription-subs_01'),
    );
    expect(again.gatewayReference).toBe(reference);
    const viaStripe = await stripe.subscriptions.retrieve(reference);
    expect(viaStripe).toMatchObject({ status: 'trialing', default_payment_method: token, trial_end: trialEnd, metadata: { tender_subscription_id: 'subs_01' } });
    expect((await stripe.subscriptions.list({ customer })).data).toHaveLength(1);
  });

  it('the trial invoice is paid with nothing charged', async () => {
    const [trialInvoice] = await gateway.subscriptions.listInvoices({ subscriptionReference: reference, limit: 10 }, ctx());
    expect(trialInvoice).toMatchObject({ subscriptionReference: reference, gatewayCustomerId: customer, status: 'paid', billingReason: 'subscription_create', paymentReference: null });
    expect(trialInvoice!.amountDue.toString()).toBe('0.00');
  });

  it('once the clock passes the trial: active, and a paid invoice naming the PaymentIntent that paid it', async () => {
    await h.advance(clock, trialEnd + 2 * 3600);
    const active = await gateway.subscriptions.retrieve({ gatewayReference: reference }, ctx());
    // The trial ended on 2034-05-24 09:00 UTC: the first paid period runs a month from there.
    expect(active).toMatchObject({ status: 'active', currentPeriodStart: iso(trialEnd), currentPeriodEnd: iso(Date.UTC(2034, 5, 24, 9) / 1000) });

    const invoices = await gateway.subscriptions.listInvoices({ subscriptionReference: reference, limit: 10 }, ctx());
    expect(invoices.map((i) => i.billingReason)).toEqual(['subscription_cycle', 'subscription_create']);
    const [renewal] = invoices;
    expect(renewal).toMatchObject({ status: 'paid', subscriptionReference: reference, gatewayCustomerId: customer, attemptCount: 1, paymentReference: expect.stringMatching(/^pi_/), paymentMethod: token });
    expect(renewal!.amountPaid.toString()).toBe('9.99');
    expect(renewal!.amountRemaining.toString()).toBe('0.00');
    expect(renewal!.paidAt).not.toBeNull();
    expect(active.latestInvoiceReference).toBe(renewal!.gatewayReference);

    const viaStripe = await stripe.invoices.retrieve(renewal!.gatewayReference, { expand: ['payments'] });
    const paid = viaStripe.payments!.data.find((p) => p.status === 'paid');
    expect(paid?.payment.payment_intent).toBe(renewal!.paymentReference);
    expect((await stripe.paymentIntents.retrieve(renewal!.paymentReference!)).status).toBe('succeeded');
    expect(await gateway.subscriptions.retrieveInvoice({ gatewayReference: renewal!.gatewayReference }, ctx())).toEqual(renewal);
    expect(await gateway.subscriptions.listInvoices({ subscriptionReference: reference, limit: 1 }, ctx())).toEqual([renewal]);
  });

  it('cancels at period end (still active), then now (canceled); a repeated cancel answers the canceled subscription', async () => {
    const atEnd = await gateway.subscriptions.cancel({ gatewayReference: reference, atPeriodEnd: true }, ctx());
    expect(atEnd).toMatchObject({ status: 'active', cancelAtPeriodEnd: true, endedAt: null });
    expect((await stripe.subscriptions.retrieve(reference)).cancel_at_period_end).toBe(true);
    const now = await gateway.subscriptions.cancel({ gatewayReference: reference, atPeriodEnd: false }, ctx());
    expect(now).toMatchObject({ status: 'canceled', canceledAt: expect.any(String), endedAt: expect.any(String) });
    expect((await stripe.subscriptions.retrieve(reference)).status).toBe('canceled');
    expect(await gateway.subscriptions.cancel({ gatewayReference: reference, atPeriodEnd: false }, ctx())).toEqual(now);
  });

  it('a subscription that ends at the period end once the clock gets there', async () => {
    const sub = await gateway.subscriptions.create(
      { subscriptionId: 'subs_02', merchantId: 'm_billing', userId: 'user-subscriber', gatewayCustomerId: customer, priceId: price.id, quantity: 2, paymentMethod: token, trialDays: null, metadata: {} },
      ctx(),
    );
    expect(sub).toMatchObject({ status: 'active', quantity: 2, trialStart: null, trialEnd: null });
    expect(sub.amount?.toString()).toBe('19.98');
    const [first] = await gateway.subscriptions.listInvoices({ subscriptionReference: sub.gatewayReference, limit: 10 }, ctx());
    expect(first).toMatchObject({ status: 'paid', billingReason: 'subscription_create', paymentReference: expect.stringMatching(/^pi_/) });
    const marked = await gateway.subscriptions.cancel({ gatewayReference: sub.gatewayReference, atPeriodEnd: true }, ctx());
    expect(marked).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    await h.advance(clock, Date.parse(marked.currentPeriodEnd!) / 1000 + 60);
    expect(await gateway.subscriptions.retrieve({ gatewayReference: sub.gatewayReference }, ctx())).toMatchObject({ status: 'canceled', endedAt: marked.currentPeriodEnd });
  });

  it('a first invoice the card declines leaves the subscription incomplete (allow_incomplete), not an error', async () => {
    const declining = await newCustomer('user-incomplete');
    const pm = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: declining });
    const sub = await gateway.subscriptions.create(
      { subscriptionId: 'subs_03', merchantId: 'm_billing', userId: 'user-incomplete', gatewayCustomerId: declining, priceId: price.id, quantity: 1, paymentMethod: pm.id, trialDays: null, metadata: {} },
      ctx(),
    );
    expect(sub.status).toBe('incomplete');
    const [invoice] = await gateway.subscriptions.listInvoices({ subscriptionReference: sub.gatewayReference, limit: 10 }, ctx());
    expect(invoice).toMatchObject({ status: 'open', paymentReference: null, attemptCount: 1 });
    expect(invoice!.amountRemaining.toString()).toBe('9.99');
  });

  it('an unknown subscription or invoice is a typed gateway error', async () => {
    expect(await rejection(gateway.subscriptions.retrieve({ gatewayReference: 'sub_missing' }, ctx()))).toMatchObject({ type: 'gateway_error', code: 'resource_missing' });
    expect(await rejection(gateway.subscriptions.retrieveInvoice({ gatewayReference: 'in_missing' }, ctx()))).toMatchObject({ type: 'gateway_error', code: 'resource_missing' });
  });
});

describe('webhooks of subscriptions and invoices', () => {
  const SUBSCRIPTION_TYPES = [
    'customer.subscription.created',
    'customer.subscription.updated',
    'customer.subscription.deleted',
    'customer.subscription.trial_will_end',
    'customer.subscription.paused',
    'customer.subscription.resumed',
    'customer.subscription.pending_update_applied',
    'customer.subscription.pending_update_expired',
  ];
  const INVOICE_TYPES = [
    'invoice.created',
    'invoice.finalized',
    'invoice.paid',
    'invoice.payment_succeeded',
    'invoice.payment_failed',
    'invoice.payment_action_required',
    'invoice.voided',
    'invoice.marked_uncollectible',
    'invoice.updated',
  ];

  it('every event the sandbox sent about a subscription or invoice parses to its id and type', async () => {
    await h.sandbox.webhooks.idle();
    const billingEvents = h.received.filter((e) => SUBSCRIPTION_TYPES.includes(e.type) || INVOICE_TYPES.includes(e.type));
    const seen = new Set(billingEvents.map((e) => e.type));
    for (const type of ['customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted', 'customer.subscription.trial_will_end', 'invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded', 'invoice.payment_failed']) {
      expect(seen, type).toContain(type);
    }
    for (const event of billingEvents) {
      const kind = event.type.startsWith('customer.subscription.') ? 'subscription' : 'invoice';
      expect(parse(JSON.stringify(event))).toEqual([{ kind, eventId: event.id, gatewayReference: (event.data.object as { id: string }).id, type: event.type }]);
    }
  });

  it('each listed type maps, from a real subscription and invoice object', async () => {
    const [subscription] = (await stripe.subscriptions.list({ customer: undefined, status: 'all', limit: 1 })).data;
    const [invoice] = (await stripe.invoices.list({ limit: 1 })).data;
    for (const type of SUBSCRIPTION_TYPES) {
      expect(parse(eventBody(type, subscription))).toEqual([{ kind: 'subscription', eventId: `evt_${type.replace(/\./g, '_')}`, gatewayReference: subscription!.id, type }]);
    }
    for (const type of INVOICE_TYPES) {
      expect(parse(eventBody(type, invoice))).toEqual([{ kind: 'invoice', eventId: `evt_${type.replace(/\./g, '_')}`, gatewayReference: invoice!.id, type }]);
    }
  });

  it('an object id that is not a Stripe subscription or invoice id is a 400 naming data.object.id', () => {
    for (const [type, id] of [
      ['customer.subscription.updated', 'in_123'],
      ['customer.subscription.updated', undefined],
      ['invoice.paid', 'sub_123'],
      ['invoice.paid', 'in_../../x'],
      ['invoice.paid', 42],
    ] as const) {
      let error: unknown;
      try {
        parse(eventBody(type, { id, object: type.startsWith('invoice') ? 'invoice' : 'subscription' }));
      } catch (e) {
        error = e;
      }
      expect(error, `${type} ${String(id)}`).toMatchObject({ type: 'invalid_request_error', code: 'invalid_webhook_payload', param: 'data.object.id', status: 400 });
    }
  });

  it('other customer events stay ignored', () => {
    expect(parse(eventBody('customer.updated', { id: 'cus_1', object: 'customer' }))).toEqual([{ kind: 'ignored', eventId: 'evt_customer_updated', reason: expect.any(String) }]);
  });
});
