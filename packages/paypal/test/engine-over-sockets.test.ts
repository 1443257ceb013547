/**
 * Engine + PayPal gateway + sandbox, all over loopback sockets: the sandbox's signed webhooks reach the
 * engine through a real HTTP receiver that hands the raw bytes to `tender.webhooks.handle`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTender, Money, type Payment, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import type { PayPalGateway } from '@tender/paypal';
import { approveOrder, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { gatewayFor, waitFor } from './helpers';

let sandbox: PayPalSandbox;
let receiver: Server;
let gateway: PayPalGateway;
let tender: Tender;
const acks: number[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      tender.webhooks.handle('paypal', { headers: req.headers as Record<string, string>, rawBody: new Uint8Array(Buffer.concat(chunks)) }).then(
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
  sandbox = await startPayPalSandbox({ webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/paypal`, retryDelayMs: 10 } });
  gateway = gatewayFor(sandbox);
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
});

afterEach(async () => {
  await sandbox.webhooks.idle();
  sandbox.faults.clear();
  Object.assign(sandbox.webhooks.faults, { duplicate: 0, delayMs: 0, dropNext: 0 });
  acks.length = 0;
});

afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
  await new Promise((r) => receiver?.close(r));
});

const create = (amount: string, currency: string, extra: Record<string, unknown> = {}) =>
  tender.payments.create({ amount, currency, paymentMethod: 'paypal', gateway: 'paypal', orderId: `ORD-${Math.random().toString(36).slice(2)}`, returnUrl: 'https://shop.example/return', ...extra });

const order = (payment: Payment) => sandbox.account.orders.get(payment.gatewayReference!)!;
const approvalUrl = (payment: Payment) => (payment.nextAction as { type: string; url: string }).url;
const statusOf = async (id: string) => (await tender.payments.get(id)).status;

describe('PayPal through the engine, over sockets', () => {
  it('create → approval link; the buyer approves; the APPROVED webhook captures it once: CAPTURED', async () => {
    const payment = await create('100.50', 'USD', { description: 'two mugs' });
    expect(payment).toMatchObject({ status: 'REQUIRES_ACTION', nextAction: { type: 'redirect' } });
    expect(approvalUrl(payment)).toBe(`${sandbox.url}/checkoutnow?token=${payment.gatewayReference}`);
    expect(order(payment)).toMatchObject({ intent: 'CAPTURE', status: 'PAYER_ACTION_REQUIRED', unit: { custom_id: payment.id, amount: { currency_code: 'USD', value: '100.50' }, description: 'two mugs' } });
    const back = await approveOrder(approvalUrl(payment));
    expect(back).toMatch(/^https:\/\/shop\.example\/return\?token=[A-Z0-9]+&PayerID=[A-Z0-9]+$/);
    await waitFor(async () => (await statusOf(payment.id)) === 'CAPTURED', sandbox);
    const after = await tender.payments.get(payment.id);
    expect(after).toMatchObject({ status: 'CAPTURED', amountCaptured: '100.50', nextAction: null });
    expect(after.gatewayData).toMatchObject({ orderId: payment.gatewayReference, captureId: order(payment).captureIds[0] });
    expect(order(payment).captureIds).toHaveLength(1);
    const trail = await tender.transitions(payment.id);
    expect(trail.some((t) => t.to === 'CAPTURED' && t.actor === 'webhook')).toBe(true);
    // Every POST carried a PayPal-Request-Id; the order capture's is derived from the payment id.
    const posts = sandbox.requests.filter((r) => r.method === 'POST' && r.path.includes(payment.gatewayReference!));
    expect(posts.map((p) => p.requestId)).toEqual([`${payment.id}/capture_order`]);
    expect(acks.every((s) => s === 200)).toBe(true);
  });

  it('JPY goes without decimals; HUF 10.50 is refused before any call', async () => {
    const yen = await create('1500', 'JPY');
    expect(order(yen).unit.amount).toEqual({ currency_code: 'JPY', value: '1500' });
    const huf = await create('1000.00', 'HUF');
    expect(order(huf).unit.amount).toEqual({ currency_code: 'HUF', value: '1000' });
    const before = sandbox.requests.length;
    await expect(create('10.50', 'HUF')).rejects.toMatchObject({ code: 'amount_not_supported', param: 'amount', status: 400 });
    await expect(create('100.5', 'JPY')).rejects.toMatchObject({ param: 'amount', status: 400 });
    await expect(create('99.99', 'TWD')).rejects.toMatchObject({ code: 'amount_not_supported', param: 'amount', status: 400 });
    expect(sandbox.requests.length).toBe(before);
    expect((await tender.payments.list({ limit: 100 })).data.filter((p) => p.currency === 'HUF')).toHaveLength(1);
    expect((await tender.payments.list({ limit: 100 })).data.filter((p) => p.currency === 'TWD')).toHaveLength(0);
  });

  it('manual capture: approval authorizes (AUTHORIZED), then a partial capture with final_capture', async () => {
    const payment = await create('80.00', 'EUR', { captureMethod: 'manual' });
    expect(order(payment).intent).toBe('AUTHORIZE');
    await approveOrder(approvalUrl(payment));
    await waitFor(async () => (await statusOf(payment.id)) === 'AUTHORIZED', sandbox);
    const authorizationId = order(payment).authorizationIds[0]!;
    const captured = await tender.payments.capture(payment.id, { amount: '50.00' });
    expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: '50.00' });
    const authorization = sandbox.account.authorizations.get(authorizationId)!;
    expect(authorization.status).toBe('CAPTURED');
    expect(sandbox.account.captures.get(authorization.captureIds[0]!)).toMatchObject({ finalCapture: true, amount: { value: '50.00' } });
    await sandbox.webhooks.idle();
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '50.00' });
  });

  it('cancel voids an authorization', async () => {
    const payment = await create('20.00', 'USD', { captureMethod: 'manual' });
    await approveOrder(approvalUrl(payment));
    await waitFor(async () => (await statusOf(payment.id)) === 'AUTHORIZED', sandbox);
    expect((await tender.payments.cancel(payment.id)).status).toBe('CANCELLED');
    expect(sandbox.account.authorizations.get(order(payment).authorizationIds[0]!)!.status).toBe('VOIDED');
    await sandbox.webhooks.idle();
    expect(await statusOf(payment.id)).toBe('CANCELLED');
  });

  it('an order cancelled before approval is never captured, even if the buyer approves later', async () => {
    const payment = await create('15.00', 'USD');
    expect((await tender.payments.cancel(payment.id)).status).toBe('CANCELLED');
    await approveOrder(approvalUrl(payment));
    await sandbox.webhooks.idle();
    expect(order(payment).status).toBe('APPROVED');
    expect(order(payment).captureIds).toHaveLength(0);
    expect(await statusOf(payment.id)).toBe('CANCELLED');
  });

  it('a buyer whose instrument declines: FAILED with the reason (INSTRUMENT_DECLINED)', async () => {
    const payment = await create('10.00', 'USD');
    await approveOrder(approvalUrl(payment), 'decline');
    await waitFor(async () => (await statusOf(payment.id)) === 'FAILED', sandbox);
    expect((await tender.payments.get(payment.id)).failure).toMatchObject({ code: 'instrument_declined', declineCode: 'INSTRUMENT_DECLINED' });
    expect(order(payment).captureIds).toHaveLength(0);
  });

  it('a buyer who cancels on PayPal goes back to cancel_url; the payment still waits', async () => {
    const payment = await create('9.00', 'USD');
    expect(await approveOrder(approvalUrl(payment), 'cancel')).toBe(`https://shop.example/return?token=${payment.gatewayReference}`);
    await tender.reconcile({ processingAfterMs: 0 });
    expect(await statusOf(payment.id)).toBe('REQUIRES_ACTION');
  });

  it('partial refunds up to the captured amount; PayPal refuses a refund beyond it', async () => {
    const payment = await create('100.00', 'USD');
    await approveOrder(approvalUrl(payment));
    await waitFor(async () => (await statusOf(payment.id)) === 'CAPTURED', sandbox);
    const r1 = await tender.payments.refund(payment.id, { amount: '30.00', reason: 'requested_by_customer' });
    expect(r1).toMatchObject({ status: 'SUCCEEDED', amount: '30.00' });
    await expect(tender.payments.refund(payment.id, { amount: '80.00' })).rejects.toMatchObject({ code: 'amount_too_large' });
    // The gateway itself, asked for more than is left: PayPal's REFUND_AMOUNT_EXCEEDED, nothing refunded.
    const captureId = order(payment).captureIds[0]!;
    await expect(
      gateway.refund(
        { refundId: 're_over', paymentId: payment.id, gatewayReference: payment.gatewayReference!, amount: Money.of('80.00', 'USD'), capturedAmount: Money.of('100.00', 'USD'), reason: null, gatewayData: { captureId } },
        { idempotencyKey: 'over-1', now: new Date() },
      ),
    ).rejects.toMatchObject({ code: 'refund_amount_exceeded', status: 422, details: { paypalIssue: 'REFUND_AMOUNT_EXCEEDED', debugId: expect.any(String) } });
    const rest = await tender.payments.refund(payment.id);
    expect(rest.amount).toBe('70.00');
    await sandbox.webhooks.idle();
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'REFUNDED', amountRefunded: '100.00' });
    const capture = sandbox.account.captures.get(captureId)!;
    expect(capture.status).toBe('REFUNDED');
    const refunds = capture.refundIds.map((id) => sandbox.account.refunds.get(id)!);
    expect(refunds.map((r) => r.amount.value).sort()).toEqual(['30.00', '70.00']);
    expect(refunds.find((r) => r.invoiceId === r1.id)).toMatchObject({ customId: payment.id, noteToPayer: 'requested_by_customer' });
    expect((await tender.refunds.list(payment.id)).every((r) => r.status === 'SUCCEEDED')).toBe(true);
  });

  it('a refund made in the PayPal dashboard becomes a Refund record', async () => {
    const payment = await create('60.00', 'USD');
    await approveOrder(approvalUrl(payment));
    await waitFor(async () => (await statusOf(payment.id)) === 'CAPTURED', sandbox);
    const refund = sandbox.dashboard.refund(order(payment).captureIds[0]!, '15.00');
    expect(refund.custom_id).toBeUndefined();
    await waitFor(async () => (await tender.refunds.list(payment.id)).length === 1, sandbox);
    const refunds = await tender.refunds.list(payment.id);
    expect(refunds[0]).toMatchObject({ amount: '15.00', status: 'SUCCEEDED', gatewayReference: refund.id });
    expect(await statusOf(payment.id)).toBe('PARTIALLY_REFUNDED');
  });

  it('a dispute is recorded on the payment', async () => {
    const payment = await create('33.00', 'USD');
    await approveOrder(approvalUrl(payment));
    await waitFor(async () => (await statusOf(payment.id)) === 'CAPTURED', sandbox);
    sandbox.dashboard.dispute(order(payment).captureIds[0]!);
    await sandbox.webhooks.idle();
    expect(acks.every((s) => s === 200)).toBe(true);
    expect(JSON.stringify(await tender.transitions(payment.id))).toContain('CUSTOMER.DISPUTE.CREATED');
  });

  it('duplicated webhooks have no second effect', async () => {
    sandbox.webhooks.faults.duplicate = 2;
    const payment = await create('11.00', 'USD');
    await approveOrder(approvalUrl(payment));
    await waitFor(async () => (await statusOf(payment.id)) === 'CAPTURED', sandbox);
    await sandbox.webhooks.idle();
    expect((await tender.transitions(payment.id)).filter((t) => t.to === 'CAPTURED')).toHaveLength(1);
    expect(order(payment).captureIds).toHaveLength(1);
    expect(sandbox.webhooks.deliveries.filter((d) => d.type === 'CHECKOUT.ORDER.APPROVED').length).toBeGreaterThanOrEqual(3);
  });

  it('out-of-order webhooks (refund first, approval last) end in the right state', async () => {
    const payment = await create('40.00', 'USD');
    sandbox.webhooks.hold();
    sandbox.approve(payment.gatewayReference!);
    sandbox.account.completeOrder(payment.gatewayReference!, 'capture');
    sandbox.dashboard.refund(order(payment).captureIds[0]!, '5.00');
    const released = sandbox.webhooks.release({ order: 'reverse' });
    expect(released.map((e) => e.event_type)).toEqual(['PAYMENT.CAPTURE.REFUNDED', 'PAYMENT.CAPTURE.COMPLETED', 'CHECKOUT.ORDER.APPROVED']);
    await sandbox.webhooks.idle();
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountCaptured: '40.00', amountRefunded: '5.00' });
    expect(await tender.refunds.list(payment.id)).toHaveLength(1);
    expect(order(payment).captureIds).toHaveLength(1);
    expect(acks.every((s) => s === 200)).toBe(true);
  });

  it('concurrent requeries of one approved order capture it once', async () => {
    sandbox.webhooks.faults.dropNext = 1;
    const payment = await create('25.00', 'USD');
    await approveOrder(approvalUrl(payment));
    const input = { paymentId: payment.id, orderId: payment.orderId, gatewayReference: payment.gatewayReference, amount: Money.of('25.00', 'USD'), gatewayData: {} };
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => gateway.retrieve(input, { idempotencyKey: `r${i}`, now: new Date() })));
    expect(results.every((r) => r.status === 'CAPTURED')).toBe(true);
    await Promise.all([tender.reconcile({ processingAfterMs: 0, requiresActionTtlMs: 0 }), tender.reconcile({ processingAfterMs: 0, requiresActionTtlMs: 0 })]);
    expect(order(payment).captureIds).toHaveLength(1);
    expect(await statusOf(payment.id)).toBe('CAPTURED');
  });

  it('a lost create answer is retried with the same PayPal-Request-Id: one order', async () => {
    const before = sandbox.account.orders.size;
    sandbox.faults.add({ kind: 'drop', match: /^POST \/v2\/checkout\/orders$/, count: 1 });
    const payment = await create('7.00', 'USD');
    expect(payment.status).toBe('REQUIRES_ACTION');
    expect(sandbox.account.orders.size).toBe(before + 1);
    const creates = sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/v2/checkout/orders').slice(-2);
    expect(creates[0]!.requestId).toBeTruthy();
    expect(creates[1]!.requestId).toBe(creates[0]!.requestId);
  });

  it('every attempt lost: PROCESSING (outcome unknown), still one order at PayPal', async () => {
    const before = sandbox.account.orders.size;
    sandbox.faults.add({ kind: 'drop', match: /^POST \/v2\/checkout\/orders$/, count: 10 });
    const payment = await create('8.00', 'USD');
    expect(payment.status).toBe('PROCESSING');
    expect(sandbox.account.orders.size).toBe(before + 1);
  });

  it('a 503 on refund is retried with the same PayPal-Request-Id: one refund', async () => {
    const payment = await create('12.00', 'USD');
    await approveOrder(approvalUrl(payment));
    await waitFor(async () => (await statusOf(payment.id)) === 'CAPTURED', sandbox);
    sandbox.faults.add({ kind: 'error', status: 503, match: /\/refund$/ });
    const refund = await tender.payments.refund(payment.id, { amount: '2.00' });
    expect(refund.status).toBe('SUCCEEDED');
    const attempts = sandbox.requests.filter((r) => r.path.endsWith('/refund')).slice(-2);
    expect(attempts.map((a) => a.status)).toEqual([503, 201]);
    expect(attempts[1]!.requestId).toBe(attempts[0]!.requestId);
    expect(sandbox.account.captures.get(order(payment).captureIds[0]!)!.refundIds).toHaveLength(1);
  });

  it('retrieveRefund by PayPal refund id, or by Tender refund id when the PayPal id was never learnt', async () => {
    const payment = await create('40.00', 'USD');
    await approveOrder(approvalUrl(payment));
    await waitFor(async () => (await statusOf(payment.id)) === 'CAPTURED', sandbox);
    const refund = await tender.payments.refund(payment.id, { amount: '10.00' });
    const ctx = { idempotencyKey: 'rr', now: new Date() };
    const base = { refundId: refund.id, paymentId: payment.id, paymentGatewayReference: payment.gatewayReference, amount: Money.of('10.00', 'USD') };
    expect(await gateway.retrieveRefund!({ ...base, gatewayReference: refund.gatewayReference }, ctx)).toMatchObject({ status: 'SUCCEEDED', refundId: refund.id, gatewayReference: refund.gatewayReference });
    expect(await gateway.retrieveRefund!({ ...base, gatewayReference: null }, ctx)).toMatchObject({ status: 'SUCCEEDED', refundId: refund.id, gatewayReference: refund.gatewayReference });
    await expect(gateway.retrieveRefund!({ ...base, refundId: 're_unknown', gatewayReference: null }, ctx)).rejects.toMatchObject({ type: 'not_found_error' });
  });
});
