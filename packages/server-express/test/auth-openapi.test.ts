import { Validator } from '@seriousme/openapi-schema-validator';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET, startHarness, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('auth', () => {
  it('401 without a token, with a bad signature, expired or malformed', async () => {
    const none = await h.call('GET', '/api/v1/payments', { token: null });
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ type: 'authentication_error', code: 'missing_token' });
    const forged = await new SignJWT({ scope: 'payments:read' }).setProtectedHeader({ alg: 'HS256' }).setSubject('m1').setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(40)));
    expect((await h.call('GET', '/api/v1/payments', { token: forged })).body.error.code).toBe('invalid_token');
    const expired = await h.token('m1', undefined, -10);
    const res = await h.call('GET', '/api/v1/payments', { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('token_expired');
    expect((await h.call('GET', '/api/v1/payments', { headers: { authorization: 'Basic abc' }, token: null })).status).toBe(401);
    const noneAlg = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"m1","scope":"payments:read"}').toString('base64url')}.`;
    expect((await h.call('GET', '/api/v1/payments', { token: noneAlg })).status).toBe(401);
  });

  it('stops honouring a token the moment it expires, even one accepted (and remembered) before', async () => {
    const brief = await h.token('m1', undefined, 3);
    expect((await h.call('GET', '/api/v1/payments', { token: brief })).status).toBe(200);
    expect((await h.call('GET', '/api/v1/payments', { token: brief })).status).toBe(200);
    const exp = JSON.parse(Buffer.from(brief.split('.')[1]!, 'base64url').toString()).exp as number;
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const res = await h.call('GET', '/api/v1/payments', { token: brief });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('token_expired');
  });

  it('403 for a missing scope', async () => {
    const readOnly = await h.token('m1', ['payments:read']);
    const res = await h.call('POST', '/api/v1/payments', { token: readOnly, body: { amount: '1.00', currency: 'MYR' } });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
    const writer = await h.token('m1', ['payments:write', 'payments:read']);
    const p = await h.call('POST', '/api/v1/payments', { token: writer, body: { amount: '1.00', currency: 'MYR' } });
    expect(p.status).toBe(201);
    expect((await h.call('POST', `/api/v1/payments/${p.body.id}/refund`, { token: writer, body: {} })).status).toBe(403);
    expect((await h.call('GET', '/api/v1/payments', { token: await h.token('m1', ['refunds:write']) })).status).toBe(403);
  });

  it("another merchant's payment, refund and event are 404", async () => {
    const p = await h.call('POST', '/api/v1/payments', { body: { amount: '3.00', currency: 'MYR', order_id: 'ISO-1' } });
    const r = await h.call('POST', `/api/v1/payments/${p.body.id}/refund`, { body: {} });
    const other = await h.token('m2');
    for (const [method, path] of [
      ['GET', `/api/v1/payments/${p.body.id}`],
      ['POST', `/api/v1/payments/${p.body.id}/capture`],
      ['POST', `/api/v1/payments/${p.body.id}/cancel`],
      ['POST', `/api/v1/payments/${p.body.id}/refund`],
      ['GET', `/api/v1/payments/${p.body.id}/refunds`],
      ['GET', `/api/v1/refunds/${r.body.id}`],
    ] as const) {
      const res = await h.call(method, path, { token: other, ...(method === 'POST' ? { body: {} } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await h.call('GET', '/api/v1/payments?order_id=ISO-1', { token: other })).body.data).toEqual([]);
    expect(SECRET.length).toBeGreaterThan(32);
  });
});

describe('openapi', () => {
  it('lists every route and validates as OpenAPI 3.1', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    for (const route of [
      'POST /api/v1/payments',
      'GET /api/v1/payments',
      'GET /api/v1/payments/{id}',
      'POST /api/v1/payments/{id}/capture',
      'POST /api/v1/payments/{id}/cancel',
      'POST /api/v1/payments/{id}/refund',
      'GET /api/v1/payments/{id}/refunds',
      'GET /api/v1/refunds/{id}',
      'GET /api/v1/payments/seamless/config',
      'POST /api/v1/webhooks/{gateway}',
      'POST /api/v1/webhook-endpoints',
      'GET /api/v1/webhook-endpoints',
      'DELETE /api/v1/webhook-endpoints/{id}',
      'POST /api/v1/events/{id}/redeliver',
      'GET /health',
      'GET /ready',
      'GET /metrics',
      'GET /openapi.json',
    ]) {
      expect(routes).toContain(route);
    }
    const create = doc.components.schemas.CreatePayment;
    expect(Object.keys(create.properties)).toEqual(expect.arrayContaining(['order_id', 'amount', 'currency', 'payment_method', 'bill_name', 'bill_email', 'bill_mobile', 'bill_description', 'return_url', 'notify_url', 'gateway', 'capture_method', 'metadata', 'amount_paisa']));
    expect(doc.components.schemas.Payment.properties.next_action).toEqual({ $ref: '#/components/schemas/NextAction' });
  });
});
