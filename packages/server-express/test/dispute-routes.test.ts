/**
 * The dispute REST routes over HTTP on loopback, against the reference server whose Stripe gateway
 * talks to a Stripe sandbox that opens and closes disputes and sends its signed webhooks to the
 * server: the list, one dispute, its trail, a payment's disputes with the amount they hold, the
 * published `dispute.*` events, 400s, another merchant's 404s and the read scope.
 */
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventJsonSchemas } from '../src/event-schemas';
import { startBillingServer, type BillingServer } from './billing-helpers';
import type { Harness } from './helpers';

let s: BillingServer;
let h: Harness;
let other: string;

beforeAll(async () => {
  s = await startBillingServer();
  h = s.harness;
  other = await h.token('m2');
});
afterAll(async () => {
  await s?.close();
});

async function disputedPayment(amount: string): Promise<{ paymentId: string; disputeReference: string }> {
  const paid = await h.call('POST', '/api/v1/payments', { body: { amount, currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_visa' } });
  expect(paid.status, JSON.stringify(paid.body)).toBe(201);
  expect(paid.body.status).toBe('CAPTURED');
  const payment = await h.tender.payments.get(paid.body.id, { merchantId: 'm1' });
  const dispute = s.sandbox.account.createDispute(payment.gatewayReference!, 'fraudulent');
  await s.sandbox.webhooks.idle();
  return { paymentId: paid.body.id, disputeReference: String(dispute.id) };
}

describe('dispute routes', () => {
  it('lists, reads and traces a dispute; the payment shows the amount held, then nothing once won', async () => {
    const { paymentId, disputeReference } = await disputedPayment('60.00');
    const forPayment = await h.call('GET', `/api/v1/payments/${paymentId}/disputes`);
    expect(forPayment.status).toBe(200);
    expect(forPayment.body).toMatchObject({ object: 'list', has_more: false, amount_disputed: '60.00', amount_disputed_minor: 6000, currency: 'USD' });
    expect(forPayment.body.data).toHaveLength(1);
    const dispute = forPayment.body.data[0];
    expect(dispute).toMatchObject({
      object: 'dispute',
      payment_id: paymentId,
      gateway: 'stripe',
      gateway_reference: disputeReference,
      status: 'needs_response',
      amount: '60.00',
      amount_minor: 6000,
      currency: 'USD',
      reason: 'fraudulent',
      closed_at: null,
    });
    expect((await h.call('GET', `/api/v1/disputes/${dispute.id}`)).body).toEqual(dispute);
    const listed = await h.call('GET', '/api/v1/disputes?status=needs_response');
    expect(listed.body.data.map((d: any) => d.id)).toContain(dispute.id);
    expect((await h.call('GET', `/api/v1/disputes?payment_id=${paymentId}`)).body.data.map((d: any) => d.id)).toEqual([dispute.id]);

    s.sandbox.account.updateDispute(disputeReference, 'under_review');
    s.sandbox.account.updateDispute(disputeReference, 'won');
    await s.sandbox.webhooks.idle();
    const won = await h.call('GET', `/api/v1/disputes/${dispute.id}`);
    expect(won.body).toMatchObject({ status: 'won', gateway_status: 'won' });
    expect(won.body.closed_at).not.toBeNull();
    expect((await h.call('GET', `/api/v1/payments/${paymentId}/disputes`)).body).toMatchObject({ amount_disputed: '0.00', amount_disputed_minor: 0 });
    expect((await h.call('GET', `/api/v1/payments/${paymentId}`)).body.status).toBe('CAPTURED');
    const trail = await h.call('GET', `/api/v1/disputes/${dispute.id}/transitions`);
    expect(trail.body.data.map((t: any) => [t.from, t.to])).toEqual([
      [null, 'needs_response'],
      ['needs_response', 'under_review'],
      ['under_review', 'won'],
    ]);
    expect(trail.body.data[0]).toMatchObject({ object: 'dispute_transition', dispute_id: dispute.id, payment_id: paymentId, actor: 'webhook' });
    expect(await s.unacknowledged()).toEqual([]);
  });

  it('publishes dispute.created / updated / closed events valid against their schemas', async () => {
    const { paymentId, disputeReference } = await disputedPayment('15.00');
    s.sandbox.account.updateDispute(disputeReference, 'lost');
    await s.sandbox.webhooks.idle();
    const [dispute] = (await h.call('GET', `/api/v1/payments/${paymentId}/disputes`)).body.data;
    expect(dispute).toMatchObject({ status: 'lost', amount: '15.00' });
    // Lost: the amount is gone, and still counted as what the dispute took.
    expect((await h.call('GET', `/api/v1/payments/${paymentId}/disputes`)).body.amount_disputed).toBe('15.00');
    const schemas = eventJsonSchemas().tender;
    const ajv = new Ajv2020({ strict: false });
    const events: any[] = [];
    h.tender.events.on((e) => events.push(e));
    // A later change publishes its event; its document is valid against the schema of its type.
    const next = await disputedPayment('16.00');
    s.sandbox.account.updateDispute(next.disputeReference, 'under_review');
    await s.sandbox.webhooks.idle();
    const types = events.filter((e) => e.type.startsWith('dispute.')).map((e) => e.type);
    expect(types).toEqual(['dispute.created', 'dispute.updated']);
    for (const e of events.filter((x) => x.type.startsWith('dispute.'))) {
      const published = await h.call('GET', `/api/v1/events/${e.id}`);
      expect(published.status).toBe(200);
      const validate = ajv.compile(schemas[e.type]!);
      expect(validate(published.body), JSON.stringify(validate.errors)).toBe(true);
      expect(published.body.data).toMatchObject({ object: 'dispute', payment_id: next.paymentId });
    }
  });

  it("another merchant's dispute and payment are 404s, bad queries 400s, and reading needs payments:read", async () => {
    const { paymentId } = await disputedPayment('7.00');
    const [dispute] = (await h.call('GET', `/api/v1/payments/${paymentId}/disputes`)).body.data;
    for (const path of [`/api/v1/disputes/${dispute.id}`, `/api/v1/disputes/${dispute.id}/transitions`, `/api/v1/payments/${paymentId}/disputes`]) {
      const answer = await h.call('GET', path, { token: other });
      expect(answer.status, path).toBe(404);
      expect(answer.body.error.code).toBe('resource_missing');
    }
    expect((await h.call('GET', '/api/v1/disputes', { token: other })).body.data).toEqual([]);
    expect((await h.call('GET', '/api/v1/disputes/dp_unknown')).status).toBe(404);
    expect((await h.call('GET', '/api/v1/disputes?status=open')).body.error).toMatchObject({ param: 'status' });
    expect((await h.call('GET', '/api/v1/disputes?status=open')).status).toBe(400);
    expect((await h.call('GET', '/api/v1/disputes?limit=0')).body.error.code).toBe('invalid_limit');
    const writer = await h.token('m1', ['payments:write']);
    expect((await h.call('GET', '/api/v1/disputes', { token: writer })).status).toBe(403);
    const paged = await h.call('GET', '/api/v1/disputes?limit=1');
    expect(paged.body).toMatchObject({ has_more: true, next_cursor: paged.body.data[0].id });
    const rest = await h.call('GET', `/api/v1/disputes?limit=1&starting_after=${paged.body.next_cursor}`);
    expect(rest.body.data[0].id).not.toBe(paged.body.data[0].id);
  });
});
