import { describe, expect, it } from 'vitest';
import { TenderError, createTender, type OutboxEvent } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway } from '@tender/core/testing';

function setup(options: { flow?: 'direct' | 'redirect'; leaseMs?: number } = {}) {
  const clock = new FakeClock();
  const gateway = createTestGateway({ flow: options.flow ?? 'direct' });
  const store = new MemoryStore();
  const tender = createTender({ gateways: [gateway], store, clock, idempotency: { leaseMs: options.leaseMs ?? 60_000 } });
  return { clock, gateway, store, tender };
}

const body = { amount: '100.50', currency: 'MYR', paymentMethod: 'card', orderId: 'ORD-1' };

describe('engine: payments', () => {
  it('creates and captures with automatic capture, recording every transition', async () => {
    const { tender, store } = setup();
    const events: OutboxEvent[] = [];
    tender.events.on((e) => events.push(e));
    const payment = await tender.payments.create(body);
    expect(payment).toMatchObject({ status: 'CAPTURED', amount: '100.50', amountCaptured: '100.50', currency: 'MYR', gateway: 'test' });
    const trail = await tender.transitions(payment.id);
    expect(trail.map((t) => [t.from, t.to])).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'CAPTURED'],
    ]);
    expect(events.map((e) => e.type)).toEqual(['payment.created', 'payment.captured']);
    expect((await store.getOutboxEvent(events[1]!.id))!.status).toBe('pending');
  });

  it('authorises, partially captures, and refuses a second capture', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create({ ...body, captureMethod: 'manual' });
    expect(p.status).toBe('AUTHORIZED');
    await expect(tender.payments.capture(p.id, { amount: '200.00' })).rejects.toMatchObject({ code: 'amount_too_large', status: 400 });
    const captured = await tender.payments.capture(p.id, { amount: '60.00' });
    expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: '60.00' });
    expect(gateway.chargeOf(p.id)!.captured.toString()).toBe('60.00');
    await expect(tender.payments.capture(p.id)).rejects.toMatchObject({ code: 'payment_not_capturable', status: 409 });
    await expect(tender.payments.refund(p.id, { amount: '60.01' })).rejects.toMatchObject({ code: 'amount_too_large' });
  });

  it('cancels an authorisation at the gateway', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create({ ...body, captureMethod: 'manual' });
    expect((await tender.payments.cancel(p.id)).status).toBe('CANCELLED');
    expect(gateway.chargeOf(p.id)!.status).toBe('CANCELLED');
    await expect(tender.payments.cancel(p.id)).rejects.toMatchObject({ status: 409 });
  });

  it('rejects bad input with typed 400s and stores nothing', async () => {
    const { tender, store } = setup();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...body, amount: '100.505' }, 'amount_too_precise'],
      [{ ...body, amount: '-1' }, 'amount_negative'],
      [{ ...body, amount: '0' }, 'amount_too_small'],
      [{ ...body, amount: undefined }, 'parameter_missing'],
      [{ ...body, currency: 'ABC' }, 'invalid_currency'],
      [{ ...body, returnUrl: 'javascript:alert(1)' }, 'invalid_url'],
      [{ ...body, customer: { email: 'not-an-email' } }, 'invalid_email'],
      [{ ...body, metadata: { k: 5 } }, 'invalid_metadata'],
      [{ ...body, gateway: 'nope' }, 'unknown_gateway'],
      [{ ...body, captureMethod: 'later' }, 'invalid_capture_method'],
    ];
    for (const [input, code] of cases) {
      const error = await tender.payments.create(input as never).catch((e: unknown) => e);
      expect(TenderError.isInstance(error), code).toBe(true);
      expect(error).toMatchObject({ status: 400, code });
    }
    expect((await store.listPayments({ merchantId: 'default', limit: 10 })).length).toBe(0);
  });

  it('keeps merchants apart (another merchant sees 404)', async () => {
    const { tender } = setup();
    const p = await tender.payments.create(body, { merchantId: 'm_a' });
    await expect(tender.payments.get(p.id, { merchantId: 'm_b' })).rejects.toMatchObject({ status: 404 });
    await expect(tender.payments.refund(p.id, {}, { merchantId: 'm_b' })).rejects.toMatchObject({ status: 404 });
    expect((await tender.payments.get(p.id, { merchantId: 'm_a' })).id).toBe(p.id);
  });

  it('fails over to the next gateway only when the request never left', async () => {
    const clock = new FakeClock();
    const a = createTestGateway({ id: 'a' });
    const b = createTestGateway({ id: 'b' });
    const tender = createTender({ gateways: [a, b], store: new MemoryStore(), clock });
    a.inject('unavailable');
    const p = await tender.payments.create(body);
    expect(p).toMatchObject({ gateway: 'b', status: 'CAPTURED' });
    a.inject('timeout');
    const q = await tender.payments.create({ ...body, orderId: 'ORD-2' });
    expect(q).toMatchObject({ gateway: 'a', status: 'PROCESSING' });
    expect(b.calls.createPayment).toBe(1);
  });

  it('matches declared payment methods exactly or by a trailing-* prefix', async () => {
    const fiuuLike = createTestGateway({ id: 'fiuu', capabilities: { paymentMethods: ['FPX', 'FIUU:*'] } });
    const tender = createTender({ gateways: [fiuuLike], store: new MemoryStore() });
    expect((await tender.payments.create({ ...body, paymentMethod: 'fpx' })).gateway).toBe('fiuu');
    expect((await tender.payments.create({ ...body, paymentMethod: 'FIUU:maybank2u' })).gateway).toBe('fiuu');
    await expect(tender.payments.create({ ...body, paymentMethod: 'GRABPAY' })).rejects.toMatchObject({ code: 'no_eligible_gateway' });
  });

  it('routes by currency rules and rejects currencies no gateway takes', async () => {
    const myr = createTestGateway({ id: 'myr', capabilities: { currencies: ['MYR'] } });
    const usd = createTestGateway({ id: 'usd', capabilities: { currencies: ['USD', 'MYR'] } });
    const tender = createTender({ gateways: [myr, usd], store: new MemoryStore(), routing: [{ currencies: ['MYR'], gateways: ['usd', 'myr'] }] });
    expect((await tender.payments.create(body)).gateway).toBe('usd');
    expect((await tender.payments.create({ ...body, currency: 'USD' })).gateway).toBe('usd');
    await expect(tender.payments.create({ ...body, currency: 'JPY', amount: '100' })).rejects.toMatchObject({ code: 'no_eligible_gateway' });
  });
});

describe('engine: idempotency', () => {
  it('replays the stored response for the same key and request', async () => {
    const { tender, gateway } = setup();
    const first = await tender.payments.create(body, { idempotencyKey: 'k1' });
    let replayed = false;
    const again = await tender.payments.create(body, { idempotencyKey: 'k1', onReplay: () => (replayed = true) });
    expect(replayed).toBe(true);
    expect(again).toEqual(first);
    expect(gateway.calls.createPayment).toBe(1);
  });

  it('answers 422 when the key is reused for a different request', async () => {
    const { tender } = setup();
    await tender.payments.create(body, { idempotencyKey: 'k2' });
    await expect(tender.payments.create({ ...body, amount: '1.00' }, { idempotencyKey: 'k2' })).rejects.toMatchObject({
      status: 422,
      code: 'idempotency_key_reused',
    });
  });

  it('answers 409 while the first request is in flight', async () => {
    const clock = new FakeClock();
    const gateway = createTestGateway({ latencyMs: 50 });
    const tender = createTender({ gateways: [gateway], store: new MemoryStore(), clock });
    const first = tender.payments.create(body, { idempotencyKey: 'k3' });
    await new Promise((r) => setTimeout(r, 10));
    await expect(tender.payments.create(body, { idempotencyKey: 'k3' })).rejects.toMatchObject({ status: 409, code: 'idempotency_key_in_use' });
    expect((await first).status).toBe('CAPTURED');
  });

  it('treats a key as new after the retention period', async () => {
    const { tender, clock, gateway } = setup();
    const a = await tender.payments.create(body, { idempotencyKey: 'k4' });
    clock.advance(24 * 3600_000 + 1);
    const b = await tender.payments.create(body, { idempotencyKey: 'k4' });
    expect(b.id).not.toBe(a.id);
    expect(gateway.calls.createPayment).toBe(2);
  });

  it('50 concurrent creates with one key: one payment, one gateway call', async () => {
    const { tender, gateway, store } = setup();
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => tender.payments.create(body, { idempotencyKey: 'k5' })));
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ id: string }>[];
    expect(new Set(ok.map((r) => r.value.id)).size).toBe(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 409 });
    expect(gateway.calls.createPayment).toBe(1);
    expect((await store.listPayments({ merchantId: 'default', limit: 100 })).length).toBe(1);
  });

  it('takes over a key whose request crashed, and completes it without a second charge', async () => {
    const { tender, clock, gateway, store } = setup();
    // Simulate a crash after phase 1: the key is in flight and the payment is PENDING.
    gateway.inject('unavailable');
    const crashed = createTender({ gateways: [gateway], store, clock });
    await crashed.payments.create(body, { idempotencyKey: 'k6' }).catch(() => undefined);
    // That attempt never reached the gateway and freed the key. Now a real crash: phase 1 only.
    await store.transaction(async (tx) => {
      await tx.claimIdempotencyKey({
        merchantId: 'default', key: 'k7', fingerprint: (await import('@tender/core')).requestFingerprint('payments.create', null, body),
        state: 'in_flight', lockedUntil: new Date(clock.now().getTime() + 60_000).toISOString(), recoveryPoint: 'started',
        resourceType: null, resourceId: null, response: null, createdAt: clock.now().toISOString(), expiresAt: new Date(clock.now().getTime() + 86_400_000).toISOString(),
      });
    });
    await expect(tender.payments.create(body, { idempotencyKey: 'k7' })).rejects.toMatchObject({ status: 409 });
    clock.advance(61_000);
    const done = await tender.payments.create(body, { idempotencyKey: 'k7' });
    expect(done.status).toBe('CAPTURED');
    expect((await tender.payments.create(body, { idempotencyKey: 'k7' })).id).toBe(done.id);
  });
});

describe('engine: crash safety and reconciliation', () => {
  it('a lost response (charged, answer lost) ends CAPTURED after reconcile, with exactly one charge', async () => {
    const { tender, gateway, clock } = setup();
    gateway.inject('lost_response');
    const p = await tender.payments.create(body, { idempotencyKey: 'lost-1' });
    expect(p.status).toBe('PROCESSING');
    // A client retry replays the stored answer instead of charging again.
    expect((await tender.payments.create(body, { idempotencyKey: 'lost-1' })).status).toBe('PROCESSING');
    clock.advance(31_000);
    const report = await tender.reconcile();
    expect(report).toMatchObject({ checked: 1, updated: 1 });
    expect((await tender.payments.get(p.id)).status).toBe('CAPTURED');
    expect(gateway.ledger.size).toBe(1);
    expect(gateway.chargeOf(p.id)!.createCount).toBe(1);
  });

  it('a lost capture response is resolved by the reconciler', async () => {
    const { tender, gateway, clock } = setup();
    const p = await tender.payments.create({ ...body, captureMethod: 'manual' });
    gateway.inject('lost_response');
    expect((await tender.payments.capture(p.id)).status).toBe('PROCESSING');
    clock.advance(31_000);
    await tender.reconcile();
    const after = await tender.payments.get(p.id);
    expect(after).toMatchObject({ status: 'CAPTURED', amountCaptured: '100.50' });
    expect(after.gatewayData).not.toHaveProperty('pendingCapture');
  });

  it('expires a REQUIRES_ACTION payment the customer never finished', async () => {
    const { tender, clock } = setup({ flow: 'redirect' });
    const p = await tender.payments.create(body);
    expect(p.status).toBe('REQUIRES_ACTION');
    clock.advance(31 * 60_000);
    await tender.reconcile();
    expect((await tender.payments.get(p.id)).status).toBe('EXPIRED');
  });

  it('a refund whose answer was lost stays PENDING until the reconciler syncs it', async () => {
    const { tender, gateway, clock } = setup();
    const p = await tender.payments.create(body);
    gateway.inject('lost_response');
    const r = await tender.payments.refund(p.id, { amount: '10.00' });
    expect(r.status).toBe('PENDING');
    clock.advance(31_000);
    await tender.reconcile();
    expect((await tender.refunds.get(r.id)).status).toBe('SUCCEEDED');
    expect((await tender.payments.get(p.id))).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountRefunded: '10.00' });
  });
});

describe('engine: webhooks', () => {
  it('applies a webhook once and acknowledges duplicates without a second effect', async () => {
    const { tender, gateway } = setup({ flow: 'redirect' });
    const p = await tender.payments.create(body);
    gateway.complete(p.id, 'approve');
    const hook = gateway.webhookFor(p.id, { eventId: 'evt_1' });
    const first = await tender.webhooks.handle('test', hook);
    expect(first).toMatchObject({ status: 200, body: 'OK', outcomes: [{ outcome: 'applied' }] });
    const again = await tender.webhooks.handle('test', hook);
    expect(again.outcomes).toEqual([{ eventId: 'evt_1', outcome: 'duplicate' }]);
    const trail = await tender.transitions(p.id);
    expect(trail.filter((t) => t.to === 'CAPTURED')).toHaveLength(1);
  });

  it('never moves a payment backwards on an out-of-date event', async () => {
    const { tender, gateway } = setup({ flow: 'redirect' });
    const p = await tender.payments.create(body);
    const stale = gateway.webhookFor(p.id, { eventId: 'evt_old', status: 'REQUIRES_ACTION' });
    gateway.complete(p.id, 'approve');
    await tender.webhooks.handle('test', gateway.webhookFor(p.id, { eventId: 'evt_new' }));
    await tender.webhooks.handle('test', stale);
    await tender.webhooks.handle('test', gateway.webhookFor(p.id, { eventId: 'evt_fail', status: 'FAILED' }));
    expect((await tender.payments.get(p.id)).status).toBe('CAPTURED');
    const notes = (await tender.transitions(p.id)).filter((t) => t.reason.startsWith('stale_report_ignored'));
    expect(notes).toHaveLength(2);
  });

  it('rejects a tampered webhook and changes nothing', async () => {
    const { tender, gateway } = setup({ flow: 'redirect' });
    const p = await tender.payments.create(body);
    gateway.complete(p.id, 'approve');
    const hook = gateway.webhookFor(p.id);
    const tampered = { ...hook, rawBody: new TextEncoder().encode(new TextDecoder().decode(hook.rawBody).replace('100.50', '1.00')) };
    await expect(tender.webhooks.handle('test', tampered)).rejects.toMatchObject({ type: 'webhook_signature_error', status: 400 });
    expect((await tender.payments.get(p.id)).status).toBe('REQUIRES_ACTION');
  });

  it('records a refund made in the gateway dashboard as a Refund', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create(body);
    await tender.webhooks.handle('test', gateway.refundWebhook(p.id, '40.50'));
    const refunds = await tender.refunds.list(p.id);
    expect(refunds).toEqual([expect.objectContaining({ amount: '40.50', status: 'SUCCEEDED', reason: 'external' })]);
    expect(await tender.payments.get(p.id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountRefunded: '40.50' });
    await tender.webhooks.handle('test', gateway.refundWebhook(p.id, '60.00'));
    expect(await tender.payments.get(p.id)).toMatchObject({ status: 'REFUNDED', amountRefunded: '100.50' });
  });
});

describe('engine: webhooks for unknown payments', () => {
  it('answers 404 without recording the event, so the gateway retry is applied later', async () => {
    const { tender, gateway, store } = setup({ flow: 'redirect' });
    const p = await tender.payments.create(body);
    gateway.complete(p.id, 'approve');
    const hook = gateway.webhookFor(p.id, { eventId: 'evt_early' });
    const body2 = JSON.parse(new TextDecoder().decode(hook.rawBody));
    // An event about a payment this store has not got: same signature scheme, unknown ids.
    const orphan = createTestGateway({ flow: 'redirect' });
    const other = createTender({ gateways: [orphan], store: new MemoryStore() });
    await other.payments.create(body);
    const q = await other.payments.create(body); // a gateway reference the main store does not have
    orphan.complete(q.id, 'approve');
    await expect(tender.webhooks.handle('test', orphan.webhookFor(q.id, { eventId: 'evt_orphan' }))).rejects.toMatchObject({ status: 404, code: 'unknown_payment' });
    expect(body2.id).toBe('evt_early');
    expect(await store.transaction((tx) => tx.recordInboundEvent('test', 'evt_orphan', new Date().toISOString()))).toBe(true);
  });
});
