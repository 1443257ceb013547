import { request } from 'node:http';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { MemoryStore } from '@tender/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startTenderServer, type TenderServer } from '@tender/server-express';
import { startHarness, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const ROUTES: Array<[string, string]> = [
  ['POST', '/api/v1/payments'],
  ['GET', '/api/v1/payments'],
  ['GET', '/api/v1/payments/{id}'],
  ['POST', '/api/v1/payments/{id}/capture'],
  ['POST', '/api/v1/payments/{id}/cancel'],
  ['POST', '/api/v1/payments/{id}/refund'],
  ['GET', '/api/v1/payments/{id}/refunds'],
  ['GET', '/api/v1/refunds/{id}'],
  ['GET', '/api/v1/payments/seamless/config'],
  ['POST', '/api/v1/webhooks/test'],
  ['POST', '/api/v1/webhook-endpoints'],
  ['GET', '/api/v1/webhook-endpoints'],
  ['DELETE', '/api/v1/webhook-endpoints/{id}'],
  ['POST', '/api/v1/upi/static-links'],
  ['GET', '/api/v1/events/{id}'],
  ['POST', '/api/v1/events/{id}/redeliver'],
];

const valid = { amount: '10.00', currency: 'MYR', order_id: 'FUZZ', payment_method: 'FPX', bill_email: 'a@b.co' };

/** A value that is wrong for each field (type or content). */
const badValue: Record<string, fc.Arbitrary<unknown>> = {
  amount: fc.oneof(fc.constantFrom('-1', '1.001', '', ' ', 'abc', '1e400', 'NaN', '0', '00.0', '١٢'), fc.boolean(), fc.array(fc.integer()), fc.object(), fc.double({ min: -1e9, max: -0.01, noNaN: true })),
  currency: fc.oneof(fc.string().filter((s) => !/^[A-Za-z]{3}$/.test(s)), fc.integer(), fc.constant(null), fc.constantFrom('QQQ', 'ZZZ')),
  capture_method: fc.oneof(fc.string().filter((s) => s !== 'automatic' && s !== 'manual'), fc.integer()),
  bill_email: fc.oneof(fc.string().filter((s) => !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim()) && s.trim() !== ''), fc.integer(), fc.object()),
  return_url: fc.oneof(fc.constantFrom('javascript:alert(1)', 'ftp://x', 'not a url', '//x'), fc.integer()),
  metadata: fc.oneof(fc.array(fc.string()), fc.string(), fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }).filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)), fc.integer(), { minKeys: 1 })),
  amount_paisa: fc.oneof(fc.double({ min: 0.1, max: 0.9, noNaN: true }), fc.constantFrom('-5', '1.5', 'x'), fc.integer({ min: -1000, max: -1 })),
};

const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 });
const idText = fc.oneof(fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s.trim() !== '' && s !== '.'), fc.constantFrom('..', '%00', 'pay_' + 'A'.repeat(80), "pay_'; DROP TABLE x;--", '\u0000'));

async function expectClientError(method: string, path: string, init: RequestInit) {
  const res = await fetch(`${h.url}${path}`, { method, ...init });
  const text = await res.text();
  if (res.status >= 500 || res.status < 400) throw new Error(`${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { error?: { type?: unknown; code?: unknown; message?: unknown } };
  if (typeof body.error?.type !== 'string' || typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string') {
    throw new Error(`${method} ${path} -> ${res.status} without error JSON: ${text.slice(0, 200)}`);
  }
  if (/\n\s+at /.test(text)) throw new Error('stack trace in response');
}

describe('fuzzing: malformed input only ever gets 4xx error JSON and stores nothing', () => {
  const auth = () => ({ authorization: `Bearer ${token}` });
  let token = '';
  beforeAll(async () => {
    token = await h.token('fuzz');
  });

  it('malformed JSON text on every body route', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES.filter(([m]) => m === 'POST')), fc.oneof(fc.string({ minLength: 1 }).filter((s) => s.trim() !== '' && s.trim() !== '{}'), fc.json().map((j) => j.slice(0, -1)), fc.constantFrom('{', '[', '{"a":1,"a":2}', '{"amount":1e999999,"currency":"MYR"}', '"str"', 'null', '123', '{"__proto__":{"x":1}}', '\uFEFF{}')), async ([method, route], raw) => {
        const path = route.replace('{id}', 'pay_unknown');
        await expectClientError(method, path, { headers: { ...auth(), 'content-type': 'application/json' }, body: raw });
      }),
      { numRuns: 600 },
    );
  });

  it('create bodies with one wrong field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(badValue)), fc.gen(), async (field, gen) => {
        const body = { ...valid, [field]: gen(() => badValue[field]!) };
        await expectClientError('POST', '/api/v1/payments', { headers: { ...auth(), 'content-type': 'application/json', 'idempotency-key': `fuzz-${Math.random()}` }, body: JSON.stringify(body) });
      }),
      { numRuns: 800 },
    );
  });

  it('arbitrary JSON documents as bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/v1/payments', '/api/v1/webhook-endpoints'), fc.anything({ maxDepth: 3 }), async (path, value) => {
        const text = JSON.stringify(value) ?? 'null';
        await expectClientError('POST', path, { headers: { ...auth(), 'content-type': 'application/json' }, body: text });
      }),
      { numRuns: 500 },
    );
  });

  it('random ids, query strings and headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES.filter(([, r]) => r.includes('{id}'))),
        idText,
        headerText,
        headerText,
        fc.constantFrom('authorization', 'idempotency-key', 'content-type', 'content-length', 'x-request-id', 'traceparent'),
        async ([method, route], id, value, query, header) => {
          const path = `${route.replace('{id}', encodeURIComponent(id))}?${encodeURIComponent(query)}=${encodeURIComponent(value)}`;
          const headers: Record<string, string> = { ...auth(), 'content-type': 'application/json' };
          if (header !== 'content-length') headers[header] = value;
          try {
            await expectClientError(method, path, { headers, ...(method === 'GET' ? {} : { body: '{}' }) });
          } catch (error) {
            // undici refuses some header values before sending; that is the client, not the server.
            if (error instanceof TypeError) return;
            throw error;
          }
        },
      ),
      { numRuns: 800 },
    );
  });

  it('list queries with bad values', async () => {
    const bad: Record<string, fc.Arbitrary<string>> = {
      limit: fc.oneof(fc.constantFrom('0', '101', '-1', '1.5', 'x', ''), fc.string().filter((v) => !/^0*([1-9]\d?|100)$/.test(v))),
      starting_after: fc.oneof(fc.constantFrom('\u0000', 'a b', 'a'.repeat(100), "x'--"), fc.string({ minLength: 65 })),
      status: fc.string().filter((v) => !['PENDING', 'REQUIRES_ACTION', 'PROCESSING', 'AUTHORIZED', 'CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'FAILED', 'CANCELLED', 'EXPIRED'].includes(v)),
      order_id: fc.oneof(fc.constantFrom('\u0000', '\u001f'), fc.string({ minLength: 65, maxLength: 200 })),
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(bad)), fc.gen(), async (key, gen) => {
        const value = gen(() => bad[key]!);
        await expectClientError('GET', `/api/v1/payments?${key}=${encodeURIComponent(value)}`, { headers: auth() });
      }),
      { numRuns: 300 },
    );
  });

  it('stored nothing', async () => {
    const stored = await h.store.listPayments({ merchantId: 'fuzz', limit: 10 });
    expect(stored.map((p) => JSON.stringify({ amount: p.amount, metadata: p.metadata, cm: p.captureMethod, ret: p.returnUrl, c: p.currency, e: p.customer }))).toEqual([]);
    const list = await h.call('GET', '/api/v1/webhook-endpoints', { token });
    expect(list.body.data).toEqual([]);
  });
});

describe('fuzzing every route of a simulation-mode server (demo included) with bodies that are no object', () => {
  let sim: TenderServer;
  let authorized = '';
  beforeAll(async () => {
    sim = await startTenderServer({
      env: { PORT: '0', RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h' },
      logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
      store: new MemoryStore(),
    });
    const created = await fetch(`${sim.url}/api/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.devToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '20.00', currency: 'MYR', gateway: 'stripe', payment_method: 'pm_card_visa', capture_method: 'manual' }),
    });
    authorized = ((await created.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await sim?.close();
  });

  const SIM_ROUTES: Array<[string, string]> = [
    ['POST', '/api/v1/payments'],
    ['GET', '/api/v1/payments'],
    ['GET', '/api/v1/payments/seamless/config'],
    ['GET', '/api/v1/payments/seamless/config?order_id=FZ-1&amount=10.00&payment_method=FPX'],
    ['GET', '/api/v1/payments/{pay}'],
    ['POST', '/api/v1/payments/{pay}/capture'],
    ['POST', '/api/v1/payments/{pay}/cancel'],
    ['POST', '/api/v1/payments/{pay}/refund'],
    ['GET', '/api/v1/payments/{pay}/refunds'],
    ['GET', '/api/v1/payments/{pay}/transitions'],
    ['GET', '/api/v1/refunds/re_unknown'],
    ['POST', '/api/v1/webhook-endpoints'],
    ['GET', '/api/v1/webhook-endpoints'],
    ['GET', '/api/v1/webhook-endpoints/we_unknown'],
    ['DELETE', '/api/v1/webhook-endpoints/we_unknown'],
    ['GET', '/api/v1/events/evt_unknown'],
    ['POST', '/api/v1/events/evt_unknown/redeliver'],
    ['POST', '/api/v1/webhooks/fiuu'],
    ['POST', '/api/v1/webhooks/stripe'],
    ['POST', '/api/v1/webhooks/paypal'],
    ['POST', '/api/v1/webhooks/upi'],
    ['POST', '/api/v1/webhooks/nope'],
    ['POST', '/api/v1/upi/static-links'],
    ['GET', '/api/v1/payments/fiuu/return'],
    ['POST', '/api/v1/payments/fiuu/return'],
    ['GET', '/demo'],
    ['GET', '/demo/api/fiuu/config'],
    ['POST', '/demo/api/stripe'],
    ['POST', '/demo/api/paypal'],
    ['POST', '/demo/api/upi'],
    ['GET', '/demo/upi/app/{pay}'],
    ['GET', '/demo/return'],
    ['GET', '/demo/api/payments/{pay}'],
  ];
  const nested = (depth: number, open: string, close: string, inner = '1') => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
  const NOT_OBJECTS = [
    'null', '[]', '[1,2]', '[{}]', '[null]', '"x"', '""', '0', '-1', '1e400', '123456789012345678901234567890', 'true', 'false',
    nested(10, '[', ']'), nested(25, '[', ']'), nested(5000, '[', ']'),
    nested(10, '{"a":', '}'), nested(25, '{"a":', '}'), nested(3000, '{"a":', '}'),
    '{"amount":null,"currency":null}', '{"amount":[],"currency":{}}', '{"metadata":null,"amount":{"a":{"b":[]}}}',
  ];

  /** Sends any method with any body (fetch refuses bodies on GET). */
  function raw(method: string, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; type: string; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${sim.url}${path}`, { method, headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('never answers 500, and every refusal is the error JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SIM_ROUTES),
        // No plain objects: `{}` is a valid capture or cancel and would rightly move the payment.
        fc.oneof(
          fc.constantFrom(...NOT_OBJECTS),
          fc
            .anything({ maxDepth: 4 })
            .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
            .map((v) => JSON.stringify(v) ?? 'null'),
        ),
        fc.boolean(),
        async ([method, route], body, known) => {
          const path = route.replace('{pay}', known ? authorized : 'pay_unknown');
          const res = await raw(method, path, body, { authorization: `Bearer ${sim.devToken}` });
          if (res.status >= 500) throw new Error(`${method} ${path} with ${body.slice(0, 80)} -> ${res.status} ${res.text.slice(0, 200)}`);
          if (res.status >= 400) {
            const parsed = JSON.parse(res.text) as { error?: { type?: unknown; code?: unknown; message?: unknown } };
            expect(typeof parsed.error?.type, `${method} ${path}`).toBe('string');
            expect(typeof parsed.error?.code).toBe('string');
            expect(res.text).not.toMatch(/\n\s+at /);
          }
        },
      ),
      { numRuns: 600 },
    );
    // Nothing moved the payment the routes were pointed at.
    const payment = await fetch(`${sim.url}/api/v1/payments/${authorized}`, { headers: { authorization: `Bearer ${sim.devToken}` } });
    expect(((await payment.json()) as { status: string }).status).toBe('AUTHORIZED');
  });

  it('the demo API refuses a body that is no object with 400, charging nothing', async () => {
    for (const path of ['/demo/api/stripe', '/demo/api/paypal', '/demo/api/upi']) {
      for (const body of ['null', '[]', '"x"', '5', '[{"amount":"1.00"}]']) {
        const res = await raw('POST', path, body, {});
        expect(res.status, `${path} ${body}`).toBe(400);
        expect(JSON.parse(res.text).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body' });
      }
    }
  });
});
