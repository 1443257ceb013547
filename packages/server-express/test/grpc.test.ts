/**
 * The gRPC API (tender.payments.v1.PaymentService), driven by a real @grpc/grpc-js client generated from the shipped proto,
 * against `startTenderServer` in simulation mode (Stripe and PayPal sandboxes on loopback) with
 * GRPC_PORT set: the same payments as REST, the same tokens, scopes, merchants and idempotency
 * keys, and every failure a gRPC status with the REST error's code.
 */
import { Writable } from 'node:stream';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { PAYMENT_STATUSES, REFUND_STATUSES } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { approveOrder } from '@tender/paypal/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { ConfigError, loadConfig } from '../src/config';
import { loadPaymentServiceDefinition } from '../src/grpc/proto';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';
import { healthClient, paymentClient, reflectionClient, richStatus, text, type Answer, type PaymentClient } from './grpc-client';

const SECRET = 'grpc-secret-grpc-secret-grpc-secret-0123456789';
let server: TenderServer;
let grpc: PaymentClient;
let token: string;

beforeAll(async () => {
  server = await startTenderServer({
    store: new MemoryStore(),
    logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    env: { PORT: '0', GRPC_PORT: '0', TENDER_SIMULATION: '1', JWT_SECRET: SECRET, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h' },
  });
  token = await signToken({ secret: SECRET, merchantId: 'shop' });
  grpc = paymentClient(server.grpcAddress!, token);
});
afterAll(async () => {
  grpc?.close();
  await server?.close();
});

const rest = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};

function ok(answer: Answer): any {
  if (answer.error) throw new Error(`expected success, got ${Status[answer.error.code]}: ${answer.error.details} (${text(answer.error.metadata, 'error-code')})`);
  return answer.response;
}

/** The REST JSON of a payment and the gRPC message of the same payment say the same thing. */
function expectParity(json: any, message: any): void {
  const orEmpty = (v: unknown) => (v === null || v === undefined ? '' : v);
  expect(message).toMatchObject({
    id: json.id,
    status: `PAYMENT_STATUS_${json.status}`,
    amount: json.amount,
    amount_minor: String(json.amount_minor),
    currency: json.currency,
    gateway: json.gateway,
    gateway_reference: orEmpty(json.gateway_reference),
    order_id: orEmpty(json.order_id),
    payment_method: orEmpty(json.payment_method),
    capture_method: `CAPTURE_METHOD_${String(json.capture_method).toUpperCase()}`,
    amount_captured: json.amount_captured,
    amount_refunded: json.amount_refunded,
    description: orEmpty(json.description),
    return_url: orEmpty(json.return_url),
    notify_url: orEmpty(json.notify_url),
    cancellation_requested_at: orEmpty(json.cancellation_requested_at),
    metadata: json.metadata,
    created_at: json.created_at,
    updated_at: json.updated_at,
  });
  expect(message.customer ?? { name: '', email: '', phone: '' }).toEqual({ name: orEmpty(json.bill_name), email: orEmpty(json.bill_email), phone: orEmpty(json.bill_mobile) });
  expect(message.failure).toEqual(json.failure === null ? null : { code: json.failure.code, message: json.failure.message, decline_code: orEmpty(json.failure.decline_code) });
  if (json.next_action === null) expect(message.next_action).toBeNull();
  else expect(message.next_action).toMatchObject({ type: json.next_action.type, url: orEmpty(json.next_action.url) });
}

function expectRefundParity(json: any, message: any): void {
  expect(message).toMatchObject({
    id: json.id,
    payment_id: json.payment_id,
    status: `REFUND_STATUS_${json.status}`,
    amount: json.amount,
    amount_minor: String(json.amount_minor),
    currency: json.currency,
    reason: json.reason ?? '',
    gateway_reference: json.gateway_reference ?? '',
    metadata: json.metadata,
    created_at: json.created_at,
    updated_at: json.updated_at,
  });
}

const card = (extra: Record<string, unknown> = {}) => ({
  amount: '25.00',
  currency: 'MYR',
  payment_method: 'pm_card_visa',
  gateway: 'stripe',
  order_id: 'ORD-G1',
  customer: { name: 'Jane Doe', email: 'jane@example.com', phone: '+60123456789' },
  description: 'Two coffees',
  return_url: 'https://shop.example/back',
  metadata: { cart: 'c-1' },
  ...extra,
});

async function paymentIds(): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await rest('GET', `/api/v1/payments?limit=100${cursor ? `&starting_after=${cursor}` : ''}`);
    ids.push(...page.body.data.map((p: any) => p.id));
    cursor = page.body.next_cursor;
  } while (cursor);
  return ids;
}

describe('gRPC PaymentService: the REST API over gRPC', () => {
  it('is served on GRPC_PORT beside the HTTP API, on the same host', () => {
    expect(server.grpcPort).toBeGreaterThan(0);
    expect(server.grpcAddress).toBe(`127.0.0.1:${server.grpcPort}`);
    expect(server.grpcPort).not.toBe(Number(new URL(server.url).port));
  });

  it('CreatePayment charges a card, and the payment reads the same over gRPC and REST', async () => {
    const created = ok(await grpc.call('CreatePayment', card()));
    expect(created.payment).toMatchObject({ status: 'PAYMENT_STATUS_CAPTURED', gateway: 'stripe', amount: '25.00', amount_minor: '2500', capture_method: 'CAPTURE_METHOD_AUTOMATIC', refunds: [] });
    expect(created.payment.gateway_reference).toMatch(/^pi_/);
    const viaRest = await rest('GET', `/api/v1/payments/${created.payment.id}`);
    expect(viaRest.status).toBe(200);
    expectParity(viaRest.body, created.payment);
    const got = ok(await grpc.call('GetPayment', { payment_id: created.payment.id }));
    expectParity(viaRest.body, got.payment);
    expect(got.payment.customer).toEqual({ name: 'Jane Doe', email: 'jane@example.com', phone: '+60123456789' });
  });

  it('a declined card is a FAILED payment (as over REST), not an error', async () => {
    const declined = ok(await grpc.call('CreatePayment', card({ payment_method: 'pm_card_chargeDeclined', order_id: 'ORD-DECLINED' })));
    expect(declined.payment.status).toBe('PAYMENT_STATUS_FAILED');
    expect(declined.payment.failure.code).toBeTruthy();
    expectParity((await rest('GET', `/api/v1/payments/${declined.payment.id}`)).body, declined.payment);
  });

  it('AuthorizePayment only authorises; CapturePayment captures part of it; RefundPayment refunds in minor units', async () => {
    const authorized = ok(await grpc.call('AuthorizePayment', card({ amount: '40.00', order_id: 'ORD-AUTH' })));
    expect(authorized.payment).toMatchObject({ status: 'PAYMENT_STATUS_AUTHORIZED', capture_method: 'CAPTURE_METHOD_MANUAL', amount_captured: '0.00' });
    const id = authorized.payment.id;
    expectParity((await rest('GET', `/api/v1/payments/${id}`)).body, authorized.payment);

    const captured = ok(await grpc.call('CapturePayment', { payment_id: id, amount: '30.00' }));
    expect(captured.payment).toMatchObject({ id, status: 'PAYMENT_STATUS_CAPTURED', amount_captured: '30.00' });

    const refunded = ok(await grpc.call('RefundPayment', { payment_id: id, amount_minor: 1050, reason: 'one coffee spilt', metadata: { ticket: 'T-9' } }));
    expect(refunded.refund).toMatchObject({ payment_id: id, status: 'REFUND_STATUS_SUCCEEDED', amount: '10.50', amount_minor: '1050', currency: 'MYR', reason: 'one coffee spilt', metadata: { ticket: 'T-9' } });
    const restRefunds = await rest('GET', `/api/v1/payments/${id}/refunds`);
    expect(restRefunds.body.data).toHaveLength(1);
    expectRefundParity(restRefunds.body.data[0], refunded.refund);

    const after = ok(await grpc.call('GetPayment', { payment_id: id }));
    expect(after.payment).toMatchObject({ status: 'PAYMENT_STATUS_PARTIALLY_REFUNDED', amount_refunded: '10.50' });
    expect(after.payment.refunds).toHaveLength(1);
    expectRefundParity(restRefunds.body.data[0], after.payment.refunds[0]);
    expectParity((await rest('GET', `/api/v1/payments/${id}`)).body, after.payment);
  });

  it('CreatePayment with CAPTURE_METHOD_MANUAL is AuthorizePayment', async () => {
    const created = ok(await grpc.call('CreatePayment', card({ capture_method: 'CAPTURE_METHOD_MANUAL', order_id: 'ORD-MANUAL' })));
    expect(created.payment).toMatchObject({ status: 'PAYMENT_STATUS_AUTHORIZED', capture_method: 'CAPTURE_METHOD_MANUAL' });
  });

  it("GetPaymentStatus asks the gateway: an approved PayPal order completes from PayPal's answer, as REST /status", async () => {
    const created = ok(await grpc.call('CreatePayment', { amount: '9.00', currency: 'USD', payment_method: 'paypal', return_url: 'https://shop.example/back' }));
    expect(created.payment.status).toBe('PAYMENT_STATUS_REQUIRES_ACTION');
    expect(created.payment.next_action).toMatchObject({ type: 'redirect' });
    await approveOrder(created.payment.next_action.url, 'approve');
    // Requeried at most once per payment every 2 s (webhooks may complete it first): poll until done.
    let payment = created.payment;
    const end = Date.now() + 10_000;
    while (payment.status !== 'PAYMENT_STATUS_CAPTURED' && Date.now() < end) {
      payment = ok(await grpc.call('GetPaymentStatus', { payment_id: created.payment.id })).payment;
      if (payment.status !== 'PAYMENT_STATUS_CAPTURED') await new Promise((r) => setTimeout(r, 200));
    }
    expect(payment).toMatchObject({ status: 'PAYMENT_STATUS_CAPTURED', amount_captured: '9.00', gateway: 'paypal' });
    const viaRest = await rest('GET', `/api/v1/payments/${created.payment.id}/status`);
    const again = ok(await grpc.call('GetPaymentStatus', { payment_id: created.payment.id })).payment;
    expectParity(viaRest.body, again);
  });

  it('serves next_action members that are objects as google.protobuf.Struct (Stripe 3-D Secure)', async () => {
    const created = ok(await grpc.call('CreatePayment', card({ payment_method: 'pm_card_authenticationRequired', order_id: 'ORD-3DS' })));
    expect(created.payment.status).toBe('PAYMENT_STATUS_REQUIRES_ACTION');
    const json = (await rest('GET', `/api/v1/payments/${created.payment.id}`)).body;
    expectParity(json, created.payment);
    const action = created.payment.next_action;
    expect(json.next_action.type).toBe('client_secret');
    expect(action).toMatchObject({ type: 'client_secret', client_secret: json.next_action.client_secret });
    // The Struct decodes to the very object REST answers.
    const plain = (value: any): unknown => {
      switch (value.kind) {
        case 'structValue':
          return fromStruct(value.structValue);
        case 'listValue':
          return value.listValue.values.map(plain);
        case 'nullValue':
          return null;
        default:
          return value[value.kind];
      }
    };
    const fromStruct = (struct: any): Record<string, unknown> => Object.fromEntries(Object.entries(struct.fields).map(([k, v]) => [k, plain(v)]));
    expect(fromStruct(action.action)).toEqual(json.next_action.action);
  });
});

describe('gRPC idempotency: the idempotency-key metadata is REST’s Idempotency-Key', () => {
  it('replays the same request with the same key: the same payment, idempotent-replayed: true, one payment made', async () => {
    const before = (await paymentIds()).length;
    const first = await grpc.call('CreatePayment', card({ order_id: 'ORD-IDEM' }), { 'idempotency-key': 'grpc-idem-1' });
    expect(ok(first).payment.status).toBe('PAYMENT_STATUS_CAPTURED');
    expect(text(first.headers, 'idempotent-replayed')).toBeUndefined();
    const second = await grpc.call('CreatePayment', card({ order_id: 'ORD-IDEM' }), { 'idempotency-key': 'grpc-idem-1' });
    expect(ok(second).payment.id).toBe(first.response.payment.id);
    expect(text(second.headers, 'idempotent-replayed')).toBe('true');
    expect(text(second.trailers, 'idempotent-replayed')).toBe('true');
    // The key is the merchant's, whichever API used it: REST replays it too.
    const viaRest = await rest(
      'POST',
      '/api/v1/payments',
      { amount: '25.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', order_id: 'ORD-IDEM', bill_name: 'Jane Doe', bill_email: 'jane@example.com', bill_mobile: '+60123456789', bill_description: 'Two coffees', return_url: 'https://shop.example/back', metadata: { cart: 'c-1' } },
      { 'idempotency-key': 'grpc-idem-1' },
    );
    expect(viaRest.body.id).toBe(first.response.payment.id);
    expect(viaRest.headers.get('idempotent-replayed')).toBe('true');
    expect((await paymentIds()).length).toBe(before + 1);
  });

  it('refuses the same key with another request: ALREADY_EXISTS idempotency_key_reused, nothing made', async () => {
    await grpc.call('CreatePayment', card({ order_id: 'ORD-REUSE' }), { 'idempotency-key': 'grpc-idem-2' });
    const before = (await paymentIds()).length;
    const reused = await grpc.call('CreatePayment', card({ order_id: 'ORD-REUSE', amount: '26.00' }), { 'idempotency-key': 'grpc-idem-2' });
    expect(reused.error?.code).toBe(Status.ALREADY_EXISTS);
    expect(text(reused.error!.metadata, 'error-code')).toBe('idempotency_key_reused');
    expect(text(reused.error!.metadata, 'error-type')).toBe('idempotency_error');
    expect(text(reused.error!.metadata, 'error-param')).toBe('idempotency-key');
    expect(richStatus(reused.error!.metadata)?.details.ErrorInfo).toMatchObject({ reason: 'idempotency_key_reused', domain: 'tender' });
    expect((await paymentIds()).length).toBe(before);
  });

  it('validates the key as REST does: INVALID_ARGUMENT naming idempotency-key', async () => {
    const before = (await paymentIds()).length;
    const long = await grpc.call('CreatePayment', card(), { 'idempotency-key': 'k'.repeat(256) });
    expect(long.error?.code).toBe(Status.INVALID_ARGUMENT);
    expect(text(long.error!.metadata, 'error-code')).toBe('invalid_idempotency_key');
    expect(text(long.error!.metadata, 'error-param')).toBe('idempotency-key');
    expect((await paymentIds()).length).toBe(before);
  });

  it('keys capture and refund calls too', async () => {
    const authorized = ok(await grpc.call('AuthorizePayment', card({ order_id: 'ORD-IDEM-CAP' })));
    const id = authorized.payment.id;
    const capture = () => grpc.call('CapturePayment', { payment_id: id }, { 'idempotency-key': 'grpc-cap-1' });
    expect(ok(await capture()).payment.status).toBe('PAYMENT_STATUS_CAPTURED');
    const replay = await capture();
    expect(ok(replay).payment.status).toBe('PAYMENT_STATUS_CAPTURED');
    expect(text(replay.headers, 'idempotent-replayed')).toBe('true');
    const refund = () => grpc.call('RefundPayment', { payment_id: id, amount: '5.00' }, { 'idempotency-key': 'grpc-ref-1' });
    const r1 = ok(await refund());
    const r2 = await refund();
    expect(ok(r2).refund.id).toBe(r1.refund.id);
    expect(text(r2.headers, 'idempotent-replayed')).toBe('true');
    expect((await rest('GET', `/api/v1/payments/${id}/refunds`)).body.data).toHaveLength(1);
  });
});

describe('gRPC auth: the REST tokens, scopes and merchants', () => {
  const codeOf = (answer: Answer) => [answer.error?.code, answer.error ? text(answer.error.metadata, 'error-code') : undefined];

  it('refuses a call without a token, with a malformed one, with a forged one and with an expired one: UNAUTHENTICATED', async () => {
    const anonymous = paymentClient(server.grpcAddress!);
    try {
      expect(codeOf(await anonymous.call('GetPayment', { payment_id: 'pay_x' }))).toEqual([Status.UNAUTHENTICATED, 'missing_token']);
      expect(codeOf(await anonymous.call('GetPayment', { payment_id: 'pay_x' }, { authorization: 'Bearer not-a-jwt' }))).toEqual([Status.UNAUTHENTICATED, 'invalid_token']);
      expect(codeOf(await anonymous.call('GetPayment', { payment_id: 'pay_x' }, { authorization: token }))).toEqual([Status.UNAUTHENTICATED, 'invalid_token']);
      const forged = await signToken({ secret: 'another-secret-another-secret-another-0123', merchantId: 'shop' });
      expect(codeOf(await anonymous.call('GetPayment', { payment_id: 'pay_x' }, { authorization: `Bearer ${forged}` }))).toEqual([Status.UNAUTHENTICATED, 'invalid_token']);
      const expired = await signToken({ secret: SECRET, merchantId: 'shop', expiresIn: -60 });
      expect(codeOf(await anonymous.call('GetPayment', { payment_id: 'pay_x' }, { authorization: `Bearer ${expired}` }))).toEqual([Status.UNAUTHENTICATED, 'token_expired']);
      // Refused before anything is read or written.
      const before = (await paymentIds()).length;
      expect(codeOf(await anonymous.call('CreatePayment', card()))).toEqual([Status.UNAUTHENTICATED, 'missing_token']);
      expect((await paymentIds()).length).toBe(before);
    } finally {
      anonymous.close();
    }
  });

  it('refuses a call the token has no scope for: PERMISSION_DENIED insufficient_scope', async () => {
    const reader = paymentClient(server.grpcAddress!, await signToken({ secret: SECRET, merchantId: 'shop', scopes: ['payments:read'] }));
    const writer = paymentClient(server.grpcAddress!, await signToken({ secret: SECRET, merchantId: 'shop', scopes: ['payments:write'] }));
    try {
      const before = (await paymentIds()).length;
      expect(codeOf(await reader.call('CreatePayment', card()))).toEqual([Status.PERMISSION_DENIED, 'insufficient_scope']);
      expect(codeOf(await reader.call('AuthorizePayment', card()))).toEqual([Status.PERMISSION_DENIED, 'insufficient_scope']);
      expect((await paymentIds()).length).toBe(before);
      const created = ok(await writer.call('CreatePayment', card({ order_id: 'ORD-SCOPE' })));
      expect(codeOf(await writer.call('GetPayment', { payment_id: created.payment.id }))).toEqual([Status.PERMISSION_DENIED, 'insufficient_scope']);
      expect(codeOf(await writer.call('RefundPayment', { payment_id: created.payment.id }))).toEqual([Status.PERMISSION_DENIED, 'insufficient_scope']);
      expect(ok(await reader.call('GetPayment', { payment_id: created.payment.id })).payment.status).toBe('PAYMENT_STATUS_CAPTURED');
      expect(ok(await grpc.call('GetPayment', { payment_id: created.payment.id })).payment.amount_refunded).toBe('0.00');
    } finally {
      reader.close();
      writer.close();
    }
  });

  it("answers NOT_FOUND for another merchant's payment, whatever the call, and changes nothing", async () => {
    const authorized = ok(await grpc.call('AuthorizePayment', card({ order_id: 'ORD-MINE' })));
    const id = authorized.payment.id;
    const other = paymentClient(server.grpcAddress!, await signToken({ secret: SECRET, merchantId: 'other-shop' }));
    try {
      for (const [method, request] of [
        ['GetPayment', { payment_id: id }],
        ['GetPaymentStatus', { payment_id: id }],
        ['CapturePayment', { payment_id: id }],
        ['CapturePayment', { payment_id: id, amount_minor: 100 }],
        ['RefundPayment', { payment_id: id }],
      ] as const) {
        const answer = await other.call(method, request);
        expect(codeOf(answer), method).toEqual([Status.NOT_FOUND, 'resource_missing']);
        expect(answer.error!.details).not.toContain('other-shop');
      }
    } finally {
      other.close();
    }
    expect(ok(await grpc.call('GetPayment', { payment_id: id })).payment).toMatchObject({ status: 'PAYMENT_STATUS_AUTHORIZED', amount_captured: '0.00', refunds: [] });
  });
});

describe('gRPC bad input: INVALID_ARGUMENT with details, nothing created', () => {
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ['a currency that is no ISO 4217 code', card({ currency: 'XX' }), 'currency', 'parameter_invalid'],
    ['an unknown currency', card({ currency: 'XXQ' }), 'currency', 'invalid_currency'],
    ['no currency', card({ currency: '' }), 'currency', 'parameter_missing'],
    ['an amount that is no number', card({ amount: 'ten' }), 'amount', ''],
    ['a negative amount', card({ amount: '-5.00' }), 'amount', ''],
    ['more decimals than the currency has', card({ amount: '1.001' }), 'amount', ''],
    ['a negative amount_minor', card({ amount: '', amount_minor: -100 }), 'amount_minor', 'parameter_invalid'],
    ['no amount at all', card({ amount: '' }), 'amount', ''],
    ['an unknown capture_method value', card({ capture_method: 7 }), 'capture_method', 'parameter_invalid'],
    ['a customer e-mail past its limit', card({ customer: { email: `${'a'.repeat(300)}@example.com` } }), 'customer.email', 'parameter_invalid'],
    ['control characters in the order id', card({ order_id: 'ORD\u0000-1' }), 'order_id', 'parameter_invalid'],
    ['51 metadata pairs', card({ metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }), 'metadata', 'invalid_metadata'],
  ];

  it.each(cases)('refuses %s', async (_name, request, param, code) => {
    const before = await paymentIds();
    const answer = await grpc.call('CreatePayment', request);
    expect(answer.error?.code, answer.error?.details).toBe(Status.INVALID_ARGUMENT);
    const trailers = answer.error!.metadata;
    expect(text(trailers, 'error-type')).toBe('invalid_request_error');
    expect(text(trailers, 'error-param')).toBe(param);
    if (code) expect(text(trailers, 'error-code')).toBe(code);
    const rich = richStatus(trailers);
    expect(rich).toMatchObject({ code: Status.INVALID_ARGUMENT, message: answer.error!.details });
    expect(rich!.details.ErrorInfo).toMatchObject({ reason: text(trailers, 'error-code'), domain: 'tender', metadata: { type: 'invalid_request_error', param } });
    expect(rich!.details.BadRequest.field_violations).toEqual([{ field: param, description: answer.error!.details, reason: text(trailers, 'error-code') }]);
    expect(await paymentIds()).toEqual(before);
  });

  it('names the proto field in the message, never echoes secrets or the rest of the request', async () => {
    const answer = await grpc.call('CreatePayment', card({ customer: { name: 'Jane', email: `${'a'.repeat(300)}@example.com` } }));
    expect(answer.error!.details).toMatch(/^customer\.email: /);
    expect(answer.error!.details).not.toContain('aaaa');
    expect(answer.error!.details).not.toContain(token);
  });

  it('refuses a request larger than the limit (BODY_LIMIT) with RESOURCE_EXHAUSTED before any handler runs', async () => {
    const before = await paymentIds();
    const answer = await grpc.call('CreatePayment', card({ description: 'x'.repeat(200 * 1024) }));
    expect(answer.error?.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(await paymentIds()).toEqual(before);
  });

  it('refuses bytes that are no protobuf message (grpc-js: INTERNAL, as gRPC specifies for an unparsable request)', async () => {
    const before = await paymentIds();
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    const code = await new Promise<number>((resolve) =>
      grpc.raw.makeUnaryRequest('/tender.payments.v1.PaymentService/CreatePayment', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0xff, 0xff, 0xff]), md, (error) => resolve(error?.code ?? Status.OK)),
    );
    expect(code).toBe(Status.INTERNAL);
    expect(await paymentIds()).toEqual(before);
  });

  it('capture and refund: both amount and amount_minor, a missing or malformed payment id', async () => {
    const authorized = ok(await grpc.call('AuthorizePayment', card({ order_id: 'ORD-BAD-CAP' })));
    const both = await grpc.call('CapturePayment', { payment_id: authorized.payment.id, amount: '1.00', amount_minor: 100 });
    expect([both.error?.code, text(both.error!.metadata, 'error-code')]).toEqual([Status.INVALID_ARGUMENT, 'ambiguous_amount']);
    const tooMuch = await grpc.call('CapturePayment', { payment_id: authorized.payment.id, amount: '1000.00' });
    expect(tooMuch.error?.code).toBe(Status.INVALID_ARGUMENT);
    const missing = await grpc.call('GetPayment', {});
    expect([missing.error?.code, text(missing.error!.metadata, 'error-param')]).toEqual([Status.INVALID_ARGUMENT, 'payment_id']);
    const malformed = await grpc.call('GetPayment', { payment_id: '../../etc/passwd' });
    expect(malformed.error?.code).toBe(Status.NOT_FOUND);
    const refundUncaptured = await grpc.call('RefundPayment', { payment_id: authorized.payment.id });
    expect(refundUncaptured.error?.code).toBe(Status.FAILED_PRECONDITION);
    expect(ok(await grpc.call('GetPayment', { payment_id: authorized.payment.id })).payment).toMatchObject({ status: 'PAYMENT_STATUS_AUTHORIZED', amount_captured: '0.00', refunds: [] });
  });
});

describe('gRPC operations: health, reflection, metrics, proto, config', () => {
  it('health: SERVING for the server and the payments service, NOT_FOUND for a service it does not have', async () => {
    const health = healthClient(server.grpcAddress!);
    const check = (service: string) =>
      new Promise<{ status?: string; code?: number }>((resolve) => health.Check({ service }, (error: any, res: any) => resolve(error ? { code: error.code } : { status: res.status })));
    try {
      expect(await check('')).toEqual({ status: 'SERVING' });
      expect(await check('tender.payments.v1.PaymentService')).toEqual({ status: 'SERVING' });
      expect(await check('no.such.Service')).toEqual({ code: Status.NOT_FOUND });
    } finally {
      health.close();
    }
  });

  it('reflection lists the payments and health services and serves the proto', async () => {
    const reflection = reflectionClient(server.grpcAddress!);
    try {
      const ask = (request: Record<string, unknown>) =>
        new Promise<any>((resolve, reject) => {
          const stream = reflection.ServerReflectionInfo();
          stream.on('data', (res: any) => {
            resolve(res);
            stream.end();
          });
          stream.on('error', reject);
          stream.write(request);
        });
      const listed = await ask({ list_services: '*' });
      const names = listed.list_services_response.service.map((s: any) => s.name);
      expect(names).toEqual(expect.arrayContaining(['tender.payments.v1.PaymentService', 'grpc.health.v1.Health']));
      const file = await ask({ file_containing_symbol: 'tender.payments.v1.PaymentService' });
      const descriptors = Buffer.concat(file.file_descriptor_response.file_descriptor_proto).toString('latin1');
      for (const rpc of ['CreatePayment', 'AuthorizePayment', 'CapturePayment', 'GetPayment', 'RefundPayment', 'GetPaymentStatus']) expect(descriptors).toContain(rpc);
    } finally {
      reflection.close();
    }
  });

  it('counts calls by method and code in the Prometheus registry', async () => {
    await grpc.call('GetPayment', { payment_id: 'pay_doesnotexist' });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/grpc_server_handled_total\{grpc_service="tender\.payments\.v1\.PaymentService",grpc_method="CreatePayment",grpc_code="OK"\} [1-9]/);
    expect(metrics).toMatch(/grpc_server_handled_total\{grpc_service="tender\.payments\.v1\.PaymentService",grpc_method="GetPayment",grpc_code="NOT_FOUND"\} [1-9]/);
    expect(metrics).toMatch(/grpc_server_handling_seconds_count\{grpc_service="tender\.payments\.v1\.PaymentService",grpc_method="CreatePayment",grpc_code="OK"\} [1-9]/);
    // The method label only takes the service's own names; the payment id never becomes a label.
    expect(metrics).not.toContain('pay_doesnotexist');
  });

  it("the proto's enums name every status the engine has", () => {
    const definition = loadPaymentServiceDefinition() as Record<string, any>;
    const values = (name: string) => (definition[name].type.value as Array<{ name: string }>).map((v) => v.name);
    expect(values('tender.payments.v1.PaymentStatus')).toEqual(['PAYMENT_STATUS_UNSPECIFIED', ...PAYMENT_STATUSES.map((s) => `PAYMENT_STATUS_${s}`)]);
    expect(values('tender.payments.v1.RefundStatus')).toEqual(['REFUND_STATUS_UNSPECIFIED', ...REFUND_STATUSES.map((s) => `REFUND_STATUS_${s}`)]);
  });

  it('GRPC_PORT: unset is no listener; a port taken by PORT or METRICS_PORT is refused', () => {
    expect(loadConfig({}).GRPC_PORT).toBeUndefined();
    expect(loadConfig({ GRPC_PORT: '0', PORT: '0' }).GRPC_PORT).toBe(0);
    expect(() => loadConfig({ GRPC_PORT: '8080' })).toThrow(ConfigError);
    expect(() => loadConfig({ GRPC_PORT: '9100', METRICS_PORT: '9100' })).toThrow(/GRPC_PORT: must differ from METRICS_PORT/);
    expect(() => loadConfig({ GRPC_PORT: 'abc' })).toThrow(/GRPC_PORT/);
  });
});
