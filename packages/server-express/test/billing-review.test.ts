/**
 * Review findings of the billing REST routes (#15), over HTTP on loopback against the reference
 * server with the Stripe sandbox: card data in a subscription's body is refused without being echoed,
 * sent or stored, and an Idempotency-Key reused with another body is a 422.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecurringPrice, startBillingServer, stripeApi, type BillingServer } from './billing-helpers';

let s: BillingServer;
let priceId: string;

beforeAll(async () => {
  s = await startBillingServer();
  priceId = await createRecurringPrice(s.sandbox, { unitAmount: 1000, currency: 'usd' });
});
afterAll(async () => {
  await s?.close();
});

const PAN = '4242424242424242';

describe('review: POST /api/v1/subscriptions', () => {
  it('a card number in price_id, payment_method, metadata or a card field is a 400 raw_card_data_not_allowed: not echoed, not logged, nothing stored or sent', async () => {
    const h = s.harness;
    const bodies: Array<[Record<string, unknown>, string]> = [
      [{ user_id: 'user_rev_pan', price_id: PAN }, 'price_id'],
      [{ user_id: 'user_rev_pan', price_id: priceId, payment_method: PAN }, 'payment_method'],
      [{ user_id: 'user_rev_pan', price_id: priceId, metadata: { note: '4242 4242 4242 4242' } }, 'metadata.note'],
      [{ user_id: 'user_rev_pan', price_id: priceId, card_number: PAN }, 'card_number'],
    ];
    for (const [body, param] of bodies) {
      const res = await h.call('POST', '/api/v1/subscriptions', { body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'raw_card_data_not_allowed', param });
      expect(JSON.stringify(res.body)).not.toMatch(/4242.?4242.?4242.?4242/);
    }
    expect(h.logs.join('\n')).not.toMatch(/4242.?4242.?4242.?4242/);
    expect((await h.call('GET', '/api/v1/users/user_rev_pan/subscriptions')).body.data).toEqual([]);
    expect((await stripeApi(s.sandbox, 'GET', '/v1/subscriptions', { status: 'all', limit: 100 })).data).toEqual([]);
  });

  it('a numeric user_id that passes the Luhn check is a user id, not card data', async () => {
    const res = await s.harness.call('POST', '/api/v1/subscriptions', { body: { user_id: '79927398713', price_id: priceId, payment_method: 'pm_card_visa' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.user_id).toBe('79927398713');
  });

  it('the same Idempotency-Key with another body is a 422 idempotency_key_reused; the same body answers the first subscription', async () => {
    const h = s.harness;
    const other = await createRecurringPrice(s.sandbox, { unitAmount: 2500, currency: 'usd' });
    const headers = { 'idempotency-key': 'rev-sub-1' };
    const first = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_rev_idem', price_id: priceId, payment_method: 'pm_card_visa' }, headers });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const reused = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_rev_idem', price_id: other, payment_method: 'pm_card_visa' }, headers });
    expect(reused.status).toBe(422);
    expect(reused.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused' });
    const again = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_rev_idem', price_id: priceId, payment_method: 'pm_card_visa' }, headers });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect((await h.call('GET', '/api/v1/users/user_rev_idem/subscriptions')).body.data.map((x: any) => x.id)).toEqual([first.body.id]);
  });
});
