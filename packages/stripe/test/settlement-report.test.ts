/**
 * Stripe's balance transactions as Tender's settlement report: the sandbox makes one for every
 * captured charge, refund and failed refund, the official `stripe` client lists them, and the
 * gateway's `settlements.fetchReport` maps them to lines keyed by the PaymentIntent id it stores.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, Money } from '@tender/core';
import type { GatewayCreatePaymentInput, HttpTransport, SettlementLine } from '@tender/core';
import { createStripeGateway, createStripeRequester, stripeSettlementLine, stripeSettlements, type StripeGateway } from '@tender/stripe';
import { sandboxStripeFee, startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

const DAY = '2026-03-02';
const NOON = Date.parse(`${DAY}T12:00:00Z`) / 1000;
const ctx = (key: string) => ({ idempotencyKey: key, now: new Date() });
let seq = 0;
function input(amount: Money, extra: Partial<GatewayCreatePaymentInput> = {}): GatewayCreatePaymentInput {
  seq++;
  return {
    paymentId: `pay_SETL${seq}`,
    merchantId: 'default',
    orderId: null,
    amount,
    captureMethod: 'automatic',
    paymentMethod: 'pm_card_visa',
    description: 'Settlement test',
    customer: {},
    returnUrl: null,
    notifyUrl: null,
    metadata: {},
    ...extra,
  };
}

let sandbox: StripeSandbox;
let transport: HttpTransport;
let gateway: StripeGateway;
let stripe: Stripe;
const ref: Record<'usd' | 'manual' | 'jpy' | 'refundFails' | 'refund' | 'failedRefund', string> = { usd: '', manual: '', jpy: '', refundFails: '', refund: '', failedRefund: '' };

beforeAll(async () => {
  sandbox = await startStripeSandbox();
  transport = createHttpTransport({ gateway: 'stripe', retry: { attempts: 1 } });
  gateway = createStripeGateway({ secretKey: sandbox.secretKey, baseUrl: sandbox.url, transport });
  stripe = new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  const usd = await gateway.createPayment(input(Money.of('20.00', 'USD')), ctx('c1'));
  const manual = await gateway.createPayment(input(Money.of('15.00', 'USD'), { captureMethod: 'manual' }), ctx('c2'));
  await gateway.capture!({ paymentId: 'pay_m', gatewayReference: manual.gatewayReference!, amount: Money.of('12.00', 'USD'), authorizedAmount: Money.of('15.00', 'USD'), gatewayData: {} }, ctx('cap'));
  const jpy = await gateway.createPayment(input(Money.of('5000', 'JPY')), ctx('c3'));
  const fails = await gateway.createPayment(input(Money.of('9.00', 'USD'), { paymentMethod: 'pm_card_refundFail' }), ctx('c4'));
  [ref.usd, ref.manual, ref.jpy, ref.refundFails] = [usd, manual, jpy, fails].map((r) => r.gatewayReference!) as [string, string, string, string];
  const refund = await gateway.refund({ refundId: 'rf_1', paymentId: 'pay_u', gatewayReference: ref.usd, amount: Money.of('5.00', 'USD'), capturedAmount: Money.of('20.00', 'USD'), reason: null, gatewayData: {} }, ctx('r1'));
  ref.refund = refund.gatewayReference!;
  const failing = await gateway.refund({ refundId: 'rf_2', paymentId: 'pay_f', gatewayReference: ref.refundFails, amount: Money.of('9.00', 'USD'), capturedAmount: Money.of('9.00', 'USD'), reason: null, gatewayData: {} }, ctx('r2'));
  ref.failedRefund = failing.gatewayReference!;
  // The sandbox fails that card's refunds right after answering (setImmediate), as Stripe reports it later.
  await new Promise((resolve) => setImmediate(resolve));
  expect((await stripe.refunds.retrieve(ref.failedRefund)).status).toBe('failed');
  // Onto a fixed UTC day, a minute apart, so the report is the same whenever the test runs.
  const failure = (await stripe.refunds.retrieve(ref.failedRefund)).failure_balance_transaction as string;
  [ref.usd, ref.manual, ref.jpy, ref.refundFails, ref.refund, ref.failedRefund, failure].forEach((id, i) => sandbox.balance.moveTo(id, NOON + i * 60));
});
afterAll(async () => {
  await sandbox?.close();
  await transport?.close();
});

const line = (lines: SettlementLine[], type: string, reference: string) => lines.filter((l) => l.type === type && l.gatewayReference === reference);

describe('Stripe balance transactions (GET /v1/balance_transactions)', () => {
  it('the official client lists them, newest first, with the source expanded to the PaymentIntent, page by page', async () => {
    const gte = NOON - 12 * 3600;
    const all = await stripe.balanceTransactions.list({ created: { gte, lt: gte + 86_400 }, limit: 2, expand: ['data.source'] }).autoPagingToArray({ limit: 100 });
    expect(all.map((t) => t.type)).toEqual(['refund_failure', 'refund', 'refund', 'charge', 'charge', 'charge', 'charge']);
    const charge = all.find((t) => t.type === 'charge' && (t.source as Stripe.Charge).payment_intent === ref.usd)!;
    expect(charge).toMatchObject({ object: 'balance_transaction', amount: 2000, currency: 'usd', fee: sandboxStripeFee(2000), net: 2000 - sandboxStripeFee(2000), reporting_category: 'charge', balance_type: 'payments' });
    expect(charge.fee_details).toEqual([{ amount: 88, application: null, currency: 'usd', description: 'Stripe processing fees', type: 'stripe_fee' }]);
    expect((await stripe.charges.retrieve((charge.source as Stripe.Charge).id)).balance_transaction).toBe(charge.id);
    expect((await stripe.balanceTransactions.retrieve(charge.id)).id).toBe(charge.id);
    const refund = all.find((t) => t.type === 'refund' && (t.source as Stripe.Refund).id === ref.refund)!;
    expect(refund).toMatchObject({ amount: -500, fee: 0, net: -500, source: expect.objectContaining({ id: ref.refund, payment_intent: ref.usd }) });
    expect((await stripe.refunds.retrieve(ref.refund)).balance_transaction).toBe(refund.id);
  });

  it('fetchReport maps every line of the day: payments, refunds and a failed refund, keyed by the stored PaymentIntent id', async () => {
    expect(gateway.capabilities.settlements).toBe(true);
    const lines = await gateway.settlements!.fetchReport({ date: DAY }, ctx('report'));
    expect(lines).toHaveLength(7);
    const [usd] = line(lines, 'payment', ref.usd);
    // Funds are available two days after the charge (a past day's are available now).
    expect(usd).toMatchObject({ direction: 'in', gatewayStatus: 'available', refundReference: null, occurredAt: new Date(NOON * 1000).toISOString(), settledAt: new Date((NOON + 2 * 86_400) * 1000).toISOString() });
    expect([usd!.amount.toString(), usd!.fee?.toString(), usd!.net?.toString()]).toEqual(['20.00', '0.88', '19.12']);
    // The captured amount, not the authorised one.
    expect(line(lines, 'payment', ref.manual)[0]!.amount.toString()).toBe('12.00');
    // JPY is zero-decimal: 5000 on the wire is 5000 yen, not 50.
    const [jpy] = line(lines, 'payment', ref.jpy);
    expect([jpy!.amount.toString(), jpy!.amount.currency, jpy!.fee?.toString()]).toEqual(['5000', 'JPY', String(sandboxStripeFee(5000))]);
    const refunds = line(lines, 'refund', ref.usd);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ direction: 'out', refundReference: ref.refund });
    expect([refunds[0]!.amount.toString(), refunds[0]!.net?.toString(), refunds[0]!.fee?.toString()]).toEqual(['5.00', '5.00', '0.00']);
    const failed = line(lines, 'refund', ref.refundFails);
    expect(failed.map((l) => [l.direction, l.refundReference, l.amount.toString()]).sort()).toEqual([['in', ref.failedRefund, '9.00'], ['out', ref.failedRefund, '9.00']]);
    expect(await gateway.settlements!.fetchReport({ date: '2026-03-03' }, ctx('empty'))).toEqual([]);
  });

  it('pages with starting_after until has_more is false (pages of 2)', async () => {
    const requester = createStripeRequester({ secretKey: sandbox.secretKey, baseUrl: sandbox.url, transport });
    const paged = await stripeSettlements(requester, { pageSize: 2 }).fetchReport({ date: DAY }, ctx('paged'));
    const whole = await gateway.settlements!.fetchReport({ date: DAY }, ctx('whole'));
    expect(paged.map((l) => l.lineId)).toEqual(whole.map((l) => l.lineId));
    expect(new Set(paged.map((l) => l.lineId)).size).toBe(7);
  });

  it('a wrong secret key is refused (401, gateway_authentication_failed); a bad date sends nothing', async () => {
    const wrong = createStripeGateway({ secretKey: 'sk_test_wrong', baseUrl: sandbox.url, transport });
    await expect(wrong.settlements!.fetchReport({ date: DAY }, ctx('bad'))).rejects.toMatchObject({ type: 'gateway_error', code: 'gateway_authentication_failed' });
    for (const date of ['2026-02-30', '02/03/2026', '']) {
      await expect(gateway.settlements!.fetchReport({ date }, ctx('d'))).rejects.toMatchObject({ type: 'invalid_request_error', code: 'invalid_date', param: 'date' });
    }
  });

  it('planted mismatches: an altered amount, an omitted line, a payment made outside Tender', async () => {
    const day = '2026-03-04';
    const at = Date.parse(`${day}T08:00:00Z`) / 1000;
    const a = (await gateway.createPayment(input(Money.of('30.00', 'USD')), ctx('m1'))).gatewayReference!;
    const b = (await gateway.createPayment(input(Money.of('40.00', 'USD')), ctx('m2'))).gatewayReference!;
    const foreign = sandbox.balance.addForeign(1234, 'usd');
    [a, b, foreign].forEach((id, i) => sandbox.balance.moveTo(id, at + i));
    sandbox.balance.alterAmount(a, 2900);
    sandbox.balance.omit(b);
    const lines = await gateway.settlements!.fetchReport({ date: day }, ctx('m'));
    expect(lines.map((l) => [l.gatewayReference, l.amount.toString()]).sort()).toEqual([[a, '29.00'], [foreign, '12.34']].sort());
  });

  it('a chargeback withdraws the amount and a 15.00 fee, a won one gives the amount back: dispute lines keyed by the PaymentIntent, sources expandable', async () => {
    const day = '2026-03-05';
    const at = Date.parse(`${day}T15:00:00Z`) / 1000;
    const pi = (await gateway.createPayment(input(Money.of('60.00', 'USD')), ctx('dp'))).gatewayReference!;
    const dispute = sandbox.dashboard.dispute(pi) as { id: string };
    sandbox.balance.moveTo(dispute.id, at);
    const [listed] = (await stripe.balanceTransactions.list({ created: { gte: at, lte: at }, expand: ['data.source'] })).data;
    expect(listed).toMatchObject({ type: 'adjustment', reporting_category: 'dispute', amount: -6000, fee: 1500, net: -7500, source: expect.objectContaining({ id: dispute.id, object: 'dispute', payment_intent: pi }) });
    expect((await stripe.balanceTransactions.retrieve(listed!.id, { expand: ['source'] })).source).toMatchObject({ id: dispute.id });
    const movesOf = () => (sandbox.account.retrieveDispute(dispute.id).balance_transactions as Array<{ id: string }>).map((t) => t.id);
    expect(movesOf()).toEqual([listed!.id]);
    // Won: the amount comes back (dispute_reversal); an inquiry on another payment moves nothing.
    sandbox.account.updateDispute(dispute.id, 'won');
    sandbox.balance.moveTo(movesOf()[1]!, at + 60);
    const inquiry = (await gateway.createPayment(input(Money.of('8.00', 'USD')), ctx('inq'))).gatewayReference!;
    sandbox.account.createDispute(inquiry, 'general', { inquiry: true });
    const lines = await gateway.settlements!.fetchReport({ date: day }, ctx('dp-report'));
    expect(lines.map((l) => [l.type, l.direction, l.gatewayReference, l.amount.toString(), l.fee?.toString(), l.net?.toString()])).toEqual([
      ['dispute', 'in', pi, '60.00', '0.00', '60.00'],
      ['dispute', 'out', pi, '60.00', '15.00', '75.00'],
    ]);
  });

  it('maps each balance transaction type: payout, Stripe fee, dispute withdrawal and reversal, other adjustments', () => {
    // Balance transactions as Stripe shapes them (https://docs.stripe.com/api/balance_transactions/object), source expanded.
    const bt = (fields: Record<string, unknown>) => ({ id: 'txn_1', object: 'balance_transaction', amount: 0, available_on: NOON, balance_type: 'payments', created: NOON, currency: 'usd', description: null, exchange_rate: null, fee: 0, fee_details: [], net: 0, status: 'available', source: null, ...fields });
    const payout = stripeSettlementLine(bt({ type: 'payout', reporting_category: 'payout', amount: -5000, net: -5000, source: { id: 'po_1', object: 'payout' } }));
    expect(payout).toMatchObject({ type: 'payout', direction: 'out', gatewayReference: null, settlementId: 'po_1' });
    expect(payout.amount.toString()).toBe('50.00');
    expect(stripeSettlementLine(bt({ type: 'stripe_fee', reporting_category: 'fee', amount: -200, net: -200, source: 'ch_x' }))).toMatchObject({ type: 'fee', direction: 'out' });
    const withdrawal = stripeSettlementLine(bt({ type: 'adjustment', reporting_category: 'dispute', amount: -2000, fee: 1500, net: -3500, source: { id: 'dp_1', object: 'dispute', payment_intent: 'pi_disputed', charge: 'ch_1' } }));
    expect(withdrawal).toMatchObject({ type: 'dispute', direction: 'out', gatewayReference: 'pi_disputed' });
    expect([withdrawal.amount.toString(), withdrawal.fee?.toString(), withdrawal.net?.toString()]).toEqual(['20.00', '15.00', '35.00']);
    expect(stripeSettlementLine(bt({ type: 'adjustment', reporting_category: 'dispute_reversal', amount: 2000, net: 2000, source: { id: 'dp_1', object: 'dispute', payment_intent: 'pi_disputed' } }))).toMatchObject({ type: 'dispute', direction: 'in' });
    expect(stripeSettlementLine(bt({ type: 'adjustment', reporting_category: 'other_adjustment', amount: 100, net: 100 }))).toMatchObject({ type: 'adjustment', direction: 'in', gatewayReference: null });
    expect(() => stripeSettlementLine({ id: 'txn_2', object: 'balance_transaction', amount: '10' })).toThrow(/cannot read/);
  });
});
