import type { ChildProcess } from 'node:child_process';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { listeningUrl, spawnTenderServer } from './cli-process';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';

const schema = freshSchema('srv_crash');
const SECRET = 'crash-test-secret-crash-test-secret-0123';
let sandbox: StripeSandbox;
let child: ChildProcess | null = null;

/** Starts `tender-server` and resolves with its URL once it listens. */
async function startServer(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawnTenderServer([], {
    ...process.env,
    PORT: '0',
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    JWT_SECRET: SECRET,
    STRIPE_SECRET_KEY: sandbox.secretKey,
    STRIPE_BASE_URL: sandbox.url,
    STRIPE_TIMEOUT: '5s',
    RECONCILE_INTERVAL: '300ms',
    RECONCILE_PROCESSING_AFTER: '500ms',
    LOG_LEVEL: 'info',
  });
  return { url: await listeningUrl(proc), proc };
}

beforeAll(async () => {
  sandbox = await startStripeSandbox();
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await sandbox?.close();
  await dropSchema(schema);
});

describe('SIGKILL in the middle of payments, then restart', () => {
  it('keeps every acknowledged payment, resolves in-flight ones, charges nothing twice', async () => {
    const token = await signToken({ secret: SECRET, merchantId: 'crash' });
    const first = await startServer();
    child = first.proc;
    // The first four PaymentIntent creates answer after 100 ms; every later one is created at the
    // provider but its answer is held for 30 s, so the kill always lands while those calls are in flight.
    sandbox.faults.add({ kind: 'delay', delayMs: 100, count: 4, match: /POST \/v1\/payment_intents$/ });
    sandbox.faults.add({ kind: 'delay', delayMs: 30_000, count: 1000, match: /POST \/v1\/payment_intents$/ });
    const create = (url: string, i: number) =>
      fetch(`${url}/api/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `crash-${i}` },
        body: JSON.stringify({ amount: '10.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', order_id: `CRASH-${i}` }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { id: string; status: string } }));

    const acknowledged: Array<{ id: string; status: string }> = [];
    const inFlight = Array.from({ length: 16 }, (_, i) =>
      create(first.url, i).then(
        (r) => {
          if (r.status === 201) acknowledged.push(r.body);
        },
        () => undefined,
      ),
    );
    // Kill once some payments were acknowledged and the provider holds all the others.
    const until = Date.now() + 20_000;
    const held = () => 1000 - (sandbox.faults.pending.find((f) => f.delayMs === 30_000)?.count ?? 1000);
    while ((acknowledged.length < 4 || held() < 12) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 25));
    }
    first.proc.kill('SIGKILL');
    await Promise.all(inFlight);
    sandbox.faults.clear();
    // The kill really cut requests off (otherwise this test would prove nothing).
    expect(acknowledged.length).toBe(4);

    const second = await startServer();
    child = second.proc;
    const api = async (path: string) => (await (await fetch(`${second.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as any;

    // Every acknowledged payment survived with its acknowledged state.
    for (const p of acknowledged) expect((await api(`/api/v1/payments/${p.id}`)).status).toBe(p.status);

    // The reconciler resolves what was in flight.
    const deadline = Date.now() + 20_000;
    let list: { data: Array<{ id: string; status: string }> } = { data: [] };
    for (;;) {
      list = await api('/api/v1/payments?limit=100');
      if (list.data.every((p) => p.status !== 'PENDING' && p.status !== 'PROCESSING') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(list.data.filter((p) => p.status === 'PENDING' || p.status === 'PROCESSING')).toEqual([]);

    // Clients retry with their keys: nothing is created or charged a second time.
    for (let i = 0; i < 16; i++) {
      const r = await create(second.url, i);
      expect([200, 201, 409]).toContain(r.status);
    }
    const after = await api('/api/v1/payments?limit=100');
    const byOrder = new Map<string, number>();
    for (const p of after.data as Array<{ order_id: string }>) byOrder.set(p.order_id, (byOrder.get(p.order_id) ?? 0) + 1);
    for (const [, n] of byOrder) expect(n).toBe(1);

    // At the provider: at most one PaymentIntent per Tender payment, and one per captured payment.
    const intents = [...sandbox.account.paymentIntents.values()] as Array<{ metadata?: Record<string, string>; status: string }>;
    const perPayment = new Map<string, number>();
    for (const pi of intents) {
      const id = pi.metadata?.tender_payment_id;
      if (id) perPayment.set(id, (perPayment.get(id) ?? 0) + 1);
    }
    for (const [, n] of perPayment) expect(n).toBe(1);
    for (const p of after.data as Array<{ id: string; status: string }>) {
      if (p.status === 'CAPTURED') expect(perPayment.get(p.id)).toBe(1);
    }
    second.proc.kill('SIGTERM');
    await new Promise((r) => second.proc.once('exit', r));
    child = null;
  }, 90_000);
});
