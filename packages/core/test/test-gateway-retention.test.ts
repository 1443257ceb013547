import { describe, expect, it } from 'vitest';
import { createTender } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';

describe('test gateway retention', () => {
  it('remembers only the newest `retention` charges, forgetting the oldest first', async () => {
    const gateway = createTestGateway({ retention: 3 });
    const tender = createTender({ gateways: [gateway], store: new MemoryStore() });
    const payments = [];
    for (let i = 0; i < 5; i++) {
      payments.push(await tender.payments.create({ amount: '10.00', currency: 'MYR', paymentMethod: 'card' }, { idempotencyKey: `ret-${i}` }));
    }
    expect(gateway.ledger.size).toBe(3);
    expect(gateway.chargeOf(payments[0]!.id)).toBeUndefined();
    expect(gateway.chargeOf(payments[1]!.id)).toBeUndefined();
    expect(gateway.chargeOf(payments[4]!.id)?.status).toBe('CAPTURED');
  });

  it('refuses a retention that is not a positive integer', () => {
    expect(() => createTestGateway({ retention: 0 })).toThrow(/^retention must be a positive integer/);
  });
});
