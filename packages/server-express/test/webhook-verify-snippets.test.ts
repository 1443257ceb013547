/**
 * The verification snippets of docs/webhooks.md (examples/webhook-verify/verify.mjs and verify.py),
 * run as they are against a real signed delivery from a real server in simulation mode.
 */
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const snippets = {
  node: join(root, 'examples/webhook-verify/verify.mjs'),
  python: join(root, 'examples/webhook-verify/verify.py'),
};

interface Delivery {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let server: TenderServer;
let receiver: Server;
let receiverUrl: string;
let dir: string;
const deliveries: Delivery[] = [];

beforeAll(async () => {
  // The merchant's receiver keeps the raw bytes of each delivery, as a verifying receiver must.
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.end('ok');
    });
  }).listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/tender-webhooks`;

  dir = mkdtempSync(join(tmpdir(), 'tender-verify-'));
  const quiet = new Writable({ write(_chunk, _e, cb) { cb(); } });
  // Simulation mode: sandboxes on loopback, and webhooks may reach loopback receivers.
  server = await startTenderServer({ env: { PORT: '0', TENDER_DATA_DIR: dir, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '100ms' }, logger: createLogger({ destination: quiet }) });
});
afterAll(async () => {
  await server?.close();
  await new Promise((r) => receiver?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.devToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json() };
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for a delivery');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs one snippet from the command line as documented; true when it accepted the delivery. */
function accepts(language: keyof typeof snippets, body: Buffer, header: string, secret: string): boolean {
  const command = language === 'node' ? process.execPath : 'python3';
  const run = spawnSync(command, [snippets[language], header], { input: body, env: { ...process.env, TENDER_WEBHOOK_SECRET: secret }, encoding: 'utf8', timeout: 20_000 });
  if (run.error) throw run.error;
  if (run.status !== 0 && run.status !== 1) throw new Error(`${language} snippet crashed (${run.status}): ${run.stderr}`);
  expect(run.stdout.trim()).toBe(run.status === 0 ? 'valid' : 'invalid');
  return run.status === 0;
}

/** A header the real secret signs correctly, at a chosen time. */
function signedAt(secret: string, body: Buffer, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')}`;
}

describe('docs/webhooks.md verification snippets', () => {
  it('the doc carries each snippet file verbatim, in a code block', () => {
    const doc = readFileSync(join(root, 'docs/webhooks.md'), 'utf8');
    expect(doc).toContain('```js\n' + readFileSync(snippets.node, 'utf8') + '```');
    expect(doc).toContain('```python\n' + readFileSync(snippets.python, 'utf8') + '```');
    expect(readFileSync(join(root, 'docs/README.md'), 'utf8')).toContain('(webhooks.md)');
  });

  it('accepts a real signed delivery and rejects a tampered body, a wrong secret and an old timestamp', async () => {
    const created = await api('POST', '/api/v1/webhook-endpoints', { url: receiverUrl, events: ['payment.captured'], description: 'snippet test' });
    expect(created.status).toBe(201);
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^whsec_/);
    // The secret is shown once: reading the endpoint back does not reveal it.
    const readBack = await api('GET', `/api/v1/webhook-endpoints/${created.body.id}`);
    expect(readBack.status).toBe(200);
    expect(readBack.body.secret).toBeUndefined();

    const payment = await api('POST', '/api/v1/payments', { amount: '42.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' });
    expect(payment.body.status).toBe('CAPTURED');
    await until(() => deliveries.some((d) => JSON.parse(d.body.toString('utf8')).payment_id === payment.body.id));
    const delivery = deliveries.find((d) => JSON.parse(d.body.toString('utf8')).payment_id === payment.body.id)!;

    // What the doc says arrives: the version 1 envelope, with its id and type in headers too.
    const event = JSON.parse(delivery.body.toString('utf8'));
    expect(event).toMatchObject({ object: 'event', version: 1, type: 'payment.captured', payment_id: payment.body.id, data: { id: payment.body.id, status: 'CAPTURED' } });
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['tender-event-id']).toBe(event.id);
    expect(delivery.headers['tender-event-type']).toBe('payment.captured');
    const header = String(delivery.headers['tender-signature']);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const t = Number(/^t=(\d+)/.exec(header)![1]);
    expect(Math.abs(Date.now() / 1000 - t)).toBeLessThan(60);

    const tampered = Buffer.from(delivery.body.toString('utf8').replace('"42.00"', '"4200.00"'));
    expect(tampered.equals(delivery.body)).toBe(false);
    const reserialised = Buffer.from(JSON.stringify(event, null, 2));
    const old = signedAt(secret, delivery.body, Math.floor(Date.now() / 1000) - 600);

    for (const language of ['node', 'python'] as const) {
      expect(accepts(language, delivery.body, header, secret), `${language}: genuine delivery`).toBe(true);
      expect(accepts(language, tampered, header, secret), `${language}: tampered body`).toBe(false);
      expect(accepts(language, reserialised, header, secret), `${language}: re-serialised JSON`).toBe(false);
      expect(accepts(language, delivery.body, header, `${secret}x`), `${language}: wrong secret`).toBe(false);
      expect(accepts(language, delivery.body, old, secret), `${language}: signed 10 minutes ago`).toBe(false);
      // A correctly signed timestamp inside the tolerance passes, so the rejection above is the tolerance's.
      expect(accepts(language, delivery.body, signedAt(secret, delivery.body, Math.floor(Date.now() / 1000) - 60), secret), `${language}: signed a minute ago`).toBe(true);
      expect(accepts(language, delivery.body, header.replace(/v1=[0-9a-f]+/, 'v1='), secret), `${language}: empty signature`).toBe(false);
      expect(accepts(language, delivery.body, '', secret), `${language}: no header`).toBe(false);
    }
  });
});
