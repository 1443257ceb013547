import { Writable } from 'node:stream';
import { MemoryStore } from '@tender/core/testing';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startTenderServer, type TenderServer } from '@tender/server-express';

let server: TenderServer;

beforeAll(async () => {
  server = await startTenderServer({
    env: { PORT: '0', RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h' },
    logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    store: new MemoryStore(),
  });
});
afterAll(async () => {
  await server?.close();
});

const headers = () => ({ authorization: `Bearer ${server.devToken}` });
async function config(query: string) {
  const res = await fetch(`${server.url}/api/v1/payments/seamless/config?${query}`, { headers: headers() });
  return { status: res.status, body: (await res.json()) as any };
}
async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, { method, headers: { ...headers(), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as any };
}
const paymentsOf = async (orderId: string) => (await api('GET', `/api/v1/payments?order_id=${orderId}&limit=100`)).body.data as Array<{ id: string; status: string; amount: string }>;

describe('GET /api/v1/payments/seamless/config with an amount', () => {
  it('reuses the open payment of the order on every reload, the one a POST made included', async () => {
    const created = await api('POST', '/api/v1/payments', { order_id: 'SEAM-1', amount: '100.50', currency: 'MYR', payment_method: 'FPX', gateway: 'fiuu' });
    expect(created.status).toBe(201);
    const first = await config('order_id=SEAM-1&amount=100.50&payment_method=FPX');
    const second = await config('order_id=SEAM-1&amount=100.5&currency=myr&payment_method=fpx');
    for (const answer of [first, second]) {
      expect(answer.status).toBe(200);
      expect(answer.body.status).toBe(true);
      expect(answer.body.tender.paymentId).toBe(created.body.id);
    }
    expect((await paymentsOf('SEAM-1')).map((p) => p.id)).toEqual([created.body.id]);
  });

  it('starts one payment for a new order (201), then answers it again (200)', async () => {
    const first = await config('order_id=SEAM-2&amount=20.00&payment_method=FPX&bill_name=Jane');
    expect(first.status).toBe(201);
    const again = await config('order_id=SEAM-2&amount=20.00&payment_method=FPX&bill_name=Jane');
    expect(again.status).toBe(200);
    expect(again.body.tender.paymentId).toBe(first.body.tender.paymentId);
    expect(again.body.mpsorderid).toBe('SEAM-2');
    expect(await paymentsOf('SEAM-2')).toHaveLength(1);
  });

  it('makes one payment between concurrent reloads', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_v, i) => config(`order_id=SEAM-3&amount=30.00&payment_method=FPX&bill_name=${i % 2 ? 'Jane' : 'John'}`)));
    for (const a of answers) expect([200, 201]).toContain(a.status);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.tender.paymentId)).size).toBe(1);
    expect(await paymentsOf('SEAM-3')).toHaveLength(1);
  });

  it('starts another payment for another amount or method, and after the open one is cancelled', async () => {
    const a = await config('order_id=SEAM-4&amount=40.00&payment_method=FPX');
    const b = await config('order_id=SEAM-4&amount=41.00&payment_method=FPX');
    const c = await config('order_id=SEAM-4&amount=40.00&payment_method=GRABPAY');
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect(new Set([a, b, c].map((x) => x.body.tender.paymentId)).size).toBe(3);
    expect((await api('POST', `/api/v1/payments/${a.body.tender.paymentId}/cancel`)).body.status).toBe('CANCELLED');
    const retry = await config('order_id=SEAM-4&amount=40.00&payment_method=FPX');
    expect(retry.status).toBe(201);
    expect(retry.body.tender.paymentId).not.toBe(a.body.tender.paymentId);
    expect((await config('order_id=SEAM-4&amount=40.00&payment_method=FPX')).body.tender.paymentId).toBe(retry.body.tender.paymentId);
    expect(await paymentsOf('SEAM-4')).toHaveLength(4);
  });

  it('does not start a second checkout for an order already paid (409), and changes nothing', async () => {
    const open = await config('order_id=SEAM-5&amount=50.00&payment_method=FPX');
    await completeHostedPayment({ url: open.body.tender.paymentUrl, fields: open.body.tender.fields }, 'approve', { followReturn: true });
    for (let i = 0; i < 100 && (await api('GET', `/api/v1/payments/${open.body.tender.paymentId}`)).body.status !== 'CAPTURED'; i++) await new Promise((r) => setTimeout(r, 50));
    const reload = await config('order_id=SEAM-5&amount=50.00&payment_method=FPX');
    expect(reload.status).toBe(409);
    expect(reload.body).toMatchObject({ status: false, error: { code: 'order_already_paid', param: 'order_id' } });
    expect(reload.body.error.message).toContain(open.body.tender.paymentId);
    expect(await paymentsOf('SEAM-5')).toHaveLength(1);
  });

  it('needs an order id (or an Idempotency-Key) to start a payment', async () => {
    const missing = await config('amount=10.00&payment_method=FPX');
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_missing', param: 'order_id' });
    const keyed = await fetch(`${server.url}/api/v1/payments/seamless/config?amount=10.00&payment_method=FPX`, { headers: { ...headers(), 'idempotency-key': 'seamless-no-order-1' } });
    expect(keyed.status).toBe(201);
    const replay = await fetch(`${server.url}/api/v1/payments/seamless/config?amount=10.00&payment_method=FPX`, { headers: { ...headers(), 'idempotency-key': 'seamless-no-order-1' } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as any).tender.paymentId).toBe(((await keyed.json()) as any).tender.paymentId);
  });
});
