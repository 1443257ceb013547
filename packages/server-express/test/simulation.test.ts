import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTenderServer, type TenderServer } from '../src/server';
import { createLogger } from '../src/logging';
import { Writable } from 'node:stream';

let server: TenderServer;
let dir: string;
const logs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tender-sim-'));
  const destination = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
  server = await startTenderServer({ env: {
      PORT: '0',
      TENDER_DATA_DIR: dir,
      RECONCILE_INTERVAL: '0',
      OUTBOX_INTERVAL: '100ms',
    }, logger: createLogger({ destination }) });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.devToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('simulation mode (PGlite, Fiuu + Stripe sandboxes)', () => {
  it('says so loudly and hands out a dev token', () => {
    expect(server.simulation).not.toBeNull();
    expect(server.devToken).toMatch(/^ey/);
    expect(logs.join('')).toContain('SIMULATION MODE');
  });

  it('completes a Fiuu seamless checkout: config -> hosted page -> notification -> CAPTURED', async () => {
    const res = await fetch(`${server.url}/api/v1/payments/seamless/config?order_id=SIM-1&amount=100.50&payment_method=FPX&bill_name=Jane&bill_email=jane@example.com`, {
      headers: { authorization: `Bearer ${server.devToken}` },
    });
    const config = (await res.json()) as any;
    expect(res.status).toBe(201);
    expect(config.status).toBe(true);
    expect(config.tender.paymentId).toMatch(/^pay_/);
    expect(config.mpsmerchantid).toBe('SB_tender_simulation');
    const outcome = await completeHostedPayment({ url: config.tender.paymentUrl, fields: config.tender.fields }, 'approve', { followReturn: true });
    expect(outcome.returnResponse?.status).toBe(200);
    expect(outcome.returnResponse?.body).toContain('tender-fiuu');
    const payment = await until(() => api('GET', `/api/v1/payments/${config.tender.paymentId}`), (r) => r.body.status === 'CAPTURED');
    expect(payment.body).toMatchObject({ status: 'CAPTURED', amount: '100.50', gateway: 'fiuu', order_id: 'SIM-1' });
    const refund = await api('POST', `/api/v1/payments/${config.tender.paymentId}/refund`, { amount: '10.50' });
    expect(refund.status).toBe(201);
  });

  it('charges a card through the Stripe sandbox', async () => {
    const res = await api('POST', '/api/v1/payments', { amount: '25.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'CAPTURED', gateway: 'stripe' });
    expect(res.body.gateway_reference).toMatch(/^pi_/);
    const declined = await api('POST', '/api/v1/payments', { amount: '25.00', currency: 'MYR', payment_method: 'pm_card_chargeDeclined', gateway: 'stripe' });
    expect(declined.body.status).toBe('FAILED');
  });

  it('serves the demo page, the browser bundle and the demo API', async () => {
    const page = await fetch(`${server.url}/demo`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('TenderFiuu.checkout');
    const bundle = await fetch(`${server.url}/demo/tender-fiuu.iife.js`);
    expect(bundle.status).toBe(200);
    const card = await fetch(`${server.url}/demo/api/stripe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: '12.00', payment_method: 'pm_card_visa' }) });
    expect(((await card.json()) as any).status).toBe('CAPTURED');
  });

  it("has demo prices in the Stripe sandbox: seed 003's subscription body works with one", async () => {
    const prices = server.simulation!.stripe.prices;
    expect(prices.map((p) => p.description)).toEqual(['USD 10.00 a month', 'USD 100.00 a year']);
    const created = await api('POST', '/api/v1/subscriptions', { user_id: 'user_123', price_id: prices[0]!.id, payment_method: 'pm_card_visa', trial_days: 14 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'subscription', status: 'trialing', price_id: prices[0]!.id, amount: '10.00', currency: 'USD', interval: 'month' });
    const listed = await api('GET', '/api/v1/users/user_123/subscriptions');
    expect(listed.body.data.map((s: { id: string }) => s.id)).toContain(created.body.id);
  });

  it('is ready (PGlite migrated) and exposes metrics', async () => {
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('tender_gateway_circuit_state{gateway="fiuu"} 0');
    expect(metrics).toMatch(/webhook_events_total\{gateway="fiuu",outcome="applied"\} \d/);
  });
});
