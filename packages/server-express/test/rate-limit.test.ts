import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';
import { MemoryStore } from '@tender/core/testing';
import { startHarness } from './helpers';
import { cuttableRelay } from './tcp-relay';
import { listeningUrl, spawnTenderServer } from './cli-process';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when something answers on the Redis port. */
async function redisUp(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('rate limits (express-rate-limit)', () => {
  it('per IP: the request over the limit is a 429 with the error JSON and Retry-After', async () => {
    const h = await startHarness({ app: { rateLimit: { perIp: { limit: 3, windowMs: 60_000 }, perMerchant: false } } });
    try {
      for (let i = 0; i < 3; i++) expect((await h.call('GET', '/api/v1/payments')).status).toBe(200);
      const limited = await h.call('GET', '/api/v1/payments', { token: await h.token('another-merchant') });
      expect(limited.status).toBe(429);
      expect(limited.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
      expect(limited.headers.get('retry-after')).toBe('60');
      expect(limited.headers.get('ratelimit-policy')).toBe('3;w=60');
    } finally {
      await h.close();
    }
  });

  it('per merchant: one merchant over its limit does not hold back another', async () => {
    const h = await startHarness({ app: { rateLimit: { perIp: false, perMerchant: { limit: 2, windowMs: 60_000 } } } });
    try {
      const busy = await h.token('busy-merchant');
      for (let i = 0; i < 2; i++) expect((await h.call('GET', '/api/v1/payments', { token: busy })).status).toBe(200);
      expect((await h.call('GET', '/api/v1/payments', { token: busy })).status).toBe(429);
      expect((await h.call('GET', '/api/v1/payments', { token: await h.token('quiet-merchant') })).status).toBe(200);
      // Nothing was created by a refused request.
      const refused = await h.call('POST', '/api/v1/payments', { token: busy, body: { amount: '1.00', currency: 'MYR' } });
      expect(refused.status).toBe(429);
      expect((await h.tender.payments.list({ merchantId: 'busy-merchant' })).data).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

// With REDIS_URL the limits hold across instances. Skipped only on a machine without Redis, never in
// CI (`.ci/run` starts Redis and sets TENDER_REQUIRE_REDIS=1).
const haveRedis = process.env.TENDER_REQUIRE_REDIS === '1' || (await redisUp());
describe.skipIf(!haveRedis)('rate limits shared through Redis (REDIS_URL)', () => {
  const servers: TenderServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  const quiet = () => createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) });
  // The limits are what is tested, not storage: a MemoryStore starts at once where two PGlite data
  // directories took longer than the test's time limit to open on a loaded machine.
  const start = (secret: string, redisUrl: string, perMerchant: number) =>
    startTenderServer({
      env: { PORT: '0', JWT_SECRET: secret, REDIS_URL: redisUrl, RATE_LIMIT_PER_MERCHANT: String(perMerchant), RATE_LIMIT_PER_IP: '100000', RATE_LIMIT_WINDOW: '60s', RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h' },
      logger: quiet(),
      store: new MemoryStore(),
    }).then((server) => {
      servers.push(server);
      return server;
    });
  // A merchant of its own, so earlier runs' counters in Redis do not matter.
  const merchantToken = (secret: string) => signToken({ secret, merchantId: `rl-${randomBytes(6).toString('hex')}` });
  const statusOf = async (server: TenderServer, token: string) =>
    (await fetch(`${server.url}/api/v1/payments`, { headers: { authorization: `Bearer ${token}` } })).status;

  it('count one merchant\'s requests together, whichever instance serves them', async () => {
    const secret = randomBytes(32).toString('hex');
    const pair = [await start(secret, REDIS_URL, 4), await start(secret, REDIS_URL, 4)];
    const token = await merchantToken(secret);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await statusOf(pair[i % 2]!, token));
    expect(statuses).toEqual([200, 200, 200, 200]);
    // Each instance alone has seen only 2: a per-process counter would still let these through.
    expect(await statusOf(pair[0]!, token)).toBe(429);
    expect(await statusOf(pair[1]!, token)).toBe(429);
  });

  it('count the first requests of a server whose Redis is slow to finish its handshake', async () => {
    // Under load the connection's handshake took up to 2.7 s; requests served meanwhile went uncounted.
    const redis = new URL(REDIS_URL);
    const relay = await cuttableRelay(redis.hostname, Number(redis.port || 6379), { holdRepliesMs: 600 });
    try {
      const secret = randomBytes(32).toString('hex');
      const server = await start(secret, relay.via(REDIS_URL), 3);
      const token = await merchantToken(secret);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push(await statusOf(server, token));
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await relay.close();
    }
  });

  it('count each request once when the event loop stalls while its Redis command is in flight', async () => {
    const redis = new URL(REDIS_URL);
    const merchantId = `rl-${randomBytes(6).toString('hex')}`;
    let stalls = 0;
    const relay = await cuttableRelay(redis.hostname, Number(redis.port || 6379), {
      onClientData(chunk) {
        // The second count of this merchant: block the process (the server's too) for 800 ms, as a
        // long synchronous task or a starved CPU would, after the command has gone to Redis.
        if (!chunk.includes(merchantId) || ++stalls !== 2) return;
        const until = Date.now() + 800;
        while (Date.now() < until) {
          // busy
        }
      },
    });
    try {
      const secret = randomBytes(32).toString('hex');
      const server = await start(secret, relay.via(REDIS_URL), 4);
      const token = await signToken({ secret, merchantId });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push(await statusOf(server, token));
      expect(stalls).toBeGreaterThanOrEqual(2);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
    } finally {
      await relay.close();
    }
  });

  it('keep serving payments promptly while Redis is unreachable, and count again once it is back', async () => {
    const redis = new URL(REDIS_URL);
    const relay = await cuttableRelay(redis.hostname, Number(redis.port || 6379));
    const secret = randomBytes(32).toString('hex');
    const server = await start(secret, relay.via(REDIS_URL), 3);
    try {
      const token = await merchantToken(secret);
      const timed = async () => {
        const started = Date.now();
        const status = (await fetch(`${server.url}/api/v1/payments`, { headers: { authorization: `Bearer ${token}` } })).status;
        return { status, ms: Date.now() - started };
      };
      expect((await timed()).status).toBe(200);
      relay.cut();
      // The limiter fails open: a payments API must not go down with its rate-limit store.
      for (let i = 0; i < 5; i++) {
        const outage = await timed();
        expect(outage.status).toBe(200);
        expect(outage.ms).toBeLessThan(1000);
      }
      relay.restore();
      const after: number[] = [];
      for (let i = 0; i < 40 && !after.includes(429); i++) {
        after.push((await timed()).status);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(after).toContain(429);
    } finally {
      await relay.close();
    }
  });
});

describe('REDIS_URL pointing at a Redis that is down when the server starts', () => {
  it('starts, stays up and serves the API (limits fail open) instead of crashing', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dir = mkdtempSync(join(tmpdir(), 'tender-rl-down-'));
    const secret = randomBytes(32).toString('hex');
    const proc = spawnTenderServer(['start'], { PORT: '0', TENDER_DATA_DIR: dir, JWT_SECRET: secret, REDIS_URL: `redis://127.0.0.1:${deadPort}`, LOG_LEVEL: 'info' });
    let exited: number | null = null;
    proc.once('exit', (code) => (exited = code ?? -1));
    try {
      const url = await listeningUrl(proc);
      const token = await signToken({ secret, merchantId: 'redis-down' });
      // Long enough for the reconnection attempts that used to end the process.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${url}/api/v1/payments`, { headers: { authorization: `Bearer ${token}` } });
        expect(response.status).toBe(200);
      }
      expect(exited).toBeNull();
    } finally {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    // A process started through tsx on a loaded machine may take as long as listeningUrl allows (45 s).
  }, 60_000);
});
