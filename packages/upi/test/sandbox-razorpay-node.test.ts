/**
 * The official `razorpay` npm SDK drives the sandbox unchanged. razorpay-node has no host option
 * (`new Razorpay()` hard-codes `hostUrl: 'https://api.razorpay.com'` in dist/razorpay.js), but every
 * call goes through one axios instance, `instance.api.rq`, whose public `defaults.baseURL` axios lets
 * callers change: that is the one line pointing the SDK at the sandbox; no SDK file is patched.
 */
import { createRequire } from 'node:module';
import Razorpay from 'razorpay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';
import { parseUpiLink } from '@tender/upi';
import { startReceiver, type Receiver } from './helpers';

const require = createRequire(import.meta.url);
const { validatePaymentVerification } = require('razorpay/dist/utils/razorpay-utils') as {
  validatePaymentVerification(params: { order_id: string; payment_id: string }, signature: string, secret: string): boolean;
};

let sandbox: RazorpaySandbox;
let receiver: Receiver;
let rzp: Razorpay;

const point = (client: Razorpay, url: string) => {
  (client as unknown as { api: { rq: { defaults: { baseURL: string } } } }).api.rq.defaults.baseURL = url;
  return client;
};

const customer = { email: 'payer@example.com', contact: '9123456789', ip: '203.0.113.7', referer: 'https://shop.example/', user_agent: 'Mozilla/5.0' };

beforeAll(async () => {
  receiver = await startReceiver();
  sandbox = await startRazorpaySandbox({ webhook: { url: receiver.url }, delays: { refundSettleMs: null, collectAutoMs: 10 } });
  rzp = point(new Razorpay({ key_id: sandbox.keyId, key_secret: sandbox.keySecret }), sandbox.url);
});
afterAll(async () => {
  await sandbox?.close();
  await receiver?.close();
});

describe('razorpay-node against the sandbox', () => {
  it('orders, an intent payment, approval, fetches, refunds and their webhooks', async () => {
    const order = await rzp.orders.create({ amount: 49900, currency: 'INR', receipt: 'rcpt-sdk-1', notes: { cart: 'c1' } });
    expect(order).toMatchObject({ entity: 'order', amount: 49900, amount_due: 49900, amount_paid: 0, currency: 'INR', receipt: 'rcpt-sdk-1', status: 'created', notes: { cart: 'c1' } });
    expect(order.id).toMatch(/^order_[A-Za-z0-9]{14}$/);
    const listed = await rzp.orders.all({ receipt: 'rcpt-sdk-1' } as never);
    expect(listed.items.map((o) => o.id)).toEqual([order.id]);

    const created = await rzp.payments.createUpi({ amount: 49900, currency: 'INR', order_id: order.id, method: 'upi', ...customer, upi: { flow: 'intent', expiry_time: 5 } } as never);
    expect(created.razorpay_payment_id).toMatch(/^pay_/);
    expect(parseUpiLink(created.link!)).toMatchObject({ amountPaise: 49900, currency: 'INR' });

    const before = await rzp.payments.fetch(created.razorpay_payment_id);
    expect(before).toMatchObject({ entity: 'payment', status: 'created', method: 'upi', order_id: order.id, captured: false });

    sandbox.approve(created.razorpay_payment_id);
    const paid = await rzp.payments.fetch(created.razorpay_payment_id);
    expect(paid).toMatchObject({ status: 'captured', captured: true, vpa: 'success@razorpay', amount_refunded: 0, refund_status: null });
    expect(paid.acquirer_data.rrn).toMatch(/^[0-9]{12}$/);
    expect(paid.fee).toBeGreaterThan(0);
    expect(paid.tax).toBeGreaterThan(0);
    expect((await rzp.orders.fetch(order.id)).status).toBe('paid');
    expect((await rzp.orders.fetchPayments(order.id)).items.map((p) => p.id)).toEqual([paid.id]);

    const signature = sandbox.checkoutSignature(order.id, paid.id);
    expect(validatePaymentVerification({ order_id: order.id, payment_id: paid.id }, signature, sandbox.keySecret)).toBe(true);

    const refund = await rzp.payments.refund(paid.id, { amount: 10000, speed: 'normal', notes: { why: 'test' } });
    expect(refund).toMatchObject({ entity: 'refund', amount: 10000, payment_id: paid.id, status: 'pending', speed_requested: 'normal' });
    sandbox.settleRefund(refund.id);
    expect(await rzp.refunds.fetch(refund.id)).toMatchObject({ status: 'processed' });
    expect((await rzp.payments.fetchMultipleRefund(paid.id)).items.map((r) => r.id)).toEqual([refund.id]);
    expect(await rzp.payments.fetchRefund(paid.id, refund.id)).toMatchObject({ id: refund.id });
    expect(await rzp.payments.fetch(paid.id)).toMatchObject({ amount_refunded: 10000, refund_status: 'partial' });

    await sandbox.webhooks.idle();
    const types = receiver.received.map((r) => JSON.parse(r.body.toString()).event as string);
    expect(types).toEqual(['payment.authorized', 'payment.captured', 'order.paid', 'refund.created', 'refund.processed']);
    for (const r of receiver.received) {
      expect(Razorpay.validateWebhookSignature(r.body.toString(), String(r.headers['x-razorpay-signature']), sandbox.webhookSecret)).toBe(true);
      expect(r.headers['x-razorpay-event-id']).toBeTruthy();
    }
  });

  it('collect: validate/vpa, a collect request to the test VPA, manual capture', async () => {
    expect(await rzp.payments.validateVpa({ vpa: 'success@razorpay' })).toMatchObject({ vpa: 'success@razorpay', success: true });
    expect(await rzp.payments.validateVpa({ vpa: 'invalid.user@okbank' })).toMatchObject({ success: false });
    await expect(rzp.payments.validateVpa({ vpa: 'not a vpa' })).rejects.toMatchObject({ statusCode: 400, error: { code: 'BAD_REQUEST_ERROR', field: 'vpa' } });

    const order = await rzp.orders.create({ amount: 2500, currency: 'INR', receipt: 'rcpt-sdk-2', payment: { capture: 'manual' } } as never);
    const created = await rzp.payments.createUpi({ amount: 2500, currency: 'INR', order_id: order.id, method: 'upi', ...customer, upi: { flow: 'collect', vpa: 'success@razorpay', expiry_time: 5 } } as never);
    expect(created.link).toBeUndefined();
    await expect.poll(async () => (await rzp.payments.fetch(created.razorpay_payment_id)).status, { interval: 5, timeout: 2000 }).toBe('authorized');
    await expect(rzp.payments.capture(created.razorpay_payment_id, 2000, 'INR')).rejects.toMatchObject({ statusCode: 400, error: { field: 'amount' } });
    expect(await rzp.payments.capture(created.razorpay_payment_id, 2500, 'INR')).toMatchObject({ status: 'captured', captured: true });
    await expect(rzp.payments.capture(created.razorpay_payment_id, 2500, 'INR')).rejects.toMatchObject({ error: { description: 'This payment has already been captured' } });
  });

  it("rejects what Razorpay rejects, in Razorpay's error envelope", async () => {
    const wrong = point(new Razorpay({ key_id: sandbox.keyId, key_secret: 'not-the-secret' }), sandbox.url);
    await expect(wrong.orders.create({ amount: 1000, currency: 'INR' })).rejects.toMatchObject({ statusCode: 401, error: { code: 'BAD_REQUEST_ERROR' } });
    await expect(rzp.orders.create({ amount: 99, currency: 'INR' })).rejects.toMatchObject({ statusCode: 400, error: { field: 'amount' } });
    const usd = await rzp.orders.create({ amount: 1000, currency: 'USD' });
    await expect(rzp.payments.createUpi({ amount: 1000, currency: 'USD', order_id: usd.id, method: 'upi', ...customer, upi: { flow: 'intent' } } as never)).rejects.toMatchObject({
      statusCode: 400,
      error: { code: 'BAD_REQUEST_ERROR', field: 'currency', source: 'business', step: 'payment_initiation' },
    });
    const order = await rzp.orders.create({ amount: 1000, currency: 'INR' });
    await expect(rzp.payments.createUpi({ amount: 1000, currency: 'INR', order_id: order.id, method: 'upi', ...customer, upi: { flow: 'collect', vpa: 'bad' } } as never)).rejects.toMatchObject({ error: { field: 'vpa' } });
    const intent = await rzp.payments.createUpi({ amount: 1000, currency: 'INR', order_id: order.id, method: 'upi', ...customer, upi: { flow: 'intent' } } as never);
    await expect(rzp.payments.refund(intent.razorpay_payment_id, { amount: 100 })).rejects.toMatchObject({ statusCode: 400 });
    await expect(rzp.payments.capture(intent.razorpay_payment_id, 1000, 'INR')).rejects.toMatchObject({ statusCode: 400 });
    sandbox.approve(intent.razorpay_payment_id);
    await expect(rzp.payments.refund(intent.razorpay_payment_id, { amount: 1001 })).rejects.toMatchObject({ statusCode: 400, error: { field: 'amount' } });
    await expect(rzp.payments.fetch('pay_DoesNotExist01')).rejects.toMatchObject({ statusCode: 400, error: { description: 'The id provided does not exist' } });
  });

  it('the other UPI endpoints the SDK exposes: payments.all, refunds.all, edit (PATCH notes) of payments, orders and refunds, createPaymentJson', async () => {
    const order = await rzp.orders.create({ amount: 3000, currency: 'INR', receipt: 'rcpt-sdk-3' });
    const json = (await rzp.payments.createPaymentJson({ amount: 3000, currency: 'INR', order_id: order.id, method: 'upi', ...customer, upi: { flow: 'intent' } } as never)) as unknown as {
      razorpay_payment_id: string;
      next: Array<{ action: string; url: string }>;
    };
    expect(json.razorpay_payment_id).toMatch(/^pay_/);
    expect(json.next.map((n) => n.action)).toEqual(['intent', 'poll']);
    expect(parseUpiLink(json.next[0]!.url)).toMatchObject({ amountPaise: 3000 });
    expect(json.next[1]!.url).toMatch(new RegExp(`/v1/payments/${json.razorpay_payment_id}$`));
    sandbox.approve(json.razorpay_payment_id);

    const all = await rzp.payments.all({ count: 2 });
    expect(all).toMatchObject({ entity: 'collection', count: 2 });
    expect(all.items[0]!.id).toBe(json.razorpay_payment_id);
    expect((await rzp.payments.all({ count: 1, skip: 1 })).items[0]!.id).toBe(all.items[1]!.id);
    expect((await rzp.payments.all({ from: 4_000_000_000 } as never)).items).toEqual([]);

    expect(await rzp.payments.edit(json.razorpay_payment_id, { notes: { k: 'v' } })).toMatchObject({ id: json.razorpay_payment_id, notes: { k: 'v' } });
    expect(await rzp.orders.edit(order.id, { notes: { o: '1' } })).toMatchObject({ id: order.id, notes: { o: '1' } });
    await expect(rzp.orders.edit(order.id, { amount: 1 } as never)).rejects.toMatchObject({ statusCode: 400, error: { code: 'BAD_REQUEST_ERROR' } });

    const refund = await rzp.payments.refund(json.razorpay_payment_id, { amount: 1000 });
    expect(await rzp.refunds.edit(refund.id, { notes: { r: '2' } })).toMatchObject({ id: refund.id, notes: { r: '2' } });
    const refunds = await rzp.refunds.all({ count: 5 });
    expect(refunds).toMatchObject({ entity: 'collection' });
    expect(refunds.items[0]!.id).toBe(refund.id);
    expect((await rzp.refunds.all({ payment_id: json.razorpay_payment_id } as never)).items.map((r) => r.id)).toEqual([refund.id]);
    expect(await rzp.refunds.fetch(refund.id, { payment_id: json.razorpay_payment_id } as never)).toMatchObject({ id: refund.id });
  });
});
