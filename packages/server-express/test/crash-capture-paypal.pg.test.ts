/**
 * SIGKILL while PayPal captures of approved orders are in flight, then restart, on real Postgres: every
 * payment ends CAPTURED and every order is captured exactly once at PayPal (one PayPal-Request-Id per
 * payment, whichever process or path completes it).
 */
import type { ChildProcess } from 'node:child_process';
import { approveOrder, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { listeningUrl, spawnTenderServer } from './cli-process';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';

const schema = freshSchema('srv_crash_pp');
const SECRET = 'crash-pp-secret-crash-pp-secret-01234567';
let sandbox: PayPalSandbox;
let child: ChildProcess | null = null;

async function startServer(extra: Record<string, string> = {}): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawnTenderServer([], {
    ...process.env,
    PORT: '0',
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    JWT_SECRET: SECRET,
    PAYPAL_CLIENT_ID: sandbox.clientId,
    PAYPAL_CLIENT_SECRET: sandbox.clientSecret,
    PAYPAL_WEBHOOK_ID: sandbox.webhookId,
    PAYPAL_BASE_URL: sandbox.url,
    PAYPAL_WEBHOOK_VERIFICATION: 'online',
    PAYPAL_TIMEOUT: '5s',
    RECONCILE_INTERVAL: '300ms',
    RECONCILE_PROCESSING_AFTER: '500ms',
    LOG_LEVEL: 'info',
    ...extra,
  });
  const url = await listeningUrl(proc);
  sandbox.webhooks.configure({ url: `${url}/api/v1/webhooks/paypal`, retryDelayMs: 20 });
  return { url, proc };
}

beforeAll(async () => {
  sandbox = await startPayPalSandbox();
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await sandbox?.close();
  await dropSchema(schema);
});

describe('SIGKILL in the middle of PayPal captures, then restart', () => {
  it('ends every payment CAPTURED with one capture per order at PayPal', async () => {
    const token = await signToken({ secret: SECRET, merchantId: 'crash-pp' });
    const first = await startServer();
    child = first.proc;
    const call = async (url: string, path: string, body?: unknown, key?: string) => {
      const res = await fetch(`${url}${path}`, {
        method: body ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...(key ? { 'idempotency-key': key } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const payments: Array<{ id: string; order: string }> = [];
    for (let i = 0; i < 6; i++) {
      const p = await call(first.url, '/api/v1/payments', { amount: '12.00', currency: 'USD', payment_method: 'paypal', order_id: `CPP-${i}`, return_url: 'https://merchant.example/back' }, `pp-${i}`);
      expect(p.status).toBe(201);
      payments.push({ id: p.body.id, order: p.body.gateway_reference });
    }
    // Every capture is made at PayPal but its answer is held: the approval webhooks' requeries hang in it.
    sandbox.faults.add({ kind: 'delay', delayMs: 30_000, count: 1000, match: /POST \/v2\/checkout\/orders\/[^/]+\/capture/ });
    for (const p of payments) await approveOrder((await call(first.url, `/api/v1/payments/${p.id}`)).body.next_action.url, 'approve');
    const completed = () => payments.filter((p) => (sandbox.account.getOrder(p.order) as { status: string }).status === 'COMPLETED').length;
    const until = Date.now() + 20_000;
    while (completed() < 6 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    first.proc.kill('SIGKILL');
    sandbox.faults.clear();
    // PayPal captured all six; Tender was killed before it heard about any of them.
    expect(completed()).toBe(6);

    // Payments still waiting for the buyer are requeried after 1 s here (30 min by default).
    const second = await startServer({ RECONCILE_REQUIRES_ACTION_TTL: '1s' });
    child = second.proc;
    const deadline = Date.now() + 20_000;
    let statuses: string[] = [];
    for (;;) {
      statuses = [];
      for (const p of payments) statuses.push((await call(second.url, `/api/v1/payments/${p.id}`)).body.status);
      if (statuses.every((s) => s === 'CAPTURED') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(statuses).toEqual(Array(6).fill('CAPTURED'));
    for (const p of payments) {
      const order = sandbox.account.getOrder(p.order) as { purchase_units: Array<{ payments: { captures: Array<{ amount: { value: string } }> } }> };
      expect(order.purchase_units[0]!.payments.captures.map((c) => c.amount.value)).toEqual(['12.00']);
    }
    second.proc.kill('SIGTERM');
    await new Promise((r) => second.proc.once('exit', r));
    child = null;
  }, 120_000);
});
