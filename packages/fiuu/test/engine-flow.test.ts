import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTender } from '@tender/core';
import type { Tender, WebhookRequest } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import type { FiuuHostedPayment } from '@tender/fiuu';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { merchantServer, sandboxAndGateway, waitForDeliveries } from './helpers';

// The whole flow over sockets: engine + Fiuu gateway + sandbox, with the merchant's webhook
// endpoint a real HTTP server that hands the raw bytes to `tender.webhooks.handle`.
let env: Awaited<ReturnType<typeof sandboxAndGateway>>;
let tender: Tender;
let merchant: Awaited<ReturnType<typeof merchantServer>>;
const outcomes: string[] = [];

beforeEach(async () => {
  env = await sandboxAndGateway();
  tender = createTender({ gateways: [env.gateway], store: new MemoryStore() });
  outcomes.length = 0;
  merchant = await merchantServer(async (req, body, res) => {
    const request: WebhookRequest = { headers: req.headers as Record<string, string>, rawBody: new Uint8Array(body) };
    try {
      const handled = await tender.webhooks.handle('fiuu', request);
      outcomes.push(...handled.outcomes.map((o) => o.outcome));
      res.writeHead(handled.status, handled.headers).end(handled.body);
    } catch (error) {
      res.writeHead(400).end(String(error));
    }
  });
});
afterEach(async () => {
  await env.sandbox.idle();
  await merchant.close();
  await env.close();
});

async function start(extra: Record<string, unknown> = {}) {
  const payment = await tender.payments.create({
    amount: '100.50',
    currency: 'MYR',
    paymentMethod: 'FPX',
    gateway: 'fiuu',
    orderId: `ORD-${Math.random().toString(36).slice(2, 10)}`,
    customer: { name: 'Siti Aminah', email: 'siti@example.com', phone: '+60123456789' },
    description: 'Engine flow',
    returnUrl: 'https://shop.example/return',
    notifyUrl: `${merchant.url}/webhooks/fiuu`,
    ...extra,
  });
  expect(payment.status).toBe('REQUIRES_ACTION');
  return payment;
}
const hosted = (p: { gatewayData: Record<string, unknown> }) => p.gatewayData.hostedPayment as FiuuHostedPayment;
const delivered = (tranID: string, status: string, count = 2) => () =>
  env.sandbox.deliveries.filter((d) => d.tranID === tranID && d.status === status).length >= count;

describe('engine + gateway + sandbox', () => {
  it('approve: notification and callback move it to CAPTURED once; callback acknowledged; IPN echoed with treq=1', async () => {
    const payment = await start();
    const { tranID } = await completeHostedPayment(hosted(payment), 'approve');
    await waitForDeliveries(env.sandbox, delivered(tranID, '00'));
    const after = await tender.payments.get(payment.id);
    expect(after).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID, amountCaptured: '100.50' });
    const callback = env.sandbox.deliveries.find((d) => d.kind === 'callback')!;
    expect(callback).toMatchObject({ acknowledged: true, responseBody: 'CBTOKEN:MPSTATOK' });
    expect(outcomes).toEqual(['applied', 'duplicate']);
    await new Promise<void>((r) => (env.sandbox.ipnEchoes.length ? r() : env.sandbox.events.once('ipn', () => r())));
    expect(env.sandbox.ipnEchoes[0]).toMatchObject({ tranID, valid: true });
    const trail = await tender.transitions(payment.id);
    expect(trail.at(-1)).toMatchObject({ to: 'CAPTURED', actor: 'webhook' });
    expect(trail.filter((t) => t.to === 'CAPTURED')).toHaveLength(1);
  });

  it('decline: FAILED with the reason Fiuu gave', async () => {
    const payment = await start();
    const { tranID } = await completeHostedPayment(hosted(payment), 'decline');
    await waitForDeliveries(env.sandbox, delivered(tranID, '11'));
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'FAILED', failure: { code: '01' } });
  });

  it('pending then approve: PROCESSING, then CAPTURED', async () => {
    const payment = await start();
    const { tranID } = await completeHostedPayment(hosted(payment), 'pending');
    await waitForDeliveries(env.sandbox, delivered(tranID, '22'));
    expect((await tender.payments.get(payment.id)).status).toBe('PROCESSING');
    await env.sandbox.complete(tranID, 'approve');
    await waitForDeliveries(env.sandbox, delivered(tranID, '00'));
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
  });

  it('duplicate notifications are recognised and applied once', async () => {
    const payment = await start();
    env.sandbox.faults.duplicateNotifications();
    const { tranID } = await completeHostedPayment(hosted(payment), 'approve');
    await waitForDeliveries(env.sandbox, delivered(tranID, '00', 4));
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(3);
    expect((await tender.transitions(payment.id)).filter((t) => t.to === 'CAPTURED')).toHaveLength(1);
  });

  it('delayed notifications arrive late and still apply', async () => {
    const payment = await start();
    env.sandbox.faults.delayNotifications(150);
    const first = new Promise<number>((r) => env.sandbox.events.once('delivery', () => r(Date.now())));
    const before = Date.now();
    const { tranID } = await completeHostedPayment(hosted(payment), 'approve');
    await waitForDeliveries(env.sandbox, delivered(tranID, '00'));
    expect((await first) - before).toBeGreaterThanOrEqual(140);
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
  });

  it('out of order: a late "pending" after "success" does not move the payment back', async () => {
    const payment = await start();
    env.sandbox.faults.reorderNotifications();
    const { tranID } = await completeHostedPayment(hosted(payment), 'pending');
    await env.sandbox.complete(tranID, 'approve');
    await waitForDeliveries(env.sandbox, () => delivered(tranID, '00')() && delivered(tranID, '22')());
    const order = env.sandbox.deliveries.filter((d) => d.tranID === tranID).map((d) => d.status);
    expect(order.indexOf('00')).toBeLessThan(order.indexOf('22'));
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
  });

  it('a lost notification is resolved by reconcile() through requery', async () => {
    const payment = await start();
    env.sandbox.faults.dropNotifications();
    await completeHostedPayment(hosted(payment), 'approve');
    await env.sandbox.idle();
    expect((await tender.payments.get(payment.id)).status).toBe('REQUIRES_ACTION');
    const report = await tender.reconcile({ processingAfterMs: 0, requiresActionTtlMs: 0 });
    expect(report.updated).toBe(1);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '100.50' });
  });

  it('partial then full refund; reconcile settles the pending refunds', async () => {
    const payment = await start();
    const { tranID } = await completeHostedPayment(hosted(payment), 'approve');
    await waitForDeliveries(env.sandbox, delivered(tranID, '00'));
    const partial = await tender.payments.refund(payment.id, { amount: '40.00', reason: 'one item back' });
    expect(partial.status).toBe('PENDING');
    expect((await tender.payments.get(payment.id)).status).toBe('PARTIALLY_REFUNDED');
    await expect(tender.payments.refund(payment.id, { amount: '70.00' })).rejects.toMatchObject({ code: 'amount_too_large' });
    const rest = await tender.payments.refund(payment.id);
    expect(rest.amount).toBe('60.50');
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'REFUNDED', amountRefunded: '100.50' });
    await tender.reconcile({ processingAfterMs: 0 });
    expect((await tender.refunds.list(payment.id)).map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('a failing IPN echo neither fails nor loses the notification', async () => {
    const payment = await start();
    env.sandbox.faults.api('ipn', '5xx', 10);
    const { tranID } = await completeHostedPayment(hosted(payment), 'approve');
    await waitForDeliveries(env.sandbox, delivered(tranID, '00'));
    const notification = env.sandbox.deliveries.find((d) => d.kind === 'notification')!;
    expect(notification.httpStatus).toBe(200);
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
    expect(env.sandbox.ipnEchoes).toHaveLength(0);
  });

  it('the DuitNow QR account-enquiry notification is not a payment', async () => {
    const payment = await start({ paymentMethod: 'DUITNOW_QR' });
    const { tranID } = await completeHostedPayment(hosted(payment), 'pending');
    await waitForDeliveries(env.sandbox, delivered(tranID, '22'));
    outcomes.length = 0;
    await env.sandbox.sendAccountEnquiry(tranID);
    expect(outcomes).toEqual(['ignored']);
    expect((await tender.payments.get(payment.id)).status).toBe('PROCESSING');
  });

  it('a tampered notification is rejected as webhook_signature_error', async () => {
    const payment = await start();
    env.sandbox.faults.dropNotifications();
    const { returnForm } = await completeHostedPayment(hosted(payment), 'decline');
    const fields = { ...returnForm!.fields, nbcb: '2', status: '00' };
    const forged = tender.webhooks.handle('fiuu', { headers: {}, rawBody: new TextEncoder().encode(new URLSearchParams(fields).toString()) });
    await expect(forged).rejects.toMatchObject({ type: 'webhook_signature_error' });
    expect((await tender.payments.get(payment.id)).status).toBe('REQUIRES_ACTION');
  });
});

describe('an account whose results carry no extraP (no metadata echo)', () => {
  it('finds the payment by the orderid Fiuu echoes (the Tender payment id when no order id was given)', async () => {
    await env.close();
    env = await sandboxAndGateway({ merchant: { extraP: false } });
    tender = createTender({ gateways: [env.gateway], store: new MemoryStore() });
    const payment = await start({ orderId: null });
    const { tranID } = await completeHostedPayment(hosted(payment), 'approve');
    await waitForDeliveries(env.sandbox, delivered(tranID, '00'));
    const notification = env.sandbox.deliveries.find((d) => d.kind === 'notification' && d.tranID === tranID)!;
    expect(notification.fields.extraP).toBeUndefined();
    expect(notification.fields.orderid).toBe(payment.id);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID });
    expect(outcomes).toEqual(['applied', 'duplicate']);
  });
});
