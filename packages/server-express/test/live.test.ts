/**
 * Live payment status over real sockets: a simulation-mode server, payments driven through the
 * sandboxes (the UPI app approving a payment, its webhook) and over REST (capture, refund), read as
 * Server-Sent Events and over WebSocket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';
import { isOpen, openSse, openWs, until, type Received, type WsClient } from './live-helpers';

const SECRET = 'live-test-secret-live-test-secret-0123456789';
let server: TenderServer;
let dir: string;
const logs: string[] = [];
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tender-live-'));
  const destination = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
  server = await startTenderServer({
    env: { PORT: '0', TENDER_DATA_DIR: dir, TENDER_SIMULATION: '1', JWT_SECRET: SECRET, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '100ms', LIVE_HEARTBEAT_INTERVAL: '300ms', LIVE_MAX_CONNECTIONS_PER_MERCHANT: '3', RATE_LIMIT_PER_IP: '100000', RATE_LIMIT_PER_MERCHANT: '100000' },
    logger: createLogger({ destination }),
  });
  token = await signToken({ secret: SECRET, merchantId: 'm1' });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = async (method: string, path: string, body?: unknown, auth: string = token) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${auth}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};

const trailOf = async (id: string): Promise<Array<{ id: string; from: string | null; to: string; refund_id: string | null }>> => (await api('GET', `/api/v1/payments/${id}/transitions`)).body.data;

/** The payer's UPI app (the sandbox's page) approves the payment, as its form post would. */
async function approveUpi(razorpayPaymentId: string): Promise<void> {
  const url = server.simulation!.upi.upiAppUrl(razorpayPaymentId);
  await (await fetch(url)).text();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=approve', redirect: 'manual' });
  await res.arrayBuffer();
  expect(res.status).toBeLessThan(400);
}

const createUpi = async () => {
  const created = await api('POST', '/api/v1/payments', { amount_paisa: 10000, currency: 'INR', payment_method: 'UPI', description: 'live test' });
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('REQUIRES_ACTION');
  return created.body as { id: string; gateway_reference: string };
};

const createAuthorized = async (merchantToken = token) => {
  const created = await api('POST', '/api/v1/payments', { amount: '50.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', capture_method: 'manual' }, merchantToken);
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('AUTHORIZED');
  return created.body as { id: string };
};

/** The transition events of a stream (the snapshot and `end` aside). */
const transitions = (events: Received[]) => events.filter((e) => e.type === 'payment.status' || e.type === 'refund.status');

describe('GET /api/v1/payments/:id/events (Server-Sent Events)', () => {
  it('sends the snapshot, then every transition in trail order as it happens: UPI approved in the app (webhook), refunded over REST', async () => {
    const payment = await createUpi();
    const before = await trailOf(payment.id);
    const sse = await openSse(`${server.url}/api/v1/payments/${payment.id}/events`, { token });
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(sse.headers['cache-control']).toBe('no-cache, no-transform');
    const [snapshot] = await sse.waitFor(1);
    // The snapshot is the state the client connected in; its id is the trail's last, so a resume skips what it showed.
    expect(snapshot).toMatchObject({ type: 'snapshot', id: before.at(-1)!.id, data: { payment: { id: payment.id, status: 'REQUIRES_ACTION', gateway: 'upi' } } });
    expect(sse.raw).toMatch(/^retry: \d+\n\n/);

    await approveUpi(payment.gateway_reference);
    await until(() => sse.events, (e) => e.some((x) => x.data.payment?.status === 'CAPTURED'), 'CAPTURED on the stream');
    const captured = sse.events.find((e) => e.data.transition?.to === 'CAPTURED')!;
    expect(captured).toMatchObject({ type: 'payment.status', data: { transition: { to: 'CAPTURED', refund_id: null }, payment: { id: payment.id, status: 'CAPTURED', amount_captured: '100.00' } } });

    const refund = await api('POST', `/api/v1/payments/${payment.id}/refund`, { amount_paisa: 2500, reason: 'live test' });
    expect(refund.status).toBe(201);
    await until(() => sse.events, (e) => e.some((x) => x.data.payment?.status === 'PARTIALLY_REFUNDED') && e.some((x) => x.data.refund?.status === 'SUCCEEDED'), 'the refund on the stream');
    const trail = await trailOf(payment.id);
    const after = trail.slice(before.length);
    // Exactly the trail after the snapshot, in order, each once, each with its own id.
    await until(() => transitions(sse.events).length, (n) => n >= after.length, 'every transition');
    expect(transitions(sse.events).map((e) => e.id)).toEqual(after.map((t) => t.id));
    for (const e of transitions(sse.events)) {
      const t = after.find((x) => x.id === e.id)!;
      expect(e.data.transition).toMatchObject({ id: t.id, from: t.from, to: t.to, refund_id: t.refund_id });
      expect(e.type).toBe(t.refund_id ? 'refund.status' : 'payment.status');
      if (t.refund_id) expect(e.data.refund).toMatchObject({ id: t.refund_id, object: 'refund', payment_id: payment.id });
    }
    expect(after.some((t) => t.refund_id === refund.body.id)).toBe(true);
    // A stream does not end on its own: CAPTURED and PARTIALLY_REFUNDED can still change.
    expect(sse.isEnded()).toBe(false);
    sse.close();
  });
});
