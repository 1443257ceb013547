/**
 * What the gateway puts on the wire and how it reads Stripe's answers, checked against a loopback
 * server that records requests and answers with canned Stripe JSON.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpTransport, GATEWAY_OUTCOME_UNKNOWN, Money, TenderError } from '@tender/core';
import { createStripeGateway, STRIPE_API_VERSION, type StripeGateway } from '@tender/stripe';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
type Reply = { status: number; body: unknown; headers?: Record<string, string> };

let server: Server;
let gateway: StripeGateway;
const seen: Seen[] = [];
let replies: Reply[] = [];

const pi = (over: Record<string, unknown> = {}) => ({
  id: 'pi_123',
  object: 'payment_intent',
  amount: 10050,
  amount_capturable: 0,
  amount_received: 10050,
  currency: 'usd',
  status: 'succeeded',
  capture_method: 'automatic',
  client_secret: 'pi_123_secret_abc',
  created: 1700000000,
  canceled_at: null,
  cancellation_reason: null,
  description: null,
  last_payment_error: null,
  latest_charge: 'ch_1',
  livemode: false,
  metadata: {},
  next_action: null,
  payment_method: 'pm_card_visa',
  payment_method_types: ['card'],
  ...over,
});

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const reply = replies.length > 1 ? replies.shift()! : replies[0]!;
      res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': 'req_test', ...reply.headers }).end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  gateway = createStripeGateway({
    secretKey: 'sk_test_wire',
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 1000 }, circuit: { failureThreshold: 1000 } }),
  });
});
afterAll(async () => {
  await gateway.close();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
  replies = [{ status: 200, body: pi() }];
});

const ctx = (key = 'tender-key-1') => ({ idempotencyKey: key, now: new Date() });
const createInput = (over: Record<string, unknown> = {}) => ({
  paymentId: 'pay_01',
  merchantId: 'm1',
  orderId: 'ORD-1',
  amount: Money.of('100.50', 'USD'),
  captureMethod: 'automatic' as const,
  paymentMethod: 'pm_card_visa',
  description: 'Two mugs',
  customer: { email: 'a@example.com' },
  returnUrl: 'https://shop.example/r?a=1&b=2',
  notifyUrl: null,
  metadata: { cart: 'c 1' },
  ...over,
});

async function caught(promise: Promise<unknown>): Promise<TenderError> {
  try {
    await promise;
  } catch (error) {
    expect(TenderError.isInstance(error)).toBe(true);
    return error as TenderError;
  }
  throw new Error('expected a TenderError');
}

describe('request shaping', () => {
  it('create: pinned version, bearer key, idempotency key, Stripe form body with metadata, minor units', async () => {
    const result = await gateway.createPayment(createInput(), ctx());
    expect(result).toMatchObject({ status: 'CAPTURED', gatewayReference: 'pi_123' });
    expect(result.amountCaptured?.toString()).toBe('100.50');
    const [req] = seen;
    expect(req).toMatchObject({ method: 'POST', url: '/v1/payment_intents' });
    expect(req!.headers).toMatchObject({
      authorization: 'Bearer sk_test_wire',
      'stripe-version': STRIPE_API_VERSION,
      'idempotency-key': 'tender-key-1',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(req!.body).toBe(
      'amount=10050&currency=usd&capture_method=automatic&description=Two%20mugs&metadata[cart]=c%201&metadata[tender_payment_id]=pay_01' +
        '&metadata[tender_order_id]=ORD-1&payment_method=pm_card_visa&confirm=true&allowed_payment_method_types[0]=card&return_url=https%3A%2F%2Fshop.example%2Fr%3Fa%3D1%26b%3D2',
    );
    expect(req!.body).not.toContain('a%40example.com');
  });

  it('without a pm_ id: an unconfirmed PaymentIntent answered as REQUIRES_ACTION with the client secret', async () => {
    replies = [{ status: 200, body: pi({ status: 'requires_payment_method', amount_received: 0, latest_charge: null, payment_method: null }) }];
    const result = await gateway.createPayment(createInput({ paymentMethod: null, captureMethod: 'manual' }), ctx());
    expect(result).toMatchObject({ status: 'REQUIRES_ACTION', nextAction: { type: 'client_secret', clientSecret: 'pi_123_secret_abc' } });
    expect(seen[0]!.body).toContain('capture_method=manual');
    expect(seen[0]!.body).not.toContain('confirm');
  });

  it('capture sends amount_to_capture in minor units (JPY as is); retrieve is a GET without a key', async () => {
    replies = [{ status: 200, body: pi({ currency: 'jpy', amount: 5000, amount_received: 3000 }) }];
    const captured = await gateway.capture!({ paymentId: 'pay_01', gatewayReference: 'pi_123', amount: Money.of('3000', 'JPY'), authorizedAmount: Money.of('5000', 'JPY'), gatewayData: {} }, ctx('cap-1'));
    expect(captured.amountCaptured?.toString()).toBe('3000');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/payment_intents/pi_123/capture', body: 'amount_to_capture=3000' });
    expect(seen[0]!.headers['idempotency-key']).toBe('cap-1');
    replies = [{ status: 200, body: pi({ status: 'requires_capture', amount_received: 0, amount_capturable: 10050 }) }];
    const retrieved = await gateway.retrieve({ paymentId: 'pay_01', orderId: null, gatewayReference: 'pi_123', amount: Money.of('100.50', 'USD'), gatewayData: {} }, ctx());
    expect(retrieved.status).toBe('AUTHORIZED');
    expect(seen[1]).toMatchObject({ method: 'GET', url: '/v1/payment_intents/pi_123', body: '' });
    expect(seen[1]!.headers['idempotency-key']).toBeUndefined();
  });

  it('refund: Stripe reason enum passes, free text goes to metadata, Tender ids always in metadata', async () => {
    replies = [{ status: 200, body: { id: 're_1', object: 'refund', amount: 1000, currency: 'kwd', status: 'succeeded', payment_intent: 'pi_123', charge: 'ch_1', created: 1, metadata: { tender_refund_id: 'ref_1' }, reason: null } }];
    const refund = await gateway.refund({ refundId: 'ref_1', paymentId: 'pay_01', gatewayReference: 'pi_123', amount: Money.of('1', 'KWD'), capturedAmount: Money.of('5', 'KWD'), reason: 'fraudulent', gatewayData: {} }, ctx('rf-1'));
    expect(refund).toMatchObject({ status: 'SUCCEEDED', gatewayReference: 're_1', refundId: 'ref_1' });
    expect(refund.amount.toString()).toBe('1.000');
    expect(seen[0]!.body).toBe('payment_intent=pi_123&amount=1000&reason=fraudulent&metadata[tender_refund_id]=ref_1&metadata[tender_payment_id]=pay_01');
    await gateway.refund({ refundId: 'ref_2', paymentId: 'pay_01', gatewayReference: 'pi_123', amount: Money.of('1', 'KWD'), capturedAmount: Money.of('5', 'KWD'), reason: 'customer changed mind', gatewayData: {} }, ctx('rf-2'));
    expect(seen[1]!.body).toBe('payment_intent=pi_123&amount=1000&metadata[tender_refund_id]=ref_2&metadata[tender_payment_id]=pay_01&metadata[tender_reason]=customer%20changed%20mind');
  });

  it('hashes idempotency keys longer than Stripe allows (255), stably', async () => {
    const long = 'k'.repeat(300);
    await gateway.createPayment(createInput(), ctx(long));
    await gateway.createPayment(createInput(), ctx(long));
    const key = seen[0]!.headers['idempotency-key'] as string;
    expect(key.length).toBeLessThanOrEqual(255);
    expect(seen[1]!.headers['idempotency-key']).toBe(key);
  });
});

describe('Stripe error JSON', () => {
  it('a decline during create is a FAILED result with code, message and decline_code', async () => {
    const declined = pi({ status: 'requires_payment_method', amount_received: 0, last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'stolen_card', message: 'Your card was declined.' } });
    replies = [{ status: 402, body: { error: { type: 'card_error', code: 'card_declined', decline_code: 'stolen_card', message: 'Your card was declined.', payment_intent: declined } } }];
    const result = await gateway.createPayment(createInput(), ctx());
    expect(result).toMatchObject({ status: 'FAILED', gatewayReference: 'pi_123', failure: { code: 'card_declined', declineCode: 'stolen_card' } });
    expect(seen).toHaveLength(1);
  });

  it('maps idempotency, auth, rate-limit, parameter and server errors to typed TenderErrors', async () => {
    replies = [{ status: 400, body: { error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters' } } }];
    expect(await caught(gateway.createPayment(createInput(), ctx()))).toMatchObject({ type: 'idempotency_error', status: 422 });

    replies = [{ status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_****' } } }];
    expect(await caught(gateway.createPayment(createInput(), ctx()))).toMatchObject({ type: 'gateway_error', code: 'gateway_authentication_failed' });

    replies = [{ status: 400, body: { error: { type: 'invalid_request_error', code: 'amount_too_small', param: 'amount', message: 'Amount must be at least $0.50 usd' } } }];
    expect(await caught(gateway.createPayment(createInput(), ctx()))).toMatchObject({ type: 'invalid_request_error', code: 'amount_too_small', param: 'amount', status: 400 });

    replies = [{ status: 429, body: { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' } }, headers: { 'retry-after': '2' } }];
    expect(await caught(gateway.retrieve({ paymentId: 'p', orderId: null, gatewayReference: 'pi_123', amount: Money.of('1', 'USD'), gatewayData: {} }, ctx()))).toMatchObject({
      type: 'rate_limit_error',
      retryable: true,
    });

    replies = [{ status: 402, body: { error: { type: 'card_error', code: 'card_declined', decline_code: 'do_not_honor', message: 'Your card was declined.' } } }];
    const capture = await caught(gateway.capture!({ paymentId: 'p', gatewayReference: 'pi_123', amount: Money.of('1', 'USD'), authorizedAmount: Money.of('1', 'USD'), gatewayData: {} }, ctx()));
    expect(capture).toMatchObject({ type: 'gateway_error', code: 'card_declined', status: 402, details: { declineCode: 'do_not_honor' } });
  });

  it('a 409 idempotency conflict is retried with the same key, then reported as retryable', async () => {
    replies = [{ status: 409, body: { error: { type: 'invalid_request_error', code: 'idempotency_key_in_use', message: 'There is currently another in-progress request using this Idempotent Key' } } }];
    const error = await caught(gateway.refund({ refundId: 'r', paymentId: 'p', gatewayReference: 'pi_123', amount: Money.of('1', 'USD'), capturedAmount: Money.of('1', 'USD'), reason: null, gatewayData: {} }, ctx('rf-409')));
    expect(error).toMatchObject({ code: 'idempotency_key_in_use', retryable: true });
    expect(seen.length).toBe(3);
    expect(new Set(seen.map((s) => s.headers['idempotency-key']))).toEqual(new Set(['rf-409']));
  });

  it('a 409 that then succeeds yields the result', async () => {
    replies = [{ status: 409, body: { error: { type: 'invalid_request_error', code: 'lock_timeout', message: 'locked' } } }, { status: 200, body: pi() }];
    expect((await gateway.createPayment(createInput(), ctx())).status).toBe('CAPTURED');
    expect(seen).toHaveLength(2);
  });

  it('Stripe-Should-Retry: false stops at one attempt; a 5xx on a mutating call is outcome-unknown', async () => {
    replies = [{ status: 500, body: { error: { type: 'api_error', message: 'Something went wrong' } }, headers: { 'stripe-should-retry': 'false' } }];
    const error = await caught(gateway.createPayment(createInput(), ctx()));
    expect(error.code).toBe(GATEWAY_OUTCOME_UNKNOWN);
    expect(seen).toHaveLength(1);
  });

  it('Stripe-Should-Retry: true retries a status that would not be retried otherwise', async () => {
    replies = [{ status: 400, body: { error: { type: 'invalid_request_error', message: 'transient' } }, headers: { 'stripe-should-retry': 'true' } }, { status: 200, body: pi() }];
    expect((await gateway.createPayment(createInput(), ctx())).status).toBe('CAPTURED');
    expect(seen).toHaveLength(2);
  });

  it('retrieve of an unknown PaymentIntent is not_found_error', async () => {
    replies = [{ status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: "No such payment_intent: 'pi_x'" } } }];
    expect(await caught(gateway.retrieve({ paymentId: 'p', orderId: null, gatewayReference: 'pi_x', amount: Money.of('1', 'USD'), gatewayData: {} }, ctx()))).toMatchObject({ type: 'not_found_error' });
  });
});

describe('non-JSON answers', () => {
  it('a 502 HTML page on create is outcome-unknown, not a parse error', async () => {
    replies = [{ status: 502, body: '<html>Bad gateway</html>', headers: { 'stripe-should-retry': 'false' } }];
    const error = await caught(gateway.createPayment(createInput(), ctx()));
    expect(error.code).toBe(GATEWAY_OUTCOME_UNKNOWN);
  });
});
