/**
 * A payment whose next action carries its own deadline (a UPI intent or collect request) is requeried
 * once that deadline passes, even when it is sooner than the reconciler's REQUIRES_ACTION TTL, and
 * expired only when the gateway still reports it unpaid. A late success is never thrown away.
 */
import { describe, expect, it } from 'vitest';
import { createTender, type GatewayV1 } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway } from '@tender/core/testing';

function setup(windowMs: number) {
  const clock = new FakeClock();
  const inner = createTestGateway({ flow: 'redirect' });
  // The test gateway's redirect flow, answered as a UPI intent that expires after `windowMs`.
  const gateway: GatewayV1 = {
    ...inner,
    capabilities: inner.capabilities,
    async createPayment(input, ctx) {
      const result = await inner.createPayment(input, ctx);
      if (result.status !== 'REQUIRES_ACTION') return result;
      return { ...result, nextAction: { type: 'upi_intent', url: `upi://pay?pa=shop@okbank&tr=${input.paymentId}`, expiresAt: new Date(ctx.now.getTime() + windowMs).toISOString() } };
    },
    retrieve: (input, ctx) => inner.retrieve(input, ctx),
  };
  const tender = createTender({ gateways: [gateway], store: new MemoryStore(), clock, reconciliation: { requiresActionTtlMs: 30 * 60_000 } });
  return { clock, inner, tender };
}

describe('next-action deadlines', () => {
  it('expires an unpaid payment once its own expiresAt has passed, not before, after asking the gateway', async () => {
    const { clock, inner, tender } = setup(5 * 60_000);
    const p = await tender.payments.create({ amount: '100.00', currency: 'INR', paymentMethod: 'upi' });
    expect(p).toMatchObject({ status: 'REQUIRES_ACTION', nextAction: { type: 'upi_intent' } });
    clock.advance(4 * 60_000);
    const early = await tender.reconcile();
    expect(early.expired).toBe(0);
    expect((await tender.payments.get(p.id)).status).toBe('REQUIRES_ACTION');
    const before = inner.calls.retrieve ?? 0;
    clock.advance(61_000);
    const report = await tender.reconcile();
    expect(report).toMatchObject({ checked: 1, expired: 1, errors: 0 });
    expect(inner.calls.retrieve ?? 0).toBe(before + 1);
    expect(await tender.payments.get(p.id)).toMatchObject({ status: 'EXPIRED', nextAction: null, failure: { code: 'expired' } });
  });

  it('keeps a success the gateway reports at the deadline: requery first, never expire money taken', async () => {
    const { clock, inner, tender } = setup(5 * 60_000);
    const p = await tender.payments.create({ amount: '100.00', currency: 'INR', paymentMethod: 'upi' });
    inner.complete(p.id, 'approve');
    clock.advance(6 * 60_000);
    const report = await tender.reconcile();
    expect(report.expired).toBe(0);
    expect((await tender.payments.get(p.id)).status).toBe('CAPTURED');
  });

  it('moves an expired payment to CAPTURED when the payer paid after all', async () => {
    const { clock, inner, tender } = setup(60_000);
    const p = await tender.payments.create({ amount: '100.00', currency: 'INR', paymentMethod: 'upi' });
    clock.advance(61_000);
    await tender.reconcile();
    expect((await tender.payments.get(p.id)).status).toBe('EXPIRED');
    inner.complete(p.id, 'approve');
    await tender.webhooks.handle('test', inner.webhookFor(p.id));
    expect((await tender.payments.get(p.id)).status).toBe('CAPTURED');
  });
});
