/**
 * Webhook binding under attack: a genuine, correctly signed Razorpay event about a payment that is not
 * ours (another integration on the same account, or a customer's own Checkout payment whose `notes`
 * the client chose) must never change one of our payments, even when its `notes.tender_payment_id`
 * names it. Razorpay Checkout lets the browser pass `notes`
 * (https://razorpay.com/docs/payments/payment-gateway/web-integration/standard/build-integration/#checkout-options),
 * so notes on a *payment* are customer-influenced; only the payment id we stored and the order we
 * created (its notes are set with our key) bind an event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTender, type Payment, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { computeRazorpayWebhookSignature, createUpiGateway, type UpiGateway } from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';

const SECRET = 'whsec_binding_tests';
let sandbox: RazorpaySandbox;
let gateway: UpiGateway;
let tender: Tender;
let seq = 0;

beforeAll(async () => {
  sandbox = await startRazorpaySandbox({ webhookSecret: SECRET, delays: { refundSettleMs: null as unknown as number, collectAutoMs: null, expirySweepMs: null } });
  sandbox.webhooks.hold();
  gateway = createUpiGateway({ provider: 'razorpay', keyId: sandbox.keyId, keySecret: sandbox.keySecret, webhookSecret: SECRET, baseUrl: sandbox.url, defaultIp: '127.0.0.1' });
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

const customer = { name: 'Asha Rao', email: 'asha@example.com', phone: '+919812345678' };

/** Delivers a correctly signed event (what Razorpay itself would send) to the engine. */
async function deliver(event: string, payload: Record<string, unknown>) {
  const body = JSON.stringify({ entity: 'event', account_id: 'acc_test', event, contains: Object.keys(payload), payload, created_at: 1_760_000_000 + seq });
  const headers = { 'x-razorpay-signature': computeRazorpayWebhookSignature(body, SECRET), 'x-razorpay-event-id': `evt_bind_${++seq}` };
  return tender.webhooks.handle('upi', { headers, rawBody: new TextEncoder().encode(body) }).then(
    (ack) => ack,
    (error: unknown) => error,
  );
}

/** A payment made on the same Razorpay account by someone else, on an order Tender did not create, whose notes name `target`. */
function foreignPayment(amount: number, target: Payment) {
  const order = sandbox.account.createOrder({ amount, currency: 'INR', receipt: 'other-shop-1', notes: { shop: 'other' } });
  const { payment } = sandbox.account.createUpiPayment({
    amount, currency: 'INR', method: 'upi', order_id: order.id, email: 'mallory@example.com', contact: '+919800000000',
    ip: '127.0.0.1', referer: 'https://other.example/', user_agent: 'x', upi: { flow: 'intent' }, notes: { tender_payment_id: target.id },
  });
  return { order, payment: sandbox.account.approve(payment.id) };
}

describe('a signed event about another payment whose notes name ours changes nothing', () => {
  it('payment.captured / order.paid for 1 INR on another order, notes naming our 1000 INR payment', async () => {
    const ours = await tender.payments.create({ amount: '1000.00', currency: 'INR', paymentMethod: 'upi', gateway: 'upi', customer });
    const foreign = foreignPayment(100, ours);
    // Acknowledged (a 200, not a 503 Razorpay would retry for a day), and no effect.
    expect(await deliver('payment.captured', { payment: { entity: { ...foreign.payment } } })).toMatchObject({ status: 200 });
    expect(await deliver('order.paid', { payment: { entity: { ...foreign.payment } }, order: { entity: sandbox.account.orderJson(foreign.order) } })).toMatchObject({ status: 200 });
    const after = await tender.payments.get(ours.id);
    expect(after).toMatchObject({ status: 'REQUIRES_ACTION', gatewayReference: ours.gatewayReference, amountCaptured: '0.00' });
  });

  it('refund.processed of a foreign payment of the same amount, notes naming our captured payment, refunds nothing here', async () => {
    const ours = await tender.payments.create({ amount: '250.00', currency: 'INR', paymentMethod: 'upi', gateway: 'upi', customer });
    const paid = sandbox.account.approve(ours.gatewayReference!);
    await deliver('payment.captured', { payment: { entity: { ...paid } } });
    expect((await tender.payments.get(ours.id)).status).toBe('CAPTURED');

    const foreign = foreignPayment(25000, ours);
    const { refund } = sandbox.account.refund(foreign.payment.id, { amount: 25000 }, null);
    const settled = sandbox.account.settleRefund(refund.id, 'processed');
    await deliver('refund.processed', { refund: { entity: { ...settled } }, payment: { entity: { ...sandbox.account.payment(foreign.payment.id) } } });
    const after = await tender.payments.get(ours.id);
    expect(after).toMatchObject({ status: 'CAPTURED', amountRefunded: '0.00' });
    expect(await tender.refunds.list(ours.id)).toEqual([]);
  });

  it('a PROCESSING payment (create answer lost, no reference yet) is not paid by a foreign payment of the same amount', async () => {
    sandbox.faults.add({ kind: 'drop', match: /^POST \/v1\/payments\/create\/upi$/ });
    const ours = await tender.payments.create({ amount: '40.00', currency: 'INR', paymentMethod: 'upi', gateway: 'upi', customer });
    expect(ours).toMatchObject({ status: 'PROCESSING', gatewayReference: null });
    const foreign = foreignPayment(4000, ours);
    expect(await deliver('payment.captured', { payment: { entity: { ...foreign.payment } } })).toMatchObject({ status: 200 });
    const after = await tender.payments.get(ours.id);
    expect(after.status).not.toBe('CAPTURED');
    expect(after.gatewayReference).not.toBe(foreign.payment.id);
  });

  it('our own events still bind: by the payment id we stored, and order.paid by the order we created', async () => {
    const ours = await tender.payments.create({ amount: '12.00', currency: 'INR', paymentMethod: 'upi', gateway: 'upi', customer });
    const paid = sandbox.account.approve(ours.gatewayReference!);
    await deliver('order.paid', { payment: { entity: { ...paid } }, order: { entity: sandbox.account.orderJson(sandbox.account.order(paid.order_id)) } });
    expect(await tender.payments.get(ours.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '12.00' });
  });
});
