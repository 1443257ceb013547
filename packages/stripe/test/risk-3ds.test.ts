/**
 * The risk step-up through the Stripe gateway and sandbox over loopback: a step-up decision sends
 * `payment_method_options[card][request_three_d_secure]=any`, so `pm_card_visa` (which pays without
 * a challenge otherwise) answers REQUIRES_ACTION with a 3-D Secure next action, and pays once the
 * challenge is passed; also at authorize for a `confirm: false` payment; a block reaches no Stripe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryVelocityStore, createHttpTransport, createRiskEngine, createTender, parseRiskConfig, riskOf, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createStripeGateway, type StripeGateway } from '@tender/stripe';
import { completeCustomerAction, startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

let sandbox: StripeSandbox;
let gateway: StripeGateway;
let tender: Tender;

const RULES = [
  'block_threshold: 80',
  'review_threshold: 60',
  'step_up_threshold: 30',
  'rules:',
  '  - { id: usd-100, type: amount_above, amount_above: { USD: "100" }, score: 30 }',
  '  - { id: usd-1000, type: amount_above, amount_above: { USD: "1000" }, score: 30 }',
  '  - { id: deny-kp, type: country, deny: [KP], score: 100 }',
].join('\n');

beforeAll(async () => {
  sandbox = await startStripeSandbox();
  gateway = createStripeGateway({
    secretKey: sandbox.secretKey,
    webhookSecret: 'whsec_risk_tests',
    baseUrl: sandbox.url,
    transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 1 } }),
  });
  const store = new MemoryStore();
  tender = createTender({ gateways: [gateway], store, risk: createRiskEngine({ config: parseRiskConfig(RULES), velocity: new MemoryVelocityStore(), store }) });
});

afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

const pi = (id: string | null) => sandbox.account.paymentIntents.get(id!)!;
const create = (amount: string, extra: Record<string, unknown> = {}) => tender.payments.create({ amount, currency: 'USD', paymentMethod: 'pm_card_visa', gateway: 'stripe', ...extra });

describe('risk step-up through Stripe', () => {
  it('without a step-up pm_card_visa pays at once and nothing asks for 3-D Secure', async () => {
    const payment = await create('20.00');
    expect(payment.status).toBe('CAPTURED');
    expect(riskOf(payment)).toMatchObject({ action: 'allow', score: 0 });
    expect(pi(payment.gatewayReference).payment_method_options).toMatchObject({ card: { request_three_d_secure: 'automatic' } });
  });

  it('a step-up asks for 3-D Secure: REQUIRES_ACTION with a challenge for a card that would otherwise pay, CAPTURED once passed', async () => {
    const payment = await create('150.00', { returnUrl: 'https://shop.example/done' });
    expect(riskOf(payment)).toMatchObject({ action: 'step_up', score: 30 });
    expect(payment.status).toBe('REQUIRES_ACTION');
    const intent = pi(payment.gatewayReference);
    expect(intent.payment_method_options).toMatchObject({ card: { request_three_d_secure: 'any' } });
    expect(payment.nextAction).toMatchObject({ type: 'client_secret', clientSecret: intent.client_secret, action: { type: 'redirect_to_url' } });
    await completeCustomerAction(sandbox, payment.gatewayReference!, 'approve');
    expect(await tender.payments.sync(payment.id, { minIntervalMs: 0 })).toMatchObject({ status: 'CAPTURED', amountCaptured: '150.00' });
  });

  it('a confirm=false payment with a step-up asks for 3-D Secure when authorised', async () => {
    const payment = await create('200.00', { confirm: false });
    expect(payment.status).toBe('PENDING');
    const authorized = await tender.payments.authorize(payment.id);
    expect(authorized.status).toBe('REQUIRES_ACTION');
    expect(pi(authorized.gatewayReference).payment_method_options).toMatchObject({ card: { request_three_d_secure: 'any' } });
  });

  it('a review approved goes to Stripe without a challenge; a block never reaches Stripe', async () => {
    const held = await create('1500.00');
    expect(held.status).toBe('REQUIRES_REVIEW');
    const before = sandbox.account.paymentIntents.size;
    const approved = await tender.payments.review(held.id, { decision: 'approve' }, { actor: 'admin:risk' });
    expect(approved).toMatchObject({ status: 'CAPTURED', amountCaptured: '1500.00' });
    expect(sandbox.account.paymentIntents.size).toBe(before + 1);
    const blocked = await create('10.00', { risk: { country: 'KP' } });
    expect(blocked).toMatchObject({ status: 'FAILED', failure: { code: 'risk_blocked' }, gatewayReference: null });
    expect(sandbox.account.paymentIntents.size).toBe(before + 1);
  });
});
