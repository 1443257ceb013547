/**
 * Review findings of the billing REST routes (#15) on real Postgres (TEST_DATABASE_URL), where
 * requests run in concurrent transactions: copies of one payment-method save sent at once find the
 * token taken only when they insert, and must each answer the saved method (201), not a 409; "set
 * default" calls racing for two methods must end with Stripe's customer default equal to Tender's;
 * copies of one keyed subscribe at once must each answer the one subscription, never a binding conflict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecurringPrice, startBillingServer, stripeApi, type BillingServer } from './billing-helpers';
import { dropSchema, freshSchema, pgStore } from './pg';

let s: BillingServer;
let schema: string;
let store: Awaited<ReturnType<typeof pgStore>>;

beforeAll(async () => {
  schema = freshSchema('review_billing');
  store = await pgStore(schema);
  s = await startBillingServer({ store });
});
afterAll(async () => {
  await s?.close();
  await store?.close();
  await dropSchema(schema);
});

describe('review: concurrent saves on Postgres', () => {
  it('five copies of a save at once (a PaymentMethod from Elements, and a test card id): every answer 201 with one saved method, one PaymentMethod on the customer at Stripe', async () => {
    const h = s.harness;
    const fromElements = (await stripeApi(s.sandbox, 'POST', '/v1/payment_methods', { type: 'card', 'card[token]': 'tok_visa' })).id as string;
    for (const [userId, token] of [['user_race_pm', fromElements], ['user_race_test_id', 'pm_card_visa']] as const) {
      const answers = await Promise.all(Array.from({ length: 5 }, () => h.call('POST', '/api/v1/payment-methods', { body: { user_id: userId, payment_method: token } })));
      for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(201);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      const listed = (await h.call('GET', `/api/v1/users/${userId}/payment-methods`)).body.data;
      expect(listed.map((m: any) => m.id)).toEqual([answers[0]!.body.id]);
      expect(listed[0].is_default).toBe(true);
      const customer = (await stripeApi(s.sandbox, 'GET', `/v1/payment_methods/${answers[0]!.body.gateway_token}`)).customer as string;
      expect((await stripeApi(s.sandbox, 'GET', '/v1/payment_methods', { customer })).data).toHaveLength(1);
    }
  });
});

describe('review: concurrent set-default on Postgres', () => {
  it("eight set-default calls at once alternating two methods, twenty users: each ends with Stripe's customer default the method Tender shows as default", async () => {
    const h = s.harness;
    for (let round = 0; round < 20; round++) {
      const userId = `user_race_default_${round}`;
      const a = (await h.call('POST', '/api/v1/payment-methods', { body: { user_id: userId, payment_method: 'pm_card_visa' } })).body;
      const b = (await h.call('POST', '/api/v1/payment-methods', { body: { user_id: userId, payment_method: 'pm_card_mastercard' } })).body;
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => h.call('POST', `/api/v1/payment-methods/${(i % 2 ? a : b).id}/default`, { body: {} })));
      for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const defaults = (await h.call('GET', `/api/v1/users/${userId}/payment-methods`)).body.data.filter((m: any) => m.is_default);
      expect(defaults).toHaveLength(1);
      const customer = (await stripeApi(s.sandbox, 'GET', `/v1/payment_methods/${a.gateway_token}`)).customer as string;
      const atStripe = (await stripeApi(s.sandbox, 'GET', `/v1/customers/${customer}`)).invoice_settings.default_payment_method;
      expect(atStripe, `round ${round}`).toBe(defaults[0].gateway_token);
    }
  });
});

describe('review: concurrent copies of a subscribe on Postgres', () => {
  it('four copies of one keyed subscribe with a new card at once, ten users: every answer 201 with the one subscription, one saved method, one Stripe subscription each', async () => {
    const h = s.harness;
    const price = await createRecurringPrice(s.sandbox, { unitAmount: 1000, currency: 'usd' });
    for (let round = 0; round < 10; round++) {
      const userId = `user_race_sub_${round}`;
      const subscribe = () => h.call('POST', '/api/v1/subscriptions', { body: { user_id: userId, price_id: price, payment_method: 'pm_card_visa' }, headers: { 'idempotency-key': `race-sub-${round}` } });
      const answers = await Promise.all([subscribe(), subscribe(), subscribe(), subscribe()]);
      for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect((await h.call('GET', `/api/v1/users/${userId}/subscriptions`)).body.data).toHaveLength(1);
      expect((await h.call('GET', `/api/v1/users/${userId}/payment-methods`)).body.data).toHaveLength(1);
      const customer = (await stripeApi(s.sandbox, 'GET', `/v1/subscriptions/${answers[0]!.body.gateway_reference}`)).customer as string;
      expect((await stripeApi(s.sandbox, 'GET', '/v1/subscriptions', { customer, status: 'all' })).data).toHaveLength(1);
    }
  });
});
