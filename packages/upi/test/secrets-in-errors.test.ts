/**
 * Secrets never leave in an error: the key secret (nor the Basic credentials built from it) and the
 * webhook secrets appear in no message, details or serialised error, whatever went wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, Money, type GatewayCreatePaymentInput } from '@tender/core';
import { createUpiGateway } from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';

const KEY_SECRET = 'keysecret_DO_NOT_LEAK_1';
const WH_SECRET = 'whsecret_DO_NOT_LEAK_2';
const PREV_SECRET = 'whsecret_DO_NOT_LEAK_3';
let sandbox: RazorpaySandbox;
beforeAll(async () => {
  sandbox = await startRazorpaySandbox({ keySecret: KEY_SECRET, delays: { collectAutoMs: null, refundSettleMs: null, expirySweepMs: null } });
});
afterAll(async () => {
  await sandbox?.close();
});

const input = (): GatewayCreatePaymentInput => ({
  paymentId: `pay_${Math.random().toString(36).slice(2, 14)}`, merchantId: 'm', orderId: null, amount: Money.of('10.00', 'INR'), captureMethod: 'automatic', paymentMethod: 'upi',
  description: null, customer: { email: 'a@example.com', phone: '+919000000001' }, returnUrl: null, notifyUrl: null, metadata: { customer_ip: '127.0.0.1' },
});

function expectNoSecret(error: unknown) {
  const e = error as Error & Record<string, unknown>;
  const text = [e.message, e.stack, JSON.stringify(e), JSON.stringify((e as { details?: unknown }).details), String(e.cause)].join('\n');
  for (const secret of [KEY_SECRET, WH_SECRET, PREV_SECRET, Buffer.from(`${sandbox.keyId}:${KEY_SECRET}`).toString('base64'), Buffer.from(`rzp_test_wrong:${KEY_SECRET}`).toString('base64')]) {
    expect(text).not.toContain(secret);
  }
}

describe('no secret in any error', () => {
  it.each([
    ['wrong key id (401)', { keyId: 'rzp_test_wrong' }, null],
    ['5xx', {}, { kind: 'error', status: 500 }],
    ['HTML 502', {}, { kind: 'error', status: 502 }],
    ['429', {}, { kind: 'error', status: 429 }],
    ['lost answer', {}, { kind: 'drop' }],
  ] as const)('%s', async (_what, overrides, fault) => {
    if (fault) sandbox.faults.add({ ...fault, count: 10 } as never);
    const gateway = createUpiGateway({
      provider: 'razorpay', keyId: sandbox.keyId, keySecret: KEY_SECRET, webhookSecret: WH_SECRET, previousWebhookSecret: PREV_SECRET, baseUrl: sandbox.url,
      transport: createHttpTransport({ gateway: 'upi', retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }), ...overrides,
    });
    const error = await gateway.createPayment(input(), { idempotencyKey: 'k', now: new Date() }).then(() => null, (e: unknown) => e);
    sandbox.faults.clear();
    await gateway.close();
    expect(error).not.toBeNull();
    expectNoSecret(error);
  });

  it('connection refused, webhook signature failures and bad configuration', async () => {
    const gateway = createUpiGateway({ provider: 'razorpay', keyId: 'rzp_test_x', keySecret: KEY_SECRET, webhookSecret: WH_SECRET, previousWebhookSecret: PREV_SECRET, baseUrl: 'http://127.0.0.1:9' });
    expectNoSecret(await gateway.createPayment(input(), { idempotencyKey: 'k', now: new Date() }).then(() => null, (e: unknown) => e));
    await gateway.close();
    for (const header of [undefined, 'ab', 'x'.repeat(64)]) {
      try {
        gateway.verifyWebhook({ headers: { 'x-razorpay-signature': header }, rawBody: new TextEncoder().encode('{}') });
      } catch (e) {
        expectNoSecret(e);
      }
    }
    for (const bad of [{ previousWebhookSecret: 42 }, { baseUrl: `ftp://${KEY_SECRET}` }, { defaultEmail: KEY_SECRET }]) {
      try {
        createUpiGateway({ provider: 'razorpay', keyId: 'k', keySecret: KEY_SECRET, ...bad } as never);
        expect.unreachable();
      } catch (e) {
        expectNoSecret(e);
      }
    }
  });
});
