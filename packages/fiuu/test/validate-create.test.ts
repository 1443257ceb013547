/**
 * `validateCreate`: what Fiuu's create would refuse is refused before the engine stores anything (a
 * 400 naming the field, no FAILED payment left behind), and `validateCreate` and `createPayment`
 * always agree.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTender, Money, TenderError } from '@tender/core';
import type { GatewayCreatePaymentInput } from '@tender/core';
import { createTestGateway, MemoryStore } from '@tender/core/testing';
import { sandboxAndGateway } from './helpers';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function engine() {
  const env = await sandboxAndGateway();
  closers.push(() => env.close());
  const store = new MemoryStore();
  const tender = createTender({ gateways: [env.gateway], store });
  const stored = () => store.listPayments({ merchantId: 'default', limit: 10 });
  return { env, store, tender, stored };
}

const base = { amount: '100.50', currency: 'MYR', paymentMethod: 'FPX', gateway: 'fiuu' };

/** Requests routing lets through to Fiuu (currency, method and capture declared) that its create refuses. */
const refused: Array<{ name: string; body: Record<string, unknown>; code: string; param: string }> = [
  { name: 'a channel in a currency it does not take (FPX in SGD)', body: { currency: 'SGD', amount: '20.00' }, code: 'currency_not_supported', param: 'currency' },
  { name: 'a raw channel code Fiuu cannot carry', body: { paymentMethod: 'FIUU:not a channel!' }, code: 'payment_method_not_supported', param: 'payment_method' },
  { name: "less than the channel's minimum (Atome, 10.00 MYR)", body: { paymentMethod: 'ATOME', amount: '5.00' }, code: 'amount_too_small', param: 'amount' },
  { name: 'manual capture on a channel without pre-authorisation', body: { captureMethod: 'manual' }, code: 'capture_method_not_supported', param: 'capture_method' },
  { name: 'an order id with characters Fiuu refuses', body: { orderId: 'ORDER 1/2' }, code: 'invalid_order_id', param: 'order_id' },
  { name: 'an order id longer than 40 characters', body: { orderId: 'A'.repeat(41) }, code: 'invalid_order_id', param: 'order_id' },
];

describe('engine + Fiuu: a create Fiuu would refuse stores nothing', () => {
  for (const { name, body, code, param } of refused) {
    it(`${name}: 400 ${code} on ${param}, no payment stored`, async () => {
      const { tender, stored } = await engine();
      await expect(tender.payments.create({ ...base, ...body })).rejects.toMatchObject({ status: 400, type: 'invalid_request_error', code, param });
      // Before validateCreate the engine stored the payment, then marked it FAILED.
      expect(await stored()).toEqual([]);
    });
  }

  it('with an idempotency key, the refusal is not kept: the corrected request under the same key succeeds', async () => {
    const { tender, stored } = await engine();
    const key = 'idem-fiuu-order-id';
    await expect(tender.payments.create({ ...base, orderId: 'ORDER 1/2' }, { idempotencyKey: key })).rejects.toMatchObject({ status: 400, code: 'invalid_order_id' });
    expect(await stored()).toEqual([]);
    const payment = await tender.payments.create({ ...base, orderId: 'ORDER-1-2' }, { idempotencyKey: key });
    expect(payment).toMatchObject({ status: 'REQUIRES_ACTION', orderId: 'ORDER-1-2', gateway: 'fiuu' });
    expect((await stored()).map((p) => p.id)).toEqual([payment.id]);
  });

  it('a refusing Fiuu is no routing candidate: the next gateway takes the payment', async () => {
    const env = await sandboxAndGateway();
    closers.push(() => env.close());
    const store = new MemoryStore();
    const fallback = createTestGateway({ id: 'fallback' });
    const tender = createTender({ gateways: [env.gateway, fallback], store });
    // Fiuu refuses the order id and Atome's 5.00 MYR; the other gateway has neither rule.
    expect(await tender.payments.create({ amount: '5.00', currency: 'MYR', orderId: 'has space' })).toMatchObject({ gateway: 'fallback' });
    expect(await tender.payments.create({ amount: '5.00', currency: 'MYR', paymentMethod: 'ATOME' })).toMatchObject({ gateway: 'fallback' });
    expect(await tender.payments.create({ amount: '5.00', currency: 'MYR', orderId: 'ORD-OK' })).toMatchObject({ gateway: 'fiuu', status: 'REQUIRES_ACTION' });
    expect((await store.listPayments({ merchantId: 'default', limit: 10 })).map((p) => p.gateway).sort()).toEqual(['fallback', 'fallback', 'fiuu']);
  });
});

describe('validateCreate and createPayment agree', () => {
  const input = (over: Partial<GatewayCreatePaymentInput> = {}): GatewayCreatePaymentInput => ({
    paymentId: 'pay_VALIDATE1',
    merchantId: 'default',
    orderId: null,
    amount: Money.of('100.50', 'MYR'),
    captureMethod: 'automatic',
    paymentMethod: 'FPX',
    description: null,
    customer: {},
    returnUrl: null,
    notifyUrl: null,
    metadata: {},
    ...over,
  });
  const cases: Array<[string, Partial<GatewayCreatePaymentInput>, string | null]> = [
    ['FPX in MYR', {}, null],
    ['no method, MYR', { paymentMethod: null }, null],
    ['card, manual capture', { paymentMethod: 'CARD', captureMethod: 'manual' }, null],
    ['GrabPay in SGD (the SG variant)', { paymentMethod: 'GRABPAY', amount: Money.of('5.00', 'SGD') }, null],
    ['FPX at exactly its minimum', { amount: Money.of('1.00', 'MYR') }, null],
    ['the largest amount n{10,2} carries', { amount: Money.of('9999999999.99', 'MYR') }, null],
    ['a 40-character order id', { orderId: 'A'.repeat(40) }, null],
    ['no method, a currency no channel takes', { paymentMethod: null, amount: Money.of('10.00', 'USD') }, 'currency_not_supported'],
    ['FPX in SGD', { amount: Money.of('20.00', 'SGD') }, 'currency_not_supported'],
    ['a method Fiuu does not offer', { paymentMethod: 'UPI' }, 'payment_method_not_supported'],
    ['a raw channel with a space', { paymentMethod: 'FIUU:bad channel' }, 'payment_method_not_supported'],
    ['a raw channel, three decimals Fiuu cannot carry', { paymentMethod: 'FIUU:KNET', amount: Money.of('1.234', 'KWD') }, 'amount_too_precise'],
    ['more than n{10,2}', { amount: Money.of('10000000000.00', 'MYR') }, 'amount_too_large'],
    ['FPX below its minimum', { amount: Money.of('0.99', 'MYR') }, 'amount_too_small'],
    ['eNETS below its minimum', { paymentMethod: 'ENETS', amount: Money.of('4.99', 'SGD') }, 'amount_too_small'],
    ['manual capture with FPX', { captureMethod: 'manual' }, 'capture_method_not_supported'],
    ['manual capture without a method', { paymentMethod: null, captureMethod: 'manual' }, 'capture_method_not_supported'],
    ['an order id with a dot', { orderId: 'ORD.1' }, 'invalid_order_id'],
    ['no order id and a payment id Fiuu cannot carry', { paymentId: 'pay:1' }, 'invalid_order_id'],
  ];

  for (const [name, over, code] of cases) {
    it(`${name}: ${code ?? 'accepted'}`, async () => {
      const env = await sandboxAndGateway();
      closers.push(() => env.close());
      const payment = input(over);
      let validated: TenderError | null = null;
      try {
        env.gateway.validateCreate(payment);
      } catch (error) {
        validated = error as TenderError;
      }
      let created: TenderError | null = null;
      try {
        await env.gateway.createPayment(payment, { idempotencyKey: `k-${payment.paymentId}`, now: new Date() });
      } catch (error) {
        created = error as TenderError;
      }
      if (code === null) {
        expect(validated).toBeNull();
        expect(created).toBeNull();
        return;
      }
      expect(TenderError.isInstance(validated)).toBe(true);
      expect(validated).toMatchObject({ type: 'invalid_request_error', code, status: 400 });
      expect(created).toMatchObject({ type: 'invalid_request_error', code: validated!.code, param: validated!.param, message: validated!.message });
    });
  }
});
