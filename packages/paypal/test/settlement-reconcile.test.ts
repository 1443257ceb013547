/**
 * Settlement reconciliation (`tender.settlements`) against the PayPal sandbox's Transaction Search:
 * payments in two currencies and a refund made through Tender's engine (the buyer approves at the
 * sandbox, the engine's requery captures), then planted mismatches (an altered amount, an omitted
 * capture, a sale made outside Tender, a capture PayPal reports a day late).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTender, type Payment, type Refund, type Tender } from '@tender/core';
import { FakeClock, MemoryStore } from '@tender/core/testing';
import type { PayPalGateway } from '@tender/paypal';
import { startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { gatewayFor } from './helpers';

const DAY = '2026-03-02';
const NEXT = '2026-03-03';

let sandbox: PayPalSandbox;
let gateway: PayPalGateway;
let tender: Tender;
const p: Record<'matched' | 'altered' | 'omitted' | 'late' | 'huf', Payment> = {} as never;
let refund: Refund;
let foreign: { transactionId: string; orderId: string };

/** A PayPal order created by the engine, approved by the buyer at the sandbox, captured by the engine's own requery. */
async function paid(amount: string, currency = 'USD'): Promise<Payment> {
  const created = await tender.payments.create({ amount, currency, paymentMethod: 'paypal', returnUrl: 'https://shop.example/return' }, { merchantId: 'm1' });
  expect(created.status).toBe('REQUIRES_ACTION');
  sandbox.approve(created.gatewayReference!);
  const captured = await tender.payments.sync(created.id, { merchantId: 'm1' });
  expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: created.amount });
  return captured;
}
const captureOf = (payment: Payment) => payment.gatewayData.captureId as string;
/** PayPal's fee on a capture, as the sandbox charged it (its `seller_receivable_breakdown`). */
const feeOf = (payment: Payment) => Number((sandbox.account.getCapture(captureOf(payment)) as { seller_receivable_breakdown: { paypal_fee: { value: string } } }).seller_receivable_breakdown.paypal_fee.value);

beforeAll(async () => {
  sandbox = await startPayPalSandbox();
  gateway = gatewayFor(sandbox);
  const clock = new FakeClock(`${DAY}T12:00:00.000Z`);
  tender = createTender({ gateways: [gateway], store: new MemoryStore(), clock });
  p.matched = await paid('100.00');
  p.altered = await paid('30.00');
  p.omitted = await paid('45.00');
  p.late = await paid('12.00');
  p.huf = await paid('5000', 'HUF');
  refund = await tender.payments.refund(p.matched.id, { amount: '25.00' }, { merchantId: 'm1' });
  expect(refund.status).toBe('SUCCEEDED');
  // Onto the report day (the sandbox stamps rows with the real time), ten minutes apart.
  [captureOf(p.matched), captureOf(p.altered), captureOf(p.omitted), captureOf(p.huf), refund.gatewayReference!].forEach((id, i) => sandbox.reporting.moveTo(id, `${DAY}T12:${String(i * 10).padStart(2, '0')}:00Z`));
  // Captured on DAY, reported by PayPal on the next day: the lag rule matches it there.
  sandbox.reporting.moveTo(captureOf(p.late), `${NEXT}T00:30:00Z`);
  foreign = sandbox.reporting.addForeign({ amount: { currency_code: 'USD', value: '7.00' }, at: `${DAY}T15:00:00Z` });
  sandbox.reporting.alterAmount(captureOf(p.altered), '29.00');
  sandbox.reporting.omit(captureOf(p.omitted));
  clock.set(`${NEXT}T12:00:00.000Z`);
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

const summary = (lines: Array<{ paymentId: string | null; refundId: string | null; classification: string; reason: string | null; reported: { amount: string } | null; tender: { amount: string } | null }>) =>
  Object.fromEntries(lines.map((l) => [l.refundId ?? l.paymentId ?? 'none', [l.classification, l.reason, l.reported?.amount ?? null, l.tender?.amount ?? null]]));
const cents = (n: number) => (Math.round(n * 100) / 100).toFixed(2);

describe('tender.settlements against the PayPal sandbox (GET /v1/reporting/transactions)', () => {
  it("classifies the merchant's transactions of the day; fees summed per currency, never across", async () => {
    const run = await tender.settlements.reconcile({ gateway: 'paypal', date: DAY }, { merchantId: 'm1' });
    expect(run).toMatchObject({ gateway: 'paypal', date: DAY, merchantId: 'm1', version: 1 });
    expect(summary(run.lines)).toEqual({
      [p.matched.id]: ['matched', null, '100.00', '100.00'],
      [p.altered.id]: ['amount_mismatch', 'amount_differs', '29.00', '30.00'],
      // HUF in Tender's (ISO 4217) exponent 2, though PayPal writes it without decimals.
      [p.huf.id]: ['matched', null, '5000.00', '5000.00'],
      [refund.id]: ['matched', null, '25.00', '25.00'],
      [p.omitted.id]: ['missing_at_gateway', 'not_in_report', null, '45.00'],
    });
    // p.late is neither here nor missing: the next day's search has it (the one-day lag rule).
    expect(run.lines.some((l) => l.paymentId === p.late.id)).toBe(false);
    const usdFees = feeOf(p.matched) + feeOf(p.altered);
    const hufFees = feeOf(p.huf);
    expect(usdFees).toBeGreaterThan(0);
    expect(run.totals).toEqual({
      HUF: { grossIn: '5000.00', grossOut: '0.00', fees: cents(hufFees), net: cents(5000 - hufFees) },
      USD: { grossIn: '129.00', grossOut: '25.00', fees: cents(usdFees), net: cents(129 - 25 - usdFees) },
    });
  });

  it("matches the late capture in the next day's run", async () => {
    const run = await tender.settlements.reconcile({ gateway: 'paypal', date: NEXT }, { merchantId: 'm1' });
    expect(summary(run.lines)).toEqual({ [p.late.id]: ['matched', null, '12.00', '12.00'] });
  });

  it('shows the sale made outside Tender only in the account-wide run', async () => {
    const run = await tender.settlements.reconcile({ gateway: 'paypal', date: DAY }, { merchantId: null });
    const line = run.lines.find((l) => l.lineId === foreign.transactionId || l.gatewayReference === foreign.orderId);
    expect(line).toMatchObject({ classification: 'missing_in_tender', reason: 'unknown_reference', merchantId: null, reported: { amount: '7.00', currency: 'USD', direction: 'in' } });
    expect(run.lines).toHaveLength(6);
  });
});
