/**
 * Gateway selection by currency and gateway failover: a currency rule
 * prefers Stripe and falls back to PayPal, over sockets with both sandboxes. When Stripe stops
 * answering (connections refused, then its circuit open) new payments go to PayPal; a payment only
 * Stripe can take (a card) is refused with a retryable 503, never sent to a gateway that cannot take it.
 */
import { Writable } from 'node:stream';
import { MemoryStore } from '@tender/core/testing';
import { approveOrder, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';

const SECRET = 'failover-secret-failover-secret-0123456789';
let stripe: StripeSandbox;
let paypal: PayPalSandbox;
let server: TenderServer;
let token: string;

beforeAll(async () => {
  stripe = await startStripeSandbox();
  paypal = await startPayPalSandbox();
  const quiet = new Writable({ write(_c, _e, cb) { cb(); } });
  server = await startTenderServer({
    store: new MemoryStore(),
    logger: createLogger({ destination: quiet }),
    env: {
      PORT: '0',
      JWT_SECRET: SECRET,
      RECONCILE_INTERVAL: '0',
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_BASE_URL: stripe.url,
      STRIPE_RETRY_ATTEMPTS: '1',
      STRIPE_CIRCUIT_THRESHOLD: '3',
      STRIPE_CIRCUIT_MIN_REQUESTS: '3',
      STRIPE_CIRCUIT_OPEN: '60s',
      PAYPAL_CLIENT_ID: paypal.clientId,
      PAYPAL_CLIENT_SECRET: paypal.clientSecret,
      PAYPAL_WEBHOOK_ID: paypal.webhookId,
      PAYPAL_BASE_URL: paypal.url,
      // Outside simulation the sandbox's certificate is not trusted: PayPal's own verify API is asked.
      PAYPAL_WEBHOOK_VERIFICATION: 'online',
      GATEWAY_ROUTING: JSON.stringify([{ currencies: ['USD', 'EUR'], gateways: ['stripe', 'paypal'] }]),
    },
  });
  paypal.webhooks.configure({ url: `${server.url}/api/v1/webhooks/paypal` });
  token = await signToken({ secret: SECRET, merchantId: 'shop' });
});
afterAll(async () => {
  await server?.close();
  await Promise.allSettled([stripe?.close(), paypal?.close()]);
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};
const circuit = async (gateway: string) => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`tender_gateway_circuit_state\\{gateway="${gateway}"\\} (\\d)`).exec(text)?.[1]);
};

describe('routing by currency with failover (Stripe, then PayPal)', () => {
  it('prefers Stripe while it answers, takes PayPal once it does not, and never gives a card to PayPal', async () => {
    const first = await api('POST', '/api/v1/payments', { amount: '20.00', currency: 'USD' });
    expect(first.status).toBe(201);
    expect(first.body.gateway).toBe('stripe');
    // A currency no rule names goes to the configured gateways in order, among those that take it.
    expect((await api('POST', '/api/v1/payments', { amount: '20.00', currency: 'MYR' })).body.gateway).toBe('stripe');

    await stripe.close();
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await api('POST', '/api/v1/payments', { amount: '20.00', currency: 'USD' });
      expect(res.status).toBe(201);
      seen.push(res.body.gateway);
      expect(res.body).toMatchObject({ status: 'REQUIRES_ACTION', next_action: { type: 'redirect' } });
    }
    expect(seen).toEqual(['paypal', 'paypal', 'paypal', 'paypal']);
    expect(await circuit('stripe')).toBe(1);
    expect(await circuit('paypal')).toBe(0);

    // The failed-over payment is a real PayPal order: approved, it is captured through the webhook.
    const last = await api('POST', '/api/v1/payments', { amount: '21.00', currency: 'USD' });
    expect(last.body.gateway).toBe('paypal');
    await approveOrder(last.body.next_action.url, 'approve');
    const end = Date.now() + 10_000;
    let status = '';
    while (Date.now() < end && status !== 'CAPTURED') {
      status = (await api('GET', `/api/v1/payments/${last.body.id}`)).body.status;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('CAPTURED');

    // Only Stripe takes a card: with its circuit open that is a retryable 503 and nothing is stored.
    const before = (await api('GET', '/api/v1/payments?limit=100')).body.data.length;
    const card = await api('POST', '/api/v1/payments', { amount: '20.00', currency: 'USD', payment_method: 'card' });
    expect(card.status).toBe(503);
    expect(card.body.error).toMatchObject({ type: 'gateway_unavailable', code: 'circuit_open' });
    expect((await api('GET', '/api/v1/payments?limit=100')).body.data.length).toBe(before);
  });

  it("never routes a method to a gateway that does not declare it: a UPI body with no UPI gateway is a 400 naming payment_method", async () => {
    const before = (await api('GET', '/api/v1/payments?limit=100')).body.data.length;
    const res = await api('POST', '/api/v1/payments', { amount_paisa: 10000, currency: 'INR', payment_method: 'UPI', payment_details: { vpa: 'user@paytm' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'no_eligible_gateway', param: 'payment_method' });
    expect(res.body.error.message).toContain('UPI');
    expect((await api('GET', '/api/v1/payments?limit=100')).body.data.length).toBe(before);
  });
});
