/**
 * The unit of work of the store benchmarks: a payment created (manual capture, with an idempotency
 * key) and captured through an engine on the given store, with the in-process test gateway.
 */
import { randomBytes } from 'node:crypto';
import { createTender, type Store } from '@tender/core';
import { createTestGateway } from '@tender/core/testing';

/** create + capture through a new engine on `store`; each call is a new payment. */
export function engineOp(store: Store): () => Promise<void> {
  const tender = createTender({ gateways: [createTestGateway()], store });
  const prefix = randomBytes(6).toString('hex');
  let n = 0;
  return async () => {
    const i = n++;
    const p = await tender.payments.create(
      { amount: '100.50', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual', orderId: `ORD-${i}` },
      { idempotencyKey: `bench-${prefix}-${i}` },
    );
    await tender.payments.capture(p.id);
  };
}
