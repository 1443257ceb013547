import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createEncryptingStore, createTender, newId, parseEncryptionKey, type Payment, type PaymentStatus, type Store, type TenderError } from '@tender/core';
import { createTestGateway, MemoryStore, runAnalyticsStoreConformance, samplePayment } from '@tender/core/testing';

runAnalyticsStoreConformance('MemoryStore', async () => ({ store: new MemoryStore(), teardown: async () => {} }));
runAnalyticsStoreConformance('EncryptingStore over MemoryStore', async () => {
  const key = parseEncryptionKey(randomBytes(32).toString('base64'));
  return { store: createEncryptingStore(new MemoryStore(), { keys: [key], activeKeyId: key.id }), teardown: async () => {} };
});

const DAY0 = '2026-04-01';
const at = (minutes: number, ms = 0) => new Date(Date.UTC(2026, 3, 1) + minutes * 60_000 + ms).toISOString();

/** Writes a payment created at `createdAt` through `store`, moved through `path` (each step `stepMs` after the previous). */
async function write(store: Store, p: Partial<Payment> & { createdAt: string }, path: Array<{ to: PaymentStatus; afterMs: number; changes?: Partial<Payment> }> = []) {
  let payment = samplePayment({ merchantId: 'm_1', ...p, updatedAt: p.createdAt, status: 'PENDING', amountCaptured: '0', amountRefunded: '0', version: 1 });
  await store.transaction(async (tx) => {
    await tx.insertPayment(payment);
    await tx.appendTransition({ id: newId('tr'), merchantId: payment.merchantId, paymentId: payment.id, refundId: null, from: null, to: 'PENDING', reason: 'created', actor: 'api', at: payment.createdAt });
  });
  for (const step of path) {
    const next = { ...payment, ...step.changes, status: step.to, version: payment.version + 1, updatedAt: new Date(Date.parse(p.createdAt) + step.afterMs).toISOString() };
    await store.transaction(async (tx) => {
      await tx.updatePayment(next);
      await tx.appendTransition({ id: newId('tr'), merchantId: next.merchantId, paymentId: next.id, refundId: null, from: payment.status, to: next.status, reason: 'step', actor: 'webhook', at: next.updatedAt });
    });
    payment = next;
  }
  return payment;
}

function engine(store: Store) {
  return createTender({ gateways: [createTestGateway({ id: 'test' })], store, defaultMerchantId: 'm_1' });
}

describe('tender.analytics.payments', () => {
  it('answers the figures of a hand-computed set: rates of the attempts with an outcome, money per currency, nearest-rank percentiles, top declines', async () => {
    const store = new MemoryStore();
    const captured = (amount: string) => ({ amountCaptured: amount });
    // Six MYR and one JPY payment of m_1 on the day, one of another merchant, one on the next day.
    await write(store, { createdAt: at(10), currency: 'MYR', amount: '100.00', gateway: 'stripe', paymentMethod: 'card' }, [{ to: 'CAPTURED', afterMs: 1200, changes: captured('100.00') }]);
    await write(store, { createdAt: at(20), currency: 'MYR', amount: '50.50', gateway: 'stripe', paymentMethod: 'card' }, [
      { to: 'AUTHORIZED', afterMs: 80 },
      { to: 'CAPTURED', afterMs: 5000, changes: captured('50.50') },
    ]);
    await write(store, { createdAt: at(30), currency: 'MYR', amount: '10.00', gateway: 'fiuu', paymentMethod: 'FPX' }, [{ to: 'AUTHORIZED', afterMs: 3000 }]);
    await write(store, { createdAt: at(40), currency: 'MYR', amount: '10.00', gateway: 'stripe', paymentMethod: 'card' }, [
      { to: 'FAILED', afterMs: 100, changes: { failure: { code: 'card_declined', message: 'declined', declineCode: 'insufficient_funds' } } },
    ]);
    await write(store, { createdAt: at(50), currency: 'MYR', amount: '10.00', gateway: 'fiuu', paymentMethod: 'FPX' }, [{ to: 'FAILED', afterMs: 100, changes: { failure: { code: 'bank_declined', message: 'declined' } } }]);
    await write(store, { createdAt: at(60), currency: 'MYR', amount: '10.00', gateway: 'fiuu', paymentMethod: null }, [{ to: 'REQUIRES_ACTION', afterMs: 10 }]);
    const jpy = await write(store, { createdAt: at(70), currency: 'JPY', amount: '1200', gateway: 'stripe', paymentMethod: 'card' }, [{ to: 'CAPTURED', afterMs: 400, changes: captured('1200') }]);
    await write(store, { createdAt: at(80), merchantId: 'm_2', currency: 'MYR', amount: '999.00', gateway: 'stripe' }, [{ to: 'CAPTURED', afterMs: 10, changes: captured('999.00') }]);
    await write(store, { createdAt: at(24 * 60 + 5), currency: 'MYR', amount: '7.00' }, [{ to: 'CAPTURED', afterMs: 10, changes: captured('7.00') }]);
    // A succeeded refund of 200 JPY and a failed one (not counted).
    for (const [status, amount] of [['SUCCEEDED', '200'], ['FAILED', '300']] as const) {
      await store.transaction((tx) => tx.insertRefund({ id: newId('re'), merchantId: 'm_1', paymentId: jpy.id, status, amount, currency: 'JPY', reason: null, gatewayReference: null, failure: null, metadata: {}, createdAt: at(90), updatedAt: at(90) }));
    }

    const answer = await engine(store).analytics.payments({ from: DAY0, to: '2026-04-02' });
    expect(answer).toMatchObject({ from: '2026-04-01T00:00:00.000Z', to: '2026-04-02T00:00:00.000Z', merchantId: 'm_1', groupBy: null, groups: [] });
    const t = answer.totals;
    expect(t.payments).toBe(7);
    expect(t.statuses).toMatchObject({ CAPTURED: 3, AUTHORIZED: 1, FAILED: 2, REQUIRES_ACTION: 1, PENDING: 0, REFUNDED: 0 });
    // Attempts with an outcome: 3 captured + 1 authorised + 2 failed = 6 (REQUIRES_ACTION is still in flight).
    expect(t.attempts).toBe(6);
    expect(t.successRate).toEqual({ rate: '0.5000', count: 3, of: 6 });
    expect(t.authorizationRate).toEqual({ rate: '0.6667', count: 4, of: 6 });
    expect(t.revenue).toEqual({ JPY: '1200', MYR: '150.50' });
    expect(t.refunds).toEqual({ JPY: '200' });
    // Processing times 80, 400, 1200, 3000 ms: p50 is the 2nd (400), p95 the 4th (3000).
    expect(t.processingTimeMs).toEqual({ p50: 400, p95: 3000, count: 4 });
    expect(t.topDeclineCodes).toEqual([
      { code: 'bank_declined', count: 1 },
      { code: 'insufficient_funds', count: 1 },
    ]);

    const byGateway = await engine(store).analytics.payments({ from: DAY0, to: '2026-04-02', groupBy: 'gateway' });
    expect(byGateway.totals).toEqual(t);
    expect(byGateway.groups.map((g) => [g.key, g.payments, g.successRate.rate, g.revenue])).toEqual([
      ['fiuu', 3, '0.0000', {}],
      ['stripe', 4, '0.7500', { JPY: '1200', MYR: '150.50' }],
    ]);
    const byMethod = await engine(store).analytics.payments({ from: DAY0, to: '2026-04-02', groupBy: 'method' });
    expect(byMethod.groups.map((g) => [g.key, g.payments])).toEqual([
      ['FPX', 2],
      ['card', 4],
      ['none', 1],
    ]);
    const byDay = await engine(store).analytics.payments({ from: DAY0, to: '2026-04-03', groupBy: 'day' });
    expect(byDay.groups.map((g) => [g.key, g.payments, g.revenue])).toEqual([
      ['2026-04-01', 7, { JPY: '1200', MYR: '150.50' }],
      ['2026-04-02', 1, { MYR: '7.00' }],
    ]);
    const all = await engine(store).analytics.payments({ from: DAY0, to: '2026-04-02', groupBy: 'currency' }, { merchantId: null });
    expect(all.merchantId).toBeNull();
    expect(all.groups.map((g) => [g.key, g.payments, g.revenue])).toEqual([
      ['JPY', 1, { JPY: '1200' }],
      ['MYR', 7, { MYR: '1149.50' }],
    ]);
    // An instant window: only the payments created from 00:25 to 00:45 (two of them).
    const cut = await engine(store).analytics.payments({ from: '2026-04-01T08:25:00+08:00', to: '2026-04-01T00:45:00Z' });
    expect(cut.totals.payments).toBe(2);
    expect(cut.from).toBe('2026-04-01T00:25:00.000Z');
  });

  it('counts the disputes opened in the window from the dispute records, per currency and per group', async () => {
    const store = new MemoryStore();
    const card = await write(store, { createdAt: at(5), currency: 'MYR', amount: '80.00', gateway: 'stripe', paymentMethod: 'card' }, [{ to: 'CAPTURED', afterMs: 100, changes: { amountCaptured: '80.00' } }]);
    const fpx = await write(store, { createdAt: at(6), currency: 'USD', amount: '12.00', gateway: 'fiuu', paymentMethod: 'FPX' }, [{ to: 'CAPTURED', afterMs: 100, changes: { amountCaptured: '12.00' } }]);
    const dispute = (payment: Payment, amount: string, openedAt: string, merchantId = 'm_1') => ({
      id: newId('dp'), merchantId, paymentId: payment.id, gateway: payment.gateway, gatewayReference: newId('gw'), status: 'needs_response' as const, gatewayStatus: 'needs_response',
      amount, currency: payment.currency, reason: 'fraudulent', evidenceDueBy: null, openedAt, closedAt: null, createdAt: openedAt, updatedAt: openedAt, syncedAt: openedAt, version: 1,
    });
    await store.transaction(async (tx) => {
      await tx.insertDispute(dispute(card, '80.00', at(120)));
      await tx.insertDispute(dispute(card, '20.00', at(130)));
      await tx.insertDispute(dispute(fpx, '12.00', at(140)));
      // Opened the next day: outside the window.
      await tx.insertDispute(dispute(fpx, '1.00', at(24 * 60 + 1)));
    });
    const answer = await engine(store).analytics.payments({ from: DAY0, to: '2026-04-02', groupBy: 'method' });
    expect(answer.totals.disputes).toEqual({ count: 3, amount: { MYR: '100.00', USD: '12.00' } });
    expect(answer.groups.map((g) => [g.key, g.disputes])).toEqual([
      ['FPX', { count: 1, amount: { USD: '12.00' } }],
      ['card', { count: 2, amount: { MYR: '100.00' } }],
    ]);
    // Another merchant's view has none of them.
    expect((await engine(store).analytics.payments({ from: DAY0, to: '2026-04-02' }, { merchantId: 'm_2' })).totals.disputes).toEqual({ count: 0, amount: {} });
  });

  it('refuses a bad window or grouping with a 400 naming the parameter, and a store without analytics', async () => {
    const tender = engine(new MemoryStore());
    const refused = async (query: Parameters<typeof tender.analytics.payments>[0], param: string) => {
      const error = (await tender.analytics.payments(query).then(
        () => null,
        (e: unknown) => e,
      )) as TenderError | null;
      expect(error?.status).toBe(400);
      expect(error?.param).toBe(param);
    };
    await refused({ from: '', to: '2026-04-02' }, 'from');
    await refused({ from: '2026-02-30', to: '2026-04-02' }, 'from');
    await refused({ from: '2026-04-01T10:00:00', to: '2026-04-02' }, 'from');
    await refused({ from: '2026-04-01', to: 'tomorrow' }, 'to');
    await refused({ from: '2026-04-02', to: '2026-04-01' }, 'to');
    await refused({ from: '2026-04-01', to: '2026-04-01' }, 'to');
    await refused({ from: '2025-01-01', to: '2026-01-03' }, 'to');
    await refused({ from: '2026-04-01', to: '2026-04-02', groupBy: 'hour' }, 'group_by');
    // 366 days (a leap year) is allowed.
    await expect(tender.analytics.payments({ from: '2024-01-01', to: '2025-01-01' })).resolves.toMatchObject({ totals: { payments: 0, successRate: { rate: null } } });

    const memory = new MemoryStore();
    // The same store without the optional capability.
    const plain = new Proxy(memory, { get: (target, key) => (key === 'paymentAnalytics' ? undefined : Reflect.get(target, key, target)) }) as Store;
    await expect(engine(plain).analytics.payments({ from: '2026-04-01', to: '2026-04-02' })).rejects.toMatchObject({ status: 400, code: 'analytics_not_supported' });
  });
});
