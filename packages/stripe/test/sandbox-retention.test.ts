/** The sandbox forgets its oldest objects, events and idempotency keys past its retention limits. */
import Stripe from 'stripe';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

let sandbox: StripeSandbox;
let stripe: Stripe;

beforeAll(async () => {
  sandbox = await startStripeSandbox({ retention: { objects: 3, events: 4, idempotencyKeys: 2 } });
  stripe = new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
});
afterAll(() => sandbox.close());

const params: Stripe.PaymentIntentCreateParams = { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, allowed_payment_method_types: ['card'] };
const pay = (key?: string) => (key ? stripe.paymentIntents.create(params, { idempotencyKey: key }) : stripe.paymentIntents.create(params));

it('forgets the oldest PaymentIntents and charges beyond the limit: they answer 404 resource_missing', async () => {
  const first = await pay();
  const rest = [await pay(), await pay(), await pay()];
  expect(sandbox.account.paymentIntents.size).toBe(3);
  expect(sandbox.account.charges.size).toBe(3);
  const error = await stripe.paymentIntents.retrieve(first.id).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  expect((error as InstanceType<typeof Stripe.errors.StripeInvalidRequestError>).code).toBe('resource_missing');
  await expect(stripe.charges.retrieve(first.latest_charge as string)).rejects.toMatchObject({ statusCode: 404 });
  for (const pi of rest) expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
});

it('keeps refund totals of a remembered charge exact while older refunds are forgotten', async () => {
  const pi = await pay();
  for (let i = 0; i < 4; i++) await stripe.refunds.create({ payment_intent: pi.id, amount: 200 });
  expect(sandbox.account.refunds.size).toBe(3);
  // 800 of 1000 refunded, one of those refunds no longer retrievable: 300 is still too much.
  await expect(stripe.refunds.create({ payment_intent: pi.id, amount: 300 })).rejects.toMatchObject({ code: 'amount_too_large' });
  expect((await stripe.refunds.create({ payment_intent: pi.id, amount: 200 })).status).toBe('succeeded');
  await expect(stripe.refunds.create({ payment_intent: pi.id, amount: 100 })).rejects.toMatchObject({ code: 'charge_already_refunded' });
});

it('keeps a bounded event history', async () => {
  for (let i = 0; i < 5; i++) await pay();
  // Trimmed in batches: never more than twice the limit, always at least the newest `events`.
  expect(sandbox.account.events.length).toBeGreaterThanOrEqual(4);
  expect(sandbox.account.events.length).toBeLessThanOrEqual(8);
  expect(sandbox.account.events.at(-1)!.type).toBe('payment_intent.succeeded');
});

it('replays a remembered idempotency key, and treats a forgotten one as new', async () => {
  const a = await pay('key-a');
  expect((await pay('key-a')).id).toBe(a.id);
  await pay('key-b');
  await pay('key-c');
  // key-a is the oldest of three keys with a limit of two: forgotten, so the request runs again.
  const again = await pay('key-a');
  expect(again.id).not.toBe(a.id);
  expect((await pay('key-c')).lastResponse.headers['idempotent-replayed']).toBe('true');
});

it('rejects a retention limit that is not a positive integer', async () => {
  await expect(startStripeSandbox({ retention: { objects: 0 } })).rejects.toThrow(/retention\.objects/);
});
