/**
 * Razorpay's settlement recon (`GET /v1/settlements/recon/combined`) as Tender's settlement report:
 * the sandbox settles captured payments and processed refunds, the official `razorpay` SDK reads the
 * report (`settlements.reports`), and the UPI gateway's `settlements.fetchReport` maps it to lines
 * keyed by the `pay_` id it stores as `gatewayReference`.
 */
import Razorpay from 'razorpay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Money } from '@tender/core';
import type { GatewayCreatePaymentInput, SettlementLine } from '@tender/core';
import { createUpiGateway, razorpaySettlementLine, type UpiGateway } from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';

const DAY = '2026-03-02';
const NOON = Date.parse(`${DAY}T12:00:00Z`) / 1000;
const ctx = (key: string) => ({ idempotencyKey: key, now: new Date() });
let seq = 0;
const input = (amount: string): GatewayCreatePaymentInput => ({
  paymentId: `pay_SETL${++seq}`,
  merchantId: 'default',
  orderId: null,
  amount: Money.of(amount, 'INR'),
  captureMethod: 'automatic',
  paymentMethod: 'upi',
  description: 'Settlement test',
  customer: { email: 'asha@example.com', phone: '+919812345678' },
  returnUrl: null,
  notifyUrl: null,
  metadata: {},
});

let sandbox: RazorpaySandbox;
let gateway: UpiGateway;
let rzp: Razorpay;
const ref: Record<'a' | 'b' | 'c' | 'refund' | 'authOnly', string> = { a: '', b: '', c: '', refund: '', authOnly: '' };

async function paid(amount: string): Promise<string> {
  const created = await gateway.createPayment(input(amount), ctx(`c${seq}`));
  sandbox.approve(created.gatewayReference!);
  return created.gatewayReference!;
}

beforeAll(async () => {
  // Two items a page at most, whatever `count` asks: the gateway must page with `skip`.
  sandbox = await startRazorpaySandbox({ delays: { refundSettleMs: null, collectAutoMs: null, expirySweepMs: null }, settlements: { maxCount: 2 } });
  gateway = createUpiGateway({ provider: 'razorpay', keyId: sandbox.keyId, keySecret: sandbox.keySecret, webhookSecret: sandbox.webhookSecret, baseUrl: sandbox.url, defaultIp: '127.0.0.1' });
  rzp = new Razorpay({ key_id: sandbox.keyId, key_secret: sandbox.keySecret });
  (rzp as unknown as { api: { rq: { defaults: { baseURL: string } } } }).api.rq.defaults.baseURL = sandbox.url;
  ref.a = await paid('100.00');
  ref.b = await paid('250.50');
  ref.c = await paid('75.00');
  const refund = await gateway.refund({ refundId: 'rf_1', paymentId: 'pay_b', gatewayReference: ref.b, amount: Money.of('50.50', 'INR'), capturedAmount: Money.of('250.50', 'INR'), reason: null, gatewayData: {} }, ctx('r1'));
  ref.refund = refund.gatewayReference!;
  sandbox.settleRefund(ref.refund);
  // An authorisation Razorpay auto-refunds: never captured, so nothing of it settles.
  const auth = await gateway.createPayment({ ...input('10.00'), captureMethod: 'manual' }, ctx('auth'));
  ref.authOnly = auth.gatewayReference!;
  sandbox.approve(ref.authOnly);
  sandbox.autoRefund(ref.authOnly);
  [ref.a, ref.b, ref.c, ref.refund].forEach((id, i) => sandbox.settlements.moveTo(id, NOON + i * 60));
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

const find = (lines: SettlementLine[], type: string, reference: string) => lines.filter((l) => l.type === type && l.gatewayReference === reference);

describe('Razorpay settlement recon (GET /v1/settlements/recon/combined)', () => {
  it('the official SDK reads the day with Basic auth: payments credited net of fee and tax, the refund debited', async () => {
    const page = (await rzp.settlements.reports({ year: 2026, month: 3, day: 2, count: 10, skip: 0 })) as unknown as { entity: string; count: number; items: Array<Record<string, unknown>> };
    expect(page).toMatchObject({ entity: 'collection', count: 2 });
    const second = (await rzp.settlements.reports({ year: 2026, month: 3, day: 2, count: 10, skip: 2 })) as unknown as { items: Array<Record<string, unknown>> };
    const items = [...page.items, ...second.items];
    expect(items.map((i) => i.entity_id)).toEqual([ref.a, ref.b, ref.c, ref.refund]);
    const a = items[0]!;
    // The sandbox's 2 % fee (200 paise) plus 18 % GST on it (36): `fee` 236 includes the `tax` 36.
    expect(a).toMatchObject({ type: 'payment', amount: 10000, currency: 'INR', fee: 236, tax: 36, credit: 9764, debit: 0, settled: true, method: 'upi', settlement_id: expect.stringMatching(/^setl_/), settled_at: NOON });
    expect(items[3]).toMatchObject({ type: 'refund', amount: 5050, debit: 5050, credit: 0, fee: 0, payment_id: ref.b });
    await expect(rzp.settlements.reports({ year: 2026 } as never)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('fetchReport pages with skip and maps each line to the pay_ id the gateway stores', async () => {
    expect(gateway.capabilities.settlements).toBe(true);
    const lines = await gateway.settlements!.fetchReport({ date: DAY }, ctx('report'));
    expect(lines.map((l) => l.lineId)).toEqual([ref.a, ref.b, ref.c, ref.refund]);
    const [a] = find(lines, 'payment', ref.a);
    expect(a).toMatchObject({ direction: 'in', refundReference: null, gatewayStatus: 'settled', settledAt: new Date(NOON * 1000).toISOString(), settlementId: expect.stringMatching(/^setl_/) });
    expect([a!.amount.toString(), a!.fee?.toString(), a!.net?.toString(), a!.amount.currency]).toEqual(['100.00', '2.36', '97.64', 'INR']);
    expect(find(lines, 'payment', ref.b)[0]!.amount.toString()).toBe('250.50');
    const [refund] = find(lines, 'refund', ref.b);
    expect(refund).toMatchObject({ direction: 'out', refundReference: ref.refund });
    expect([refund!.amount.toString(), refund!.net?.toString()]).toEqual(['50.50', '50.50']);
    expect(lines.some((l) => l.gatewayReference === ref.authOnly)).toBe(false);
  });

  it('wrong keys are refused (401, gateway_authentication_failed); a bad date sends nothing', async () => {
    const wrong = createUpiGateway({ provider: 'razorpay', keyId: sandbox.keyId, keySecret: 'not-the-secret', baseUrl: sandbox.url, defaultIp: '127.0.0.1' });
    await expect(wrong.settlements!.fetchReport({ date: DAY }, ctx('bad'))).rejects.toMatchObject({ type: 'gateway_error', code: 'gateway_authentication_failed' });
    await wrong.close();
    const before = sandbox.requests.length;
    for (const date of ['2026-02-30', '2026/03/02', '']) {
      await expect(gateway.settlements!.fetchReport({ date }, ctx('d'))).rejects.toMatchObject({ type: 'invalid_request_error', code: 'invalid_date', param: 'date' });
    }
    expect(sandbox.requests.length).toBe(before);
  });

  it('planted mismatches: an altered amount, an omitted payment, a payment Tender never saw', async () => {
    const day = '2026-03-04';
    const at = Date.parse(`${day}T09:00:00Z`) / 1000;
    const x = await paid('30.00');
    const y = await paid('40.00');
    sandbox.settlements.moveTo(x, at);
    sandbox.settlements.moveTo(y, at + 1);
    sandbox.settlements.alterAmount(x, 2900);
    sandbox.settlements.omit(y);
    const foreign = sandbox.settlements.addForeign({ amount: 1234, settledAt: at + 2 });
    const lines = await gateway.settlements!.fetchReport({ date: day }, ctx('m'));
    expect(lines.map((l) => [l.gatewayReference, l.amount.toString()])).toEqual([[x, '29.00'], [foreign, '12.34']]);
  });

  it("a lost dispute's deducted amount is debited: a dispute line keyed by the disputed payment", async () => {
    const day = '2026-03-06';
    const at = Date.parse(`${day}T11:00:00Z`) / 1000;
    const p = await paid('60.00');
    const dispute = sandbox.account.dispute(p) as { id: string };
    sandbox.account.updateDispute(dispute.id, 'lost');
    const adjustment = `adj_${dispute.id.replace(/^disp_/, '')}`;
    sandbox.settlements.moveTo(adjustment, at);
    const lines = await gateway.settlements!.fetchReport({ date: day }, ctx('disp'));
    expect(lines.map((l) => [l.lineId, l.type, l.direction, l.gatewayReference, l.amount.toString(), l.net?.toString()])).toEqual([[adjustment, 'dispute', 'out', p, '60.00', '60.00']]);
  });

  it('maps each recon item type: adjustments by their credit or debit column, a dispute, a transfer', () => {
    // Recon items as Razorpay shapes them (https://razorpay.com/docs/api/settlements/fetch-recon/).
    const item = (fields: Record<string, unknown>) => ({ entity_id: 'adj_1', type: 'adjustment', debit: 0, credit: 0, amount: 0, currency: 'INR', fee: 0, tax: 0, on_hold: false, settled: true, created_at: NOON, settled_at: NOON, settlement_id: 'setl_1', payment_id: null, dispute_id: null, ...fields });
    expect(razorpaySettlementLine(item({ credit: 500, amount: 500 }))).toMatchObject({ type: 'adjustment', direction: 'in', gatewayReference: null });
    const debit = razorpaySettlementLine(item({ debit: 700, amount: 700 }));
    expect([debit.type, debit.direction, debit.net?.toString()]).toEqual(['adjustment', 'out', '7.00']);
    expect(razorpaySettlementLine(item({ entity_id: 'adj_2', debit: 10000, amount: '10000', dispute_id: 'disp_1', payment_id: 'pay_disputed' }))).toMatchObject({ type: 'dispute', direction: 'out', gatewayReference: 'pay_disputed' });
    expect(razorpaySettlementLine(item({ entity_id: 'trf_1', type: 'transfer', debit: 300, amount: 300, payment_id: 'pay_routed' }))).toMatchObject({ type: 'adjustment', direction: 'out', gatewayReference: 'pay_routed' });
    expect(() => razorpaySettlementLine({ entity_id: 'pay_1', type: 'payment', amount: -5 })).toThrow(/cannot read|not usable|unusable/i);
  });
});
