import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { silentLogger } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, createLogger, createMetrics, loadConfig, signToken, startTenderServer, startWorkers, type TenderServer } from '@tender/server-express';
import { startHarness } from './helpers';

const servers: TenderServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

const secret = randomBytes(32).toString('hex');
const METRICS_TOKEN = `metrics-${randomBytes(16).toString('hex')}`;
async function start(env: Record<string, string>) {
  const server = await startTenderServer({
    env: { PORT: '0', RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h', JWT_SECRET: secret, ...env },
    logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    store: new MemoryStore(),
  });
  servers.push(server);
  return server;
}
const scrape = async (url: string, authorization?: string) => {
  const res = await fetch(url, { headers: authorization ? { authorization } : {} });
  return { status: res.status, headers: res.headers, text: await res.text() };
};

describe('GET /metrics', () => {
  it('with METRICS_TOKEN: answers only a scrape bearing that token', async () => {
    const server = await start({ METRICS_TOKEN });
    const url = `${server.url}/metrics`;
    for (const authorization of [undefined, 'Bearer wrong-token-wrong-token', `Bearer ${await signToken({ secret, merchantId: 'm1' })}`, `Basic ${METRICS_TOKEN}`]) {
      const refused = await scrape(url, authorization);
      expect(refused.status, String(authorization)).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('Bearer');
      expect(JSON.parse(refused.text).error).toMatchObject({ type: 'authentication_error' });
      expect(refused.text).not.toContain('payments_total');
    }
    const ok = await scrape(url, `Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('tender_reconcile_errors_total');
    expect(server.metricsUrl).toBeNull();
  });

  it('with METRICS_PORT: served on a listener of its own (127.0.0.1 by default), not on the API port', async () => {
    const server = await start({ METRICS_PORT: '0', METRICS_TOKEN });
    expect((await scrape(`${server.url}/metrics`, `Bearer ${METRICS_TOKEN}`)).status).toBe(404);
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await scrape(server.metricsUrl!)).status).toBe(401);
    const ok = await scrape(server.metricsUrl!, `Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('http_requests_total');
    // The metrics listener serves nothing else; the API port still serves the API.
    expect((await scrape(server.metricsUrl!.replace('/metrics', '/api/v1/payments'))).status).toBe(404);
    expect((await scrape(`${server.url}/health`)).status).toBe(200);
  });

  it('refuses a METRICS_PORT equal to PORT and a short METRICS_TOKEN at start', () => {
    expect(() => loadConfig({ PORT: '9000', METRICS_PORT: '9000' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(loadConfig({ METRICS_PORT: '9090' })).toMatchObject({ METRICS_PORT: 9090, METRICS_HOST: '127.0.0.1' });
  });
});

describe('tender_reconcile_errors_total', () => {
  it("counts the errors of each reconciliation run's report", async () => {
    const gateway = createTestGateway();
    const metrics = createMetrics({ defaultMetrics: false });
    const h = await startHarness({ gateway, app: { metrics } });
    const workers = startWorkers({ tender: h.tender, logger: silentLogger, metrics, reconcileIntervalMs: 0, purgeIntervalMs: 0, reconcile: { processingAfterMs: 0 }, outbox: { intervalMs: 3_600_000 } });
    try {
      const value = async () => Number(/^tender_reconcile_errors_total (\d+)$/m.exec((await h.call('GET', '/metrics', { token: null })).body)?.[1]);
      expect(await value()).toBe(0);
      // Two payments whose outcome is unknown (the gateway's answers were lost), then a gateway that fails their requery.
      for (let i = 0; i < 2; i++) {
        gateway.inject('lost_response');
        const created = await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR' } });
        expect(created.body.status).toBe('PROCESSING');
      }
      gateway.inject('server_error', 'server_error', 'server_error', 'server_error', 'server_error', 'server_error');
      await workers.reconcileOnce();
      gateway.clearFaults();
      expect(await value()).toBe(2);
    } finally {
      await workers.stop();
      await h.close();
    }
  });
});
