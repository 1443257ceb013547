import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { GATEWAY_OUTCOME_UNKNOWN, TenderError, createHttpTransport, prepareRequest } from '@tender/core';
import type { HttpTransport, HttpTransportOptions, TransportEvent } from '@tender/core';
import { refusedUrl, startFaultServer } from './fault-server';
import type { FaultServer } from './fault-server';

let server: FaultServer;
const transports: HttpTransport[] = [];

beforeEach(async () => {
  server = await startFaultServer();
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await server.close();
});

/** Zero jitter unless a test needs real delays, so retries are immediate. */
function make(options: Partial<HttpTransportOptions> = {}): { transport: HttpTransport; events: TransportEvent[] } {
  const transport = createHttpTransport({ gateway: 'fiuu', random: () => 0, timeoutMs: 2_000, ...options });
  transports.push(transport);
  const events: TransportEvent[] = [];
  transport.onEvent((e) => events.push(e));
  return { transport, events };
}

async function rejection(promise: Promise<unknown>): Promise<TenderError> {
  try {
    await promise;
  } catch (err) {
    expect(TenderError.isInstance(err)).toBe(true);
    return err as TenderError;
  }
  throw new Error('expected a rejection');
}

const retries = (events: TransportEvent[]) => events.filter((e) => e.type === 'retry');

describe('request shaping on the real undici path', () => {
  it('sends exactly the bytes and headers prepareRequest produces (form, in order)', async () => {
    const { transport } = make();
    const request = {
      method: 'POST' as const,
      url: `${server.url}/RMS/API/refundAPI/index.php?x=1`,
      form: [
        ['RefundType', 'P'],
        ['MerchantID', 'm 1'],
        ['Amount', '10.00'],
        ['Signature', 'a&b=c'],
      ] as const,
      headers: { 'X-Trace': 'abc' },
    };
    const res = await transport.request(request);
    expect(res.status).toBe(200);
    const got = server.received[0]!;
    const expected = prepareRequest(request, { 'user-agent': 'tender/fiuu' });
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/RMS/API/refundAPI/index.php?x=1');
    expect(got.body.equals(expected.body!)).toBe(true);
    expect(got.body.toString()).toBe('RefundType=P&MerchantID=m+1&Amount=10.00&Signature=a%26b%3Dc');
    expect(got.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(got.headers['x-trace']).toBe('abc');
    expect(got.headers['user-agent']).toBe('tender/fiuu');
    expect(got.headers['content-length']).toBe(String(expected.body!.length));
  });

  it('sends JSON and raw bodies, and exposes status, lower-case headers, raw bytes, text and json', async () => {
    const { transport } = make();
    const json = await transport.request({ method: 'POST', url: `${server.url}/v1/x`, json: { amount: '100.50', n: [1] } });
    expect(server.received[0]!.headers['content-type']).toBe('application/json');
    expect(server.received[0]!.body.toString()).toBe('{"amount":"100.50","n":[1]}');
    expect(json.json<{ body: string }>().body).toBe('{"amount":"100.50","n":[1]}');
    expect(json.headers['content-type']).toBe('application/json');
    expect(json.attempts).toBe(1);

    await transport.request({ method: 'PUT', url: `${server.url}/raw`, body: new Uint8Array([0, 255, 10]), headers: { 'Content-Type': 'application/octet-stream' } });
    expect([...server.received[1]!.body]).toEqual([0, 255, 10]);
    expect(server.received[1]!.headers['content-type']).toBe('application/octet-stream');

    server.script({ kind: 'status', status: 200, headers: { 'content-type': 'text/plain', 'X-Custom': 'v' }, body: 'StatCode=00&TranID=1' });
    const text = await transport.request({ method: 'GET', url: `${server.url}/q` });
    expect(text.text()).toBe('StatCode=00&TranID=1');
    expect(Buffer.from(text.body).toString()).toBe('StatCode=00&TranID=1');
    expect(text.headers['x-custom']).toBe('v');
    const err = (() => {
      try {
        text.json();
      } catch (e) {
        return e as TenderError;
      }
      return undefined;
    })();
    expect(err).toMatchObject({ type: 'gateway_error', code: 'gateway_invalid_response' });
  });

  it('rejects bad input with typed errors before sending', async () => {
    const { transport } = make();
    const bad = [
      { method: 'POST', url: `${server.url}/`, form: { a: '1' }, json: {} },
      { method: 'GET', url: '/relative' },
      { method: 'GET', url: 'ftp://example.com/' },
      { method: 'GET', url: `${server.url}/`, headers: { 'x-a': 'a\r\nx-injected: 1' } },
      { method: 'TRACE', url: `${server.url}/` },
    ];
    for (const request of bad) {
      const err = await rejection(transport.request(request as never));
      expect(err.type).toBe('invalid_request_error');
    }
    expect(server.received).toHaveLength(0);
  });

  it('reuses keep-alive connections and honours the per-origin connection limit', async () => {
    const { transport } = make({ pool: { connections: 2 } });
    for (let i = 0; i < 5; i++) await transport.request({ method: 'GET', url: `${server.url}/${i}` });
    // Five requests over at most two sockets: connections are kept alive and reused.
    expect(server.connections().total).toBeLessThanOrEqual(2);
    await Promise.all(Array.from({ length: 10 }, (_, i) => transport.request({ method: 'GET', url: `${server.url}/p${i}` })));
    expect(server.connections().maxConcurrent).toBeLessThanOrEqual(2);
  });
});

describe('retry rules', () => {
  const keyed = (url: string) => ({ method: 'POST' as const, url, json: { a: 1 }, headers: { 'Idempotency-Key': 'k1' } });

  it('retries 503 on a request with an idempotency key until it succeeds', async () => {
    const { transport, events } = make();
    server.script({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const res = await transport.request(keyed(`${server.url}/charge`));
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(3);
    expect(server.received).toHaveLength(3);
    expect(server.received.every((r) => r.headers['idempotency-key'] === 'k1')).toBe(true);
    expect(retries(events).map((e) => e.type === 'retry' && e.reason)).toEqual(['status_503', 'status_503']);
  });

  it('returns the last 5xx after the attempts are exhausted', async () => {
    const { transport } = make({ retry: { attempts: 2 } });
    server.script({ kind: 'status', status: 502, body: 'a' }, { kind: 'status', status: 503, body: 'b' }, { kind: 'status', status: 500 });
    const res = await transport.request(keyed(`${server.url}/charge`));
    expect([res.status, res.text(), res.attempts]).toEqual([503, 'b', 2]);
    expect(server.received).toHaveLength(2);
  });

  it('retries 409 and 429 on idempotent requests, never 400/402/404', async () => {
    const { transport } = make();
    server.script({ kind: 'status', status: 409 }, { kind: 'status', status: 429 });
    expect((await transport.request({ method: 'GET', url: `${server.url}/a` })).attempts).toBe(3);
    for (const status of [400, 402, 404]) {
      server.script({ kind: 'status', status });
      const res = await transport.request({ method: 'GET', url: `${server.url}/b` });
      expect([res.status, res.attempts]).toEqual([status, 1]);
    }
  });

  it('never retries a 5xx/409/429 on a non-idempotent POST', async () => {
    const { transport, events } = make();
    for (const status of [500, 503, 409, 429]) {
      server.script({ kind: 'status', status });
      const res = await transport.request({ method: 'POST', url: `${server.url}/pay`, form: { a: '1' } });
      expect([res.status, res.attempts]).toEqual([status, 1]);
    }
    expect(server.received).toHaveLength(4);
    expect(retries(events)).toHaveLength(0);
  });

  it("follows the gateway's own hint (Stripe-Should-Retry) over the default rules", async () => {
    const { transport } = make();
    const shouldRetry = (r: { headers: Record<string, string> }) =>
      r.headers['stripe-should-retry'] === undefined ? undefined : r.headers['stripe-should-retry'] === 'true';
    server.script({ kind: 'status', status: 400, headers: { 'stripe-should-retry': 'true' } });
    const forced = await transport.request({ method: 'POST', url: `${server.url}/pi`, form: { a: '1' }, shouldRetry });
    expect([forced.status, forced.attempts]).toEqual([200, 2]);
    server.script({ kind: 'status', status: 500, headers: { 'stripe-should-retry': 'false' } });
    const forbidden = await transport.request({ ...keyed(`${server.url}/pi`), shouldRetry });
    expect([forbidden.status, forbidden.attempts]).toEqual([500, 1]);
  });

  it('honours Retry-After (real time), and does not wait for one above maxRetryAfterMs', async () => {
    const { transport, events } = make();
    server.script({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const started = performance.now();
    const res = await transport.request({ method: 'GET', url: `${server.url}/limited` });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(990);
    expect(retries(events)[0]).toMatchObject({ delayMs: 1000, reason: 'status_429' });

    const { transport: impatient } = make({ retry: { maxRetryAfterMs: 5_000 } });
    server.script({ kind: 'status', status: 503, headers: { 'retry-after': '120' } });
    const t0 = performance.now();
    const res2 = await impatient.request({ method: 'GET', url: `${server.url}/down` });
    expect([res2.status, res2.attempts]).toEqual([503, 1]);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('backs off with full jitter between retries (real delays with a fixed random)', async () => {
    const { transport, events } = make({ random: () => 0.5, retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 150 } });
    server.script({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const started = performance.now();
    await transport.request({ method: 'GET', url: `${server.url}/x` });
    expect(retries(events).map((e) => e.type === 'retry' && e.delayMs)).toEqual([50, 75]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(120);
  });

  it('retries a connection refused (never sent) even for a non-idempotent POST, then fails as gateway_unavailable', async () => {
    const { transport, events } = make({ retry: { attempts: 3 } });
    const err = await rejection(transport.request({ method: 'POST', url: `${await refusedUrl()}/pay`, form: { a: '1' } }));
    expect(err).toMatchObject({ type: 'gateway_unavailable', code: 'connection_failed', status: 503 });
    expect(err.details).toMatchObject({ requestSent: false, attempts: 3, gateway: 'fiuu' });
    expect(events.filter((e) => e.type === 'request').map((e) => e.type === 'request' && e.error)).toEqual([
      'ECONNREFUSED',
      'ECONNREFUSED',
      'ECONNREFUSED',
    ]);
  });

  it('a reset before the response: outcome unknown for a non-idempotent POST (sent once), retried when idempotent', async () => {
    const { transport } = make();
    server.script({ kind: 'reset' });
    const err = await rejection(transport.request({ method: 'POST', url: `${server.url}/pay`, form: { orderid: 'A' } }));
    expect(err).toMatchObject({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN });
    expect(err.details).toMatchObject({ requestSent: true, attempts: 1 });
    expect(server.received).toHaveLength(1);

    server.script({ kind: 'reset' });
    const res = await transport.request({ method: 'GET', url: `${server.url}/status` });
    expect([res.status, res.attempts]).toEqual([200, 2]);
  });

  it('a stall past the timeout: outcome unknown for a non-idempotent POST, retried when idempotent', async () => {
    const { transport, events } = make({ timeoutMs: 150 });
    server.script({ kind: 'stall' });
    const started = performance.now();
    const err = await rejection(transport.request({ method: 'POST', url: `${server.url}/pay`, form: { orderid: 'A' } }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(err).toMatchObject({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN, details: { requestSent: true } });
    expect(events.find((e) => e.type === 'request')).toMatchObject({ status: null, error: 'timeout' });

    server.script({ kind: 'stall' });
    const res = await transport.request({ ...keyed(`${server.url}/pay`), timeoutMs: 150 });
    expect([res.status, res.attempts]).toEqual([200, 2]);
  });

  it('an idempotent request that never gets an answer ends as outcome unknown, not as an earlier 5xx', async () => {
    const { transport } = make({ timeoutMs: 100, retry: { attempts: 2 } });
    server.script({ kind: 'status', status: 503 }, { kind: 'stall' });
    const err = await rejection(transport.request(keyed(`${server.url}/pay`)));
    expect(err).toMatchObject({ code: GATEWAY_OUTCOME_UNKNOWN, details: { requestSent: true, attempts: 2 } });
  });

  it('a request that timed out while queued for a connection was never sent', async () => {
    const { transport } = make({ pool: { connections: 1 } });
    server.script({ kind: 'stall' });
    const blocker = transport.request({ method: 'POST', url: `${server.url}/slow`, form: { a: '1' }, timeoutMs: 400 }).catch((e: unknown) => e);
    await server.waitForRequests(1);
    const err = await rejection(transport.request({ method: 'POST', url: `${server.url}/queued`, form: { a: '2' }, timeoutMs: 100 }));
    expect(err).toMatchObject({ type: 'gateway_unavailable', details: { requestSent: false } });
    expect(await blocker).toMatchObject({ code: GATEWAY_OUTCOME_UNKNOWN });
    // The queued request was dropped, not sent late.
    await transport.request({ method: 'GET', url: `${server.url}/after` });
    expect(server.received.map((r) => r.url)).toEqual(['/slow', '/after']);
  });

  it('aborting during a Retry-After delay ends the call at once', async () => {
    const { transport } = make();
    server.script({ kind: 'status', status: 503, headers: { 'retry-after': '20' } });
    const controller = new AbortController();
    const started = performance.now();
    const pending = transport.request({ ...keyed(`${server.url}/pay`), signal: controller.signal });
    await server.waitForRequests(1);
    setTimeout(() => controller.abort(), 20);
    const err = await rejection(pending);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(err).toMatchObject({ code: GATEWAY_OUTCOME_UNKNOWN });
  });

  it('an already-aborted signal never sends', async () => {
    const { transport } = make();
    const err = await rejection(transport.request({ method: 'POST', url: `${server.url}/pay`, form: {}, signal: AbortSignal.abort() }));
    expect(err).toMatchObject({ type: 'gateway_unavailable', code: 'request_aborted', details: { requestSent: false } });
    expect(server.received).toHaveLength(0);
  });
});

describe('dispatcher ownership, events and logs', () => {
  it('uses an injected dispatcher and never closes it', async () => {
    const agent = new Agent({ connections: 1 });
    const { transport } = make({ dispatcher: agent });
    await transport.request({ method: 'GET', url: `${server.url}/a` });
    await transport.close();
    const res = await agent.request({ origin: server.url, path: '/still-open', method: 'GET' });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    await agent.close();
    const closed = await rejection(transport.request({ method: 'GET', url: `${server.url}/b` }));
    expect(closed.code).toBe('transport_closed');
  });

  it('emits a request event per attempt and survives a throwing listener', async () => {
    const { transport, events } = make();
    transport.onEvent(() => {
      throw new Error('listener bug');
    });
    server.script({ kind: 'status', status: 503 });
    await transport.request({ method: 'GET', url: `${server.url}/x`, operation: 'requery' });
    const requests = events.filter((e) => e.type === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ gateway: 'fiuu', operation: 'requery', method: 'GET', status: 503, attempt: 1 });
    expect(requests[1]).toMatchObject({ status: 200, attempt: 2 });
    expect(requests.every((e) => e.type === 'request' && e.durationMs >= 0)).toBe(true);
  });

  it('logs every request through redaction (no keys, signatures or PII in any line)', async () => {
    const lines: string[] = [];
    const sink = (o: Record<string, unknown>, m?: string) => lines.push(JSON.stringify([o, m]));
    const { transport } = make({ logger: { debug: sink, info: sink, warn: sink, error: sink } });
    server.script({ kind: 'status', status: 503 });
    await transport.request({
      method: 'POST',
      url: `${server.url}/RMS/q_by_tid.php?skey=querysecret123`,
      headers: { Authorization: 'Bearer sk_live_abcdef', 'Idempotency-Key': 'k' },
      form: { skey: 'deadbeefdeadbeef', vcode: 'cafebabecafebabe', bill_email: 'jane.doe@example.com', bill_mobile: '+60123456789', bill_name: 'Jane Doe', note: '4111111111111111' },
    });
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const secret of ['querysecret123', 'sk_live_abcdef', 'deadbeefdeadbeef', 'cafebabecafebabe', 'jane.doe@', '60123456789', 'Jane Doe', '4111111111111111']) {
      expect(all).not.toContain(secret);
    }
    expect(all).toContain('[REDACTED]');
  });
});
