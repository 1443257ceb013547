/**
 * Attacks on the gateway's edges that the happy-path suites do not make: signed reports whose money
 * is not the payment's, and refunds that PayPal would size differently from what Tender asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTender, Money, type Payment, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { orderRequest, type PayPalGateway } from '@tender/paypal';
import { startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { gatewayFor } from './helpers';

let sandbox: PayPalSandbox;
let gateway: PayPalGateway;
let tender: Tender;

beforeAll(async () => {
  sandbox = await startPayPalSandbox();
  gateway = gatewayFor(sandbox);
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

const create = (amount: string, currency: string, extra: Record<string, unknown> = {}) =>
  tender.payments.create({ amount, currency, paymentMethod: 'paypal', gateway: 'paypal', returnUrl: 'https://shop.example/return', ...extra });

/** Delivers `event` signed by the sandbox (PayPal's key in this world) to the engine. */
async function deliver(event: Record<string, unknown>) {
  const body = JSON.stringify({ event_version: '1.0', create_time: new Date().toISOString(), resource_version: '2.0', ...event });
  return tender.webhooks.handle('paypal', { headers: sandbox.webhooks.sign(body), rawBody: new TextEncoder().encode(body) });
}

let n = 0;
const captureEvent = (payment: Payment, amount: { currency_code: string; value: string }, status = 'COMPLETED') => ({
  id: `WH-ADV-${++n}`,
  event_type: `PAYMENT.CAPTURE.${status}`,
  resource_type: 'capture',
  resource: {
    id: `CAPADV${n}`,
    status,
    amount,
    final_capture: true,
    custom_id: payment.id,
    supplementary_data: { related_ids: { order_id: payment.gatewayReference } },
  },
});

describe('signed capture reports are checked against the payment\'s amount and currency', () => {
  it('a capture of another amount or currency than an automatic payment\'s is not applied', async () => {
    for (const amount of [{ currency_code: 'USD', value: '1.00' }, { currency_code: 'EUR', value: '100.00' }, { currency_code: 'USD', value: '1000.00' }]) {
      const payment = await create('100.00', 'USD');
      await deliver(captureEvent(payment, amount));
      const after = await tender.payments.get(payment.id);
      expect(after.status, JSON.stringify(amount)).toBe('REQUIRES_ACTION');
      expect(after.amountCaptured).toBe('0.00');
      expect(JSON.stringify(await tender.transitions(payment.id))).toContain('amount_mismatch');
    }
  });

  it('a manual payment takes a partial capture of its own currency, never more than authorized or another currency', async () => {
    const partial = await create('50.00', 'USD', { captureMethod: 'manual' });
    await deliver(captureEvent(partial, { currency_code: 'USD', value: '20.00' }));
    expect(await tender.payments.get(partial.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '20.00' });
    for (const amount of [{ currency_code: 'EUR', value: '20.00' }, { currency_code: 'USD', value: '50.01' }]) {
      const payment = await create('50.00', 'USD', { captureMethod: 'manual' });
      await deliver(captureEvent(payment, amount));
      expect((await tender.payments.get(payment.id)).status, JSON.stringify(amount)).toBe('REQUIRES_ACTION');
    }
  });

  it('a capture whose custom_id names one payment and whose order id is another payment\'s is applied to neither', async () => {
    const a = await create('25.00', 'USD');
    const b = await create('25.00', 'USD');
    const event = captureEvent(a, { currency_code: 'USD', value: '25.00' });
    (event.resource.supplementary_data.related_ids as { order_id: string | null }).order_id = b.gatewayReference;
    await deliver(event);
    expect((await tender.payments.get(a.id)).status).toBe('REQUIRES_ACTION');
    expect((await tender.payments.get(b.id)).status).toBe('REQUIRES_ACTION');
    expect(JSON.stringify(await tender.transitions(a.id))).toContain('reference_mismatch');
  });

  it('the matching capture is applied (the check refuses only mismatches), also in PayPal\'s whole-unit HUF', async () => {
    const payment = await create('100.00', 'USD');
    await deliver(captureEvent(payment, { currency_code: 'USD', value: '100.00' }));
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '100.00' });
    const huf = await create('1000.00', 'HUF');
    await deliver(captureEvent(huf, { currency_code: 'HUF', value: '1000' }));
    expect(await tender.payments.get(huf.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '1000.00' });
  });
});

describe('refunds are sized by Tender, never by what PayPal has left', () => {
  it('a "full" refund after a dashboard refund Tender has not seen is refused, not silently smaller', async () => {
    const ctx = (key: string) => ({ idempotencyKey: key, now: new Date() });
    const input = { paymentId: 'pay_refundsize', merchantId: 'm', orderId: null, amount: Money.of('60.00', 'USD'), captureMethod: 'automatic' as const, paymentMethod: 'paypal', description: null, customer: {}, returnUrl: 'https://shop.example/r', notifyUrl: null, metadata: {} };
    const created = await gateway.createPayment(input as Parameters<PayPalGateway['createPayment']>[0], ctx('create-refundsize'));
    sandbox.approve(created.gatewayReference!);
    const captured = await gateway.retrieve({ paymentId: input.paymentId, orderId: null, gatewayReference: created.gatewayReference!, amount: input.amount, gatewayData: {} }, ctx('retrieve-refundsize'));
    expect(captured.status).toBe('CAPTURED');
    const captureId = captured.gatewayData!.captureId as string;
    sandbox.dashboard.refund(captureId, '15.00');
    const refund = (amount: string, key: string) =>
      gateway.refund(
        { refundId: `re_${key}`, paymentId: input.paymentId, gatewayReference: created.gatewayReference!, amount: Money.of(amount, 'USD'), capturedAmount: Money.of('60.00', 'USD'), reason: null, gatewayData: { captureId } },
        ctx(key),
      );
    // Tender believes 60.00 is left and asks for all of it: PayPal has 45.00 left and must say so.
    await expect(refund('60.00', 'full')).rejects.toMatchObject({ code: 'refund_amount_exceeded' });
    expect(sandbox.account.captures.get(captureId)!.refundIds).toHaveLength(1);
    await expect(refund('45.00', 'rest')).resolves.toMatchObject({ status: 'SUCCEEDED', amount: Money.of('45.00', 'USD') });
    const last = sandbox.requests.filter((r) => r.path.endsWith('/refund')).at(-1)!;
    expect(last.status).toBe(201);
  });
});

describe('sandbox: Prefer return=minimal is the default, as on PayPal', () => {
  it('create order, capture authorization and refund answer id, status and links unless return=representation', async () => {
    const tokenAnswer = await fetch(`${sandbox.url}/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${sandbox.clientId}:${sandbox.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const { access_token: token } = (await tokenAnswer.json()) as { access_token: string };
    const post = async (path: string, body: unknown, prefer?: string) => {
      const res = await fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(prefer ? { prefer } : {}) }, body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const orderBody = { intent: 'AUTHORIZE', purchase_units: [{ amount: { currency_code: 'USD', value: '20.00' } }] };
    const minimalOrder = await post('/v2/checkout/orders', orderBody);
    expect(minimalOrder.status).toBe(201);
    expect(Object.keys(minimalOrder.json).sort()).toEqual(['id', 'links', 'status']);
    const fullOrder = await post('/v2/checkout/orders', orderBody, 'return=representation');
    expect(fullOrder.json).toMatchObject({ intent: 'AUTHORIZE', purchase_units: [{ amount: { value: '20.00' } }] });

    const orderId = minimalOrder.json.id as string;
    sandbox.approve(orderId);
    const authorized = await post(`/v2/checkout/orders/${orderId}/authorize`, {}, 'return=representation');
    const authorizationId = (authorized.json.purchase_units as Array<{ payments: { authorizations: Array<{ id: string }> } }>)[0]!.payments.authorizations[0]!.id;
    const capture = await post(`/v2/payments/authorizations/${authorizationId}/capture`, { amount: { currency_code: 'USD', value: '10.00' } });
    expect(capture.status).toBe(201);
    expect(Object.keys(capture.json).sort()).toEqual(['id', 'links', 'status']);
    const refund = await post(`/v2/payments/captures/${capture.json.id as string}/refund`, { amount: { currency_code: 'USD', value: '1.00' } });
    expect(Object.keys(refund.json).sort()).toEqual(['id', 'links', 'status']);
    const fullRefund = await post(`/v2/payments/captures/${capture.json.id as string}/refund`, { amount: { currency_code: 'USD', value: '1.00' } }, 'return=representation');
    expect(fullRefund.json).toMatchObject({ status: 'COMPLETED', amount: { value: '1.00' } });
  });
});

/** No lone surrogate (what String.prototype.isWellFormed checks, ES2024). */
const wellFormed = (text: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe('text fields are cut at characters, never inside one', () => {
  it('a description or refund reason with an emoji at the limit stays well-formed UTF-16 (valid UTF-8 on the wire)', async () => {
    const input = { paymentId: 'pay_emoji', merchantId: 'm', orderId: null, amount: Money.of('5.00', 'USD'), captureMethod: 'automatic' as const, paymentMethod: 'paypal', description: `${'a'.repeat(126)}😀😀`, customer: {}, returnUrl: null, notifyUrl: null, metadata: {} };
    const body = orderRequest(input as Parameters<typeof orderRequest>[0]);
    const description = (body.purchase_units as Array<{ description: string }>)[0]!.description;
    expect(wellFormed(description)).toBe(true);
    expect(description).toBe('a'.repeat(126));
    const created = await gateway.createPayment(input as Parameters<PayPalGateway['createPayment']>[0], { idempotencyKey: 'create-emoji', now: new Date() });
    expect(sandbox.account.orders.get(created.gatewayReference!)!.unit.description).toBe(description);
    sandbox.approve(created.gatewayReference!);
    const captured = await gateway.retrieve({ paymentId: input.paymentId, orderId: null, gatewayReference: created.gatewayReference!, amount: input.amount, gatewayData: {} }, { idempotencyKey: 'r-emoji', now: new Date() });
    await gateway.refund(
      { refundId: 're_emoji', paymentId: input.paymentId, gatewayReference: created.gatewayReference!, amount: Money.of('1.00', 'USD'), capturedAmount: input.amount, reason: `${'b'.repeat(254)}😀`, gatewayData: { captureId: captured.gatewayData!.captureId } },
      { idempotencyKey: 'refund-emoji', now: new Date() },
    );
    const note = [...sandbox.account.refunds.values()].find((r) => r.invoiceId === 're_emoji')!.noteToPayer!;
    expect(wellFormed(note)).toBe(true);
    expect(note).toBe('b'.repeat(254));
  });
});
