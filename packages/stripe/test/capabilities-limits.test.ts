/**
 * What the Stripe gateway declares (payment methods, currencies, amount limits, transport figures) and
 * what follows through the engine: a payment Stripe cannot take is refused with a 400 before anything
 * is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, Money, type HttpTransport, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createStripeGateway, type StripeGateway } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

let sandbox: StripeSandbox;
let gateway: StripeGateway;
let store: MemoryStore;
let tender: Tender;

beforeAll(async () => {
  sandbox = await startStripeSandbox();
  gateway = createStripeGateway({ secretKey: sandbox.secretKey, baseUrl: sandbox.url, transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 1 } }) });
  store = new MemoryStore();
  tender = createTender({ gateways: [gateway], store });
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

const stored = () => store.listPayments({ merchantId: 'default', limit: 100 });

describe('declared capabilities', () => {
  it('payment methods are the ones createPayment handles; currencies are Stripe\'s presentment list', () => {
    const caps = gateway.capabilities;
    expect(caps.paymentMethods).toEqual(['card', 'CARD', 'pm_*']);
    expect(caps.currencies).not.toBe('*');
    for (const code of ['USD', 'EUR', 'MYR', 'INR', 'JPY', 'IDR', 'KWD', 'ISK']) expect(caps.currencies).toContain(code);
    expect(caps.currencies).not.toContain('XYZ');
  });

  it('maxAmountMinor follows Stripe\'s digit limits, in ISO minor units', () => {
    expect(gateway.capabilities.maxAmountMinor).toMatchObject({
      '*': 99_999_999,
      USD: 99_999_999,
      JPY: 99_999_999,
      IDR: 999_999_999_999,
      INR: 999_999_999,
      COP: 9_999_999_999,
      // Two-decimal at Stripe, zero-decimal in ISO 4217: 999,999.99 ISK is 999,999 whole krónur.
      ISK: 999_999,
      // The other way round: 99,999,999 ariary are 9,999,999,900 iraimbilanja.
      MGA: 9_999_999_900,
    });
  });

  it("worstCaseCallMs and canSend come from the injected transport", async () => {
    let state: HttpTransport['circuitState'] = 'closed';
    const transport = { ...createHttpTransport({ gateway: 'stripe', timeoutMs: 777, retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10, maxRetryAfterMs: 20 } }) };
    Object.defineProperty(transport, 'circuitState', { get: () => state });
    const g = createStripeGateway({ secretKey: 'sk_test_x', transport });
    expect(g.worstCaseCallMs).toBe(transport.worstCaseMs);
    expect(g.worstCaseCallMs).toBeGreaterThanOrEqual(3 * 777);
    expect(g.canSend!()).toBe(true);
    state = 'open';
    expect(g.canSend!()).toBe(false);
    await transport.close();
  });
});

describe('through the engine', () => {
  it('a UPI payment (payment_method UPI, INR) is not routed to Stripe: 400, nothing stored', async () => {
    // amount_paisa 10000 is 100.00 INR.
    await expect(tender.payments.create({ amount: '100.00', currency: 'INR', paymentMethod: 'UPI' })).rejects.toMatchObject({ status: 400, code: 'no_eligible_gateway' });
    await expect(tender.payments.create({ amount: '100.00', currency: 'INR', paymentMethod: 'UPI', gateway: 'stripe' })).rejects.toMatchObject({ status: 400, code: 'gateway_not_supported' });
    expect(await stored()).toEqual([]);
  });

  it('an amount over the limit is refused with 400 amount_too_large before anything is stored', async () => {
    for (const amount of ['1000000.00', '99999999999999999999.99']) {
      await expect(tender.payments.create({ amount, currency: 'USD', paymentMethod: 'pm_card_visa', gateway: 'stripe' })).rejects.toMatchObject({ status: 400, code: 'amount_too_large', param: 'amount' });
    }
    expect(await stored()).toEqual([]);
    const largest = await tender.payments.create({ amount: '999999.99', currency: 'USD', paymentMethod: 'pm_card_visa', gateway: 'stripe' });
    expect(largest).toMatchObject({ status: 'CAPTURED', amount: '999999.99' });
  });

  it('card (any case) and pm_ ids are sent; createPayment refuses a method it cannot send', async () => {
    const card = await tender.payments.create({ amount: '5.00', currency: 'USD', paymentMethod: 'CARD', gateway: 'stripe' });
    expect(card).toMatchObject({ status: 'REQUIRES_ACTION' });
    expect(sandbox.account.paymentIntents.get(card.gatewayReference!)?.payment_method_types).toEqual(['card']);
    const input = { paymentId: 'pay_X', merchantId: 'default', orderId: null, amount: Money.of('5.00', 'USD'), captureMethod: 'automatic' as const, paymentMethod: 'UPI', description: null, customer: {}, returnUrl: null, notifyUrl: null, metadata: {} };
    await expect(gateway.createPayment(input, { idempotencyKey: 'k-upi', now: new Date() })).rejects.toMatchObject({ status: 400, code: 'payment_method_not_supported', param: 'payment_method' });
  });
});
