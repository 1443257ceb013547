/**
 * Settlement reconciliation (`tender.settlements`) against the Fiuu sandbox's settlement report
 * (`API/settlement/report.php`): payments made through Tender's engine (the buyer pays on the
 * sandbox's page, the engine's own requery captures) and a refund, then planted mismatches (an
 * altered amount, an omitted transaction, a transaction made outside Tender). Fiuu's settlement day
 * is its `paydate`'s day in GMT+8: a capture of 20:00 UTC is paid at 04:00 the next day there, and the
 * one-day lag rule matches it in the next day's run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTender, type Payment, type Refund, type Tender } from '@tender/core';
import { FakeClock, MemoryStore } from '@tender/core/testing';
import type { FiuuHostedPayment } from '@tender/fiuu';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { sandboxAndGateway } from './helpers';

const DAY = '2026-03-02';
const NEXT = '2026-03-03';
const FOREIGN = { date: DAY, tranID: '990000001', orderid: 'ORD-OUTSIDE-1', amount: '7.00', currency: 'MYR' };

let env: Awaited<ReturnType<typeof sandboxAndGateway>>;
let clock: FakeClock;
let tender: Tender;
const p: Record<'matched' | 'altered' | 'omitted' | 'late', Payment> = {} as never;
let refund: Refund;

/** A Fiuu payment created by the engine, paid on the sandbox's page, captured by the engine's requery. */
async function paid(amount: string): Promise<Payment> {
  const created = await tender.payments.create(
    { amount, currency: 'MYR', paymentMethod: 'FPX', orderId: `ORD-RECON-${amount.replace('.', '')}`, customer: { name: 'Siti Aminah', email: 'siti@example.com', phone: '+60123456789' }, description: 'Reconciliation', returnUrl: 'https://shop.example/return' },
    { merchantId: 'm1' },
  );
  expect(created.status).toBe('REQUIRES_ACTION');
  await completeHostedPayment(created.gatewayData.hostedPayment as FiuuHostedPayment, 'approve');
  const captured = await tender.payments.sync(created.id, { merchantId: 'm1' });
  expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: amount });
  return captured;
}

beforeAll(async () => {
  env = await sandboxAndGateway();
  clock = new FakeClock(`${DAY}T12:00:00.000Z`);
  tender = createTender({ gateways: [env.gateway], store: new MemoryStore(), clock });
  p.matched = await paid('100.00');
  p.altered = await paid('15.00');
  p.omitted = await paid('30.00');
  const pending = await tender.payments.refund(p.matched.id, { amount: '20.00' }, { merchantId: 'm1' });
  // The sandbox finishes a refund right after answering it; the engine learns it from its refund requery.
  await env.sandbox.idle();
  await tender.reconcile({ processingAfterMs: 0 });
  refund = await tender.refunds.get(pending.id, { merchantId: 'm1' });
  expect(refund.status).toBe('SUCCEEDED');
  // 20:00 UTC on DAY is 04:00 on NEXT in Fiuu's GMT+8: Fiuu settles it on NEXT.
  clock.set(`${DAY}T20:00:00.000Z`);
  p.late = await paid('40.00');
  // Onto the report days (the sandbox stamps paydate with the real time).
  for (const payment of [p.matched, p.altered, p.omitted]) env.sandbox.settlements.moveTo(payment.gatewayReference!, DAY);
  env.sandbox.settlements.moveTo(p.late.gatewayReference!, NEXT);
  env.sandbox.settlements.alterAmount(p.altered.gatewayReference!, '14.50');
  env.sandbox.settlements.omit(p.omitted.gatewayReference!);
  env.sandbox.settlements.addForeign(FOREIGN);
  clock.set(`${NEXT}T12:00:00.000Z`);
});
afterAll(async () => {
  await env?.sandbox.idle();
  await env?.close();
});

const summary = (lines: Array<{ paymentId: string | null; refundId: string | null; classification: string; reason: string | null; reported: { amount: string } | null; tender: { amount: string } | null }>) =>
  Object.fromEntries(lines.map((l) => [l.refundId ?? l.paymentId ?? 'none', [l.classification, l.reason, l.reported?.amount ?? null, l.tender?.amount ?? null]]));

describe("tender.settlements against the Fiuu sandbox's settlement report", () => {
  it("classifies the merchant's D and R records of the day; commission summed as fees per currency", async () => {
    const run = await tender.settlements.reconcile({ gateway: 'fiuu', date: DAY }, { merchantId: 'm1' });
    expect(run).toMatchObject({ gateway: 'fiuu', date: DAY, merchantId: 'm1', version: 1 });
    expect(summary(run.lines)).toEqual({
      [p.matched.id]: ['matched', null, '100.00', '100.00'],
      [p.altered.id]: ['amount_mismatch', 'amount_differs', '14.50', '15.00'],
      [refund.id]: ['matched', null, '20.00', '20.00'],
      [p.omitted.id]: ['missing_at_gateway', 'not_in_report', null, '30.00'],
    });
    // p.late (captured DAY 20:00 UTC) is neither here nor missing: Fiuu settled it on NEXT (GMT+8).
    expect(run.lines.some((l) => l.paymentId === p.late.id)).toBe(false);
    // The sandbox's commission, 1.5 % of each D record's reported gross: 1.50 + 0.22 (14.50 * 1.5 % rounded).
    expect(run.totals).toEqual({ MYR: { grossIn: '114.50', grossOut: '20.00', fees: '1.72', net: '92.78' } });
  });

  it("matches the evening capture in the next day's run", async () => {
    const run = await tender.settlements.reconcile({ gateway: 'fiuu', date: NEXT }, { merchantId: 'm1' });
    expect(summary(run.lines)).toEqual({ [p.late.id]: ['matched', null, '40.00', '40.00'] });
  });

  it('shows the transaction made outside Tender only in the account-wide run', async () => {
    const run = await tender.settlements.reconcile({ gateway: 'fiuu', date: DAY }, { merchantId: null });
    const line = run.lines.find((l) => l.gatewayReference === FOREIGN.tranID);
    expect(line).toMatchObject({ classification: 'missing_in_tender', reason: 'unknown_reference', merchantId: null, orderId: FOREIGN.orderid, reported: { amount: '7.00', currency: 'MYR', direction: 'in' } });
    expect(run.lines).toHaveLength(5);
  });
});
