/**
 * How live connections end: the server's close() ends them at once (not after SHUTDOWN_TIMEOUT), a
 * connection ends after its maximum lifetime, and a client that stops reading is dropped instead of
 * having the server queue every event for it. Real sockets throughout.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createTender, type Tender } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';
import { watchPayment } from '@tender/fiuu/browser';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { signToken } from '../src/auth';
import { createLiveStatus, createUpgradeHandler, type LiveLimits, type LiveStatus } from '../src/live';
import { createLogger } from '../src/logging';
import { createMetrics, type TenderMetrics } from '../src/metrics';
import { startTenderServer } from '../src/server';
import { isOpen, openSse, openWs, until } from './live-helpers';

const SECRET = 'live-lifecycle-secret-live-lifecycle-secret';

interface Embedded {
  url: string;
  tender: Tender;
  live: LiveStatus;
  metrics: TenderMetrics;
  logs: string[];
  close(): Promise<void>;
}

/** An embedding: the router in an app on a plain node:http server, with the upgrade handler wired. */
async function embedded(limits: LiveLimits): Promise<Embedded> {
  const tender = createTender({ gateways: [createTestGateway()], store: new MemoryStore() });
  const logs: string[] = [];
  const logger = createLogger({ destination: new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } }) });
  const metrics = createMetrics({ defaultMetrics: false });
  const live = createLiveStatus(tender, { ...limits, metrics, logger });
  const app = createApp(tender, { auth: { secret: SECRET }, logger, metrics, rateLimit: false, live });
  const server: Server = createServer(app);
  server.on('upgrade', createUpgradeHandler(app));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tender,
    live,
    metrics,
    logs,
    async close() {
      await live.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const open: Embedded[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

// 50 values of 500 characters: every event carries a payment of about 26 KB.
const bulky = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'x'.repeat(500)]));

describe('a client that stops reading', () => {
  it('is dropped once more than LIVE_MAX_BUFFER_BYTES wait for it (SSE and WebSocket), while a reading client keeps its stream', async () => {
    const e = await embedded({ maxBufferBytes: 64 * 1024, heartbeatIntervalMs: 60_000 });
    open.push(e);
    const token = await signToken({ secret: SECRET, merchantId: 'default' });
    const payment = await e.tender.payments.create({ amount: '1000.00', currency: 'MYR', metadata: bulky }, { merchantId: 'default' });
    expect(payment.status).toBe('CAPTURED');

    // A raw SSE client that sends its request and never reads a byte.
    const stalled: Socket = connect(Number(new URL(e.url).port), '127.0.0.1');
    await once(stalled, 'connect');
    stalled.pause();
    stalled.write(`GET /api/v1/payments/${payment.id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`);
    // A WebSocket client whose socket stops reading once open.
    const ws = await openWs(`${e.url}/api/v1/payments/${payment.id}/ws`, { token });
    if (!isOpen(ws)) throw new Error('refused');
    (ws.ws as unknown as { _socket: Socket })._socket.pause();
    // And one that reads.
    const reader = await openSse(`${e.url}/api/v1/payments/${payment.id}/events`, { token });
    await until(() => e.live.connections, (c) => c.sse === 2 && c.websocket === 1, 'three connections');

    // Each refund adds transitions, each event a 26 KB payment, until both stalled clients are gone.
    let refunds = 0;
    while ((e.live.connections.sse > 1 || e.live.connections.websocket > 0) && refunds < 400) {
      await e.tender.payments.refund(payment.id, { amount: '0.01' }, { merchantId: 'default' });
      refunds++;
      // Let the sockets move what they can before the next change.
      await new Promise((r) => setImmediate(r));
    }
    expect(e.live.connections).toEqual({ sse: 1, websocket: 0 });
    expect(e.logs.join('')).toContain('live stream dropped: the client is not reading');
    expect(e.logs.join('')).toContain('live websocket dropped: the client is not reading');
    // The reading client got every transition, in order.
    const trail = await e.tender.transitions(payment.id, { merchantId: 'default' });
    await reader.waitFor(1 + trail.length - 2, 20_000);
    expect(reader.events.slice(1).map((x) => x.id)).toEqual(trail.slice(2).map((t) => t.id));
    reader.close();
    stalled.destroy();
  }, 60_000);
});

describe('maximum lifetime', () => {
  it('ends a connection after LIVE_MAX_DURATION with an end event (SSE) or close 1000 (WebSocket); the client resumes from its last id', async () => {
    const e = await embedded({ maxDurationMs: 1000 });
    open.push(e);
    const token = await signToken({ secret: SECRET, merchantId: 'default' });
    const payment = await e.tender.payments.create({ amount: '10.00', currency: 'MYR', captureMethod: 'manual' }, { merchantId: 'default' });
    const sse = await openSse(`${e.url}/api/v1/payments/${payment.id}/events`, { token });
    const ws = await openWs(`${e.url}/api/v1/payments/${payment.id}/ws`, { token });
    if (!isOpen(ws)) throw new Error('refused');
    await sse.ended;
    expect(sse.events.map((x) => x.type)).toEqual(['snapshot', 'end']);
    expect(sse.events[1]).toMatchObject({ id: null, data: { reason: 'max_duration' } });
    expect(await ws.closed).toEqual({ code: 1000, reason: 'max_duration' });
    expect(ws.events.map((x) => x.type)).toEqual(['snapshot', 'end']);
    // What changed meanwhile arrives on the resumed stream.
    await e.tender.payments.capture(payment.id, {}, { merchantId: 'default' });
    const resumed = await openSse(`${e.url}/api/v1/payments/${payment.id}/events`, { token, lastEventId: sse.events[0]!.id! });
    await until(() => resumed.events, (x) => x.some((ev) => ev.data.payment?.status === 'CAPTURED'), 'the capture');
    expect(resumed.events[0]!.type).toBe('payment.status');
    resumed.close();
    // A stream counts as a request, but its span is no request latency.
    const text = await e.metrics.registry.metrics();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/api\/v1\/payments\/:id\/events",status="200"\} 1/);
    expect(text).not.toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/payments\/:id\/events"/);
  });
});

describe("the browser bundle's watchPayment when the server ends its stream", () => {
  it('reconnects with Last-Event-ID and gets what happened meanwhile, without a second snapshot', async () => {
    const e = await embedded({ maxDurationMs: 1000 });
    open.push(e);
    const token = await signToken({ secret: SECRET, merchantId: 'default' });
    const payment = await e.tender.payments.create({ amount: '10.00', currency: 'MYR', captureMethod: 'manual' }, { merchantId: 'default' });
    const events = `/api/v1/payments/${payment.id}/events`;
    const seen: string[] = [];
    const watching = watchPayment({
      events: `${e.url}${events}`,
      status: `${e.url}/api/v1/payments/${payment.id}/status`,
      fetchInit: { headers: { authorization: `Bearer ${token}` } },
      until: (p) => p.status === 'CAPTURED',
      onUpdate: (p) => seen.push(p.status),
      timeoutMs: 20_000,
    });
    // The first stream has lived its second and ended (its request is logged when it finishes).
    await until(() => e.logs.filter((l) => l.includes(events)).length, (n) => n >= 1, 'the first stream to end');
    await e.tender.payments.capture(payment.id, {}, { merchantId: 'default' });
    expect(await watching).toMatchObject({ status: 'CAPTURED' });
    // One snapshot (AUTHORIZED), then the capture's transitions from the resumed stream; no polling.
    expect(seen[0]).toBe('AUTHORIZED');
    expect(seen.filter((s) => s === 'AUTHORIZED')).toHaveLength(1);
    expect(e.logs.join('')).not.toContain(`/api/v1/payments/${payment.id}/status`);
  });
});

describe('startTenderServer close()', () => {
  let dir: string | undefined;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends open streams at once (an end event, WebSocket close 1001) instead of waiting SHUTDOWN_TIMEOUT', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tender-live-close-'));
    const quiet = new Writable({ write(_c, _e, cb) { cb(); } });
    const server = await startTenderServer({
      env: { PORT: '0', TENDER_DATA_DIR: dir, TENDER_SIMULATION: '1', JWT_SECRET: SECRET, RECONCILE_INTERVAL: '0', SHUTDOWN_TIMEOUT: '20s', LIVE_HEARTBEAT_INTERVAL: '60s' },
      logger: createLogger({ destination: quiet }),
    });
    const token = await signToken({ secret: SECRET, merchantId: 'demo' });
    const created = await fetch(`${server.url}/api/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '15.00', currency: 'USD', payment_method: 'paypal', return_url: 'https://merchant.example/back' }),
    });
    const payment = (await created.json()) as { id: string; status: string };
    expect(payment.status).toBe('REQUIRES_ACTION');
    const sse = await openSse(`${server.url}/api/v1/payments/${payment.id}/events`, { token });
    const demo = await openSse(`${server.url}/demo/api/payments/${payment.id}/events`);
    const ws = await openWs(`${server.url}/api/v1/payments/${payment.id}/ws`, { token });
    if (!isOpen(ws)) throw new Error('refused');
    await Promise.all([sse.waitFor(1), demo.waitFor(1), ws.waitFor(1)]);

    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(5000);
    await Promise.all([sse.ended, demo.ended]);
    for (const s of [sse, demo]) expect(s.events.at(-1)).toMatchObject({ type: 'end', data: { reason: 'shutdown' } });
    expect(await ws.closed).toEqual({ code: 1001, reason: 'shutdown' });
  }, 60_000);
});
