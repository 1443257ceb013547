import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CIRCUIT_STATE_VALUE, TenderError, createHttpTransport } from '@tender/core';
import type { CircuitOptions, CircuitState, HttpTransport, TransportEvent } from '@tender/core';
import { FakeClock } from '@tender/core/testing';
import { startFaultServer } from './fault-server';
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


function make(circuit: CircuitOptions, clock = new FakeClock(1_700_000_000_000)) {
  const transport = createHttpTransport({ gateway: 'stripe', random: () => 0, retry: { attempts: 1 }, timeoutMs: 2_000, circuit, clock });
  transports.push(transport);
  const states: CircuitState[] = [];
  const events: TransportEvent[] = [];
  transport.onEvent((e) => {
    events.push(e);
    if (e.type === 'circuit') states.push(e.state);
  });
  return { transport, states, events, clock };
}

const post = (t: HttpTransport) => t.request({ method: 'POST', url: `${server.url}/v1/payment_intents`, form: { amount: '100' } });

async function failWith(promise: Promise<unknown>): Promise<TenderError> {
  try {
    await promise;
  } catch (err) {
    return err as TenderError;
  }
  throw new Error('expected a rejection');
}

describe('circuit breaker', () => {
  it('opens after the failure count threshold, then fails fast without touching the gateway', async () => {
    const { transport, states, clock } = make({ failureThreshold: 3, windowMs: 10_000, openMs: 5_000 });
    server.script(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })));
    for (let i = 0; i < 3; i++) expect((await post(transport)).status).toBe(503);
    expect(transport.circuitState).toBe('open');
    expect(states).toEqual(['open']);

    clock.advance(1_200);
    const err = await failWith(post(transport));
    expect(TenderError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ type: 'gateway_unavailable', code: 'circuit_open', status: 503, retryAfterSeconds: 4, retryable: true });
    expect(err.details).toMatchObject({ requestSent: false, gateway: 'stripe' });
    expect(server.received).toHaveLength(3);
  });

  it('4xx responses are not failures; failures outside the rolling window expire', async () => {
    const { transport, clock } = make({ failureThreshold: 3, windowMs: 10_000 });
    for (const status of [400, 402, 404, 409, 429]) {
      server.script({ kind: 'status', status });
      await post(transport);
    }
    expect(transport.circuitState).toBe('closed');
    server.script({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    await post(transport);
    await post(transport);
    clock.advance(11_000);
    server.script({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    await post(transport);
    await post(transport);
    expect(transport.circuitState).toBe('closed');
    server.script({ kind: 'status', status: 500 });
    await post(transport);
    expect(transport.circuitState).toBe('open');
  });

  it('a ratio threshold waits for minimumRequests', async () => {
    const { transport } = make({ failureThreshold: 0.5, minimumRequests: 4, windowMs: 60_000 });
    server.script({ kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    for (let i = 0; i < 3; i++) await post(transport);
    expect(transport.circuitState).toBe('closed'); // 3/3 failed but only 3 calls
    await post(transport); // success: 3/4 = 0.75, evaluated on the next failure
    server.script({ kind: 'status', status: 503 });
    await post(transport);
    expect(transport.circuitState).toBe('open');
  });

  it('transport errors count too; goes half-open after openMs and closes after a successful trial', async () => {
    const { transport, states, clock } = make({ failureThreshold: 2, openMs: 5_000 });
    server.script({ kind: 'reset' }, { kind: 'reset' });
    await failWith(post(transport));
    await failWith(post(transport));
    expect(transport.circuitState).toBe('open');
    clock.advance(5_000);
    expect(transport.circuitState).toBe('half_open');
    const res = await post(transport);
    expect(res.status).toBe(200);
    expect(transport.circuitState).toBe('closed');
    expect(states).toEqual(['open', 'half_open', 'closed']);
    expect(states.map((s) => CIRCUIT_STATE_VALUE[s])).toEqual([1, 2, 0]);
  });

  it('a failed trial re-opens the circuit for another openMs', async () => {
    const { transport, states, clock } = make({ failureThreshold: 1, openMs: 5_000 });
    server.script({ kind: 'status', status: 500 }, { kind: 'status', status: 502 });
    await post(transport);
    clock.advance(5_000);
    expect((await post(transport)).status).toBe(502);
    expect(transport.circuitState).toBe('open');
    clock.advance(4_999);
    expect((await failWith(post(transport))).code).toBe('circuit_open');
    clock.advance(1);
    expect((await post(transport)).status).toBe(200);
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });

  it('half-open admits halfOpenTrials concurrent trials, fails the rest fast, and needs that many successes', async () => {
    const { transport, clock } = make({ failureThreshold: 1, openMs: 1_000, halfOpenTrials: 2 });
    server.script({ kind: 'status', status: 500 });
    await post(transport);
    clock.advance(1_000);
    server.script({ kind: 'stall' }, { kind: 'stall' });
    const slow = transport.request({ method: 'GET', url: `${server.url}/slow`, timeoutMs: 200 }).catch((e: unknown) => e);
    const slow2 = transport.request({ method: 'GET', url: `${server.url}/slow`, timeoutMs: 200 }).catch((e: unknown) => e);
    await server.waitForRequests(3);
    const started = performance.now();
    const third = await failWith(post(transport));
    expect(performance.now() - started).toBeLessThan(150); // not queued behind the 200 ms trials
    expect(third.code).toBe('circuit_open');
    await Promise.all([slow, slow2]); // both trials time out -> open again
    expect(transport.circuitState).toBe('open');

    clock.advance(1_000);
    await post(transport);
    expect(transport.circuitState).toBe('half_open'); // one of two successes
    await post(transport);
    expect(transport.circuitState).toBe('closed');
  });

  it('stops retrying when the circuit opens mid-call and returns the last response', async () => {
    const transport = createHttpTransport({
      gateway: 'paypal',
      random: () => 0,
      retry: { attempts: 5 },
      circuit: { failureThreshold: 2, openMs: 60_000 },
    });
    transports.push(transport);
    server.script(...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 503 })));
    const res = await transport.request({ method: 'GET', url: `${server.url}/v2/checkout/orders/1` });
    expect([res.status, res.attempts]).toEqual([503, 2]);
    expect(server.received).toHaveLength(2);
  });

  it('real time: opens, waits openMs on the wall clock, then closes after a trial', async () => {
    const transport = createHttpTransport({ gateway: 'upi', retry: { attempts: 1 }, circuit: { failureThreshold: 1, openMs: 150 } });
    transports.push(transport);
    const changed = new Promise<void>((resolve) => transport.onEvent((e) => e.type === 'circuit' && e.state === 'closed' && resolve()));
    server.script({ kind: 'status', status: 503 });
    await post(transport);
    expect((await failWith(post(transport))).code).toBe('circuit_open');
    await new Promise((r) => setTimeout(r, 160));
    expect((await post(transport)).status).toBe(200);
    await changed;
    expect(transport.circuitState).toBe('closed');
  });

  it('rejects invalid circuit settings with a typed error', () => {
    for (const circuit of [{ failureThreshold: 0 }, { failureThreshold: 2.5 }, { windowMs: -1 }, { halfOpenTrials: 0 }, { minimumRequests: 0 }]) {
      expect(() => createHttpTransport({ gateway: 'x', circuit })).toThrowError(expect.objectContaining({ type: 'invalid_request_error' }));
    }
  });
});
