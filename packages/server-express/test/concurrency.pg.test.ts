import { createTestGateway } from '@tender/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers';
import { dropSchema, freshSchema, pgStore } from './pg';

const schema = freshSchema('srv_conc');
let h: Harness;
let store: Awaited<ReturnType<typeof pgStore>>;
const gateway = createTestGateway({ latencyMs: 20 });

beforeAll(async () => {
  store = await pgStore(schema, 20);
  h = await startHarness({ store, gateway });
});
afterAll(async () => {
  await h?.close();
  await store?.close();
  await dropSchema(schema);
});

describe('concurrency over real sockets and Postgres', () => {
  it('50 concurrent creates with one key: one payment, one gateway call, everyone gets it', async () => {
    const before = gateway.calls.createPayment ?? 0;
    const body = { amount: '77.70', currency: 'MYR', order_id: 'CONC-1' };
    const results = await Promise.all(Array.from({ length: 50 }, () => h.call('POST', '/api/v1/payments', { body, headers: { 'idempotency-key': 'conc-key-1' } })));
    const ok = results.filter((r) => r.status === 201);
    const inFlight = results.filter((r) => r.status === 409);
    expect(ok.length + inFlight.length).toBe(50);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of inFlight) expect(r.body.error.type).toBe('idempotency_error');
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
    expect((gateway.calls.createPayment ?? 0) - before).toBe(1);
    const listed = await h.call('GET', '/api/v1/payments?order_id=CONC-1');
    expect(listed.body.data).toHaveLength(1);
    // After completion every retry is a replay of the same payment.
    const again = await h.call('POST', '/api/v1/payments', { body, headers: { 'idempotency-key': 'conc-key-1' } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(ok[0]!.body.id);
    const other = await h.call('POST', '/api/v1/payments', { body: { ...body, amount: '77.71' }, headers: { 'idempotency-key': 'conc-key-1' } });
    expect(other.status).toBe(422);
  });

  it('20 concurrent over-refunds never exceed the captured amount', async () => {
    const p = await h.call('POST', '/api/v1/payments', { body: { amount: '100.00', currency: 'MYR' } });
    expect(p.body.status).toBe('CAPTURED');
    const results = await Promise.all(Array.from({ length: 20 }, () => h.call('POST', `/api/v1/payments/${p.body.id}/refund`, { body: { amount: '30.00' } })));
    const ok = results.filter((r) => r.status === 201);
    expect(ok).toHaveLength(3);
    for (const r of results) expect([201, 400, 409]).toContain(r.status);
    const payment = await h.call('GET', `/api/v1/payments/${p.body.id}`);
    expect(payment.body.amount_refunded).toBe('90.00');
    const refunds = await h.call('GET', `/api/v1/payments/${p.body.id}/refunds`);
    expect(refunds.body.data).toHaveLength(3);
  });
});
