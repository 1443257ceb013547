import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Money, PAYMENT_TRANSITIONS, REFUND_TRANSITIONS, TenderError, createTender, type PaymentStatus } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway, type TestFault } from '@tender/core/testing';

type Op =
  | { kind: 'create'; manual: boolean; amount: number; fault: TestFault | null; unconfirmed: boolean }
  | { kind: 'authorize'; index: number; fault: TestFault | null }
  | { kind: 'capture'; index: number; part: number; fault: TestFault | null }
  | { kind: 'cancel'; index: number }
  | { kind: 'refund'; index: number; part: number; fault: TestFault | null }
  | { kind: 'webhook'; index: number; status: PaymentStatus }
  | { kind: 'dashboardRefund'; index: number; part: number }
  | { kind: 'reconcile' };

const fault = fc.constantFrom<TestFault | null>(null, null, null, 'decline', 'timeout', 'lost_response', 'server_error', 'unavailable');
const op: fc.Arbitrary<Op> = fc.oneof(
  // One create in four is two-step (confirm=false, then authorize).
  fc.record({ kind: fc.constant('create' as const), manual: fc.boolean(), amount: fc.integer({ min: 1, max: 100_000 }), fault, unconfirmed: fc.constantFrom(false, false, false, true) }),
  fc.record({ kind: fc.constant('authorize' as const), index: fc.nat(), fault }),
  fc.record({ kind: fc.constant('capture' as const), index: fc.nat(), part: fc.integer({ min: 1, max: 100 }), fault }),
  fc.record({ kind: fc.constant('cancel' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('refund' as const), index: fc.nat(), part: fc.integer({ min: 1, max: 200 }), fault }),
  fc.record({
    kind: fc.constant('webhook' as const),
    index: fc.nat(),
    status: fc.constantFrom<PaymentStatus>('REQUIRES_ACTION', 'AUTHORIZED', 'CAPTURED', 'FAILED', 'CANCELLED', 'PROCESSING'),
  }),
  fc.record({ kind: fc.constant('dashboardRefund' as const), index: fc.nat(), part: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ kind: fc.constant('reconcile' as const) }),
);

describe('engine properties (random operation sequences with faults)', () => {
  it('never reaches an illegal state, never refunds more than captured, audits every transition', async () => {
    const seen = new Set<string>();
    let authorized = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const clock = new FakeClock();
        const gateway = createTestGateway();
        const store = new MemoryStore();
        const tender = createTender({ gateways: [gateway], store, clock });
        const ids: string[] = [];
        let seq = 0;
        for (const o of ops) {
          clock.advance(40_000);
          const pick = (i: number) => ids[i % Math.max(1, ids.length)];
          try {
            if (o.kind === 'create') {
              if (o.fault) gateway.inject(o.fault);
              const p = await tender.payments.create({ amount: Money.fromMinor(o.amount, 'MYR').toString(), currency: 'MYR', captureMethod: o.manual ? 'manual' : 'automatic', confirm: !o.unconfirmed });
              ids.push(p.id);
            } else if (o.kind === 'authorize' && pick(o.index)) {
              if (o.fault) gateway.inject(o.fault);
              await tender.payments.authorize(pick(o.index)!);
              authorized++;
            } else if (o.kind === 'capture' && pick(o.index)) {
              const p = await tender.payments.get(pick(o.index)!);
              if (o.fault) gateway.inject(o.fault);
              const amount = Money.fromMinor(Math.max(1, Math.floor((Money.of(p.amount, 'MYR').toMinor() * o.part) / 100)), 'MYR');
              await tender.payments.capture(p.id, { amount: amount.toString() });
            } else if (o.kind === 'cancel' && pick(o.index)) {
              await tender.payments.cancel(pick(o.index)!);
            } else if (o.kind === 'refund' && pick(o.index)) {
              const p = await tender.payments.get(pick(o.index)!);
              if (o.fault) gateway.inject(o.fault);
              // Parts over 100% ask for "everything left" (no amount).
              const amount = Money.fromMinor(Math.max(1, Math.floor((Money.of(p.amountCaptured, 'MYR').toMinor() * o.part) / 100)), 'MYR');
              await tender.payments.refund(p.id, o.part > 100 ? {} : { amount: amount.toString() });
            } else if (o.kind === 'webhook' && pick(o.index) && gateway.chargeOf(pick(o.index)!)) {
              await tender.webhooks.handle('test', gateway.webhookFor(pick(o.index)!, { eventId: `evt_${seq++}`, status: o.status }));
            } else if (o.kind === 'dashboardRefund' && pick(o.index)) {
              const charge = gateway.chargeOf(pick(o.index)!);
              const left = charge ? charge.refunds.filter((r) => r.status !== 'FAILED').reduce((s, r) => s.subtract(r.amount), charge.captured) : null;
              const amount = charge ? Money.fromMinor(Math.max(1, Math.floor((charge.captured.toMinor() * o.part) / 100)), 'MYR') : null;
              // As at a real provider, a dashboard refund fits in what is left to refund.
              if (charge && amount && left && charge.status === 'CAPTURED' && !amount.greaterThan(left)) {
                await tender.webhooks.handle('test', gateway.refundWebhook(pick(o.index)!, amount.toString(), { eventId: `evt_${seq++}` }));
              }
            } else if (o.kind === 'reconcile') {
              await tender.reconcile();
            }
          } catch (error) {
            // Every failure is a typed error: a client error (4xx) for a request the state does not
            // allow, or the gateway's own refusal (it may disagree with a stale webhook). "Unavailable"
            // only when this very step injected a fault; never an internal error, an illegal
            // transition or a lost race surfacing to the caller.
            expect(TenderError.isInstance(error), String(error)).toBe(true);
            const e = error as TenderError;
            expect(['illegal_transition', 'version_conflict', 'internal_error'], `${e.code}: ${e.message}`).not.toContain(e.code);
            const injected = 'fault' in o && o.fault !== null;
            // A webhook that cannot be applied yet (it would refund past a refund still pending here)
            // asks the gateway to deliver it again.
            const deferred = (o.kind === 'webhook' || o.kind === 'dashboardRefund') && e.code === 'webhook_deferred' && e.retryable;
            if (e.status >= 500) expect(e.type === 'gateway_error' || deferred || (injected && e.type === 'gateway_unavailable'), `${o.kind}: ${e.type} ${e.code} ${e.message}`).toBe(true);
            expect(e.status).toBeLessThan(600);
          } finally {
            // A fault this step did not consume must not land on a later step.
            gateway.clearFaults();
          }
        }
        for (const id of ids) {
          const p = await tender.payments.get(id);
          const trail = await tender.transitions(id);
          // The audit trail replays to the current status through legal transitions only.
          let status: string | null = null;
          for (const t of trail.filter((x) => x.refundId === null && x.from !== x.to)) {
            expect(t.from).toBe(status);
            if (status !== null) expect(PAYMENT_TRANSITIONS[status as PaymentStatus]).toContain(t.to);
            status = t.to;
          }
          expect(status).toBe(p.status);
          seen.add(p.status);
          const refunds = await tender.refunds.list(id);
          for (const r of refunds) {
            let rs: string | null = null;
            for (const t of trail.filter((x) => x.refundId === r.id)) {
              expect(t.from).toBe(rs);
              if (rs !== null) expect(REFUND_TRANSITIONS[rs as 'PENDING']).toContain(t.to);
              rs = t.to;
            }
            expect(rs).toBe(r.status);
          }
          const refunded = refunds.filter((r) => r.status !== 'FAILED').reduce((s, r) => s.add(Money.of(r.amount, 'MYR')), Money.zero('MYR'));
          expect(refunded.toString()).toBe(p.amountRefunded);
          expect(refunded.greaterThan(Money.of(p.amountCaptured, 'MYR'))).toBe(false);
          expect(Money.of(p.amountCaptured, 'MYR').greaterThan(Money.of(p.amount, 'MYR'))).toBe(false);
          // Exactly one charge per payment at the gateway, whatever faults happened.
          const charge = gateway.chargeOf(id);
          if (charge) expect(charge.createCount).toBe(1);
          // A payment still waiting for its authorize was never sent.
          if (p.status === 'PENDING' && 'unconfirmed' in p.gatewayData) expect(charge).toBeUndefined();
        }
      }),
      // Enough runs that every state below is reached with overwhelming probability (REFUNDED, the
      // rarest, shows up about 3 times per 100 runs), whatever seed fast-check draws.
      { numRuns: 600 },
    );
    // The generator really reaches the interesting states.
    for (const s of ['CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'AUTHORIZED', 'FAILED', 'CANCELLED', 'PROCESSING']) expect(seen).toContain(s);
    expect(authorized).toBeGreaterThan(0);
  });
});
