/**
 * Signed binding, capture semantics from the stored payment, amount limits, and the transport figures
 * the engine reads: each over sockets through the public APIs (engine + gateway + sandbox, or the
 * gateway against a loopback Fiuu API).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, Money } from '@tender/core';
import type { HttpTransport, Tender, WebhookRequest } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createFiuuGateway, requeryVrfKey, vcode } from '@tender/fiuu';
import type { FiuuHostedPayment } from '@tender/fiuu';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { MERCHANT, merchantServer, sandboxAndGateway, waitForDeliveries } from './helpers';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Engine + Fiuu gateway + sandbox, the merchant's webhook endpoint a real HTTP server. */
async function engine() {
  const env = await sandboxAndGateway();
  const store = new MemoryStore();
  const tender: Tender = createTender({ gateways: [env.gateway], store });
  const merchant = await merchantServer(async (req, body, res) => {
    const request: WebhookRequest = { headers: req.headers as Record<string, string>, rawBody: new Uint8Array(body) };
    try {
      const handled = await tender.webhooks.handle('fiuu', request);
      res.writeHead(handled.status, handled.headers).end(handled.body);
    } catch (error) {
      res.writeHead(400).end(String(error));
    }
  });
  closers.push(async () => {
    await env.sandbox.idle();
    await merchant.close();
    await env.close();
  });
  const create = (extra: Record<string, unknown> = {}) =>
    tender.payments.create({
      amount: '100.50',
      currency: 'MYR',
      paymentMethod: 'FPX',
      gateway: 'fiuu',
      orderId: `ORD-${Math.random().toString(36).slice(2, 10)}`,
      customer: { name: 'Siti Aminah', email: 'siti@example.com', phone: '+60123456789' },
      notifyUrl: `${merchant.url}/webhooks/fiuu`,
      ...extra,
    });
  return { env, store, tender, create };
}
const hosted = (p: { gatewayData: Record<string, unknown> }) => p.gatewayData.hostedPayment as FiuuHostedPayment;
/** The hosted form as the customer's browser may rewrite it: `metadata` is not covered by the vcode. */
const withMetadata = (form: FiuuHostedPayment, metadata: Record<string, string>): FiuuHostedPayment => ({ ...form, fields: { ...form.fields, metadata: JSON.stringify(metadata) } });

describe('engine + sandbox: a result binds to the payment Fiuu signed it for', () => {
  it('a signed success for order A whose metadata names payment B captures A, never B', async () => {
    const { env, tender, create } = await engine();
    const a = await create();
    const b = await create();
    const { tranID } = await completeHostedPayment(withMetadata(hosted(a), { tender_payment_id: b.id }), 'approve');
    await waitForDeliveries(env.sandbox, () => env.sandbox.deliveries.filter((d) => d.tranID === tranID).length >= 2);
    const delivered = env.sandbox.deliveries.find((d) => d.tranID === tranID)!;
    expect(JSON.parse(delivered.fields.extraP!)).toMatchObject({ metadata: { tender_payment_id: b.id } });
    expect(await tender.payments.get(a.id)).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID });
    expect(await tender.payments.get(b.id)).toMatchObject({ status: 'REQUIRES_ACTION', gatewayReference: null });
  });

  it('a manual-capture card payment whose form dropped tender_capture is AUTHORIZED, then captures', async () => {
    const { env, tender, create } = await engine();
    const payment = await create({ paymentMethod: 'CARD', captureMethod: 'manual' });
    const form = withMetadata(hosted(payment), { tender_payment_id: payment.id });
    expect(form.fields.tcctype).toBe('AUTH');
    const { tranID } = await completeHostedPayment(form, 'approve');
    await waitForDeliveries(env.sandbox, () => env.sandbox.deliveries.filter((d) => d.tranID === tranID).length >= 2);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'AUTHORIZED', gatewayReference: tranID });
    await tender.payments.capture(payment.id);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '100.50' });
  });

  it('an amount beyond n{10,2} is refused with 400 before anything is stored', async () => {
    const { store, create } = await engine();
    await expect(create({ amount: '10000000000.00' })).rejects.toMatchObject({ status: 400, code: 'amount_too_large', param: 'amount' });
    expect(await store.listPayments({ merchantId: 'default', limit: 10 })).toEqual([]);
    await expect(create({ amount: '9999999999.99' })).resolves.toMatchObject({ status: 'REQUIRES_ACTION' });
  });
});

describe('capabilities and transport figures', () => {
  it('declares the n{10,2} limit per currency in minor units', async () => {
    const env = await sandboxAndGateway();
    closers.push(() => env.close());
    expect(env.gateway.capabilities.maxAmountMinor).toMatchObject({ MYR: 999_999_999_999, SGD: 999_999_999_999, VND: 9_999_999_999, '*': 999_999_999_999 });
    expect(env.gateway.capabilities.paymentMethods).not.toContain('UPI');
    expect(env.gateway.capabilities.currencies).not.toContain('INR');
  });

  it("reports the injected transport's worst case and whether its circuit lets a call out", async () => {
    let state: HttpTransport['circuitState'] = 'closed';
    const transport = { ...createHttpTransport({ gateway: 'fiuu', timeoutMs: 1234, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10, maxRetryAfterMs: 50 } }) };
    Object.defineProperty(transport, 'circuitState', { get: () => state });
    closers.push(() => transport.close());
    const gateway = createFiuuGateway({ ...MERCHANT, transport });
    expect(gateway.worstCaseCallMs).toBe(transport.worstCaseMs);
    expect(gateway.worstCaseCallMs).toBeGreaterThanOrEqual(2 * 1234);
    expect(gateway.canSend!()).toBe(true);
    state = 'open';
    expect(gateway.canSend!()).toBe(false);
    state = 'half_open';
    expect(gateway.canSend!()).toBe(true);
  });
});

describe('sandbox payment page: amounts beyond the field', () => {
  it('answers P15 for more than ten integer digits, like Fiuu', async () => {
    const env = await sandboxAndGateway();
    closers.push(() => env.close());
    const created = await env.gateway.createPayment(
      {
        paymentId: 'pay_LIMIT1',
        merchantId: 'default',
        orderId: 'ORD-LIMIT-1',
        amount: Money.of('10.00', 'MYR'),
        captureMethod: 'automatic',
        paymentMethod: 'FPX',
        description: null,
        customer: { name: 'A', email: 'a@example.com', phone: '+60123456789' },
        returnUrl: null,
        notifyUrl: null,
        metadata: {},
      },
      { idempotencyKey: 'k', now: new Date() },
    );
    const form = hosted(created as never);
    const amount = '10000000000.00';
    const tooLarge = { ...form, fields: { ...form.fields, amount, vcode: vcode({ amount, merchantId: MERCHANT.merchantId, orderId: 'ORD-LIMIT-1', verifyKey: MERCHANT.verifyKey }) } };
    await expect(completeHostedPayment(tooLarge, 'approve')).rejects.toThrow(/P15/);
    const largest = '9999999999.99';
    const fits = { ...form, fields: { ...form.fields, amount: largest, vcode: vcode({ amount: largest, merchantId: MERCHANT.merchantId, orderId: 'ORD-LIMIT-1', verifyKey: MERCHANT.verifyKey }) } };
    await expect(completeHostedPayment(fits, 'approve')).resolves.toMatchObject({ tranID: expect.any(String) });
  });
});

describe('requery against a loopback Fiuu API', () => {
  /** A Fiuu API that answers every requery with `answer(fields)`, signed with the merchant's secret key. */
  async function fakeFiuu(answer: Record<string, string | null>) {
    const server = await merchantServer((_req, _body, res) => {
      const statCode = answer.StatCode ?? '';
      const signed: Record<string, string | null> = { Domain: MERCHANT.merchantId, TranID: 'T100', ...answer };
      const VrfKey = requeryVrfKey({ amount: String(signed.Amount ?? ''), secretKey: MERCHANT.secretKey, domain: MERCHANT.merchantId, id: 'T100', statCode });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...signed, VrfKey }));
    });
    const transport = createHttpTransport({ gateway: 'fiuu', retry: { attempts: 1 } });
    const gateway = createFiuuGateway({ ...MERCHANT, apiHost: server.url, transport, requery: { minIntervalMs: 0, perSecond: 1000 } });
    closers.push(async () => {
      await transport.close();
      await server.close();
    });
    return gateway;
  }
  const retrieve = (captureMethod: 'manual' | 'automatic') => ({
    paymentId: 'pay_RQ',
    orderId: 'ORD-RQ',
    gatewayReference: 'T100',
    amount: Money.of('10.00', 'MYR'),
    gatewayData: { orderid: 'ORD-RQ', captureMethod },
  });
  const ctx = { idempotencyKey: 'k', now: new Date() };

  it('a success without StatName is an authorisation for a manual-capture payment, a sale otherwise; Fiuu saying captured wins', async () => {
    const answer: Record<string, string | null> = { StatCode: '00', Amount: '10.00', Currency: 'MYR' };
    const gateway = await fakeFiuu(answer);
    const manual = await gateway.retrieve(retrieve('manual'), ctx);
    expect(manual.status).toBe('AUTHORIZED');
    expect(manual.amountCaptured).toBeUndefined();
    const sale = await gateway.retrieve(retrieve('automatic'), ctx);
    expect(sale.status).toBe('CAPTURED');
    expect(sale.amountCaptured?.toString()).toBe('10.00');
    // After our capture Fiuu names the transaction captured.
    answer.StatName = 'captured';
    expect((await gateway.retrieve(retrieve('manual'), ctx)).status).toBe('CAPTURED');
  });

  it.each([
    [{ Amount: 'ten' }, /Amount/],
    [{ Amount: null }, /Amount/],
    [{ Amount: '10.00', Currency: 'RM' }, /Currency/],
    [{ Amount: '10.00', Currency: 'XYZ' }, /XYZ|currency/i],
  ])('a signed answer with unusable fields %j is a typed gateway_error', async (fields, named) => {
    const gateway = await fakeFiuu({ StatCode: '00', ...fields });
    const error = await gateway.retrieve(retrieve('automatic'), ctx).then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ type: 'gateway_error', code: 'invalid_response' });
    expect((error as Error).message).toMatch(named);
  });
});
