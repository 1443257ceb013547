/**
 * `GET /api/v1/events` and the payment list's gateway and date filters over HTTP on loopback: the
 * merchant's events newest first, each as `GET /events/:id` answers it, filtered by delivery state,
 * type and payment, paged by cursor; a dead event redelivered shows pending; 400s for bad queries;
 * another merchant sees none of them; the read scope is enough to list.
 */
import { createTestGateway } from '@tender/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers';

let h: Harness;
const ids: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness({ gateways: [createTestGateway({ id: 'alpha' }), createTestGateway({ id: 'beta' })] });
  for (const [name, gateway] of [['a1', 'alpha'], ['b1', 'beta'], ['a2', 'alpha']] as const) {
    const res = await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR', payment_method: 'card', gateway } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids[name] = res.body.id;
  }
  // No dispatcher runs in this harness: deliver the first payment's events, dead-letter the second's.
  const rows = await h.store.claimOutbox({ limit: 100, now: new Date().toISOString(), leaseUntil: new Date(Date.now() + 60_000).toISOString() });
  for (const row of rows) {
    if (row.paymentId === ids.a1) await h.store.completeOutbox(row.id, { status: 'delivered', at: new Date().toISOString() });
    else if (row.paymentId === ids.b1) await h.store.completeOutbox(row.id, { status: 'dead', error: 'HTTP 500' });
  }
});
afterAll(async () => {
  await h?.close();
});

describe('GET /api/v1/events', () => {
  it("lists the merchant's events newest first, each as GET /events/:id answers it, by page", async () => {
    const all = await h.call('GET', '/api/v1/events?limit=100');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    const events = all.body.data as any[];
    expect(events.length).toBeGreaterThanOrEqual(3);
    const paymentOrder = [...new Set(events.map((e) => e.data?.object?.id ?? e.data?.id))];
    expect(paymentOrder.slice(0, 3)).toEqual([ids.a2, ids.b1, ids.a1]);
    for (const e of events) expect((await h.call('GET', `/api/v1/events/${e.id}`)).body).toEqual(e);

    const first = await h.call('GET', '/api/v1/events?limit=1');
    expect(first.body).toMatchObject({ has_more: true, next_cursor: events[0].id });
    const second = await h.call('GET', `/api/v1/events?limit=1&starting_after=${first.body.next_cursor}`);
    expect(second.body.data.map((e: any) => e.id)).toEqual([events[1].id]);
  });

  it('filters by delivery state, type and payment; a dead event redelivered is pending again', async () => {
    const dead = await h.call('GET', '/api/v1/events?delivery_status=dead');
    expect(dead.body.data.length).toBeGreaterThan(0);
    for (const e of dead.body.data) expect(e.delivery).toMatchObject({ status: 'dead', attempts: 1, last_error: 'HTTP 500' });
    const delivered = await h.call('GET', '/api/v1/events?delivery_status=delivered');
    expect(delivered.body.data.every((e: any) => e.delivery.status === 'delivered' && e.delivery.delivered_at !== null)).toBe(true);
    const forA1 = await h.call('GET', `/api/v1/events?payment_id=${ids.a1}`);
    expect(forA1.body.data.map((e: any) => e.id).sort()).toEqual(delivered.body.data.map((e: any) => e.id).sort());
    const type = dead.body.data[0].type as string;
    const byType = await h.call('GET', `/api/v1/events?type=${type}&limit=100`);
    expect(byType.body.data.every((e: any) => e.type === type)).toBe(true);

    const target = dead.body.data[0].id as string;
    expect((await h.call('POST', `/api/v1/events/${target}/redeliver`)).status).toBe(202);
    const after = await h.call('GET', '/api/v1/events?delivery_status=dead');
    expect(after.body.data.map((e: any) => e.id)).not.toContain(target);
    expect((await h.call('GET', '/api/v1/events?delivery_status=pending&limit=100')).body.data.map((e: any) => e.id)).toContain(target);
  });

  it("answers 400 for a bad query, none of another merchant's events, and needs only payments:read", async () => {
    for (const [query, param] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['starting_after=not%20an%20id', 'starting_after'],
      ['delivery_status=lost', 'delivery_status'],
      ['type=%3Cscript%3E', 'type'],
    ] as const) {
      const res = await h.call('GET', `/api/v1/events?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.param, query).toBe(param);
    }
    const other = await h.token('m2');
    const theirs = await h.call('GET', '/api/v1/events', { token: other });
    expect(theirs.body.data).toEqual([]);
    const mine = (await h.call('GET', '/api/v1/events?limit=1')).body.data[0].id;
    expect((await h.call('GET', `/api/v1/events?starting_after=${mine}`, { token: other })).body.data).toEqual([]);
    const reader = await h.token('m1', ['payments:read']);
    expect((await h.call('GET', '/api/v1/events', { token: reader })).status).toBe(200);
    expect((await h.call('GET', '/api/v1/events', { token: await h.token('m1', ['refunds:write']) })).status).toBe(403);
  });
});

describe('GET /api/v1/payments filters', () => {
  it('filters by gateway and a creation window (created_from inclusive, created_before exclusive)', async () => {
    const alpha = await h.call('GET', '/api/v1/payments?gateway=alpha');
    expect(alpha.body.data.map((p: any) => p.id)).toEqual([ids.a2, ids.a1]);
    const b1 = await h.call('GET', `/api/v1/payments/${ids.b1}`);
    const created = b1.body.created_at as string;
    const window = await h.call('GET', `/api/v1/payments?gateway=beta&created_from=${encodeURIComponent(created)}`);
    expect(window.body.data.map((p: any) => p.id)).toEqual([ids.b1]);
    expect((await h.call('GET', `/api/v1/payments?gateway=beta&created_before=${encodeURIComponent(created)}`)).body.data).toEqual([]);
    const today = created.slice(0, 10);
    const day = await h.call('GET', `/api/v1/payments?created_from=${today}&limit=100`);
    expect(day.body.data.map((p: any) => p.id)).toEqual(expect.arrayContaining([ids.a1, ids.b1, ids.a2]));
    const page = await h.call('GET', `/api/v1/payments?gateway=alpha&created_from=${today}&limit=1`);
    expect(page.body).toMatchObject({ has_more: true, next_cursor: ids.a2 });
  });

  it('answers 400 for a malformed gateway or bound, or a window that ends before it starts', async () => {
    for (const [query, param] of [
      ['gateway=%20', 'gateway'],
      ['created_from=yesterday', 'created_from'],
      ['created_before=2026-02-30', 'created_before'],
      ['created_from=2026-03-02&created_before=2026-03-01', 'created_before'],
    ] as const) {
      const res = await h.call('GET', `/api/v1/payments?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.param, query).toBe(param);
    }
  });
});
