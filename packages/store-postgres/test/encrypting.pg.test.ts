/**
 * The encrypting store wrapper around PostgresStore on node-postgres: the whole Store conformance
 * suite through it, and a key rotation running while payments are written concurrently.
 */
import { randomBytes } from 'node:crypto';
import { createEncryptingStore, createTender, keyIdOf, parseEncryptionKey } from '@tender/core';
import { createTestGateway, runStoreConformance, waitFor } from '@tender/core/testing';
import { createPostgresStore } from '@tender/store-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testPool, uniqueSchema } from './helpers';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await testPool({ max: 12 });
});
afterAll(async () => {
  await pool.end();
});

const newKey = (id: string) => parseEncryptionKey(`${id}:${randomBytes(32).toString('base64')}`);

runStoreConformance('EncryptingStore over PostgresStore (node-postgres)', async () => {
  const schema = uniqueSchema('enc');
  const inner = await createPostgresStore({ pool, schema });
  const key = newKey('k1');
  const store = createEncryptingStore(inner, { keys: [key], activeKeyId: 'k1' });
  return {
    store,
    teardown: async () => {
      await store.close();
      await dropSchema(pool, schema);
    },
  };
});

describe('EncryptingStore over PostgresStore', () => {
  it('rotates every row to the new key while payments keep being made and refunded', async () => {
    const schema = uniqueSchema('encrot');
    const inner = await createPostgresStore({ pool, schema });
    try {
      const oldKey = newKey('old');
      const nextKey = newKey('new');
      const gateway = createTestGateway();
      const before = createTender({ gateways: [gateway], store: createEncryptingStore(inner, { keys: [oldKey], activeKeyId: 'old' }) });
      const body = (i: number) => ({ amount: '10.00', currency: 'MYR', paymentMethod: 'card', orderId: `ORD-${i}`, customer: { email: `buyer${i}@example.com`, name: `Buyer ${i}` } });
      for (let i = 0; i < 40; i++) await before.payments.create(body(i), { idempotencyKey: `k-${i}` });

      // The running servers already have both keys, the new one active.
      const during = createEncryptingStore(inner, { keys: [oldKey, nextKey], activeKeyId: 'new' });
      const live = createTender({ gateways: [gateway], store: during });
      let stop = false;
      let n = 100;
      const traffic = (async () => {
        while (!stop) {
          const p = await live.payments.create(body(n), { idempotencyKey: `k-${n}` });
          await live.payments.refund(p.id, { amount: '1.00' });
          // An old row read and written by the engine during the rotation.
          const old = await live.payments.get((await inner.listPayments({ merchantId: 'default', limit: 1, status: 'CAPTURED' }))[0]!.id);
          if (old.amountRefunded === '0.00') await live.payments.refund(old.id, { amount: '1.00' });
          n++;
        }
        return n - 100;
      })();
      // The rotation starts once traffic is flowing and runs beside it.
      await waitFor(() => n >= 102, 'traffic to flow');
      const report = await during.rotateKeys({ batchSize: 7 });
      stop = true;
      const made = await traffic;
      expect(made).toBeGreaterThan(2);
      expect(report.failed).toEqual([]);
      for (const kind of ['payments', 'refunds', 'outbox', 'idempotency'] as const) expect(report.counts[kind].remaining).toBe(0);
      expect(report.counts.payments.scanned).toBeGreaterThanOrEqual(40);

      // Every row is on the new key: checked in the database itself, then read with only the new key.
      const { rows } = await pool.query(`SELECT id, customer->>'email' AS email FROM "${schema}".payments`);
      expect(rows.length).toBeGreaterThanOrEqual(40 + made);
      for (const row of rows) expect(keyIdOf(row.email)).toBe('new');
      const { rows: events } = await pool.query(`SELECT data->'customer'->>'email' AS email FROM "${schema}".outbox_events WHERE type LIKE 'payment.%'`);
      for (const e of events) expect(keyIdOf(e.email)).toBe('new');
      const after = createEncryptingStore(inner, { keys: [nextKey], activeKeyId: 'new' });
      for (const row of rows) expect((await after.getPayment(row.id))!.customer.email).toMatch(/^buyer\d+@example\.com$/);
    } finally {
      await inner.close();
      await dropSchema(pool, schema);
    }
  });
});

describe('retention on PostgresStore from several instances at once', () => {
  it('anonymises every due payment exactly once while other instances and the engine run beside it', async () => {
    const schema = uniqueSchema('retain');
    const stores = await Promise.all([0, 1, 2].map(() => createPostgresStore({ pool, schema })));
    try {
      const key = newKey('k1');
      const tender = createTender({ gateways: [createTestGateway()], store: createEncryptingStore(stores[0]!, { keys: [key], activeKeyId: 'k1' }) });
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push((await tender.payments.create({ amount: '10.00', currency: 'MYR', paymentMethod: 'card', customer: { email: `old${i}@example.com` } })).id);
      await pool.query(`UPDATE "${schema}".payments SET created_at = created_at - interval '40 days'`);
      const young = await tender.payments.create({ amount: '10.00', currency: 'MYR', paymentMethod: 'card', customer: { email: 'young@example.com' } });
      const cutoff = new Date(Date.now() - 30 * 86_400_000).toISOString();
      expect(await stores[1]!.anonymizePayments({ createdBefore: cutoff, limit: 5, dryRun: true })).toMatchObject({ payments: 60 });
      // Three instances in batches of 7, while the engine refunds some of the same payments.
      const seen: string[] = [];
      const instance = async (store: (typeof stores)[number]) => {
        for (;;) {
          const done = await store.anonymizePayments({ createdBefore: cutoff, limit: 7 });
          seen.push(...done.paymentIds);
          if (done.payments === 0) return;
        }
      };
      const refunds = Promise.all(ids.slice(0, 10).map((id) => tender.payments.refund(id, { amount: '1.00' })));
      await Promise.all([...stores.map(instance), refunds]);
      expect(seen.sort()).toEqual([...ids].sort());
      const { rows } = await pool.query(`SELECT id, customer->>'email' AS email, amount_refunded::text AS refunded FROM "${schema}".payments`);
      for (const row of rows) expect(row.email, row.id).toEqual(row.id === young.id ? expect.stringMatching(/^enc:v1:k1:/) : '[anonymised]');
      expect(rows.filter((r) => r.refunded !== '0.0000')).toHaveLength(10);
      expect(await stores[2]!.anonymizePayments({ createdBefore: cutoff, limit: 5, dryRun: true })).toMatchObject({ payments: 0 });
    } finally {
      for (const store of stores) await store.close();
      await dropSchema(pool, schema);
    }
  });
});
