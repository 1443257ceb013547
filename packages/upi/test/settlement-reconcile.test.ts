/**
 * Settlement reconciliation (`tender.settlements`) against the Razorpay sandbox's recon report: UPI
 * payments and a refund made through Tender's engine, settled by the sandbox, then planted mismatches
 * (an altered amount, an omitted payment, a payment made outside Tender, a capture the sandbox
 * settles a day late). Also the REST route and its CSV export once, over loopback.
 */
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, type HttpTransport, type Payment, type Refund, type Tender } from '@tender/core';
import { FakeClock, MemoryStore } from '@tender/core/testing';
import { createApp, createLogger, signToken } from '@tender/server-express';
import { createUpiGateway, type UpiGateway } from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';

const DAY = '2026-03-02';
const NEXT = '2026-03-03';
const NOON = Date.parse(`${DAY}T12:00:00Z`) / 1000;
const SECRET = 'settlement-reconcile-test-secret-0123456789';
const customer = { email: 'asha@example.com', phone: '+919812345678' };

let sandbox: RazorpaySandbox;
let transport: HttpTransport;
let gateway: UpiGateway;
let tender: Tender;
let url: string;
let closeServer: () => void;
const p: Record<'matched' | 'altered' | 'omitted' | 'late', Payment> = {} as never;
let refund: Refund;
let foreign: string;

/** A UPI intent created by the engine, paid at the sandbox, and brought to CAPTURED by the engine's own requery. */
async function paid(amount: string): Promise<Payment> {
  const created = await tender.payments.create({ amount, currency: 'INR', paymentMethod: 'upi', orderId: `ORD-${amount}`, customer }, { merchantId: 'm1' });
  expect(created.status).toBe('REQUIRES_ACTION');
  sandbox.approve(created.gatewayReference!);
  const captured = await tender.payments.sync(created.id, { merchantId: 'm1' });
  expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: amount });
  return captured;
}

beforeAll(async () => {
  sandbox = await startRazorpaySandbox({ delays: { refundSettleMs: null, collectAutoMs: null, expirySweepMs: null } });
  transport = createHttpTransport({ gateway: 'upi', retry: { attempts: 1 } });
  gateway = createUpiGateway({ provider: 'razorpay', keyId: sandbox.keyId, keySecret: sandbox.keySecret, webhookSecret: sandbox.webhookSecret, baseUrl: sandbox.url, defaultIp: '127.0.0.1', transport });
  const clock = new FakeClock(`${DAY}T12:00:00.000Z`);
  tender = createTender({ gateways: [gateway], store: new MemoryStore(), clock });
  p.matched = await paid('100.00');
  p.altered = await paid('250.50');
  p.omitted = await paid('75.00');
  p.late = await paid('40.00');
  const pending = await tender.payments.refund(p.matched.id, { amount: '20.00' }, { merchantId: 'm1' });
  sandbox.settleRefund(pending.gatewayReference!);
  // The engine learns the refund processed from Razorpay's answer to its requery (the reconciler).
  await tender.reconcile({ processingAfterMs: 0 });
  refund = await tender.refunds.get(pending.id, { merchantId: 'm1' });
  expect(refund.status).toBe('SUCCEEDED');
  // Onto the report day (the sandbox settles at the real time), a minute apart.
  [p.matched.gatewayReference!, p.altered.gatewayReference!, p.omitted.gatewayReference!, refund.gatewayReference!].forEach((id, i) => sandbox.settlements.moveTo(id, NOON + i * 60));
  // Captured on DAY, settled by Razorpay on the next day: the lag rule matches it there.
  sandbox.settlements.moveTo(p.late.gatewayReference!, NOON + 86_400);
  foreign = sandbox.settlements.addForeign({ amount: 7000, settledAt: NOON + 300 });
  sandbox.settlements.alterAmount(p.altered.gatewayReference!, 24_050);
  sandbox.settlements.omit(p.omitted.gatewayReference!);
  clock.set(`${NEXT}T12:00:00.000Z`);

  const logger = createLogger({ destination: new Writable({ write: (_chunk, _enc, cb) => cb() }) });
  const server = createApp(tender, { auth: { secret: SECRET }, rateLimit: false, logger }).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeServer = () => {
    server.closeAllConnections();
    server.close();
  };
});
afterAll(async () => {
  closeServer?.();
  await gateway?.close();
  await sandbox?.close();
  await transport?.close();
});

const paise = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;
const summary = (lines: Array<{ paymentId: string | null; refundId: string | null; classification: string; reason: string | null; reported: { amount: string } | null; tender: { amount: string } | null }>) =>
  Object.fromEntries(lines.map((l) => [l.refundId ?? l.paymentId ?? 'none', [l.classification, l.reason, l.reported?.amount ?? null, l.tender?.amount ?? null]]));

describe('tender.settlements against the Razorpay sandbox (GET /v1/settlements/recon/combined)', () => {
  it("classifies the merchant's recon of the day; an omitted payment is missing at the gateway, fees summed per currency", async () => {
    const run = await tender.settlements.reconcile({ gateway: 'upi', date: DAY }, { merchantId: 'm1' });
    expect(run).toMatchObject({ gateway: 'upi', date: DAY, merchantId: 'm1', version: 1 });
    expect(summary(run.lines)).toEqual({
      [p.matched.id]: ['matched', null, '100.00', '100.00'],
      [p.altered.id]: ['amount_mismatch', 'amount_differs', '240.50', '250.50'],
      [refund.id]: ['matched', null, '20.00', '20.00'],
      [p.omitted.id]: ['missing_at_gateway', 'not_in_report', null, '75.00'],
    });
    // p.late is neither here nor missing: the next day's recon has it (the one-day lag rule).
    expect(run.lines.some((l) => l.paymentId === p.late.id)).toBe(false);
    expect(run.counts).toMatchObject({ matched: 2, amount_mismatch: 1, missing_at_gateway: 1, missing_in_tender: 0 });
    // Razorpay's fee (GST included) on each settled payment, as the sandbox charged it.
    const fees = sandbox.settlements.of(p.matched.gatewayReference!).fee + sandbox.settlements.of(p.altered.gatewayReference!).fee;
    expect(fees).toBeGreaterThan(0);
    expect(run.totals).toEqual({ INR: { grossIn: '340.50', grossOut: '20.00', fees: paise(fees), net: paise(34_050 - 2_000 - fees) } });
  });

  it("matches the late capture in the next day's run", async () => {
    const run = await tender.settlements.reconcile({ gateway: 'upi', date: NEXT }, { merchantId: 'm1' });
    expect(summary(run.lines)).toEqual({ [p.late.id]: ['matched', null, '40.00', '40.00'] });
  });

  it('shows the payment made outside Tender only in the account-wide run', async () => {
    const run = await tender.settlements.reconcile({ gateway: 'upi', date: DAY }, { merchantId: null });
    const line = run.lines.find((l) => l.gatewayReference === foreign);
    expect(line).toMatchObject({ classification: 'missing_in_tender', reason: 'unknown_reference', merchantId: null, reported: { amount: '70.00', currency: 'INR', direction: 'in' } });
    expect(run.lines).toHaveLength(5);
  });

  it('GET /api/v1/admin/settlements?provider=UPI answers the stored run, and as CSV', async () => {
    const token = await signToken({ secret: SECRET, merchantId: 'm1', scopes: ['admin:read'] });
    const json = await fetch(`${url}/api/v1/admin/settlements?date=${DAY}&provider=UPI`, { headers: { authorization: `Bearer ${token}` } });
    expect(json.status).toBe(200);
    const run = await json.json();
    // The run stored by the first test, not a new reconciliation.
    expect(run).toMatchObject({ gateway: 'upi', date: DAY, merchant_id: 'm1', version: 1, totals: { INR: { gross_in: '340.50', gross_out: '20.00' } } });
    const csv = await fetch(`${url}/api/v1/admin/settlements?date=${DAY}&provider=upi`, { headers: { authorization: `Bearer ${token}`, accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await csv.text()).split('\r\n').filter((r) => r !== '');
    expect(rows).toHaveLength(1 + 4);
    expect(rows.find((r) => r.includes(p.altered.gatewayReference!))).toMatch(/,amount_mismatch,amount_differs,payment,/);
  });
});
