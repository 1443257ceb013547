/**
 * Razorpay signatures: the public test vectors of razorpay-node (test/utils/razorpay-utils.spec.js),
 * checked against this package's verifiers and against what the sandbox signs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TenderError } from '@tender/core';
import {
  computeRazorpayPaymentSignature,
  computeRazorpayWebhookSignature,
  createUpiGateway,
  razorpayHmacHex,
  verifyRazorpayPaymentSignature,
  verifyRazorpayWebhookSignature,
} from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';
import { startReceiver, type Receiver } from './helpers';

const WEBHOOK = { secret: '123456', body: '{"a":1,"b":2,"c":{"d":3}}', hex: '2fe04e22977002e6c7cb553adab8b460cb9e2a4970d5953cb27a8472752e3bbc' };
const KEY_SECRET = 'EnLs21M47BllR3X8PSFtjtbd';
const ORDER = { orderId: 'order_IEIaMR65cu6nz3', paymentId: 'pay_IH4NVgf4Dreq1l', hex: '0d4e745a1838664ad6c9c9902212a32d627d68e917290b0ad5f08ff4561bc50f' };
const SUBSCRIPTION = { message: 'pay_IDZNwZZFtnjyym|sub_ID6MOhgkcoHj9I', hex: '601f383334975c714c91a7d97dd723eb56520318355863dcf3821c0d07a17693' };
const PAYMENT_LINK = { message: 'plink_IH3cNucfVEgV68|TSsd1989|paid|pay_IH3d0ara9bSsjQ', hex: '07ae18789e35093e51d0a491eb9922646f3f82773547e5b0f67ee3f2d3bf7d5b' };

const enc = (s: string) => new TextEncoder().encode(s);
const flip = (hex: string) => hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0');

let sandbox: RazorpaySandbox | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await sandbox?.close();
  await receiver?.close();
  sandbox = receiver = undefined;
});

describe('Razorpay signature vectors', () => {
  it('webhook: hex HMAC-SHA256 of the raw body with the webhook secret', () => {
    expect(computeRazorpayWebhookSignature(WEBHOOK.body, WEBHOOK.secret)).toBe(WEBHOOK.hex);
    expect(() => verifyRazorpayWebhookSignature(enc(WEBHOOK.body), WEBHOOK.hex, [WEBHOOK.secret])).not.toThrow();
    for (const bad of [flip(WEBHOOK.hex), WEBHOOK.hex.toUpperCase(), WEBHOOK.hex.slice(2), '']) {
      expect(() => verifyRazorpayWebhookSignature(enc(WEBHOOK.body), bad, [WEBHOOK.secret])).toThrow(expect.objectContaining({ type: 'webhook_signature_error' }));
    }
    // One byte of the body changed (re-serialised JSON would do this) does not verify.
    expect(() => verifyRazorpayWebhookSignature(enc('{"a":1, "b":2,"c":{"d":3}}'), WEBHOOK.hex, [WEBHOOK.secret])).toThrow(expect.objectContaining({ code: 'signature_mismatch' }));
  });

  it('order payment: HMAC-SHA256 of order_id|payment_id with the key secret', () => {
    expect(computeRazorpayPaymentSignature(ORDER.orderId, ORDER.paymentId, KEY_SECRET)).toBe(ORDER.hex);
    expect(verifyRazorpayPaymentSignature({ orderId: ORDER.orderId, paymentId: ORDER.paymentId, signature: ORDER.hex }, KEY_SECRET)).toBe(true);
    expect(verifyRazorpayPaymentSignature({ orderId: ORDER.orderId, paymentId: ORDER.paymentId, signature: flip(ORDER.hex) }, KEY_SECRET)).toBe(false);
    expect(verifyRazorpayPaymentSignature({ orderId: ORDER.paymentId, paymentId: ORDER.orderId, signature: ORDER.hex }, KEY_SECRET)).toBe(false);
    expect(verifyRazorpayPaymentSignature({ orderId: ORDER.orderId, paymentId: ORDER.paymentId, signature: ORDER.hex }, `${KEY_SECRET}x`)).toBe(false);
    const gateway = createUpiGateway({ provider: 'razorpay', keyId: 'rzp_test_x', keySecret: KEY_SECRET });
    expect(gateway.verifyPaymentSignature({ orderId: ORDER.orderId, paymentId: ORDER.paymentId, signature: ORDER.hex })).toBe(true);
    expect(gateway.verifyPaymentSignature({ orderId: ORDER.orderId, paymentId: ORDER.paymentId, signature: ORDER.hex.toUpperCase() })).toBe(false);
  });

  it('subscription and payment-link messages with the same HMAC', () => {
    expect(razorpayHmacHex(KEY_SECRET, SUBSCRIPTION.message)).toBe(SUBSCRIPTION.hex);
    expect(razorpayHmacHex(KEY_SECRET, PAYMENT_LINK.message)).toBe(PAYMENT_LINK.hex);
  });

  it("the sandbox signs webhooks and checkout callbacks exactly as the vectors say", async () => {
    receiver = await startReceiver();
    sandbox = await startRazorpaySandbox({ keySecret: KEY_SECRET, webhookSecret: WEBHOOK.secret, webhook: { url: receiver.url } });
    sandbox.webhooks.emit('VectorEvent0001', 'vector.test', WEBHOOK.body);
    await sandbox.webhooks.idle();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.body.toString()).toBe(WEBHOOK.body);
    expect(receiver.received[0]!.headers['x-razorpay-signature']).toBe(WEBHOOK.hex);
    expect(receiver.received[0]!.headers['x-razorpay-event-id']).toBe('VectorEvent0001');
    expect(sandbox.checkoutSignature(ORDER.orderId, ORDER.paymentId)).toBe(ORDER.hex);
  });

  it("a sandbox payment's checkout callback verifies with the gateway's helper", async () => {
    sandbox = await startRazorpaySandbox();
    const gateway = createUpiGateway({ provider: 'razorpay', keyId: sandbox.keyId, keySecret: sandbox.keySecret });
    const order = sandbox.account.createOrder({ amount: 1000, currency: 'INR', receipt: 'r1' });
    const { payment } = sandbox.account.createUpiPayment({ amount: 1000, currency: 'INR', method: 'upi', order_id: order.id, email: 'a@b.co', contact: '9123456789', ip: '127.0.0.1', referer: 'https://x.example/', user_agent: 'ua', upi: { flow: 'intent' } });
    sandbox.approve(payment.id);
    const callback = sandbox.checkoutCallback(payment.id);
    expect(gateway.verifyPaymentSignature({ orderId: callback.razorpay_order_id, paymentId: callback.razorpay_payment_id, signature: callback.razorpay_signature })).toBe(true);
    expect(gateway.verifyPaymentSignature({ orderId: callback.razorpay_order_id, paymentId: callback.razorpay_payment_id, signature: flip(callback.razorpay_signature) })).toBe(false);
  });

  it('missing, repeated or empty headers and a missing secret are typed errors', () => {
    const codeOf = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return TenderError.isInstance(e) ? `${e.type}/${e.code}` : 'other';
      }
      return 'none';
    };
    expect(codeOf(() => verifyRazorpayWebhookSignature(enc(WEBHOOK.body), undefined, [WEBHOOK.secret]))).toBe('webhook_signature_error/missing_signature_header');
    expect(codeOf(() => verifyRazorpayWebhookSignature(enc(WEBHOOK.body), [WEBHOOK.hex, WEBHOOK.hex], [WEBHOOK.secret]))).toBe('webhook_signature_error/malformed_signature_header');
    expect(codeOf(() => verifyRazorpayWebhookSignature(enc(WEBHOOK.body), WEBHOOK.hex, []))).toBe('api_error/webhook_secret_missing');
    expect(codeOf(() => verifyRazorpayWebhookSignature(enc(WEBHOOK.body), [WEBHOOK.hex], ['wrong', WEBHOOK.secret]))).toBe('none');
  });

  it('the previous secret is accepted only until previousWebhookSecretExpiresAt (the rotation window ends)', () => {
    const body = enc(WEBHOOK.body);
    const oldSig = computeRazorpayWebhookSignature(WEBHOOK.body, 'whsec_old');
    const newSig = computeRazorpayWebhookSignature(WEBHOOK.body, 'whsec_new');
    const ends = '2026-12-02T10:00:00.000Z';
    const gateway = createUpiGateway({ provider: 'razorpay', keyId: 'k', keySecret: 's', webhookSecret: 'whsec_new', previousWebhookSecret: 'whsec_old', previousWebhookSecretExpiresAt: ends });
    const at = (iso: string) => new Date(iso);
    expect(() => gateway.verifyWebhook({ headers: { 'x-razorpay-signature': oldSig }, rawBody: body }, at('2026-12-02T09:59:59.999Z'))).not.toThrow();
    expect(() => gateway.verifyWebhook({ headers: { 'x-razorpay-signature': oldSig }, rawBody: body }, at(ends))).toThrow(expect.objectContaining({ type: 'webhook_signature_error', code: 'signature_mismatch' }));
    expect(() => gateway.verifyWebhook({ headers: { 'x-razorpay-signature': oldSig }, rawBody: body }, at('2027-06-01T00:00:00Z'))).toThrow(expect.objectContaining({ type: 'webhook_signature_error' }));
    expect(() => gateway.verifyWebhook({ headers: { 'x-razorpay-signature': newSig }, rawBody: body }, at('2027-06-01T00:00:00Z'))).not.toThrow();
    expect(() => createUpiGateway({ provider: 'razorpay', keyId: 'k', keySecret: 's', previousWebhookSecretExpiresAt: 'tomorrow' } as never)).toThrow(expect.objectContaining({ param: 'previousWebhookSecretExpiresAt' }));
  });

  it('hostile signature headers through the gateway are typed webhook_signature_errors, never a crash', () => {
    const gateway = createUpiGateway({ provider: 'razorpay', keyId: 'k', keySecret: 's', webhookSecret: WEBHOOK.secret });
    const body = enc(WEBHOOK.body);
    const hostile: unknown[] = [undefined, '', ' ', [], [WEBHOOK.hex, flip(WEBHOOK.hex)], [undefined], [''], 'abc', WEBHOOK.hex.slice(1), `${WEBHOOK.hex}00`, 'zz'.repeat(32), 'x'.repeat(100_000), 12345, { a: 1 }, `sha256=${WEBHOOK.hex}`];
    for (const header of hostile) {
      let caught: unknown;
      try {
        gateway.verifyWebhook({ headers: { 'x-razorpay-signature': header as string }, rawBody: body });
      } catch (e) {
        caught = e;
      }
      expect(TenderError.isInstance(caught) && caught.type === 'webhook_signature_error', JSON.stringify(header)?.slice(0, 40)).toBe(true);
    }
    expect(() => gateway.verifyWebhook({ headers: { 'x-razorpay-signature': [WEBHOOK.hex] }, rawBody: body })).not.toThrow();
  });
});
