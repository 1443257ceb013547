/**
 * The outbox row's snapshot stored once (migration 9): with the default envelope, whose `data` is the
 * engine's snapshot, the row leaves its `data` column NULL and the store reads the snapshot from the
 * payload; a payload of another shape, or none, keeps `data` as before.
 */
import { createTender, eventEnvelope, type OutboxEvent } from '@tender/core';
import { createTestGateway } from '@tender/core/testing';
import { createPostgresStore, type PostgresStore } from '@tender/store-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testPool, uniqueSchema } from './helpers';

// One test gateway for the file: its references count from 1 per instance, and are unique per store.
const gateway = createTestGateway();
let pool: pg.Pool;
let store: PostgresStore;
const schema = uniqueSchema('snap');
beforeAll(async () => {
  pool = await testPool({ max: 4 });
  store = await createPostgresStore({ pool, schema });
});
afterAll(async () => {
  await store.close();
  await dropSchema(pool, schema);
  await pool.end();
});

const body = { amount: '100.50', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual' as const, customer: { email: 'ana@example.com', name: 'Ana' } };

async function columns(paymentId: string): Promise<Array<{ id: string; data: unknown; payload: { data?: unknown } | null }>> {
  const { rows } = await pool.query(`SELECT id, data, payload FROM "${schema}".outbox_events WHERE payment_id = $1 ORDER BY seq`, [paymentId]);
  return rows;
}

describe('outbox rows with the default envelope', () => {
  it('store the snapshot once, in the payload, and read it back as the event\'s data', async () => {
    const tender = createTender({ gateways: [gateway], store });
    const published: OutboxEvent[] = [];
    tender.events.on((e) => published.push(e));
    const p = await tender.payments.create({ ...body, orderId: 'ORD-once' });
    await tender.payments.capture(p.id);
    const stored = await columns(p.id);
    expect(stored).toHaveLength(published.length);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    for (const [i, row] of stored.entries()) {
      expect(row.data).toBeNull();
      expect(row.payload!.data).toEqual(published[i]!.data);
      const read = (await store.getOutboxEvent(row.id))!;
      expect(read.data).toEqual(published[i]!.data);
      expect(read.payload).toEqual(published[i]!.payload);
    }
    const now = new Date(Date.now() + 60_000);
    const claimed = await store.claimOutbox({ now: now.toISOString(), limit: 100, leaseUntil: new Date(now.getTime() + 30_000).toISOString() });
    const mine = claimed.filter((r) => r.paymentId === p.id);
    expect(mine.map((r) => r.data)).toEqual(published.map((e) => e.data));
  });

  it('keep the snapshot anonymised in the payload when the payment is anonymised', async () => {
    const tender = createTender({ gateways: [gateway], store });
    const p = await tender.payments.create({ ...body, orderId: 'ORD-anon' });
    await store.anonymizePayments({ createdBefore: new Date(Date.now() + 60_000).toISOString(), limit: 100 });
    for (const row of await columns(p.id)) {
      expect(row.data).toBeNull();
      const read = (await store.getOutboxEvent(row.id))!;
      expect(JSON.stringify(read.data)).not.toContain('ana@example.com');
      expect(read.data).toEqual(read.payload!.data);
      expect(read.data).toMatchObject({ id: p.id });
    }
  });
});

describe('outbox rows with a payload of their own', () => {
  it('keep the engine\'s snapshot in data beside the published document', async () => {
    const tender = createTender({
      gateways: [gateway],
      store,
      eventPayload: (event) => eventEnvelope(event, { id: event.paymentId, shape: 'api' }) as unknown as Record<string, unknown>,
    });
    const published: OutboxEvent[] = [];
    tender.events.on((e) => published.push(e));
    const p = await tender.payments.create({ ...body, orderId: 'ORD-own' });
    for (const [i, row] of (await columns(p.id)).entries()) {
      expect(row.data).toEqual(published[i]!.data);
      expect(row.payload!.data).toEqual({ id: p.id, shape: 'api' });
      expect((await store.getOutboxEvent(row.id))!.data).toEqual(published[i]!.data);
    }
  });

  it('and rows without a payload keep their snapshot', async () => {
    const event = { id: `evt_snap_${Date.now()}`, merchantId: 'default', type: 'payment.noted', paymentId: null, refundId: null, data: { note: 'kept' }, payload: null, createdAt: new Date().toISOString() };
    await store.transaction((tx) => tx.enqueueOutbox(event));
    expect((await store.getOutboxEvent(event.id))!.data).toEqual({ note: 'kept' });
  });
});
