/**
 * Razorpay auto-refunds an authorised payment that is not captured in time: the payment becomes
 * `refunded` with `captured: false`, a refund entity is created and the refund webhooks fire
 * (https://razorpay.com/docs/payments/refunds/auto-refunds/). The money was never captured, so Tender
 * must never show the payment CAPTURED (nor tell the merchant so): it ends CANCELLED (the authorisation
 * voided by Razorpay, failure `authorization_refunded`), with no refund of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTender, Money, type Tender } from '@tender/core';
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
const deliverAll = async (events: ReadonlyArray<{ id: string; body: string }>) => {
  const statuses: number[] = [];
  for (const event of events) {
    const headers = { 'x-razorpay-signature': computeRazorpayWebhookSignature(event.body, sandbox.webhookSecret), 'x-razorpay-event-id': event.id };
    statuses.push(await tender.webhooks.handle('upi', { headers, rawBody: new TextEncoder().encode(event.body) }).then((a) => a.status, (e: { status?: number }) => e.status ?? 500));
  }
  return statuses;
};

describe('an auto-refunded authorisation', () => {
  it('ends CANCELLED by webhook, never CAPTURED, with nothing refunded in Tender', async () => {
    const payment = await tender.payments.create({ amount: '80.00', currency: 'INR', paymentMethod: 'upi', gateway: 'upi', captureMethod: 'manual', customer });
    const from = sandbox.webhooks.events.length;
    sandbox.approve(payment.gatewayReference!);
    sandbox.autoRefund(payment.gatewayReference!);
    const events = sandbox.webhooks.events.slice(from);
    expect(events.map((e) => e.type)).toEqual(['payment.authorized', 'refund.created', 'refund.processed']);
    expect(JSON.parse(events[2]!.body).payload.payment.entity).toMatchObject({ status: 'refunded', captured: false });
    expect(await deliverAll(events)).toEqual([200, 200, 200]);
    const after = await tender.payments.get(payment.id);
    expect(after).toMatchObject({ status: 'CANCELLED', amountCaptured: '0.00', amountRefunded: '0.00', failure: { code: 'authorization_refunded' } });
    expect((await tender.transitions(payment.id)).map((t) => t.to)).not.toContain('CAPTURED');
    expect(await tender.refunds.list(payment.id)).toEqual([]);
  });

  it('the refund events alone (authorisation never seen) and a requery say the same', async () => {
    const payment = await tender.payments.create({ amount: '81.00', currency: 'INR', paymentMethod: 'upi', gateway: 'upi', captureMethod: 'manual', customer });
    const from = sandbox.webhooks.events.length;
    sandbox.approve(payment.gatewayReference!);
    sandbox.autoRefund(payment.gatewayReference!);
    const refundEvents = sandbox.webhooks.events.slice(from).filter((e) => e.type.startsWith('refund.'));
    expect(await deliverAll(refundEvents)).toEqual([200, 200]);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'CANCELLED', amountCaptured: '0.00' });
    expect((await tender.transitions(payment.id)).map((t) => t.to)).not.toContain('CAPTURED');

    const retrieved = await gateway.retrieve({ paymentId: payment.id, orderId: null, gatewayReference: payment.gatewayReference, amount: Money.of('81.00', 'INR'), gatewayData: { nextActionIssued: true } }, { idempotencyKey: 'k', now: new Date() });
    expect(retrieved).toMatchObject({ status: 'CANCELLED', failure: { code: 'authorization_refunded' } });
    expect(retrieved.amountCaptured).toBeUndefined();
    expect(retrieved.refunds ?? []).toEqual([]);
  });
});
