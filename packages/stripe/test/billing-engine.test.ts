/**
 * The engine's billing operations (`tender.customers`, `paymentMethods`, `subscriptions`,
 * `invoices`) over the Stripe gateway and the Stripe sandbox, on loopback sockets. Each scenario's
 * customers live on a test clock of their own (the gateway's `testClock`), so a scenario moves its
 * own time: a trial ends, a renewal is charged or declined, a period ends. The sandbox's signed
 * webhooks reach the engine through a real HTTP receiver that hands the raw bytes to
 * `tender.webhooks.handle('stripe', ...)`; every delivery is also kept, and at the end replayed
 * duplicated and shuffled to a second engine on an empty store, which must end with the same records.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, TenderError, type Invoice, type OutboxEvent, type Payment, type Subscription, type Tender } from '@tender/core';
import { MemoryStore, waitFor } from '@tender/core/testing';
import { createStripeGateway, type StripeGateway } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

const DAY = 86_400;
const HOUR = 3_600;
const webhookSecret = 'whsec_billing_engine_tests';

let sandbox: StripeSandbox;
let stripe: Stripe;
let receiver: Server;
let store: MemoryStore;
/** The engine the sandbox's webhooks reach; it shares the store with each scenario's engine. */
let hooks: Tender;
const gateways: StripeGateway[] = [];
/** Every delivery the receiver got, as sent (raw bytes and headers), for the replay at the end. */
const deliveries: Array<{ headers: Record<string, string>; rawBody: Uint8Array; type: string }> = [];
/** Every event any engine of this file published. */
const published: OutboxEvent[] = [];
/** The subscriptions the scenarios made, compared with the replay's. */
const made: Subscription[] = [];

function stripeGateway(testClock?: string): StripeGateway {
  const gateway = createStripeGateway({
    secretKey: sandbox.secretKey,
    webhookSecret,
    baseUrl: sandbox.url,
    ...(testClock ? { testClock } : {}),
    transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }),
  });
  gateways.push(gateway);
  return gateway;
}

function engine(gateway: StripeGateway, on: MemoryStore = store): Tender {
  const tender = createTender({ gateways: [gateway], store: on });
  tender.events.on((event) => published.push(event));
  return tender;
}

/** A scenario: its own test clock, and an engine on the shared store whose customers live on it. */
async function scenario(name: string) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000), name });
  const tender = engine(stripeGateway(clock.id));
  return {
    tender,
    clock: clock.id,
    /** Advances the clock by `seconds`, waits until the sandbox played what is due and delivered its webhooks. */
    async advance(seconds: number) {
      const current = await stripe.testHelpers.testClocks.retrieve(clock.id);
      await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: current.frozen_time + seconds });
      await waitFor(async () => {
        const now = await stripe.testHelpers.testClocks.retrieve(clock.id);
        if (now.status === 'internal_failure') throw new Error(`test clock ${clock.id} failed`);
        return now.status === 'ready' ? now : null;
      }, `test clock ${clock.id} ready`, 10_000, 10);
      await sandbox.webhooks.idle();
    },
  };
}

/** The merchant's dashboard step: a monthly price. */
async function monthlyPrice(unitAmount: number, currency = 'usd'): Promise<string> {
  const price = await stripe.prices.create({ currency, unit_amount: unitAmount, recurring: { interval: 'month' }, product_data: { name: `Plan ${unitAmount}` } });
  return price.id;
}

const invoicesOf = async (tender: Tender, subscriptionId: string): Promise<Invoice[]> => (await tender.invoices.list({ subscriptionId, limit: 100 })).data;
const paymentsOf = async (tender: Tender, userId: string): Promise<Payment[]> => (await tender.payments.list({ userId, limit: 100 })).data;
const user = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = new Uint8Array(Buffer.concat(chunks));
      const headers = req.headers as Record<string, string>;
      deliveries.push({ headers, rawBody, type: (JSON.parse(Buffer.from(rawBody).toString('utf8')) as { type: string }).type });
      hooks.webhooks.handle('stripe', { headers, rawBody }).then(
        (ack) => res.writeHead(ack.status, ack.headers ?? {}).end(ack.body),
        (error: { status?: number; message?: string }) => res.writeHead(error.status ?? 500).end(String(error.message)),
      );
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  sandbox = await startStripeSandbox({ webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`, secret: webhookSecret, retryDelayMs: 10 } });
  stripe = new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  store = new MemoryStore();
  hooks = engine(stripeGateway());
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await sandbox?.close();
  await new Promise((r) => receiver?.close(r));
});

describe('customers', () => {
  it('a user is one Stripe customer and one mapping, however many first uses run at once (in one engine or two)', async () => {
    const { tender, clock } = await scenario('customers');
    const other = engine(stripeGateway(clock));
    const userId = user('ana');
    const first = await Promise.all([
      tender.customers.ensure({ userId, email: 'ana@example.com' }),
      tender.customers.ensure({ userId, email: 'ana@example.com' }),
      other.customers.ensure({ userId, email: 'ana@example.com' }),
    ]);
    const again = await tender.customers.ensure({ userId });
    const ids = new Set([...first, again].map((c) => c.gatewayCustomerId));
    expect(ids.size).toBe(1);
    expect(again).toMatchObject({ merchantId: 'default', userId, gateway: 'stripe' });
    const atStripe = (await stripe.customers.list({ test_clock: clock, limit: 100 })).data.filter((c) => c.metadata.tender_user_id === userId);
    expect(atStripe.map((c) => c.id)).toEqual([...ids]);
    // Another merchant's user of the same name is another customer.
    const theirs = await tender.customers.ensure({ userId }, { merchantId: 'm_other' });
    expect(theirs.gatewayCustomerId).not.toBe(again.gatewayCustomerId);
  });
});

describe('saved payment methods', () => {
  it('save (the first is the default, here and at Stripe), list, set another default, remove; another merchant sees none', async () => {
    const { tender } = await scenario('methods');
    const userId = user('ben');
    const visa = await tender.paymentMethods.save({ userId, token: 'pm_card_visa' });
    expect(visa).toMatchObject({ id: expect.stringMatching(/^spm_/), userId, gateway: 'stripe', type: 'card', isDefault: true, deletedAt: null, card: { brand: 'visa', last4: '4242' } });
    expect(visa.token).toMatch(/^pm_/);
    const customer = await tender.customers.ensure({ userId });
    const atStripe = async () => ((await stripe.customers.retrieve(customer.gatewayCustomerId)) as Stripe.Customer).invoice_settings.default_payment_method;
    expect(await atStripe()).toBe(visa.token);

    const master = await tender.paymentMethods.save({ userId, token: 'pm_card_mastercard' });
    expect(master.isDefault).toBe(false);
    // The token already saved for this user: the stored method, nothing new.
    expect(await tender.paymentMethods.save({ userId, token: master.token })).toEqual(master);
    expect((await tender.paymentMethods.list({ userId })).data.map((m) => m.id)).toEqual([master.id, visa.id]);

    const made = await tender.paymentMethods.setDefault(master.id);
    expect(made.isDefault).toBe(true);
    expect((await tender.paymentMethods.get(visa.id)).isDefault).toBe(false);
    expect(await atStripe()).toBe(master.token);

    // Another user of the merchant cannot take the token over.
    await expect(tender.paymentMethods.save({ userId: user('eve'), token: master.token })).rejects.toMatchObject({ type: 'state_error', status: 409, code: 'payment_method_in_use' });
    // Another merchant's method is a 404, and its lists are empty.
    await expect(tender.paymentMethods.get(visa.id, { merchantId: 'm_other' })).rejects.toMatchObject({ status: 404 });
    await expect(tender.paymentMethods.remove(visa.id, { merchantId: 'm_other' })).rejects.toMatchObject({ status: 404 });
    expect((await tender.paymentMethods.list({ merchantId: 'm_other', userId })).data).toEqual([]);

    const removed = await tender.paymentMethods.remove(visa.id);
    expect(removed.deletedAt).not.toBeNull();
    expect((await stripe.paymentMethods.retrieve(visa.token)).customer).toBeNull();
    expect(await tender.paymentMethods.remove(visa.id)).toEqual(removed);
    await expect(tender.paymentMethods.get(visa.id)).rejects.toMatchObject({ status: 404 });
    await expect(tender.paymentMethods.setDefault(visa.id)).rejects.toMatchObject({ status: 404 });
    expect((await tender.paymentMethods.list({ userId })).data.map((m) => m.id)).toEqual([master.id]);

    const types = published.filter((e) => [visa.id, master.id].includes((e.data as { id?: string }).id ?? '')).map((e) => e.type);
    expect(types).toEqual(['payment_method.saved', 'payment_method.default_changed', 'payment_method.saved', 'payment_method.default_changed', 'payment_method.removed']);
    expect(published.filter((e) => e.type.startsWith('payment_method.')).every((e) => e.paymentId === null)).toBe(true);
  });

  it('a card Stripe refuses to save is its card error, and nothing is stored', async () => {
    const { tender } = await scenario('refused');
    const userId = user('cid');
    const error = await tender.paymentMethods.save({ userId, token: 'pm_card_chargeDeclined' }).catch((e: unknown) => e);
    expect(TenderError.isInstance(error) && error.status).toBe(402);
    expect((await tender.paymentMethods.list({ userId })).data).toEqual([]);
  });
});

describe('subscriptions', () => {
  it('a 14-day trial: trialing with a paid zero invoice; past the trial, active with a paid invoice and a CAPTURED payment of the user', async () => {
    const { tender, advance } = await scenario('trial');
    const userId = user('dee');
    const price = await monthlyPrice(1500);
    const subscription = await tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'pm_card_visa', trialDays: 14, metadata: { plan: 'pro' } });
    made.push(subscription);
    expect(subscription).toMatchObject({
      id: expect.stringMatching(/^subs_/),
      userId,
      status: 'trialing',
      priceId: price,
      quantity: 1,
      amount: '15.00',
      currency: 'USD',
      interval: 'month',
      metadata: { plan: 'pro' },
      cancelAtPeriodEnd: false,
    });
    const method = (await tender.paymentMethods.list({ userId })).data[0]!;
    expect(subscription.paymentMethodId).toBe(method.id);
    expect(Date.parse(subscription.trialEnd!) - Date.parse(subscription.trialStart!)).toBe(14 * DAY * 1000);
    await sandbox.webhooks.idle();
    const [first] = await invoicesOf(tender, subscription.id);
    expect(first).toMatchObject({ status: 'paid', amountDue: '0.00', billingReason: 'subscription_create', paymentId: null, subscriptionId: subscription.id });

    await advance(14 * DAY + 2 * HOUR);
    const active = await tender.subscriptions.get(subscription.id);
    expect(active.status).toBe('active');
    const renewal = (await invoicesOf(tender, subscription.id)).find((i) => i.billingReason === 'subscription_cycle')!;
    expect(renewal).toMatchObject({ status: 'paid', amountPaid: '15.00', amountRemaining: '0.00', userId });
    const payment = await tender.payments.get(renewal.paymentId!);
    expect(payment).toMatchObject({
      status: 'CAPTURED',
      amount: '15.00',
      amountCaptured: '15.00',
      currency: 'USD',
      userId,
      savedPaymentMethodId: method.id,
      captureMethod: 'automatic',
      metadata: { invoice_id: renewal.id, subscription_id: subscription.id },
    });
    expect(payment.gatewayReference).toMatch(/^pi_/);
    expect((await paymentsOf(tender, userId)).map((p) => p.id)).toEqual([payment.id]);
    expect((await tender.transitions(payment.id)).map((t) => [t.from, t.to, t.actor])).toEqual([[null, 'CAPTURED', 'webhook']]);
    expect((await tender.subscriptions.transitions(subscription.id)).map((t) => [t.from, t.to])).toEqual([
      [null, 'trialing'],
      ['trialing', 'active'],
    ]);
    expect(published.some((e) => e.type === 'payment.captured' && e.paymentId === payment.id)).toBe(true);
    expect(published.some((e) => e.type === 'invoice.paid' && (e.data as { id?: string }).id === renewal.id && e.paymentId === null)).toBe(true);
    // It is a payment like any other: refunding it refunds the invoice's PaymentIntent at Stripe.
    const refund = await tender.payments.refund(payment.id, { amount: '5.00' });
    expect(refund.status).toBe('SUCCEEDED');
    expect((await stripe.refunds.list({ payment_intent: payment.gatewayReference! })).data.map((r) => r.amount)).toEqual([500]);
    await sandbox.webhooks.idle();
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountRefunded: '5.00' });

    // Another merchant's subscription, invoices and trail are 404s.
    await expect(tender.subscriptions.get(subscription.id, { merchantId: 'm_other' })).rejects.toMatchObject({ status: 404 });
    await expect(tender.subscriptions.cancel(subscription.id, {}, { merchantId: 'm_other' })).rejects.toMatchObject({ status: 404 });
    await expect(tender.subscriptions.transitions(subscription.id, { merchantId: 'm_other' })).rejects.toMatchObject({ status: 404 });
    await expect(tender.invoices.get(renewal.id, { merchantId: 'm_other' })).rejects.toMatchObject({ status: 404 });
    await expect(tender.invoices.list({ subscriptionId: subscription.id, merchantId: 'm_other' })).rejects.toMatchObject({ status: 404 });
    expect((await tender.subscriptions.list({ merchantId: 'm_other' })).data).toEqual([]);
  });

  it('a renewal the card declines: invoice payment_failed and past_due; a new default card and the retry: paid and active', async () => {
    const { tender, advance } = await scenario('decline');
    const userId = user('fay');
    const price = await monthlyPrice(2000);
    // Saves fine, every charge declines (https://docs.stripe.com/testing#declined-payments).
    const failing = await tender.paymentMethods.save({ userId, token: 'pm_card_chargeCustomerFail' });
    // No method named: renewals charge the user's default, which Tender keeps at Stripe.
    const subscription = await tender.subscriptions.create({ userId, priceId: price, trialDays: 7 });
    made.push(subscription);
    expect(subscription).toMatchObject({ status: 'trialing', paymentMethodId: failing.id });
    // The default is not pinned on the Stripe subscription: it charges the customer's default.
    expect((await stripe.subscriptions.retrieve(subscription.gatewayReference)).default_payment_method).toBeNull();

    await advance(7 * DAY + 2 * HOUR);
    expect((await tender.subscriptions.get(subscription.id)).status).toBe('past_due');
    const renewal = (await invoicesOf(tender, subscription.id)).find((i) => i.billingReason === 'subscription_cycle')!;
    expect(renewal).toMatchObject({ status: 'open', attemptCount: 1, amountPaid: '0.00', amountRemaining: '20.00', paymentId: null });
    expect(renewal.nextPaymentAttempt).not.toBeNull();
    expect(await paymentsOf(tender, userId)).toEqual([]);
    expect(published.some((e) => e.type === 'invoice.payment_failed' && (e.data as { id?: string }).id === renewal.id)).toBe(true);

    const visa = await tender.paymentMethods.save({ userId, token: 'pm_card_visa', setDefault: true });
    expect((await tender.paymentMethods.get(failing.id)).isDefault).toBe(false);
    await advance(3 * DAY + HOUR);
    const recovered = await tender.subscriptions.get(subscription.id);
    expect(recovered).toMatchObject({ status: 'active', paymentMethodId: visa.id });
    const paid = await tender.invoices.get(renewal.id);
    expect(paid).toMatchObject({ status: 'paid', amountPaid: '20.00', attemptCount: 2 });
    expect(await tender.payments.get(paid.paymentId!)).toMatchObject({ status: 'CAPTURED', amount: '20.00', userId, savedPaymentMethodId: visa.id });
    expect((await tender.subscriptions.transitions(subscription.id)).map((t) => t.to)).toEqual(['trialing', 'past_due', 'active']);
    expect((await tender.invoices.transitions(renewal.id)).map((t) => t.to)).toEqual(expect.arrayContaining(['open', 'paid']));
  });

  it('cancel at period end: still active with cancelAtPeriodEnd, then canceled once the clock passes the period end', async () => {
    const { tender, advance } = await scenario('cancel');
    const userId = user('gus');
    const price = await monthlyPrice(900);
    const method = await tender.paymentMethods.save({ userId, token: 'pm_card_visa' });
    const subscription = await tender.subscriptions.create({ userId, priceId: price, paymentMethod: method.id }, { idempotencyKey: `sub-${userId}` });
    made.push(subscription);
    expect(subscription).toMatchObject({ status: 'active', paymentMethodId: method.id });
    // The same key again: the same subscription, no second one at Stripe.
    expect((await tender.subscriptions.create({ userId, priceId: price, paymentMethod: method.id }, { idempotencyKey: `sub-${userId}` })).id).toBe(subscription.id);
    expect((await tender.subscriptions.list({ userId })).data.map((s) => s.id)).toEqual([subscription.id]);
    const [first] = await invoicesOf(tender, subscription.id);
    expect(first).toMatchObject({ status: 'paid', amountPaid: '9.00', billingReason: 'subscription_create' });
    expect((await tender.payments.get(first!.paymentId!)).status).toBe('CAPTURED');

    const ending = await tender.subscriptions.cancel(subscription.id, { atPeriodEnd: true });
    expect(ending).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    await advance(32 * DAY);
    const ended = await tender.subscriptions.get(subscription.id);
    expect(ended.status).toBe('canceled');
    expect(ended.endedAt).not.toBeNull();
    // No renewal invoice: the subscription ended instead.
    expect((await invoicesOf(tender, subscription.id)).map((i) => i.billingReason)).toEqual(['subscription_create']);
    expect(published.some((e) => e.type === 'subscription.canceled' && (e.data as { id?: string }).id === subscription.id)).toBe(true);
    // Canceling what has ended answers it as it is.
    expect((await tender.subscriptions.cancel(subscription.id)).status).toBe('canceled');
  });

  it('a method other than the default is pinned on the subscription; sync requeries Stripe; an unknown saved method or another user\'s is a 404', async () => {
    const { tender } = await scenario('sync');
    const userId = user('hal');
    const price = await monthlyPrice(500);
    await tender.paymentMethods.save({ userId, token: 'pm_card_visa' });
    const second = await tender.paymentMethods.save({ userId, token: 'pm_card_mastercard' });
    const subscription = await tender.subscriptions.create({ userId, priceId: price, paymentMethod: second.id });
    made.push(subscription);
    expect(subscription.paymentMethodId).toBe(second.id);
    expect((await stripe.subscriptions.retrieve(subscription.gatewayReference)).default_payment_method).toBe(second.token);
    await stripe.subscriptions.update(subscription.gatewayReference, { cancel_at_period_end: true });
    await sandbox.webhooks.idle();
    expect((await tender.subscriptions.sync(subscription.id)).cancelAtPeriodEnd).toBe(true);
    await expect(tender.subscriptions.create({ userId, priceId: price, paymentMethod: 'spm_00000000000000000000000000' })).rejects.toMatchObject({ status: 404 });
    const theirs = await tender.paymentMethods.save({ userId: user('ivy'), token: 'pm_card_visa' });
    await expect(tender.subscriptions.create({ userId, priceId: price, paymentMethod: theirs.id })).rejects.toMatchObject({ status: 404 });
  });
});

describe('webhooks', () => {
  it('the same deliveries, duplicated and shuffled, to a second engine on an empty store end in the same records', async () => {
    await sandbox.webhooks.idle();
    expect(made.length).toBeGreaterThanOrEqual(4);
    const second = new MemoryStore();
    const replay = engine(stripeGateway(), second);
    // Each delivery two or three times, shuffled with a fixed seed (mulberry32).
    let seed = 20_261_201;
    const random = () => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const queue = deliveries.flatMap((d) => (random() < 0.5 ? [d, d] : [d, d, d]));
    for (let i = queue.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [queue[i], queue[j]] = [queue[j]!, queue[i]!];
    }
    // A delivery answered with a retryable error goes to the back of the queue, as Stripe retries it.
    const attempts = new Map<object, number>();
    const outcomes: string[] = [];
    while (queue.length > 0) {
      const delivery = queue.shift()!;
      try {
        const handled = await replay.webhooks.handle('stripe', { headers: delivery.headers, rawBody: delivery.rawBody });
        outcomes.push(...handled.outcomes.map((o) => o.outcome));
      } catch (error) {
        if (!TenderError.isInstance(error) || !error.retryable) throw error;
        const n = (attempts.get(delivery) ?? 0) + 1;
        attempts.set(delivery, n);
        if (n < 5) queue.push(delivery);
      }
    }
    expect(outcomes).toContain('duplicate');

    const content = (s: Subscription) => {
      const { createdAt, updatedAt, syncedAt, version, paymentMethodId, ...rest } = s;
      return rest;
    };
    const invoiceContent = (i: Invoice) => {
      const { id, createdAt, updatedAt, syncedAt, version, paymentId, ...rest } = i;
      return rest;
    };
    for (const { id } of made) {
      const original = await hooks.subscriptions.get(id);
      const mirrored = await replay.subscriptions.get(id);
      expect(content(mirrored)).toEqual(content(original));
      const byReference = (list: Invoice[]) => list.map(invoiceContent).sort((a, b) => a.gatewayReference.localeCompare(b.gatewayReference));
      expect(byReference(await invoicesOf(replay, id))).toEqual(byReference(await invoicesOf(hooks, id)));
      const money = (list: Payment[]) =>
        list
          .filter((p) => p.metadata.subscription_id === id)
          .map((p) => ({ status: p.status, amount: p.amount, currency: p.currency, userId: p.userId, gatewayReference: p.gatewayReference }))
          .sort((a, b) => String(a.gatewayReference).localeCompare(String(b.gatewayReference)));
      expect(money(await paymentsOf(replay, original.userId))).toEqual(money(await paymentsOf(hooks, original.userId)));
    }
  });
});
