/**
 * Razorpay disputes through the engine, the UPI gateway and the Razorpay sandbox over loopback: the
 * sandbox's signed `payment.dispute.*` events become Tender disputes bound to the payment through the
 * dispute's `payment_id`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, TenderError, type OutboxEvent, type Payment, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createUpiGateway, type UpiGateway } from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';
import { startReceiver, type Receiver } from './helpers';

const SECRET = 'whsec_disputes';
let sandbox: RazorpaySandbox;
let receiver: Receiver;
let gateway: UpiGateway;
let tender: Tender;
const acks: number[] = [];
const events: OutboxEvent[] = [];
/** The sandbox's clock: Razorpay's times are whole seconds, so each step of a dispute is a day later. */
let sandboxNow = Date.parse('2026-03-02T09:00:00.000Z');

beforeAll(async () => {
  receiver = await startReceiver(async (r) => {
    try {
      const ack = await tender.webhooks.handle('upi', { headers: r.headers as Record<string, string>, rawBody: new Uint8Array(r.body) });
      acks.push(ack.status);
      return ack;
    } catch (error) {
      acks.push((error as TenderError).status ?? 500);
      throw error;
    }
  });
  sandbox = await startRazorpaySandbox({ now: () => sandboxNow, webhookSecret: SECRET, webhook: { url: receiver.url, maxAttempts: 1 }, delays: { refundSettleMs: 5, collectAutoMs: null, expirySweepMs: null } });
  gateway = createUpiGateway({
    provider: 'razorpay',
    keyId: sandbox.keyId,
    keySecret: sandbox.keySecret,
    webhookSecret: SECRET,
    baseUrl: sandbox.url,
    defaultIp: '127.0.0.1',
    transport: createHttpTransport({ gateway: 'upi', retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }),
  });
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
  tender.events.on((event) => events.push(event));
});

afterEach(async () => {
  await sandbox.webhooks.idle();
  Object.assign(sandbox.webhooks.faults, { duplicate: 0, delayMs: 0, dropNext: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
  await receiver?.close();
});

async function captured(amount: string): Promise<Payment> {
  const payment = await tender.payments.create({ amount, currency: 'INR', paymentMethod: 'upi', gateway: 'upi', orderId: `ORD-${Math.random().toString(36).slice(2)}`, customer: { name: 'Asha Rao', email: 'asha@example.com', phone: '+919812345678' } });
  sandbox.approve(payment.gatewayReference!);
  for (;;) {
    await sandbox.webhooks.idle();
    if ((await tender.payments.get(payment.id)).status === 'CAPTURED') return payment;
    await new Promise((r) => setImmediate(r));
  }
}

const only = async (paymentId: string) => {
  const disputes = await tender.disputes.listForPayment(paymentId);
  expect(disputes).toHaveLength(1);
  return disputes[0]!;
};

describe('Razorpay disputes through the engine', () => {
  it('open -> under_review -> action_required -> lost; the payment stays CAPTURED', async () => {
    const payment = await captured('500.00');
    const opened = sandbox.account.dispute(payment.gatewayReference!, 'fraud');
    await sandbox.webhooks.idle();
    expect(await only(payment.id)).toMatchObject({ gatewayReference: opened.id, status: 'needs_response', gatewayStatus: 'open/chargeback', amount: '500.00', currency: 'INR', reason: 'fraud' });
    expect((await only(payment.id)).evidenceDueBy).toBe(new Date(Number(opened.respond_by) * 1000).toISOString());
    for (const status of ['under_review', 'open', 'lost'] as const) {
      sandboxNow += 86_400_000;
      sandbox.account.updateDispute(String(opened.id), status);
      await sandbox.webhooks.idle();
    }
    const lost = await only(payment.id);
    expect(lost.status).toBe('lost');
    expect((await tender.disputes.transitions(lost.id)).map((t) => t.to)).toEqual(['needs_response', 'under_review', 'needs_response', 'lost']);
    expect(events.filter((e) => (e.data as { id?: string }).id === lost.id).map((e) => e.type)).toEqual(['dispute.created', 'dispute.updated', 'dispute.updated', 'dispute.closed']);
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
    expect(acks.every((s) => s === 200)).toBe(true);
  });

  it('a retrieval request is an inquiry; duplicated and reversed deliveries end won', async () => {
    const payment = await captured('250.00');
    sandbox.webhooks.hold();
    const opened = sandbox.account.dispute(payment.gatewayReference!, 'retrieval_request', 'retrieval');
    sandbox.account.updateDispute(String(opened.id), 'under_review');
    sandbox.account.updateDispute(String(opened.id), 'won');
    sandbox.webhooks.faults.duplicate = 1;
    sandbox.webhooks.release({ order: 'reverse' });
    await sandbox.webhooks.idle();
    const won = await only(payment.id);
    expect(won).toMatchObject({ status: 'won', gatewayStatus: 'won/retrieval' });
    expect((await tender.disputes.transitions(won.id)).map((t) => t.to)).toEqual(['won']);
    await expect(tender.disputes.get(won.id, { merchantId: 'someone_else' })).rejects.toMatchObject({ status: 404, code: 'resource_missing' });
  });
});
