/**
 * The seeds' remaining REST routes (#15) over HTTP on loopback, against the reference server with a
 * Stripe sandbox: a user's payments (seed 003), a payment charging a saved method, two-step
 * authorize (seed 004), `POST /refunds` answering exactly what `POST /payments/:id/refund` answers
 * (seed 003), minor units on capture and refund, seed 001's tokenize refusing raw card data without
 * keeping it anywhere, and seed 001's `POST /webhooks`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging';
import { startTenderServer } from '../src/server';
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

const pay = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  h.call('POST', '/api/v1/payments', { body: { currency: 'USD', gateway: 'stripe', ...body }, headers });

describe("a user's payments (seed 003)", () => {
  it('user_id on create links the payment; GET /users/:user_id/payments lists them with the query and pages of GET /payments', async () => {
    // Seed 003's body, with the amount in minor units (its 1000 means $10.00).
    const first = await pay({ user_id: 'user_003', amount_minor: 1000, description: 'Product purchase', payment_method: 'pm_card_visa' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ user_id: 'user_003', saved_payment_method_id: null, amount: '10.00', amount_minor: 1000, status: 'CAPTURED', metadata: { user_id: 'user_003' } });
    const second = await pay({ user_id: 'user_003', amount: '2.50', payment_method: 'pm_card_visa', order_id: 'ORD-U3' });
    await pay({ user_id: 'user_003_other', amount: '1.00', payment_method: 'pm_card_visa' });
    const anonymous = await pay({ amount: '1.00', payment_method: 'pm_card_visa' });
    expect(anonymous.body.user_id).toBeNull();

    const listed = await h.call('GET', '/api/v1/users/user_003/payments');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((p: any) => p.id)).toEqual([second.body.id, first.body.id]);
    const page = await h.call('GET', '/api/v1/users/user_003/payments?limit=1');
    expect(page.body).toMatchObject({ has_more: true, next_cursor: second.body.id });
    expect((await h.call('GET', `/api/v1/users/user_003/payments?limit=1&starting_after=${second.body.id}`)).body.data.map((p: any) => p.id)).toEqual([first.body.id]);
    expect((await h.call('GET', '/api/v1/users/user_003/payments?order_id=ORD-U3')).body.data.map((p: any) => p.id)).toEqual([second.body.id]);
    expect((await h.call('GET', '/api/v1/users/user_003/payments?status=FAILED')).body.data).toEqual([]);
    expect((await h.call('GET', '/api/v1/users/user_003/payments?limit=abc')).body.error).toMatchObject({ code: 'parameter_invalid', param: 'limit' });
    expect((await h.call('GET', '/api/v1/users/user_003/payments', { token: other })).body.data).toEqual([]);
    expect((await h.call('GET', '/api/v1/users/user_003/payments', { token: await h.token('m1', ['payments:write']) })).status).toBe(403);
    expect((await h.call('GET', '/api/v1/users/nobody/payments')).body).toEqual({ object: 'list', data: [], has_more: false, next_cursor: null });
  });

  it('payment_method "spm_..." charges a saved method off session; another user\'s is refused', async () => {
    const method = (await h.call('POST', '/api/v1/payment-methods', { body: { user_id: 'user_spm', payment_method: 'pm_card_visa' } })).body;
    const charged = await pay({ user_id: 'user_spm', amount: '12.00', payment_method: method.id });
    expect(charged.status, JSON.stringify(charged.body)).toBe(201);
    expect(charged.body).toMatchObject({ status: 'CAPTURED', user_id: 'user_spm', saved_payment_method_id: method.id, amount: '12.00' });
    const onSession = await pay({ user_id: 'user_spm', amount: '3.00', payment_method: method.id, off_session: false });
    expect(onSession.status).toBe(201);
    expect(onSession.body.saved_payment_method_id).toBe(method.id);

    const mismatch = await pay({ user_id: 'someone_else', amount: '1.00', payment_method: method.id });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error).toMatchObject({ code: 'saved_method_user_mismatch', param: 'payment_method' });
    expect((await pay({ user_id: 'user_spm', amount: '1.00', payment_method: 'spm_nope' })).status).toBe(404);
    expect((await pay({ user_id: 'user_spm', amount: '1.00', payment_method: method.id, off_session: 'no' })).body.error).toMatchObject({ code: 'parameter_invalid', param: 'off_session' });
    // Another merchant cannot charge it.
    const foreign = await h.call('POST', '/api/v1/payments', { token: other, body: { currency: 'USD', gateway: 'stripe', user_id: 'user_spm', amount: '1.00', payment_method: method.id } });
    expect(foreign.status).toBe(404);
  });
});

describe('two-step authorize (seed 004)', () => {
  it('confirm:false stores PENDING; authorize sends it (AUTHORIZED); capture takes amount_minor', async () => {
    const created = await pay({ amount: '30.00', payment_method: 'pm_card_visa', confirm: false });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ status: 'PENDING', gateway_reference: null, capture_method: 'manual' });

    const other403 = await h.call('POST', `/api/v1/payments/${created.body.id}/authorize`, { token: await h.token('m1', ['payments:read']) });
    expect(other403.status).toBe(403);
    expect((await h.call('POST', `/api/v1/payments/${created.body.id}/authorize`, { token: other })).status).toBe(404);
    expect((await h.call('POST', `/api/v1/payments/${created.body.id}/authorize`, { body: { amount: '1.00' } })).body.error.code).toBe('unknown_parameter');

    const authorized = await h.call('POST', `/api/v1/payments/${created.body.id}/authorize`, { headers: { 'idempotency-key': 'auth-1' } });
    expect(authorized.status, JSON.stringify(authorized.body)).toBe(200);
    expect(authorized.body).toMatchObject({ id: created.body.id, status: 'AUTHORIZED' });
    expect(authorized.body.gateway_reference).toMatch(/^pi_/);
    const replay = await h.call('POST', `/api/v1/payments/${created.body.id}/authorize`, { headers: { 'idempotency-key': 'auth-1' } });
    expect(replay.status).toBe(200);
    expect(replay.body.status).toBe('AUTHORIZED');
    const twice = await h.call('POST', `/api/v1/payments/${created.body.id}/authorize`);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('payment_already_confirmed');

    expect((await h.call('POST', `/api/v1/payments/${created.body.id}/capture`, { body: { amount: '10.00', amount_minor: 1000 } })).body.error.code).toBe('ambiguous_amount');
    expect((await h.call('POST', `/api/v1/payments/${created.body.id}/capture`, { body: { amount_paisa: 1000, amount_minor: 1000 } })).body.error.code).toBe('ambiguous_amount');
    const captured = await h.call('POST', `/api/v1/payments/${created.body.id}/capture`, { body: { amount_minor: 2500 } });
    expect(captured.status, JSON.stringify(captured.body)).toBe(200);
    expect(captured.body).toMatchObject({ status: 'CAPTURED', amount_captured: '25.00' });
    expect((await h.call('GET', `/api/v1/payments/${created.body.id}/status`)).body.status).toBe('CAPTURED');
  });
});

describe('POST /refunds (seed 003)', () => {
  const comparable = (refund: any) => ({ ...refund, id: undefined, payment_id: undefined, gateway_reference: undefined, created_at: undefined, updated_at: undefined });

  it('answers what POST /payments/:id/refund answers, status and body', async () => {
    const a = (await pay({ amount: '20.00', payment_method: 'pm_card_visa' })).body;
    const b = (await pay({ amount: '20.00', payment_method: 'pm_card_visa' })).body;
    const viaPath = await h.call('POST', `/api/v1/payments/${a.id}/refund`, { body: { amount_minor: 500, reason: 'requested_by_customer', metadata: { rma: '1' } } });
    const viaBody = await h.call('POST', '/api/v1/refunds', { body: { transaction_id: b.id, amount_minor: 500, reason: 'requested_by_customer', metadata: { rma: '1' } } });
    expect(viaPath.status, JSON.stringify(viaPath.body)).toBe(201);
    expect(viaBody.status).toBe(viaPath.status);
    expect(viaBody.body).toMatchObject({ object: 'refund', payment_id: b.id, amount: '5.00', amount_minor: 500 });
    expect(comparable(viaBody.body)).toEqual(comparable(viaPath.body));
    expect((await h.call('GET', `/api/v1/payments/${b.id}/refunds`)).body.data.map((r: any) => r.id)).toEqual([viaBody.body.id]);

    // payment_id is the other name; an Idempotency-Key refunds once.
    const keyed = await h.call('POST', '/api/v1/refunds', { body: { payment_id: b.id, amount: '1.00' }, headers: { 'idempotency-key': 'refund-1' } });
    const again = await h.call('POST', '/api/v1/refunds', { body: { payment_id: b.id, amount: '1.00' }, headers: { 'idempotency-key': 'refund-1' } });
    expect(keyed.status).toBe(201);
    expect(again.body.id).toBe(keyed.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await h.call('GET', `/api/v1/payments/${b.id}`)).body.amount_refunded).toBe('6.00');

    // The rest in full: the same on both routes.
    const restPath = await h.call('POST', `/api/v1/payments/${a.id}/refund`, { body: {} });
    const restBody = await h.call('POST', '/api/v1/refunds', { body: { transaction_id: b.id } });
    expect(restPath.body.amount).toBe('15.00');
    expect(restBody.body.amount).toBe('14.00');
    const overPath = await h.call('POST', `/api/v1/payments/${a.id}/refund`, { body: {} });
    const overBody = await h.call('POST', '/api/v1/refunds', { body: { transaction_id: b.id } });
    expect(overBody.status).toBe(overPath.status);
    expect(overBody.body).toEqual(overPath.body);
  });

  it('the same refusals: 400s, 404 for another merchant\'s payment, 403 without refunds:write', async () => {
    const p = (await pay({ amount: '5.00', payment_method: 'pm_card_visa' })).body;
    const both = await h.call('POST', '/api/v1/refunds', { body: { transaction_id: p.id, amount: '1.00', amount_minor: 100 } });
    const bothPath = await h.call('POST', `/api/v1/payments/${p.id}/refund`, { body: { amount: '1.00', amount_minor: 100 } });
    expect(both.status).toBe(400);
    expect(both.body).toEqual(bothPath.body);
    expect(both.body.error.code).toBe('ambiguous_amount');
    expect((await h.call('POST', '/api/v1/refunds', { body: { transaction_id: p.id, payment_id: 'pay_other' } })).body.error).toMatchObject({ code: 'ambiguous_parameter', param: 'payment_id' });
    expect((await h.call('POST', '/api/v1/refunds', { body: { amount: '1.00' } })).body.error).toMatchObject({ code: 'parameter_missing', param: 'transaction_id' });
    expect((await h.call('POST', '/api/v1/refunds', { body: { transaction_id: p.id, amount: '1.00', amout: 1 } })).body.error.code).toBe('unknown_parameter');
    expect((await h.call('POST', '/api/v1/refunds', { body: { transaction_id: 'tx_123' } })).status).toBe(404);
    const foreign = await h.call('POST', '/api/v1/refunds', { token: other, body: { transaction_id: p.id } });
    const foreignPath = await h.call('POST', `/api/v1/payments/${p.id}/refund`, { token: other, body: {} });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(foreignPath.body);
    const writer = await h.token('m1', ['payments:write', 'payments:read']);
    expect((await h.call('POST', '/api/v1/refunds', { token: writer, body: { transaction_id: p.id } })).status).toBe(403);
    expect((await h.call('GET', `/api/v1/payments/${p.id}`)).body.amount_refunded).toBe('0.00');
  });
});

describe("seed 001's tokenize", () => {
  const PAN = '4111111111111111';
  const SEED_BODY = {
    user_id: '123e4567-e89b-12d3-a456-426614174000',
    type: 'CARD',
    details: { card_number: PAN, expiry_month: '12', expiry_year: '25', cvv: '123', holder_name: 'John Doe' },
    display_name: '**** **** **** 1111',
  };

  it('refuses raw card data anywhere in the body with 400 raw_card_data_not_allowed, echoing none of it and keeping nothing', async () => {
    const bodies: unknown[] = [
      SEED_BODY,
      { user_id: 'user_tok', payment_method: 'pm_card_visa', details: { nested: [{ cvv: '123' }] } },
      { user_id: 'user_tok', payment_method: PAN },
      { user_id: 'user_tok', payment_method: 'pm_card_visa', note: '4111 1111 1111 1111' },
    ];
    for (const [i, body] of bodies.entries()) {
      for (const path of ['/api/v1/payment-methods/tokenize', '/api/v1/payment-methods']) {
        const res = await h.call('POST', path, { body, headers: { 'idempotency-key': `tok-${i}-${path.length}` } });
        expect(res.status, `${path} ${i}`).toBe(400);
        expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'raw_card_data_not_allowed' });
        expect(res.body.error.message).toMatch(/hosted fields/);
        const text = JSON.stringify(res.body);
        for (const secret of [PAN, '4111 1111 1111 1111', 'John Doe', '"123"']) expect(text).not.toContain(secret);
      }
    }
    // Nothing stored: no method for the users, and the keys of the refused requests are free.
    expect((await h.call('GET', `/api/v1/users/${SEED_BODY.user_id}/payment-methods`)).body.data).toEqual([]);
    expect((await h.call('GET', '/api/v1/users/user_tok/payment-methods')).body.data).toEqual([]);
    const reused = await h.call('POST', '/api/v1/payment-methods/tokenize', { body: { user_id: 'user_tok', payment_method: 'pm_card_visa' }, headers: { 'idempotency-key': 'tok-0-32' } });
    expect(reused.status, JSON.stringify(reused.body)).toBe(201);
    // The request log has the refusals (status 400) and not the number.
    const logs = h.logs.join('\n');
    expect(logs).toMatch(/"status":400/);
    expect(logs).not.toContain(PAN);
    expect(logs).not.toContain('4111 1111 1111 1111');
  });

  it('a card number given as a payment\'s or subscription\'s payment_method is refused, and echoed nowhere', async () => {
    for (const [path, body] of [
      ['/api/v1/payments', { amount: '1.00', currency: 'USD', gateway: 'stripe', payment_method: PAN }],
      ['/api/v1/payments', { amount: '1.00', currency: 'USD', user_id: 'user_tok', payment_method: '4111-1111-1111-1111' }],
      ['/api/v1/subscriptions', { user_id: 'user_tok', price_id: 'price_x', payment_method: PAN }],
    ] as const) {
      const res = await h.call('POST', path, { body });
      expect(res.status, path).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'raw_card_data_not_allowed', param: 'payment_method' });
      expect(JSON.stringify(res.body)).not.toMatch(/4111.?1111.?1111.?1111/);
    }
    expect((await h.call('GET', '/api/v1/users/user_tok/payments')).body.data).toEqual([]);
    expect(h.logs.join('\n')).not.toContain(PAN);
  });

  it('a numeric user id is not taken for a card number', async () => {
    // 18 digits passing the Luhn check, as a snowflake id can.
    const res = await h.call('POST', '/api/v1/payment-methods/tokenize', { body: { user_id: '123456789012345671', payment_method: 'pm_card_visa' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });

  it('a gateway token is saved as POST /payment-methods saves it', async () => {
    const tokenized = await h.call('POST', '/api/v1/payment-methods/tokenize', { body: { user_id: 'user_tok2', payment_method: 'pm_card_mastercard', set_default: true } });
    expect(tokenized.status, JSON.stringify(tokenized.body)).toBe(201);
    expect(tokenized.body).toMatchObject({ object: 'payment_method', user_id: 'user_tok2', card: { brand: 'mastercard', last4: '4444' }, is_default: true });
    const listed = await h.call('GET', '/api/v1/users/user_tok2/payment-methods');
    expect(listed.body.data).toEqual([tokenized.body]);
  });
});

describe('the REST reference', () => {
  it("states the amount rule with seed 003's example on its first page, and documents every route", async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    expect(doc.info.description).toContain('"amount": 1000');
    expect(doc.info.description).toContain('1000.00 dollars');
    expect(doc.info.description).toContain('"amount_minor": 1000');
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    for (const route of [
      'GET /api/v1/users/{user_id}/payments', 'POST /api/v1/payments/{id}/authorize', 'GET /api/v1/payments/{id}/status', 'POST /api/v1/refunds',
      'POST /api/v1/payment-methods', 'GET /api/v1/payment-methods', 'POST /api/v1/payment-methods/tokenize', 'GET /api/v1/payment-methods/{id}',
      'DELETE /api/v1/payment-methods/{id}', 'POST /api/v1/payment-methods/{id}/default', 'GET /api/v1/users/{user_id}/payment-methods',
      'POST /api/v1/subscriptions', 'GET /api/v1/subscriptions/{id}', 'DELETE /api/v1/subscriptions/{id}', 'GET /api/v1/subscriptions/{id}/invoices',
      'GET /api/v1/subscriptions/{id}/transitions', 'GET /api/v1/users/{user_id}/subscriptions', 'GET /api/v1/invoices/{id}', 'GET /api/v1/invoices/{id}/transitions',
      'GET /api/v1/users/{user_id}/invoices', 'POST /api/v1/webhooks',
    ]) {
      expect(routes, route).toContain(route);
    }
  });
});

describe("seed 001's POST /webhooks", () => {
  it('creates a merchant webhook endpoint, billing events subscribable', async () => {
    const res = await h.call('POST', '/api/v1/webhooks', {
      body: { url: 'https://merchant.example.com/webhook', events: ['payment.success', 'subscription.*', 'invoice.paid', 'payment_method.saved'], secret: 'webhook_secret_key' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ object: 'webhook_endpoint', url: 'https://merchant.example.com/webhook', secret: 'webhook_secret_key', events: ['payment.success', 'subscription.*', 'invoice.paid', 'payment_method.saved'] });
    expect((await h.call('GET', `/api/v1/webhook-endpoints/${res.body.id}`)).body).toMatchObject({ id: res.body.id });
    expect((await h.call('POST', '/api/v1/webhooks', { body: { url: 'ftp://merchant.example.com/x' } })).status).toBe(400);
    expect((await h.call('POST', '/api/v1/webhooks', { body: { url: 'https://merchant.example.com/x' }, token: await h.token('m1', ['payments:read']) })).status).toBe(403);
    expect((await h.call('GET', `/api/v1/webhook-endpoints/${res.body.id}`, { token: other })).status).toBe(404);
  });
});

describe('simulation mode', () => {
  it("the simulated Stripe gateway saves payment methods: the server's own wiring serves the billing routes", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tender-sim-billing-'));
    const quiet = new Writable({ write(_c, _e, cb) { cb(); } });
    const server = await startTenderServer({ env: { PORT: '0', TENDER_DATA_DIR: dir, RECONCILE_INTERVAL: '0' }, logger: createLogger({ destination: quiet }) });
    try {
      expect(server.simulation).not.toBeNull();
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${server.devToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      const saved = await call('POST', '/api/v1/payment-methods', { user_id: 'sim_user', payment_method: 'pm_card_visa' });
      expect(saved.status, JSON.stringify(saved.body)).toBe(201);
      expect(saved.body).toMatchObject({ gateway: 'stripe', card: { last4: '4242' }, is_default: true });
      const charged = await call('POST', '/api/v1/payments', { user_id: 'sim_user', amount: '4.00', currency: 'USD', payment_method: saved.body.id });
      expect(charged.status, JSON.stringify(charged.body)).toBe(201);
      expect(charged.body).toMatchObject({ status: 'CAPTURED', gateway: 'stripe', saved_payment_method_id: saved.body.id });
      expect((await call('GET', '/api/v1/users/sim_user/payments')).body.data.map((p: any) => p.id)).toEqual([charged.body.id]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
