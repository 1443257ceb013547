/**
 * `runSettlementStoreConformance`: the vitest suite for a store that also implements the optional
 * `SettlementStore` spec (settlement runs, versioned, stored with their outbox events; the settled
 * records of a day). Run it beside `runStoreConformance` with the same factory.
 *
 * ```ts
 * import { runSettlementStoreConformance } from '@tender/core/testing';
 * runSettlementStoreConformance('my store', async () => ({ store: await openStore(), teardown: () => closeStore() }));
 * ```
 *
 * @module
 */
import { newId } from '../ids';
import type { Payment, Refund } from '../payment';
import type { Store } from '../spec/store/v1/index';
import type { SettlementRun, SettlementStore } from '../spec/store/v1/settlements';
import { event, expectTenderError, samplePayment } from './store-conformance';
import { vitestApi } from './vitest-api';

/** What the factory passed to {@link runSettlementStoreConformance} returns. */
export interface SettlementStoreUnderTest {
  store: Store & SettlementStore;
  teardown(): Promise<void>;
}

/** A run of `gateway`'s `date` with one mismatched line (for store tests). */
export function sampleSettlementRun(overrides: Partial<SettlementRun> = {}): SettlementRun {
  return {
    id: newId('stl'),
    merchantId: 'm_1',
    gateway: 'test',
    date: '2026-03-01',
    version: 1,
    createdAt: '2026-03-02T01:00:00.000Z',
    counts: { matched: 0, amount_mismatch: 1, missing_in_tender: 0, missing_at_gateway: 0, fee: 0, other: 0 },
    totals: { MYR: { grossIn: '10.00', grossOut: '0.00', fees: '0.30', net: '9.70' } },
    lines: [
      {
        lineId: 'bt_1',
        classification: 'amount_mismatch',
        reason: 'amount_differs',
        type: 'payment',
        merchantId: 'm_1',
        gatewayReference: 'ref_1',
        refundReference: null,
        orderId: null,
        reported: { amount: '10.00', currency: 'MYR', direction: 'in', fee: '0.30' },
        tender: { amount: '12.00', currency: 'MYR', status: 'CAPTURED' },
        paymentId: null,
        refundId: null,
        occurredAt: '2026-03-01T10:00:00.000Z',
      },
    ],
    ...overrides,
  };
}

/** Registers the settlement store conformance suite under `describe(name)`. */
export function runSettlementStoreConformance(name: string, makeStore: () => Promise<SettlementStoreUnderTest>): void {
  const { afterEach, beforeEach, describe, expect, it } = vitestApi();
  describe(`SettlementStore conformance: ${name}`, () => {
    let subject: SettlementStoreUnderTest;
    let store: Store & SettlementStore;
    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.teardown();
    });

    it('keeps every version of a run with its events; a taken version stores neither run nor events', async () => {
      const gateway = `g_${newId('x').slice(-8)}`;
      const first = sampleSettlementRun({ gateway });
      const firstEvent = event({ type: 'settlement.mismatch', data: { line: 'bt_1' } });
      await store.insertSettlementRun(first, [firstEvent]);
      expect(await store.latestSettlementRun({ merchantId: 'm_1', gateway, date: first.date })).toEqual(first);
      expect((await store.getOutboxEvent(firstEvent.id))?.type).toBe('settlement.mismatch');

      const clash = sampleSettlementRun({ gateway });
      const clashEvent = event({ type: 'settlement.mismatch' });
      const error = await expectTenderError(store.insertSettlementRun(clash, [clashEvent]), 'state_error');
      expect(error.code).toBe('duplicate_settlement_run');
      expect(await store.getOutboxEvent(clashEvent.id)).toBeNull();
      expect(await store.getSettlementRun(clash.id)).toBeNull();

      const second = sampleSettlementRun({ gateway, version: 2, createdAt: '2026-03-02T02:00:00.000Z', lines: [], counts: { ...first.counts, amount_mismatch: 0 } });
      await store.insertSettlementRun(second, []);
      expect((await store.latestSettlementRun({ merchantId: 'm_1', gateway, date: first.date }))?.id).toBe(second.id);
      const history = await store.listSettlementRuns({ merchantId: 'm_1', gateway, date: first.date });
      expect(history.map((r) => r.version)).toEqual([2, 1]);
      expect(history[1]).toEqual((({ lines: _l, ...rest }) => rest)(first));
      expect(await store.getSettlementRun(first.id, 'm_1')).toEqual(first);
      expect(await store.getSettlementRun(first.id, 'm_2')).toBeNull();
      expect(await store.getSettlementRun(first.id, null)).toBeNull();
    });

    it('keeps the account-wide runs (merchantId null) apart from each merchant\'s', async () => {
      const gateway = `g_${newId('x').slice(-8)}`;
      const all = sampleSettlementRun({ gateway, merchantId: null });
      const mine = sampleSettlementRun({ gateway, merchantId: 'm_1' });
      await store.insertSettlementRun(all, []);
      await store.insertSettlementRun(mine, []);
      expect((await store.latestSettlementRun({ merchantId: null, gateway, date: all.date }))?.id).toBe(all.id);
      expect((await store.latestSettlementRun({ merchantId: 'm_1', gateway, date: all.date }))?.id).toBe(mine.id);
      expect(await store.latestSettlementRun({ merchantId: 'm_2', gateway, date: all.date })).toBeNull();
      expect(await store.getSettlementRun(all.id, null)).toEqual(all);
      expect(await store.listSettlementRuns({ merchantId: null, gateway, date: '2026-03-02' })).toEqual([]);
    });

    it('lists the payments captured and refunds succeeded in a window from the audit trail, of one gateway and merchant', async () => {
      const gateway = `g_${newId('x').slice(-8)}`;
      const captured = (at: string, overrides: Partial<Payment> = {}): Payment =>
        samplePayment({ gateway, gatewayReference: newId('ref'), status: 'CAPTURED', amountCaptured: '100.50', createdAt: at, updatedAt: at, ...overrides });
      const inDay = captured('2026-03-01T23:59:59.999Z');
      const dayBefore = captured('2026-02-28T23:59:59.999Z');
      const otherMerchant = captured('2026-03-01T08:00:00.000Z', { merchantId: 'm_2' });
      const failed = samplePayment({ gateway, status: 'FAILED', createdAt: '2026-03-01T08:00:00.000Z' });
      const refunded = captured('2026-02-27T08:00:00.000Z', { status: 'PARTIALLY_REFUNDED', amountRefunded: '10.00' });
      const refund: Refund = {
        id: newId('re'),
        merchantId: 'm_1',
        paymentId: refunded.id,
        status: 'SUCCEEDED',
        amount: '10.00',
        currency: 'MYR',
        reason: null,
        gatewayReference: newId('rref'),
        failure: null,
        metadata: {},
        createdAt: '2026-03-01T09:00:00.000Z',
        updatedAt: '2026-03-01T09:00:01.000Z',
      };
      const pendingRefund: Refund = { ...refund, id: newId('re'), status: 'PENDING', gatewayReference: null };
      await store.transaction(async (tx) => {
        for (const p of [inDay, dayBefore, otherMerchant, failed, refunded]) {
          await tx.insertPayment(p);
          await tx.appendTransition({ id: newId('tr'), merchantId: p.merchantId, paymentId: p.id, refundId: null, from: null, to: 'PENDING', reason: 'created', actor: 'api', at: p.createdAt });
          if (p.status !== 'FAILED') {
            await tx.appendTransition({ id: newId('tr'), merchantId: p.merchantId, paymentId: p.id, refundId: null, from: 'PENDING', to: 'CAPTURED', reason: 'paid', actor: 'api', at: p.createdAt });
          }
        }
        await tx.insertRefund(refund);
        await tx.insertRefund(pendingRefund);
        await tx.appendTransition({ id: newId('tr'), merchantId: 'm_1', paymentId: refunded.id, refundId: refund.id, from: null, to: 'PENDING', reason: 'refund', actor: 'api', at: refund.createdAt });
        await tx.appendTransition({ id: newId('tr'), merchantId: 'm_1', paymentId: refunded.id, refundId: refund.id, from: 'PENDING', to: 'SUCCEEDED', reason: 'refunded', actor: 'api', at: refund.updatedAt });
        await tx.appendTransition({ id: newId('tr'), merchantId: 'm_1', paymentId: refunded.id, refundId: pendingRefund.id, from: null, to: 'PENDING', reason: 'refund', actor: 'api', at: refund.createdAt });
        await tx.appendTransition({ id: newId('tr'), merchantId: 'm_1', paymentId: refunded.id, refundId: null, from: 'CAPTURED', to: 'PARTIALLY_REFUNDED', reason: 'refunded', actor: 'api', at: refund.updatedAt });
      });
      const window = { gateway, from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' };
      const mine = await store.listSettledRecords({ ...window, merchantId: 'm_1' });
      expect(mine.payments.map((r) => [r.payment.id, r.capturedAt])).toEqual([[inDay.id, inDay.createdAt]]);
      expect(mine.refunds.map((r) => [r.refund.id, r.payment.id, r.succeededAt])).toEqual([[refund.id, refunded.id, refund.updatedAt]]);
      const everyone = await store.listSettledRecords({ ...window, merchantId: null });
      expect(everyone.payments.map((r) => r.payment.id)).toEqual([otherMerchant.id, inDay.id]);
      const before = await store.listSettledRecords({ gateway, merchantId: 'm_1', from: '2026-02-27T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' });
      expect(before.payments.map((r) => r.payment.id)).toEqual([refunded.id, dayBefore.id]);
      expect(before.payments[0]!.payment.status).toBe('PARTIALLY_REFUNDED');
      expect(before.refunds).toEqual([]);
      expect(await store.listSettledRecords({ ...window, gateway: 'other', merchantId: null })).toEqual({ payments: [], refunds: [] });
    });
  });
}
