/**
 * PayPal and UPI (Razorpay) webhooks attacked through the real server over HTTP, with the real
 * gateways pointed at their sandboxes on loopback. The sandboxes deliver to a recorder that only
 * acknowledges, so each test decides what reaches the server: concurrent replays, tampered bodies, a
 * foreign certificate URL, events in the worst order, and bodies that are not JSON, empty or huge.
 * Nothing may answer 500, and nothing but a genuine, signed event may move a payment.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport } from '@tender/core';
import { createPayPalGateway } from '@tender/paypal';
import { approveOrder, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { createUpiGateway } from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';
import { startHarness, type Harness } from './helpers';

interface Recorded {
  path: string;
  headers: Record<string, string>;
  rawBody: Buffer;
  json: any;
}

let paypalSandbox: PayPalSandbox;
let upiSandbox: RazorpaySandbox;
let recorder: Server;
let recorderUrl: string;
const recorded: Recorded[] = [];
const transports: Array<{ close(): Promise<void> }> = [];
let h: Harness;

beforeAll(async () => {
  recorder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && (k.startsWith('paypal-') || k.startsWith('x-razorpay-') || k === 'content-type')) headers[k] = v;
      let json: unknown = null;
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch {
        // a certificate fetch or anything else: recorded as it came
      }
      recorded.push({ path: req.url ?? '', headers, rawBody, json });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  paypalSandbox = await startPayPalSandbox({ webhook: { url: `${recorderUrl}/paypal`, retryDelayMs: 5 } });
  upiSandbox = await startRazorpaySandbox({ webhook: { url: `${recorderUrl}/upi`, retryDelayMs: 5 } });
  const t = () => {
    const transport = createHttpTransport({ gateway: 'x', retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
    transports.push(transport);
    return transport;
  };
  const paypal = createPayPalGateway({ clientId: paypalSandbox.clientId, clientSecret: paypalSandbox.clientSecret, webhookId: paypalSandbox.webhookId, mode: 'sandbox', baseUrl: paypalSandbox.url, certTrust: paypalSandbox.certTrust, transport: t() });
  const upi = createUpiGateway({ provider: 'razorpay', keyId: upiSandbox.keyId, keySecret: upiSandbox.keySecret, webhookSecret: upiSandbox.webhookSecret, baseUrl: upiSandbox.url, defaultIp: '127.0.0.1', transport: t() });
  h = await startHarness({ gateways: [paypal, upi] });
});

afterAll(async () => {
  await h?.close();
  await Promise.allSettled(transports.map((x) => x.close()));
  await Promise.allSettled([paypalSandbox?.close(), upiSandbox?.close()]);
  await new Promise((r) => recorder?.close(r));
});

const post = (gateway: string, headers: Record<string, string>, body: Buffer | string) =>
  fetch(`${h.url}/api/v1/webhooks/${gateway}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) }).then(async (r) => ({ status: r.status, body: await r.text() }));
const deliver = (r: Recorded) => post(r.path.slice(1), r.headers, r.rawBody);

async function waitFor(pred: (r: Recorded) => boolean, ms = 10_000): Promise<Recorded> {
  const end = Date.now() + ms;
  for (;;) {
    const hit = recorded.find(pred);
    if (hit) return hit;
    if (Date.now() > end) throw new Error('no such delivery was recorded');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const upiBody = { amount: '250.00', currency: 'INR', payment_method: 'upi', bill_email: 'payer@example.com', bill_mobile: '+919876543210' };
async function paidUpi() {
  const created = await h.call('POST', '/api/v1/payments', { body: upiBody });
  expect(created.status).toBe(201);
  const rzpId = created.body.gateway_reference as string;
  upiSandbox.approve(rzpId);
  const captured = await waitFor((r) => r.path === '/upi' && r.json?.event === 'payment.captured' && r.json?.payload?.payment?.entity?.id === rzpId);
  return { id: created.body.id as string, rzpId, captured };
}

async function approvedPayPal() {
  const created = await h.call('POST', '/api/v1/payments', { body: { amount: '30.00', currency: 'USD', payment_method: 'paypal', return_url: 'https://merchant.example/back' } });
  expect(created.status).toBe(201);
  const orderId = created.body.gateway_reference as string;
  await approveOrder(created.body.next_action.url, 'approve');
  const approved = await waitFor((r) => r.path === '/paypal' && r.json?.event_type === 'CHECKOUT.ORDER.APPROVED' && r.json?.resource?.id === orderId);
  return { id: created.body.id as string, orderId, approved };
}

const status = async (id: string) => (await h.call('GET', `/api/v1/payments/${id}`)).body;

describe('UPI webhooks through the server', () => {
  it('a genuine payment.captured delivered 6 times at once has one effect, and every copy is acknowledged', async () => {
    const { id, captured } = await paidUpi();
    const answers = await Promise.all(Array.from({ length: 6 }, () => deliver(captured)));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    const p = await status(id);
    expect(p).toMatchObject({ status: 'CAPTURED', amount_captured: '250.00' });
    const trail = (await h.call('GET', `/api/v1/payments/${id}/transitions`)).body.data as Array<{ to: string }>;
    expect(trail.filter((t) => t.to === 'CAPTURED')).toHaveLength(1);
  });

  it('a tampered body, a signature by another secret, or none is 400 webhook_signature_error and changes nothing', async () => {
    const created = await h.call('POST', '/api/v1/payments', { body: upiBody });
    const rzpId = created.body.gateway_reference as string;
    upiSandbox.decline(rzpId);
    const failed = await waitFor((r) => r.path === '/upi' && r.json?.event === 'payment.failed' && r.json?.payload?.payment?.entity?.id === rzpId);
    // The same event turned into a capture, signed with the original signature: refused.
    const forged = Buffer.from(failed.rawBody.toString('utf8').replace('"status":"failed"', '"status":"captured"').replace('payment.failed', 'payment.captured'));
    expect(forged.equals(failed.rawBody)).toBe(false);
    const tampered = await post('upi', failed.headers, forged);
    expect(tampered.status).toBe(400);
    expect(JSON.parse(tampered.body).error.type).toBe('webhook_signature_error');
    const otherSecret = await post('upi', { ...failed.headers, 'x-razorpay-signature': createHmac('sha256', 'not-the-secret').update(forged).digest('hex') }, forged);
    expect(otherSecret.status).toBe(400);
    const { 'x-razorpay-signature': _dropped, ...unsigned } = failed.headers;
    expect((await post('upi', unsigned, forged)).status).toBe(400);
    expect((await status(created.body.id)).status).toBe('REQUIRES_ACTION');
    // The genuine one applies.
    expect((await deliver(failed)).status).toBe(200);
    expect((await status(created.body.id)).status).toBe('FAILED');
  });

  it('failed, then captured for the in-app retry, delivered captured-first and failed-last, ends CAPTURED', async () => {
    const created = await h.call('POST', '/api/v1/payments', { body: upiBody });
    const rzpId = created.body.gateway_reference as string;
    upiSandbox.decline(rzpId);
    const failed = await waitFor((r) => r.path === '/upi' && r.json?.event === 'payment.failed' && r.json?.payload?.payment?.entity?.id === rzpId);
    upiSandbox.approve(rzpId);
    const captured = await waitFor((r) => r.path === '/upi' && r.json?.event === 'payment.captured' && r.json?.payload?.payment?.entity?.id === rzpId);
    expect((await deliver(captured)).status).toBe(200);
    expect((await deliver(failed)).status).toBe(200);
    expect(await status(created.body.id)).toMatchObject({ status: 'CAPTURED', amount_captured: '250.00' });
  });
});

describe('PayPal webhooks through the server', () => {
  it('a genuine CHECKOUT.ORDER.APPROVED delivered 5 times at once captures the order once', async () => {
    const { id, approved } = await approvedPayPal();
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(approved)));
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill(200));
    expect(await status(id)).toMatchObject({ status: 'CAPTURED', amount_captured: '30.00' });
    // PayPal's own record of the order: one capture.
    const order = paypalSandbox.account.getOrder((await status(id)).gateway_reference) as any;
    expect(order.status).toBe('COMPLETED');
    expect(order.purchase_units[0].payments.captures).toHaveLength(1);
  });

  it('a tampered body, a wrong webhook id, or a certificate URL on another host is 400 and fetches nothing', async () => {
    const { id, approved } = await approvedPayPal();
    const forged = Buffer.from(approved.rawBody.toString('utf8').replace('"30.00"', '"0.01"'));
    expect(forged.equals(approved.rawBody)).toBe(false);
    expect((await post('paypal', approved.headers, forged)).status).toBe(400);
    const before = recorded.length;
    // A certificate the attacker controls, on a loopback host the gateway does not trust.
    const foreign = await post('paypal', { ...approved.headers, 'paypal-cert-url': `${recorderUrl}/v1/notifications/certs/CERT-attacker` }, approved.rawBody);
    expect(foreign.status).toBe(400);
    expect(JSON.parse(foreign.body).error.type).toBe('webhook_signature_error');
    expect(recorded.slice(before).some((r) => r.path.includes('/certs/'))).toBe(false);
    expect((await status(id)).status).toBe('REQUIRES_ACTION');
    expect((await deliver(approved)).status).toBe(200);
    expect((await status(id)).status).toBe('CAPTURED');
  });
});

describe('malformed bodies', () => {
  it.each(['paypal', 'upi'])('%s: not JSON, empty, JSON of the wrong shape or over 1 MB is a typed 4xx, never a 500', async (gateway) => {
    for (const body of ['not json', '', '[]', 'null', '{"event":1}', 'x'.repeat(1_100_000)]) {
      const res = await post(gateway, {}, body);
      expect(res.status, `${gateway} ${body.slice(0, 12)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${gateway} ${body.slice(0, 12)}`).toBeLessThan(500);
      expect(JSON.parse(res.body).error.type).toEqual(expect.any(String));
    }
  });
});
