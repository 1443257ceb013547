import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { OutboxRow, WebhookEndpoint } from '@tender/core';
import { createTestGateway } from '@tender/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookDeliverer } from '@tender/server-express';
import { startWorkers, type Workers } from '../src/workers';
import { startHarness, type Harness } from './helpers';
import { dropSchema, freshSchema, pgStore } from './pg';

interface Received {
  id: string;
  type: string;
  signature: string;
  body: string;
}

/** A merchant receiver that fails the first `failures` deliveries of each event. */
async function receiver(failures: number) {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { id: string; type: string };
      const n = (attempts.get(parsed.id) ?? 0) + 1;
      attempts.set(parsed.id, n);
      if (n <= failures) {
        res.statusCode = 500;
        res.end('not yet');
        return;
      }
      received.push({ id: parsed.id, type: parsed.type, signature: String(req.headers['tender-signature']), body });
      res.end('ok');
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, attempts, close: () => new Promise((r) => server.close(r)) };
}

async function until(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const schema = freshSchema('srv_hooks');
const stores: Array<Awaited<ReturnType<typeof pgStore>>> = [];
let a: Harness;
let b: Harness;
const workers: Workers[] = [];

beforeAll(async () => {
  stores.push(await pgStore(schema), await pgStore(schema));
  // Two server instances on one database and one provider.
  const gateway = createTestGateway();
  // The receivers run on loopback, which a production server refuses (see the last describe).
  const local = { webhookEndpoints: { allowPrivateNetworks: true } };
  a = await startHarness({ store: stores[0], gateway, app: local });
  b = await startHarness({ store: stores[1], gateway, app: local });
  for (const h of [a, b]) {
    workers.push(startWorkers({ tender: h.tender, logger: { debug() {}, info() {}, warn() {}, error() {} }, outbox: { intervalMs: 30, baseDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 }, reconcileIntervalMs: 0, purgeIntervalMs: 0, webhooks: { allowPrivateNetworks: true } }));
  }
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await a?.close();
  await b?.close();
  for (const s of stores) await s.close();
  await dropSchema(schema);
});

describe('merchant webhook endpoints', () => {
  it('creates, lists and deletes endpoints; validates input; isolates merchants', async () => {
    const created = await a.call('POST', '/api/v1/webhook-endpoints', { body: { url: 'https://merchant.example/webhook', events: ['payment.success', 'refund.*'], secret: 'webhook_secret_key' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'webhook_endpoint', url: 'https://merchant.example/webhook', secret: 'webhook_secret_key' });
    const list = await a.call('GET', '/api/v1/webhook-endpoints');
    expect(list.body.data.map((e: { id: string }) => e.id)).toContain(created.body.id);
    expect(list.body.data[0].secret).toBeUndefined();
    expect((await a.call('DELETE', `/api/v1/webhook-endpoints/${created.body.id}`, { token: await a.token('m2') })).status).toBe(404);
    expect((await a.call('DELETE', `/api/v1/webhook-endpoints/${created.body.id}`)).status).toBe(200);
    expect((await a.call('DELETE', `/api/v1/webhook-endpoints/${created.body.id}`)).status).toBe(404);
    for (const url of ['ftp://x', 'file:///etc/passwd', 'javascript:alert(1)', 'mailto:ops@merchant.example']) {
      expect((await a.call('POST', '/api/v1/webhook-endpoints', { body: { url } })).status).toBe(400);
    }
    expect((await a.call('POST', '/api/v1/webhook-endpoints', { body: { url: 'not a url' } })).status).toBe(400);
    expect((await a.call('POST', '/api/v1/webhook-endpoints', { body: { url: 'https://x.example', events: ['Bad Event'] } })).status).toBe(400);
  });

  it('delivers signed events once acknowledged after failures, from two instances without doubles, and redelivers on request', async () => {
    const hook = await receiver(2);
    const merchant = 'hooks-m';
    const token = await a.token(merchant);
    const endpoint = await a.call('POST', '/api/v1/webhook-endpoints', { token, body: { url: hook.url, events: ['payment.captured'] } });
    const secret = endpoint.body.secret as string;
    expect(secret).toMatch(/^whsec_/);

    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const via = i % 2 === 0 ? a : b;
      const p = await via.call('POST', '/api/v1/payments', { token, body: { amount: '5.00', currency: 'MYR', order_id: `HOOK-${i}` } });
      expect(p.body.status, JSON.stringify(p.body)).toBe('CAPTURED');
      ids.push(p.body.id);
    }
    await until(() => hook.received.length >= 6);
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.received).toHaveLength(6);
    expect(new Set(hook.received.map((r) => r.id)).size).toBe(6);
    for (const [, n] of hook.attempts) expect(n).toBe(3);
    const paymentIds = hook.received.map((r) => (JSON.parse(r.body) as { data: { id: string } }).data.id).sort();
    expect(paymentIds).toEqual([...ids].sort());

    for (const r of hook.received) {
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(r.signature);
      expect(m).not.toBeNull();
      const expected = createHmac('sha256', secret).update(`${m![1]}.${r.body}`).digest('hex');
      expect(m![2]).toBe(expected);
      expect(Math.abs(Date.now() / 1000 - Number(m![1]))).toBeLessThan(60);
      expect(JSON.parse(r.body)).toMatchObject({ object: 'event', type: 'payment.captured', data: { object: 'payment', status: 'CAPTURED' } });
    }

    const eventId = hook.received[0]!.id;
    const event = await a.call('GET', `/api/v1/events/${eventId}`, { token });
    expect(event.body.delivery).toMatchObject({ status: 'delivered', attempts: 3 });
    expect((await a.call('GET', `/api/v1/events/${eventId}`)).status).toBe(404);
    expect((await a.call('POST', `/api/v1/events/${eventId}/redeliver`)).status).toBe(404);
    const again = await a.call('POST', `/api/v1/events/${eventId}/redeliver`, { token });
    expect(again.status).toBe(202);
    await until(() => hook.received.length === 7);
    expect(hook.received[6]!.id).toBe(eventId);
    await hook.close();
  });

  it('retries only the endpoint that failed: the others receive each event once', async () => {
    const healthy = await receiver(0);
    const flaky = await receiver(2);
    const token = await a.token('two-endpoints');
    for (const hook of [healthy, flaky]) {
      expect((await a.call('POST', '/api/v1/webhook-endpoints', { token, body: { url: hook.url, events: ['payment.captured'] } })).status).toBe(201);
    }
    const p = await a.call('POST', '/api/v1/payments', { token, body: { amount: '3.00', currency: 'MYR' } });
    expect(p.body.status).toBe('CAPTURED');
    await until(() => flaky.received.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(flaky.received).toHaveLength(1);
    expect([...flaky.attempts.values()]).toEqual([3]);
    expect(healthy.received.map((r) => r.id)).toEqual(flaky.received.map((r) => r.id));
    expect([...healthy.attempts.values()]).toEqual([1]);
    // A manual redelivery goes to every endpoint again.
    expect((await a.call('POST', `/api/v1/events/${healthy.received[0]!.id}/redeliver`, { token })).status).toBe(202);
    await until(() => healthy.received.length === 2 && flaky.received.length === 2);
    await healthy.close();
    await flaky.close();
  });

  it('dead-letters after the last attempt and redelivers later', async () => {
    const hook = await receiver(1000);
    const token = await a.token('dead-m');
    await a.call('POST', '/api/v1/webhook-endpoints', { token, body: { url: hook.url, events: ['payment.captured'] } });
    await a.call('POST', '/api/v1/payments', { token, body: { amount: '1.00', currency: 'MYR' } });
    await until(() => [...hook.attempts.values()].some((n) => n >= 3));
    const eventId = [...hook.attempts.keys()][0]!;
    await until(async () => (await a.call('GET', `/api/v1/events/${eventId}`, { token })).body.delivery.status === 'dead');
    hook.attempts.set(eventId, -1000);
    hook.attempts.clear();
    const ok = await receiver(0);
    // Point the merchant's endpoint at a receiver that works, then redeliver the dead event.
    const list = await a.call('GET', '/api/v1/webhook-endpoints', { token });
    await a.call('DELETE', `/api/v1/webhook-endpoints/${list.body.data[0].id}`, { token });
    await a.call('POST', '/api/v1/webhook-endpoints', { token, body: { url: ok.url, events: ['payment.captured'] } });
    expect((await a.call('POST', `/api/v1/events/${eventId}/redeliver`, { token })).status).toBe(202);
    await until(() => ok.received.length === 1);
    expect(ok.received[0]!.id).toBe(eventId);
    await hook.close();
    await ok.close();
  });
});

describe('merchant webhook URLs outside the public internet', () => {
  it('are refused at registration unless private networks are allowed', async () => {
    const strict = await startHarness({ store: stores[0] });
    try {
      for (const url of ['http://127.0.0.1:9000/hook', 'http://localhost/hook', 'http://[::1]/hook', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.5/hook', 'http://[::ffff:192.168.1.1]/hook']) {
        const refused = await strict.call('POST', '/api/v1/webhook-endpoints', { body: { url } });
        expect(refused.status).toBe(400);
        expect(refused.body.error).toMatchObject({ code: 'private_webhook_url', param: 'url' });
      }
      expect((await strict.call('POST', '/api/v1/webhook-endpoints', { body: { url: 'https://hooks.merchant.example/tender' } })).status).toBe(201);
    } finally {
      await strict.close();
    }
  });

  it('are never connected to by deliveries, even through a name that resolves to a local address', async () => {
    const hook = await receiver(0);
    const port = new URL(hook.url).port;
    // The machine's own name resolves to one of its addresses (here 127.0.0.1, through /etc/hosts).
    const endpoints: WebhookEndpoint[] = [
      { id: 'we_literal', merchantId: 'ssrf', url: hook.url, events: ['*'], secret: 'whsec_x', description: null, createdAt: new Date().toISOString() },
      { id: 'we_name', merchantId: 'ssrf', url: `http://${hostname()}:${port}/hook`, events: ['*'], secret: 'whsec_x', description: null, createdAt: new Date().toISOString() },
    ];
    const row: OutboxRow = { id: 'evt_ssrf', merchantId: 'ssrf', type: 'payment.captured', paymentId: null, refundId: null, data: {}, createdAt: new Date().toISOString(), status: 'pending', attempts: 0, nextAttemptAt: new Date().toISOString(), lockedUntil: null, lastError: null, deliveredAt: null, relay: { status: 'pending', attempts: 0, nextAttemptAt: new Date().toISOString(), lockedUntil: null, lastError: null, publishedAt: null } };
    const store = { listWebhookEndpoints: async () => endpoints, listEventDeliveries: async () => [], recordEventDelivery: async () => undefined };
    const strict = createWebhookDeliverer({ store, present: () => ({}) });
    await expect(strict(row)).rejects.toThrow(/we_literal: .*127\.0\.0\.1 is not one.*we_name: .*(is not a public address|ENOTFOUND)/s);
    expect(hook.received).toHaveLength(0);
    // The same receiver is reached once private networks are allowed (a developer's machine).
    const local = { ...store, listWebhookEndpoints: async () => [endpoints[0]!] };
    await createWebhookDeliverer({ store: local, present: () => ({}), allowPrivateNetworks: true })(row);
    expect(hook.received).toHaveLength(1);
    await hook.close();
  });
});
