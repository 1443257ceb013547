/**
 * server-create: `POST /api/v1/payments` requests/s through the reference server (Express app, JWT
 * auth, zod validation, engine, Postgres store, in-process test gateway, a fresh Idempotency-Key per
 * request) driven by autocannon with 32 connections, against the same engine and store called
 * in-process (`tender.payments.create` with the same input, merchant and a fresh idempotency key) by
 * 32 concurrent callers. One store, so both sides share one pool: tender-server's default
 * (`DATABASE_POOL_MAX`, 10). Rounds alternate HTTP / in-process (A/B/A/B) in one run, so the ratio
 * is what HTTP, auth, validation and serialisation cost on top of the engine.
 *
 * Recorded: p50/p99 latency of both sides (median over rounds; the worst round's p99 too) and the
 * process's peak RSS while the server rounds ran (the load generator is a worker thread of it).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTender } from '@tender/core';
import { createTestGateway } from '@tender/core/testing';
import { createPostgresStore } from '@tender/store-postgres';
import { createApp, createLogger, loadConfig, signToken } from '@tender/server-express';
import { alternate, compare, median, round3, roundsText, type BenchResult, withTarget } from './lib';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  duration: number;
  non2xx: number;
  errors: number;
}
// autocannon ships no types and @types/autocannon is not a bench dependency; this is the part used.
const autocannon = createRequire(import.meta.url)('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUND_S = 3;
const ROUNDS = 4;
const CONNECTIONS = 32;
const MERCHANT = 'bench';

/** Percentile `p` (0-100) of `xs`, by nearest rank. */
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export default async function serverCreate(): Promise<BenchResult> {
  const schema = `bench_srv_${randomBytes(4).toString('hex')}`;
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
  const token = await signToken({ secret, merchantId: MERCHANT });
  let sampling: 'http' | 'engine' | null = null;
  const peakRss = { http: 0, engine: 0 };
  const rssTimer = setInterval(() => {
    if (sampling) peakRss[sampling] = Math.max(peakRss[sampling], process.memoryUsage().rss);
  }, 100);

  const http = { p50: [] as number[], p99: [] as number[], non2xx: 0 };
  const engine = { p50: [] as number[], p99: [] as number[] };
  try {
    // autocannon in a worker thread, so the load generator does not share the server's event loop.
    const overHttp = async () => {
      sampling = 'http';
      const result = await autocannon({
        url,
        workers: 1,
        connections: CONNECTIONS,
        duration: ROUND_S,
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
      sampling = null;
      http.p50.push(result.latency.p50);
      http.p99.push(result.latency.p99);
      http.non2xx += result.non2xx + result.errors;
      return result.requests.total / result.duration;
    };

    const prefix = randomBytes(6).toString('hex');
    let n = 0;
    const inProcess = async () => {
      sampling = 'engine';
      const latencies: number[] = [];
      const end = performance.now() + ROUND_S * 1000;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (performance.now() < end) {
            const t0 = performance.now();
            await tender.payments.create(
              { amount: '100.50', currency: 'MYR', paymentMethod: 'FPX', customer: { email: 'bench@example.com' } },
              { merchantId: MERCHANT, idempotencyKey: `bench-${prefix}-${++n}` },
            );
            latencies.push(performance.now() - t0);
          }
        }),
      );
      sampling = null;
      engine.p50.push(percentile(latencies, 50));
      engine.p99.push(percentile(latencies, 99));
      return latencies.length / ((performance.now() - started) / 1000);
    };

    const rounds = await alternate(overHttp, inProcess, ROUNDS);
    // The warm-up round of each side is not part of the figures.
    for (const side of [http, engine]) {
      side.p50.shift();
      side.p99.shift();
    }
    const p99 = median(http.p99);
    const result = compare('server-create', rounds.meanA, `requests/s (POST /api/v1/payments, ${CONNECTIONS} connections)`, `the same engine and store in-process, tender.payments.create, ${CONNECTIONS} concurrent callers (creates/s)`, rounds.meanB, {
      rounds: roundsText(rounds),
      median_round_ratio: round3(rounds.medianRatio),
      p50_ms: median(http.p50),
      p99_ms: p99,
      p99_worst_round_ms: Math.max(...http.p99),
      in_process_p50_ms: round3(median(engine.p50)),
      in_process_p99_ms: round3(median(engine.p99)),
      non_2xx: http.non2xx,
      peak_rss_mb: Math.round(peakRss.http / 1024 / 1024),
      in_process_peak_rss_mb: Math.round(peakRss.engine / 1024 / 1024),
      pool_max: poolMax,
    });
    return withTarget(result, 'ratio >= 0.8, p99 < 50 ms', result.ratio! >= 0.8 && p99 < 50 && http.non2xx === 0);
  } finally {
    clearInterval(rssTimer);
    server.closeAllConnections();
    server.close();
    await store.close();
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}
