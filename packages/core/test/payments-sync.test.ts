import { describe, expect, it } from 'vitest';
import { createTender } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway } from '@tender/core/testing';

function setup() {
  const clock = new FakeClock();
  const gateway = createTestGateway({ flow: 'redirect' });
  const tender = createTender({ gateways: [gateway], store: new MemoryStore(), clock });
  return { clock, gateway, tender };
}

describe('tender.payments.sync', () => {
  it("applies the gateway's own answer at once (a buyer back from the approval page)", async () => {
    const { gateway, tender } = setup();
    const p = await tender.payments.create({ amount: '10.00', currency: 'USD' });
    expect(p.status).toBe('REQUIRES_ACTION');
    expect((await tender.payments.sync(p.id)).status).toBe('REQUIRES_ACTION');
    gateway.complete(p.id, 'approve');
    // Within the interval the stored payment is answered: no requery storm from reloads.
    expect((await tender.payments.sync(p.id)).status).toBe('REQUIRES_ACTION');
    expect(await tender.payments.sync(p.id, { minIntervalMs: 0 })).toMatchObject({ status: 'CAPTURED', amountCaptured: '10.00' });
    const trail = await tender.transitions(p.id);
    expect(trail.at(-1)).toMatchObject({ to: 'CAPTURED', actor: 'reconciler' });
  });

  it('shares one requery between concurrent callers and never requeries a settled payment', async () => {
    const { gateway, tender } = setup();
    const p = await tender.payments.create({ amount: '10.00', currency: 'USD' });
    gateway.complete(p.id, 'approve');
    const before = gateway.calls.retrieve ?? 0;
    const all = await Promise.all(Array.from({ length: 5 }, () => tender.payments.sync(p.id)));
    expect(all.map((x) => x.status)).toEqual(Array(5).fill('CAPTURED'));
    expect(gateway.calls.retrieve ?? 0).toBe(before + 1);
    await tender.payments.sync(p.id, { minIntervalMs: 0 });
    expect(gateway.calls.retrieve ?? 0).toBe(before + 1);
  });

  it("is the merchant's own: another merchant's payment is a 404, and a failing requery leaves the payment as stored", async () => {
    const { gateway, tender } = setup();
    const p = await tender.payments.create({ amount: '10.00', currency: 'USD' }, { merchantId: 'm_a' });
    await expect(tender.payments.sync(p.id, { merchantId: 'm_b' })).rejects.toMatchObject({ type: 'not_found_error' });
    gateway.inject('server_error');
    expect((await tender.payments.sync(p.id, { merchantId: 'm_a' })).status).toBe('REQUIRES_ACTION');
  });
});
