/**
 * `validateCreate`: what Stripe's create would refuse before sending (an amount Stripe cannot represent
 * in the currency, a payment method this package cannot send, Stripe's maximum charge) is refused
 * before the engine stores anything, and `validateCreate` and `createPayment` always agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, Money, TenderError, type GatewayCreatePaymentInput } from '@tender/core';
import { createTestGateway, MemoryStore } from '@tender/core/testing';
import { createStripeGateway, type StripeGateway } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

let sandbox: StripeSandbox;
let gateway: StripeGateway;

beforeAll(async () => {
  sandbox = await startStripeSandbox();
  gateway = createStripeGateway({ secretKey: sandbox.secretKey, baseUrl: sandbox.url, transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 1 } }) });
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

function engine() {
  const store = new MemoryStore();
  const tender = createTender({ gateways: [gateway], store });
  return { store, tender, stored: () => store.listPayments({ merchantId: 'default', limit: 10 }) };
}

/** Requests routing lets through to Stripe (currency, method and limit declared) that its create refuses. */
const refused: Array<{ name: string; body: Record<string, unknown>; code: string; param: string }> = [
  { name: 'KWD whose last digit is not 0 (5.125)', body: { amount: '5.125', currency: 'KWD' }, code: 'amount_not_supported', param: 'amount' },
  { name: 'BHD in single fils (1.001)', body: { amount: '1.001', currency: 'BHD' }, code: 'amount_not_supported', param: 'amount' },
  { name: 'MGA with a fraction, zero-decimal at Stripe (10.50)', body: { amount: '10.50', currency: 'MGA' }, code: 'amount_not_supported', param: 'amount' },
  { name: 'a PaymentMethod id in upper case (PM_...)', body: { paymentMethod: 'PM_card_visa' }, code: 'payment_method_not_supported', param: 'payment_method' },
];

describe('engine + Stripe: a create Stripe would refuse stores nothing', () => {
  for (const { name, body, code, param } of refused) {
    it(`${name}: 400 ${code} on ${param}, no payment stored`, async () => {
      const { tender, stored } = engine();
      const before = sandbox.account.paymentIntents.size;
      await expect(tender.payments.create({ amount: '10.00', currency: 'USD', paymentMethod: 'pm_card_visa', gateway: 'stripe', ...body })).rejects.toMatchObject({
        status: 400,
        type: 'invalid_request_error',
        code,
        param,
      });
      // Before validateCreate the engine stored the payment, then marked it FAILED.
      expect(await stored()).toEqual([]);
      expect(sandbox.account.paymentIntents.size).toBe(before);
    });
  }

  it('with an idempotency key, the refusal is not kept: the corrected request under the same key succeeds', async () => {
    const { tender, stored } = engine();
    const key = 'idem-stripe-kwd';
    await expect(tender.payments.create({ amount: '5.125', currency: 'KWD', paymentMethod: 'pm_card_visa' }, { idempotencyKey: key })).rejects.toMatchObject({ status: 400, code: 'amount_not_supported' });
    expect(await stored()).toEqual([]);
    const payment = await tender.payments.create({ amount: '5.120', currency: 'KWD', paymentMethod: 'pm_card_visa' }, { idempotencyKey: key });
    expect(payment).toMatchObject({ status: 'CAPTURED', amount: '5.120', currency: 'KWD' });
    expect(sandbox.account.paymentIntents.get(payment.gatewayReference!)?.amount).toBe(5120);
    expect((await stored()).map((p) => p.id)).toEqual([payment.id]);
  });

  it('a refusing Stripe is no routing candidate: the next gateway takes the payment', async () => {
    const store = new MemoryStore();
    const tender = createTender({ gateways: [gateway, createTestGateway({ id: 'fallback' })], store });
    expect(await tender.payments.create({ amount: '5.125', currency: 'KWD' })).toMatchObject({ gateway: 'fallback', status: 'CAPTURED' });
    expect(await tender.payments.create({ amount: '5.120', currency: 'KWD', paymentMethod: 'pm_card_visa' })).toMatchObject({ gateway: 'stripe', status: 'CAPTURED' });
  });
});

describe('validateCreate and createPayment agree', () => {
  const input = (over: Partial<GatewayCreatePaymentInput> = {}): GatewayCreatePaymentInput => ({
    paymentId: `pay_V${Math.random().toString(36).slice(2, 10)}`,
    merchantId: 'default',
    orderId: null,
    amount: Money.of('10.00', 'USD'),
    captureMethod: 'automatic',
    paymentMethod: 'pm_card_visa',
    description: null,
    customer: {},
    returnUrl: null,
    notifyUrl: null,
    metadata: {},
    ...over,
  });
  const cases: Array<[string, Partial<GatewayCreatePaymentInput>, string | null]> = [
    ['USD with a pm_ id', {}, null],
    ['card in any case', { paymentMethod: 'Card' }, null],
    ['no payment method', { paymentMethod: null }, null],
    ['JPY, zero-decimal', { amount: Money.of('1000', 'JPY') }, null],
    ['KWD in tens of fils', { amount: Money.of('5.120', 'KWD') }, null],
    ['MGA whole', { amount: Money.of('1500', 'MGA') }, null],
    ["Stripe's maximum charge in USD", { amount: Money.of('999999.99', 'USD') }, null],
    ['UPI', { paymentMethod: 'UPI' }, 'payment_method_not_supported'],
    ['PM_ in upper case', { paymentMethod: 'PM_card_visa' }, 'payment_method_not_supported'],
    ['KWD 5.125', { amount: Money.of('5.125', 'KWD') }, 'amount_not_supported'],
    ['OMR 0.005', { amount: Money.of('0.005', 'OMR') }, 'amount_not_supported'],
    ['MGA 10.50', { amount: Money.of('10.50', 'MGA') }, 'amount_not_supported'],
    ['over the maximum charge in USD', { amount: Money.of('1000000.00', 'USD') }, 'amount_too_large'],
    ['over the maximum charge in INR', { amount: Money.of('10000000.00', 'INR') }, 'amount_too_large'],
  ];

  for (const [name, over, code] of cases) {
    it(`${name}: ${code ?? 'accepted'}`, async () => {
      const payment = input(over);
      let validated: TenderError | null = null;
      try {
        gateway.validateCreate(payment);
      } catch (error) {
        validated = error as TenderError;
      }
      let created: TenderError | null = null;
      try {
        await gateway.createPayment(payment, { idempotencyKey: `k-${payment.paymentId}`, now: new Date() });
      } catch (error) {
        created = error as TenderError;
      }
      if (code === null) {
        expect(validated).toBeNull();
        expect(created).toBeNull();
        return;
      }
      expect(TenderError.isInstance(validated)).toBe(true);
      expect(validated).toMatchObject({ type: 'invalid_request_error', code, status: 400, param: expect.any(String) });
      expect(created).toMatchObject({ type: 'invalid_request_error', code: validated!.code, param: validated!.param, message: validated!.message });
    });
  }
});
