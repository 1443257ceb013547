/** Sandbox behaviours beyond what the stripe-node acceptance test covers, over raw HTTP. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStripeSignature } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

let sandbox: StripeSandbox;
let receiver: Server;
let failNextDeliveries = 0;
const delivered: Array<{ id: string; type: string }> = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      verifyStripeSignature(raw, req.headers['stripe-signature'], 'whsec_sb');
      if (failNextDeliveries > 0) {
        failNextDeliveries--;
        res.writeHead(500).end();
        return;
      }
      const event = JSON.parse(raw.toString()) as { id: string; type: string };
      delivered.push({ id: event.id, type: event.type });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  sandbox = await startStripeSandbox({ webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, secret: 'whsec_sb', retryDelayMs: 5 } });
});
afterAll(async () => {
  await sandbox.close();
  await new Promise((r) => receiver.close(r));
});

async function call(method: string, path: string, body?: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${sandbox.secretKey}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    ...(body ? { body: new URLSearchParams(body).toString() } : {}),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

describe('Stripe sandbox', () => {
  it('replays under one key, 400 idempotency_error on other parameters, 409 while the first is in flight', async () => {
    const a = await call('POST', '/v1/payment_intents', { amount: '100', currency: 'usd' }, { 'idempotency-key': 'k1' });
    const b = await call('POST', '/v1/payment_intents', { currency: 'usd', amount: '100' }, { 'idempotency-key': 'k1' });
    expect(b.json.id).toBe(a.json.id);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.headers.get('original-request')).toBe(a.headers.get('request-id'));
    const c = await call('POST', '/v1/payment_intents', { amount: '101', currency: 'usd' }, { 'idempotency-key': 'k1' });
    expect(c.status).toBe(400);
    expect(c.json.error.type).toBe('idempotency_error');

    sandbox.faults.add({ kind: 'stall', delayMs: 300, match: /^POST \/v1\/payment_intents$/ });
    const before = sandbox.requestCount;
    const slow = call('POST', '/v1/payment_intents', { amount: '100', currency: 'usd' }, { 'idempotency-key': 'k2' });
    while (sandbox.requestCount === before) await new Promise((r) => setImmediate(r));
    const clash = await call('POST', '/v1/payment_intents', { amount: '100', currency: 'usd' }, { 'idempotency-key': 'k2' });
    expect(clash.status).toBe(409);
    expect(clash.json.error).toMatchObject({ type: 'invalid_request_error', code: 'idempotency_key_in_use' });
    const first = await slow;
    expect(first.status).toBe(200);
    const replay = await call('POST', '/v1/payment_intents', { amount: '100', currency: 'usd' }, { 'idempotency-key': 'k2' });
    expect(replay.json.id).toBe(first.json.id);
  });

  it('does not save a request rejected by validation, so a corrected retry may reuse the key', async () => {
    const bad = await call('POST', '/v1/payment_intents', { amount: 'abc', currency: 'usd' }, { 'idempotency-key': 'k3' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_invalid_integer', param: 'amount' });
    const good = await call('POST', '/v1/payment_intents', { amount: 'abc'.length.toString(), currency: 'usd' }, { 'idempotency-key': 'k3' });
    expect(good.status).toBe(200);
  });

  it('saves a card decline under its key and replays it', async () => {
    const body = { amount: '500', currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: 'true' };
    const first = await call('POST', '/v1/payment_intents', body, { 'idempotency-key': 'k4' });
    const second = await call('POST', '/v1/payment_intents', body, { 'idempotency-key': 'k4' });
    expect(first.status).toBe(402);
    expect(second.status).toBe(402);
    expect(second.json.error.payment_intent.id).toBe(first.json.error.payment_intent.id);
  });

  it('metadata: empty value unsets a key; search finds by metadata', async () => {
    const pi = await call('POST', '/v1/payment_intents', { amount: '100', currency: 'usd', 'metadata[a]': '1', 'metadata[b]': '2' });
    const updated = await call('POST', `/v1/payment_intents/${pi.json.id}`, { 'metadata[a]': '' });
    expect(updated.json.metadata).toEqual({ b: '2' });
    const found = await call('GET', `/v1/payment_intents/search?${new URLSearchParams({ query: "metadata['b']:'2'" })}`);
    expect(found.json.data.map((p: { id: string }) => p.id)).toContain(pi.json.id);
  });

  it('rejects unknown keys with 401 and lets a publishable key only confirm with the client secret', async () => {
    expect((await call('GET', '/v1/payment_intents/pi_x', undefined, { authorization: 'Bearer sk_test_nope' })).status).toBe(401);
    const pi = await call('POST', '/v1/payment_intents', { amount: '100', currency: 'usd' });
    const pk = { authorization: `Bearer ${sandbox.publishableKey}` };
    expect((await call('POST', `/v1/payment_intents/${pi.json.id}/confirm`, { payment_method: 'pm_card_visa' }, pk)).status).toBe(401);
    const ok = await call('POST', `/v1/payment_intents/${pi.json.id}/confirm`, { payment_method: 'pm_card_visa', client_secret: pi.json.client_secret }, pk);
    expect(ok.json.status).toBe('succeeded');
    expect((await call('POST', '/v1/refunds', { payment_intent: pi.json.id }, pk)).status).toBe(401);
  });

  it('retries a webhook the endpoint refused, drops on request, and delays on request', async () => {
    await sandbox.webhooks.idle();
    delivered.length = 0;
    failNextDeliveries = 1;
    const pi = await call('POST', '/v1/payment_intents', { amount: '100', currency: 'usd' });
    await sandbox.webhooks.idle();
    expect(delivered.map((d) => d.type)).toEqual(['payment_intent.created']);
    expect(sandbox.webhooks.deliveries.filter((d) => d.type === 'payment_intent.created' && d.eventId === sandbox.account.events.at(-1)!.id).map((d) => d.status)).toEqual([500, 200]);

    delivered.length = 0;
    sandbox.webhooks.faults.dropNext = 1;
    await call('POST', `/v1/payment_intents/${pi.json.id}/cancel`, {});
    await sandbox.webhooks.idle();
    expect(delivered).toEqual([]);

    sandbox.webhooks.faults.delayMs = 50;
    const started = Date.now();
    await call('POST', '/v1/payment_intents', { amount: '100', currency: 'usd' });
    await sandbox.webhooks.idle();
    sandbox.webhooks.faults.delayMs = 0;
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(delivered).toHaveLength(1);
  });

  it('answers unknown routes with Stripe 404 JSON and serves GET /v1/events/:id', async () => {
    const res = await call('GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.json.error.type).toBe('invalid_request_error');
    const last = sandbox.account.events.at(-1)!;
    expect((await call('GET', `/v1/events/${last.id}`)).json).toMatchObject({ id: last.id, object: 'event', type: last.type });
  });
});
