/**
 * server-create: `POST /api/v1/payments` requests/s through the reference server (Express app,
 * JWT auth, zod validation, engine, Postgres store, in-process test gateway, a fresh Idempotency-Key
 * per request) driven by autocannon with 32 connections, against — in the same run — the raw-SQL
 * ceiling of the store benchmark: its minimal SQL for a payment created and captured (two
 * transactions through a plain `pg.Pool`, 32 concurrent callers, no engine, no HTTP).
 *
 * The server's store has tender-server's default pool (`DATABASE_POOL_MAX`, 10 connections); the raw
 * ceiling keeps 32, its fastest here. On this 2-core machine a 32-connection server pool served about
 * 15% fewer payments than 10: more backends than cores make every statement dearer.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTender } from '@tender/core';
import { createTestGateway } from '@tender/core/testing';
import { GENERIC_PLANS_OPTION, createPostgresStore } from '@tender/store-postgres';
import { createApp, createLogger, loadConfig, signToken } from '@tender/server-express';
import { compare, throughput, type BenchResult } from './lib';
import { rawOp } from './raw-sql';

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
// autocannon ships no types and @types/autocannon is not a bench dependency; this is the part used.
const autocannon = createRequire(import.meta.url)('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = 8;
const CONNECTIONS = 32;

export default async function serverCreate(): Promise<BenchResult> {
  const schema = `bench_srv_${randomBytes(4).toString('hex')}`;
  // Opened as store-owned pools are, like the server's own.
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: CONNECTIONS, options: GENERIC_PLANS_OPTION });
  // The store opened as tender-server opens it: its default DATABASE_POOL_MAX connections.
  const poolMax = loadConfig({}).DATABASE_POOL_MAX;
  const store = await createPostgresStore({ connectionString: DATABASE_URL, schema, poolConfig: { max: poolMax } });
  const tender = createTender({ gateways: [createTestGateway()], store });
  const secret = randomBytes(32).toString('hex');
  // The standalone app (helmet, CORS, request logging at level silent) without rate limits.
  const app = createApp(tender, { auth: { secret }, rateLimit: false, logger: createLogger({ level: 'silent' }) });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = await signToken({ secret, merchantId: 'bench' });
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

  try {
    // autocannon in a worker thread, so the load generator does not share the server's event loop.
    const run = (duration: number) =>
      autocannon({
        url,
        workers: 1,
        connections: CONNECTIONS,
        duration,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/payments',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ amount: '100.50', currency: 'MYR', payment_method: 'FPX', bill_email: 'bench@example.com' }),
            // A money-moving POST as clients should send it: with its own Idempotency-Key.
            setupRequest: fileURLToPath(new URL('./idempotency-key.cjs', import.meta.url)),
          },
        ],
      });
    await run(2); // warm-up
    const result = await run(SECONDS);
    const non2xx = result.non2xx + result.errors;

    // Baseline: the raw-SQL ceiling of the store benchmark, on the server's own tables.
    const raw = rawOp(admin, schema);
    await throughput(raw, { ms: 1000, concurrency: CONNECTIONS });
    const ceiling = await throughput(raw, { ms: SECONDS * 1000, concurrency: CONNECTIONS });

    return compare('server-create', result.requests.average, 'requests/s (POST /api/v1/payments, 32 connections)', 'raw-SQL ceiling of the store benchmark (create+capture/s, pg, 32 callers)', ceiling, {
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      non_2xx: non2xx,
      peak_rss_mb: Math.round(peakRss / 1024 / 1024),
      server_pool_max: poolMax,
      target: 'ratio >= 0.8, p99 < 50 ms',
    });
  } finally {
    clearInterval(rssTimer);
    server.closeAllConnections();
    server.close();
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}
