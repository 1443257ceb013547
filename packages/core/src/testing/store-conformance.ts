/**
 * `runStoreConformance`: the vitest suite every Store implementation runs against itself (the model
 * is Auth.js's shared adapter tests). It checks the Store spec's rules, including the concurrency
 * cases the engine's guarantees rest on.
 *
 * ```ts
 * import { runStoreConformance } from '@tender/core/testing';
 * runStoreConformance('my store', async () => ({ store: await openStore(), teardown: () => closeStore() }));
 * ```
 *
 * @module
 */
import { vitestApi } from './vitest-api';
import { TenderError } from '../errors';
import { newId } from '../ids';
import { Money } from '../money';
import { refundAmount, type Payment, type Refund } from '../payment';
import type { IdempotencyRecord, OutboxEvent, RewriteRecordsPage, Store, StoredRecordKind, StoredRecords } from '../spec/store/v1/index';
import { ANONYMIZED } from '../store/personal-data';
import { runBillingStoreConformance } from './billing-store-conformance';
import { runDisputeStoreConformance } from './dispute-store-conformance';

/** What the factory passed to {@link runStoreConformance} returns. */
export interface StoreUnderTest {
  store: Store;
  teardown(): Promise<void>;
}

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
/** An instant `offsetMs` after the suites' fixed start time, as stores keep it (ISO-8601). */
export const at = (offsetMs = 0) => new Date(T0 + offsetMs).toISOString();

/** A valid payment for store tests. */
export function samplePayment(overrides: Partial<Payment> = {}): Payment {
  const currency = overrides.currency ?? 'MYR';
  return {
    id: newId('pay'),
    merchantId: 'm_1',
    orderId: null,
    userId: null,
    savedPaymentMethodId: null,
    status: 'PENDING',
    amount: Money.of('100.50', 'MYR').toString(),
    currency,
    amountCaptured: Money.zero(currency).toString(),
    amountRefunded: Money.zero(currency).toString(),
    captureMethod: 'automatic',
    gateway: 'test',
    gatewayReference: null,
    paymentMethod: 'FPX',
    description: 'Order',
    customer: { name: 'Aisyah', email: 'a@example.com', phone: '+60123456789' },
    returnUrl: 'https://shop.example/return',
    notifyUrl: null,
    metadata: { cart: '42' },
    nextAction: null,
    failure: null,
    gatewayData: {},
    createdAt: at(),
    updatedAt: at(),
    version: 1,
    ...overrides,
  };
}

function sampleRefund(payment: Payment, amount: string, overrides: Partial<Refund> = {}): Refund {
  return {
    id: newId('re'),
    merchantId: payment.merchantId,
    paymentId: payment.id,
    status: 'PENDING',
    amount: Money.of(amount, payment.currency).toString(),
    currency: payment.currency,
    reason: null,
    gatewayReference: null,
    failure: null,
    metadata: {},
    createdAt: at(),
    updatedAt: at(),
    ...overrides,
  };
}

function idem(key: string, overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    merchantId: 'm_1',
    key,
    fingerprint: 'fp1',
    state: 'in_flight',
    lockedUntil: at(60_000),
    recoveryPoint: 'started',
    resourceType: null,
    resourceId: null,
    response: null,
    createdAt: at(),
    expiresAt: at(86_400_000),
    ...overrides,
  };
}

/** A valid outbox event for store tests. */
export function event(overrides: Partial<OutboxEvent> = {}): OutboxEvent {
  return { id: newId('evt'), merchantId: 'm_1', type: 'payment.captured', paymentId: null, refundId: null, data: { n: 1 }, createdAt: at(), ...overrides };
}

/** Awaits `promise` and checks it rejects with a TenderError of `type`. */
export async function expectTenderError(promise: Promise<unknown>, type: string): Promise<TenderError> {
  const { expect } = vitestApi();
  try {
    await promise;
  } catch (error) {
    expect(TenderError.isInstance(error), String(error)).toBe(true);
    expect((error as TenderError).type).toBe(type);
    return error as TenderError;
  }
  throw new Error(`expected a ${type} TenderError`);
}

/** Registers the store conformance suite under `describe(name)`. */
export function runStoreConformance(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  const { afterEach, beforeEach, describe, expect, it } = vitestApi();
  describe(`Store conformance: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.teardown();
    });

    const insert = (p: Payment) => store.transaction((tx) => tx.insertPayment(p));

    it('stores payments exactly, scoped by merchant, and returns copies', async () => {
      const jpy = samplePayment({ currency: 'JPY', amount: '1000', amountCaptured: '0', amountRefunded: '0' });
      const kwd = samplePayment({ currency: 'KWD', amount: '1.250', amountCaptured: '0.000', amountRefunded: '0.000' });
      const myr = samplePayment({ nextAction: { type: 'redirect', url: 'https://pay.example/x' }, gatewayData: { a: { b: [1, 2] } } });
      for (const p of [jpy, kwd, myr]) await insert(p);
      expect(await store.getPayment(myr.id)).toEqual(myr);
      expect((await store.getPayment(jpy.id))!.amount).toBe('1000');
      expect((await store.getPayment(kwd.id))!.amount).toBe('1.250');
      expect(await store.getPayment(myr.id, 'm_1')).toEqual(myr);
      expect(await store.getPayment(myr.id, 'm_other')).toBeNull();
      expect(await store.getPayment('pay_missing')).toBeNull();
      const copy = (await store.getPayment(myr.id))!;
      copy.metadata.cart = 'changed';
      expect((await store.getPayment(myr.id))!.metadata.cart).toBe('42');
    });

    it('updates only from the expected version', async () => {
      const p = samplePayment();
      await insert(p);
      await store.transaction((tx) => tx.updatePayment({ ...p, status: 'REQUIRES_ACTION', version: 2, updatedAt: at(1000) }));
      expect((await store.getPayment(p.id))!.status).toBe('REQUIRES_ACTION');
      await expectTenderError(store.transaction((tx) => tx.updatePayment({ ...p, status: 'FAILED', version: 2 })), 'state_error');
      expect((await store.getPayment(p.id))!.status).toBe('REQUIRES_ACTION');
    });

    it('fails a transaction that expected another payment version, with everything it wrote', async () => {
      const p = samplePayment();
      await insert(p);
      await store.transaction(async (tx) => {
        await tx.expectPaymentVersion(p.id, 1);
        await tx.enqueueOutbox(event({ id: 'evt_expect_ok', paymentId: p.id }));
      });
      expect(await store.getOutboxEvent('evt_expect_ok')).not.toBeNull();
      await store.transaction((tx) => tx.updatePayment({ ...p, status: 'REQUIRES_ACTION', version: 2 }));
      const stale = await expectTenderError(
        store.transaction(async (tx) => {
          await tx.expectPaymentVersion(p.id, 1);
          await tx.enqueueOutbox(event({ id: 'evt_expect_stale', paymentId: p.id }));
          await tx.appendTransition({ id: newId('tr'), merchantId: 'm_1', paymentId: p.id, refundId: null, from: 'PENDING', to: 'AUTHORIZED', reason: 'r', actor: 'api', at: at() });
        }),
        'state_error',
      );
      expect(stale.code).toBe('version_conflict');
      expect(await store.getOutboxEvent('evt_expect_stale')).toBeNull();
      expect(await store.listTransitions(p.id)).toEqual([]);
      await expectTenderError(store.transaction((tx) => tx.expectPaymentVersion('pay_missing', 1)), 'not_found_error');
    });

    it('rejects a duplicate payment id and a duplicate gateway reference', async () => {
      const p = samplePayment({ gatewayReference: 'ref_1' });
      await insert(p);
      const e1 = await expectTenderError(insert({ ...p }), 'state_error');
      expect(e1.code).toMatch(/^duplicate_/);
      const e2 = await expectTenderError(insert(samplePayment({ gatewayReference: 'ref_1' })), 'state_error');
      expect(e2.code).toBe('duplicate_gateway_reference');
      await insert(samplePayment({ gatewayReference: 'ref_1', gateway: 'other' }));
      expect((await store.findPaymentByGatewayReference('test', 'ref_1'))!.id).toBe(p.id);
      expect(await store.findPaymentByGatewayReference('test', 'ref_2')).toBeNull();
    });

    it('rolls back everything when a transaction throws', async () => {
      const p = samplePayment();
      await expect(
        store.transaction(async (tx) => {
          await tx.insertPayment(p);
          await tx.claimIdempotencyKey(idem('k-rollback'));
          await tx.enqueueOutbox(event({ id: 'evt_rollback' }));
          await tx.recordInboundEvent('test', 'rollback', at());
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.getPayment(p.id)).toBeNull();
      expect(await store.getIdempotencyRecord('m_1', 'k-rollback')).toBeNull();
      expect(await store.getOutboxEvent('evt_rollback')).toBeNull();
      expect(await store.transaction((tx) => tx.recordInboundEvent('test', 'rollback', at()))).toBe(true);
    });

    it('lists payments newest first with cursor pagination and order-id lookup', async () => {
      const made: Payment[] = [];
      for (let i = 0; i < 5; i++) {
        const p = samplePayment({ createdAt: at(i * 1000), updatedAt: at(i * 1000), orderId: i % 2 === 0 ? 'ORD-even' : `ORD-${i}` });
        made.push(p);
        await insert(p);
      }
      await insert(samplePayment({ merchantId: 'm_2', createdAt: at(9000) }));
      const page1 = await store.listPayments({ merchantId: 'm_1', limit: 2 });
      expect(page1.map((p) => p.id)).toEqual([made[4]!.id, made[3]!.id]);
      const page2 = await store.listPayments({ merchantId: 'm_1', limit: 2, startingAfter: page1[1]!.id });
      expect(page2.map((p) => p.id)).toEqual([made[2]!.id, made[1]!.id]);
      const even = await store.listPayments({ merchantId: 'm_1', limit: 10, orderId: 'ORD-even' });
      expect(even.map((p) => p.id)).toEqual([made[4]!.id, made[2]!.id, made[0]!.id]);
      expect((await store.findPaymentByOrderId('m_1', 'ORD-even'))!.id).toBe(made[4]!.id);
      expect(await store.findPaymentByOrderId('m_2', 'ORD-even')).toBeNull();
      // Across merchants, by the reference a gateway echoes: the order id, or the id without one.
      const other = samplePayment({ merchantId: 'm_2', orderId: 'ORD-even', createdAt: at(9500) });
      await insert(other);
      const byOrder = await store.listPaymentsByGatewayOrder(made[0]!.gateway, 'ORD-even', 10);
      expect(byOrder.map((p) => p.id)).toEqual([other.id, made[4]!.id, made[2]!.id, made[0]!.id]);
      expect((await store.listPaymentsByGatewayOrder(made[0]!.gateway, 'ORD-even', 2)).map((p) => p.id)).toEqual([other.id, made[4]!.id]);
      expect(await store.listPaymentsByGatewayOrder('another_gateway', 'ORD-even', 10)).toEqual([]);
      const bare = samplePayment({ merchantId: 'm_3', orderId: null, createdAt: at(9600) });
      await insert(bare);
      expect((await store.listPaymentsByGatewayOrder(bare.gateway, bare.id, 10)).map((p) => p.id)).toEqual([bare.id]);
      expect(await store.listPaymentsByGatewayOrder(bare.gateway, made[1]!.id, 10)).toEqual([]);
      const pending = await store.listPayments({ merchantId: 'm_1', limit: 10, status: 'PENDING' });
      expect(pending).toHaveLength(5);
    });

    it('keeps refunds and the audit trail in order, tied to their payment', async () => {
      const p = samplePayment({ status: 'CAPTURED', amountCaptured: '100.50' });
      await insert(p);
      const r1 = sampleRefund(p, '10.00', { createdAt: at(1) });
      const r2 = sampleRefund(p, '20.00', { createdAt: at(2) });
      await store.transaction(async (tx) => {
        await tx.insertRefund(r1);
        await tx.insertRefund(r2);
        await tx.appendTransition({ id: newId('tr'), merchantId: 'm_1', paymentId: p.id, refundId: null, from: null, to: 'PENDING', reason: 'created', actor: 'api', at: at(1) });
        await tx.appendTransition({ id: newId('tr'), merchantId: 'm_1', paymentId: p.id, refundId: r1.id, from: null, to: 'PENDING', reason: 'refund', actor: 'api', at: at(2) });
      });
      expect((await store.listRefunds(p.id)).map((r) => r.id)).toEqual([r1.id, r2.id]);
      expect(await store.getRefund(r1.id)).toEqual(r1);
      expect(await store.getRefund(r1.id, 'm_other')).toBeNull();
      await store.transaction((tx) => tx.updateRefund({ ...r1, status: 'SUCCEEDED', gatewayReference: 'rf_1', updatedAt: at(5) }));
      expect((await store.getRefund(r1.id))!.status).toBe('SUCCEEDED');
      const trail = await store.listTransitions(p.id);
      expect(trail.map((t) => [t.from, t.to, t.refundId])).toEqual([
        [null, 'PENDING', null],
        [null, 'PENDING', r1.id],
      ]);
      expect(await store.listPendingRefunds({ createdBefore: at(10), limit: 10 })).toEqual([expect.objectContaining({ id: r2.id })]);
      await expect(store.transaction((tx) => tx.insertRefund(sampleRefund(samplePayment(), '1.00')))).rejects.toSatisfy(TenderError.isInstance);
    });

    it('claims an idempotency key once; later claims see the stored record', async () => {
      const first = await store.transaction((tx) => tx.claimIdempotencyKey(idem('key-1')));
      expect(first.created).toBe(true);
      const second = await store.transaction((tx) => tx.claimIdempotencyKey(idem('key-1', { fingerprint: 'other' })));
      expect(second.created).toBe(false);
      expect(second.record.fingerprint).toBe('fp1');
      const other = await store.transaction((tx) => tx.claimIdempotencyKey(idem('key-1', { merchantId: 'm_2' })));
      expect(other.created).toBe(true);
      await store.transaction((tx) =>
        tx.updateIdempotencyRecord({ ...first.record, state: 'completed', lockedUntil: null, response: { status: 201, body: { id: 'pay_1', amount: '1.00' } } }),
      );
      expect((await store.getIdempotencyRecord('m_1', 'key-1'))!.response).toEqual({ status: 201, body: { id: 'pay_1', amount: '1.00' } });
      await store.transaction((tx) => tx.deleteIdempotencyRecord('m_1', 'key-1'));
      expect(await store.getIdempotencyRecord('m_1', 'key-1')).toBeNull();
    });

    it('inserts a new key with other writes, and fails the whole transaction when the key exists', async () => {
      const p = samplePayment();
      await store.transaction(async (tx) => {
        await tx.insertIdempotencyRecord(idem('k-new', { resourceType: 'payment', resourceId: p.id }));
        await tx.insertPayment(p);
        // A later update of the same key in the same transaction replaces what is written.
        await tx.updateIdempotencyRecord(idem('k-new', { resourceType: 'payment', resourceId: p.id, recoveryPoint: 'payment_created' }));
      });
      expect(await store.getIdempotencyRecord('m_1', 'k-new')).toEqual(idem('k-new', { resourceType: 'payment', resourceId: p.id, recoveryPoint: 'payment_created' }));
      const other = samplePayment();
      const error = await expectTenderError(
        store.transaction(async (tx) => {
          await tx.insertPayment(other);
          await tx.enqueueOutbox(event({ id: 'evt_new_key_dup' }));
          await tx.insertIdempotencyRecord(idem('k-new', { fingerprint: 'other' }));
        }),
        'state_error',
      );
      expect(error.code).toBe('duplicate_idempotency_key');
      expect(await store.getPayment(other.id)).toBeNull();
      expect(await store.getOutboxEvent('evt_new_key_dup')).toBeNull();
      expect((await store.getIdempotencyRecord('m_1', 'k-new'))!.fingerprint).toBe('fp1');
    });

    it('50 concurrent creates with one key make exactly one payment', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          store.transaction(async (tx) => {
            const claim = await tx.claimIdempotencyKey(idem('same-key'));
            if (!claim.created) return null;
            const p = samplePayment();
            await tx.insertPayment(p);
            await tx.updateIdempotencyRecord({ ...claim.record, resourceType: 'payment', resourceId: p.id });
            return p.id;
          }),
        ),
      );
      const created = results.filter((r) => r !== null);
      expect(created).toHaveLength(1);
      expect((await store.listPayments({ merchantId: 'm_1', limit: 100 })).map((p) => p.id)).toEqual(created);
      expect((await store.getIdempotencyRecord('m_1', 'same-key'))!.resourceId).toBe(created[0]);
    });

    it('20 concurrent partial refunds never exceed the captured amount', async () => {
      const p = samplePayment({ status: 'CAPTURED', amount: '100.00', amountCaptured: '100.00' });
      await insert(p);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          store.transaction(async (tx) => {
            const locked = (await tx.lockPayment(p.id))!;
            const refunds = await tx.listRefunds(p.id);
            const total = refunds.reduce((sum, r) => sum.add(refundAmount(r)), Money.zero('MYR'));
            const amount = Money.of('15.00', 'MYR');
            if (total.add(amount).greaterThan(Money.of(locked.amountCaptured, 'MYR'))) throw new Error('exceeds');
            await tx.insertRefund(sampleRefund(p, '15.00'));
            await tx.updatePayment({ ...locked, amountRefunded: total.add(amount).toString(), version: locked.version + 1 });
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(6);
      const refunds = await store.listRefunds(p.id);
      expect(refunds).toHaveLength(6);
      expect((await store.getPayment(p.id))!.amountRefunded).toBe('90.00');
    });

    it('recognises a duplicate inbound event, also under concurrency', async () => {
      expect(await store.transaction((tx) => tx.recordInboundEvent('fiuu', 'evt-1', at()))).toBe(true);
      expect(await store.transaction((tx) => tx.recordInboundEvent('fiuu', 'evt-1', at()))).toBe(false);
      expect(await store.transaction((tx) => tx.recordInboundEvent('stripe', 'evt-1', at()))).toBe(true);
      const many = await Promise.all(Array.from({ length: 10 }, () => store.transaction((tx) => tx.recordInboundEvent('fiuu', 'evt-2', at()))));
      expect(many.filter(Boolean)).toHaveLength(1);
    });

    it('filters payments by gateway and a creation window (from inclusive, before exclusive), with the cursor', async () => {
      const made: Payment[] = [];
      for (let i = 0; i < 6; i++) {
        const p = samplePayment({ createdAt: at(i * 1000), updatedAt: at(i * 1000), gateway: i % 2 === 0 ? 'stripe' : 'paypal', gatewayReference: `ref_gw_${i}` });
        made.push(p);
        await insert(p);
      }
      await insert(samplePayment({ merchantId: 'm_2', gateway: 'stripe', createdAt: at(2000), gatewayReference: 'ref_gw_other' }));
      const ids = (ps: Payment[]) => ps.map((p) => p.id);
      expect(ids(await store.listPayments({ merchantId: 'm_1', limit: 10, gateway: 'stripe' }))).toEqual([made[4]!.id, made[2]!.id, made[0]!.id]);
      expect(ids(await store.listPayments({ merchantId: 'm_1', limit: 10, createdFrom: at(1000), createdBefore: at(4000) }))).toEqual([made[3]!.id, made[2]!.id, made[1]!.id]);
      // Bounds are instants: another offset names the same moment.
      expect(ids(await store.listPayments({ merchantId: 'm_1', limit: 10, createdFrom: '2026-03-01T12:00:02+02:00' }))).toEqual([made[5]!.id, made[4]!.id, made[3]!.id, made[2]!.id]);
      const window = { merchantId: 'm_1', gateway: 'stripe', createdFrom: at(0), createdBefore: at(5000) };
      const page1 = await store.listPayments({ ...window, limit: 2 });
      expect(ids(page1)).toEqual([made[4]!.id, made[2]!.id]);
      expect(ids(await store.listPayments({ ...window, limit: 2, startingAfter: page1[1]!.id }))).toEqual([made[0]!.id]);
      expect(await store.listPayments({ merchantId: 'm_1', limit: 10, gateway: 'fiuu' })).toEqual([]);
      expect(await store.listPayments({ merchantId: 'm_1', limit: 10, createdFrom: at(6000) })).toEqual([]);
    });

    it("lists a merchant's events newest first with their delivery state, filters and a cursor", async () => {
      const p = samplePayment();
      await insert(p);
      const events = Array.from({ length: 5 }, (_, i) =>
        event({ id: `evt_list_${i}`, createdAt: at(i * 1000), type: i === 4 ? 'refund.succeeded' : 'payment.captured', paymentId: i < 3 ? p.id : null }),
      );
      await store.transaction(async (tx) => {
        for (const e of events) await tx.enqueueOutbox(e);
        await tx.enqueueOutbox(event({ id: 'evt_list_other', merchantId: 'm_2', createdAt: at(9000) }));
      });
      const claimed = await store.claimOutbox({ limit: 10, now: at(10_000), leaseUntil: at(70_000) });
      expect(claimed).toHaveLength(6);
      await store.completeOutbox('evt_list_0', { status: 'delivered', at: at(10_001) });
      await store.completeOutbox('evt_list_1', { status: 'dead', error: 'HTTP 500' });
      await store.completeOutbox('evt_list_3', { status: 'dead', error: 'timeout' });
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
      const all = await store.listOutboxEvents({ merchantId: 'm_1', limit: 10 });
      expect(ids(all)).toEqual(['evt_list_4', 'evt_list_3', 'evt_list_2', 'evt_list_1', 'evt_list_0']);
      expect(all[1]).toMatchObject({ status: 'dead', attempts: 1, lastError: 'timeout', data: { n: 1 }, merchantId: 'm_1' });
      expect(all[4]).toMatchObject({ status: 'delivered', deliveredAt: at(10_001) });
      const page1 = await store.listOutboxEvents({ merchantId: 'm_1', limit: 2 });
      expect(ids(page1)).toEqual(['evt_list_4', 'evt_list_3']);
      expect(ids(await store.listOutboxEvents({ merchantId: 'm_1', limit: 2, startingAfter: 'evt_list_3' }))).toEqual(['evt_list_2', 'evt_list_1']);
      expect(ids(await store.listOutboxEvents({ merchantId: 'm_1', limit: 10, deliveryStatus: 'dead' }))).toEqual(['evt_list_3', 'evt_list_1']);
      expect(ids(await store.listOutboxEvents({ merchantId: 'm_1', limit: 10, deliveryStatus: 'dead', startingAfter: 'evt_list_3' }))).toEqual(['evt_list_1']);
      expect(ids(await store.listOutboxEvents({ merchantId: 'm_1', limit: 10, type: 'refund.succeeded' }))).toEqual(['evt_list_4']);
      expect(ids(await store.listOutboxEvents({ merchantId: 'm_1', limit: 10, paymentId: p.id }))).toEqual(['evt_list_2', 'evt_list_1', 'evt_list_0']);
      // Another merchant's events, and its event as a cursor, are not this merchant's.
      expect(ids(await store.listOutboxEvents({ merchantId: 'm_2', limit: 10 }))).toEqual(['evt_list_other']);
      expect(await store.listOutboxEvents({ merchantId: 'm_1', limit: 10, startingAfter: 'evt_list_other' })).toEqual([]);
      expect(await store.listOutboxEvents({ merchantId: 'm_1', limit: 10, startingAfter: 'evt_missing' })).toEqual([]);
    });

    it('claims due outbox rows without handing one row to two claimers', async () => {
      const events = Array.from({ length: 30 }, (_, i) => event({ createdAt: at(i) }));
      await store.transaction(async (tx) => {
        for (const e of events) await tx.enqueueOutbox(e);
      });
      const claims = await Promise.all(Array.from({ length: 4 }, () => store.claimOutbox({ limit: 10, now: at(100), leaseUntil: at(60_100) })));
      const ids = claims.flat().map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(30);
      expect(await store.claimOutbox({ limit: 10, now: at(200), leaseUntil: at(60_200) })).toHaveLength(0);

      const [a, b, c] = events;
      await store.completeOutbox(a!.id, { status: 'delivered', at: at(300) });
      await store.completeOutbox(b!.id, { status: 'pending', nextAttemptAt: at(10_000), error: 'HTTP 500' });
      await store.completeOutbox(c!.id, { status: 'dead', error: 'gave up' });
      expect(await store.getOutboxEvent(a!.id)).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: at(300), data: { n: 1 } });
      expect(await store.getOutboxEvent(b!.id)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500', nextAttemptAt: at(10_000), lockedUntil: null });
      expect(await store.getOutboxEvent(c!.id)).toMatchObject({ status: 'dead', attempts: 1 });
      // Not due yet, then due; an expired lease of an unfinished claim makes rows claimable again.
      const later = await store.claimOutbox({ limit: 50, now: at(70_000), leaseUntil: at(130_000) });
      expect(later.map((r) => r.id)).toContain(b!.id);
      expect(later.map((r) => r.id)).not.toContain(a!.id);
      expect(later.map((r) => r.id)).not.toContain(c!.id);
      expect(later).toHaveLength(28);
      for (const row of later) await store.completeOutbox(row.id, { status: 'delivered', at: at(70_001) });
      expect(await store.requeueOutbox(c!.id, at(140_000))).toBe(true);
      expect(await store.requeueOutbox('evt_missing', at(140_000))).toBe(false);
      expect((await store.claimOutbox({ limit: 50, now: at(140_000), leaseUntil: at(200_000) })).map((r) => r.id)).toEqual([c!.id]);
    });

    it('hands the relay one payment at a time, in the order its events were written, to one claimer', async () => {
      // Three payments: p1's events written in one transaction and then another, p2's interleaved;
      // created_at ties and ids that sort against write order must not change the order.
      const p1 = 'pay_relay_1';
      const p2 = 'pay_relay_2';
      const e = (id: string, paymentId: string | null) => event({ id, paymentId, createdAt: at(0), payload: { id } });
      await store.transaction(async (tx) => {
        await tx.enqueueOutbox(e('evt_r_c', p1));
        await tx.enqueueOutbox(e('evt_r_b', p2));
        await tx.enqueueOutbox(e('evt_r_a', p1));
      });
      await store.transaction(async (tx) => {
        await tx.enqueueOutbox(e('evt_r_0', p1));
        await tx.enqueueOutbox(e('evt_r_z', null));
      });
      await store.transaction((tx) => tx.enqueueOutbox(e('evt_r_y', p2)));
      const lease = { now: at(10), leaseUntil: at(60_010) };
      // Concurrent claimers: every payment's head once, nothing twice, nothing behind a head.
      const claims = await Promise.all(Array.from({ length: 4 }, () => store.claimRelay({ limit: 10, ...lease })));
      const heads = claims.flat().map((r) => r.id).sort();
      expect(heads).toEqual(['evt_r_b', 'evt_r_c', 'evt_r_z']);
      expect(claims.flat().find((r) => r.id === 'evt_r_c')).toMatchObject({ payload: { id: 'evt_r_c' }, relay: { status: 'pending', lockedUntil: at(60_010) } });
      // Leased heads hold their payments back.
      expect(await store.claimRelay({ limit: 10, ...lease })).toEqual([]);
      await store.completeRelay('evt_r_c', { status: 'published', at: at(20) });
      await store.completeRelay('evt_r_b', { status: 'pending', nextAttemptAt: at(5_000), error: 'broker down' });
      await store.completeRelay('evt_r_z', { status: 'published', at: at(20) });
      expect((await store.claimRelay({ limit: 10, now: at(30), leaseUntil: at(60_030) })).map((r) => r.id)).toEqual(['evt_r_a']);
      // Merchant webhook delivery is separate state.
      expect(await store.getOutboxEvent('evt_r_c')).toMatchObject({ status: 'pending', relay: { status: 'published', attempts: 1, publishedAt: at(20) } });
      expect(await store.getOutboxEvent('evt_r_b')).toMatchObject({ relay: { status: 'pending', attempts: 1, lastError: 'broker down', nextAttemptAt: at(5_000) } });
      expect(await store.relayBacklog()).toEqual({ pending: 4, oldestCreatedAt: at(0) });
      // A dead head lets the next event of its payment go; an expired lease makes a head claimable again.
      await store.completeRelay('evt_r_a', { status: 'dead', error: 'too large' });
      expect((await store.claimRelay({ limit: 10, now: at(40), leaseUntil: at(100) })).map((r) => r.id)).toEqual(['evt_r_0']);
      expect((await store.claimRelay({ limit: 10, now: at(6_000), leaseUntil: at(70_000) })).map((r) => r.id).sort()).toEqual(['evt_r_0', 'evt_r_b']);
      await store.completeRelay('evt_r_b', { status: 'published', at: at(6_001) });
      // A relay whose lease ran out reports its failure late: the published row stays published.
      await store.completeRelay('evt_r_b', { status: 'pending', nextAttemptAt: at(9_000), error: 'late timeout' });
      await store.completeRelay('evt_r_b', { status: 'dead', error: 'late' });
      expect((await store.getOutboxEvent('evt_r_b'))?.relay).toMatchObject({ status: 'published', publishedAt: at(6_001), attempts: 2 });
      expect((await store.claimRelay({ limit: 1, now: at(6_002), leaseUntil: at(70_000) })).map((r) => r.id)).toEqual(['evt_r_y']);
      // Purge keeps what the relay still owes when asked to.
      for (const id of ['evt_r_c', 'evt_r_b', 'evt_r_a', 'evt_r_0', 'evt_r_z', 'evt_r_y']) await store.completeOutbox(id, { status: 'delivered', at: at(50) });
      expect(await store.purge({ now: at(7_000), deliveredBefore: at(100), keepUnpublished: true })).toMatchObject({ outbox: 4 });
      expect((await store.getOutboxEvent('evt_r_0'))?.relay.status).toBe('pending');
      expect((await store.getOutboxEvent('evt_r_y'))?.relay.status).toBe('pending');
      expect(await store.purge({ now: at(7_000), deliveredBefore: at(100) })).toMatchObject({ outbox: 2 });
    });

    it('purges expired idempotency records and old delivered outbox rows', async () => {
      await store.transaction(async (tx) => {
        await tx.claimIdempotencyKey(idem('old', { expiresAt: at(1000) }));
        await tx.claimIdempotencyKey(idem('young', { expiresAt: at(999_999) }));
        await tx.enqueueOutbox(event({ id: 'evt_old' }));
        await tx.enqueueOutbox(event({ id: 'evt_pending' }));
      });
      await store.claimOutbox({ limit: 10, now: at(0), leaseUntil: at(1) });
      await store.completeOutbox('evt_old', { status: 'delivered', at: at(10) });
      // A dry run counts the same rows and deletes none.
      expect(await store.purge({ now: at(5000), deliveredBefore: at(100), dryRun: true })).toEqual({ idempotency: 1, outbox: 1 });
      expect(await store.purge({ now: at(5000), deliveredBefore: at(100), dryRun: true, keepUnpublished: true })).toEqual({ idempotency: 1, outbox: 0 });
      expect(await store.getIdempotencyRecord('m_1', 'old')).not.toBeNull();
      expect(await store.getOutboxEvent('evt_old')).not.toBeNull();
      const purged = await store.purge({ now: at(5000), deliveredBefore: at(100), batchSize: 1 });
      expect(purged).toEqual({ idempotency: 1, outbox: 1 });
      expect(await store.getIdempotencyRecord('m_1', 'old')).toBeNull();
      expect(await store.getIdempotencyRecord('m_1', 'young')).not.toBeNull();
      expect(await store.getOutboxEvent('evt_old')).toBeNull();
      expect(await store.getOutboxEvent('evt_pending')).not.toBeNull();
    });

    it('counts the outbox backlog', async () => {
      expect(await store.countOutboxBacklog()).toBe(0);
      await store.transaction(async (tx) => {
        await tx.enqueueOutbox(event({ id: 'evt_b1' }));
        await tx.enqueueOutbox(event({ id: 'evt_b2' }));
      });
      expect(await store.countOutboxBacklog()).toBe(2);
      await store.claimOutbox({ limit: 1, now: at(0), leaseUntil: at(1) });
      const [claimed] = await store.claimOutbox({ limit: 5, now: at(2), leaseUntil: at(3) });
      await store.completeOutbox(claimed!.id, { status: 'delivered', at: at(2) });
      expect(await store.countOutboxBacklog()).toBe(1);
    });

    /** Every record of a kind, page by page, checking no page repeats one. */
    async function pageAll<K extends StoredRecordKind>(kind: K, limit: number, rewrite: (r: StoredRecords[K]) => StoredRecords[K] | null = () => null) {
      const seen: Array<StoredRecords[K]> = [];
      let after: string | null = null;
      let rewritten = 0;
      for (let pages = 0; pages < 100; pages++) {
        const page: RewriteRecordsPage = await store.rewriteRecords({ kind, after, limit, rewrite: (r) => (seen.push(r), rewrite(r)) });
        expect(page.scanned).toBeLessThanOrEqual(limit);
        rewritten += page.rewritten;
        if (page.next === null) return { seen, rewritten };
        after = page.next;
      }
      throw new Error('rewriteRecords never reached the end');
    }

    it('pages through every record kind by cursor and rewrites only the data fields, in place', async () => {
      const payments = Array.from({ length: 5 }, (_, i) => samplePayment({ customer: { name: `Name ${i}`, email: `p${i}@example.com` } }));
      for (const p of payments) await insert(p);
      const paid = payments[0]!;
      const refund = sampleRefund({ ...paid, status: 'CAPTURED' }, '1.00', { metadata: { note: 'r' } });
      await store.transaction(async (tx) => {
        await tx.updatePayment({ ...paid, status: 'CAPTURED', amountCaptured: '100.50', version: 2 });
        await tx.insertRefund(refund);
        for (let i = 0; i < 3; i++) await tx.enqueueOutbox(event({ id: `evt_rw_${i}`, paymentId: paid.id, data: { customer: { email: 'p0@example.com' } }, payload: { data: { bill_email: 'p0@example.com' } } }));
        for (let i = 0; i < 3; i++) await tx.claimIdempotencyKey(idem(`rw-${i}`, { merchantId: i === 2 ? 'm_2' : 'm_1', response: { status: 201, body: { customer: { name: 'Name 0' } } } }));
      });

      // Payments: every one once across pages; the data fields replaced, version, status and updatedAt kept.
      const { seen, rewritten } = await pageAll('payments', 2, (p) => ({ ...p, status: 'FAILED', version: 99, customer: { ...p.customer, name: `${p.customer.name} (rewritten)` }, metadata: { ...p.metadata, k: 'v' } }));
      expect(seen.map((p) => p.id).sort()).toEqual(payments.map((p) => p.id).sort());
      expect(rewritten).toBe(5);
      const after0 = (await store.getPayment(paid.id))!;
      expect(after0).toMatchObject({ status: 'CAPTURED', version: 2, updatedAt: paid.updatedAt, customer: { name: 'Name 0 (rewritten)', email: 'p0@example.com' }, metadata: { cart: '42', k: 'v' } });
      expect((await pageAll('payments', 10)).rewritten).toBe(0);

      // Refunds, outbox rows, idempotency records (keys of several merchants).
      const refunds = await pageAll('refunds', 1, (r) => ({ ...r, amount: '99.00', metadata: { note: 'changed' } }));
      expect(refunds.seen.map((r) => r.id)).toEqual([refund.id]);
      expect(await store.getRefund(refund.id)).toMatchObject({ amount: '1.00', metadata: { note: 'changed' } });
      const outbox = await pageAll('outbox', 2, (e) => ({ ...e, type: 'other', data: { customer: { email: 'x' } }, payload: { data: { bill_email: 'x' } } }));
      expect(outbox.seen.map((e) => e.id).sort()).toEqual(['evt_rw_0', 'evt_rw_1', 'evt_rw_2']);
      expect(await store.getOutboxEvent('evt_rw_1')).toMatchObject({ type: 'payment.captured', data: { customer: { email: 'x' } }, payload: { data: { bill_email: 'x' } }, status: 'pending' });
      const keys = await pageAll('idempotency', 2, (r) => ({ ...r, fingerprint: 'changed', response: { status: 201, body: { customer: { name: 'x' } } } }));
      expect(keys.seen.map((r) => `${r.merchantId}/${r.key}`).sort()).toEqual(['m_1/rw-0', 'm_1/rw-1', 'm_2/rw-2']);
      expect(await store.getIdempotencyRecord('m_2', 'rw-2')).toMatchObject({ fingerprint: 'fp1', response: { status: 201, body: { customer: { name: 'x' } } } });

      // A throw rolls the page back and reaches the caller.
      await expect(
        store.rewriteRecords({
          kind: 'payments',
          limit: 10,
          rewrite: (p) => {
            if (p.id === payments[3]!.id) throw new Error('rewrite failed');
            return { ...p, customer: {} };
          },
        }),
      ).rejects.toThrow('rewrite failed');
      for (const p of payments) expect((await store.getPayment(p.id))!.customer.name).toMatch(/\(rewritten\)$/);
    });

    it('anonymises the personal data of old payments and of their copies, keeping amounts and the trail', async () => {
      const old = samplePayment({
        status: 'CAPTURED',
        amountCaptured: '100.50',
        createdAt: at(0),
        customer: { name: 'Aisyah Binti Ali', email: 'aisyah@example.com', phone: '+60123456789' },
        metadata: { cart: '42', customer_email: 'aisyah@example.com' },
        nextAction: { type: 'seamless', gateway: 'test', params: { mpsamount: '100.50', mpsbill_name: 'Aisyah Binti Ali' } },
        gatewayData: { orderid: 'ORD-1', hostedPayment: { url: 'https://pay.example', fields: { bill_email: 'aisyah@example.com', amount: '100.50' } } },
      });
      const older = samplePayment({ createdAt: at(-1000) });
      const young = samplePayment({ createdAt: at(10_000) });
      for (const p of [old, older, young]) await insert(p);
      const refund = sampleRefund(old, '10.00', { metadata: { reason_code: 'x', payer_name: 'Aisyah Binti Ali' } });
      const trail = { id: newId('tr'), merchantId: 'm_1', paymentId: old.id, refundId: null, from: null, to: 'CAPTURED', reason: 'created', actor: 'api', at: at(0) };
      await store.transaction(async (tx) => {
        await tx.insertRefund(refund);
        await tx.appendTransition(trail);
        await tx.enqueueOutbox(event({ id: 'evt_anon', paymentId: old.id, data: { ...old }, payload: { type: 'payment.captured', data: { amount: '100.50', bill_name: 'Aisyah Binti Ali', bill_email: 'aisyah@example.com' } } }));
        await tx.enqueueOutbox(event({ id: 'evt_young', paymentId: young.id, data: { ...young } }));
        await tx.claimIdempotencyKey(idem('anon-payment', { resourceType: 'payment', resourceId: old.id, response: { status: 201, body: { ...old } } }));
        await tx.claimIdempotencyKey(idem('anon-refund', { resourceType: 'refund', resourceId: refund.id, response: { status: 201, body: { ...refund } } }));
        await tx.claimIdempotencyKey(idem('young', { resourceType: 'payment', resourceId: young.id, response: { status: 201, body: { ...young } } }));
      });

      const dry = await store.anonymizePayments({ createdBefore: at(5000), limit: 1, dryRun: true });
      expect(dry).toEqual({ payments: 2, refunds: 1, outbox: 1, idempotency: 2, paymentIds: [] });
      expect(await store.getPayment(old.id)).toMatchObject({ customer: old.customer, version: 1 });

      const first = await store.anonymizePayments({ createdBefore: at(5000), limit: 1 });
      expect(first).toMatchObject({ payments: 1, paymentIds: [older.id] });
      const second = await store.anonymizePayments({ createdBefore: at(5000), limit: 10 });
      expect(second).toEqual({ payments: 1, refunds: 1, outbox: 1, idempotency: 2, paymentIds: [old.id] });
      expect(await store.anonymizePayments({ createdBefore: at(5000), limit: 10 })).toMatchObject({ payments: 0 });
      expect(await store.anonymizePayments({ createdBefore: at(5000), limit: 10, dryRun: true })).toMatchObject({ payments: 0 });

      const p = (await store.getPayment(old.id))!;
      expect(p).toMatchObject({
        status: 'CAPTURED',
        amount: '100.50',
        amountCaptured: '100.50',
        version: 2,
        updatedAt: old.updatedAt,
        customer: { name: ANONYMIZED, email: ANONYMIZED, phone: ANONYMIZED },
        metadata: { cart: '42', customer_email: ANONYMIZED },
        nextAction: { type: 'seamless', params: { mpsamount: '100.50', mpsbill_name: ANONYMIZED } },
        gatewayData: { orderid: 'ORD-1', hostedPayment: { url: 'https://pay.example', fields: { bill_email: ANONYMIZED, amount: '100.50' } } },
      });
      expect(await store.getRefund(refund.id)).toMatchObject({ amount: '10.00', metadata: { reason_code: 'x', payer_name: ANONYMIZED } });
      expect(await store.listTransitions(old.id)).toEqual([trail]);
      const row = (await store.getOutboxEvent('evt_anon'))!;
      expect(row.data).toMatchObject({ amount: '100.50', customer: { name: ANONYMIZED, email: ANONYMIZED } });
      expect(row.payload).toEqual({ type: 'payment.captured', data: { amount: '100.50', bill_name: ANONYMIZED, bill_email: ANONYMIZED } });
      expect((await store.getIdempotencyRecord('m_1', 'anon-payment'))!.response!.body).toMatchObject({ amount: '100.50', customer: { email: ANONYMIZED } });
      expect((await store.getIdempotencyRecord('m_1', 'anon-refund'))!.response!.body).toMatchObject({ metadata: { payer_name: ANONYMIZED } });
      // Younger payments and their copies are untouched.
      expect(await store.getPayment(young.id)).toEqual(young);
      expect((await store.getOutboxEvent('evt_young'))!.data).toEqual(young);
      expect((await store.getIdempotencyRecord('m_1', 'young'))!.response!.body).toEqual(young);
      // The payment can still be written (the engine works on anonymised payments).
      await store.transaction((tx) => tx.updatePayment({ ...p, status: 'REFUNDED', version: 3 }));
      expect((await store.getPayment(old.id))!.customer.email).toBe(ANONYMIZED);
    });

    it('finds payments to reconcile, oldest first', async () => {
      const old = samplePayment({ status: 'PROCESSING', updatedAt: at(0) });
      const older = samplePayment({ status: 'PENDING', updatedAt: at(-5000) });
      const fresh = samplePayment({ status: 'PROCESSING', updatedAt: at(60_000) });
      const done = samplePayment({ status: 'CAPTURED', updatedAt: at(-9000) });
      for (const p of [old, older, fresh, done]) await insert(p);
      const due = await store.listPaymentsToReconcile({ statuses: ['PENDING', 'PROCESSING'], updatedBefore: at(30_000), limit: 10 });
      expect(due.map((p) => p.id)).toEqual([older.id, old.id]);
    });

    runBillingStoreConformance(() => store);
    runDisputeStoreConformance(() => store);
  });
}
