/**
 * The REST reference's examples and error codes: every example of the OpenAPI document (request
 * bodies, success responses, error bodies) validates against the schema it sits under, every
 * operation's error statuses name their codes, every listed code is one of the error table, and a
 * sample of codes is answered by the server over HTTP with the status the document gives it.
 */
import Ajv2020 from 'ajv/dist/2020';
import { TenderError } from '@tender/core';
import { createTestGateway, waitFor } from '@tender/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../src/error-codes';
import { buildOpenApiDocument } from '../src/openapi';
import { startHarness, type Harness } from './helpers';

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const doc = buildOpenApiDocument() as Json;
const operations = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, operation: operation as Json })),
);
const operationById = (id: string) => operations.find((o) => o.operation.operationId === id)!.operation;

// The document's schemas resolve `#/components/schemas/...`: validate against a copy of the whole document.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ $id: 'tender:openapi', components: doc.components }, 'tender:openapi');
const validatorFor = (schema: Json) =>
  ajv.compile({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"tender:openapi#/components/')) });

/** Every (where, schema, example) of a media type with examples. */
function examplesOf(where: string, content: Record<string, Json> | undefined) {
  return Object.entries(content ?? {}).flatMap(([type, media]) =>
    Object.entries((media.examples ?? {}) as Record<string, { value: unknown }>).map(([name, ex]) => ({ where: `${where} ${type} ${name}`, schema: media.schema as Json, value: ex.value })),
  );
}

describe('OpenAPI examples', () => {
  it('every success response with a JSON body carries an example, and every example matches its schema', () => {
    const all: Array<{ where: string; schema: Json; value: unknown }> = [];
    for (const { where, operation } of operations) {
      if (operation.requestBody) all.push(...examplesOf(`${where} request`, operation.requestBody.content));
      for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
        const found = examplesOf(`${where} ${status}`, response.content);
        if (/^2/.test(status) && response.content?.['application/json']) expect(found.length, `${where} ${status} has an example`).toBeGreaterThan(0);
        all.push(...found);
      }
    }
    expect(all.length).toBeGreaterThan(100);
    for (const { where, schema, value } of all) {
      const validate = validatorFor(schema);
      expect(validate(value) ? [] : validate.errors, where).toEqual([]);
    }
  });

  it('every operation that takes a JSON body has request examples, minor units among them where the body takes them', () => {
    for (const { where, operation } of operations) {
      const media = operation.requestBody?.content?.['application/json'];
      if (!media) continue;
      expect(Object.keys(media.examples ?? {}).length, where).toBeGreaterThan(0);
    }
    const minor = (id: string) => Object.values(operationById(id).requestBody.content['application/json'].examples as Record<string, { value: Json }>).some((e) => 'amount_minor' in e.value || 'amount_paisa' in e.value);
    for (const id of ['createPayment', 'capturePayment', 'refundPayment', 'createStaticUpiLink']) expect(minor(id), id).toBe(true);
    expect(Object.keys(operationById('handleFiuuReturn').requestBody.content['application/x-www-form-urlencoded'].examples)).not.toHaveLength(0);
  });

  it('the webhook endpoint secret is in the example of its creation only', () => {
    const example = (id: string, status: string) => Object.values(operationById(id).responses[status].content['application/json'].examples as Record<string, { value: Json }>)[0]!.value;
    expect(example('createWebhookEndpoint', '201').secret).toEqual(expect.any(String));
    expect(example('getWebhookEndpoint', '200')).not.toHaveProperty('secret');
    expect(example('listWebhookEndpoints', '200').data[0]).not.toHaveProperty('secret');
  });
});

describe('OpenAPI error codes', () => {
  it('every JSON error response of the API names its codes, each known to the error table with that status', () => {
    let listed = 0;
    for (const { where, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
        if (!/^[45]/.test(status) || response.content?.['application/json']?.schema?.$ref !== '#/components/schemas/Error') continue;
        const examples = response.content['application/json'].examples as Record<string, { value: Json }> | undefined;
        expect(Object.keys(examples ?? {}).length, `${where} ${status} lists its codes`).toBeGreaterThan(0);
        for (const [code, example] of Object.entries(examples!)) {
          expect(ERROR_CODES, `${where} ${status}`).toHaveProperty(code);
          expect(String(ERROR_CODES[code as ErrorCode].status), `${where} ${code}`).toBe(status);
          expect(example.value.error.code).toBe(code);
          expect(response.description).toContain(`\`${code}\``);
          listed++;
        }
      }
    }
    expect(listed).toBeGreaterThan(200);
  });

  it("each code's status is the one its type carries, but for the codes whose source sets another", () => {
    // These set `status` where they are thrown (idempotency, body parser, WebSocket, static links, checkout, auth, live, a gateway's card refusal).
    const overridden = new Set(['idempotency_key_reused', 'body_too_large', 'unsupported_media_type', 'upgrade_required', 'static_links_not_configured', 'order_already_paid', 'payment_in_progress', 'auth_unavailable', 'shutting_down', 'card_declined', 'authentication_required', 'risk_blocked']);
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      if (overridden.has(code)) continue;
      expect(new TenderError({ type: info.type, code, message: info.message }).status, code).toBe(info.status);
    }
  });

  it('every code of the table is listed by some operation', () => {
    const listed = new Set(operations.flatMap(({ operation }) => Object.values(operation.responses as Record<string, Json>).flatMap((r) => Object.keys(r.content?.['application/json']?.examples ?? {}))));
    expect(Object.keys(ERROR_CODES).filter((code) => !listed.has(code))).toEqual([]);
  });
});

describe('the server answers the documented status with the documented code', () => {
  let h: Harness;
  let slow: Harness;
  beforeAll(async () => {
    h = await startHarness();
    slow = await startHarness({ gateway: createTestGateway({ latencyMs: 3000 }) });
  });
  afterAll(async () => {
    await h.close();
    await slow.close();
  });

  /** Asserts the answer, and that the operation's document lists this code under this status. */
  function expectDocumented(operationId: string, res: { status: number; body: any }, code: ErrorCode): void {
    expect(res.body?.error?.code, JSON.stringify(res.body)).toBe(code);
    expect(res.status).toBe(ERROR_CODES[code].status);
    expect(Object.keys(operationById(operationId).responses[String(res.status)].content['application/json'].examples)).toContain(code);
  }

  it('400, 401, 403, 404, 413, 415', async () => {
    expectDocumented('createPayment', await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR', amout: 1 } }), 'unknown_parameter');
    expectDocumented('createPayment', await h.call('POST', '/api/v1/payments', { raw: '{"amount":' }), 'invalid_json');
    expectDocumented('createPayment', await h.call('POST', '/api/v1/payments', { body: { amount: '1.001', currency: 'MYR' } }), 'amount_too_precise');
    expectDocumented('createPayment', await h.call('POST', '/api/v1/payments', { body: { amount_paisa: 100, amount_minor: 100, currency: 'INR' } }), 'ambiguous_amount');
    expectDocumented('getPayment', await h.call('GET', '/api/v1/payments/pay_nope', { token: null }), 'missing_token');
    expectDocumented('getPayment', await h.call('GET', '/api/v1/payments/pay_nope', { token: 'a.b.c' }), 'invalid_token');
    expectDocumented('createPayment', await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR' }, token: await h.token('m1', ['payments:read']) }), 'insufficient_scope');
    expectDocumented('getPayment', await h.call('GET', '/api/v1/payments/pay_nope'), 'resource_missing');
    expectDocumented('createPayment', await h.call('POST', '/api/v1/payments', { raw: JSON.stringify({ description: 'x'.repeat(200_000) }) }), 'body_too_large');
    expectDocumented('createPayment', await h.call('POST', '/api/v1/payments', { raw: 'amount=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 'unsupported_media_type');
    expectDocumented('listPayments', await h.call('GET', '/api/v1/payments?limit=abc'), 'parameter_invalid');
  });

  it('409 illegal state, 422 key reused', async () => {
    const created = await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR' }, headers: { 'idempotency-key': 'doc-key-1' } });
    expect(created.status).toBe(201);
    expectDocumented('capturePayment', await h.call('POST', `/api/v1/payments/${created.body.id}/capture`, { body: {} }), 'payment_not_capturable');
    expectDocumented('createPayment', await h.call('POST', '/api/v1/payments', { body: { amount: '11.00', currency: 'MYR' }, headers: { 'idempotency-key': 'doc-key-1' } }), 'idempotency_key_reused');
    const refund = await h.call('POST', `/api/v1/payments/${created.body.id}/refund`, { body: {} });
    expect(refund.status).toBe(201);
    expectDocumented('refundPayment', await h.call('POST', `/api/v1/payments/${created.body.id}/refund`, { body: {} }), 'charge_already_refunded');
  });

  it('gateway webhooks: 400 bad signature, 404 unknown gateway', async () => {
    expectDocumented('receiveGatewayWebhook', await h.call('POST', `/api/v1/webhooks/${h.gateway.id}`, { raw: '{"type":"charge.succeeded"}', headers: { 'x-test-signature': 'forged' }, token: null }), 'signature_mismatch');
    expectDocumented('receiveGatewayWebhook', await h.call('POST', '/api/v1/webhooks/nope', { raw: '{}', token: null }), 'resource_missing');
  });

  it('409 key in flight', async () => {
    const body = { amount: '10.00', currency: 'MYR', order_id: 'ORD-INFLIGHT' };
    const first = slow.call('POST', '/api/v1/payments', { body, headers: { 'idempotency-key': 'doc-key-inflight' } });
    // The payment row exists once the first request holds the key and is at the (slow) gateway.
    await waitFor(async () => (await slow.tender.payments.list({ merchantId: 'm1', orderId: 'ORD-INFLIGHT' })).data.length > 0, 'the first request to reach the gateway');
    expectDocumented('createPayment', await slow.call('POST', '/api/v1/payments', { body, headers: { 'idempotency-key': 'doc-key-inflight' } }), 'idempotency_key_in_use');
    expect((await first).status).toBe(201);
  });
});
