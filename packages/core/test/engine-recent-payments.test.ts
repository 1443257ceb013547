import { describe, expect, it } from 'vitest';
import { createTender } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';

const body = { amount: '100.50', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual' as const, orderId: 'ORD-1' };

/** Two engines (two instances of a service) on one store; the test gateway is shared so both know every charge. */
function twoEngines() {
  const store = new MemoryStore();
  const gateway = createTestGateway();
  return { store, a: createTender({ gateways: [gateway], store }), b: createTender({ gateways: [gateway], store }) };
}

describe('engine: operating on a payment it has just written', () => {
  it('acts on the current row when another instance changed the payment since', async () => {
    const { a, b } = twoEngines();
    const p = await a.payments.create(body);
    // b cancels it: a's copy of the payment (AUTHORIZED) is now stale.
    expect((await b.payments.cancel(p.id)).status).toBe('CANCELLED');
    await expect(a.payments.capture(p.id)).rejects.toMatchObject({ code: 'payment_not_capturable', status: 409 });
    expect((await a.payments.get(p.id)).status).toBe('CANCELLED');
  });

  it('refuses with the current row\'s state when another instance captured part of it meanwhile', async () => {
    const { a, b } = twoEngines();
    const p = await a.payments.create(body);
    await b.payments.capture(p.id, { amount: '40.00' });
    await expect(a.payments.capture(p.id)).rejects.toMatchObject({ code: 'payment_not_capturable', status: 409 });
    expect(await a.payments.get(p.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '40.00' });
    expect((await a.transitions(p.id)).map((t) => t.to)).toEqual(['PENDING', 'AUTHORIZED', 'PROCESSING', 'CAPTURED']);
  });

  it('is not misled by a caller changing the payment object it was handed', async () => {
    const { a } = twoEngines();
    const p = await a.payments.create(body);
    p.status = 'CAPTURED';
    p.amount = '1.00';
    p.gatewayData.pendingCapture = '1.00';
    const captured = await a.payments.capture(p.id);
    expect(captured).toMatchObject({ status: 'CAPTURED', amount: '100.50', amountCaptured: '100.50' });
    expect(captured.gatewayData).not.toHaveProperty('pendingCapture');
  });

  it('answers 404 for another merchant\'s payment it has just written', async () => {
    const { a } = twoEngines();
    const p = await a.payments.create(body, { merchantId: 'm1' });
    await expect(a.payments.capture(p.id, {}, { merchantId: 'm2' })).rejects.toMatchObject({ status: 404 });
    expect((await a.payments.capture(p.id, {}, { merchantId: 'm1' })).status).toBe('CAPTURED');
  });
});
