/**
 * UGX at Stripe: zero-decimal in ISO 4217, but Stripe's API keeps it two-decimal for backwards
 * compatibility, whole shillings only (https://docs.stripe.com/currencies#special-cases): 5,000 UGX is
 * `amount=500000`, never `5000` (which Stripe would read as 50 UGX).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, Money } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createStripeGateway, fromStripeAmount, stripeDecimals, toStripeAmount, type StripeGateway } from '@tender/stripe';
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

describe('UGX in Stripe amounts', () => {
  it('is sent ×100, like ISK, and read back exactly', () => {
    expect(stripeDecimals('UGX')).toBe(2);
    expect(toStripeAmount(Money.of('5', 'UGX'))).toBe(500);
    expect(toStripeAmount(Money.of('5000', 'UGX'))).toBe(500_000);
    expect(fromStripeAmount(500_000, 'ugx').toString()).toBe('5000');
  });

  it("Stripe's eight-digit limit (999,999.99) is 999,999 whole shillings", () => {
    expect(gateway.capabilities.maxAmountMinor).toMatchObject({ UGX: 999_999 });
  });
});

describe('engine + Stripe sandbox: UGX', () => {
  it('a 5,000 UGX payment creates a PaymentIntent for amount 500000 and is stored as 5000 UGX', async () => {
    const store = new MemoryStore();
    const tender = createTender({ gateways: [gateway], store });
    const payment = await tender.payments.create({ amount: '5000', currency: 'UGX', paymentMethod: 'pm_card_visa' });
    expect(payment).toMatchObject({ status: 'CAPTURED', amount: '5000', currency: 'UGX', amountCaptured: '5000' });
    expect(sandbox.account.paymentIntents.get(payment.gatewayReference!)).toMatchObject({ amount: 500_000, currency: 'ugx' });
    const refund = await tender.payments.refund(payment.id, { amount: '1000' });
    expect(refund).toMatchObject({ amount: '1000' });
    expect([...sandbox.account.refunds.values()].find((r) => r.id === refund.gatewayReference)).toMatchObject({ amount: 100_000 });
  });

  it('1,000,000 UGX is more than Stripe charges: 400 amount_too_large before anything is stored', async () => {
    const store = new MemoryStore();
    const tender = createTender({ gateways: [gateway], store });
    await expect(tender.payments.create({ amount: '1000000', currency: 'UGX', paymentMethod: 'pm_card_visa' })).rejects.toMatchObject({ status: 400, code: 'amount_too_large', param: 'amount' });
    expect(await store.listPayments({ merchantId: 'default', limit: 10 })).toEqual([]);
    await expect(tender.payments.create({ amount: '999999', currency: 'UGX', paymentMethod: 'pm_card_visa' })).resolves.toMatchObject({ status: 'CAPTURED' });
  });
});
