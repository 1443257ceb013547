/**
 * The risk checks over REST on the reference server (simulation mode: the Stripe sandbox, the
 * embedded PGlite store and its velocity table, a rules file, an external scorer on 127.0.0.1):
 * a block is a 402 `risk_blocked` saying nothing of the rules, the payment shows its decision, the
 * review queue and its approve / decline, X-Forwarded-For believed only behind TRUST_PROXY, the
 * device fingerprint from the body or the header, the fraud metrics, and no personal data in the
 * risk log lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { createTender, silentLogger } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { signToken } from '../src/auth';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logging';
import { createServerRisk } from '../src/risk';
import { startTenderServer, type TenderServer } from '../src/server';
import { SECRET, listen } from './helpers';

const RULES = `
block_threshold: 80
review_threshold: 50
rules:
  - { id: huge-usd, type: amount_above, amount_above: { USD: "1000.00" }, score: 100 }
  - { id: big-usd, type: amount_above, amount_above: { USD: "500.00" }, score: 60 }
  - { id: ip-once, type: velocity, key: ip, window: 1h, max_count: 1, score: 90 }
  - { id: device-once, type: velocity, key: device, window: 1h, max_count: 1, score: 90 }
`;
const EMAIL = 'risk.buyer@example.com';
const MERCHANT = 'm_risk';

let dir: string;
let server: TenderServer;
let scorer: Server;
let scorerCalls = 0;
const logs: string[] = [];
const tokens: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tender-risk-'));
  writeFileSync(join(dir, 'rules.yaml'), RULES);
  // The external scorer: answers 0, so it never changes a decision here; its calls are metered.
  scorer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      scorerCalls++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ score: 0 }));
    });
  });
  scorer.listen(0, '127.0.0.1');
  await new Promise((resolve) => scorer.once('listening', resolve));
  const destination = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
  server = await startTenderServer({
    env: {
      PORT: '0',
      TENDER_DATA_DIR: join(dir, 'data'),
      TENDER_SIMULATION: '1',
      JWT_SECRET: SECRET,
      RECONCILE_INTERVAL: '0',
      OUTBOX_INTERVAL: '1h',
      RATE_LIMIT_PER_IP: '100000',
      TRUST_PROXY: 'loopback',
      ALLOWED_ORIGINS: 'https://shop.example',
      FRAUD_RULES_CONFIG_PATH: join(dir, 'rules.yaml'),
      FRAUD_ML_API_URL: `http://127.0.0.1:${(scorer.address() as AddressInfo).port}/score`,
    },
    logger: createLogger({ destination }),
  });
  tokens.merchant = await signToken({ secret: SECRET, merchantId: MERCHANT, scopes: ['payments:read', 'payments:write'] });
  tokens.admin = await signToken({ secret: SECRET, merchantId: MERCHANT, scopes: ['payments:read', 'admin:read', 'admin:write'] });
  tokens.otherAdmin = await signToken({ secret: SECRET, merchantId: 'm_other', scopes: ['admin:read', 'admin:write'] });
  tokens.platform = await signToken({ secret: SECRET, merchantId: 'ops', scopes: ['admin:read', 'platform:admin'] });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => scorer?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** A client address of its own per request (the server trusts loopback proxies), unless one is given. */
const call = async (method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${options.token ?? tokens.merchant}`,
      'x-forwarded-for': `192.0.2.${Math.floor(Math.random() * 250) + 1}, 10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
      ...(options.body ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};
const card = (amount: string, extra: Record<string, unknown> = {}) => ({ amount, currency: 'USD', payment_method: 'pm_card_visa', gateway: 'stripe', order_id: `ord_${randomUUID()}`, bill_email: EMAIL, ...extra });
const byOrder = async (orderId: string) => (await call('GET', `/api/v1/payments?order_id=${orderId}`)).body.data[0];

describe('risk checks over REST', () => {
  it('evaluates an ordinary payment and shows the decision on it (score, level, action, rules)', async () => {
    const res = await call('POST', '/api/v1/payments', { body: card('20.00') });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'CAPTURED', risk: { score: 0, level: 'low', action: 'allow', rules: [] } });
    expect(typeof res.body.risk.evaluated_at).toBe('string');
  });

  it('answers a blocked create 402 risk_blocked, naming no rule or score; the payment is FAILED and reached no gateway', async () => {
    const body = card('1500.00');
    const key = `k_${randomUUID()}`;
    const res = await call('POST', '/api/v1/payments', { body, headers: { 'idempotency-key': key } });
    expect(res.status).toBe(402);
    expect(res.body).toEqual({ error: { type: 'invalid_request_error', code: 'risk_blocked', message: 'The payment was declined by risk checks' } });
    // The same request again is the same answer (the stored payment replayed, still blocked).
    expect(await call('POST', '/api/v1/payments', { body, headers: { 'idempotency-key': key } })).toEqual(res);
    expect(JSON.stringify(res.body)).not.toMatch(/huge-usd|score|1000/);
    const stored = await byOrder(body.order_id);
    expect(stored).toMatchObject({ status: 'FAILED', gateway_reference: null, failure: { code: 'risk_blocked' }, risk: { action: 'block', level: 'blocked', score: 100 } });
    expect(stored.risk.rules.map((r: { id: string }) => r.id)).toEqual(['huge-usd', 'big-usd']);
    expect(JSON.stringify(stored.risk)).not.toContain(EMAIL);
  });

  it('holds a review-band payment; the queue lists it; an approval sends it to the gateway, audited with the admin token subject', async () => {
    const body = card('600.00');
    const held = await call('POST', '/api/v1/payments', { body });
    expect(held.status).toBe(201);
    expect(held.body).toMatchObject({ status: 'REQUIRES_REVIEW', gateway_reference: null, risk: { action: 'review', level: 'high', score: 60 } });
    const id = held.body.id as string;

    expect((await call('GET', '/api/v1/admin/reviews', { token: tokens.merchant })).status).toBe(403);
    const queue = await call('GET', '/api/v1/admin/reviews', { token: tokens.admin });
    expect(queue.status).toBe(200);
    expect(queue.body.data.map((p: { id: string }) => p.id)).toContain(id);
    expect((await call('GET', '/api/v1/admin/reviews', { token: tokens.otherAdmin })).body.data).toEqual([]);
    expect((await call('GET', `/api/v1/admin/reviews?merchant_id=${MERCHANT}`, { token: tokens.otherAdmin })).status).toBe(403);
    expect((await call('GET', `/api/v1/admin/reviews?merchant_id=${MERCHANT}`, { token: tokens.platform })).body.data.map((p: { id: string }) => p.id)).toContain(id);
    expect((await call('POST', `/api/v1/admin/payments/${id}/review`, { token: tokens.otherAdmin, body: { decision: 'approve' } })).status).toBe(404);
    expect((await call('POST', `/api/v1/admin/payments/${id}/review`, { token: tokens.admin, body: { decision: 'maybe' } })).status).toBe(400);

    const approved = await call('POST', `/api/v1/admin/payments/${id}/review`, { token: tokens.admin, body: { decision: 'approve', reason: 'known customer' } });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('CAPTURED');
    expect(approved.body.gateway_reference).toMatch(/^pi_/);
    const trail = (await call('GET', `/api/v1/payments/${id}/transitions`)).body.data as Array<{ to: string; actor: string; reason: string }>;
    expect(trail.map((t) => t.to)).toEqual(['PENDING', 'REQUIRES_REVIEW', 'PENDING', 'CAPTURED']);
    expect(trail[2]).toMatchObject({ actor: MERCHANT, reason: 'review approved: known customer' });
    expect(trail[1]!.reason).toContain('big-usd');
    expect((await call('GET', '/api/v1/admin/reviews', { token: tokens.admin })).body.data.map((p: { id: string }) => p.id)).not.toContain(id);
    const again = await call('POST', `/api/v1/admin/payments/${id}/review`, { token: tokens.admin, body: { decision: 'decline' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('payment_not_in_review');
  });

  it('declines a held payment: FAILED risk_declined, nothing sent to the gateway', async () => {
    const held = await call('POST', '/api/v1/payments', { body: card('700.00') });
    expect(held.body.status).toBe('REQUIRES_REVIEW');
    const declined = await call('POST', `/api/v1/admin/payments/${held.body.id}/review`, { token: tokens.admin, body: { decision: 'decline', reason: 'stolen card report' } });
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ status: 'FAILED', gateway_reference: null, failure: { code: 'risk_declined' } });
  });

  it('counts the client of X-Forwarded-For behind the trusted proxy (TRUST_PROXY=loopback)', async () => {
    const headers = { 'x-forwarded-for': '198.51.100.7' };
    expect((await call('POST', '/api/v1/payments', { body: card('10.00'), headers })).status).toBe(201);
    const second = await call('POST', '/api/v1/payments', { body: card('10.00'), headers });
    expect(second.status).toBe(402);
    // Another client behind the same proxy is not that one.
    expect((await call('POST', '/api/v1/payments', { body: card('10.00'), headers: { 'x-forwarded-for': '198.51.100.8' } })).status).toBe(201);
  });

  it('takes the device fingerprint from the body or the X-Device-Fingerprint header (the same device either way)', async () => {
    const device = `dev_${randomUUID()}`;
    expect((await call('POST', '/api/v1/payments', { body: card('10.00', { device_fingerprint: device }) })).status).toBe(201);
    const second = await call('POST', '/api/v1/payments', { body: card('10.00'), headers: { 'x-device-fingerprint': device } });
    expect(second.status).toBe(402);
    const bad = await call('POST', '/api/v1/payments', { body: card('10.00'), headers: { 'x-device-fingerprint': 'x'.repeat(600) } });
    expect(bad.status).toBe(400);
  });

  it('counts the fingerprint the Fiuu browser bundle sends with the seamless config request (402 in the plugin shape)', async () => {
    const headers = { 'x-device-fingerprint': `dev_${randomUUID()}` };
    const seamless = (order: string) => call('GET', `/api/v1/payments/seamless/config?order_id=${order}&amount=10.00&currency=MYR&payment_method=FPX`, { headers });
    expect((await seamless(`ord_${randomUUID()}`)).status).toBe(201);
    const blocked = await seamless(`ord_${randomUUID()}`);
    expect(blocked.status).toBe(402);
    expect(blocked.body).toMatchObject({ status: false, error_code: 'risk_blocked', error: { code: 'risk_blocked' } });
  });

  it('lets a browser page of an allowed origin send X-Device-Fingerprint (CORS preflight)', async () => {
    const res = await fetch(`${server.url}/api/v1/payments/seamless/config`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization, x-device-fingerprint' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-device-fingerprint');
  });

  it('exposes fraud_score_distribution by method and level, and the scorer calls and latency', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^fraud_score_distribution_count\{payment_method="payment_method_id",risk_level="blocked"\} [1-9]/m);
    expect(text).toMatch(/^fraud_score_distribution_count\{payment_method="payment_method_id",risk_level="low"\} [1-9]/m);
    expect(text).toMatch(/^fraud_score_distribution_count\{payment_method="payment_method_id",risk_level="high"\} [1-9]/m);
    expect(text).toMatch(new RegExp(`^fraud_scorer_requests_total\\{outcome="ok"\\} ${scorerCalls}$`, 'm'));
    expect(scorerCalls).toBeGreaterThan(0);
    expect(text).toMatch(/^fraud_scorer_duration_seconds_count\{outcome="ok"\} [1-9]/m);
  });

  it('keeps personal data out of the risk log lines', () => {
    const risk = logs.filter((line) => /risk/i.test(line));
    expect(risk.some((line) => line.includes('"msg":"risk decision"'))).toBe(true);
    for (const line of risk) {
      expect(line).not.toContain(EMAIL);
      expect(line).not.toContain('198.51.100.7');
      expect(line).not.toMatch(/dev_[0-9a-f-]{36}/);
    }
  });
});

describe('X-Forwarded-For without a trusted proxy', () => {
  it('is ignored: the connection address is the client, however the header varies', async () => {
    const config = loadConfig({ FRAUD_RULES_CONFIG_PATH: join(dir, 'rules.yaml') });
    const store = new MemoryStore();
    const risk = (await createServerRisk(config, { store, logger: silentLogger }))!;
    const tender = createTender({ gateways: [createTestGateway({ id: 'test' })], store, risk: risk.engine });
    const listening = await listen(createApp(tender, { auth: { secret: SECRET }, rateLimit: false, logger: createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) }) }));
    try {
      const create = async (forwarded: string) =>
        (await fetch(`${listening.url}/api/v1/payments`, { method: 'POST', headers: { authorization: `Bearer ${tokens.merchant}`, 'content-type': 'application/json', 'x-forwarded-for': forwarded }, body: JSON.stringify({ amount: '10.00', currency: 'USD' }) })).status;
      expect(await create('203.0.113.1')).toBe(201);
      expect(await create('203.0.113.2')).toBe(402);
    } finally {
      listening.server.closeAllConnections();
      listening.server.close();
      await risk.close();
    }
  });
});
