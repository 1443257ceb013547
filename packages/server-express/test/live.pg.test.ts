/**
 * Live status across instances: two servers on one Postgres schema (and one Stripe sandbox). A change
 * made through one server raises no event in the other's process; the other's streams still deliver
 * it, from the shared trail read every LIVE_POLL_INTERVAL.
 */
import { Writable } from 'node:stream';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';
import { isOpen, openSse, openWs, until } from './live-helpers';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';

const SECRET = 'live-pg-secret-live-pg-secret-live-pg-0123';
const schema = freshSchema('srv_live');
let sandbox: StripeSandbox;
let a: TenderServer;
let b: TenderServer;
let token: string;

beforeAll(async () => {
  sandbox = await startStripeSandbox();
  const quiet = () => createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) });
  const env = {
    PORT: '0',
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_MAX: '4',
    JWT_SECRET: SECRET,
    STRIPE_SECRET_KEY: sandbox.secretKey,
    STRIPE_BASE_URL: sandbox.url,
    RECONCILE_INTERVAL: '0',
    LIVE_POLL_INTERVAL: '200ms',
  };
  a = await startTenderServer({ env, logger: quiet() });
  b = await startTenderServer({ env, logger: quiet() });
  token = await signToken({ secret: SECRET, merchantId: 'm1' });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await sandbox?.close();
  await dropSchema(schema);
});

const api = async (server: TenderServer, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};

describe('live status with two servers on one Postgres', () => {
  it("delivers to server A's SSE and WebSocket clients the capture and refund made through server B, in trail order", async () => {
    const created = await api(a, 'POST', '/api/v1/payments', { amount: '80.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', capture_method: 'manual' });
    expect(created.body.status).toBe('AUTHORIZED');
    const id = created.body.id as string;
    const sse = await openSse(`${a.url}/api/v1/payments/${id}/events`, { token });
    const ws = await openWs(`${a.url}/api/v1/payments/${id}/ws`, { token });
    if (!isOpen(ws)) throw new Error('refused');
    const [snapshot] = await sse.waitFor(1);
    await ws.waitFor(1);

    expect((await api(b, 'POST', `/api/v1/payments/${id}/capture`, {})).body.status).toBe('CAPTURED');
    await until(() => sse.events, (e) => e.some((x) => x.data.payment?.status === 'CAPTURED'), 'the capture made on B, on A');
    const refund = await api(b, 'POST', `/api/v1/payments/${id}/refund`, { amount: '30.00' });
    expect(refund.status).toBe(201);
    const trail = (await until(() => api(a, 'GET', `/api/v1/payments/${id}/transitions`), (r) => r.body.data.some((t: any) => t.refund_id === refund.body.id && t.to === 'SUCCEEDED'), 'the refund on the trail')).body.data as Array<{ id: string }>;
    const after = trail.slice(trail.findIndex((t) => t.id === snapshot!.id) + 1).map((t) => t.id);
    await sse.waitFor(1 + after.length);
    await ws.waitFor(1 + after.length);
    expect(sse.events.slice(1).map((e) => e.id)).toEqual(after);
    expect(ws.events.slice(1).map((e) => e.id)).toEqual(after);
    expect(sse.events.at(-1)!.data.payment).toMatchObject({ status: 'PARTIALLY_REFUNDED', amount_refunded: '30.00' });
    sse.close();
    ws.ws.close();
    await ws.closed;
  });

  it('and the other way round: B streams what A does', async () => {
    const created = await api(a, 'POST', '/api/v1/payments', { amount: '12.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', capture_method: 'manual' });
    const id = created.body.id as string;
    const sse = await openSse(`${b.url}/api/v1/payments/${id}/events`, { token });
    await sse.waitFor(1);
    expect((await api(a, 'POST', `/api/v1/payments/${id}/cancel`, {})).body.status).toBe('CANCELLED');
    await until(() => sse.events, (e) => e.some((x) => x.data.transition?.to === 'CANCELLED'), 'the cancel made on A, on B');
    sse.close();
  });
});
