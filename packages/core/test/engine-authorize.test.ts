import { describe, expect, it } from 'vitest';
import { createTender } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway, waitFor } from '@tender/core/testing';

function setup() {
  const clock = new FakeClock();
  const gateway = createTestGateway();
  const store = new MemoryStore();
  const tender = createTender({ gateways: [gateway], store, clock });
  return { clock, gateway, store, tender };
}

const body = { amount: '25.00', currency: 'MYR', paymentMethod: 'card', orderId: 'ORD-A1', confirm: false };

describe('engine: two-step authorize (confirm=false, then authorize)', () => {
  it('stores an unconfirmed PENDING payment without calling the gateway, manual capture by default', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create(body);
    expect(p).toMatchObject({ status: 'PENDING', captureMethod: 'manual', gateway: 'test', gatewayReference: null });
    expect(gateway.calls.createPayment ?? 0).toBe(0);
    expect(gateway.chargeOf(p.id)).toBeUndefined();
    expect((await tender.payments.get(p.id)).status).toBe('PENDING');
    // A status poll asks nothing of a gateway that has not heard of the payment.
    expect((await tender.payments.sync(p.id)).status).toBe('PENDING');
    expect(gateway.calls.retrieve ?? 0).toBe(0);
  });

  it('authorize -> AUTHORIZED, then capture -> CAPTURED, every step on the audit trail', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create(body);
    const authorized = await tender.payments.authorize(p.id);
    expect(authorized).toMatchObject({ id: p.id, status: 'AUTHORIZED', gatewayReference: expect.any(String) });
    expect(gateway.calls.createPayment).toBe(1);
    expect(gateway.chargeOf(p.id)!.status).toBe('AUTHORIZED');
    const captured = await tender.payments.capture(p.id);
    expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: '25.00' });
    expect((await tender.transitions(p.id)).map((t) => [t.from, t.to])).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'AUTHORIZED'],
      ['AUTHORIZED', 'PROCESSING'],
      ['PROCESSING', 'CAPTURED'],
    ]);
  });

  it('an explicit automatic capture is charged at authorize', async () => {
    const { tender } = setup();
    const p = await tender.payments.create({ ...body, captureMethod: 'automatic' });
    expect(p.captureMethod).toBe('automatic');
    expect(await tender.payments.authorize(p.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '25.00' });
  });

  it('a second authorize is a 409 payment_already_confirmed; a replay with the same key answers the same payment once', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create(body);
    const first = await tender.payments.authorize(p.id, { idempotencyKey: 'auth-1' });
    let replayed = false;
    const again = await tender.payments.authorize(p.id, { idempotencyKey: 'auth-1', onReplay: () => (replayed = true) });
    expect(replayed).toBe(true);
    expect(again).toEqual(first);
    await expect(tender.payments.authorize(p.id)).rejects.toMatchObject({ status: 409, type: 'state_error', code: 'payment_already_confirmed' });
    await expect(tender.payments.authorize(p.id, { idempotencyKey: 'auth-2' })).rejects.toMatchObject({ status: 409, code: 'payment_already_confirmed' });
    expect(gateway.calls.createPayment).toBe(1);
    expect(gateway.chargeOf(p.id)!.createCount).toBe(1);
  });

  it('refuses to authorize a payment created confirmed (409) and another merchant’s (404)', async () => {
    const { tender, gateway } = setup();
    const confirmed = await tender.payments.create({ ...body, confirm: true, orderId: 'ORD-A2' });
    expect(confirmed.status).toBe('CAPTURED');
    await expect(tender.payments.authorize(confirmed.id)).rejects.toMatchObject({ status: 409, code: 'payment_already_confirmed' });
    const mine = await tender.payments.create(body, { merchantId: 'm_a' });
    await expect(tender.payments.authorize(mine.id, { merchantId: 'm_b' })).rejects.toMatchObject({ status: 404, type: 'not_found_error' });
    expect((await tender.payments.get(mine.id, { merchantId: 'm_a' })).status).toBe('PENDING');
    expect(gateway.calls.createPayment).toBe(1);
  });

  it('cancels an unconfirmed payment without a gateway call; it can no longer be authorised', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create(body);
    const cancelled = await tender.payments.cancel(p.id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', failure: null });
    expect(cancelled.gatewayData).toEqual({});
    expect(gateway.calls.cancel ?? 0).toBe(0);
    expect(gateway.calls.createPayment ?? 0).toBe(0);
    await expect(tender.payments.authorize(p.id)).rejects.toMatchObject({ status: 409, code: 'payment_already_confirmed' });
  });

  it('the reconciler leaves an unconfirmed payment alone, however old', async () => {
    const { tender, gateway, clock } = setup();
    const p = await tender.payments.create(body);
    clock.advance(2 * 60 * 60_000);
    const report = await tender.reconcile();
    expect(report).toMatchObject({ checked: 0, updated: 0, expired: 0, errors: 0 });
    expect(gateway.calls.retrieve ?? 0).toBe(0);
    expect((await tender.payments.get(p.id)).status).toBe('PENDING');
    expect((await tender.payments.authorize(p.id)).status).toBe('AUTHORIZED');
  });

  it('older unconfirmed payments do not keep a stuck payment out of a reconciliation batch', async () => {
    const { tender, gateway, clock } = setup();
    for (let i = 0; i < 12; i++) await tender.payments.create({ ...body, orderId: `ORD-W${i}` });
    clock.advance(60_000);
    gateway.inject('lost_response');
    const stuck = await tender.payments.create({ ...body, orderId: 'ORD-STUCK', confirm: true });
    expect(stuck.status).toBe('PROCESSING');
    clock.advance(31_000);
    expect(await tender.reconcile({ batchSize: 2 })).toMatchObject({ checked: 1, updated: 1 });
    expect((await tender.payments.get(stuck.id)).status).toBe('CAPTURED');
    expect((await tender.payments.list({ status: 'PENDING' })).data).toHaveLength(12);
  });

  it('an authorize whose outcome is unknown is reconciled, its age counted from the authorize, not the create', async () => {
    const { tender, gateway, clock } = setup();
    const p = await tender.payments.create(body);
    clock.advance(2 * 60 * 60_000);
    // The call times out before the provider acted: the gateway has no record of it.
    gateway.inject('timeout');
    expect((await tender.payments.authorize(p.id)).status).toBe('PROCESSING');
    clock.advance(31_000);
    const early = await tender.reconcile();
    expect(early).toMatchObject({ checked: 1, expired: 0 });
    expect((await tender.payments.get(p.id)).status).toBe('PROCESSING');
    clock.advance(31 * 60_000);
    expect(await tender.reconcile()).toMatchObject({ checked: 1, expired: 1 });
    expect((await tender.payments.get(p.id)).status).toBe('EXPIRED');
  });

  it('an authorize whose answer was lost ends AUTHORIZED after reconcile, with one charge', async () => {
    const { tender, gateway, clock } = setup();
    const p = await tender.payments.create(body);
    gateway.inject('lost_response');
    expect((await tender.payments.authorize(p.id, { idempotencyKey: 'auth-lost' })).status).toBe('PROCESSING');
    expect((await tender.payments.authorize(p.id, { idempotencyKey: 'auth-lost' })).status).toBe('PROCESSING');
    clock.advance(31_000);
    expect(await tender.reconcile()).toMatchObject({ checked: 1, updated: 1 });
    expect((await tender.payments.get(p.id)).status).toBe('AUTHORIZED');
    expect(gateway.chargeOf(p.id)!.createCount).toBe(1);
  });

  it('an authorize that crashed at the gateway is taken over with its key after the lease, without a second charge', async () => {
    const { tender, gateway, store, clock } = setup();
    const p = await tender.payments.create(body);
    // The first process dies while the gateway call is out: the provider charged, no answer is applied.
    const createPayment = gateway.createPayment.bind(gateway);
    let crash = true;
    gateway.createPayment = async (input, ctx) => {
      const result = await createPayment(input, ctx);
      if (crash) {
        crash = false;
        await new Promise(() => undefined);
      }
      return result;
    };
    void tender.payments.authorize(p.id, { idempotencyKey: 'auth-crash' });
    await waitFor(() => gateway.chargeOf(p.id), 'the provider to authorise');
    const restarted = createTender({ gateways: [gateway], store, clock });
    await expect(restarted.payments.authorize(p.id, { idempotencyKey: 'auth-crash' })).rejects.toMatchObject({ status: 409, code: 'idempotency_key_in_use' });
    await expect(restarted.payments.authorize(p.id)).rejects.toMatchObject({ status: 409, code: 'payment_already_confirmed' });
    clock.advance(61_000);
    const done = await restarted.payments.authorize(p.id, { idempotencyKey: 'auth-crash' });
    expect(done).toMatchObject({ status: 'AUTHORIZED', gatewayReference: gateway.chargeOf(p.id)!.reference });
    expect(gateway.chargeOf(p.id)!.createCount).toBe(1);
    expect(await restarted.payments.authorize(p.id, { idempotencyKey: 'auth-crash' })).toEqual(done);
  });

  it('the reconciler resolves an authorize that crashed at the gateway', async () => {
    const { tender, gateway, store, clock } = setup();
    const p = await tender.payments.create(body);
    const createPayment = gateway.createPayment.bind(gateway);
    gateway.createPayment = async (input, ctx) => {
      await createPayment(input, ctx);
      return new Promise(() => undefined);
    };
    void tender.payments.authorize(p.id);
    await waitFor(() => gateway.chargeOf(p.id), 'the provider to authorise');
    const restarted = createTender({ gateways: [gateway], store, clock });
    clock.advance(31_000);
    expect(await restarted.reconcile()).toMatchObject({ checked: 1, updated: 1 });
    expect((await restarted.payments.get(p.id)).status).toBe('AUTHORIZED');
  });

  it('an authorize that never left leaves the payment unconfirmed, so it can be retried', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create(body);
    gateway.inject('unavailable');
    await expect(tender.payments.authorize(p.id, { idempotencyKey: 'auth-unsent' })).rejects.toMatchObject({ type: 'gateway_unavailable' });
    expect((await tender.payments.get(p.id)).status).toBe('PENDING');
    expect((await tender.reconcile()).checked).toBe(0);
    expect((await tender.payments.authorize(p.id, { idempotencyKey: 'auth-unsent' })).status).toBe('AUTHORIZED');
    expect(gateway.chargeOf(p.id)!.createCount).toBe(1);
  });

  it('refuses an authorize before writing anything while the gateway circuit is open', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create(body);
    gateway.setCircuitOpen(true);
    await expect(tender.payments.authorize(p.id)).rejects.toMatchObject({ type: 'gateway_unavailable', code: 'circuit_open' });
    gateway.setCircuitOpen(false);
    expect((await tender.payments.get(p.id)).version).toBe(p.version);
    expect((await tender.payments.authorize(p.id)).status).toBe('AUTHORIZED');
  });

  it('a cancel while the authorize is at the gateway voids the authorisation once it answers', async () => {
    const { tender, gateway, store } = setup();
    // The gateway answers only when released, so the cancel certainly arrives while the call runs.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let atGateway = false;
    const createPayment = gateway.createPayment.bind(gateway);
    gateway.createPayment = async (input, ctx) => {
      atGateway = true;
      await released;
      return createPayment(input, ctx);
    };
    const p = await tender.payments.create(body);
    const authorizing = tender.payments.authorize(p.id);
    await waitFor(() => atGateway, 'the authorize to reach the gateway');
    const cancelling = tender.payments.cancel(p.id);
    await waitFor(async () => 'cancelRequested' in (await store.getPayment(p.id))!.gatewayData, 'the cancel to be recorded');
    release();
    const [authorized, cancelled] = await Promise.all([authorizing, cancelling]);
    expect(authorized.status).toBe('CANCELLED');
    expect(cancelled.status).toBe('CANCELLED');
    expect(gateway.chargeOf(p.id)!.status).toBe('CANCELLED');
    expect((await tender.transitions(p.id)).map((t) => t.to)).toEqual(['PENDING', 'PENDING', 'AUTHORIZED', 'PROCESSING', 'CANCELLED']);
  });

  it('create with confirm=false is idempotent, and the key binds the request (422 for another one)', async () => {
    const { tender } = setup();
    const first = await tender.payments.create(body, { idempotencyKey: 'c-1' });
    expect(await tender.payments.create(body, { idempotencyKey: 'c-1' })).toEqual(first);
    await expect(tender.payments.create({ ...body, confirm: true }, { idempotencyKey: 'c-1' })).rejects.toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    expect((await tender.payments.list()).data).toHaveLength(1);
  });

  it('rejects a confirm that is not a boolean (400) and stores nothing', async () => {
    const { tender } = setup();
    await expect(tender.payments.create({ ...body, confirm: 'no' as never })).rejects.toMatchObject({ status: 400, code: 'invalid_boolean', param: 'confirm' });
    await expect(tender.payments.create({ ...body, offSession: 1 as never })).rejects.toMatchObject({ status: 400, code: 'invalid_boolean', param: 'off_session' });
    expect((await tender.payments.list()).data).toHaveLength(0);
  });
});
