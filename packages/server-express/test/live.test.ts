/**
 * Live payment status over real sockets: a simulation-mode server, payments driven through the
 * sandboxes (the UPI app approving a payment, its webhook) and over REST (capture, refund), read as
 * Server-Sent Events and over WebSocket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { watchPayment, type WatchedPayment } from '@tender/fiuu/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';
import { expectTrailTail, isOpen, openSse, openWs, until, type Received, type WsClient } from './live-helpers';

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
    // The snapshot is the state the client connected in; its id is the trail's last then, so a resume skips what it showed.
    expect(snapshot).toMatchObject({ type: 'snapshot', data: { payment: { id: payment.id, status: 'REQUIRES_ACTION', gateway: 'upi' } } });
    expect((await trailOf(payment.id)).findIndex((t) => t.id === snapshot!.id)).toBeGreaterThanOrEqual(before.length - 1);
    expect(sse.raw).toMatch(/^retry: \d+\n\n/);

    await approveUpi(payment.gateway_reference);
    await until(() => sse.events, (e) => e.some((x) => x.data.payment?.status === 'CAPTURED'), 'CAPTURED on the stream');
    const captured = sse.events.find((e) => e.data.transition?.to === 'CAPTURED')!;
    expect(captured).toMatchObject({ type: 'payment.status', data: { transition: { to: 'CAPTURED', refund_id: null }, payment: { id: payment.id, status: 'CAPTURED', amount_captured: '100.00' } } });

    const refund = await api('POST', `/api/v1/payments/${payment.id}/refund`, { amount_paisa: 2500, reason: 'live test' });
    expect(refund.status).toBe(201);
    await until(() => sse.events, (e) => e.some((x) => x.data.payment?.status === 'PARTIALLY_REFUNDED') && e.some((x) => x.data.refund?.status === 'SUCCEEDED'), 'the refund on the stream');
    // Exactly the trail after the snapshot, in order, each once, each with its own id.
    await expectTrailTail(() => transitions(sse.events), () => trailOf(payment.id), snapshot!.id);
    const after = (await trailOf(payment.id)).slice(before.length);
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

describe('resuming', () => {
  it('Last-Event-ID sends exactly the transitions missed while away, none twice, then continues live; the header beats last_event_id; an unknown id gets the snapshot and the whole trail', async () => {
    const payment = await createAuthorized();
    const url = `${server.url}/api/v1/payments/${payment.id}/events`;
    const first = await openSse(url, { token });
    const [snapshot] = await first.waitFor(1);
    expect(snapshot).toMatchObject({ type: 'snapshot', data: { payment: { status: 'AUTHORIZED' } } });
    first.close();

    // Changes while the client is away.
    expect((await api('POST', `/api/v1/payments/${payment.id}/capture`, {})).body.status).toBe('CAPTURED');
    const trail = () => trailOf(payment.id);
    const missed = (await trail()).slice((await trail()).findIndex((t) => t.id === snapshot!.id) + 1);
    expect(missed.map((t) => t.to)).toContain('CAPTURED');

    const second = await openSse(url, { token, lastEventId: snapshot!.id! });
    await expectTrailTail(() => second.events, trail, snapshot!.id);
    expect(second.events.some((e) => e.type === 'snapshot')).toBe(false);
    expect(second.events.at(-1)!.data.payment.status).toBe('CAPTURED');
    // ...then live.
    const refund = await api('POST', `/api/v1/payments/${payment.id}/refund`, { amount: '10.00' });
    expect(refund.status).toBe(201);
    await until(() => second.events, (e) => e.some((x) => x.data.refund?.id === refund.body.id && x.data.refund.status === 'SUCCEEDED'), 'the refund, live');
    const seen = await expectTrailTail(() => second.events, trail, snapshot!.id);
    expect(new Set(seen).size).toBe(seen.length);
    second.close();

    // last_event_id in the query (EventSource behind a proxy that drops the header, WebSocket).
    const third = await openSse(`${url}?last_event_id=${missed[0]!.id}`, { token });
    await expectTrailTail(() => third.events, trail, missed[0]!.id);
    third.close();

    // A reconnecting EventSource sends the newest id in the header while its URL keeps the first one:
    // only what follows the header's id comes (nothing, unless a late webhook notes something).
    const fourth = await openSse(`${url}?last_event_id=${snapshot!.id}`, { token, lastEventId: seen.at(-1)! });
    await until(() => fourth.raw, (raw) => raw.includes(': ping\n\n'), 'a heartbeat');
    await expectTrailTail(() => fourth.events, trail, seen.at(-1)!);
    fourth.close();

    // An id this trail does not hold: the client cannot know what it missed.
    const fifth = await openSse(url, { token, lastEventId: 'trn_not_in_this_trail' });
    await fifth.waitFor(1);
    expect(fifth.events[0]).toMatchObject({ type: 'snapshot', id: null, data: { payment: { id: payment.id, status: 'PARTIALLY_REFUNDED' } } });
    await expectTrailTail(() => fifth.events.slice(1), trail, null);
    fifth.close();

    const malformed = await openSse(url, { token, lastEventId: 'not an id!' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_last_event_id' });
  });
});

describe('GET /api/v1/payments/:id/ws (WebSocket)', () => {
  it('sends the same events as JSON messages (Authorization header), and resumes with last_event_id, authenticated by the bearer subprotocol', async () => {
    const payment = await createUpi();
    const url = `${server.url}/api/v1/payments/${payment.id}/ws`;
    const opened = await openWs(url, { token });
    if (!isOpen(opened)) throw new Error(`refused: ${JSON.stringify(opened)}`);
    const client: WsClient = opened;
    const [snapshot] = await client.waitFor(1);
    expect(snapshot).toMatchObject({ type: 'snapshot', data: { payment: { id: payment.id, status: 'REQUIRES_ACTION' } } });
    expect((await trailOf(payment.id)).map((t) => t.id)).toContain(snapshot!.id);

    await approveUpi(payment.gateway_reference);
    await until(() => client.events, (e) => e.some((x) => x.data.payment?.status === 'CAPTURED'), 'CAPTURED over WebSocket');
    const refund = await api('POST', `/api/v1/payments/${payment.id}/refund`, { amount_paisa: 1000 });
    expect(refund.status).toBe(201);
    await until(() => client.events, (e) => e.some((x) => x.type === 'refund.status' && x.data.refund?.id === refund.body.id && x.data.refund.status === 'SUCCEEDED'), 'the refund over WebSocket');
    await expectTrailTail(() => transitions(client.events), () => trailOf(payment.id), snapshot!.id);
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);

    // A browser cannot set headers: `new WebSocket(url, ['bearer', token])`. The server picks
    // `bearer` and never echoes the token.
    const resumed = await openWs(`${url}?last_event_id=${snapshot!.id}`, { protocols: ['bearer', token] });
    if (!isOpen(resumed)) throw new Error(`refused: ${JSON.stringify(resumed)}`);
    expect(resumed.ws.protocol).toBe('bearer');
    await expectTrailTail(() => resumed.events, () => trailOf(payment.id), snapshot!.id);
    resumed.ws.close();
    await resumed.closed;
    expect(logs.join('')).not.toContain(token);
  });

  it('pings the client and drops one that stops answering (a dead peer)', async () => {
    const payment = await createAuthorized();
    const url = `${server.url}/api/v1/payments/${payment.id}/ws`;
    const live = await openWs(url, { token });
    if (!isOpen(live)) throw new Error('refused');
    await until(() => live.pings, (n) => n >= 2, 'two pings');
    // A client whose pongs never come (a half-open connection looks like this to the server).
    const dead = await openWs(url, { token, autoPong: false });
    if (!isOpen(dead)) throw new Error('refused');
    const closed = await dead.closed;
    // Terminated (no close frame): the client sees 1006.
    expect(closed.code).toBe(1006);
    expect(live.ws.readyState).toBe(live.ws.OPEN);
    live.ws.close();
    await live.closed;
  });

  it('answers 426 to a plain GET', async () => {
    const payment = await createAuthorized();
    const res = await fetch(`${server.url}/api/v1/payments/${payment.id}/ws`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toBe('websocket');
    expect(((await res.json()) as any).error).toMatchObject({ code: 'upgrade_required' });
  });
});

describe('who may watch', () => {
  it("refuses before any stream opens: another merchant's payment is a 404, no token a 401, a token without payments:read a 403", async () => {
    const payment = await createAuthorized();
    const other = await signToken({ secret: SECRET, merchantId: 'm2' });
    const writeOnly = await signToken({ secret: SECRET, merchantId: 'm1', scopes: ['payments:write'] });
    const sse = `${server.url}/api/v1/payments/${payment.id}/events`;
    const ws = `${server.url}/api/v1/payments/${payment.id}/ws`;
    const cases: Array<[string | null, number, string]> = [
      [other, 404, 'not_found_error'],
      [null, 401, 'authentication_error'],
      [writeOnly, 403, 'permission_error'],
    ];
    for (const [who, status, type] of cases) {
      const s = await openSse(sse, { token: who });
      expect(s.status).toBe(status);
      expect(s.headers['content-type']).toMatch(/^application\/json/);
      expect(s.body.error.type).toBe(type);
      const w = await openWs(ws, { token: who });
      expect(isOpen(w)).toBe(false);
      if (!isOpen(w)) {
        expect(w.status).toBe(status);
        expect(w.body.error.type).toBe(type);
      }
      // The bearer subprotocol is the same credential as the header.
      if (who) {
        const p = await openWs(ws, { protocols: ['bearer', who] });
        expect(isOpen(p) ? 101 : p.status).toBe(status);
      }
    }
    // Another merchant's payment is indistinguishable from a missing one.
    const missing = await openSse(`${server.url}/api/v1/payments/pay_does_not_exist/events`, { token: other });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe((await openSse(sse, { token: other })).body.error.code);
  });

  it('allows LIVE_MAX_CONNECTIONS_PER_MERCHANT connections per merchant, SSE and WebSocket together, and answers 429 beyond', async () => {
    const lim = await signToken({ secret: SECRET, merchantId: 'limited' });
    const payment = await createAuthorized(lim);
    const sse = `${server.url}/api/v1/payments/${payment.id}/events`;
    const a = await openSse(sse, { token: lim });
    const b = await openSse(sse, { token: lim });
    const c = await openWs(`${server.url}/api/v1/payments/${payment.id}/ws`, { token: lim });
    expect([a.status, b.status, isOpen(c)]).toEqual([200, 200, true]);
    const over = await openSse(sse, { token: lim });
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBe('5');
    expect(over.body.error).toMatchObject({ type: 'rate_limit_error', code: 'too_many_live_connections' });
    const overWs = await openWs(`${server.url}/api/v1/payments/${payment.id}/ws`, { token: lim });
    expect(isOpen(overWs) ? 101 : overWs.status).toBe(429);
    // Other merchants are not held back by this one.
    const m1 = await openSse(`${server.url}/api/v1/payments/${(await createAuthorized()).id}/events`, { token });
    expect(m1.status).toBe(200);
    m1.close();
    // A slot frees when a client leaves.
    a.close();
    const again = await until(() => openSse(sse, { token: lim }), (s) => s.status === 200 || (s.close(), false), 'a free slot');
    again.close();
    b.close();
    if (isOpen(c)) c.ws.close();
  });
});

describe('heartbeats and metrics', () => {
  it('sends an SSE comment every LIVE_HEARTBEAT_INTERVAL and counts open connections by transport', async () => {
    const payment = await createAuthorized();
    const sse = await openSse(`${server.url}/api/v1/payments/${payment.id}/events`, { token });
    await until(() => sse.raw.split(': ping\n\n').length - 1, (n) => n >= 2, 'two heartbeats');
    const ws = await openWs(`${server.url}/api/v1/payments/${payment.id}/ws`, { token });
    const gauge = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const value = (transport: string) => Number(new RegExp(`^tender_live_connections\\{transport="${transport}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
      return { sse: value('sse'), websocket: value('websocket') };
    };
    expect(await gauge()).toEqual({ sse: 1, websocket: 1 });
    sse.close();
    if (isOpen(ws)) ws.ws.close();
    await until(gauge, (g) => g.sse === 0 && g.websocket === 0, 'the gauge back at 0');
    // Both connections leave a request line, as every request does (the stream's when the client left).
    const lines = logs.flatMap((l) => l.split('\n')).filter((l) => l.includes(`/api/v1/payments/${payment.id}/`)).map((l) => JSON.parse(l) as { path: string; status: number });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ msg: 'request', method: 'GET', path: `/api/v1/payments/${payment.id}/events`, status: 200, ended_by: 'client' }),
        expect.objectContaining({ msg: 'request', method: 'GET', path: `/api/v1/payments/${payment.id}/ws`, status: 101 }),
      ]),
    );
  });
});

describe("the browser bundle's watchPayment (run in Node against the server)", () => {
  it('follows the live stream with an Authorization header until the payment settles, without polling', async () => {
    const payment = await createUpi();
    const seen: string[] = [];
    const watching = watchPayment({
      events: `${server.url}/api/v1/payments/${payment.id}/events`,
      status: `${server.url}/api/v1/payments/${payment.id}/status`,
      fetchInit: { headers: { authorization: `Bearer ${token}` } },
      onUpdate: (p: WatchedPayment) => seen.push(p.status),
      timeoutMs: 20_000,
    });
    await until(() => seen, (s) => s.length > 0, 'the snapshot');
    expect(seen[0]).toBe('REQUIRES_ACTION');
    await approveUpi(payment.gateway_reference);
    // UPI authorises, then captures: an automatic capture's AUTHORIZED is no outcome yet.
    const settled = await watching;
    expect(settled).toMatchObject({ id: payment.id, status: 'CAPTURED' });
    expect(logs.join('')).not.toContain(`/api/v1/payments/${payment.id}/status`);
  });

  it('polls the status route instead when the stream is refused (here: a route that is not there)', async () => {
    const created = await api('POST', '/api/v1/payments', { amount: '20.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' });
    expect(created.body.status).toBe('CAPTURED');
    const settled = await watchPayment({
      events: `${server.url}/api/v1/payments/${created.body.id}/no-such-stream`,
      status: `${server.url}/api/v1/payments/${created.body.id}/status`,
      fetchInit: { headers: { authorization: `Bearer ${token}` } },
      timeoutMs: 20_000,
    });
    expect(settled.status).toBe('CAPTURED');
    expect(logs.join('')).toContain(`/api/v1/payments/${created.body.id}/status`);
  });
});

describe('the OpenAPI document', () => {
  it('describes both live routes: the stream as text/event-stream, the handshake with its 101 and 426', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as any;
    const events = doc.paths['/api/v1/payments/{id}/events'].get;
    expect(Object.keys(events.responses['200'].content)).toEqual(['text/event-stream']);
    expect(events.security).toEqual([{ bearer: ['payments:read'] }]);
    expect(events.parameters.map((p: any) => `${p.in}:${p.name}`)).toEqual(['path:id', 'header:Last-Event-ID', 'query:last_event_id']);
    expect(Object.keys(events.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404', '429']));
    const ws = doc.paths['/api/v1/payments/{id}/ws'].get;
    expect(Object.keys(ws.responses)).toEqual(expect.arrayContaining(['101', '404', '426', '429']));
    expect(doc.components.schemas.LiveEvent.properties.type.enum).toEqual(['snapshot', 'payment.status', 'refund.status', 'end']);
  });
});

describe('upgrade requests that are not WebSocket', () => {
  const raw = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1', () => socket.write(request));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });

  it('are answered as plain HTTP/1.1 (curl --http2 offers h2c), and closed after the answer', async () => {
    const answer = await raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('"status":"ok"');
  });

  it('with a body are refused (Node has already taken the body off the request)', async () => {
    const answer = await raw('POST /api/v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('upgrade_not_supported');
  });
});
