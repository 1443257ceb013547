/**
 * PayPal webhook events → Tender's events, from the sandbox's own (realistic) events: what each type
 * becomes, how it binds to a payment (only through signed data), and what is ignored or refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Money, type WebhookEvent } from '@tender/core';
import type { PayPalGateway } from '@tender/paypal';
import type { PayPalSandbox, SandboxEvent } from '@tender/paypal/sandbox';
import { sandboxAndGateway } from './helpers';

let env: { sandbox: PayPalSandbox; gateway: PayPalGateway; close(): Promise<void> };
const events: SandboxEvent[] = [];

beforeAll(async () => {
  env = await sandboxAndGateway();
  env.sandbox.account.onEvent((e) => events.push(e));
});
afterAll(() => env.close());

const parse = (body: unknown) => env.gateway.parseWebhook({ headers: {}, rawBody: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)) });
const last = (type: string) => [...events].reverse().find((e) => e.event_type === type)!;

function paidOrder(paymentId: string, value = '30.00', intent: 'CAPTURE' | 'AUTHORIZE' = 'CAPTURE') {
  const order = env.sandbox.account.createOrder({ intent, purchase_units: [{ reference_id: paymentId, custom_id: paymentId, amount: { currency_code: 'USD', value } }] });
  env.sandbox.account.approve(order.id as string);
  env.sandbox.account.completeOrder(order.id as string, intent === 'CAPTURE' ? 'capture' : 'authorize');
  return env.sandbox.account.orders.get(order.id as string)!;
}

describe('PayPal webhook events', () => {
  it('CHECKOUT.ORDER.APPROVED is a requery bound to the order and payment (retrieve captures it); the ack is 200', async () => {
    const order = env.sandbox.account.createOrder({ intent: 'CAPTURE', purchase_units: [{ custom_id: 'pay_approved1', amount: { currency_code: 'USD', value: '5.00' } }] });
    env.sandbox.account.approve(order.id as string);
    const parsed = await parse(last('CHECKOUT.ORDER.APPROVED'));
    expect(parsed.acknowledgement.status).toBe(200);
    expect(parsed.events).toEqual([{ kind: 'requery', eventId: last('CHECKOUT.ORDER.APPROVED').id, gatewayReference: order.id, paymentId: 'pay_approved1', reason: 'PayPal CHECKOUT.ORDER.APPROVED' }]);
  });

  it('PAYMENT.CAPTURE.COMPLETED is CAPTURED with the captured amount, bound by custom_id and the order id', async () => {
    const order = paidOrder('pay_cap1', '30.00');
    const [event] = (await parse(last('PAYMENT.CAPTURE.COMPLETED'))).events;
    expect(event).toMatchObject({ kind: 'payment', paymentId: 'pay_cap1', gatewayReference: order.id, result: { status: 'CAPTURED', gatewayData: { captureId: order.captureIds[0] } } });
    expect((event as { result: { amountCaptured: Money } }).result.amountCaptured.equals(Money.of('30.00', 'USD'))).toBe(true);
    expect((event as { occurredAt?: string }).occurredAt).toMatch(/Z$/);
  });

  it('PENDING is PROCESSING; DECLINED and DENIED are FAILED with a reason', async () => {
    const capture = { ...last('PAYMENT.CAPTURE.COMPLETED') };
    const as = (type: string, status: string) => ({ ...capture, id: `WH-${type}`, event_type: type, resource: { ...capture.resource, status, status_details: { reason: 'PENDING_REVIEW' } } });
    expect((await parse(as('PAYMENT.CAPTURE.PENDING', 'PENDING'))).events[0]).toMatchObject({ kind: 'payment', result: { status: 'PROCESSING' } });
    expect((await parse(as('PAYMENT.CAPTURE.DECLINED', 'DECLINED'))).events[0]).toMatchObject({ kind: 'payment', result: { status: 'FAILED', failure: { code: expect.any(String) } } });
    expect((await parse(as('PAYMENT.CAPTURE.DENIED', 'DENIED'))).events[0]).toMatchObject({ kind: 'payment', result: { status: 'FAILED' } });
  });

  it('authorization CREATED is AUTHORIZED (with the amount to check), VOIDED is CANCELLED', async () => {
    const order = paidOrder('pay_auth1', '12.00', 'AUTHORIZE');
    const created = (await parse(last('PAYMENT.AUTHORIZATION.CREATED'))).events[0] as { kind: string; result: { status: string; amount: Money } };
    expect(created).toMatchObject({ kind: 'payment', paymentId: 'pay_auth1', gatewayReference: order.id, result: { status: 'AUTHORIZED', gatewayData: { authorizationId: order.authorizationIds[0] } } });
    expect(created.result.amount.equals(Money.of('12.00', 'USD'))).toBe(true);
    env.sandbox.account.voidAuthorization(order.authorizationIds[0]!);
    expect((await parse(last('PAYMENT.AUTHORIZATION.VOIDED'))).events[0]).toMatchObject({ kind: 'payment', paymentId: 'pay_auth1', result: { status: 'CANCELLED' } });
  });

  it('PAYMENT.CAPTURE.REFUNDED: Tender refunds bind by custom_id; dashboard refunds through the signed capture id', async () => {
    const order = paidOrder('pay_ref1', '50.00');
    const captureId = order.captureIds[0]!;
    env.sandbox.account.refundCapture(captureId, { amount: { currency_code: 'USD', value: '10.00' }, custom_id: 'pay_ref1', invoice_id: 're_tender1' });
    expect((await parse(last('PAYMENT.CAPTURE.REFUNDED'))).events[0]).toMatchObject({ kind: 'refund', paymentId: 'pay_ref1', refund: { status: 'SUCCEEDED', refundId: 're_tender1' } });
    const before = env.sandbox.requests.length;
    env.sandbox.dashboard.refund(captureId, '5.00');
    const [dashboard] = (await parse(last('PAYMENT.CAPTURE.REFUNDED'))).events;
    expect(dashboard).toMatchObject({ kind: 'refund', paymentId: 'pay_ref1', gatewayReference: order.id, refund: { status: 'SUCCEEDED', refundId: null } });
    expect((dashboard as { refund: { amount: Money } }).refund.amount.equals(Money.of('5.00', 'USD'))).toBe(true);
    expect(env.sandbox.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toContain(`GET /v2/payments/captures/${captureId}`);
  });

  it('a refund of a capture PayPal does not know, or that is not Tender\'s, is ignored', async () => {
    const refund = last('PAYMENT.CAPTURE.REFUNDED');
    const foreign = { ...refund, id: 'WH-foreign', resource: { ...refund.resource, custom_id: undefined, links: [{ href: `${env.sandbox.url}/v2/payments/captures/UNKNOWNCAPTURE1`, rel: 'up', method: 'GET' }] } };
    expect((await parse(foreign)).events[0]).toMatchObject({ kind: 'ignored', eventId: 'WH-foreign' });
    // custom_id that is no Tender payment id never binds.
    const order = env.sandbox.account.createOrder({ intent: 'CAPTURE', purchase_units: [{ custom_id: 'someone-else', amount: { currency_code: 'USD', value: '1.00' } }] });
    env.sandbox.account.approve(order.id as string);
    expect((await parse(last('CHECKOUT.ORDER.APPROVED'))).events[0]).toMatchObject({ kind: 'requery', paymentId: null, gatewayReference: order.id });
  });

  it('disputes are dispute reports bound through the disputed capture (a note when unreadable); other event types are ignored; unusable bodies are 400s', async () => {
    const order = paidOrder('pay_disp1', '20.00');
    env.sandbox.dashboard.dispute(order.captureIds[0]!);
    const created = last('CUSTOMER.DISPUTE.CREATED');
    const event = (await parse(created)).events[0] as Extract<WebhookEvent, { kind: 'dispute' }>;
    expect(event).toMatchObject({ kind: 'dispute', type: 'CUSTOMER.DISPUTE.CREATED', paymentId: 'pay_disp1', gatewayReference: order.id });
    expect({ ...event.dispute, amount: event.dispute.amount.toString() }).toMatchObject({ gatewayReference: created.resource.dispute_id, status: 'warning_needs_response', gatewayStatus: 'OPEN/INQUIRY', amount: '20.00' });
    const unreadable = { ...created, id: 'WH-unreadable', resource: { ...created.resource, status: 'SOMETHING_NEW' } };
    expect((await parse(unreadable)).events[0]).toMatchObject({ kind: 'note', paymentId: 'pay_disp1', data: { captureId: order.captureIds[0], status: 'SOMETHING_NEW' } });
    expect((await parse({ id: 'WH-x', event_type: 'BILLING.PLAN.CREATED', resource: {} })).events).toEqual([{ kind: 'ignored', eventId: 'WH-x', reason: "PayPal event type 'BILLING.PLAN.CREATED' is not used by Tender" }]);
    await expect(parse('not json')).rejects.toMatchObject({ code: 'invalid_webhook_payload', status: 400 });
    await expect(parse({ event_type: 'PAYMENT.CAPTURE.COMPLETED', resource: {} })).rejects.toMatchObject({ code: 'invalid_webhook_payload' });
    // A capture event missing the amount, still naming its payment: requery.
    const capture = last('PAYMENT.CAPTURE.COMPLETED');
    expect((await parse({ ...capture, id: 'WH-noamount', resource: { ...capture.resource, amount: undefined } })).events[0]).toMatchObject({ kind: 'requery', paymentId: 'pay_disp1' });
  });
});
