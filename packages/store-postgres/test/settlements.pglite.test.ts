/**
 * PostgresStore's SettlementStore part on embedded PGlite: the conformance suite, and the engine's
 * reconciliation over it (planted mismatches, a re-run's version, the outbox events stored with the run).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Money, createTender, type OutboxEvent } from '@tender/core';
import { FakeClock, createTestGateway, runSettlementStoreConformance } from '@tender/core/testing';
import { createPGliteStore } from '@tender/store-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueSchema } from './helpers';

let db: PGlite;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tender-settlements-'));
  db = await PGlite.create(join(dir, 'data'));
});
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function sharedStore(schema = uniqueSchema('stl')) {
  const store = await createPGliteStore({ db, schema });
  return {
    store,
    teardown: async () => {
      await store.close();
      await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
    },
  };
}

runSettlementStoreConformance('PostgresStore (PGlite)', () => sharedStore());

describe('tender.settlements over PostgresStore (PGlite)', () => {
  it('classifies planted mismatches, stores the run with one event per mismatch, and a re-run as version 2', async () => {
    const { store, teardown } = await sharedStore();
    try {
      const clock = new FakeClock('2026-03-01T10:00:00.000Z');
      const gateway = createTestGateway({ id: 'test', capabilities: { settlements: true } });
      const tender = createTender({ gateways: [gateway], store, clock, defaultMerchantId: 'm_1' });
      const events: OutboxEvent[] = [];
      tender.events.on((e) => void (e.type === 'settlement.mismatch' && events.push(e)));
      const matched = await tender.payments.create({ amount: '10.00', currency: 'MYR', paymentMethod: 'card' });
      const short = await tender.payments.create({ amount: '20.00', currency: 'MYR', paymentMethod: 'card' });
      const unreported = await tender.payments.create({ amount: '30.00', currency: 'MYR', paymentMethod: 'card' });
      clock.set('2026-03-01T11:00:00.000Z');
      const refund = await tender.payments.refund(matched.id, { amount: '4.00' });
      const at = { occurredAt: '2026-03-01T12:00:00.000Z' };
      gateway.settlementReports.set('2026-03-01', [
        { ...gateway.settlementLine(matched.id, at), fee: Money.of('0.35', 'MYR') },
        { ...gateway.settlementLine(short.id, at), amount: Money.of('20.00', 'USD') },
        gateway.settlementLine(matched.id, { ...at, refundIndex: 0 }),
        { lineId: 'bt_unknown', type: 'payment', gatewayReference: 'tst_unknown', amount: Money.of('1.00', 'MYR'), direction: 'in', fee: null, net: null, occurredAt: at.occurredAt },
      ]);
      clock.set('2026-03-02T09:00:00.000Z');

      const first = await tender.settlements.get({ gateway: 'test', date: '2026-03-01' });
      const classes = Object.fromEntries(first.lines.map((l) => [l.refundId ?? l.paymentId, [l.classification, l.reason]]));
      expect(classes).toEqual({
        [matched.id]: ['matched', null],
        [short.id]: ['amount_mismatch', 'currency_differs'],
        [refund.id]: ['matched', null],
        [unreported.id]: ['missing_at_gateway', 'not_in_report'],
      });
      expect(first.totals).toEqual({
        MYR: { grossIn: '10.00', grossOut: '4.00', fees: '0.35', net: '5.65' },
        USD: { grossIn: '20.00', grossOut: '0.00', fees: '0.00', net: '20.00' },
      });
      expect(await tender.settlements.get({ gateway: 'test', date: '2026-03-01' })).toEqual(first);

      const second = await tender.settlements.reconcile({ gateway: 'test', date: '2026-03-01' });
      expect(second.version).toBe(2);
      expect((await tender.settlements.history({ gateway: 'test', date: '2026-03-01' })).map((r) => r.version)).toEqual([2, 1]);
      const all = await tender.settlements.get({ gateway: 'test', date: '2026-03-01' }, { merchantId: null });
      expect(all.lines.find((l) => l.lineId === 'bt_unknown')).toMatchObject({ classification: 'missing_in_tender', merchantId: null });

      // Each run's mismatches are outbox rows of their own (2 per run of m_1, 3 in the account-wide run).
      expect(events.map((e) => (e.data.run as { version: number }).version)).toEqual([1, 1, 2, 2, 1, 1, 1]);
      for (const event of events) expect((await store.getOutboxEvent(event.id))?.type).toBe('settlement.mismatch');
    } finally {
      await teardown();
    }
  });
});
