/**
 * Engine + Stripe gateway + sandbox, all over loopback sockets: the sandbox's signed webhooks reach
 * the engine through a real HTTP receiver that hands the raw bytes to `tender.webhooks.handle`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, Money, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createStripeGateway, type StripeGateway } from '@tender/stripe';
import { completeCustomerAction, startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

const webhookSecret = 'whsec_engine_tests';
let sandbox: StripeSandbox;
let receiver: Server;
let gateway: StripeGateway;
let tender: Tender;
const acks: number[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      tender.webhooks
        .handle('stripe', { headers: req.headers as Record<string, string>, rawBody: new Uint8Array(Buffer.concat(chunks)) })
        .then(
          (ack) => {
            acks.push(ack.status);
            res.writeHead(ack.status, ack.headers ?? {}).end(ack.body);
          },
          (error: { status?: number; message?: string }) => {
            acks.push(error.status ?? 500);
            res.writeHead(error.status ?? 500).end(String(error.message));
          },
        );
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  sandbox = await startStripeSandbox({ webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`, secret: webhookSecret, retryDelayMs: 10 } });
  gateway = createStripeGateway({
    secretKey: sandbox.secretKey,
    webhookSecret,
    baseUrl: sandbox.url,
    transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }),
  });
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
});

afterEach(async () => {
  await sandbox.webhooks.idle();
  sandbox.faults.clear();
  Object.assign(sandbox.webhooks.faults, { duplicate: 0, delayMs: 0, dropNext: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
  await new Promise((r) => receiver?.close(r));
});

const create = (amount: string, currency: string, paymentMethod: string | null, extra: Record<string, unknown> = {}) =>
  tender.payments.create({ amount, currency, paymentMethod, gateway: 'stripe', orderId: `ORD-${Math.random().toString(36).slice(2)}`, ...extra });

const pi = (id: string | null) => sandbox.account.paymentIntents.get(id!)!;

describe('Stripe through the engine, over sockets', () => {
  it('automatic capture: CAPTURED, Tender metadata on the PaymentIntent, minor units on the wire', async () => {
    const payment = await create('100.50', 'USD', 'pm_card_visa', { metadata: { cart: 'c-1' } });
    expect(payment).toMatchObject({ status: 'CAPTURED', amountCaptured: '100.50', gateway: 'stripe' });
    expect(pi(payment.gatewayReference)).toMatchObject({
      amount: 10050,
      currency: 'usd',
      capture_method: 'automatic',
      metadata: { cart: 'c-1', tender_payment_id: payment.id, tender_order_id: payment.orderId },
    });
    await sandbox.webhooks.idle();
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
  });

  it('JPY is never multiplied and KWD goes in fils', async () => {
    const yen = await create('1500', 'JPY', 'pm_card_visa');
    expect(yen.status).toBe('CAPTURED');
    expect(pi(yen.gatewayReference).amount).toBe(1500);
    const kwd = await create('12.340', 'KWD', 'pm_card_visa');
    expect(kwd).toMatchObject({ status: 'CAPTURED', amount: '12.340', amountCaptured: '12.340' });
    expect(pi(kwd.gatewayReference).amount).toBe(12340);
    await expect(create('12.345', 'KWD', 'pm_card_visa')).rejects.toMatchObject({ code: 'amount_not_supported', status: 400 });
  });

  it('manual capture, then a partial capture', async () => {
    const payment = await create('80.00', 'MYR', 'pm_card_visa', { captureMethod: 'manual' });
    expect(payment.status).toBe('AUTHORIZED');
    expect(pi(payment.gatewayReference).status).toBe('requires_capture');
    const captured = await tender.payments.capture(payment.id, { amount: '50.00' });
    expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: '50.00' });
    expect(pi(payment.gatewayReference)).toMatchObject({ status: 'succeeded', amount_received: 5000 });
  });

  it('cancel voids an authorisation', async () => {
    const payment = await create('20.00', 'USD', 'pm_card_visa', { captureMethod: 'manual' });
    const cancelled = await tender.payments.cancel(payment.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect(pi(payment.gatewayReference).status).toBe('canceled');
  });

  it('a decline is FAILED with the reason and decline code', async () => {
    const payment = await create('10.00', 'USD', 'pm_card_chargeDeclinedInsufficientFunds');
    expect(payment.status).toBe('FAILED');
    expect(payment.failure).toMatchObject({ code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' });
    expect(payment.gatewayReference).toMatch(/^pi_/);
    await sandbox.webhooks.idle();
    expect((await tender.payments.get(payment.id)).status).toBe('FAILED');
  });

  it('3-D Secure: REQUIRES_ACTION with client secret and next action, then CAPTURED by webhook', async () => {
    const payment = await create('42.00', 'USD', 'pm_card_authenticationRequired', { returnUrl: 'https://shop.example/done' });
    expect(payment.status).toBe('REQUIRES_ACTION');
    const action = payment.nextAction as { type: string; clientSecret: string; action: { type: string; redirect_to_url: { url: string } } };
    expect(action.type).toBe('client_secret');
    expect(action.clientSecret).toBe(pi(payment.gatewayReference).client_secret);
    expect(action.action.type).toBe('redirect_to_url');
    await sandbox.webhooks.idle();
    await completeCustomerAction(sandbox, payment.gatewayReference!, 'approve');
    await sandbox.webhooks.idle();
    const after = await tender.payments.get(payment.id);
    expect(after).toMatchObject({ status: 'CAPTURED', amountCaptured: '42.00', nextAction: null });
    expect((await tender.transitions(payment.id)).some((t) => t.to === 'CAPTURED' && t.actor === 'webhook')).toBe(true);
  });

  it('manual-capture 3-D Secure becomes AUTHORIZED by payment_intent.amount_capturable_updated', async () => {
    const payment = await create('9.00', 'USD', 'pm_card_threeDSecure2Required', { captureMethod: 'manual' });
    expect(payment.status).toBe('REQUIRES_ACTION');
    await completeCustomerAction(sandbox, payment.gatewayReference!, 'approve');
    await sandbox.webhooks.idle();
    expect((await tender.payments.get(payment.id)).status).toBe('AUTHORIZED');
  });

  it('partial refunds up to the total, with reasons, each a Stripe refund carrying Tender ids', async () => {
    const payment = await create('100.00', 'USD', 'pm_card_visa');
    const r1 = await tender.payments.refund(payment.id, { amount: '30.00', reason: 'requested_by_customer' });
    const r2 = await tender.payments.refund(payment.id, { amount: '45.50', reason: 'damaged on arrival' });
    expect((await tender.payments.get(payment.id)).status).toBe('PARTIALLY_REFUNDED');
    await expect(tender.payments.refund(payment.id, { amount: '30.00' })).rejects.toMatchObject({ code: 'amount_too_large' });
    const r3 = await tender.payments.refund(payment.id);
    expect(r3.amount).toBe('24.50');
    await sandbox.webhooks.idle();
    const after = await tender.payments.get(payment.id);
    expect(after).toMatchObject({ status: 'REFUNDED', amountRefunded: '100.00' });
    const stripeRefunds = sandbox.account.listRefunds({ paymentIntent: payment.gatewayReference! });
    expect(stripeRefunds.map((r) => r.amount).sort()).toEqual([2450, 3000, 4550]);
    expect(stripeRefunds.find((r) => r.metadata.tender_refund_id === r1.id)?.reason).toBe('requested_by_customer');
    expect(stripeRefunds.find((r) => r.metadata.tender_refund_id === r2.id)).toMatchObject({ reason: null, metadata: { tender_reason: 'damaged on arrival' } });
    expect((await tender.refunds.list(payment.id)).every((r) => r.status === 'SUCCEEDED')).toBe(true);
  });

  it('a refund made in the Stripe dashboard appears in Tender', async () => {
    const payment = await create('60.00', 'USD', 'pm_card_visa');
    await sandbox.webhooks.idle();
    sandbox.dashboard.refund(payment.gatewayReference!, 1500);
    await sandbox.webhooks.idle();
    const refunds = await tender.refunds.list(payment.id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: '15.00', status: 'SUCCEEDED', reason: 'external' });
    expect((await tender.payments.get(payment.id)).status).toBe('PARTIALLY_REFUNDED');
  });

  it('a refund that fails later (refund.failed) gives the amount back to the payment', async () => {
    const payment = await create('25.00', 'USD', 'pm_card_refundFail');
    const refund = await tender.payments.refund(payment.id);
    expect(refund.status).toBe('SUCCEEDED');
    await waitFor(async () => (await tender.refunds.get(refund.id)).status === 'FAILED');
    expect(await tender.refunds.get(refund.id)).toMatchObject({ status: 'FAILED', failure: { code: 'expired_or_canceled_card' } });
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
  });

  it('a dispute is recorded on the payment', async () => {
    const payment = await create('33.00', 'USD', 'pm_card_visa');
    sandbox.dashboard.dispute(payment.gatewayReference!, 'fraudulent');
    await sandbox.webhooks.idle();
    expect(acks.every((s) => s === 200)).toBe(true);
    const trail = await tender.transitions(payment.id);
    expect(JSON.stringify(trail)).toContain('charge.dispute.created');
  });

  it('duplicate webhooks have no second effect', async () => {
    sandbox.webhooks.faults.duplicate = 2;
    const payment = await create('11.00', 'USD', 'pm_card_authenticationRequired');
    await completeCustomerAction(sandbox, payment.gatewayReference!, 'approve');
    await sandbox.webhooks.idle();
    const trail = await tender.transitions(payment.id);
    expect(trail.filter((t) => t.to === 'CAPTURED')).toHaveLength(1);
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
  });

  it('out-of-order webhooks never move a payment backwards', async () => {
    sandbox.webhooks.hold();
    const payment = await create('12.00', 'USD', 'pm_card_authenticationRequired');
    await completeCustomerAction(sandbox, payment.gatewayReference!, 'approve');
    // Held: created, requires_action, charge.succeeded, payment_intent.succeeded; delivered newest first.
    const released = sandbox.webhooks.release({ order: 'reverse' });
    expect(released[0]!.type).toBe('payment_intent.succeeded');
    await sandbox.webhooks.idle();
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
  });

  it('a lost create response leaves PROCESSING, and reconcile() finds the PaymentIntent without charging twice', async () => {
    sandbox.faults.add({ kind: 'drop', match: /^POST \/v1\/payment_intents$/, count: 3 });
    sandbox.webhooks.faults.dropNext = 10;
    const before = sandbox.account.paymentIntents.size;
    const payment = await create('77.00', 'USD', 'pm_card_visa');
    expect(payment.status).toBe('PROCESSING');
    // The transport retried with the same Idempotency-Key: Stripe replayed, one PaymentIntent exists.
    expect(sandbox.account.paymentIntents.size).toBe(before + 1);
    const report = await tender.reconcile({ processingAfterMs: 0 });
    expect(report.updated).toBeGreaterThanOrEqual(1);
    const after = await tender.payments.get(payment.id);
    expect(after).toMatchObject({ status: 'CAPTURED', amountCaptured: '77.00' });
    expect(after.gatewayReference).toMatch(/^pi_/);
  });

  it('retrieveRefund finds a refund by its Stripe id, or by Tender refund id when the id was never learnt', async () => {
    const payment = await create('40.00', 'USD', 'pm_card_visa');
    const refund = await tender.payments.refund(payment.id, { amount: '10.00' });
    const ctx = { idempotencyKey: 'rr', now: new Date() };
    const base = { refundId: refund.id, paymentId: payment.id, paymentGatewayReference: payment.gatewayReference, amount: Money.of('10.00', 'USD') };
    const byRef = await gateway.retrieveRefund!({ ...base, gatewayReference: refund.gatewayReference }, ctx);
    const byTenderId = await gateway.retrieveRefund!({ ...base, gatewayReference: null }, ctx);
    expect(byRef).toMatchObject({ status: 'SUCCEEDED', refundId: refund.id, gatewayReference: refund.gatewayReference });
    expect(byTenderId).toMatchObject({ status: 'SUCCEEDED', refundId: refund.id, gatewayReference: refund.gatewayReference });
    await expect(gateway.retrieveRefund!({ ...base, refundId: 're_unknown', gatewayReference: null }, ctx)).rejects.toMatchObject({ type: 'not_found_error' });
  });

  it('Stripe-Should-Retry: false stops retries; a retried 503 reuses the Idempotency-Key', async () => {
    sandbox.faults.add({ kind: 'error', status: 503, shouldRetry: true, match: /^POST \/v1\/payment_intents$/ });
    const count = sandbox.requestCount;
    const ok = await create('5.00', 'USD', 'pm_card_visa');
    expect(ok.status).toBe('CAPTURED');
    expect(sandbox.requestCount - count).toBe(2);
    sandbox.faults.add({ kind: 'error', status: 500, shouldRetry: false, match: /^POST \/v1\/payment_intents$/, count: 5 });
    const before = sandbox.requestCount;
    const unknown = await create('6.00', 'USD', 'pm_card_visa');
    expect(sandbox.requestCount - before).toBe(1);
    expect(unknown.status).toBe('PROCESSING');
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sandbox.webhooks.idle();
    await new Promise((r) => setImmediate(r));
  }
}
