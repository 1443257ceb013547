/**
 * Verified webhooks and 2xx answers with missing or malformed fields: a `requery` event (when the
 * payment is still named), a 400 `invalid_webhook_payload` naming the field, or a typed gateway_error
 * for an API answer. Never a TypeError.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, GATEWAY_OUTCOME_UNKNOWN, Money, TenderError } from '@tender/core';
import type { WebhookEvent } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createStripeGateway, signStripePayload } from '@tender/stripe';
import { completeCustomerAction, startStripeSandbox } from '@tender/stripe/sandbox';

const offline = createStripeGateway({ secretKey: 'sk_test_x', webhookSecret: 'whsec_x', transport: {} as never });

function body(type: string, object: Record<string, unknown>, envelope: Record<string, unknown> = {}): string {
  return JSON.stringify({ id: `evt_${type}`, object: 'event', api_version: '2026-10-28.endive', created: 1700000001, data: { object }, livemode: false, pending_webhooks: 1, request: null, type, ...envelope });
}
function parse(raw: string): WebhookEvent[] {
  const rawBody = new TextEncoder().encode(raw);
  const headers = { 'stripe-signature': signStripePayload({ payload: raw, secret: 'whsec_x' }) };
  offline.verifyWebhook({ headers, rawBody }, new Date());
  return offline.parseWebhook({ headers, rawBody }).events;
}
function rejection(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const metadata = { tender_payment_id: 'pay_1', tender_order_id: 'ORD-1' };
const succeeded = { id: 'pi_1', object: 'payment_intent', amount: 2000, currency: 'usd', status: 'succeeded', capture_method: 'automatic', latest_charge: 'ch_1', metadata };

describe('verified but incomplete Stripe events', () => {
  it('payment_intent.succeeded without amount_received is a requery of that PaymentIntent, naming the field', () => {
    const [event] = parse(body('payment_intent.succeeded', succeeded));
    expect(event).toMatchObject({ kind: 'requery', eventId: 'evt_payment_intent.succeeded', gatewayReference: 'pi_1', paymentId: 'pay_1', orderId: 'ORD-1' });
    expect((event as { reason: string }).reason).toMatch(/amount_received/);
  });

  it('charge.refunded without amount_captured (embedded refunds) or amount_refunded is a requery of its PaymentIntent', () => {
    const charge = { id: 'ch_1', object: 'charge', currency: 'usd', amount_refunded: 500, refunded: false, payment_intent: 'pi_1', metadata, refunds: { object: 'list', data: [], has_more: false } };
    const [embedded] = parse(body('charge.refunded', charge));
    expect(embedded).toMatchObject({ kind: 'requery', gatewayReference: 'pi_1', paymentId: 'pay_1' });
    expect((embedded as { reason: string }).reason).toMatch(/amount_captured/);
    const { amount_refunded: _gone, refunds: _none, ...plain } = charge;
    const [note] = parse(body('charge.refunded', plain));
    expect(note).toMatchObject({ kind: 'requery', gatewayReference: 'pi_1' });
    expect((note as { reason: string }).reason).toMatch(/amount_refunded/);
  });

  it('refund.updated without an amount is a requery of the refund\'s PaymentIntent', () => {
    const [event] = parse(body('refund.updated', { id: 're_1', object: 'refund', currency: 'usd', status: 'succeeded', payment_intent: 'pi_1', metadata: { tender_refund_id: 'ref_1' } }));
    expect(event).toMatchObject({ kind: 'requery', gatewayReference: 'pi_1', paymentId: null });
    expect((event as { reason: string }).reason).toMatch(/amount/);
  });

  it('an object that names no payment is a 400 invalid_webhook_payload naming what is missing', () => {
    const error = rejection(() => parse(body('payment_intent.succeeded', { object: 'payment_intent', amount: 'lots', currency: 'usd', status: 'succeeded' })));
    expect(TenderError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_webhook_payload', status: 400 });
    expect((error as Error).message).toMatch(/\bid is missing/);
    expect((error as Error).message).toMatch(/amount is not a number/);
    const noData = rejection(() => parse(JSON.stringify({ id: 'evt_x', object: 'event', type: 'payment_intent.succeeded' })));
    expect(noData).toMatchObject({ code: 'invalid_webhook_payload', status: 400 });
    expect((noData as Error).message).toMatch(/data/);
  });

  it('an Event without created is still read (no RangeError), without occurredAt', () => {
    const [event] = parse(body('payment_intent.succeeded', { ...succeeded, amount_received: 2000 }, { created: undefined }));
    expect(event).toMatchObject({ kind: 'payment', result: { status: 'CAPTURED' } });
    expect((event as { occurredAt?: string }).occurredAt).toBeUndefined();
  });

  it('disputes bind by their PaymentIntent only; without one they are ignored; odd amounts are left out of the note', () => {
    const dispute = { id: 'dp_1', object: 'dispute', amount: 2000, currency: 'usd', charge: 'ch_1', payment_intent: null, reason: 'fraudulent', status: 'needs_response', metadata: { tender_payment_id: 'pay_FORGED_BY_NOBODY' } };
    expect(parse(body('charge.dispute.created', dispute))[0]).toMatchObject({ kind: 'ignored' });
    const [note] = parse(body('charge.dispute.created', { ...dispute, payment_intent: 'pi_1', amount: 'lots' }));
    expect(note).toMatchObject({ kind: 'note', gatewayReference: 'pi_1', paymentId: null, type: 'charge.dispute.created' });
    expect((note as { data: Record<string, unknown> }).data.amount).toBeUndefined();
  });

  it('refunds and charges made without a PaymentIntent (never Tender\'s) are ignored, not retried for ever', () => {
    expect(parse(body('refund.created', { id: 're_2', object: 'refund', amount: 100, currency: 'usd', status: 'succeeded', charge: 'ch_9', payment_intent: null, metadata: {} }))[0]).toMatchObject({ kind: 'ignored' });
    expect(parse(body('charge.refunded', { id: 'ch_9', object: 'charge', amount_refunded: 100, currency: 'usd', refunded: true, payment_intent: null, metadata: {} }))[0]).toMatchObject({ kind: 'ignored' });
  });
});

describe('2xx answers Tender cannot read are typed gateway errors', () => {
  let server: Server;
  let reply: { status: number; body: string } = { status: 200, body: '{}' };
  let gateway: ReturnType<typeof createStripeGateway>;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    gateway = createStripeGateway({ secretKey: 'sk_test_wire', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 1 } }) });
  });
  afterAll(async () => {
    await gateway.close();
    await new Promise((r) => server.close(r));
  });
  const ctx = { idempotencyKey: 'k1', now: new Date() };
  const input = {
    paymentId: 'pay_01',
    merchantId: 'm1',
    orderId: 'ORD-1',
    amount: Money.of('20.00', 'USD'),
    captureMethod: 'automatic' as const,
    paymentMethod: 'pm_card_visa',
    description: null,
    customer: {},
    returnUrl: null,
    notifyUrl: null,
    metadata: {},
  };
  const failure = (promise: Promise<unknown>) => promise.then(() => null, (e: unknown) => e);

  it('create answered with a PaymentIntent lacking amount: outcome unknown (Stripe may have charged), naming the field', async () => {
    reply = { status: 200, body: JSON.stringify({ id: 'pi_1', object: 'payment_intent', currency: 'usd', status: 'succeeded' }) };
    const error = await failure(gateway.createPayment(input, ctx));
    expect(error).toMatchObject({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN });
    expect((error as Error).message).toMatch(/amount is missing/);
  });

  it('create answered 200 with a body that is not JSON: outcome unknown', async () => {
    reply = { status: 200, body: '<html>ok</html>' };
    expect(await failure(gateway.createPayment(input, ctx))).toMatchObject({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN });
  });

  it('retrieve answered with a succeeded PaymentIntent lacking amount_received: invalid_gateway_response', async () => {
    reply = { status: 200, body: JSON.stringify({ ...succeeded, latest_charge: null }) };
    const error = await failure(gateway.retrieve({ paymentId: 'pay_1', orderId: null, gatewayReference: 'pi_1', amount: Money.of('20.00', 'USD'), gatewayData: {} }, ctx));
    expect(error).toMatchObject({ type: 'gateway_error', code: 'invalid_gateway_response' });
    expect((error as Error).message).toMatch(/amount_received/);
  });

  it('refund answered with a Refund lacking amount and status: outcome unknown, naming both', async () => {
    reply = { status: 200, body: JSON.stringify({ id: 're_1', object: 'refund', currency: 'usd', payment_intent: 'pi_1' }) };
    const error = await failure(gateway.refund({ refundId: 'ref_1', paymentId: 'pay_1', gatewayReference: 'pi_1', amount: Money.of('5.00', 'USD'), capturedAmount: Money.of('20.00', 'USD'), reason: null, gatewayData: {} }, ctx));
    expect(error).toMatchObject({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN });
    expect((error as Error).message).toMatch(/amount is missing.*status is missing/);
  });
});

describe('through the engine', () => {
  const secret = 'whsec_requery';
  let sandbox: Awaited<ReturnType<typeof startStripeSandbox>>;
  afterEach(async () => {
    await sandbox?.close();
  });

  it('a signed payment_intent.succeeded missing amount_received is applied by requerying Stripe (not a 500)', async () => {
    sandbox = await startStripeSandbox();
    const gateway = createStripeGateway({ secretKey: sandbox.secretKey, webhookSecret: secret, baseUrl: sandbox.url, transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 1 } }) });
    const tender = createTender({ gateways: [gateway], store: new MemoryStore() });
    const payment = await tender.payments.create({ amount: '42.00', currency: 'USD', paymentMethod: 'pm_card_authenticationRequired', gateway: 'stripe', orderId: 'ORD-RQ' });
    expect(payment.status).toBe('REQUIRES_ACTION');
    await completeCustomerAction(sandbox, payment.gatewayReference!, 'approve');
    const { amount_received: _dropped, ...incomplete } = sandbox.account.paymentIntents.get(payment.gatewayReference!)!;
    const raw = body('payment_intent.succeeded', incomplete, { id: 'evt_incomplete_1' });
    const handled = await tender.webhooks.handle('stripe', {
      headers: { 'stripe-signature': signStripePayload({ payload: raw, secret }) },
      rawBody: new TextEncoder().encode(raw),
    });
    expect(handled.status).toBe(200);
    expect(handled.outcomes).toEqual([{ eventId: 'evt_incomplete_1', outcome: 'requeried' }]);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '42.00' });
    await gateway.close();
  });
});
