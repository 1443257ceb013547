/**
 * Acceptance: the official `stripe` npm client, pointed at the sandbox, works unchanged, and its
 * `webhooks.constructEvent` accepts the sandbox's webhooks.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

const webhookSecret = 'whsec_sandbox_acceptance';
let sandbox: StripeSandbox;
let stripe: Stripe;
let receiver: Server;
const received: Stripe.Event[] = [];
const rejected: string[] = [];
const waiters: Array<() => void> = [];

function waitForEvent(predicate: (e: Stripe.Event) => boolean): Promise<Stripe.Event> {
  return new Promise((resolve) => {
    const check = () => {
      const hit = received.find(predicate);
      if (hit) resolve(hit);
      else waiters.push(check);
    };
    check();
  });
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const event = stripe.webhooks.constructEvent(Buffer.concat(chunks), String(req.headers['stripe-signature']), webhookSecret);
        received.push(event);
        res.writeHead(200).end('{"received":true}');
      } catch (error) {
        rejected.push((error as Error).message);
        res.writeHead(400).end();
      }
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  sandbox = await startStripeSandbox({ webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, secret: webhookSecret } });
  stripe = new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http', maxNetworkRetries: 0, telemetry: true });
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise((r) => receiver?.close(r));
});

describe('official stripe client against the sandbox', () => {
  it('creates and confirms a PaymentIntent in one call, then retrieves it', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, metadata: { order: 'A-1' } });
    expect(pi.id).toMatch(/^pi_/);
    expect(pi.status).toBe('succeeded');
    expect(pi.amount_received).toBe(2000);
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`));
    expect(pi.metadata).toEqual({ order: 'A-1' });
    const again = await stripe.paymentIntents.retrieve(pi.id);
    expect(again.status).toBe('succeeded');
    expect(again.lastResponse.requestId).toMatch(/^req_/);
  });

  it('creates, confirms separately, captures partially, and refunds twice', async () => {
    const created = await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', capture_method: 'manual', allowed_payment_method_types: ['card'] });
    expect(created.status).toBe('requires_payment_method');
    const confirmed = await stripe.paymentIntents.confirm(created.id, { payment_method: 'pm_card_mastercard' });
    expect(confirmed.status).toBe('requires_capture');
    expect(confirmed.amount_capturable).toBe(5000);
    const captured = await stripe.paymentIntents.capture(created.id, { amount_to_capture: 3000 });
    expect(captured.status).toBe('succeeded');
    expect(captured.amount_received).toBe(3000);
    const r1 = await stripe.refunds.create({ payment_intent: created.id, amount: 1000, reason: 'requested_by_customer', metadata: { tender_refund_id: 're_x' } });
    expect(r1).toMatchObject({ object: 'refund', amount: 1000, status: 'succeeded', reason: 'requested_by_customer', payment_intent: created.id });
    const r2 = await stripe.refunds.create({ payment_intent: created.id });
    expect(r2.amount).toBe(2000);
    const list = await stripe.refunds.list({ payment_intent: created.id });
    expect(list.data.map((r) => r.id)).toEqual([r2.id, r1.id]);
    expect((await stripe.refunds.retrieve(r1.id)).metadata).toEqual({ tender_refund_id: 're_x' });
    await expect(stripe.refunds.create({ payment_intent: created.id, amount: 1 })).rejects.toMatchObject({ type: 'StripeInvalidRequestError', code: 'charge_already_refunded' });
  });

  it('cancels (voids) an authorisation', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 700, currency: 'eur', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    const canceled = await stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'requested_by_customer' });
    expect(canceled.status).toBe('canceled');
    expect(canceled.cancellation_reason).toBe('requested_by_customer');
    await expect(stripe.paymentIntents.capture(pi.id)).rejects.toMatchObject({ type: 'StripeInvalidRequestError', code: 'payment_intent_unexpected_state', statusCode: 400 });
  });

  it('surfaces declines as StripeCardError with decline_code and the PaymentIntent', async () => {
    const error = await stripe.paymentIntents
      .create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', confirm: true })
      .then(() => null, (e: unknown) => e as Stripe.errors.StripeCardError);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'insufficient_funds' });
    expect(error!.payment_intent?.status).toBe('requires_payment_method');
    expect(error!.payment_intent?.last_payment_error?.decline_code).toBe('insufficient_funds');
  });

  it('answers 3-D Secure cards with requires_action and finishes after the challenge', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'gbp', payment_method: 'pm_card_authenticationRequired', confirm: true, return_url: 'https://shop.example/return' });
    expect(pi.status).toBe('requires_action');
    expect(pi.next_action?.type).toBe('redirect_to_url');
    const page = await fetch(pi.next_action!.redirect_to_url!.url!);
    expect(await page.text()).toContain('Complete authentication');
    const done = await fetch(pi.next_action!.redirect_to_url!.url!, { method: 'POST', body: new URLSearchParams({ result: 'approve' }), redirect: 'manual' });
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toContain('redirect_status=succeeded');
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
  });

  it('reports 404s and validation errors in Stripe error JSON', async () => {
    await expect(stripe.paymentIntents.retrieve('pi_missing')).rejects.toMatchObject({ type: 'StripeInvalidRequestError', code: 'resource_missing', statusCode: 404 });
    await expect(stripe.paymentIntents.create({ currency: 'usd' } as never)).rejects.toMatchObject({ code: 'parameter_missing', param: 'amount' });
    await expect(stripe.paymentIntents.create({ amount: 1005, currency: 'kwd' })).rejects.toMatchObject({ param: 'amount', statusCode: 400 });
    const bad = new Stripe('sk_test_wrong', { host: sandbox.host, port: sandbox.port, protocol: 'http' });
    await expect(bad.paymentIntents.retrieve('pi_x')).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it('refuses amounts over Stripe\'s per-currency digit limit as Stripe does: 400 amount_too_large on amount', async () => {
    const tooLarge = await stripe.paymentIntents.create({ amount: 100_000_000, currency: 'usd' }).then(() => null, (e: unknown) => e as Stripe.errors.StripeInvalidRequestError);
    expect(tooLarge).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(tooLarge).toMatchObject({ statusCode: 400, code: 'amount_too_large', param: 'amount', message: 'Amount must be no more than $999,999.99' });
    expect(tooLarge!.raw).toMatchObject({ type: 'invalid_request_error', doc_url: 'https://stripe.com/docs/error-codes/amount-too-large' });
    await expect(stripe.paymentIntents.create({ amount: 99_999_999, currency: 'usd' })).resolves.toMatchObject({ amount: 99_999_999 });
    // IDR takes 12 digits, INR 9 (https://docs.stripe.com/currencies, "Maximum charge amounts").
    await expect(stripe.paymentIntents.create({ amount: 999_999_999_999, currency: 'idr' })).resolves.toMatchObject({ amount: 999_999_999_999 });
    await expect(stripe.paymentIntents.create({ amount: 1_000_000_000_000, currency: 'idr' })).rejects.toMatchObject({ code: 'amount_too_large', param: 'amount' });
    await expect(stripe.paymentIntents.create({ amount: 999_999_999, currency: 'inr' })).resolves.toMatchObject({ currency: 'inr' });
    await expect(stripe.paymentIntents.create({ amount: 1_000_000_000, currency: 'inr' })).rejects.toMatchObject({ code: 'amount_too_large', statusCode: 400 });
  });

  it('replays an idempotent request and rejects the same key with other parameters', async () => {
    const key = `acc-${Date.now()}`;
    const a = await stripe.paymentIntents.create({ amount: 1234, currency: 'usd' }, { idempotencyKey: key });
    const b = await stripe.paymentIntents.create({ amount: 1234, currency: 'usd' }, { idempotencyKey: key });
    expect(b.id).toBe(a.id);
    expect(b.lastResponse.headers['idempotent-replayed']).toBe('true');
    await expect(stripe.paymentIntents.create({ amount: 999, currency: 'usd' }, { idempotencyKey: key })).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('retries a 500 marked Stripe-Should-Retry and gets one PaymentIntent', async () => {
    const retrying = new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http', maxNetworkRetries: 2 });
    sandbox.faults.add({ kind: 'error', status: 503, shouldRetry: true, match: /^POST \/v1\/payment_intents$/ });
    const before = sandbox.account.paymentIntents.size;
    const pi = await retrying.paymentIntents.create({ amount: 4200, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    expect(pi.status).toBe('succeeded');
    expect(sandbox.account.paymentIntents.size).toBe(before + 1);
  });

  it('sends webhooks that stripe-node constructEvent accepts', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 3100, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    const event = await waitForEvent((e) => e.type === 'payment_intent.succeeded' && (e.data.object as Stripe.PaymentIntent).id === pi.id);
    // The gateway pins the version the official client pins, and the sandbox serves it.
    expect(event.api_version).toBe(Stripe.API_VERSION);
    expect((event.data.object as Stripe.PaymentIntent).amount_received).toBe(3100);
    await sandbox.webhooks.idle();
    expect(rejected).toEqual([]);
  });
});
