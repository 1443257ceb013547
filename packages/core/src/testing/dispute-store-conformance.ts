/**
 * The disputes part of the store conformance suite (the spec is `spec/store/v1/disputes.ts`), with
 * the sample record store and engine tests build on. {@link runStoreConformance} registers it; it is
 * not called on its own.
 *
 * @module
 */
import { vitestApi } from './vitest-api';
import type { Dispute, DisputeTransition } from '../dispute';
import { newId } from '../ids';
import type { Payment } from '../payment';
import type { Store, StoreTx } from '../spec/store/v1/index';
import { at, expectTenderError, samplePayment } from './store-conformance';

const DAY = 86_400_000;

/** A valid open dispute of `payment` for store tests (version 1, opened at the suites' start time). */
export function sampleDispute(payment: Pick<Payment, 'id' | 'merchantId' | 'gateway' | 'currency'>, overrides: Partial<Dispute> = {}): Dispute {
  return {
    id: newId('dp'),
    merchantId: payment.merchantId,
    paymentId: payment.id,
    gateway: payment.gateway,
    gatewayReference: newId('du'),
    status: 'needs_response',
    gatewayStatus: 'needs_response',
    amount: payment.currency === 'JPY' ? '100' : '25.50',
    currency: payment.currency,
    reason: 'fraudulent',
    evidenceDueBy: at(7 * DAY),
    openedAt: at(),
    closedAt: null,
    createdAt: at(),
    updatedAt: at(),
    syncedAt: at(),
    version: 1,
    ...overrides,
  };
}

function transition(d: Dispute, from: DisputeTransition['from'], to: DisputeTransition['to'], offsetMs: number): DisputeTransition {
  return { id: newId('tr'), merchantId: d.merchantId, disputeId: d.id, paymentId: d.paymentId, from, to, reason: 'test webhook', actor: 'webhook', at: at(offsetMs) };
}

/**
 * Registers the dispute tests inside the current `describe` of {@link runStoreConformance};
 * `current()` is the store under test of the running test.
 * @internal
 */
export function runDisputeStoreConformance(current: () => Store): void {
  const { describe, expect, it } = vitestApi();

  describe('disputes', () => {
    const tx = <T>(fn: (t: StoreTx) => Promise<T>) => current().transaction(fn);
    /** A stored CAPTURED payment of a merchant of its own (so lists see only this test's records). */
    const payment = async (merchantId = newId('m')) => {
      const p = samplePayment({ merchantId, status: 'CAPTURED', currency: 'USD', amount: '100.00', amountCaptured: '100.00', amountRefunded: '0.00' });
      await tx((t) => t.insertPayment(p));
      return p;
    };

    it('inserts a dispute and reads it back by id (merchant-scoped) and by gateway reference, as copies', async () => {
      const store = current();
      const p = await payment();
      const d = sampleDispute(p);
      await tx((t) => t.insertDispute(d));
      expect(await store.getDispute(d.id)).toEqual(d);
      expect(await store.getDispute(d.id, p.merchantId)).toEqual(d);
      expect(await store.getDispute(d.id, 'someone_else')).toBeNull();
      expect(await store.findDisputeByGatewayReference(d.gateway, d.gatewayReference)).toEqual(d);
      expect(await store.findDisputeByGatewayReference('other', d.gatewayReference)).toBeNull();
      const read = (await store.getDispute(d.id))!;
      read.status = 'lost';
      expect((await store.getDispute(d.id))!.status).toBe('needs_response');
      expect(await tx((t) => t.lockDispute(d.id))).toEqual(d);
    });

    it('refuses a duplicate id, a taken gateway reference and an unknown payment, changing nothing', async () => {
      const store = current();
      const p = await payment();
      const d = sampleDispute(p);
      await tx((t) => t.insertDispute(d));
      expect((await expectTenderError(tx((t) => t.insertDispute({ ...d, gatewayReference: newId('du') })), 'state_error')).code).toBe('duplicate_dispute');
      expect((await expectTenderError(tx((t) => t.insertDispute(sampleDispute(p, { gatewayReference: d.gatewayReference }))), 'state_error')).code).toBe('duplicate_gateway_reference');
      await expectTenderError(tx((t) => t.insertDispute(sampleDispute({ ...p, id: newId('pay') }))), 'not_found_error');
      // A failed insert inside a transaction that goes on leaves the transaction usable.
      const other = sampleDispute(p);
      await tx(async (t) => {
        await expectTenderError(t.insertDispute({ ...other, id: d.id }), 'state_error');
        await t.insertDispute(other);
      });
      expect((await store.listDisputes({ merchantId: p.merchantId })).map((x) => x.id).sort()).toEqual([d.id, other.id].sort());
      // A rolled-back insert leaves nothing.
      const rolledBack = sampleDispute(p);
      await expect(
        tx(async (t) => {
          await t.insertDispute(rolledBack);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await store.getDispute(rolledBack.id)).toBeNull();
    });

    it('updates conditionally on the version', async () => {
      const store = current();
      const p = await payment();
      const d = sampleDispute(p);
      await tx((t) => t.insertDispute(d));
      const won: Dispute = { ...d, status: 'won', gatewayStatus: 'won', closedAt: at(DAY), updatedAt: at(DAY), syncedAt: at(DAY), version: 2 };
      await tx((t) => t.updateDispute(won));
      expect(await store.getDispute(d.id)).toEqual(won);
      expect((await expectTenderError(tx((t) => t.updateDispute({ ...won, status: 'lost' })), 'state_error')).code).toBe('version_conflict');
      await expectTenderError(tx((t) => t.updateDispute(sampleDispute(p, { version: 2 }))), 'not_found_error');
      expect((await store.getDispute(d.id))!.status).toBe('won');
    });

    it('lists newest opened first, by merchant, payment, status and opened window, paged by cursor', async () => {
      const store = current();
      const p1 = await payment();
      const p2 = await payment(p1.merchantId);
      const foreign = await payment();
      const a = sampleDispute(p1, { openedAt: at(0) });
      const b = sampleDispute(p1, { openedAt: at(DAY), status: 'won' });
      const c = sampleDispute(p2, { openedAt: at(2 * DAY) });
      const x = sampleDispute(foreign, { openedAt: at(DAY) });
      for (const d of [a, b, c, x]) await tx((t) => t.insertDispute(d));
      const ids = (ds: Dispute[]) => ds.map((d) => d.id);
      expect(ids(await store.listDisputes({ merchantId: p1.merchantId }))).toEqual([c.id, b.id, a.id]);
      expect(ids(await store.listDisputes({ merchantId: p1.merchantId, paymentId: p1.id }))).toEqual([b.id, a.id]);
      expect(ids(await store.listDisputes({ merchantId: p1.merchantId, status: 'won' }))).toEqual([b.id]);
      expect(ids(await store.listDisputes({ merchantId: p1.merchantId, from: at(DAY), to: at(2 * DAY) }))).toEqual([b.id]);
      expect(ids(await store.listDisputes({ merchantId: p1.merchantId, limit: 2 }))).toEqual([c.id, b.id]);
      expect(ids(await store.listDisputes({ merchantId: p1.merchantId, limit: 2, startingAfter: b.id }))).toEqual([a.id]);
      expect(await store.listDisputes({ merchantId: p1.merchantId, startingAfter: 'dp_unknown' })).toEqual([]);
      // Without a merchant: every merchant's (a platform admin's analytics).
      const all = ids(await store.listDisputes({ from: at(0), to: at(3 * DAY) }));
      expect(all).toEqual(expect.arrayContaining([a.id, b.id, c.id, x.id]));
      expect(await store.listDisputes({ merchantId: p1.merchantId, paymentId: foreign.id })).toEqual([]);
    });

    it('keeps each dispute’s audit trail in the order it was written, in the transaction', async () => {
      const store = current();
      const p = await payment();
      const d = sampleDispute(p);
      const trail = [transition(d, null, 'needs_response', 0), transition(d, 'needs_response', 'under_review', 0), transition(d, 'under_review', 'won', DAY)];
      await tx(async (t) => {
        await t.insertDispute(d);
        await t.appendDisputeTransition(trail[0]!);
        await t.appendDisputeTransition(trail[1]!);
      });
      await tx((t) => t.appendDisputeTransition(trail[2]!));
      expect(await store.listDisputeTransitions(d.id)).toEqual(trail);
      expect(await store.listDisputeTransitions('dp_none')).toEqual([]);
      await expect(
        tx(async (t) => {
          await t.appendDisputeTransition(transition(d, 'won', 'lost', 2 * DAY));
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await store.listDisputeTransitions(d.id)).toHaveLength(3);
    });
  });
}
