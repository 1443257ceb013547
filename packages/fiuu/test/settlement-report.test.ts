import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Money } from '@tender/core';
import type { GatewayCreatePaymentInput, SettlementLine } from '@tender/core';
import { createFiuuGateway, fiuuSettlementLine, settlementReportToken } from '@tender/fiuu';
import type { FiuuHostedPayment } from '@tender/fiuu';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { MERCHANT, sandboxAndGateway } from './helpers';

const ctx = (key = 'k') => ({ idempotencyKey: key, now: new Date() });
const DAY = '2026-03-02';
let seq = 0;
function input(amount: string, paymentMethod = 'FPX'): GatewayCreatePaymentInput {
  seq++;
  return {
    paymentId: `pay_SETL${String(seq).padStart(4, '0')}`,
    merchantId: 'default',
    orderId: `ORD-SETL-${seq}`,
    amount: Money.of(amount, 'MYR'),
    captureMethod: 'automatic',
    paymentMethod,
    description: 'Settlement test order',
    customer: { name: 'Siti Aminah', email: 'siti@example.com', phone: '+60123456789' },
    returnUrl: 'https://shop.example/return',
    notifyUrl: null,
    metadata: {},
  };
}

let env: Awaited<ReturnType<typeof sandboxAndGateway>>;
/** Payment tranIDs (what the gateway stores as gatewayReference) by role. */
const ref: Record<'sale' | 'refunded' | 'reversed' | 'extra', string> = { sale: '', refunded: '', reversed: '', extra: '' };
let refundReference = '';

async function pay(amount: string): Promise<string> {
  const created = await env.gateway.createPayment(input(amount), ctx());
  const { tranID } = await completeHostedPayment(created.gatewayData!.hostedPayment as FiuuHostedPayment, 'approve');
  // What the engine binds: the signed requery answer's gatewayReference.
  const retrieved = await env.gateway.retrieve({ paymentId: created.gatewayData!.orderid as string, orderId: null, gatewayReference: null, amount: Money.of(amount, 'MYR'), gatewayData: created.gatewayData! }, ctx());
  expect(retrieved.gatewayReference).toBe(tranID);
  env.sandbox.settlements.moveTo(tranID, DAY);
  return tranID;
}

beforeAll(async () => {
  // Two D rows a page, so the day's four D rows take two pages.
  env = await sandboxAndGateway({ sandbox: { settlement: { pageSize: 2 } } });
  ref.sale = await pay('100.00');
  ref.refunded = await pay('50.00');
  ref.reversed = await pay('20.00');
  ref.extra = await pay('10.00');
  const refund = await env.gateway.refund({ paymentId: 'pay_r', refundId: 'rf_SETL1', gatewayReference: ref.refunded, amount: Money.of('20.00', 'MYR'), capturedAmount: Money.of('50.00', 'MYR'), reason: null, gatewayData: {} }, ctx('rf'));
  refundReference = refund.gatewayReference!;
  await env.gateway.cancel!({ paymentId: 'pay_v', gatewayReference: ref.reversed, amount: Money.of('20.00', 'MYR'), gatewayData: {} }, ctx('cx'));
  // The sandbox finishes a refund right after answering it (setImmediate); wait for that condition.
  await new Promise((resolve) => setImmediate(resolve));
  expect(env.sandbox.transaction(ref.refunded)!.refunds[0]!.status).toBe('success');
});
afterAll(async () => {
  await env?.close();
});

const byRef = (lines: SettlementLine[], type: string, reference: string) => lines.find((l) => l.type === type && l.gatewayReference === reference);

describe('Fiuu settlement report (GET /RMS/API/settlement/report.php, version 6.0)', () => {
  it('maps D, R and G records of every page to lines keyed by the tranID the gateway stores', async () => {
    const lines = await env.gateway.settlements!.fetchReport({ date: DAY }, ctx());
    expect(env.gateway.capabilities.settlements).toBe(true);
    expect(lines.filter((l) => l.type === 'payment').map((l) => l.gatewayReference).sort()).toEqual([ref.sale, ref.refunded, ref.extra].sort());
    const sale = byRef(lines, 'payment', ref.sale)!;
    expect(sale).toMatchObject({ lineId: `D:${ref.sale}`, direction: 'in', orderId: expect.stringMatching(/^ORD-SETL-/), gatewayStatus: 'SETTLED', settledAt: DAY });
    // 1.5 % commission on 100.00; amounts in MYR's exponent, parsed from "numeric without decimal" 10000.
    expect([sale.amount.toString(), sale.fee?.toString(), sale.net?.toString(), sale.amount.currency]).toEqual(['100.00', '1.50', '98.50', 'MYR']);
    expect(sale.settlementId).toMatch(/^SB/);
    expect(Date.parse(sale.occurredAt)).not.toBeNaN();
    const refund = byRef(lines, 'refund', ref.refunded)!;
    expect(refund).toMatchObject({ direction: 'out', refundReference, gatewayStatus: 'REFUND', fee: null });
    expect([refund.amount.toString(), refund.net?.toString()]).toEqual(['20.00', '20.00']);
    const reversed = byRef(lines, 'adjustment', ref.reversed)!;
    expect(reversed).toMatchObject({ gatewayStatus: 'CANCELLED', direction: 'in' });
    expect(reversed.amount.isZero()).toBe(true);
    expect(byRef(lines, 'payment', ref.reversed)).toBeUndefined();
    expect(new Set(lines.map((l) => l.lineId)).size).toBe(lines.length);
  });

  it('pages: the sandbox pages D rows at 2 and the gateway reads up to FilterTransactionsTotalPages', async () => {
    const token = settlementReportToken({ merchantId: MERCHANT.merchantId, verifyKey: MERCHANT.verifyKey, date: DAY });
    const page2 = await fetch(`${env.sandbox.apiHost}/RMS/API/settlement/report.php?version=6.0&merchant_id=${MERCHANT.merchantId}&token=${token}&date=${DAY}&format=json&page=2`);
    const records = (await page2.json()) as Array<Record<string, string>>;
    expect(records.map((r) => r.RecordIdentifier)).toEqual(['H', 'D', 'F']);
    expect(records.at(-1)).toMatchObject({ NumberOfTransactionsTotal: '3', NumberOfTransactionsShown: '1', FilterTransactionsTotalPages: '2', FilterTransactionsLimitPerPage: '2' });
    const before = env.sandbox.apiCalls.length;
    const lines = await env.gateway.settlements!.fetchReport({ date: DAY }, ctx());
    expect(lines.filter((l) => l.type === 'payment')).toHaveLength(3);
    const calls = env.sandbox.apiCalls.slice(before);
    expect(calls.map((c) => [c.operation, c.fields.page, c.fields.version, c.fields.date, c.fields.format])).toEqual([
      ['settlement_report', '1', '6.0', DAY, 'json'],
      ['settlement_report', '2', '6.0', DAY, 'json'],
    ]);
  });

  it('a 5xx is retried by the transport (a report read repeats safely)', async () => {
    env.sandbox.faults.api('settlement_report', '5xx', 1);
    const lines = await env.gateway.settlements!.fetchReport({ date: DAY }, ctx());
    expect(lines.filter((l) => l.type === 'payment')).toHaveLength(3);
  });

  it('a wrong verify key makes a wrong token, refused like Fiuu ({"success":false,"token":"invalid token"})', async () => {
    const wrong = createFiuuGateway({ ...MERCHANT, verifyKey: 'vk_wrong', sandbox: true, paymentHost: env.sandbox.paymentHost, apiHost: env.sandbox.apiHost, transport: env.transport });
    await expect(wrong.settlements!.fetchReport({ date: DAY }, ctx())).rejects.toMatchObject({ type: 'gateway_error', code: 'gateway_authentication_failed', retryable: false });
  });

  it('refuses a date that is not a calendar day, sending nothing', async () => {
    const before = env.sandbox.apiCalls.length;
    for (const date of ['2026-3-2', '2026-02-30', '', '20260302']) {
      await expect(env.gateway.settlements!.fetchReport({ date }, ctx())).rejects.toMatchObject({ type: 'invalid_request_error', code: 'invalid_date', param: 'date' });
    }
    expect(env.sandbox.apiCalls.length).toBe(before);
  });

  it('planted mismatches: an altered amount, an omitted transaction, a line Tender never saw', async () => {
    const other = '2026-03-03';
    const a = await pay('30.00');
    const b = await pay('40.00');
    env.sandbox.settlements.moveTo(a, other);
    env.sandbox.settlements.moveTo(b, other);
    env.sandbox.settlements.alterAmount(a, '29.00');
    env.sandbox.settlements.omit(b);
    env.sandbox.settlements.addForeign({ date: other, tranID: '999000111', orderid: 'ORD-UNKNOWN', amount: '12.34', currency: 'MYR' });
    const lines = await env.gateway.settlements!.fetchReport({ date: other }, ctx());
    expect(lines.map((l) => [l.gatewayReference, l.amount.toString()]).sort()).toEqual([[a, '29.00'], ['999000111', '12.34']].sort());
    expect(byRef(lines, 'payment', '999000111')).toMatchObject({ orderId: 'ORD-UNKNOWN', direction: 'in' });
  });

  it("reads GST and refund fees as Fiuu's formulas put them (D: Gross - Commission - GST; R: -(Gross + RefundFees + GST - Commission))", () => {
    // Records shaped as the spec's field list (Fiuu API Spec v13.86, settlement report), amounts with implied decimals.
    const base = { MerchantId: 'SB_x', OrderId: 'ORD-1', Channel: 'fpx', AcquirerReference: '3000000001', TransactionDate: '20260302', TransactionTime: '101500', TransactionCurrency: 'MYR', SettlementCurrency: 'MYR', Forex: '100000000' };
    const d = fiuuSettlementLine({ RecordIdentifier: 'D', ...base, TransactionGrossAmount: '10000', TransactionCommissionAmount: '200', TransactionGST: '12', TransactionNetAmount: '9800', SettlementNetAmountInProcessingCurrency: '9788', Status: 'SETTLED' }, DAY, 'B1')!;
    expect([d.type, d.direction, d.amount.toString(), d.fee?.toString(), d.net?.toString(), d.occurredAt]).toEqual(['payment', 'in', '100.00', '2.12', '97.88', '2026-03-02T02:15:00.000Z']);
    const r = fiuuSettlementLine({ RecordIdentifier: 'R', ...base, RefundID: '77', RefundFees: '100', TransactionGrossAmount: '5000', TransactionCommissionAmount: '0', TransactionGST: '6', TransactionNetAmount: '5100', SettlementNetAmountInProcessingCurrency: '-5106', Status: 'REFUND' }, DAY, 'B1')!;
    expect([r.type, r.direction, r.refundReference, r.amount.toString(), r.fee?.toString(), r.net?.toString()]).toEqual(['refund', 'out', '77', '50.00', '1.06', '51.06']);
    expect(fiuuSettlementLine({ RecordIdentifier: 'H', SettlementDate: '20260302' }, DAY, null)).toBeNull();
    expect(() => fiuuSettlementLine({ RecordIdentifier: 'D', ...base, TransactionGrossAmount: '12.50', TransactionNetAmount: '1' }, DAY, null)).toThrow(/not an amount/);
  });
});
