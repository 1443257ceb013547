/**
 * The engine against reports that lie, arrive early or twice, calls that never leave, and cancels
 * that race a create: nothing may bind a report to the wrong payment, and nothing that says
 * "cancelled" or "failed" may disagree with where the money is.
 */
import { describe, expect, it } from 'vitest';
import { createTender, invalidRequest, type Payment, type Tender } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway, type TestGateway, type TestGatewayOptions } from '@tender/core/testing';

function setup(options: TestGatewayOptions & { store?: MemoryStore; clock?: FakeClock } = {}) {
  const clock = options.clock ?? new FakeClock();
  const gateway = createTestGateway(options);
  const store = options.store ?? new MemoryStore();
  const tender = createTender({ gateways: [gateway], store, clock });
  return { clock, gateway, store, tender };
}

const body = { amount: '100.50', currency: 'MYR', paymentMethod: 'card' };

async function notes(tender: Tender, id: string, merchantId = 'default'): Promise<string[]> {
  return (await tender.transitions(id, { merchantId })).filter((t) => t.from === t.to).map((t) => t.reason.split(':')[0]!);
}

describe('binding a gateway report to a payment', () => {
  it('uses only what the gateway signed: an unsigned hint naming another merchant\'s payment moves nothing of theirs', async () => {
    const { tender, gateway } = setup({ flow: 'hosted' });
    const a = await tender.payments.create({ ...body, orderId: 'ORD-A' }, { merchantId: 'm_a' });
    const b = await tender.payments.create({ ...body, orderId: 'ORD-B' }, { merchantId: 'm_b' });
    gateway.complete(a.id, 'approve');
    // A genuine result for order A, carrying B's id where only the customer's metadata goes.
    const forged = gateway.customWebhook({ type: 'payment', order_id: 'ORD-A', reference: 'tran_A', hint_payment_id: b.id, status: 'CAPTURED', amount: '100.50', currency: 'MYR' });
    const handled = await tender.webhooks.handle('test', forged);
    expect(handled.outcomes.map((o) => o.outcome)).toEqual(['applied']);
    expect(await tender.payments.get(a.id, { merchantId: 'm_a' })).toMatchObject({ status: 'CAPTURED', gatewayReference: 'tran_A' });
    expect(await tender.payments.get(b.id, { merchantId: 'm_b' })).toMatchObject({ status: 'REQUIRES_ACTION', gatewayReference: null });
  });

  it('never binds on the hint alone: a report with no signed field that matches is not applied and asks for redelivery', async () => {
    const { tender, gateway } = setup({ flow: 'hosted' });
    const b = await tender.payments.create({ ...body, orderId: 'ORD-B' });
    const forged = gateway.customWebhook({ type: 'payment', order_id: 'ORD-NOPE', reference: 'tran_X', hint_payment_id: b.id, status: 'CAPTURED', amount: '100.50', currency: 'MYR' });
    await expect(tender.webhooks.handle('test', forged)).rejects.toMatchObject({ code: 'unknown_payment', retryable: true });
    expect(await tender.payments.get(b.id)).toMatchObject({ status: 'REQUIRES_ACTION', gatewayReference: null });
  });

  it('lets the hint choose only among payments the signed order id already matches (two attempts at one order)', async () => {
    const { tender, gateway } = setup({ flow: 'hosted' });
    const first = await tender.payments.create({ ...body, orderId: 'ORD-7' });
    const second = await tender.payments.create({ ...body, orderId: 'ORD-7' });
    const report = gateway.customWebhook({ type: 'payment', order_id: 'ORD-7', reference: 'tran_7', hint_payment_id: first.id, status: 'CAPTURED', amount: '100.50', currency: 'MYR' });
    await tender.webhooks.handle('test', report);
    expect((await tender.payments.get(first.id)).status).toBe('CAPTURED');
    expect((await tender.payments.get(second.id)).status).toBe('REQUIRES_ACTION');
  });

  it('changes nothing on a report that fails an integrity check, so the genuine one still binds correctly', async () => {
    const { tender, gateway } = setup({ flow: 'hosted' });
    const p = await tender.payments.create({ ...body, orderId: 'ORD-M' });
    // Signed, for this order, but for another amount (the attacker's own cheaper transaction).
    const wrongAmount = gateway.customWebhook({ type: 'payment', order_id: 'ORD-M', reference: 'tran_attacker', status: 'CAPTURED', amount: '1.00', currency: 'MYR' });
    await tender.webhooks.handle('test', wrongAmount);
    expect(await tender.payments.get(p.id)).toMatchObject({ status: 'REQUIRES_ACTION', gatewayReference: null });
    expect(await notes(tender, p.id)).toContain('amount_mismatch');
    const wrongCurrency = gateway.customWebhook({ type: 'payment', order_id: 'ORD-M', reference: 'tran_attacker2', status: 'CAPTURED', amount: '100.50', currency: 'SGD' });
    await tender.webhooks.handle('test', wrongCurrency);
    expect((await tender.payments.get(p.id)).gatewayReference).toBeNull();

    gateway.complete(p.id, 'approve');
    const reference = gateway.chargeOf(p.id)!.reference;
    await tender.webhooks.handle('test', gateway.webhookFor(p.id));
    expect(await tender.payments.get(p.id)).toMatchObject({ status: 'CAPTURED', gatewayReference: reference });
    // A later report naming another transaction for this payment is not believed either.
    await tender.webhooks.handle('test', gateway.customWebhook({ type: 'payment', payment_id: p.id, reference: 'tran_other', status: 'REFUNDED', amount: '100.50', currency: 'MYR' }));
    expect(await tender.payments.get(p.id)).toMatchObject({ status: 'CAPTURED', gatewayReference: reference });
    expect(await notes(tender, p.id)).toContain('reference_mismatch');
    // The refund goes to the payment's own transaction.
    await tender.payments.refund(p.id, { amount: '10.00' });
    expect(gateway.chargeOf(p.id)!.refunds.map((r) => r.amount.toString())).toEqual(['10.00']);
  });

  it('never ties a payment to a reference another payment holds, and the reconciler carries on past it', async () => {
    const { tender, gateway, clock } = setup();
    gateway.inject('lost_response');
    const lost = await tender.payments.create(body);
    expect(lost.status).toBe('PROCESSING');
    const other = await tender.payments.create(body);
    // The provider's ledger now answers the requery of `lost` with `other`'s reference.
    const charge = gateway.chargeOf(lost.id)!;
    charge.reference = other.gatewayReference!;
    clock.advance(31_000);
    const report = await tender.reconcile();
    expect(report.errors).toBe(0);
    expect(await tender.payments.get(lost.id)).toMatchObject({ status: 'PROCESSING', gatewayReference: null });
    expect(await notes(tender, lost.id)).toContain('reference_conflict');
  });
});

describe('an authorisation that lapses', () => {
  it('moves an AUTHORIZED payment to EXPIRED (nothing is held any more), while a late failure of the attempt stays stale', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create({ ...body, captureMethod: 'manual' });
    expect(p.status).toBe('AUTHORIZED');
    const failedAttempt = gateway.customWebhook({ type: 'payment', payment_id: p.id, reference: p.gatewayReference!, status: 'FAILED', amount: '100.50', currency: 'MYR' });
    await tender.webhooks.handle('test', failedAttempt);
    expect((await tender.payments.get(p.id)).status).toBe('AUTHORIZED');
    const lapsed = gateway.customWebhook({ type: 'payment', payment_id: p.id, reference: p.gatewayReference!, status: 'EXPIRED', amount: '100.50', currency: 'MYR' });
    await tender.webhooks.handle('test', lapsed);
    expect((await tender.payments.get(p.id)).status).toBe('EXPIRED');
    await expect(tender.payments.capture(p.id)).rejects.toMatchObject({ status: 409 });
  });
});

describe('refund reports that contradict the payment they name', () => {
  it('a refund in another currency is noted, not applied, and acknowledged (never a 400 the gateway retries for days)', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create(body);
    const report = gateway.customWebhook({ type: 'refund', payment_id: p.id, reference: p.gatewayReference!, refund_reference: 're_x', status: 'SUCCEEDED', amount: '10.00', currency: 'EUR' });
    const handled = await tender.webhooks.handle('test', report);
    expect(handled.status).toBe(200);
    expect(await tender.payments.get(p.id)).toMatchObject({ status: 'CAPTURED', amountRefunded: '0.00' });
    expect(await tender.refunds.list(p.id)).toEqual([]);
    expect(await notes(tender, p.id)).toContain('amount_mismatch');
  });

  it("a refund of another payment's charge that names ours in its signed metadata refunds neither", async () => {
    const { tender, gateway } = setup();
    const ours = await tender.payments.create(body);
    const theirs = await tender.payments.create(body, { merchantId: 'm_other' });
    const report = gateway.customWebhook({ type: 'refund', payment_id: ours.id, reference: theirs.gatewayReference!, refund_reference: 're_y', status: 'SUCCEEDED', amount: '10.00', currency: 'MYR' });
    expect((await tender.webhooks.handle('test', report)).status).toBe(200);
    expect(await tender.payments.get(ours.id)).toMatchObject({ status: 'CAPTURED', amountRefunded: '0.00' });
    expect(await tender.payments.get(theirs.id, { merchantId: 'm_other' })).toMatchObject({ status: 'CAPTURED', amountRefunded: '0.00' });
    expect(await notes(tender, ours.id)).toContain('reference_mismatch');
  });
});

describe('the reconciler', () => {
  it('keeps going when one payment fails, counts it, and backs that payment off', async () => {
    const { tender, gateway, clock } = setup();
    gateway.inject('lost_response');
    const bad = await tender.payments.create(body);
    gateway.inject('lost_response');
    const good = await tender.payments.create(body);
    clock.advance(31_000);
    // The first requery (oldest first: `bad`) fails; `good` is still resolved in the same run.
    gateway.inject('server_error');
    const first = await tender.reconcile();
    expect(first).toMatchObject({ checked: 2, updated: 1, errors: 1 });
    expect((await tender.payments.get(good.id)).status).toBe('CAPTURED');
    expect((await tender.payments.get(bad.id)).status).toBe('PROCESSING');
    // Straight after, `bad` waits; 30 s later it is tried again and resolved.
    const second = await tender.reconcile();
    expect(second).toMatchObject({ checked: 0, backedOff: 1, errors: 0 });
    clock.advance(31_000);
    const third = await tender.reconcile();
    expect(third).toMatchObject({ checked: 1, updated: 1, errors: 0 });
    expect((await tender.payments.get(bad.id)).status).toBe('CAPTURED');
  });
});

describe('cancelling while the create is still at the gateway', () => {
  async function pendingOnce(tender: Tender, store: MemoryStore): Promise<Payment> {
    for (let i = 0; i < 200; i++) {
      const [p] = await store.listPayments({ merchantId: 'default', limit: 1 });
      if (p) return p;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error('no payment was stored');
  }

  it('waits for the create here, then voids the authorisation: CANCELLED, and nothing held at the gateway', async () => {
    const { tender, gateway, store } = setup({ latencyMs: 50 });
    const creating = tender.payments.create({ ...body, captureMethod: 'manual' });
    const pending = await pendingOnce(tender, store);
    expect(pending.status).toBe('PENDING');
    const cancelled = await tender.payments.cancel(pending.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect((await creating).status).toBe('CANCELLED');
    expect(gateway.chargeOf(pending.id)!.status).toBe('CANCELLED');
  });

  it('refunds what an automatic capture took meanwhile: the payment ends REFUNDED, as the money is', async () => {
    const { tender, gateway, store } = setup({ latencyMs: 50 });
    const creating = tender.payments.create(body);
    const pending = await pendingOnce(tender, store);
    const answer = await tender.payments.cancel(pending.id);
    expect(answer.status).toBe('REFUNDED');
    await creating;
    const charge = gateway.chargeOf(pending.id)!;
    expect(charge.refunds.map((r) => [r.amount.toString(), r.status])).toEqual([['100.50', 'SUCCEEDED']]);
    expect((await tender.payments.get(pending.id)).gatewayData).not.toHaveProperty('cancelRequested');
  });

  it('records a cancel that reaches another instance and completes it there once the gateway answers', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock();
    const gateway = createTestGateway({ latencyMs: 50 });
    const creator = createTender({ gateways: [gateway], store, clock });
    const other = createTender({ gateways: [gateway], store, clock });
    const creating = creator.payments.create({ ...body, captureMethod: 'manual' });
    const pending = await pendingOnce(creator, store);
    const answer = await other.payments.cancel(pending.id);
    // The other instance cannot know what the gateway holds yet: it never says CANCELLED early.
    expect(answer.status).toBe('PENDING');
    expect(answer.gatewayData).toHaveProperty('cancelRequested');
    expect((await creating).status).toBe('CANCELLED');
    expect(gateway.chargeOf(pending.id)!.status).toBe('CANCELLED');
  });

  it('finishes a requested cancel through the reconciler when the create\'s answer was lost', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock();
    const gateway = createTestGateway({ latencyMs: 50 });
    const creator = createTender({ gateways: [gateway], store, clock });
    const other = createTender({ gateways: [gateway], store, clock });
    gateway.inject('lost_response');
    const creating = creator.payments.create({ ...body, captureMethod: 'manual' });
    const pending = await pendingOnce(creator, store);
    await other.payments.cancel(pending.id);
    // The answer was lost: still unresolved, still holding the request.
    expect((await creating).status).toBe('PROCESSING');
    clock.advance(31_000);
    await other.reconcile();
    expect((await other.payments.get(pending.id)).status).toBe('CANCELLED');
    expect(gateway.chargeOf(pending.id)!.status).toBe('CANCELLED');
  });

  it('gives the money back when a cancelled hosted payment is paid late, and says so', async () => {
    const { tender, gateway } = setup({ flow: 'redirect', capabilities: { cancel: false } });
    const p = await tender.payments.create(body);
    expect((await tender.payments.cancel(p.id)).status).toBe('CANCELLED');
    gateway.complete(p.id, 'approve');
    await tender.webhooks.handle('test', gateway.webhookFor(p.id));
    const after = await tender.payments.get(p.id);
    expect(after).toMatchObject({ status: 'REFUNDED', amountRefunded: '100.50' });
    expect(gateway.chargeOf(p.id)!.refunds).toHaveLength(1);
  });
});

describe('limits and unavailability: nothing is stored for a request that cannot go', () => {
  it('refuses an amount above the gateway\'s maximum, or beyond minor units, before writing anything', async () => {
    const { tender, store } = setup({ capabilities: { maxAmountMinor: { MYR: 99_999_999, '*': 1_000 } } });
    await expect(tender.payments.create({ ...body, amount: '1000000.00' })).rejects.toMatchObject({ status: 400, code: 'amount_too_large', param: 'amount' });
    await expect(tender.payments.create({ ...body, amount: '99999999999999999999.99' })).rejects.toMatchObject({ status: 400, code: 'amount_too_large' });
    await expect(tender.payments.create({ ...body, currency: 'SGD', amount: '10.01' })).rejects.toMatchObject({ status: 400, code: 'amount_too_large' });
    expect(await store.listPayments({ merchantId: 'default', limit: 10 })).toEqual([]);
    expect((await tender.payments.list()).data).toEqual([]);
    expect((await tender.payments.create({ ...body, amount: '999999.99' })).status).toBe('CAPTURED');
  });

  it('asks each gateway to check the payment first: a refusal stores nothing, and routing moves on to one that takes it', async () => {
    const store = new MemoryStore();
    const picky = createTestGateway({ id: 'picky' });
    const refusing = {
      ...picky,
      validateCreate(input: { amount: { toString(): string } }) {
        if (input.amount.toString().endsWith('5')) throw invalidRequest('amount_not_supported', 'picky takes no amount ending in 5', 'amount');
      },
    };
    const alone = createTender({ gateways: [refusing], store });
    await expect(alone.payments.create({ ...body, amount: '10.05' })).rejects.toMatchObject({ status: 400, code: 'amount_not_supported', param: 'amount' });
    expect(await store.listPayments({ merchantId: 'default', limit: 10 })).toEqual([]);
    const fallback = createTestGateway({ id: 'fallback' });
    const routed = createTender({ gateways: [refusing, fallback], store });
    expect(await routed.payments.create({ ...body, amount: '10.05' })).toMatchObject({ gateway: 'fallback', status: 'CAPTURED' });
    expect(await routed.payments.create({ ...body, amount: '10.10' })).toMatchObject({ gateway: 'picky' });
  });

  it('answers capture, cancel and refund with a retryable 503 while the circuit is open, storing nothing; the same key works later', async () => {
    const { tender, gateway, store } = setup();
    const auth = await tender.payments.create({ ...body, captureMethod: 'manual' });
    const paid = await tender.payments.create(body);
    gateway.setCircuitOpen(true);
    for (const call of [
      () => tender.payments.capture(auth.id, {}, { idempotencyKey: 'cap-1' }),
      () => tender.payments.cancel(auth.id, { idempotencyKey: 'can-1' }),
      () => tender.payments.refund(paid.id, {}, { idempotencyKey: 'ref-1' }),
      () => tender.payments.create(body, { idempotencyKey: 'new-1' }),
    ]) {
      await expect(call()).rejects.toMatchObject({ status: 503, retryable: true, retryAfterSeconds: expect.any(Number) });
    }
    for (const key of ['cap-1', 'can-1', 'ref-1', 'new-1']) expect(await store.getIdempotencyRecord('default', key)).toBeNull();
    expect(await tender.refunds.list(paid.id)).toEqual([]);
    expect((await tender.payments.get(auth.id)).status).toBe('AUTHORIZED');
    expect((await tender.payments.list()).data).toHaveLength(2);
    gateway.setCircuitOpen(false);
    expect((await tender.payments.capture(auth.id, {}, { idempotencyKey: 'cap-1' })).status).toBe('CAPTURED');
    expect((await tender.payments.refund(paid.id, {}, { idempotencyKey: 'ref-1' })).status).toBe('SUCCEEDED');
  });

  it('frees the key when a capture turns out never sent after all, instead of replaying "unavailable" forever', async () => {
    const { tender, gateway, store } = setup();
    const auth = await tender.payments.create({ ...body, captureMethod: 'manual' });
    gateway.inject('unavailable');
    await expect(tender.payments.capture(auth.id, {}, { idempotencyKey: 'cap-2' })).rejects.toMatchObject({ status: 503, retryable: true });
    expect(await store.getIdempotencyRecord('default', 'cap-2')).toBeNull();
    expect((await tender.payments.get(auth.id)).status).toBe('AUTHORIZED');
    expect((await tender.payments.capture(auth.id, {}, { idempotencyKey: 'cap-2' })).status).toBe('CAPTURED');
  });

  it('leases a key for longer than the slowest gateway call can take', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const gateway = createTestGateway({ worstCaseCallMs: 3 * 30_000 + 2 * 30_000 });
    const tender = createTender({ gateways: [gateway], store, clock, idempotency: { leaseMs: 60_000 } });
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const slow = { ...gateway, createPayment: async (...args: Parameters<TestGateway['createPayment']>) => (await blocked, gateway.createPayment(...args)) };
    const first = createTender({ gateways: [slow], store, clock }).payments.create(body, { idempotencyKey: 'slow-1' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    // 61 s into a call that may take 150 s: the key is still the first request's.
    clock.advance(61_000);
    await expect(tender.payments.create(body, { idempotencyKey: 'slow-1' })).rejects.toMatchObject({ status: 409, code: 'idempotency_key_in_use' });
    release();
    const done = await first;
    expect((await tender.payments.create(body, { idempotencyKey: 'slow-1' })).id).toBe(done.id);
    expect(gateway.chargeOf(done.id)!.createCount).toBe(1);
  });
});

describe('webhooks in any order converge on what the gateway holds', () => {
  /** A seeded PRNG (mulberry32), so a failing order can be replayed. */
  function prng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  async function run(seed: number | null) {
    const { tender, gateway } = setup();
    const stream: ReturnType<TestGateway['webhookFor']>[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const p = await tender.payments.create({ ...body, captureMethod: 'manual' });
      ids.push(p.id);
      // In the gateway's dashboard: capture, then one or two refunds; each makes its event.
      gateway.captureAtProvider(p.id);
      stream.push(gateway.webhookFor(p.id, { status: 'CAPTURED' }));
      stream.push(gateway.refundWebhook(p.id, '30.00'));
      if (i % 2 === 0) stream.push(gateway.refundWebhook(p.id, '70.50'));
    }
    let deliveries = [...stream];
    if (seed !== null) {
      const random = prng(seed);
      deliveries = [...stream, ...stream.filter(() => random() < 0.3)];
      for (let i = deliveries.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
      }
    }
    // 16 at a time; a retryable error means the gateway delivers it again later.
    for (let round = 0; deliveries.length > 0 && round < 5; round++) {
      const retry: typeof deliveries = [];
      for (let i = 0; i < deliveries.length; i += 16) {
        const batch = deliveries.slice(i, i + 16);
        const results = await Promise.allSettled(batch.map((d) => tender.webhooks.handle('test', d)));
        results.forEach((r, k) => {
          if (r.status === 'rejected') {
            expect(r.reason).toMatchObject({ retryable: true });
            retry.push(batch[k]!);
          }
        });
      }
      deliveries = retry;
    }
    expect(deliveries).toEqual([]);
    for (const id of ids) {
      const p = await tender.payments.get(id);
      const charge = gateway.chargeOf(id)!;
      const refunded = charge.refunds.reduce((sum, r) => sum + Number(r.amount.toString()), 0);
      expect({ id, status: p.status, captured: p.amountCaptured, refunded: p.amountRefunded }).toEqual({
        id,
        status: refunded >= 100.5 ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
        captured: '100.50',
        refunded: refunded.toFixed(2),
      });
      const refunds = await tender.refunds.list(id);
      expect(refunds.map((r) => r.gatewayReference).sort()).toEqual(charge.refunds.map((r) => r.reference).sort());
    }
  }

  it('in order (the control)', async () => {
    await run(null);
  });

  for (const seed of [1, 2, 3]) {
    it(`shuffled with 30 % duplicates, 16 at a time (seed ${seed})`, async () => {
      await run(seed);
    });
  }

  it('keeps a refund FAILED when its failure arrives before its creation', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create(body);
    const reference = gateway.chargeOf(p.id)!.reference;
    const failed = gateway.customWebhook({ type: 'refund', reference, refund_reference: 're_x', status: 'FAILED', amount: '20.00', currency: 'MYR' });
    const created = gateway.customWebhook({ type: 'refund', reference, refund_reference: 're_x', status: 'PENDING', amount: '20.00', currency: 'MYR' });
    await tender.webhooks.handle('test', failed);
    await tender.webhooks.handle('test', created);
    const refunds = await tender.refunds.list(p.id);
    expect(refunds.map((r) => [r.gatewayReference, r.status])).toEqual([['re_x', 'FAILED']]);
    expect(await tender.payments.get(p.id)).toMatchObject({ status: 'CAPTURED', amountRefunded: '0.00' });
  });

  it('requeries a verified but incomplete event instead of guessing, and asks for redelivery when it cannot', async () => {
    const { tender, gateway } = setup({ flow: 'redirect' });
    const p = await tender.payments.create(body);
    gateway.complete(p.id, 'approve');
    const incomplete = gateway.customWebhook({ type: 'requery', payment_id: p.id, reason: 'amount_received missing' });
    gateway.inject('server_error');
    await expect(tender.webhooks.handle('test', incomplete)).rejects.toMatchObject({ status: 503, code: 'webhook_deferred', retryable: true });
    expect((await tender.payments.get(p.id)).status).toBe('REQUIRES_ACTION');
    const handled = await tender.webhooks.handle('test', incomplete);
    expect(handled.outcomes.map((o) => o.outcome)).toEqual(['requeried']);
    expect((await tender.payments.get(p.id)).status).toBe('CAPTURED');
    expect((await tender.webhooks.handle('test', incomplete)).outcomes.map((o) => o.outcome)).toEqual(['duplicate']);
  });
});
