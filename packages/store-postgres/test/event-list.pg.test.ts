/**
 * The plans of a merchant's event list (`listOutboxEvents`, migration 15's index) and of the payment
 * list's gateway and date filters: every shape the store sends, explained as a generic plan (what a
 * store-owned pool runs) on tables of tens of thousands of rows of many merchants, reads an index range
 * of the merchant, never the whole table.
 */
import { createPostgresStore } from '@tender/store-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, genericPlan, recordingPool, testPool, uniqueSchema, type SentStatement } from './helpers';

let pool: pg.Pool;
const schema = uniqueSchema('evlist');
beforeAll(async () => {
  pool = await testPool({ max: 2 });
});
afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

describe('event list and payment filters on Postgres', () => {
  it('plans every filter shape as an index range of the merchant, with no sequential scan', async () => {
    const sent: SentStatement[] = [];
    const recording = recordingPool(sent);
    const store = await createPostgresStore({ pool: recording, schema });
    try {
      const s = `"${schema}"`;
      await pool.query(`INSERT INTO ${s}.payments (id, merchant_id, order_id, status, amount, currency, capture_method, gateway, gateway_reference, created_at, updated_at, version)
        SELECT 'pay_' || g, 'm_' || (g % 50), 'ORD-' || g, 'CAPTURED', 10, 'MYR', 'manual', (ARRAY['stripe','paypal','fiuu'])[1 + g % 3], 'ref_' || g,
          now() - g * interval '1 second', now() - g * interval '1 second', 1
        FROM generate_series(1, 30000) g`);
      await pool.query(`INSERT INTO ${s}.outbox_events (id, merchant_id, type, payment_id, data, created_at, status, next_attempt_at, aggregateid, relay_status, relay_next_attempt_at)
        SELECT 'evt_' || g, 'm_' || (g % 50), 'payment.captured', 'pay_' || g, '{}', now() - g * interval '1 second',
          (ARRAY['delivered','dead','pending'])[1 + g % 3], now(), 'pay_' || g, 'published', now()
        FROM generate_series(1, 30000) g`);
      await pool.query(`ANALYZE ${s}.payments, ${s}.outbox_events`);

      sent.length = 0;
      const page = await store.listOutboxEvents({ merchantId: 'm_1', limit: 20 });
      expect(page).toHaveLength(20);
      const cursor = page[19]!.id;
      const dead = await store.listOutboxEvents({ merchantId: 'm_1', limit: 20, deliveryStatus: 'dead', startingAfter: cursor });
      expect(dead.every((r) => r.status === 'dead' && r.merchantId === 'm_1')).toBe(true);
      await store.listOutboxEvents({ merchantId: 'm_1', limit: 20, type: 'payment.captured' });
      expect((await store.listOutboxEvents({ merchantId: 'm_1', limit: 20, paymentId: 'pay_51' })).map((r) => r.id)).toEqual(['evt_51']);
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const before = new Date().toISOString();
      const stripe = await store.listPayments({ merchantId: 'm_1', limit: 20, gateway: 'stripe', createdFrom: from, createdBefore: before });
      expect(stripe.length).toBeGreaterThan(0);
      expect(stripe.every((p) => p.gateway === 'stripe' && p.createdAt >= from && p.createdAt < before)).toBe(true);
      await store.listPayments({ merchantId: 'm_1', limit: 20, createdFrom: from, startingAfter: stripe[0]!.id });

      const statements = new Map<string, unknown[]>();
      for (const { text, values } of sent) if (/outbox_events|payments/.test(text) && !statements.has(text)) statements.set(text, values);
      expect(statements.size).toBe(6);
      const plans: string[] = [];
      const client = await pool.connect();
      try {
        for (const [text, values] of statements) plans.push(await genericPlan(client, { text, values }));
      } finally {
        client.release();
      }
      expect(plans.filter((plan) => /Seq Scan on (payments|outbox_events)\b/.test(plan))).toEqual([]);
      const eventPlans = plans.filter((plan) => /outbox_events/.test(plan));
      expect(eventPlans).toHaveLength(4);
      // The payment filter reads its one row by payment index; the others walk the merchant's range.
      expect(eventPlans.filter((plan) => /outbox_events_merchant_created_idx/.test(plan)).length).toBeGreaterThanOrEqual(3);
    } finally {
      await store.close();
      await recording.end();
    }
  });
});
