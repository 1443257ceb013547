/**
 * PostgresStore's SettlementStore part on node-postgres: the conformance suite, and two instances
 * reading a day's report first at the same time (one run stored, its events once).
 */
import { Money, createTender, type OutboxEvent } from '@tender/core';
import { FakeClock, createTestGateway, runSettlementStoreConformance } from '@tender/core/testing';
import { createPostgresStore } from '@tender/store-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testPool, uniqueSchema } from './helpers';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await testPool({ max: 6 });
});
afterAll(async () => {
  await pool.end();
});

async function freshStore(schema = uniqueSchema('stl')) {
  const store = await createPostgresStore({ pool, schema });
  return {
    store,
    teardown: async () => {
      await store.close();
      await dropSchema(pool, schema);
    },
  };
}

runSettlementStoreConformance('PostgresStore (node-postgres)', () => freshStore());

describe('tender.settlements over PostgresStore (node-postgres)', () => {
  it('two instances reading a day first at once store one run and its events once', async () => {
    const schema = uniqueSchema('stl');
    const { store, teardown } = await freshStore(schema);
    const other = await createPostgresStore({ pool, schema });
    try {
      const clock = new FakeClock('2026-03-01T10:00:00.000Z');
      const gateway = createTestGateway({ id: 'test', capabilities: { settlements: true } });
      const engines = [store, other].map((s) => createTender({ gateways: [gateway], store: s, clock, defaultMerchantId: 'm_1' }));
      const events: OutboxEvent[] = [];
      for (const engine of engines) engine.events.on((e) => void (e.type === 'settlement.mismatch' && events.push(e)));
      const paid = await engines[0]!.payments.create({ amount: '10.00', currency: 'MYR', paymentMethod: 'card' });
      gateway.settlementReports.set('2026-03-01', [{ ...gateway.settlementLine(paid.id, { occurredAt: '2026-03-01T10:00:00.000Z' }), amount: Money.of('9.00', 'MYR') }]);
      clock.set('2026-03-02T10:00:00.000Z');
      const runs = await Promise.all(engines.map((engine) => engine.settlements.get({ gateway: 'test', date: '2026-03-01' })));
      expect(new Set(runs.map((r) => r.id)).size).toBe(1);
      expect((await engines[1]!.settlements.history({ gateway: 'test', date: '2026-03-01' })).map((r) => r.version)).toEqual([1]);
      expect(events.map((e) => e.paymentId)).toEqual([paid.id]);
      expect((await store.getOutboxEvent(events[0]!.id))?.type).toBe('settlement.mismatch');
    } finally {
      await other.close();
      await teardown();
    }
  });
});
