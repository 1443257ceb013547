/**
 * Issue 16's probes and metrics: the HEALTH_CHECK_PORT listener, `/ready` reporting each dependency
 * (503 only without a database), and the payment metrics — results, revenue, refused credentials,
 * payment errors, gateway attempts and retries, the circuit — counted from real traffic against the
 * Stripe sandbox and a real gRPC client, with bounded label sets.
 */
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { once } from 'node:events';
import { status as Status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { createEncryptingStore, parseEncryptionKey } from '@tender/core';
import { createTestGateway, MemoryStore } from '@tender/core/testing';
import { createPGliteStore } from '@tender/store-postgres';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logging';
import { createMetrics } from '../src/metrics';
import { startTenderServer, type TenderServer } from '../src/server';
import { paymentClient } from './grpc-client';
import { startHarness } from './helpers';
import { parseScrape, scrapeMetrics } from './prom-text';

const SECRET = 'probes-secret-probes-secret-0123456789abcd';
const quiet = () => createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) });

/** A TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('HEALTH_CHECK_PORT', () => {
  it('serves /health and /ready (only those) on a listener of its own; the API port keeps them', async () => {
    const server = await startTenderServer({ env: { PORT: '0', HEALTH_CHECK_PORT: '0', JWT_SECRET: SECRET, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h' }, logger: quiet(), store: new MemoryStore() });
    try {
      expect(server.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.healthUrl).not.toBe(server.url);
      const health = await fetch(`${server.healthUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      const ready = await fetch(`${server.healthUrl}/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as any;
      // Simulation mode: the four sandboxed gateways, every circuit closed.
      expect(body).toMatchObject({ status: 'ready', checks: { database: { status: 'healthy' } } });
      expect(body.checks.database.latency_ms).toBeGreaterThanOrEqual(0);
      expect(body.checks.gateways).toEqual({
        fiuu: { status: 'healthy', circuit: 'closed' },
        stripe: { status: 'healthy', circuit: 'closed' },
        paypal: { status: 'healthy', circuit: 'closed' },
        upi: { status: 'healthy', circuit: 'closed' },
      });
      expect(body.checks.redis).toBeUndefined();
      expect(body.checks.event_broker).toBeUndefined();
      for (const path of ['/metrics', '/api/v1/payments', '/openapi.json']) expect((await fetch(`${server.healthUrl}${path}`)).status, path).toBe(404);
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
    // Unset: no listener.
    const plain = await startTenderServer({ env: { PORT: '0', JWT_SECRET: SECRET, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h' }, logger: quiet(), store: new MemoryStore() });
    try {
      expect(plain.healthUrl).toBeNull();
    } finally {
      await plain.close();
    }
  });

  it('must differ from PORT, METRICS_PORT and GRPC_PORT', () => {
    expect(() => loadConfig({ PORT: '9000', HEALTH_CHECK_PORT: '9000' })).toThrow(/HEALTH_CHECK_PORT: must differ from PORT/);
    expect(() => loadConfig({ HEALTH_CHECK_PORT: '8080' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_PORT: '9090', HEALTH_CHECK_PORT: '9090' })).toThrow(/must differ from METRICS_PORT/);
    expect(() => loadConfig({ GRPC_PORT: '50051', HEALTH_CHECK_PORT: '50051' })).toThrow(/must differ from GRPC_PORT/);
    expect(loadConfig({ HEALTH_CHECK_PORT: '8087' })).toMatchObject({ HEALTH_CHECK_PORT: 8087, HEALTH_CHECK_HOST: '127.0.0.1' });
    expect(loadConfig({ HEALTH_CHECK_PORT: '0', METRICS_PORT: '0', GRPC_PORT: '0', PORT: '0' })).toMatchObject({ HEALTH_CHECK_PORT: 0 });
    expect(loadConfig({})).not.toHaveProperty('HEALTH_CHECK_PORT');
  });
});

describe('GET /ready', () => {
  it('reports Redis that does not answer (rate limits fail open) as degraded, still 200', async () => {
    const port = await closedPort();
    const server = await startTenderServer({
      env: { PORT: '0', JWT_SECRET: SECRET, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h', REDIS_URL: `redis://127.0.0.1:${port}` },
      logger: quiet(),
      store: new MemoryStore(),
    });
    try {
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as any;
      expect(body.status).toBe('degraded');
      expect(body.checks.database.status).toBe('healthy');
      expect(body.checks.redis).toMatchObject({ status: 'unhealthy', rate_limits: 'fail_open' });
      expect(typeof body.checks.redis.error).toBe('string');
      expect(JSON.stringify(body)).not.toContain(String(port));
    } finally {
      await server.close();
    }
  });

  it('is a 503 naming the database when the store cannot answer', async () => {
    const store = await createPGliteStore();
    const h = await startHarness({ store });
    try {
      expect((await h.call('GET', '/ready', { token: null })).status).toBe(200);
      await store.close();
      const ready = await h.call('GET', '/ready', { token: null });
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('1');
      expect(ready.body).toMatchObject({ status: 'not_ready', checks: { database: { status: 'unhealthy' } }, error: { type: 'storage_error', code: 'not_ready' } });
      // The test gateway has no transport: its circuit is what canSend tells.
      expect(ready.body.checks.gateways).toEqual({ test: { status: 'healthy', circuit: 'closed' } });
    } finally {
      await h.close();
    }
  });
});

describe('metrics from Stripe traffic', () => {
  let stripe: StripeSandbox;
  let server: TenderServer;
  let token: string;
  beforeAll(async () => {
    stripe = await startStripeSandbox();
    server = await startTenderServer({
      store: new MemoryStore(),
      logger: quiet(),
      env: {
        PORT: '0',
        GRPC_PORT: '0',
        JWT_SECRET: SECRET,
        RECONCILE_INTERVAL: '0',
        OUTBOX_INTERVAL: '1h',
        STRIPE_SECRET_KEY: stripe.secretKey,
        STRIPE_BASE_URL: stripe.url,
        STRIPE_RETRY_ATTEMPTS: '2',
        STRIPE_RETRY_DELAY: '5ms',
        STRIPE_RETRY_MAX_DELAY: '10ms',
        STRIPE_CIRCUIT_THRESHOLD: '3',
        STRIPE_CIRCUIT_MIN_REQUESTS: '3',
        STRIPE_CIRCUIT_OPEN: '60s',
      },
    });
    token = await signToken({ secret: SECRET, merchantId: 'shop' });
  });
  afterAll(async () => {
    await server?.close();
    await stripe?.close().catch(() => undefined);
  });

  const api = async (method: string, path: string, body?: unknown, bearer: string | null = token) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const scrape = () => scrapeMetrics(`${server.url}/metrics`);

  it('counts results, revenue and refunds, errors by code, and each gateway attempt and retry', async () => {
    const paid = await api('POST', '/api/v1/payments', { amount: '20.00', currency: 'USD', payment_method: 'pm_card_visa' });
    expect(paid.status).toBe(201);
    expect(paid.body.status).toBe('CAPTURED');
    const refund = await api('POST', `/api/v1/payments/${paid.body.id}/refund`, { amount: '5.00' });
    expect(refund.status).toBe(201);
    const declined = await api('POST', '/api/v1/payments', { amount: '7.00', currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds' });
    expect(declined.body.status).toBe('FAILED');
    // One 500 from Stripe: the idempotent create is sent again.
    stripe.faults.add({ kind: 'error', status: 500, match: /^POST \/v1\/payment_intents$/ });
    const retried = await api('POST', '/api/v1/payments', { amount: '3.50', currency: 'USD', payment_method: 'pm_card_visa' });
    expect(retried.body.status).toBe('CAPTURED');

    const m = await scrape();
    expect(m.value('payment_results_total', { gateway: 'stripe', result: 'succeeded' })).toBe(2);
    expect(m.value('payment_results_total', { gateway: 'stripe', result: 'failed' })).toBe(1);
    // Stripe PaymentMethod ids are one label value, not one each.
    expect(m.all('payment_results_total').every((s) => s.labels.method === 'payment_method_id')).toBe(true);
    expect(m.value('revenue_total', { currency: 'USD' })).toBeCloseTo(23.5, 6);
    expect(m.value('revenue_refunded_total', { currency: 'USD' })).toBeCloseTo(5, 6);
    expect(m.value('payment_errors_total', { gateway: 'stripe', code: 'card_declined' })).toBe(1);
    expect(m.value('tender_gateway_retries_total', { gateway: 'stripe', reason: 'server_error' })).toBe(1);
    expect(m.value('tender_gateway_requests_total', { gateway: 'stripe', operation: 'create_payment', outcome: '5xx' })).toBe(1);
    expect(m.value('tender_gateway_requests_total', { gateway: 'stripe', operation: 'create_payment', outcome: '4xx' })).toBe(1);
    expect(m.value('tender_gateway_requests_total', { gateway: 'stripe', operation: 'create_payment', outcome: '2xx' })).toBe(2);
    expect(m.value('tender_gateway_request_duration_seconds_count', { gateway: 'stripe', operation: 'create_payment' })).toBe(4);
    expect(m.value('tender_gateway_request_duration_seconds_count', { gateway: 'stripe', operation: 'refund' })).toBe(1);
    // The existing names are kept.
    expect(m.value('payments_total', { method: 'payment_method_id', status: 'CAPTURED', currency: 'USD' })).toBe(2);
    expect(m.value('tender_gateway_circuit_state', { gateway: 'stripe' })).toBe(0);
    // No Fiuu here: the Fiuu-named alias (fiuu_circuit_breaker_state) has no series.
    expect(m.all('fiuu_circuit_breaker_state')).toEqual([]);
    expect(m.families.get('fiuu_circuit_breaker_state')).toBe('gauge');
  });

  it('counts refused credentials by reason on REST, live streams and gRPC', async () => {
    const expired = await signToken({ secret: SECRET, merchantId: 'shop', expiresIn: -60 });
    const readOnly = await signToken({ secret: SECRET, merchantId: 'shop', scopes: ['payments:read'] });
    expect((await api('GET', '/api/v1/payments', undefined, null)).status).toBe(401);
    expect((await api('GET', '/api/v1/payments', undefined, 'not.a.token')).status).toBe(401);
    expect((await api('GET', '/api/v1/payments', undefined, expired)).status).toBe(401);
    expect((await api('POST', '/api/v1/payments', { amount: '1.00', currency: 'USD' }, readOnly)).status).toBe(403);
    expect((await fetch(`${server.url}/api/v1/payments/pay_x/events`)).status).toBe(401);
    const grpc = paymentClient(server.grpcAddress!);
    try {
      expect((await grpc.call('GetPayment', { payment_id: 'pay_x' })).error?.code).toBe(Status.UNAUTHENTICATED);
      const narrow = paymentClient(server.grpcAddress!, readOnly);
      try {
        expect((await narrow.call('RefundPayment', { payment_id: 'pay_x', amount: '1.00' })).error?.code).toBe(Status.PERMISSION_DENIED);
      } finally {
        narrow.close();
      }
    } finally {
      grpc.close();
    }
    const m = await scrape();
    expect(m.value('failed_auth_total', { reason: 'missing_token', api: 'rest' })).toBe(1);
    expect(m.value('failed_auth_total', { reason: 'invalid_token', api: 'rest' })).toBe(1);
    expect(m.value('failed_auth_total', { reason: 'expired', api: 'rest' })).toBe(1);
    expect(m.value('failed_auth_total', { reason: 'insufficient_scope', api: 'rest' })).toBe(1);
    expect(m.value('failed_auth_total', { reason: 'missing_token', api: 'live' })).toBe(1);
    expect(m.value('failed_auth_total', { reason: 'missing_token', api: 'grpc' })).toBe(1);
    expect(m.value('failed_auth_total', { reason: 'insufficient_scope', api: 'grpc' })).toBe(1);
  });

  it('reports an open circuit on /ready (degraded, still 200), in the circuit gauge and in payment errors', async () => {
    await stripe.close();
    let last: { status: number; body: any } | undefined;
    for (let i = 0; i < 6 && last?.body?.error?.code !== 'circuit_open'; i++) {
      last = await api('POST', '/api/v1/payments', { amount: '2.00', currency: 'USD', payment_method: 'pm_card_visa', gateway: 'stripe' });
      expect(last.status).toBe(503);
    }
    expect(last!.body.error.code).toBe('circuit_open');
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { database: { status: 'healthy' }, gateways: { stripe: { status: 'unhealthy', circuit: 'open' } } } });
    const m = await scrape();
    expect(m.value('tender_gateway_circuit_state', { gateway: 'stripe' })).toBe(1);
    expect(m.value('payment_errors_total', { gateway: 'stripe', code: 'connection_failed' })).toBeGreaterThanOrEqual(1);
    expect(m.value('payment_errors_total', { gateway: 'stripe', code: 'circuit_open' })).toBe(1);
    expect(m.value('tender_gateway_requests_total', { gateway: 'stripe', operation: 'create_payment', outcome: 'error' })).toBeGreaterThanOrEqual(2);
  });
});

describe('bounded labels and the stuck-payment gauge', () => {
  it('keeps payment method and failure code label sets bounded whatever callers send', async () => {
    const gateway = createTestGateway();
    const metrics = createMetrics({ defaultMetrics: false });
    const h = await startHarness({ gateway, app: { metrics } });
    metrics.observeTender(h.tender);
    try {
      for (let i = 0; i < 60; i++) {
        const res = await h.call('POST', '/api/v1/payments', { body: { amount: '1.00', currency: 'MYR', payment_method: `method_${i}` } });
        expect(res.status).toBe(201);
      }
      const m = parseScrape((await h.call('GET', '/metrics', { token: null })).body);
      const methods = new Set(m.all('payments_total').map((s) => s.labels.method));
      expect(methods.size).toBe(41);
      expect(methods.has('other')).toBe(true);
      expect(methods.has('method_0')).toBe(true);
      expect(methods.has('method_59')).toBe(false);
    } finally {
      await h.close();
    }
  });

  it('reads the database metrics through a wrapping store (encryption at rest) from the store it wraps', async () => {
    const inner = await createPGliteStore();
    const key = parseEncryptionKey(`k1:${randomBytes(32).toString('base64')}`);
    const store = createEncryptingStore(inner, { keys: [key], activeKeyId: key.id });
    const metrics = createMetrics({ defaultMetrics: false });
    const h = await startHarness({ store, app: { metrics } });
    try {
      metrics.observeStore(store, { stuckAfterMs: 3_600_000 });
      expect((await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR' } })).status).toBe(201);
      const m = parseScrape((await h.call('GET', '/metrics', { token: null })).body);
      expect(m.value('db_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
      expect(m.value('db_size_bytes')).toBeGreaterThan(0);
      expect(m.value('tender_reconcile_stuck_payments')).toBe(0);
    } finally {
      await h.close();
      await inner.close();
    }
  });

  it('counts PENDING/PROCESSING payments older than the threshold as stuck, on a store without a count of its own', async () => {
    const gateway = createTestGateway();
    const metrics = createMetrics({ defaultMetrics: false });
    const h = await startHarness({ gateway, app: { metrics } });
    const stuck = async () => parseScrape((await h.call('GET', '/metrics', { token: null })).body).value('tender_reconcile_stuck_payments');
    try {
      metrics.observeStore(h.store, { stuckAfterMs: 0 });
      expect(await stuck()).toBe(0);
      gateway.inject('lost_response');
      const lost = await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR' } });
      expect(lost.body.status).toBe('PROCESSING');
      await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR' } });
      // "Older than 0 ms" needs the clock to have moved past the payment's last update.
      while (Date.now() <= Date.parse(lost.body.updated_at)) await new Promise((resolve) => setImmediate(resolve));
      expect(await stuck()).toBe(1);
      // A threshold not yet reached: none.
      metrics.observeStore(h.store, { stuckAfterMs: 3_600_000 });
      expect(await stuck()).toBe(0);
    } finally {
      await h.close();
    }
  });
});
