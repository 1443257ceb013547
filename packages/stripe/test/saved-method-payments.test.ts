/**
 * Payments that charge a saved payment method, through the engine (MemoryStore) and the Stripe
 * gateway against the sandbox over loopback, checked with the official `stripe` client: a card saved
 * with `tender.paymentMethods.save` charged off-session by its Tender id or by its token with the
 * user; a card whose bank asks for authentication off-session; the 404s and 400s that store nothing
 * and send nothing; and the two-step create, authorize, capture of a saved card.
 */
import { createTender, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeGateway, type StripeGateway } from '@tender/stripe';
import { startBillingHarness, type BillingHarness } from './billing-harness';

let h: BillingHarness;
let stripe: Stripe;
let gateway: StripeGateway;
let store: MemoryStore;
let tender: Tender;
let orders = 0;

beforeAll(async () => {
  h = await startBillingHarness();
  stripe = h.stripe;
  gateway = createStripeGateway({ secretKey: h.sandbox.secretKey, baseUrl: h.sandbox.url, webhookSecret: 'whsec_saved_method_payments' });
  store = new MemoryStore();
  tender = createTender({ gateways: [gateway], store, defaultMerchantId: 'm_shop' });
});

afterAll(async () => {
  await gateway?.close();
  await h?.close();
});

const charge = (over: Record<string, unknown>) => ({ amount: '25.00', currency: 'USD', orderId: `ORD-SM-${++orders}`, ...over });

/** The PaymentIntents Stripe holds for a customer (filtered here too: the sandbox's list does not filter by `customer`). */
async function intentsOf(customer: string): Promise<Stripe.PaymentIntent[]> {
  return (await stripe.paymentIntents.list({ customer, limit: 100 })).data.filter((pi) => pi.customer === customer);
}

async function customerOf(userId: string, merchantId = 'm_shop'): Promise<string> {
  return (await store.getGatewayCustomer(merchantId, userId, 'stripe'))!.gatewayCustomerId;
}

describe('charging a saved card through the engine', () => {
  it('off-session by its Tender id: CAPTURED, with userId and savedPaymentMethodId, on the user’s Stripe customer', async () => {
    const method = await tender.paymentMethods.save({ userId: 'user_offsession', token: 'pm_card_visa' });
    const payment = await tender.payments.create(charge({ paymentMethod: method.id }));
    expect(payment).toMatchObject({ status: 'CAPTURED', userId: 'user_offsession', savedPaymentMethodId: method.id, gateway: 'stripe', paymentMethod: method.token, amountCaptured: '25.00' });
    const pi = await stripe.paymentIntents.retrieve(payment.gatewayReference!);
    expect(pi).toMatchObject({ status: 'succeeded', customer: await customerOf('user_offsession'), payment_method: method.token, amount: 2500, currency: 'usd' });
    expect((await tender.payments.list({ userId: 'user_offsession' })).data.map((p) => p.id)).toEqual([payment.id]);
  });

  it('by its token together with the user: the same saved-method charge', async () => {
    const method = await tender.paymentMethods.save({ userId: 'user_token', token: 'pm_card_mastercard' });
    const payment = await tender.payments.create(charge({ paymentMethod: method.token, userId: 'user_token' }));
    expect(payment).toMatchObject({ status: 'CAPTURED', savedPaymentMethodId: method.id, userId: 'user_token' });
    expect((await stripe.paymentIntents.retrieve(payment.gatewayReference!)).customer).toBe(await customerOf('user_token'));
  });

  it('a card whose bank asks for authentication off-session: FAILED with authentication_required; on-session it asks for the 3-D Secure step', async () => {
    const customer = await tender.customers.ensure({ userId: 'user_sca' });
    // Attached without a SetupIntent (a SetupIntent would need the customer's 3-D Secure step): a card
    // saved earlier whose bank now asks for authentication on a merchant-initiated charge
    // (https://docs.stripe.com/payments/save-and-reuse#charge-saved-payment-method).
    const pm = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: customer.gatewayCustomerId });
    const now = new Date().toISOString();
    const id = 'spm_sca_card';
    await store.transaction((tx) =>
      tx.insertSavedPaymentMethod({
        id,
        merchantId: 'm_shop',
        userId: 'user_sca',
        gateway: 'stripe',
        token: pm.id,
        type: 'card',
        card: { brand: 'visa', last4: pm.card!.last4, expMonth: pm.card!.exp_month, expYear: pm.card!.exp_year },
        walletEmail: null,
        isDefault: true,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
      }),
    );
    const failed = await tender.payments.create(charge({ paymentMethod: id }));
    expect(failed).toMatchObject({ status: 'FAILED', savedPaymentMethodId: id, failure: { code: 'authentication_required' }, nextAction: null });
    expect((await stripe.paymentIntents.retrieve(failed.gatewayReference!)).status).toBe('requires_payment_method');
    const onSession = await tender.payments.create(charge({ paymentMethod: id, offSession: false }));
    expect(onSession).toMatchObject({ status: 'REQUIRES_ACTION', savedPaymentMethodId: id });
  });

  it('a removed method is a 404 naming payment_method; nothing is stored or sent', async () => {
    const method = await tender.paymentMethods.save({ userId: 'user_removed', token: 'pm_card_visa' });
    await tender.paymentMethods.remove(method.id);
    const before = (await tender.payments.list({ userId: 'user_removed' })).data.length;
    await expect(tender.payments.create(charge({ paymentMethod: method.id }))).rejects.toMatchObject({ status: 404, type: 'not_found_error', param: 'payment_method' });
    expect((await tender.payments.list({ userId: 'user_removed' })).data).toHaveLength(before);
    expect(await intentsOf(await customerOf('user_removed'))).toEqual([]);
  });

  it('another merchant’s method is a 404, another user’s a 400 saved_method_user_mismatch; nothing is stored or sent', async () => {
    const theirs = await tender.paymentMethods.save({ userId: 'user_elsewhere', token: 'pm_card_visa' }, { merchantId: 'm_other' });
    const mine = await tender.paymentMethods.save({ userId: 'user_owner', token: 'pm_card_visa' });
    await expect(tender.payments.create(charge({ paymentMethod: theirs.id }))).rejects.toMatchObject({ status: 404, param: 'payment_method' });
    await expect(tender.payments.create(charge({ paymentMethod: mine.id, userId: 'user_intruder' }))).rejects.toMatchObject({ status: 400, code: 'saved_method_user_mismatch' });
    await expect(tender.payments.create(charge({ paymentMethod: mine.token, userId: 'user_intruder' }))).rejects.toMatchObject({ status: 400, code: 'saved_method_user_mismatch' });
    expect((await tender.payments.list({ userId: 'user_intruder' })).data).toEqual([]);
    expect((await tender.payments.list({ userId: 'user_owner' })).data).toEqual([]);
    expect(await intentsOf(await customerOf('user_owner'))).toEqual([]);
    expect(await intentsOf(await customerOf('user_elsewhere', 'm_other'))).toEqual([]);
  });

  it('create with confirm=false sends nothing; authorize holds the saved card (manual capture), capture takes it', async () => {
    const method = await tender.paymentMethods.save({ userId: 'user_twostep', token: 'pm_card_visa' });
    const customer = await customerOf('user_twostep');
    const pending = await tender.payments.create(charge({ paymentMethod: method.id, confirm: false }));
    expect(pending).toMatchObject({ status: 'PENDING', captureMethod: 'manual', savedPaymentMethodId: method.id, gatewayReference: null });
    expect(await intentsOf(customer)).toEqual([]);
    const authorized = await tender.payments.authorize(pending.id, { idempotencyKey: 'twostep-auth' });
    expect(authorized).toMatchObject({ status: 'AUTHORIZED', gatewayReference: expect.stringMatching(/^pi_/) });
    expect(await tender.payments.authorize(pending.id, { idempotencyKey: 'twostep-auth' })).toEqual(authorized);
    expect(await stripe.paymentIntents.retrieve(authorized.gatewayReference!)).toMatchObject({ status: 'requires_capture', customer, payment_method: method.token, capture_method: 'manual' });
    const captured = await tender.payments.capture(pending.id);
    expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: '25.00' });
    expect((await stripe.paymentIntents.retrieve(authorized.gatewayReference!)).status).toBe('succeeded');
    expect(await intentsOf(customer)).toHaveLength(1);
  });
});
