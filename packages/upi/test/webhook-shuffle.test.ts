/**
 * Out-of-order and duplicated deliveries (Razorpay: "webhooks may be delivered out of order",
 * https://razorpay.com/docs/webhooks/best-practices/): every permutation of one payment's events, with
 * duplicates, ends in the same state, through the gateway, the engine and core's MemoryStore. An event
 * answered with an error is delivered again later, as Razorpay retries it.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTender, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { computeRazorpayWebhookSignature, createUpiGateway, type UpiGateway } from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';

let sandbox: RazorpaySandbox;
let gateway: UpiGateway;
let tender: Tender;

beforeAll(async () => {
  sandbox = await startRazorpaySandbox({ delays: { refundSettleMs: null, collectAutoMs: null, expirySweepMs: null } });
  gateway = createUpiGateway({ provider: 'razorpay', keyId: sandbox.keyId, keySecret: sandbox.keySecret, webhookSecret: sandbox.webhookSecret, baseUrl: sandbox.url, defaultIp: '127.0.0.1' });
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

const customer = { email: 'asha@example.com', phone: '+919812345678' };

/** One payment's life at Razorpay: declined, retried in the app and paid, one refund processed, one failed. */
async function history() {
  const payment = await tender.payments.create({ amount: '300.00', currency: 'INR', paymentMethod: 'upi', gateway: 'upi', customer });
  const from = sandbox.webhooks.events.length;
  const ref = payment.gatewayReference!;
  sandbox.decline(ref);
  sandbox.approve(ref);
  const first = sandbox.account.refund(ref, { amount: 10000 }, null).refund;
  sandbox.account.settleRefund(first.id, 'processed');
  const second = sandbox.account.refund(ref, { amount: 5000 }, null).refund;
  sandbox.account.settleRefund(second.id, 'failed');
  return { payment, events: sandbox.webhooks.events.slice(from) };
}

async function deliver(event: { id: string; body: string }): Promise<boolean> {
  const headers = { 'x-razorpay-signature': computeRazorpayWebhookSignature(event.body, sandbox.webhookSecret), 'x-razorpay-event-id': event.id };
  try {
    await tender.webhooks.handle('upi', { headers, rawBody: new TextEncoder().encode(event.body) });
    return true;
  } catch {
    return false;
  }
}

describe('end state is independent of delivery order', () => {
  it.each(['one after another', 'all at once'] as const)('any order, with duplicates, delivered %s, ends PARTIALLY_REFUNDED with one succeeded and one failed refund', async (mode) => {
    const { events } = await history();
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['payment.failed', 'payment.captured', 'order.paid', 'refund.created', 'refund.processed', 'refund.failed']));
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(events.map((_, i) => i), { minLength: events.length, maxLength: events.length }), fc.array(fc.nat(events.length - 1), { maxLength: 4 }), async (order, dups) => {
        const run = await history();
        let queue = [...order, ...dups].map((i) => run.events[i]!);
        for (let round = 0; queue.length > 0 && round < 6; round++) {
          const retry: typeof queue = [];
          if (mode === 'all at once') {
            const delivered = await Promise.all(queue.map((event) => deliver(event)));
            queue.forEach((event, i) => delivered[i] || retry.push(event));
          } else {
            for (const event of queue) if (!(await deliver(event))) retry.push(event);
          }
          queue = retry;
        }
        expect(queue.map((e) => e.type)).toEqual([]);
        const after = await tender.payments.get(run.payment.id);
        expect(after).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountCaptured: '300.00', amountRefunded: '100.00', failure: null });
        const refunds = (await tender.refunds.list(run.payment.id)).map((r) => `${r.amount}:${r.status}`).sort();
        expect(refunds).toEqual(['100.00:SUCCEEDED', '50.00:FAILED']);
        expect((await tender.transitions(run.payment.id)).map((t) => t.to)).not.toContain('EXPIRED');
      }),
      { seed: 20261201, numRuns: 40 },
    );
  });
});
