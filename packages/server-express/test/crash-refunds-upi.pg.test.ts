/**
 * SIGKILL while UPI refunds are at Razorpay, then restart, on real Postgres: every refund resolves
 * and no payment is refunded twice at the provider, when clients retry with their keys.
 */
import type { ChildProcess } from 'node:child_process';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { listeningUrl, spawnTenderServer } from './cli-process';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';

const schema = freshSchema('srv_crash_upi');
const SECRET = 'crash-upi-secret-crash-upi-secret-012345';
let sandbox: RazorpaySandbox;
let child: ChildProcess | null = null;

async function startServer(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawnTenderServer([], {
    ...process.env,
    PORT: '0',
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    JWT_SECRET: SECRET,
    RAZORPAY_KEY_ID: sandbox.keyId,
    RAZORPAY_KEY_SECRET: sandbox.keySecret,
    RAZORPAY_WEBHOOK_SECRET: sandbox.webhookSecret,
    UPI_BASE_URL: sandbox.url,
    UPI_DEFAULT_IP: '127.0.0.1',
    UPI_TIMEOUT: '5s',
    RECONCILE_INTERVAL: '300ms',
    RECONCILE_PROCESSING_AFTER: '500ms',
    LOG_LEVEL: 'info',
  });
  const url = await listeningUrl(proc);
  sandbox.webhooks.configure({ url: `${url}/api/v1/webhooks/upi`, retryDelayMs: 20 });
  return { url, proc };
}

beforeAll(async () => {
  // Refunds stay pending until settled by hand, so the test sees exactly what the provider holds.
  sandbox = await startRazorpaySandbox({ delays: { refundSettleMs: null } });
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await sandbox?.close();
  await dropSchema(schema);
});

describe('SIGKILL in the middle of UPI refunds, then restart', () => {
  it('resolves every refund and refunds no payment twice at Razorpay', async () => {
    const token = await signToken({ secret: SECRET, merchantId: 'crash-upi' });
    const first = await startServer();
    child = first.proc;
    const call = async (url: string, method: string, path: string, body?: unknown, key?: string) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...(key ? { 'idempotency-key': key } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };

    // Eight paid UPI payments.
    const paid: Array<{ id: string; rzp: string }> = [];
    for (let i = 0; i < 8; i++) {
      const p = await call(first.url, 'POST', '/api/v1/payments', { amount: '100.00', currency: 'INR', payment_method: 'upi', bill_email: 'p@example.com', bill_mobile: '+919876543210', order_id: `CRU-${i}` }, `pay-${i}`);
      expect(p.status).toBe(201);
      sandbox.approve(p.body.gateway_reference);
      paid.push({ id: p.body.id, rzp: p.body.gateway_reference });
    }
    const capturedBy = Date.now() + 15_000;
    for (const p of paid) {
      while ((await call(first.url, 'GET', `/api/v1/payments/${p.id}`)).body.status !== 'CAPTURED' && Date.now() < capturedBy) await new Promise((r) => setTimeout(r, 50));
    }

    // Two refunds answer at once; every later one is made at Razorpay but its answer is held.
    sandbox.faults.add({ kind: 'delay', delayMs: 5, count: 2, match: /POST \/v1\/payments\/[^/]+\/refund/ });
    sandbox.faults.add({ kind: 'delay', delayMs: 30_000, count: 1000, match: /POST \/v1\/payments\/[^/]+\/refund/ });
    const refund = (url: string, i: number) => call(url, 'POST', `/api/v1/payments/${paid[i]!.id}/refund`, { amount_paisa: 4000, reason: 'crash test' }, `refund-${i}`);
    const acknowledged: number[] = [];
    const inFlight = paid.map((_, i) => refund(first.url, i).then((r) => (r.status === 201 ? acknowledged.push(i) : undefined), () => undefined));
    const until = Date.now() + 20_000;
    const held = () => 1000 - (sandbox.faults.pending.find((f) => f.delayMs === 30_000)?.count ?? 1000);
    while ((acknowledged.length < 2 || held() < 6) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    first.proc.kill('SIGKILL');
    await Promise.all(inFlight);
    sandbox.faults.clear();
    // The kill cut six refunds off after Razorpay made them (otherwise this test proves nothing).
    expect(acknowledged.length).toBe(2);
    expect([...sandbox.account.refunds.values()]).toHaveLength(8);

    const second = await startServer();
    child = second.proc;
    // Clients retry with their keys; the reconciler works alongside.
    for (let i = 0; i < 8; i++) {
      const r = await refund(second.url, i);
      expect([200, 201, 409]).toContain(r.status);
    }
    for (const r of sandbox.account.refunds.values()) sandbox.settleRefund(r.id, 'processed');
    const deadline = Date.now() + 20_000;
    let states: string[] = [];
    for (;;) {
      states = [];
      for (const p of paid) {
        const list = await call(second.url, 'GET', `/api/v1/payments/${p.id}/refunds`);
        states.push(...(list.body.data as Array<{ status: string }>).map((x) => x.status));
      }
      if ((states.length === 8 && states.every((s) => s === 'SUCCEEDED')) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(states).toEqual(Array(8).fill('SUCCEEDED'));

    // At the provider: exactly one refund of 40.00 per payment.
    const perPayment = new Map<string, number[]>();
    for (const r of sandbox.account.refunds.values()) perPayment.set(r.payment_id, [...(perPayment.get(r.payment_id) ?? []), r.amount]);
    for (const p of paid) expect(perPayment.get(p.rzp)).toEqual([4000]);
    for (const p of paid) expect((await call(second.url, 'GET', `/api/v1/payments/${p.id}`)).body).toMatchObject({ status: 'PARTIALLY_REFUNDED', amount_refunded: '40.00' });
    second.proc.kill('SIGTERM');
    await new Promise((r) => second.proc.once('exit', r));
    child = null;
  }, 120_000);
});
