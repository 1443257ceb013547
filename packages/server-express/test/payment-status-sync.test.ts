/**
 * `GET /api/v1/payments/:id/status` asks the gateway for an open payment: a PayPal buyer
 * back from the approval page sees CAPTURED even when no webhook arrives, while `GET /payments/:id`
 * answers what is stored. Only PayPal's own answer moves the payment.
 */
import { Writable } from 'node:stream';
import { MemoryStore } from '@tender/core/testing';
import { approveOrder, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';

const SECRET = 'status-secret-status-secret-status-0123456';
let paypal: PayPalSandbox;
let server: TenderServer;
let token: string;

beforeAll(async () => {
  // No webhook endpoint: PayPal's notifications never reach the server.
  paypal = await startPayPalSandbox();
  server = await startTenderServer({
    store: new MemoryStore(),
    logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    env: { PORT: '0', JWT_SECRET: SECRET, RECONCILE_INTERVAL: '0', PAYPAL_CLIENT_ID: paypal.clientId, PAYPAL_CLIENT_SECRET: paypal.clientSecret, PAYPAL_WEBHOOK_ID: paypal.webhookId, PAYPAL_BASE_URL: paypal.url, PAYPAL_WEBHOOK_VERIFICATION: 'online' },
  });
  token = await signToken({ secret: SECRET, merchantId: 'shop' });
});
afterAll(async () => {
  await server?.close();
  await paypal?.close();
});

const api = async (path: string, body?: unknown, merchantToken = token) => {
  const res = await fetch(`${server.url}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${merchantToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};

describe('GET /api/v1/payments/:id/status', () => {
  it("completes an approved PayPal order from PayPal's own answer, with no webhook", async () => {
    const created = await api('/api/v1/payments', { amount: '9.00', currency: 'USD', payment_method: 'paypal', return_url: 'https://merchant.example/back' });
    expect(created.status).toBe(201);
    // Not approved yet: the gateway says so, nothing changes.
    expect((await api(`/api/v1/payments/${created.body.id}/status`)).body.status).toBe('REQUIRES_ACTION');
    await approveOrder(created.body.next_action.url, 'approve');
    expect((await api(`/api/v1/payments/${created.body.id}`)).body.status).toBe('REQUIRES_ACTION');
    // At most one requery per payment every 2 s: poll as a return page would.
    const end = Date.now() + 10_000;
    let status = '';
    while (status !== 'CAPTURED' && Date.now() < end) {
      status = (await api(`/api/v1/payments/${created.body.id}/status`)).body.status;
      if (status !== 'CAPTURED') await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe('CAPTURED');
    expect((await api(`/api/v1/payments/${created.body.id}`)).body).toMatchObject({ status: 'CAPTURED', amount_captured: '9.00' });
  });

  it("is the merchant's own: another merchant gets 404, and a payment id that is no id is 404", async () => {
    const created = await api('/api/v1/payments', { amount: '9.00', currency: 'USD', payment_method: 'paypal' });
    const other = await api(`/api/v1/payments/${created.body.id}/status`, undefined, await signToken({ secret: SECRET, merchantId: 'other' }));
    expect(other.status).toBe(404);
    expect((await api('/api/v1/payments/..%2F..%2Fetc/status')).status).toBe(404);
  });
});
