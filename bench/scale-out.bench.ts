/**
 * scale-out: two `tender-server` processes (the built CLI) on one Postgres, each running the API, the
 * outbox dispatcher and the reconciler, against one of them alone. Load: autocannon creating Stripe
 * payments (32 connections in all, split evenly across the processes in the two-process rounds; every
 * tenth payment needs 3-D Secure and waits in REQUIRES_ACTION), gateway calls going to one Stripe
 * sandbox process both servers share, merchant webhooks going to a receiver on loopback.
 *
 * Reported: payments created per second with one process and with two, then, once the outbox has
 * drained and the reconcilers have expired every abandoned payment, the correctness checks the
 * figure is for: events the receiver got more than once, events never received, and payments the
 * reconcilers moved to EXPIRED more than once (from the audit trail). Each must be 0.
 *
 * Rounds alternate one process / two; the second process is started for each two-process round and
 * stopped after it. Needs Postgres at BENCH_DATABASE_URL / TEST_DATABASE_URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { waitFor } from '@tender/core/testing';
import { signToken } from '@tender/server-express';
import { compare, round3, withTarget, type BenchResult } from './lib';

interface AutocannonResult {
  requests: { total: number };
  duration: number;
  latency: { p99: number };
  non2xx: number;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONNECTIONS = 32;
const ROUNDS = 2;
const ROUND_S = 5;
const POOL_MAX = 10;
const MERCHANT = 'bench';
const REQUIRES_ACTION_TTL_MS = 3000;

const cli = fileURLToPath(new URL('../packages/server-express/dist/cli.js', import.meta.url));
const stripeCli = fileURLToPath(new URL('../packages/stripe/dist/sandbox/cli.js', import.meta.url));

async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts `tender-server` with `env`; resolves with its URL once `/ready` answers 200. */
async function startServer(env: Record<string, string>): Promise<{ url: string; proc: ChildProcess; output: () => string }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [cli], { env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer) => (out = (out + chunk.toString()).slice(-4000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  proc.once('exit', () => (exited = true));
  await waitFor(
    async () => {
      if (exited) throw new Error(`tender-server exited: ${out}`);
      return fetch(`${url}/ready`).then((r) => r.status === 200, () => false);
    },
    'tender-server ready',
    60_000,
    200,
  );
  return { url, proc, output: () => out };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

export default async function scaleOut(): Promise<BenchResult> {
  const schema = `bench_scale_${randomBytes(4).toString('hex')}`;
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const children: ChildProcess[] = [];
  let receiver: Server | undefined;
  try {
    // One Stripe sandbox for both servers: a payment created through one must be found by the other's reconciler.
    const sandbox = spawn(process.execPath, [stripeCli, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(sandbox);
    const [line] = (await once(createInterface({ input: sandbox.stdout! }), 'line')) as [string];
    const stripe = JSON.parse(line) as { url: string; secretKey: string };

    // The merchant's webhook endpoint: counts each event id it is sent.
    const received = new Map<string, number>();
    receiver = createServer((req, res) => {
      const id = String(req.headers['tender-event-id']);
      req.resume();
      req.on('end', () => {
        received.set(id, (received.get(id) ?? 0) + 1);
        res.writeHead(204).end();
      });
    });
    receiver.keepAliveTimeout = 60_000;
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/tender-webhooks`;

    const secret = randomBytes(32).toString('hex');
    const env = {
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_MAX: String(POOL_MAX),
      HOST: '127.0.0.1',
      JWT_SECRET: secret,
      TENDER_SIMULATION: '0',
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_BASE_URL: stripe.url,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_IP: '1000000000',
      RATE_LIMIT_PER_MERCHANT: '1000000000',
      OUTBOX_INTERVAL: '200ms',
      RECONCILE_INTERVAL: '500ms',
      RECONCILE_REQUIRES_ACTION_TTL: `${REQUIRES_ACTION_TTL_MS}ms`,
    };
    const token = await signToken({ secret, merchantId: MERCHANT });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const a = await startServer(env);
    children.push(a.proc);
    const endpoint = await fetch(`${a.url}/api/v1/webhook-endpoints`, { method: 'POST', headers, body: JSON.stringify({ url: receiverUrl }) });
    if (endpoint.status !== 201) throw new Error(`webhook endpoint not created: ${endpoint.status} ${await endpoint.text()}`);

    const load = async (urls: string[], seconds = ROUND_S) => {
      const results = await Promise.all(
        urls.map((url) =>
          autocannon({
            url,
            workers: 1,
            connections: CONNECTIONS / urls.length,
            duration: seconds,
            requests: [{ method: 'POST', path: '/api/v1/payments', headers, setupRequest: fileURLToPath(new URL('./scale-out-request.cjs', import.meta.url)) }],
          }),
        ),
      );
      const failed = results.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
      if (failed > 0) throw new Error(`${failed} requests failed`);
      return { rate: results.reduce((sum, r) => sum + r.requests.total / r.duration, 0), p99: Math.max(...results.map((r) => r.latency.p99)) };
    };

    // Rounds alternate one process / two (A, AB, A, AB...): the second is started before each
    // two-process round and stopped (SIGTERM: it finishes its requests and worker batches) after it,
    // so the checks below also cover instances leaving and joining while events are in flight.
    await load([a.url]); // warm-up
    const one: number[] = [];
    const two: number[] = [];
    let p99 = 0;
    let restarts = 0;
    for (let i = 0; i < ROUNDS; i++) {
      one.push((await load([a.url])).rate);
      const b = await startServer(env);
      children.push(b.proc);
      restarts++;
      await load([b.url], 1); // warm-up of the new process
      const r = await load([a.url, b.url]);
      two.push(r.rate);
      p99 = Math.max(p99, r.p99);
      await stop(b.proc);
    }

    // Everything settles: every event delivered (or given up on), every abandoned payment expired.
    const s = `"${schema}"`;
    const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
    const settleStarted = performance.now();
    await waitFor(
      async () =>
        (await count(`SELECT count(*) AS n FROM ${s}.outbox_events WHERE status = 'pending'`)) === 0 &&
        (await count(`SELECT count(*) AS n FROM ${s}.payments WHERE status IN ('REQUIRES_ACTION', 'PENDING', 'PROCESSING')`)) === 0,
      'outbox drained and abandoned payments expired',
      180_000,
      250,
    );
    const settleS = (performance.now() - settleStarted) / 1000;
    // A last poll of each dispatcher may still be in flight: let it land before counting.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const payments = await count(`SELECT count(*) AS n FROM ${s}.payments`);
    const events = await count(`SELECT count(*) AS n FROM ${s}.outbox_events`);
    const dead = await count(`SELECT count(*) AS n FROM ${s}.outbox_events WHERE status = 'dead'`);
    const ids = (await db.query<{ id: string }>(`SELECT id FROM ${s}.outbox_events`)).rows.map((r) => r.id);
    const duplicateDeliveries = [...received.values()].filter((n) => n > 1).length;
    const neverReceived = ids.filter((id) => !received.has(id)).length;
    const expired = await count(`SELECT count(*) AS n FROM ${s}.transitions WHERE actor = 'reconciler' AND to_status = 'EXPIRED'`);
    const reconciledTwice = await count(
      `SELECT count(*) AS n FROM (SELECT payment_id FROM ${s}.transitions WHERE actor = 'reconciler' AND to_status = 'EXPIRED' GROUP BY payment_id HAVING count(*) > 1) twice`,
    );
    const expiredPayments = await count(`SELECT count(*) AS n FROM ${s}.payments WHERE status = 'EXPIRED'`);
    const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
    const duplicates = duplicateDeliveries + reconciledTwice;
    const result = compare('scale-out', mean(two), 'payments created/s, 2 tender-server processes, one Postgres', 'the same load on 1 process (payments created/s)', mean(one), {
      connections: CONNECTIONS,
      pool_max_per_process: POOL_MAX,
      rounds_one_process: one.map((r) => r.toFixed(0)).join(', '),
      rounds_two_processes: two.map((r) => r.toFixed(0)).join(', '),
      p99_ms_two_processes: p99,
      payments,
      outbox_events: events,
      events_dead: dead,
      duplicate_deliveries: duplicateDeliveries,
      events_never_received: neverReceived,
      expired_by_reconciler: expired,
      expired_payments: expiredPayments,
      reconciled_twice: reconciledTwice,
      second_process_starts: restarts,
      settle_s: round3(settleS),
    });
    return withTarget(result, 'no event delivered twice, none lost, no payment reconciled twice', duplicates === 0 && neverReceived === 0 && dead === 0 && expired === expiredPayments);
  } finally {
    // Servers first (they finish their worker batches), then the sandbox.
    for (const child of children.slice(1).reverse()) await stop(child);
    if (children[0]) await stop(children[0]);
    receiver?.closeAllConnections();
    receiver?.close();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db.end();
  }
}
