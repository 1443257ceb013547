/**
 * The Fiuu critical attack, end to end (engine + Fiuu gateway + sandbox over loopback): a result binds
 * to a payment only through the fields Fiuu's `skey` signs (tranID, orderid, status, domain, amount,
 * currency, paydate, appcode). `extraP` (and the `metadata` it echoes), `nbcb` and `channel` are not
 * signed, so anyone holding a genuinely signed result — the paying customer's browser gets a copy —
 * can rewrite them and the `skey` still verifies.
 *
 * The sandbox's own deliveries go to a merchant endpoint that only acknowledges them, so the engine
 * sees exactly the requests each test hands it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTender, type Payment, type Tender, type WebhookRequest } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { vcode, type FiuuHostedPayment } from '@tender/fiuu';
import { completeHostedPayment, type SandboxDelivery } from '@tender/fiuu/sandbox';
import { MERCHANT, merchantServer, sandboxAndGateway, waitForDeliveries } from './helpers';

let env: Awaited<ReturnType<typeof sandboxAndGateway>>;
let tender: Tender;
let endpoint: Awaited<ReturnType<typeof merchantServer>>;

beforeEach(async () => {
  env = await sandboxAndGateway();
  tender = createTender({ gateways: [env.gateway], store: new MemoryStore() });
  // Acknowledges Fiuu the way it wants and keeps the request for the test; never calls the engine.
  endpoint = await merchantServer((_req, body, res) => {
    const nbcb = new URLSearchParams(body.toString('utf8')).get('nbcb');
    res.writeHead(200, { 'content-type': 'text/plain' }).end(nbcb === '1' ? 'CBTOKEN:MPSTATOK' : '');
  });
});
afterEach(async () => {
  await env.sandbox.idle();
  await endpoint.close();
  await env.close();
});

const suffix = () => Math.random().toString(36).slice(2, 10);
const hosted = (p: Payment) => p.gatewayData.hostedPayment as FiuuHostedPayment;

async function create(merchantId: string, extra: Record<string, unknown> = {}): Promise<Payment> {
  const payment = await tender.payments.create(
    {
      amount: '100.50',
      currency: 'MYR',
      paymentMethod: 'FPX',
      gateway: 'fiuu',
      orderId: `ORD-${suffix()}`,
      customer: { name: 'Siti Aminah', email: 'siti@example.com', phone: '+60123456789' },
      returnUrl: 'https://shop.example/return',
      notifyUrl: `${endpoint.url}/webhooks/fiuu`,
      ...extra,
    },
    { merchantId },
  );
  expect(payment.status).toBe('REQUIRES_ACTION');
  return payment;
}

/** Pays a hosted form at the sandbox; resolves its tranID, its notification and callback (as Fiuu sent them) and the browser's return form. */
async function pay(form: FiuuHostedPayment, decision: 'approve' | 'decline' = 'approve') {
  const outcome = await completeHostedPayment(form, decision);
  const of = () => env.sandbox.deliveries.filter((d) => d.tranID === outcome.tranID);
  await waitForDeliveries(env.sandbox, () => of().length >= 2);
  const notification = of().find((d) => d.kind === 'notification')!;
  const callback = of().find((d) => d.kind === 'callback')!;
  expect(notification.fields.nbcb).toBe('2');
  expect(callback.fields.nbcb).toBe('1');
  return { tranID: outcome.tranID, notification, callback, returnForm: outcome.returnForm! };
}

/** The same fields with `extraP.metadata` rewritten; the skey is kept as Fiuu signed it. */
function withMetadata(delivery: SandboxDelivery | { fields: Record<string, string> }, edit: (metadata: Record<string, unknown>) => Record<string, unknown>): Record<string, string> {
  const extraP = JSON.parse(delivery.fields.extraP ?? '{}') as Record<string, unknown>;
  const metadata = typeof extraP.metadata === 'string' ? (JSON.parse(extraP.metadata) as Record<string, unknown>) : ((extraP.metadata ?? {}) as Record<string, unknown>);
  return { ...delivery.fields, extraP: JSON.stringify({ ...extraP, metadata: edit({ ...metadata }) }) };
}

/** The trail of a payment created here and never touched since: PENDING, then REQUIRES_ACTION (the hosted form). */
const CREATED_TRAIL = [
  [null, 'PENDING', 'api'],
  ['PENDING', 'REQUIRES_ACTION', 'api'],
];
/** Status changes on a trail beyond the creation ones (notes have from === to). */
const statusChangesAfterCreation = (trail: Array<{ from: string | null; to: string; actor: string }>) =>
  trail.slice(CREATED_TRAIL.length).filter((t) => t.from !== t.to);

const request = (fields: Record<string, string>, query?: Record<string, string>): WebhookRequest => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  rawBody: new TextEncoder().encode(new URLSearchParams(fields).toString()),
  ...(query ? { query } : {}),
});

describe('a genuinely signed result for order A, its extraP rewritten to name payment B', () => {
  for (const order of [['notification', 'callback'], ['callback', 'notification']] as const) {
    it(`captures A with A's tranID and leaves B untouched (${order.join(' then ')})`, async () => {
      const a = await create('m_a', { orderId: `ORD-A-${suffix()}` });
      const b = await create('m_b', { orderId: `ORD-B-${suffix()}` });
      expect(a.amount).toBe(b.amount);
      const { tranID, notification, callback } = await pay(hosted(a));
      expect(notification.fields.orderid).toBe(a.orderId);
      expect(JSON.parse(notification.fields.extraP!).metadata).toMatchObject({ tender_payment_id: a.id });

      const forged = {
        notification: withMetadata(notification, (m) => ({ ...m, tender_payment_id: b.id })),
        callback: withMetadata(callback, (m) => ({ ...m, tender_payment_id: b.id })),
      };
      // The premise of the attack: the rewritten result still verifies (extraP is not under the skey).
      expect(() => env.gateway.verifyWebhook(request(forged.notification), new Date())).not.toThrow();
      expect(JSON.parse(forged.notification.extraP!).metadata.tender_payment_id).toBe(b.id);

      const first = await tender.webhooks.handle('fiuu', request(forged[order[0]]));
      expect(first.outcomes).toEqual([{ eventId: `fiuu:${tranID}:00`, outcome: 'applied' }]);
      const second = await tender.webhooks.handle('fiuu', request(forged[order[1]]));
      expect(second.outcomes).toEqual([{ eventId: `fiuu:${tranID}:00`, outcome: 'duplicate' }]);
      const callbackAck = order[0] === 'callback' ? first : second;
      expect(callbackAck.body).toBe('CBTOKEN:MPSTATOK');

      expect(await tender.payments.get(a.id, { merchantId: 'm_a' })).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID, amountCaptured: '100.50' });
      expect(await tender.payments.get(b.id, { merchantId: 'm_b' })).toMatchObject({ status: 'REQUIRES_ACTION', gatewayReference: null, amountCaptured: '0.00' });
      // B's trail is only its creation: not a note, not a transition from anything the attacker sent.
      expect((await tender.transitions(b.id, { merchantId: 'm_b' })).map((t) => [t.from, t.to, t.actor])).toEqual(CREATED_TRAIL);

      // Fiuu's own (unaltered) copy later changes nothing more.
      const genuine = await tender.webhooks.handle('fiuu', request(notification.fields));
      expect(genuine.outcomes[0]!.outcome).toBe('duplicate');
      expect((await tender.payments.get(b.id, { merchantId: 'm_b' })).status).toBe('REQUIRES_ACTION');
    });
  }
});

describe('a signed result whose amount is not the payment amount', () => {
  it('changes nothing but an amount_mismatch note; the genuine result then captures, and the refund goes to that tranID', async () => {
    const payment = await create('m_a');
    // A real Fiuu transaction for the same order id but another amount (the hosted form re-signed
    // with the merchant's verify key, as a buggy or malicious checkout could do): Fiuu signs its result.
    const fields: Record<string, string> = { ...hosted(payment).fields, amount: '1.00' };
    fields.vcode = vcode({ amount: '1.00', merchantId: MERCHANT.merchantId, orderId: payment.orderId!, verifyKey: MERCHANT.verifyKey });
    const small = await pay({ ...hosted(payment), fields });
    expect(small.notification.fields).toMatchObject({ orderid: payment.orderId, amount: '1.00', status: '00' });

    for (const delivery of [small.notification, small.callback]) {
      await tender.webhooks.handle('fiuu', request(delivery.fields));
      expect(await tender.payments.get(payment.id, { merchantId: 'm_a' })).toMatchObject({ status: 'REQUIRES_ACTION', gatewayReference: null, amountCaptured: '0.00' });
    }
    const trail = await tender.transitions(payment.id, { merchantId: 'm_a' });
    expect(trail.filter((t) => t.reason.startsWith('amount_mismatch'))).not.toHaveLength(0);
    expect(statusChangesAfterCreation(trail)).toEqual([]);

    const real = await pay(hosted(payment));
    expect(real.tranID).not.toBe(small.tranID);
    await tender.webhooks.handle('fiuu', request(real.notification.fields));
    expect(await tender.payments.get(payment.id, { merchantId: 'm_a' })).toMatchObject({ status: 'CAPTURED', gatewayReference: real.tranID, amountCaptured: '100.50' });

    const refund = await tender.payments.refund(payment.id, { amount: '40.00' }, { merchantId: 'm_a' });
    expect(refund.status).not.toBe('FAILED');
    expect(env.sandbox.transaction(real.tranID)!.refunds).toMatchObject([{ refID: refund.id, amount: '40.00' }]);
    expect(env.sandbox.transaction(small.tranID)!.refunds).toEqual([]);
  });
});

describe('capture semantics come from the stored payment, not the echoed metadata', () => {
  it('a manual-capture card payment whose result dropped tender_capture is AUTHORIZED, and capture then works', async () => {
    const payment = await create('m_a', { paymentMethod: 'CARD', captureMethod: 'manual' });
    expect(hosted(payment).fields.tcctype).toBe('AUTH');
    const { tranID, notification, callback } = await pay(hosted(payment));
    expect(JSON.parse(notification.fields.extraP!).metadata).toMatchObject({ tender_capture: 'manual' });
    const stripped = withMetadata(notification, ({ tender_capture: _drop, ...rest }) => rest);
    expect(JSON.parse(stripped.extraP!).metadata.tender_capture).toBeUndefined();

    await tender.webhooks.handle('fiuu', request(stripped));
    // The callback without any extraP at all.
    const { extraP: _none, ...bare } = callback.fields;
    await tender.webhooks.handle('fiuu', request(bare));
    expect(await tender.payments.get(payment.id, { merchantId: 'm_a' })).toMatchObject({ status: 'AUTHORIZED', gatewayReference: tranID, amountCaptured: '0.00' });
    expect(env.sandbox.transaction(tranID)!.captured).toBeNull();

    const captured = await tender.payments.capture(payment.id, {}, { merchantId: 'm_a' });
    expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: '100.50' });
    expect(env.sandbox.transaction(tranID)).toMatchObject({ captured: '100.50', statName: 'captured' });
  });

  it('an automatic-capture payment whose result claims tender_capture=manual is CAPTURED', async () => {
    const payment = await create('m_a');
    const { tranID, notification } = await pay(hosted(payment));
    await tender.webhooks.handle('fiuu', request(withMetadata(notification, (m) => ({ ...m, tender_capture: 'manual' }))));
    expect(await tender.payments.get(payment.id, { merchantId: 'm_a' })).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID, amountCaptured: '100.50' });
  });
});

describe('the browser-borne return result', () => {
  it('alone never moves the payment, however it is presented as a return', async () => {
    const payment = await create('m_a');
    const { tranID, notification, returnForm } = await pay(hosted(payment));
    expect(returnForm.fields.nbcb).toBeUndefined();
    expect(returnForm.fields).toMatchObject({ tranID, status: '00', orderid: payment.orderId });

    await tender.webhooks.handle('fiuu', request(returnForm.fields));
    await tender.webhooks.handle('fiuu', request(returnForm.fields, { kind: 'return' }));
    // Even a copy that says nbcb=2 but arrives on the return route is a return.
    await tender.webhooks.handle('fiuu', request({ ...returnForm.fields, nbcb: '2' }, { kind: 'return' }));
    expect(env.gateway.handleReturn(request(returnForm.fields), { targetOrigin: 'https://shop.example', nonce: 'n' }).verified).toBe(true);
    expect(await tender.payments.get(payment.id, { merchantId: 'm_a' })).toMatchObject({ status: 'REQUIRES_ACTION', gatewayReference: null, amountCaptured: '0.00' });
    expect(statusChangesAfterCreation(await tender.transitions(payment.id, { merchantId: 'm_a' }))).toEqual([]);

    // The server-to-server notification is what captures it.
    await tender.webhooks.handle('fiuu', request(notification.fields));
    expect(await tender.payments.get(payment.id, { merchantId: 'm_a' })).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID });
  });
});
