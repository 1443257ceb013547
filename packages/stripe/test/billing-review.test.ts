/**
 * Review findings of the billing operations, over the Stripe gateway and the Stripe sandbox on
 * loopback: a caller's Idempotency-Key is held to one request (Stripe's rule), and a cancellation
 * at period end is asked of Stripe even when the record already says so. The sandbox sends no
 * webhooks here: the records hold only what the calls answered, as when webhooks are late.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, type StoreTx, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createStripeGateway, type StripeGateway } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

let sandbox: StripeSandbox;
let stripe: Stripe;
let gateway: StripeGateway;
let tender: Tender;
let price: string;
let otherPrice: string;

const user = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  sandbox = await startStripeSandbox({});
  stripe = new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  gateway = createStripeGateway({
    secretKey: sandbox.secretKey,
    webhookSecret: 'whsec_billing_review',
    baseUrl: sandbox.url,
    transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 20 } }),
  });
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
  const monthly = (amount: number) => stripe.prices.create({ currency: 'usd', unit_amount: amount, recurring: { interval: 'month' }, product_data: { name: `Plan ${amount}` } });
  price = (await monthly(1000)).id;
  otherPrice = (await monthly(5000)).id;
});

afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

describe('review: a caller key is one request', () => {
  it('subscriptions.create: the same key with another price is a 422 and makes nothing; the same body answers the first subscription', async () => {
    const userId = user('kim');
    const key = `sub-review-${userId}`;
    const first = await tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa' }, { idempotencyKey: key });
    await expect(tender.subscriptions.create({ userId, priceId: otherPrice, paymentMethod: 'pm_card_visa' }, { idempotencyKey: key })).rejects.toMatchObject({
      status: 422,
      code: 'idempotency_key_reused',
    });
    await expect(tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa', trialDays: 7 }, { idempotencyKey: key })).rejects.toMatchObject({ status: 422 });
    expect((await tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa' }, { idempotencyKey: key })).id).toBe(first.id);
    const atStripe = await stripe.subscriptions.list({ customer: first.gatewayCustomerId, status: 'all' });
    expect(atStripe.data.map((s) => s.id)).toEqual([first.gatewayReference]);
    expect((await tender.subscriptions.list({ userId })).data.map((s) => s.id)).toEqual([first.id]);
  });

  it("a payment's key is not a subscription's: the same key on a subscribe is a 422", async () => {
    const userId = user('lou');
    const key = `pay-review-${userId}`;
    await tender.payments.create({ amount: '5.00', currency: 'USD', paymentMethod: 'pm_card_visa' }, { idempotencyKey: key });
    await expect(tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa' }, { idempotencyKey: key })).rejects.toMatchObject({ status: 422 });
    expect((await tender.subscriptions.list({ userId })).data).toEqual([]);
  });

  it('paymentMethods.save: the same key with another token is a 422 and saves nothing', async () => {
    const userId = user('max');
    const key = `pm-review-${userId}`;
    const saved = await tender.paymentMethods.save({ userId, token: 'pm_card_visa' }, { idempotencyKey: key });
    await expect(tender.paymentMethods.save({ userId, token: 'pm_card_mastercard' }, { idempotencyKey: key })).rejects.toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    expect((await tender.paymentMethods.save({ userId, token: 'pm_card_visa' }, { idempotencyKey: key })).id).toBe(saved.id);
    expect((await tender.paymentMethods.list({ userId })).data.map((m) => m.id)).toEqual([saved.id]);
    const customer = await tender.customers.ensure({ userId });
    expect((await stripe.paymentMethods.list({ customer: customer.gatewayCustomerId })).data).toHaveLength(1);
  });

  it('subscriptions.cancel: the same key at period end, then now, is a 422 and the subscription runs on', async () => {
    const userId = user('ned');
    const subscription = await tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa' });
    const key = `cancel-review-${userId}`;
    expect(await tender.subscriptions.cancel(subscription.id, { atPeriodEnd: true }, { idempotencyKey: key })).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    await expect(tender.subscriptions.cancel(subscription.id, { atPeriodEnd: false }, { idempotencyKey: key })).rejects.toMatchObject({ status: 422 });
    expect((await stripe.subscriptions.retrieve(subscription.gatewayReference)).status).toBe('active');
    expect((await tender.subscriptions.get(subscription.id)).status).toBe('active');
  });
});

describe('review: cancel at period end asks Stripe', () => {
  it('a subscription Stripe canceled already (its webhook not arrived): cancel, at period end or now, answers it canceled as Stripe holds it', async () => {
    for (const atPeriodEnd of [true, false]) {
      const userId = user('pat');
      const subscription = await tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa' });
      await stripe.subscriptions.cancel(subscription.gatewayReference);
      expect((await tender.subscriptions.get(subscription.id)).status).toBe('active');
      const canceled = await tender.subscriptions.cancel(subscription.id, { atPeriodEnd });
      expect(canceled).toMatchObject({ id: subscription.id, status: 'canceled' });
      expect(canceled.endedAt).not.toBeNull();
      expect((await tender.subscriptions.get(subscription.id)).status).toBe('canceled');
    }
  });

  it('a cancellation undone at Stripe (its webhook not arrived) is asked again: Stripe and the record end cancel_at_period_end', async () => {
    const userId = user('ora');
    const subscription = await tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa' });
    expect(await tender.subscriptions.cancel(subscription.id, { atPeriodEnd: true })).toMatchObject({ cancelAtPeriodEnd: true });
    // The merchant's dashboard undoes it; no webhook reaches Tender.
    await stripe.subscriptions.update(subscription.gatewayReference, { cancel_at_period_end: false });
    expect((await tender.subscriptions.get(subscription.id)).cancelAtPeriodEnd).toBe(true);
    const again = await tender.subscriptions.cancel(subscription.id, { atPeriodEnd: true });
    expect(again.cancelAtPeriodEnd).toBe(true);
    expect((await stripe.subscriptions.retrieve(subscription.gatewayReference)).cancel_at_period_end).toBe(true);
  });
});

describe('review: the sandbox refuses what Stripe refuses', () => {
  it("a subscription in another currency than the customer's running one is a 400, through the stripe client and through Tender, and nothing is stored", async () => {
    const userId = user('pia');
    const usd = await tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa' });
    expect((await stripe.customers.retrieve(usd.gatewayCustomerId)) as Stripe.Customer).toMatchObject({ currency: 'usd' });
    const eur = (await stripe.prices.create({ currency: 'eur', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Plan EUR' } })).id;
    const refused = await stripe.subscriptions.create({ customer: usd.gatewayCustomerId, items: [{ price: eur }] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((refused as Stripe.errors.StripeError).message).toMatch(/cannot combine currencies/);
    await expect(tender.subscriptions.create({ userId, priceId: eur })).rejects.toMatchObject({ status: 400 });
    expect((await tender.subscriptions.list({ userId })).data.map((s) => s.id)).toEqual([usd.id]);
    expect((await stripe.subscriptions.list({ customer: usd.gatewayCustomerId, status: 'all' })).data).toHaveLength(1);
    // Once the USD subscription has ended, the customer may be billed in EUR.
    await tender.subscriptions.cancel(usd.id);
    expect((await tender.subscriptions.create({ userId, priceId: eur })).currency).toBe('EUR');
  });

  it('trial_period_days above 730 or below 0 is a 400 naming it', async () => {
    const customer = await stripe.customers.create({});
    for (const days of [731, -1]) {
      const refused = await stripe.subscriptions.create({ customer: customer.id, items: [{ price }], trial_period_days: days }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect((refused as Stripe.errors.StripeError).param).toBe('trial_period_days');
    }
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toEqual([]);
    expect((await stripe.subscriptions.create({ customer: customer.id, items: [{ price }], trial_period_days: 730 })).status).toBe('trialing');
  });
});

/**
 * A MemoryStore whose next transaction calling `method` fails there once, as a process killed
 * between the gateway's answer and the store's write leaves things: the gateway acted, nothing stored.
 */
class FailingOnceStore extends MemoryStore {
  failNext: keyof StoreTx | null = null;
  override transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return super.transaction((tx) =>
      fn(
        new Proxy(tx, {
          get: (target, prop, receiver) => {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (prop !== this.failNext || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
            return () => {
              this.failNext = null;
              return Promise.reject(new Error('store down'));
            };
          },
        }),
      ),
    );
  }
}

describe('review: a crash between the gateway call and the store write', () => {
  it('subscriptions.create retried with its key after the write failed: one subscription at Stripe, stored once', async () => {
    const failing = new FailingOnceStore();
    const engine = createTender({ gateways: [gateway], store: failing });
    const userId = user('quinn');
    const key = `crash-sub-${userId}`;
    const method = await engine.paymentMethods.save({ userId, token: 'pm_card_visa' });
    failing.failNext = 'insertSubscription';
    await expect(engine.subscriptions.create({ userId, priceId: price, paymentMethod: method.id }, { idempotencyKey: key })).rejects.toThrow();
    expect((await engine.subscriptions.list({ userId })).data).toEqual([]);
    const retried = await engine.subscriptions.create({ userId, priceId: price, paymentMethod: method.id }, { idempotencyKey: key });
    expect(retried.status).toBe('active');
    expect((await stripe.subscriptions.list({ customer: retried.gatewayCustomerId, status: 'all' })).data.map((s) => s.id)).toEqual([retried.gatewayReference]);
    expect((await engine.subscriptions.list({ userId })).data.map((s) => s.id)).toEqual([retried.id]);
  });

  it('paymentMethods.save retried after the write failed: one PaymentMethod on the customer at Stripe, stored once', async () => {
    const failing = new FailingOnceStore();
    const engine = createTender({ gateways: [gateway], store: failing });
    const userId = user('rae');
    const customer = await engine.customers.ensure({ userId });
    failing.failNext = 'insertSavedPaymentMethod';
    await expect(engine.paymentMethods.save({ userId, token: 'pm_card_visa' }, { idempotencyKey: `crash-pm-${userId}` })).rejects.toThrow();
    expect((await engine.paymentMethods.list({ userId })).data).toEqual([]);
    const saved = await engine.paymentMethods.save({ userId, token: 'pm_card_visa' }, { idempotencyKey: `crash-pm-${userId}` });
    expect(saved.isDefault).toBe(true);
    const atStripe = await stripe.paymentMethods.list({ customer: customer.gatewayCustomerId });
    expect(atStripe.data.map((pm) => pm.id)).toEqual([saved.token]);
    expect(((await stripe.customers.retrieve(customer.gatewayCustomerId)) as Stripe.Customer).invoice_settings.default_payment_method).toBe(saved.token);
    expect((await engine.paymentMethods.list({ userId })).data.map((m) => m.id)).toEqual([saved.id]);
  });
});

describe('review: errors name the field sent', () => {
  it("subscriptions.create with an unknown, removed or another user's saved method: 404 naming payment_method, nothing at Stripe", async () => {
    const userId = user('sam');
    const theirs = await tender.paymentMethods.save({ userId: user('tia'), token: 'pm_card_visa' });
    const removed = await tender.paymentMethods.save({ userId, token: 'pm_card_visa' });
    await tender.paymentMethods.remove(removed.id);
    for (const id of ['spm_00000000000000000000000000', theirs.id, removed.id]) {
      await expect(tender.subscriptions.create({ userId, priceId: price, paymentMethod: id })).rejects.toMatchObject({ status: 404, code: 'resource_missing', param: 'payment_method' });
    }
    const customer = await tender.customers.ensure({ userId });
    expect((await stripe.subscriptions.list({ customer: customer.gatewayCustomerId, status: 'all' })).data).toEqual([]);
  });
});

describe('review: money of an invoice', () => {
  it("an invoice's payment requeried (still CAPTURED) and refunded through Tender: REFUNDED here and at Stripe, the invoice still paid on both sides (Stripe keeps a refunded invoice paid)", async () => {
    const userId = user('uma');
    const subscription = await tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa' });
    const [invoice] = (await tender.invoices.list({ subscriptionId: subscription.id })).data;
    expect(invoice).toMatchObject({ status: 'paid', amountPaid: '10.00' });
    const payment = await tender.payments.get(invoice!.paymentId!);
    expect(payment).toMatchObject({ status: 'CAPTURED', amount: '10.00', userId });
    // The status route's requery of a PaymentIntent Stripe's billing made (no Tender metadata on it).
    expect(await tender.payments.sync(payment.id)).toMatchObject({ id: payment.id, status: 'CAPTURED', amount: '10.00' });
    const refund = await tender.payments.refund(payment.id, {}, { idempotencyKey: `refund-${userId}` });
    expect(refund.status).toBe('SUCCEEDED');
    expect((await tender.payments.get(payment.id)).status).toBe('REFUNDED');
    const pi = await stripe.paymentIntents.retrieve(payment.gatewayReference!, { expand: ['latest_charge'] });
    expect((pi.latest_charge as Stripe.Charge).refunded).toBe(true);
    expect((await stripe.invoices.retrieve(invoice!.gatewayReference)).status).toBe('paid');
    expect((await tender.invoices.get(invoice!.id)).status).toBe('paid');
  });
});
