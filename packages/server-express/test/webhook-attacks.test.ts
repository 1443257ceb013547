/**
 * Inbound gateway webhooks attacked through the real server over HTTP, with the real Stripe and Fiuu
 * gateways pointed at their sandboxes on loopback. The sandboxes deliver to an endpoint that only
 * records and acknowledges, so each test decides exactly what reaches the server:
 * replays (concurrent), tampered bodies, old signatures, unsigned Fiuu returns, a signed but
 * incomplete Stripe event, and bodies that are not JSON, too large or empty. Nothing may answer 500,
 * and nothing but a genuine, signed, complete event may move a payment.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, type OutboxEvent, type Store } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createFiuuGateway, type FiuuHostedPayment } from '@tender/fiuu';
import { completeHostedPayment, startFiuuSandbox, type FiuuSandbox } from '@tender/fiuu/sandbox';
import { createStripeGateway, signStripePayload } from '@tender/stripe';
import { completeCustomerAction, startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';
import { startHarness, type Harness } from './helpers';
import { dropSchema, freshSchema, pgStore } from './pg';

const webhookSecret = 'whsec_webhook_attacks';
const FIUU = { merchantId: 'SB_attacks', verifyKey: 'vk_attacks_0123456789abcdef0123456', secretKey: 'sk_attacks_fedcba9876543210fedcba9' };

interface Recorded {
  id: string;
  type: string;
  object: Record<string, unknown>;
  headers: Record<string, string>;
  rawBody: Buffer;
}

let stripeSandbox: StripeSandbox;
let fiuuSandbox: FiuuSandbox;
let recorder: Server;
let recorderUrl: string;
const recorded: Recorded[] = [];
const transports: Array<{ close(): Promise<void> }> = [];

/** The headers Stripe's request carried that matter to a receiver (not the hop's own: host, length...). */
function headersOf(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['content-type', 'user-agent', 'stripe-signature']) if (typeof h[k] === 'string') out[k] = h[k];
  return out;
}

beforeAll(async () => {
  // Stands in for the merchant's endpoint while the sandboxes act: keeps Stripe's signed requests,
  // acknowledges Fiuu's, forwards nothing.
  recorder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      if (req.url?.startsWith('/stripe')) {
        const event = JSON.parse(rawBody.toString('utf8')) as { id: string; type: string; data: { object: Record<string, unknown> } };
        recorded.push({ id: event.id, type: event.type, object: event.data.object, headers: headersOf(req.headers), rawBody });
        res.writeHead(200).end('{"received":true}');
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(new URLSearchParams(rawBody.toString()).get('nbcb') === '1' ? 'CBTOKEN:MPSTATOK' : '');
      }
    });
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  stripeSandbox = await startStripeSandbox({ webhook: { url: `${recorderUrl}/stripe`, secret: webhookSecret, retryDelayMs: 5 } });
  fiuuSandbox = await startFiuuSandbox({ merchants: [{ ...FIUU, notificationUrl: `${recorderUrl}/fiuu`, callbackUrl: `${recorderUrl}/fiuu` }] });
});

afterAll(async () => {
  await Promise.allSettled(transports.map((t) => t.close()));
  await stripeSandbox?.close();
  await fiuuSandbox?.close();
  await new Promise((r) => recorder?.close(r));
});

async function harness(store: Store = new MemoryStore()): Promise<Harness> {
  const stripeTransport = createHttpTransport({ gateway: 'stripe', retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
  const fiuuTransport = createHttpTransport({ gateway: 'fiuu', timeoutMs: 2000, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
  transports.push(stripeTransport, fiuuTransport);
  const stripe = createStripeGateway({ secretKey: stripeSandbox.secretKey, webhookSecret, baseUrl: stripeSandbox.url, transport: stripeTransport });
  const fiuu = createFiuuGateway({ ...FIUU, sandbox: true, paymentHost: fiuuSandbox.paymentHost, apiHost: fiuuSandbox.apiHost, transport: fiuuTransport, requery: { minIntervalMs: 0, perSecond: 1000 } });
  return startHarness({ store, gateways: [stripe, fiuu] });
}

const post = (h: Harness, path: string, body: Uint8Array | string, headers: Record<string, string> = {}) =>
  fetch(`${h.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : Buffer.from(body) });

async function answer(res: Response): Promise<{ status: number; body: any; text: string }> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, text };
}

/** A Stripe 3-D Secure payment made over REST, then authenticated at the sandbox: the server has not heard of the success yet. */
async function stripePaidAtStripe(h: Harness, amount = '42.00') {
  const created = await h.call('POST', '/api/v1/payments', {
    body: { amount, currency: 'USD', payment_method: 'pm_card_authenticationRequired', gateway: 'stripe', return_url: 'https://shop.example/done', order_id: `ORD-${Math.random().toString(36).slice(2, 10)}` },
    headers: { 'Idempotency-Key': `create-${Math.random()}` },
  });
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('REQUIRES_ACTION');
  const pi = created.body.gateway_reference as string;
  await completeCustomerAction(stripeSandbox, pi, 'approve');
  await stripeSandbox.webhooks.idle();
  const succeeded = recorded.find((r) => r.type === 'payment_intent.succeeded' && r.object.id === pi)!;
  expect(succeeded).toBeTruthy();
  return { id: created.body.id as string, pi, succeeded };
}

const paymentOf = async (h: Harness, id: string) => (await h.call('GET', `/api/v1/payments/${id}`)).body;

function signed(payload: string, timestamp?: number): Record<string, string> {
  return { 'content-type': 'application/json', 'stripe-signature': signStripePayload({ payload, secret: webhookSecret, ...(timestamp !== undefined ? { timestamp } : {}) }) };
}

/** Every error answer is the typed JSON error, never a 5xx, never a stack. */
function expectTyped4xx(a: { status: number; body: any; text: string }, status?: number) {
  expect(a.status, a.text).toBeGreaterThanOrEqual(400);
  expect(a.status, a.text).toBeLessThan(500);
  if (status) expect(a.status, a.text).toBe(status);
  expect(a.body?.error, a.text).toMatchObject({ type: expect.any(String), code: expect.any(String), message: expect.any(String) });
  expect(a.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
}

describe.each([
  ['MemoryStore', async () => ({ store: new MemoryStore() as Store, drop: async () => undefined })],
  [
    'Postgres',
    async () => {
      const schema = freshSchema('webhook_attacks');
      const store = await pgStore(schema, 20);
      return {
        store: store as Store,
        drop: async () => {
          await store.close();
          await dropSchema(schema);
        },
      };
    },
  ],
] as const)('the same signed Stripe webhook replayed 20 times at once (%s)', (_name, makeStore) => {
  it('has exactly one effect, and every copy is acknowledged 200', async () => {
    const { store, drop } = await makeStore();
    const h = await harness(store);
    try {
      const { id, succeeded } = await stripePaidAtStripe(h, '19.99');
      const published: OutboxEvent[] = [];
      const off = h.tender.events.on((e) => {
        if (e.paymentId === id) published.push(e);
      });
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(h, '/api/v1/webhooks/stripe', succeeded.rawBody, succeeded.headers).then(answer)));
      off();
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(await paymentOf(h, id)).toMatchObject({ status: 'CAPTURED', amount: '19.99' });
      const trail = await h.tender.transitions(id, { merchantId: 'm1' });
      expect(trail.filter((t) => t.to === 'CAPTURED' && t.from !== t.to)).toHaveLength(1);
      expect(published.filter((e) => e.type === 'payment.captured')).toHaveLength(1);
      const metrics = await (await fetch(`${h.url}/metrics`)).text();
      expect(metrics).toMatch(/webhook_events_total\{gateway="stripe",outcome="applied"\} 1\n/);
      expect(metrics).toMatch(/webhook_events_total\{gateway="stripe",outcome="duplicate"\} 19\n/);

      // A refund made in the Stripe dashboard is not idempotent by nature: each application would
      // insert a Refund. Twenty concurrent copies of its refund.created make exactly one.
      stripeSandbox.dashboard.refund(succeeded.object.id as string, 500);
      await stripeSandbox.webhooks.idle();
      const refundCreated = recorded.find((r) => r.type === 'refund.created' && r.object.payment_intent === succeeded.object.id)!;
      const refundAnswers = await Promise.all(Array.from({ length: 20 }, () => post(h, '/api/v1/webhooks/stripe', refundCreated.rawBody, refundCreated.headers).then(answer)));
      expect(refundAnswers.map((a) => a.status)).toEqual(Array(20).fill(200));
      const refunds = (await h.call('GET', `/api/v1/payments/${id}/refunds`)).body;
      const list = (Array.isArray(refunds) ? refunds : refunds.data) as Array<{ amount: string; status: string; gateway_reference: string }>;
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ amount: '5.00', status: 'SUCCEEDED', gateway_reference: refundCreated.object.id });
      expect(await paymentOf(h, id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', amount_refunded: '5.00' });
    } finally {
      await h.close();
      await drop();
    }
  });
});

describe('forged, stale and malformed webhooks through the server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a tampered Stripe body is 400 webhook_signature_error and changes nothing; the genuine one then applies', async () => {
    const { id, succeeded } = await stripePaidAtStripe(h, '55.00');
    const text = succeeded.rawBody.toString('utf8');
    const tampers = [
      text.replace('"amount_received": 5500', '"amount_received": 100'),
      text.replace(`"id": "${succeeded.id}"`, `"id": "${succeeded.id}x"`),
      text.replace('"status": "succeeded"', '"status": "canceled"').replace('"type": "payment_intent.succeeded"', '"type": "payment_intent.canceled"'),
      `${text} `,
    ];
    for (const body of tampers) {
      expect(body).not.toBe(text);
      const a = await answer(await post(h, '/api/v1/webhooks/stripe', body, succeeded.headers));
      expectTyped4xx(a, 400);
      expect(a.body.error.type).toBe('webhook_signature_error');
    }
    expect(await paymentOf(h, id)).toMatchObject({ status: 'REQUIRES_ACTION', amount_captured: '0.00' });
    expect((await answer(await post(h, '/api/v1/webhooks/stripe', succeeded.rawBody, succeeded.headers))).status).toBe(200);
    expect((await paymentOf(h, id)).status).toBe('CAPTURED');
  });

  it('an old signature timestamp is 400 and changes nothing', async () => {
    const { id, succeeded } = await stripePaidAtStripe(h, '12.00');
    const payload = succeeded.rawBody.toString('utf8');
    const old = await answer(await post(h, '/api/v1/webhooks/stripe', payload, signed(payload, Math.floor(Date.now() / 1000) - 3600)));
    expectTyped4xx(old, 400);
    expect(old.body.error.type).toBe('webhook_signature_error');
    expect((await paymentOf(h, id)).status).toBe('REQUIRES_ACTION');
    // The same bytes freshly signed are fine (it was only the timestamp).
    expect((await answer(await post(h, '/api/v1/webhooks/stripe', payload, signed(payload)))).status).toBe(200);
    expect((await paymentOf(h, id)).status).toBe('CAPTURED');
  });

  it('an unsigned (or re-signed-by-nobody) Fiuu return claiming success changes nothing', async () => {
    const created = await h.call('POST', '/api/v1/payments', {
      body: { amount: '88.00', currency: 'MYR', payment_method: 'FPX', gateway: 'fiuu', order_id: `ORD-F-${Math.random().toString(36).slice(2, 10)}`, return_url: `${h.url}/api/v1/payments/fiuu/return`, bill_name: 'Ali', bill_email: 'ali@example.com' },
      headers: { 'Idempotency-Key': `fiuu-${Math.random()}` },
    });
    expect(created.body.status).toBe('REQUIRES_ACTION');
    const stored = await h.tender.payments.get(created.body.id, { merchantId: 'm1' });
    const { tranID, returnForm } = await completeHostedPayment(stored.gatewayData.hostedPayment as FiuuHostedPayment, 'decline');
    await fiuuSandbox.idle();
    expect(returnForm!.fields.status).toBe('11');
    const forged: Record<string, string> = { ...returnForm!.fields, status: '00', error_code: '', error_desc: '' };
    const { skey: _skey, ...unsigned } = forged;
    for (const fields of [forged, unsigned]) {
      const body = new URLSearchParams(fields).toString();
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      // The browser's return route: renders a page, never moves the payment.
      const page = await post(h, '/api/v1/payments/fiuu/return', body, form);
      expect(page.status).toBeLessThan(500);
      await page.text();
      // The webhook route, as a return, as a notification and as a callback.
      for (const extra of [{}, { nbcb: '2' }, { nbcb: '1' }] as Array<Record<string, string>>) {
        const a = await answer(await post(h, '/api/v1/webhooks/fiuu', new URLSearchParams({ ...fields, ...extra }).toString(), form));
        expectTyped4xx(a, 400);
        expect(a.body.error.type).toBe('webhook_signature_error');
      }
    }
    const after = await paymentOf(h, created.body.id);
    expect(after).toMatchObject({ status: 'REQUIRES_ACTION', gateway_reference: null });
    const trail = await h.tender.transitions(created.body.id, { merchantId: 'm1' });
    expect(trail.map((t) => t.to)).toEqual(['PENDING', 'REQUIRES_ACTION']);
    // The payment is really declined at Fiuu; the genuine notification says so.
    expect(fiuuSandbox.transaction(tranID)!.status).toBe('11');
  });

  it('a signed payment_intent.succeeded without amount_received is never a 500: 400, or 200 after a requery with the payment right', async () => {
    const { id, pi, succeeded } = await stripePaidAtStripe(h, '27.50');
    const event = JSON.parse(succeeded.rawBody.toString('utf8')) as { id: string; data: { object: Record<string, unknown> } };
    delete event.data.object.amount_received;
    event.id = `${event.id}_incomplete`;
    const payload = JSON.stringify(event, null, 2);
    const a = await answer(await post(h, '/api/v1/webhooks/stripe', payload, signed(payload)));
    expect(a.status, a.text).toBeLessThan(500);
    console.log(`[webhook-attacks] payment_intent.succeeded without amount_received: HTTP ${a.status} ${a.text.slice(0, 200)}`);
    const after = await paymentOf(h, id);
    if (a.status === 200) {
      expect(after).toMatchObject({ status: 'CAPTURED', amount_captured: '27.50', gateway_reference: pi });
    } else {
      expectTyped4xx(a, 400);
      expect(after).toMatchObject({ status: 'REQUIRES_ACTION', gateway_reference: pi });
    }
    expect(after.amount_captured).not.toMatch(/NaN|undefined/);
  });

  it('Stripe bodies that are not JSON, not an Event, empty or huge get a typed 4xx, never a 500', async () => {
    const bodies: Array<[string, string | Buffer, Record<string, string>]> = [];
    const signedCase = (name: string, payload: string) => bodies.push([`${name} (signed)`, payload, signed(payload)]);
    const unsignedCase = (name: string, payload: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) => bodies.push([name, payload, headers]);
    signedCase('not JSON', 'this is not json');
    signedCase('truncated JSON', '{"id":"evt_1","object":"event"');
    signedCase('JSON null', 'null');
    signedCase('JSON array', '[]');
    signedCase('JSON string', '"evt"');
    signedCase('JSON number', '12');
    signedCase('an object that is not an event', '{"hello":1}');
    signedCase('an event without data', JSON.stringify({ id: 'evt_nodata', object: 'event', type: 'payment_intent.succeeded', created: 1 }));
    signedCase('an event whose object is null', JSON.stringify({ id: 'evt_null', object: 'event', type: 'payment_intent.succeeded', created: 1, data: { object: null } }));
    signedCase('an event with an empty PaymentIntent', JSON.stringify({ id: 'evt_empty_pi', object: 'event', type: 'payment_intent.succeeded', created: 1, data: { object: {} } }));
    signedCase('a refund event with an empty refund', JSON.stringify({ id: 'evt_empty_re', object: 'event', type: 'refund.created', created: 1, data: { object: {} } }));
    signedCase('a PaymentIntent whose amounts are strings', JSON.stringify({ id: 'evt_str', object: 'event', type: 'payment_intent.succeeded', created: 1, data: { object: { id: 'pi_x', object: 'payment_intent', amount: '10', amount_received: 'ten', currency: 'usd', status: 'succeeded', metadata: {} } } }));
    signedCase('a PaymentIntent with an unknown currency', JSON.stringify({ id: 'evt_cur', object: 'event', type: 'payment_intent.succeeded', created: 1, data: { object: { id: 'pi_y', object: 'payment_intent', amount: 10, amount_received: 10, currency: 'zzz', status: 'succeeded', metadata: {} } } }));
    signedCase('empty', '');
    unsignedCase('empty, no signature', '');
    unsignedCase('not JSON, no signature', 'garbage');
    unsignedCase('a malformed signature header', '{}', { 'content-type': 'application/json', 'stripe-signature': 't=abc,v1=zz' });
    unsignedCase('huge (2 MB)', Buffer.alloc(2 * 1024 * 1024, 0x61));
    const huge = JSON.stringify({ id: 'evt_huge', object: 'event', type: 'x', data: { object: { pad: 'a'.repeat(1_200_000) } } });
    bodies.push(['huge (signed)', huge, signed(huge)]);
    unsignedCase('form-encoded', 'a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' });
    const failures: string[] = [];
    for (const [name, body, headers] of bodies) {
      const a = await answer(await post(h, '/api/v1/webhooks/stripe', typeof body === 'string' ? body : new Uint8Array(body), headers));
      const typed = a.status >= 400 && a.status < 500 && typeof a.body?.error?.type === 'string' && typeof a.body?.error?.code === 'string';
      if (!typed) failures.push(`${name}: HTTP ${a.status} ${a.text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });

  it('Fiuu bodies that are not forms, empty or huge get a typed 4xx, never a 500', async () => {
    const cases: Array<[string, string | Buffer, Record<string, string>]> = [
      ['empty', '', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['JSON', '{"tranID":"1"}', { 'content-type': 'application/json' }],
      ['binary', Buffer.from([0, 1, 2, 255, 254, 0x25, 0x25]), { 'content-type': 'application/octet-stream' }],
      ['broken percent-encoding', 'tranID=%E0%A4%A&status=00', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['huge (2 MB)', Buffer.alloc(2 * 1024 * 1024, 0x61), { 'content-type': 'application/x-www-form-urlencoded' }],
      ['many fields', Array.from({ length: 5000 }, (_, i) => `f${i}=${i}`).join('&'), { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    const failures: string[] = [];
    for (const [name, body, headers] of cases) {
      const a = await answer(await post(h, '/api/v1/webhooks/fiuu', typeof body === 'string' ? body : new Uint8Array(body), headers));
      const typed = a.status >= 400 && a.status < 500 && typeof a.body?.error?.type === 'string';
      if (!typed) failures.push(`${name}: HTTP ${a.status} ${a.text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });
});
