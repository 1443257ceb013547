import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Money, createEncryptingStore, createTender, parseEncryptionKey, type OutboxEvent, type Payment, type SettlementLine, type SettlementRun, type TenderError } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway, runSettlementStoreConformance } from '@tender/core/testing';

runSettlementStoreConformance('MemoryStore', async () => ({ store: new MemoryStore(), teardown: async () => {} }));
runSettlementStoreConformance('EncryptingStore over MemoryStore', async () => {
  const key = parseEncryptionKey(randomBytes(32).toString('base64'));
  return { store: createEncryptingStore(new MemoryStore(), { keys: [key], activeKeyId: key.id }), teardown: async () => {} };
});

const DAY = '2026-03-01';

/**
 * Two merchants on one gateway account, a day of payments, and the gateway's reports of that day
 * and the next with planted mismatches.
 */
async function plantedDay() {
  const clock = new FakeClock('2026-02-28T23:50:00.000Z');
  const gateway = createTestGateway({ id: 'test', capabilities: { settlements: true } });
  const plain = createTestGateway({ id: 'plain' });
  const store = new MemoryStore();
  const tender = createTender({ gateways: [gateway, plain], store, clock, defaultMerchantId: 'm_1' });
  const events: OutboxEvent[] = [];
  tender.events.on((e) => void (e.type === 'settlement.mismatch' && events.push(e)));
  const pay = async (amount: string, at: string, options: { merchantId?: string; manual?: boolean } = {}): Promise<Payment> => {
    clock.set(at);
    return tender.payments.create({ amount, currency: 'MYR', paymentMethod: 'card', ...(options.manual ? { captureMethod: 'manual' as const } : {}) }, { merchantId: options.merchantId ?? 'm_1' });
  };
  const p0 = await pay('5.00', '2026-02-28T23:50:00.000Z'); // captured the day before, reported on the day (lag)
  const p1 = await pay('10.00', '2026-03-01T09:00:00.000Z');
  const p2 = await pay('20.00', '2026-03-01T10:00:00.000Z'); // reported as 19.00
  const p3 = await pay('30.00', '2026-03-01T11:00:00.000Z'); // in no report
  const p4 = await pay('40.00', '2026-03-01T23:30:00.000Z'); // reported the next day
  const p5 = await pay('50.00', '2026-03-01T12:00:00.000Z', { manual: true }); // only authorised here, reported as paid
  const p6 = await pay('60.00', '2026-03-01T13:00:00.000Z', { merchantId: 'm_2' });
  clock.set('2026-03-01T14:00:00.000Z');
  const r1 = await tender.payments.refund(p1.id, { amount: '5.00' });

  const line = (p: Payment, o: { refundIndex?: number } = {}) => gateway.settlementLine(p.id, { ...o, occurredAt: '2026-03-01T15:00:00.000Z' });
  const ghost: SettlementLine = { ...line(p1), lineId: 'bt_ghost', gatewayReference: 'tst_ghost', amount: Money.of('7.00', 'MYR'), net: null };
  const fee: SettlementLine = { lineId: 'bt_fee', type: 'fee', gatewayReference: null, amount: Money.of('1.50', 'MYR'), direction: 'out', fee: null, net: null, occurredAt: '2026-03-01T23:00:00.000Z' };
  gateway.settlementReports.set(DAY, [
    line(p0),
    { ...line(p1), fee: Money.of('0.30', 'MYR') },
    { ...line(p2), amount: Money.of('19.00', 'MYR') },
    { ...line(p5), amount: Money.of('50.00', 'MYR') },
    line(p6),
    line(p1, { refundIndex: 0 }),
    ghost,
    fee,
  ]);
  gateway.settlementReports.set('2026-03-02', [line(p4)]);
  clock.set('2026-03-02T12:00:00.000Z');
  return { clock, gateway, store, tender, events, p: { p0, p1, p2, p3, p4, p5, p6 }, r1 };
}

const byLine = (run: SettlementRun) => Object.fromEntries(run.lines.map((l) => [l.paymentId ? `${l.paymentId}${l.refundId ? `/${l.refundId}` : ''}` : l.lineId, [l.classification, l.reason]]));

describe('tender.settlements against planted mismatches', () => {
  let day: Awaited<ReturnType<typeof plantedDay>>;
  let first: SettlementRun;
  beforeAll(async () => {
    day = await plantedDay();
    first = await day.tender.settlements.get({ gateway: 'test', date: DAY });
  });

  it("classifies the merchant's lines: matched, amount_mismatch, missing_in_tender, missing_at_gateway (with the one-day lag)", () => {
    const { p, r1 } = day;
    expect(first).toMatchObject({ merchantId: 'm_1', gateway: 'test', date: DAY, version: 1 });
    expect(byLine(first)).toEqual({
      [p.p0.id]: ['matched', null],
      [p.p1.id]: ['matched', null],
      [p.p2.id]: ['amount_mismatch', 'amount_differs'],
      [p.p5.id]: ['missing_in_tender', 'tender_status_AUTHORIZED'],
      [`${p.p1.id}/${r1.id}`]: ['matched', null],
      [p.p3.id]: ['missing_at_gateway', 'not_in_report'],
    });
    expect(first.counts).toEqual({ matched: 3, amount_mismatch: 1, missing_in_tender: 1, missing_at_gateway: 1, fee: 0, other: 0 });
    expect(first.totals).toEqual({ MYR: { grossIn: '84.00', grossOut: '5.00', fees: '0.30', net: '78.70' } });
    const mismatch = first.lines.find((l) => l.paymentId === p.p2.id)!;
    expect(mismatch).toMatchObject({ reported: { amount: '19.00', currency: 'MYR', direction: 'in' }, tender: { amount: '20.00', currency: 'MYR', status: 'CAPTURED' } });
    expect(first.lines.find((l) => l.paymentId === p.p3.id)).toMatchObject({ lineId: `tender:${p.p3.id}`, reported: null, occurredAt: '2026-03-01T11:00:00.000Z' });
  });

  it('writes one settlement.mismatch event per mismatched line, in the outbox with the run', async () => {
    const mine = day.events.filter((e) => (e.data.run as { id: string }).id === first.id);
    expect(mine.map((e) => e.paymentId).sort()).toEqual([day.p.p2.id, day.p.p3.id, day.p.p5.id].sort());
    for (const e of mine) {
      expect(e.merchantId).toBe('m_1');
      expect((await day.store.getOutboxEvent(e.id))?.type).toBe('settlement.mismatch');
    }
  });

  it('answers the stored run again without fetching; a re-run adds version 2 with its own events and keeps version 1', async () => {
    const fetches = day.gateway.calls.fetchReport;
    const again = await day.tender.settlements.get({ gateway: 'test', date: DAY });
    expect(again).toEqual(first);
    expect(day.gateway.calls.fetchReport).toBe(fetches);
    const eventsBefore = day.events.length;
    const second = await day.tender.settlements.reconcile({ gateway: 'test', date: DAY });
    expect(second.version).toBe(2);
    expect(second.lines).toEqual(first.lines);
    expect(day.events.length - eventsBefore).toBe(3);
    expect((await day.tender.settlements.history({ gateway: 'test', date: DAY })).map((r) => [r.version, r.id])).toEqual([
      [2, second.id],
      [1, first.id],
    ]);
    expect(await day.tender.settlements.get({ gateway: 'test', date: DAY })).toEqual(second);
  });

  it('two engines reading a day first at once store one run (version 1) and its events once', async () => {
    const second = createTender({ gateways: [day.gateway], store: day.store, clock: day.clock, defaultMerchantId: 'm_1' });
    const events: OutboxEvent[] = [];
    for (const engine of [day.tender, second]) engine.events.on((e) => void (e.type === 'settlement.mismatch' && (e.data.run as { date: string }).date === '2026-02-28' && events.push(e)));
    day.gateway.settlementReports.set('2026-02-28', [{ ...day.gateway.settlementLine(day.p.p0.id, { occurredAt: '2026-02-28T23:50:00.000Z' }), amount: Money.of('4.00', 'MYR') }]);
    const [a, b] = await Promise.all([day.tender.settlements.get({ gateway: 'test', date: '2026-02-28' }), second.settlements.get({ gateway: 'test', date: '2026-02-28' })]);
    expect(a.id).toBe(b.id);
    expect(a.version).toBe(1);
    expect((await second.settlements.history({ gateway: 'test', date: '2026-02-28' })).map((r) => r.id)).toEqual([a.id]);
    expect(events.map((e) => e.paymentId)).toEqual([day.p.p0.id]);
  });

  it("matches a refund the gateway paid out and took back (Stripe's refund + refund_failure) with Tender's FAILED refund", async () => {
    day.gateway.inject('decline');
    const failed = await day.tender.payments.refund(day.p.p2.id, { amount: '2.00' }).catch(async () => (await day.tender.refunds.list(day.p.p2.id)).at(-1)!);
    expect(failed.status).toBe('FAILED');
    const out = day.gateway.settlementLine(day.p.p2.id, { refundIndex: 0, occurredAt: '2026-02-27T10:00:00.000Z' });
    day.gateway.settlementReports.set('2026-02-27', [out, { ...out, lineId: `${out.lineId}_failure`, direction: 'in' }]);
    const run = await day.tender.settlements.reconcile({ gateway: 'test', date: '2026-02-27' });
    expect(run.lines.map((l) => [l.refundId, l.classification, l.reason])).toEqual([
      [failed.id, 'matched', 'refund_reversed'],
      [failed.id, 'matched', 'refund_reversed'],
    ]);
    expect(run.totals).toEqual({ MYR: { grossIn: '2.00', grossOut: '2.00', fees: '0.00', net: '0.00' } });
  });

  it('shows another merchant only its lines, and the account-wide run every line, unattributed ones included', async () => {
    const other = await day.tender.settlements.get({ gateway: 'test', date: DAY }, { merchantId: 'm_2' });
    expect(byLine(other)).toEqual({ [day.p.p6.id]: ['matched', null] });
    expect(other.totals).toEqual({ MYR: { grossIn: '60.00', grossOut: '0.00', fees: '0.00', net: '60.00' } });
    const all = await day.tender.settlements.get({ gateway: 'test', date: DAY }, { merchantId: null });
    expect(all.merchantId).toBeNull();
    expect(all.counts).toEqual({ matched: 4, amount_mismatch: 1, missing_in_tender: 2, missing_at_gateway: 1, fee: 1, other: 0 });
    expect(all.lines.find((l) => l.lineId === 'bt_ghost')).toMatchObject({ classification: 'missing_in_tender', reason: 'unknown_reference', merchantId: null });
    expect(all.totals.MYR).toEqual({ grossIn: '151.00', grossOut: '5.00', fees: '1.80', net: '144.20' });
  });

  it('refuses a bad date, a future day, a gateway without settlements and an unknown gateway, storing and fetching nothing', async () => {
    const fetches = day.gateway.calls.fetchReport;
    const refused = async (key: { gateway: string; date: string }) => {
      try {
        await day.tender.settlements.reconcile(key);
      } catch (error) {
        return [(error as TenderError).type, (error as TenderError).code];
      }
      throw new Error('expected a refusal');
    };
    expect(await refused({ gateway: 'test', date: '2026-02-30' })).toEqual(['invalid_request_error', 'invalid_date']);
    expect(await refused({ gateway: 'test', date: '03/01/2026' })).toEqual(['invalid_request_error', 'invalid_date']);
    expect(await refused({ gateway: 'test', date: '2026-03-03' })).toEqual(['invalid_request_error', 'invalid_date']);
    expect(await refused({ gateway: 'plain', date: DAY })).toEqual(['invalid_request_error', 'settlements_not_supported']);
    expect(await refused({ gateway: 'nope', date: DAY })).toEqual(['not_found_error', 'resource_missing']);
    expect(day.gateway.calls.fetchReport).toBe(fetches);
    expect(await day.store.latestSettlementRun({ merchantId: 'm_1', gateway: 'test', date: '2026-03-03' })).toBeNull();
  });
});
