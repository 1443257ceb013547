/**
 * The engine's risk stage through `createTender({ risk })` with the test gateway and the memory
 * store: block (FAILED, no gateway call), review (REQUIRES_REVIEW, then approve to the gateway or
 * decline), step-up, velocity across creates, the decision on the payment and its trail, and the
 * reconciler leaving held payments alone.
 */
import { describe, expect, it } from 'vitest';
import { MemoryVelocityStore, createRiskEngine, createTender, parseRiskConfig, riskOf, type VelocityStore } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway, waitFor } from '@tender/core/testing';

const RULES = [
  'block_threshold: 80',
  'review_threshold: 50',
  'step_up_threshold: 20',
  'rules:',
  '  - { id: deny-kp, type: country, deny: [KP], score: 100 }',
  '  - { id: big, type: amount_above, amount_above: { MYR: "500" }, score: 40 }',
  '  - { id: medium, type: amount_above, amount_above: { MYR: "100" }, score: 20 }',
  '  - { id: ip-seen, type: velocity, key: ip, window: 1h, max_count: 1, score: 5 }',
].join('\n');

function setup() {
  const clock = new FakeClock();
  const gateway = createTestGateway();
  const store = new MemoryStore();
  const velocity = new MemoryVelocityStore();
  const risk = createRiskEngine({ config: parseRiskConfig(RULES), velocity, store, clock });
  const tender = createTender({ gateways: [gateway], store, clock, risk });
  return { clock, gateway, store, tender, risk };
}

const body = { amount: '20.00', currency: 'MYR', paymentMethod: 'card' };

describe('engine risk stage', () => {
  it('block: the payment is stored FAILED risk_blocked, no gateway is called, the decision on the payment and its trail', async () => {
    const { tender, gateway } = setup();
    const p = await tender.payments.create({ ...body, risk: { country: 'kp', ip: '203.0.113.5' } });
    expect(p).toMatchObject({ status: 'FAILED', failure: { code: 'risk_blocked' }, gatewayReference: null });
    expect(gateway.calls.createPayment ?? 0).toBe(0);
    expect(riskOf(p)).toMatchObject({ action: 'block', score: 100, rules: [{ id: 'deny-kp', score: 100, reason: 'country KP denied' }] });
    expect(await tender.payments.get(p.id)).toEqual(p);
    const trail = await tender.transitions(p.id);
    expect(trail.map((t) => [t.from, t.to])).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'FAILED'],
    ]);
    expect(trail[1]!.reason).toBe('risk block: score 100/100 (rules deny-kp+100)');
    // Nothing personal on the payment: the IP only counted, hashed.
    expect(JSON.stringify(p)).not.toContain('203.0.113.5');
  });

  it('velocity counts every evaluated attempt, the blocked one too', async () => {
    const { tender } = setup();
    await tender.payments.create({ ...body, risk: { country: 'KP', ip: '198.51.100.2' } });
    const next = await tender.payments.create({ ...body, risk: { ip: '198.51.100.2' } });
    expect(next.status).toBe('CAPTURED');
    expect(riskOf(next)).toMatchObject({ action: 'allow', score: 5, rules: [{ id: 'ip-seen', reason: '2 attempts by ip in 1h (max 1)' }] });
  });

  it('a blocked create retried with its key replays the same payment', async () => {
    const { tender, store } = setup();
    const first = await tender.payments.create({ ...body, risk: { country: 'KP' } }, { idempotencyKey: 'blk-1' });
    let replayed = false;
    const again = await tender.payments.create({ ...body, risk: { country: 'KP' } }, { idempotencyKey: 'blk-1', onReplay: () => (replayed = true) });
    expect(replayed).toBe(true);
    expect(again).toEqual(first);
    expect(await store.listPayments({ merchantId: 'default', limit: 10 })).toHaveLength(1);
  });

  it('a create retried under its key is one velocity attempt', async () => {
    const { tender } = setup();
    const risk = { ip: '192.0.2.44' };
    const first = await tender.payments.create({ ...body, risk }, { idempotencyKey: 'vel-1' });
    expect(riskOf(first)!.rules).toEqual([]);
    await tender.payments.create({ ...body, risk }, { idempotencyKey: 'vel-1' });
    const other = await tender.payments.create({ ...body, risk });
    expect(riskOf(other)!.rules).toEqual([expect.objectContaining({ id: 'ip-seen', reason: '2 attempts by ip in 1h (max 1)' })]);
  });

  it('review -> approve: held REQUIRES_REVIEW without a gateway call, then sent as the create would have been, audited with the actor', async () => {
    const { tender, gateway } = setup();
    const held = await tender.payments.create({ ...body, amount: '600.00' });
    expect(held).toMatchObject({ status: 'REQUIRES_REVIEW', failure: null });
    expect(riskOf(held)).toMatchObject({ action: 'review', score: 60 });
    expect(gateway.calls.createPayment ?? 0).toBe(0);
    // Not open at the gateway: a status poll asks nothing.
    expect((await tender.payments.sync(held.id)).status).toBe('REQUIRES_REVIEW');
    const approved = await tender.payments.review(held.id, { decision: 'approve', reason: 'known customer' }, { actor: 'admin:alice', idempotencyKey: 'rev-1' });
    expect(approved).toMatchObject({ id: held.id, status: 'CAPTURED', amountCaptured: '600.00' });
    expect(gateway.calls.createPayment).toBe(1);
    expect(gateway.chargeOf(held.id)!.createCount).toBe(1);
    // A repeat with the key replays; another review is refused.
    expect(await tender.payments.review(held.id, { decision: 'approve', reason: 'known customer' }, { actor: 'admin:alice', idempotencyKey: 'rev-1' })).toEqual(approved);
    await expect(tender.payments.review(held.id, { decision: 'decline' })).rejects.toMatchObject({ status: 409, type: 'state_error', code: 'payment_not_in_review' });
    expect(gateway.calls.createPayment).toBe(1);
    const trail = await tender.transitions(held.id);
    expect(trail.map((t) => [t.from, t.to, t.actor])).toEqual([
      [null, 'PENDING', 'api'],
      ['PENDING', 'REQUIRES_REVIEW', 'api'],
      ['REQUIRES_REVIEW', 'PENDING', 'admin:alice'],
      ['PENDING', 'CAPTURED', 'admin:alice'],
    ]);
    expect(trail[1]!.reason).toMatch(/^risk review: score 60\/100 \(rules big\+40, medium\+20\)$/);
    expect(trail[2]!.reason).toBe('review approved: known customer');
  });

  it('review -> decline: FAILED risk_declined, never sent', async () => {
    const { tender, gateway } = setup();
    const held = await tender.payments.create({ ...body, amount: '600.00' });
    const declined = await tender.payments.review(held.id, { decision: 'decline', reason: 'stolen card report' }, { actor: 'admin:bob' });
    expect(declined).toMatchObject({ status: 'FAILED', failure: { code: 'risk_declined' } });
    expect(gateway.calls.createPayment ?? 0).toBe(0);
    expect((await tender.transitions(held.id)).at(-1)).toMatchObject({ from: 'REQUIRES_REVIEW', to: 'FAILED', actor: 'admin:bob', reason: 'review declined: stolen card report' });
  });

  it('a held payment can be cancelled (no gateway holds anything); a bad decision is a 400 that changes nothing', async () => {
    const { tender, gateway } = setup();
    const held = await tender.payments.create({ ...body, amount: '700.00' });
    await expect(tender.payments.review(held.id, { decision: 'maybe' as never })).rejects.toMatchObject({ status: 400, code: 'invalid_decision', param: 'decision' });
    expect((await tender.payments.get(held.id)).status).toBe('REQUIRES_REVIEW');
    expect(await tender.payments.cancel(held.id)).toMatchObject({ status: 'CANCELLED' });
    expect(gateway.calls.cancel ?? 0).toBe(0);
  });

  it('a confirm=false payment held for review, approved, is unconfirmed PENDING again; authorize then sends it', async () => {
    const { tender, gateway } = setup();
    const held = await tender.payments.create({ ...body, amount: '600.00', confirm: false });
    expect(held.status).toBe('REQUIRES_REVIEW');
    const approved = await tender.payments.review(held.id, { decision: 'approve' });
    expect(approved.status).toBe('PENDING');
    expect(gateway.calls.createPayment ?? 0).toBe(0);
    expect(await tender.payments.authorize(held.id)).toMatchObject({ status: 'AUTHORIZED' });
    expect(gateway.calls.createPayment).toBe(1);
  });

  it('an approval whose answer is lost is left for the reconciler, which finds the one charge', async () => {
    const { tender, gateway, clock } = setup();
    const held = await tender.payments.create({ ...body, amount: '600.00' });
    gateway.inject('lost_response');
    const approved = await tender.payments.review(held.id, { decision: 'approve' });
    expect(approved.status).toBe('PROCESSING');
    clock.advance(60_000);
    await tender.reconcile();
    expect((await tender.payments.get(held.id)).status).toBe('CAPTURED');
    expect(gateway.chargeOf(held.id)!.createCount).toBe(1);
  });

  it('an approval that crashed at the gateway is taken over with its key after the lease, without a second charge', async () => {
    const { tender, gateway, store, clock, risk } = setup();
    const held = await tender.payments.create({ ...body, amount: '600.00' });
    // The first process dies while the gateway call is out: the provider charged, no answer applied.
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
    void tender.payments.review(held.id, { decision: 'approve' }, { idempotencyKey: 'rev-crash', actor: 'admin:carol' });
    await waitFor(() => gateway.chargeOf(held.id), 'the provider to charge');
    const restarted = createTender({ gateways: [gateway], store, clock, risk });
    await expect(restarted.payments.review(held.id, { decision: 'approve' }, { idempotencyKey: 'rev-crash' })).rejects.toMatchObject({ status: 409, code: 'idempotency_key_in_use' });
    await expect(restarted.payments.review(held.id, { decision: 'decline' })).rejects.toMatchObject({ status: 409, code: 'payment_not_in_review' });
    clock.advance(61_000);
    const done = await restarted.payments.review(held.id, { decision: 'approve' }, { idempotencyKey: 'rev-crash' });
    expect(done).toMatchObject({ status: 'CAPTURED', gatewayReference: gateway.chargeOf(held.id)!.reference });
    expect(gateway.chargeOf(held.id)!.createCount).toBe(1);
  });

  it('an approval while the gateway would certainly not send is a 503 that leaves the payment held', async () => {
    const { tender, gateway } = setup();
    const held = await tender.payments.create({ ...body, amount: '600.00' });
    gateway.setCircuitOpen(true);
    await expect(tender.payments.review(held.id, { decision: 'approve' })).rejects.toMatchObject({ type: 'gateway_unavailable', code: 'circuit_open' });
    expect((await tender.payments.get(held.id)).status).toBe('REQUIRES_REVIEW');
    gateway.setCircuitOpen(false);
    expect((await tender.payments.review(held.id, { decision: 'approve' })).status).toBe('CAPTURED');
  });

  it('the reconciler leaves a held payment alone', async () => {
    const { tender, gateway, clock } = setup();
    const held = await tender.payments.create({ ...body, amount: '600.00' });
    clock.advance(24 * 3_600_000);
    await tender.reconcile();
    expect((await tender.payments.get(held.id)).status).toBe('REQUIRES_REVIEW');
    expect(gateway.calls.retrieve ?? 0).toBe(0);
  });

  it('step-up: the payment goes on to the gateway with the decision recorded (a gateway without 3-D Secure ignores the flag)', async () => {
    const { tender } = setup();
    const p = await tender.payments.create({ ...body, amount: '150.00' });
    expect(p.status).toBe('CAPTURED');
    expect(riskOf(p)).toMatchObject({ action: 'step_up', score: 20 });
    expect((await tender.transitions(p.id))[0]!.reason).toBe('payment created; risk step_up: score 20/100 (rules medium+20)');
  });

  it('a velocity store that fails refuses the create with a retryable 503, nothing stored or sent', async () => {
    const store = new MemoryStore();
    const gateway = createTestGateway();
    const broken: VelocityStore = {
      recordAndCount: async () => {
        throw new Error('connection refused');
      },
    };
    const tender = createTender({ gateways: [gateway], store, risk: createRiskEngine({ config: parseRiskConfig(RULES), velocity: broken }) });
    await expect(tender.payments.create(body)).rejects.toMatchObject({ status: 503, code: 'risk_unavailable', retryable: true });
    expect(await store.listPayments({ merchantId: 'default', limit: 10 })).toHaveLength(0);
    expect(gateway.calls.createPayment ?? 0).toBe(0);
  });

  it('bad risk signals are a 400 naming the field, with nothing stored', async () => {
    const { tender, store } = setup();
    await expect(tender.payments.create({ ...body, risk: { country: 'Malaysia' } })).rejects.toMatchObject({ status: 400, code: 'invalid_risk_signal', param: 'risk[country]' });
    await expect(tender.payments.create({ ...body, risk: { ip: 42 as never } })).rejects.toMatchObject({ status: 400, param: 'risk[ip]' });
    expect(await store.listPayments({ merchantId: 'default', limit: 10 })).toHaveLength(0);
  });
});
