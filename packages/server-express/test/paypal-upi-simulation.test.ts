/**
 * The PayPal and UPI gateways through the reference server in simulation mode: a create body in
 * paise with the common alias names (user_id, merchant_id, description, callback_url), its response fields, the sandbox UPI app paying the intent, a collect request to a VPA,
 * refunds in paise, and a PayPal order approved on the sandbox's approval page, all over sockets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { approveOrder } from '@tender/paypal/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';

let server: TenderServer;
let dir: string;
const logs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tender-pp-upi-'));
  const destination = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
  server = await startTenderServer({ env: { PORT: '0', TENDER_DATA_DIR: dir, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '100ms' }, logger: createLogger({ destination }) });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.devToken}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The payer's UPI app (the sandbox's page) answers the request, as a browser form post would. */
async function upiApp(paymentRazorpayId: string, action: 'approve' | 'decline'): Promise<number> {
  const url = server.simulation!.upi.upiAppUrl(paymentRazorpayId);
  const page = await fetch(url);
  expect(page.status).toBe(200);
  await page.text();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `action=${action}`, redirect: 'manual' });
  await res.arrayBuffer();
  return res.status;
}

// A UPI create body in paise with the common alias names, for the dev token's merchant.
const upiCreateBody = (extra: Record<string, unknown> = {}) => ({
  user_id: '123e4567-e89b-12d3-a456-426614174000',
  merchant_id: 'demo',
  amount_paisa: 10000,
  currency: 'INR',
  payment_method: 'UPI',
  description: 'Payment for order #12345',
  callback_url: 'https://merchant.example/webhook',
  metadata: { order_id: '12345', customer_email: 'user@example.com' },
  ...extra,
});

describe('UPI through the server (Razorpay sandbox)', () => {
  it("answers a paise create body with the UPI response fields: an intent link, its QR and expiry; paid in the UPI app it ends CAPTURED with the bank's references", async () => {
    const created = await api('POST', '/api/v1/payments', upiCreateBody());
    expect(created.status).toBe(201);
    const p = created.body;
    expect(p).toMatchObject({ payment_id: p.id, status: 'REQUIRES_ACTION', gateway: 'upi', amount: '100.00', currency: 'INR', amount_paisa: 10000, fees_paisa: 0 });
    expect(p.payment_url).toMatch(/^upi:\/\/pay\?/);
    const link = new URL(p.payment_url);
    expect(link.searchParams.get('am')).toBe('100.00');
    expect(link.searchParams.get('cu')).toBe('INR');
    expect(p.qr_code).toMatch(/^data:image\/png;base64,/);
    expect(Date.parse(p.expires_at)).toBeGreaterThan(Date.now());
    expect(p.created_at).toBeTruthy();
    expect(p.next_action).toMatchObject({ type: 'upi_intent', url: p.payment_url, qr_code: p.qr_code, expires_at: p.expires_at });
    expect(p.metadata).toMatchObject({ user_id: '123e4567-e89b-12d3-a456-426614174000', order_id: '12345' });

    const stored = await api('GET', `/api/v1/payments/${p.id}`);
    expect(await upiApp(stored.body.gateway_reference, 'approve')).toBeLessThan(400);
    const paid = await until(() => api('GET', `/api/v1/payments/${p.id}`), (r) => r.body.status === 'CAPTURED');
    expect(paid.body).toMatchObject({ status: 'CAPTURED', amount_captured: '100.00', amount_paisa: 10000 });
    expect(paid.body.external_txn_id).toEqual(expect.any(String));
    expect(paid.body.gateway_response.rrn).toMatch(/^\d{12}$/);
    expect(paid.body.payment_url).toBeUndefined();
    expect(typeof paid.body.fees_paisa).toBe('number');

    // A refund body in paise, with reason and metadata.
    const refund = await api('POST', `/api/v1/payments/${p.id}/refund`, { amount_paisa: 4000, reason: 'Customer requested refund', metadata: { refund_request_id: 'REF123' } });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ amount: '40.00', amount_minor: 4000, currency: 'INR', reason: 'Customer requested refund', metadata: { refund_request_id: 'REF123' } });
    const over = await api('POST', `/api/v1/payments/${p.id}/refund`, { amount_paisa: 6001 });
    expect(over.status).toBe(400);
    const after = await api('GET', `/api/v1/payments/${p.id}`);
    expect(after.body.amount_refunded).toBe('40.00');
  });

  it('sends a collect request to payment_details.vpa; a decline in the app fails it', async () => {
    const created = await api('POST', '/api/v1/payments', upiCreateBody({ payment_details: { vpa: 'success@razorpay' } }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'REQUIRES_ACTION', gateway: 'upi', next_action: { type: 'upi_collect', vpa: 'success@razorpay' } });
    // A collect request has no link to pay: paying goes through the payer's app only.
    expect(created.body.payment_url).toBeUndefined();
    expect(Date.parse(created.body.expires_at)).toBeGreaterThan(Date.now());
    expect(await upiApp(created.body.gateway_reference, 'decline')).toBeLessThan(400);
    const failed = await until(() => api('GET', `/api/v1/payments/${created.body.id}`), (r) => r.body.status === 'FAILED');
    expect(failed.body.status).toBe('FAILED');
    // The VPA is personal data: never in a log line in clear.
    expect(logs.join('')).not.toContain('success@razorpay');
  });

  it('refuses UPI in another currency, and another merchant in merchant_id, before anything is stored', async () => {
    const before = (await api('GET', '/api/v1/payments?limit=100')).body.data.length;
    const usd = await api('POST', '/api/v1/payments', upiCreateBody({ currency: 'USD' }));
    expect(usd.status).toBe(400);
    expect(usd.body.error).toMatchObject({ type: 'invalid_request_error', param: 'payment_method' });
    expect(usd.body.error.message).toContain('UPI');
    const other = await api('POST', '/api/v1/payments', upiCreateBody({ merchant_id: '123e4567-e89b-12d3-a456-426614174001' }));
    expect(other.status).toBe(403);
    expect((await api('GET', '/api/v1/payments?limit=100')).body.data.length).toBe(before);
  });
});

describe('PayPal through the server (PayPal sandbox)', () => {
  it('answers the approval link, and the approved order is captured through the signed webhook', async () => {
    const created = await api('POST', '/api/v1/payments', { amount: '15.00', currency: 'USD', payment_method: 'paypal', return_url: 'https://merchant.example/back' }, { 'idempotency-key': 'pp-1' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'REQUIRES_ACTION', gateway: 'paypal', next_action: { type: 'redirect' } });
    const back = await approveOrder(created.body.next_action.url, 'approve');
    expect(back).toContain('https://merchant.example/back');
    const paid = await until(() => api('GET', `/api/v1/payments/${created.body.id}`), (r) => r.body.status === 'CAPTURED');
    expect(paid.body).toMatchObject({ status: 'CAPTURED', amount_captured: '15.00' });
    const refund = await api('POST', `/api/v1/payments/${created.body.id}/refund`, { amount: '5.00' });
    expect(refund.status).toBe(201);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/webhook_events_total\{gateway="paypal",outcome="(applied|requeried)"\} \d/);
  });

  it('refuses a decimal amount in a currency PayPal takes whole (JPY) before anything is stored', async () => {
    const res = await api('POST', '/api/v1/payments', { amount: '100.50', currency: 'JPY', gateway: 'paypal' });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
  });
});
