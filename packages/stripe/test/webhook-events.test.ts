import { describe, expect, it } from 'vitest';
import { TenderError, type WebhookEvent } from '@tender/core';
import { createStripeGateway, signStripePayload } from '@tender/stripe';

const gateway = createStripeGateway({ secretKey: 'sk_test_x', webhookSecret: 'whsec_x', transport: {} as never });
const piObject = (status: string, over: Record<string, unknown> = {}) => ({
  id: 'pi_1',
  object: 'payment_intent',
  amount: 2000,
  amount_capturable: status === 'requires_capture' ? 2000 : 0,
  amount_received: status === 'succeeded' ? 2000 : 0,
  currency: 'usd',
  status,
  capture_method: 'automatic',
  client_secret: 'pi_1_secret_x',
  created: 1700000000,
  last_payment_error: null,
  latest_charge: 'ch_1',
  metadata: { tender_payment_id: 'pay_1', tender_order_id: 'ORD-1' },
  next_action: null,
  payment_method: 'pm_card_visa',
  ...over,
});
const refundObject = (status: string, metadata: Record<string, string> = {}) => ({
  id: 're_1',
  object: 'refund',
  amount: 500,
  currency: 'usd',
  charge: 'ch_1',
  payment_intent: 'pi_1',
  created: 1700000000,
  metadata,
  reason: null,
  status,
  ...(status === 'failed' ? { failure_reason: 'lost_or_stolen_card' } : {}),
});

function parse(type: string, object: Record<string, unknown>) {
  const body = JSON.stringify({ id: `evt_${type}`, object: 'event', api_version: '2026-10-28.endive', created: 1700000001, data: { object }, livemode: false, pending_webhooks: 1, request: null, type }, null, 2);
  const rawBody = new TextEncoder().encode(body);
  const headers = { 'stripe-signature': signStripePayload({ payload: body, secret: 'whsec_x' }) };
  gateway.verifyWebhook({ headers, rawBody }, new Date());
  return gateway.parseWebhook({ headers, rawBody });
}

describe('Stripe events -> Tender events', () => {
  it('maps PaymentIntent events to payment results found by Tender id and PaymentIntent id', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['payment_intent.succeeded', piObject('succeeded'), 'CAPTURED'],
      ['payment_intent.amount_capturable_updated', piObject('requires_capture', { capture_method: 'manual' }), 'AUTHORIZED'],
      ['payment_intent.canceled', piObject('canceled'), 'CANCELLED'],
      ['payment_intent.requires_action', piObject('requires_action', { next_action: { type: 'use_stripe_sdk' } }), 'REQUIRES_ACTION'],
      ['payment_intent.processing', piObject('processing'), 'PROCESSING'],
    ];
    for (const [type, object, status] of cases) {
      const parsed = parse(type, object);
      expect(parsed.acknowledgement).toMatchObject({ status: 200 });
      expect(parsed.events).toEqual([
        expect.objectContaining({ kind: 'payment', eventId: `evt_${type}`, paymentId: 'pay_1', orderId: 'ORD-1', gatewayReference: 'pi_1', occurredAt: '2023-11-14T22:13:21.000Z', result: expect.objectContaining({ status }) }),
      ]);
    }
    const action = parse('payment_intent.requires_action', piObject('requires_action', { next_action: { type: 'use_stripe_sdk' } })).events[0];
    expect(action).toMatchObject({ result: { nextAction: { type: 'client_secret', clientSecret: 'pi_1_secret_x', action: { type: 'use_stripe_sdk' } } } });
  });

  it('payment_intent.payment_failed is FAILED with the decline', () => {
    const failed = piObject('requires_payment_method', { last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } });
    expect(parse('payment_intent.payment_failed', failed).events[0]).toMatchObject({
      kind: 'payment',
      result: { status: 'FAILED', failure: { code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' } },
    });
  });

  it("a PaymentIntent Tender did not create (an invoice's attempt) is ignored until it takes money, then bound by its id", () => {
    const billing = { metadata: {} };
    const declined = piObject('requires_payment_method', { ...billing, last_payment_error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' } });
    expect(parse('payment_intent.payment_failed', declined).events).toEqual([expect.objectContaining({ kind: 'ignored', eventId: 'evt_payment_intent.payment_failed' })]);
    expect(parse('payment_intent.processing', piObject('processing', billing)).events[0]).toMatchObject({ kind: 'ignored' });
    expect(parse('payment_intent.succeeded', piObject('succeeded', billing)).events[0]).toMatchObject({ kind: 'payment', paymentId: null, gatewayReference: 'pi_1', result: { status: 'CAPTURED' } });
    // Tender's own PaymentIntent that failed is still a payment event.
    expect(parse('payment_intent.payment_failed', piObject('requires_payment_method', { last_payment_error: { type: 'card_error', code: 'card_declined', message: 'x' } })).events[0]).toMatchObject({ kind: 'payment', paymentId: 'pay_1' });
  });

  it('refund events carry the refund, Tender refund id when we made it, none for dashboard refunds', () => {
    expect(parse('refund.updated', refundObject('succeeded', { tender_refund_id: 'ref_9', tender_payment_id: 'pay_1' })).events[0]).toMatchObject({
      kind: 'refund',
      paymentId: 'pay_1',
      gatewayReference: 'pi_1',
      refund: { status: 'SUCCEEDED', gatewayReference: 're_1', refundId: 'ref_9' },
    });
    expect(parse('refund.created', refundObject('succeeded')).events[0]).toMatchObject({ kind: 'refund', paymentId: null, refund: { refundId: null } });
    expect(parse('refund.failed', refundObject('failed', { tender_refund_id: 'ref_9' })).events[0]).toMatchObject({
      kind: 'refund',
      refund: { status: 'FAILED', failure: { code: 'lost_or_stolen_card' } },
    });
  });

  it('charge.refunded: a note, or the refunds themselves when the charge embeds them', () => {
    const charge = { id: 'ch_1', object: 'charge', amount: 2000, amount_captured: 2000, amount_refunded: 500, currency: 'usd', captured: true, refunded: false, paid: true, status: 'succeeded', payment_intent: 'pi_1', metadata: { tender_payment_id: 'pay_1' } };
    expect(parse('charge.refunded', charge).events[0]).toMatchObject({ kind: 'note', type: 'charge.refunded', paymentId: 'pay_1', data: { amountRefunded: '5.00' } });
    const embedded = parse('charge.refunded', { ...charge, refunds: { object: 'list', data: [refundObject('succeeded')], has_more: false, url: '/v1/refunds' } }).events[0];
    expect(embedded).toMatchObject({ kind: 'payment', gatewayReference: 'pi_1', result: { status: 'PARTIALLY_REFUNDED', refunds: [{ gatewayReference: 're_1', status: 'SUCCEEDED' }] } });
  });

  it('charge.dispute.* becomes a dispute report bound by the PaymentIntent; one without amount or a known status a note', () => {
    const dispute = { id: 'dp_1', object: 'dispute', amount: 2000, currency: 'usd', charge: 'ch_1', payment_intent: 'pi_1', reason: 'fraudulent', status: 'needs_response', created: 1700000000, evidence_details: { due_by: 1700604800 } };
    const event = parse('charge.dispute.created', dispute).events[0] as Extract<WebhookEvent, { kind: 'dispute' }>;
    expect(event).toMatchObject({ kind: 'dispute', gatewayReference: 'pi_1', paymentId: null, type: 'charge.dispute.created' });
    expect({ ...event.dispute, amount: event.dispute.amount.toString(), currency: event.dispute.amount.currency }).toMatchObject({
      gatewayReference: 'dp_1',
      status: 'needs_response',
      gatewayStatus: 'needs_response',
      amount: '20.00',
      currency: 'USD',
      reason: 'fraudulent',
      openedAt: '2023-11-14T22:13:20.000Z',
      evidenceDueBy: '2023-11-21T22:13:20.000Z',
    });
    const prevented = parse('charge.dispute.closed', { ...dispute, status: 'prevented' }).events[0] as Extract<WebhookEvent, { kind: 'dispute' }>;
    expect(prevented.dispute.status).toBe('closed');
    expect(parse('charge.dispute.updated', { ...dispute, status: 'mystery' }).events[0]).toMatchObject({ kind: 'note', gatewayReference: 'pi_1', data: { disputeId: 'dp_1' } });
  });

  it('subscription and invoice events carry the object id and type only, for the engine to requery', () => {
    const subscription = { id: 'sub_1Q0abc', object: 'subscription', status: 'active', customer: 'cus_1', metadata: { tender_subscription_id: 'subs_1' } };
    const invoice = { id: 'in_1Q0abc', object: 'invoice', status: 'paid', customer: 'cus_1', amount_paid: 999, currency: 'usd' };
    for (const type of ['customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted', 'customer.subscription.trial_will_end']) {
      expect(parse(type, subscription).events).toEqual([{ kind: 'subscription', eventId: `evt_${type}`, gatewayReference: 'sub_1Q0abc', type }]);
    }
    for (const type of ['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_failed', 'invoice.voided']) {
      expect(parse(type, invoice).events).toEqual([{ kind: 'invoice', eventId: `evt_${type}`, gatewayReference: 'in_1Q0abc', type }]);
    }
    expect(() => parse('invoice.paid', { ...invoice, id: 'pi_1' })).toThrow(expect.objectContaining({ code: 'invalid_webhook_payload', param: 'data.object.id' }));
  });

  it('other event types are verified but ignored; a non-event body is rejected', () => {
    expect(parse('customer.created', { id: 'cus_1', object: 'customer' }).events[0]).toMatchObject({ kind: 'ignored' });
    const rawBody = new TextEncoder().encode('{"hello":1}');
    expect(() => gateway.parseWebhook({ headers: {}, rawBody })).toThrow(TenderError);
  });
});
