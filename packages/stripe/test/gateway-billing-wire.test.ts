/**
 * What the gateway's billing members put on the wire: a loopback recorder in front of the sandbox
 * keeps each request (method, path and query, headers, form body) and forwards it, so every call
 * is answered by the sandbox as Stripe would answer it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Money, type GatewayCallContext } from '@tender/core';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStripeGateway, STRIPE_API_VERSION, type StripeGateway } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let sandbox: StripeSandbox;
let recorder: Server;
let gateway: StripeGateway;
let stripe: Stripe;
let clock: string;
const seen: Seen[] = [];
const ctx = (idempotencyKey: string): GatewayCallContext => ({ idempotencyKey, now: new Date() });

beforeAll(async () => {
  sandbox = await startStripeSandbox();
  recorder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
      void fetch(`${sandbox.url}${req.url}`, { method: req.method!, headers, ...(req.method === 'GET' || req.method === 'DELETE' ? {} : { body }) }).then(async (answer) => {
        const text = await answer.text();
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
      });
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  stripe = new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  clock = (await stripe.testHelpers.testClocks.create({ frozen_time: Date.UTC(2035, 0, 1) / 1000 })).id;
  gateway = createStripeGateway({ secretKey: sandbox.secretKey, baseUrl: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`, testClock: clock });
});

afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => recorder.close(resolve));
  await sandbox?.close();
});

beforeEach(() => {
  seen.length = 0;
});

/** The one request recorded, with its decoded body. */
function only(): Seen & { form: string } {
  expect(seen).toHaveLength(1);
  return { ...seen[0]!, form: decodeURIComponent(seen[0]!.body) };
}

describe('billing requests', () => {
  it('customers.create: Tender metadata, the test clock, the pinned version and the idempotency key', async () => {
    await gateway.customers.create({ merchantId: 'm_wire', userId: 'user 1', email: 'wire@example.com' }, ctx('customer-m_wire-user-1'));
    const req = only();
    expect(req).toMatchObject({ method: 'POST', url: '/v1/customers' });
    expect(req.headers).toMatchObject({ 'idempotency-key': 'customer-m_wire-user-1', 'stripe-version': STRIPE_API_VERSION, authorization: `Bearer ${sandbox.secretKey}` });
    expect(req.form).toBe(`email=wire@example.com&metadata[tender_merchant_id]=m_wire&metadata[tender_user_id]=user 1&test_clock=${clock}`);
  });

  it('savedMethods: a confirmed off-session SetupIntent then the PaymentMethod; setDefault; remove', async () => {
    const { gatewayCustomerId: customer } = await gateway.customers.create({ merchantId: 'm_wire', userId: 'user-2' }, ctx('customer-2'));
    seen.length = 0;
    const saved = await gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_visa' }, ctx('save-1'));
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/setup_intents', `GET /v1/payment_methods/${saved.token}`]);
    expect(seen[0]!.headers['idempotency-key']).toBe('save-1');
    expect(decodeURIComponent(seen[0]!.body)).toBe(`customer=${customer}&payment_method=pm_card_visa&confirm=true&usage=off_session&allowed_payment_method_types[0]=card`);

    seen.length = 0;
    await gateway.savedMethods.setDefault({ gatewayCustomerId: customer, token: saved.token }, ctx('default-1'));
    const def = only();
    expect(def).toMatchObject({ method: 'POST', url: `/v1/customers/${customer}` });
    expect(def.headers['idempotency-key']).toBe('default-1');
    expect(def.form).toBe(`invoice_settings[default_payment_method]=${saved.token}`);

    seen.length = 0;
    await gateway.savedMethods.remove({ gatewayCustomerId: customer, token: saved.token }, ctx('remove-1'));
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([`GET /v1/payment_methods/${saved.token}`, `POST /v1/payment_methods/${saved.token}/detach`]);
    expect(seen[1]!.headers['idempotency-key']).toBe('remove-1');
  });

  it('subscriptions: create, cancel at period end, cancel now, invoices with their payments', async () => {
    const { gatewayCustomerId: customer } = await gateway.customers.create({ merchantId: 'm_wire', userId: 'user-3' }, ctx('customer-3'));
    const { token } = await gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_visa' }, ctx('save-3'));
    const product = await stripe.products.create({ name: 'Wire plan' });
    const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 500, recurring: { interval: 'month' } });
    seen.length = 0;
    const sub = await gateway.subscriptions.create(
      { subscriptionId: 'subs_w', merchantId: 'm_wire', userId: 'user-3', gatewayCustomerId: customer, priceId: price.id, quantity: 3, paymentMethod: token, trialDays: 14, metadata: { plan: 'wire' } },
      ctx('subscription-subs_w'),
    );
    const create = only();
    expect(create).toMatchObject({ method: 'POST', url: '/v1/subscriptions' });
    expect(create.headers['idempotency-key']).toBe('subscription-subs_w');
    expect(create.form).toBe(
      `customer=${customer}&items[0][price]=${price.id}&items[0][quantity]=3&trial_period_days=14&default_payment_method=${token}&payment_behavior=allow_incomplete` +
        '&metadata[plan]=wire&metadata[tender_subscription_id]=subs_w&metadata[tender_merchant_id]=m_wire&metadata[tender_user_id]=user-3',
    );

    seen.length = 0;
    await gateway.subscriptions.retrieveInvoice({ gatewayReference: sub.latestInvoiceReference! }, ctx('unused'));
    await gateway.subscriptions.listInvoices({ subscriptionReference: sub.gatewayReference, limit: 5 }, ctx('unused'));
    expect(seen.map((r) => `${r.method} ${decodeURIComponent(r.url)}`)).toEqual([
      `GET /v1/invoices/${sub.latestInvoiceReference}?expand[0]=payments&expand[1]=payments.data.payment.payment_intent`,
      `GET /v1/invoices?limit=5&subscription=${sub.gatewayReference}&expand[0]=data.payments&expand[1]=data.payments.data.payment.payment_intent`,
    ]);

    seen.length = 0;
    await gateway.subscriptions.cancel({ gatewayReference: sub.gatewayReference, atPeriodEnd: true }, ctx('cancel-end'));
    const atEnd = only();
    expect(atEnd).toMatchObject({ method: 'POST', url: `/v1/subscriptions/${sub.gatewayReference}`, form: 'cancel_at_period_end=true' });
    expect(atEnd.headers['idempotency-key']).toBe('cancel-end');
    seen.length = 0;
    await gateway.subscriptions.cancel({ gatewayReference: sub.gatewayReference, atPeriodEnd: false }, ctx('cancel-now'));
    expect(only()).toMatchObject({ method: 'DELETE', url: `/v1/subscriptions/${sub.gatewayReference}`, body: '' });
  });

  it('caller metadata Stripe cannot hold is a 400 before anything is sent', async () => {
    const common = { subscriptionId: 'subs_x', merchantId: 'm', userId: 'u', gatewayCustomerId: 'cus_x', priceId: 'price_x', quantity: 1, paymentMethod: null, trialDays: null };
    for (const metadata of [{ ['k'.repeat(41)]: 'v' }, { 'a[b]': 'v' }, { note: 'x'.repeat(501) }, Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`k${i}`, 'v']))]) {
      await expect(gateway.subscriptions.create({ ...common, metadata }, ctx('x'))).rejects.toMatchObject({ type: 'invalid_request_error', code: 'invalid_metadata', status: 400 });
    }
    expect(seen).toEqual([]);
  });

  it('createPayment with a saved method: customer, confirm, off_session', async () => {
    const { gatewayCustomerId: customer } = await gateway.customers.create({ merchantId: 'm_wire', userId: 'user-4' }, ctx('customer-4'));
    const { token } = await gateway.savedMethods.save({ gatewayCustomerId: customer, token: 'pm_card_visa' }, ctx('save-4'));
    seen.length = 0;
    const result = await gateway.createPayment(
      {
        paymentId: 'pay_w',
        merchantId: 'm_wire',
        orderId: null,
        amount: Money.of('7.00', 'USD'),
        captureMethod: 'automatic',
        paymentMethod: token,
        description: null,
        customer: {},
        returnUrl: 'https://shop.example/back',
        notifyUrl: null,
        metadata: {},
        savedMethod: { gatewayCustomerId: customer, offSession: true },
      },
      ctx('pay-w'),
    );
    expect(result.status).toBe('CAPTURED');
    const req = only();
    expect(req).toMatchObject({ method: 'POST', url: '/v1/payment_intents' });
    expect(req.form).toBe(
      `amount=700&currency=usd&capture_method=automatic&metadata[tender_payment_id]=pay_w&customer=${customer}&payment_method=${token}&confirm=true&allowed_payment_method_types[0]=card&off_session=true`,
    );
  });
});
