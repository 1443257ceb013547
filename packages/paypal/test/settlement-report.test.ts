/**
 * PayPal's Transaction Search (`GET /v1/reporting/transactions`) as Tender's settlement report: the
 * sandbox reports its captures (T0006) and refunds (T1107), PayPal's official server SDK reads them
 * (`TransactionSearchController.searchTransactions`), and the gateway's `settlements.fetchReport` maps
 * every page to lines keyed by the order id it stores as `gatewayReference`.
 */
import { Agent as HttpsAgent } from 'node:https';
import { connect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, Client, Environment, TransactionSearchController } from '@paypal/paypal-server-sdk';
import { Money } from '@tender/core';
import type { GatewayCreatePaymentInput, SettlementLine } from '@tender/core';
import { paypalSettlementLine, type PayPalGateway } from '@tender/paypal';
import { startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { gatewayFor } from './helpers';

const DAY = '2026-03-02';
const ctx = (key: string) => ({ idempotencyKey: key, now: new Date() });
let seq = 0;
const input = (amount: Money): GatewayCreatePaymentInput => ({
  paymentId: `pay_SETL${++seq}`,
  merchantId: 'default',
  orderId: null,
  amount,
  captureMethod: 'automatic',
  paymentMethod: 'paypal',
  description: null,
  customer: {},
  returnUrl: 'https://shop.example/return',
  notifyUrl: null,
  metadata: {},
});

/** Dials the sandbox's TLS port on loopback whatever host the SDK asks for (it only knows PayPal's hosts). */
class LoopbackAgent extends HttpsAgent {
  constructor(
    private readonly port: number,
    private readonly ca: string,
  ) {
    super({ keepAlive: false });
  }

  override createConnection(options: ConnectionOptions & { host?: string; servername?: string }, callback?: (err: Error | null, socket: Duplex) => void): Duplex {
    const socket = connect({ host: '127.0.0.1', port: this.port, servername: options.servername ?? options.host, ca: this.ca });
    callback?.(null, socket);
    return socket;
  }
}

let sandbox: PayPalSandbox;
let gateway: PayPalGateway;
let search: TransactionSearchController;
let agent: LoopbackAgent;
/** Order ids (the gateway's gatewayReference) and capture / refund ids. */
const ref = { usd: '', usdCapture: '', huf: '', hufCapture: '', refund: '' };

async function paid(amount: Money): Promise<{ order: string; capture: string }> {
  const created = await gateway.createPayment(input(amount), ctx(`c${seq}`));
  sandbox.approve(created.gatewayReference!);
  const captured = await gateway.retrieve({ paymentId: `pay_SETL${seq}`, orderId: null, gatewayReference: created.gatewayReference!, amount, gatewayData: {} }, ctx(`r${seq}`));
  expect(captured.status).toBe('CAPTURED');
  return { order: created.gatewayReference!, capture: captured.gatewayData!.captureId as string };
}

beforeAll(async () => {
  // Pages of two rows at most, so the day's four rows take two pages.
  sandbox = await startPayPalSandbox({ tls: true, reporting: { maxPageSize: 2 } });
  gateway = gatewayFor(sandbox);
  agent = new LoopbackAgent(sandbox.tlsPort!, sandbox.certificates.ca.certificatePem);
  const client = new Client({
    clientCredentialsAuthCredentials: { oAuthClientId: sandbox.clientId, oAuthClientSecret: sandbox.clientSecret },
    environment: Environment.Sandbox,
    timeout: 10_000,
    httpClientOptions: { httpsAgent: agent },
    unstable_httpClientOptions: { proxy: false },
  });
  search = new TransactionSearchController(client);
  const usd = await paid(Money.of('100.00', 'USD'));
  const huf = await paid(Money.of('5000', 'HUF'));
  const other = await paid(Money.of('10.00', 'USD'));
  [ref.usd, ref.usdCapture, ref.huf, ref.hufCapture] = [usd.order, usd.capture, huf.order, huf.capture];
  const refund = await gateway.refund({ refundId: 'rf_1', paymentId: 'pay_u', gatewayReference: ref.usd, amount: Money.of('25.00', 'USD'), capturedAmount: Money.of('100.00', 'USD'), reason: null, gatewayData: { captureId: ref.usdCapture } }, ctx('rf'));
  ref.refund = refund.gatewayReference!;
  // Onto fixed times of one UTC day, so the search is the same whenever the test runs; `other` on another day.
  [ref.usdCapture, ref.hufCapture, ref.refund].forEach((id, i) => sandbox.reporting.moveTo(id, `${DAY}T1${i}:00:00Z`));
  sandbox.reporting.moveTo(other.capture, '2026-03-05T10:00:00Z');
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
  agent?.destroy();
});

const find = (lines: SettlementLine[], type: string, reference: string) => lines.filter((l) => l.type === type && l.gatewayReference === reference);

describe('PayPal Transaction Search (GET /v1/reporting/transactions)', () => {
  it("PayPal's server SDK reads it with an OAuth token: T0006 captures naming their order, a T1107 refund naming the capture, paged", async () => {
    const first = await search.searchTransactions({ startDate: `${DAY}T00:00:00Z`, endDate: `${DAY}T23:59:59Z`, fields: 'all', pageSize: 100, page: 1 });
    expect(first.result).toMatchObject({ page: 1, totalItems: 3, totalPages: 2 });
    const second = await search.searchTransactions({ startDate: `${DAY}T00:00:00Z`, endDate: `${DAY}T23:59:59Z`, fields: 'all', pageSize: 100, page: 2 });
    const rows = [...first.result.transactionDetails!, ...second.result.transactionDetails!].map((d) => d.transactionInfo!);
    expect(rows.map((r) => [r.transactionEventCode, r.transactionId])).toEqual([['T0006', ref.usdCapture], ['T0006', ref.hufCapture], ['T1107', ref.refund]]);
    expect(rows[0]).toMatchObject({ paypalReferenceId: ref.usd, paypalReferenceIdType: 'ODR', transactionAmount: { currencyCode: 'USD', value: '100.00' }, feeAmount: { currencyCode: 'USD', value: '-3.98' }, transactionStatus: 'S', transactionInitiationDate: `${DAY}T10:00:00+0000` });
    expect(rows[2]).toMatchObject({ paypalReferenceId: ref.usdCapture, paypalReferenceIdType: 'TXN', transactionAmount: { currencyCode: 'USD', value: '-25.00' } });
    // More than 31 days is refused, as PayPal does.
    await expect(search.searchTransactions({ startDate: '2026-01-01T00:00:00Z', endDate: '2026-03-02T00:00:00Z' })).rejects.toBeInstanceOf(ApiError);
  });

  it('fetchReport maps every page to lines keyed by the order id the gateway stores', async () => {
    expect(gateway.capabilities.settlements).toBe(true);
    const lines = await gateway.settlements!.fetchReport({ date: DAY }, ctx('report'));
    expect(lines.map((l) => l.lineId)).toEqual([ref.usdCapture, ref.hufCapture, ref.refund]);
    const [usd] = find(lines, 'payment', ref.usd);
    expect(usd).toMatchObject({ direction: 'in', refundReference: null, gatewayStatus: 'S', occurredAt: `${DAY}T10:00:00.000Z` });
    // 3.49 % + 0.49 (the sandbox's fee) of 100.00, charged (negative on the wire), netted out.
    expect([usd!.amount.toString(), usd!.fee?.toString(), usd!.net?.toString()]).toEqual(['100.00', '3.98', '96.02']);
    // HUF: PayPal writes whole units; the amount keeps HUF's ISO exponent.
    const [huf] = find(lines, 'payment', ref.huf);
    expect([huf!.amount.toString(), huf!.amount.currency]).toEqual(['5000.00', 'HUF']);
    const [refund] = find(lines, 'refund', ref.usd);
    expect(refund).toMatchObject({ direction: 'out', refundReference: ref.refund, fee: null });
    expect([refund!.amount.toString(), refund!.net?.toString()]).toEqual(['25.00', '25.00']);
  });

  it("a refund whose capture is not in the day's report is resolved to its order through the capture", async () => {
    const day = '2026-03-06';
    const own = await paid(Money.of('20.00', 'USD'));
    const refund = await gateway.refund({ refundId: 'rf_2', paymentId: 'pay_o', gatewayReference: own.order, amount: Money.of('20.00', 'USD'), capturedAmount: Money.of('20.00', 'USD'), reason: null, gatewayData: { captureId: own.capture } }, ctx('rf2'));
    sandbox.reporting.moveTo(own.capture, '2026-03-05T23:00:00Z');
    sandbox.reporting.moveTo(refund.gatewayReference!, `${day}T01:00:00Z`);
    const lines = await gateway.settlements!.fetchReport({ date: day }, ctx('later'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ type: 'refund', gatewayReference: own.order, refundReference: refund.gatewayReference, direction: 'out' });
  });

  it('wrong client credentials are refused (gateway_authentication_failed); a bad date sends nothing', async () => {
    const wrong = gatewayFor(sandbox, { clientSecret: 'not-the-secret' });
    await expect(wrong.settlements!.fetchReport({ date: DAY }, ctx('bad'))).rejects.toMatchObject({ type: 'gateway_error', code: 'gateway_authentication_failed' });
    await wrong.close();
    for (const date of ['2026-02-30', '2026-3-2', '']) {
      await expect(gateway.settlements!.fetchReport({ date }, ctx('d'))).rejects.toMatchObject({ type: 'invalid_request_error', code: 'invalid_date', param: 'date' });
    }
  });

  it('planted mismatches: an altered amount, an omitted capture, a sale of an order Tender never saw', async () => {
    const day = '2026-03-04';
    const a = await paid(Money.of('30.00', 'USD'));
    const b = await paid(Money.of('40.00', 'USD'));
    sandbox.reporting.moveTo(a.capture, `${day}T08:00:00Z`);
    sandbox.reporting.moveTo(b.capture, `${day}T08:00:01Z`);
    sandbox.reporting.alterAmount(a.capture, '29.00');
    sandbox.reporting.omit(b.capture);
    const foreign = sandbox.reporting.addForeign({ amount: { currency_code: 'USD', value: '12.34' }, at: `${day}T08:00:02Z` });
    const lines = await gateway.settlements!.fetchReport({ date: day }, ctx('m'));
    expect(lines.map((l) => [l.gatewayReference, l.amount.toString()])).toEqual([[a.order, '29.00'], [foreign.orderId, '12.34']]);
  });

  it('a dispute lost to the buyer is a T1201 chargeback row: a dispute line keyed by the order', async () => {
    const day = '2026-03-07';
    const own = await paid(Money.of('45.00', 'USD'));
    const dispute = sandbox.account.dispute(own.capture, 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED', 'CHARGEBACK') as { dispute_id: string };
    sandbox.account.resolveDispute(dispute.dispute_id, 'RESOLVED_BUYER_FAVOUR');
    const row = sandbox.reporting.chargebackId(dispute.dispute_id);
    sandbox.reporting.moveTo(row, `${day}T09:00:00Z`);
    const lines = await gateway.settlements!.fetchReport({ date: day }, ctx('cb'));
    expect(lines.map((l) => [l.lineId, l.type, l.direction, l.gatewayReference, l.amount.toString()])).toEqual([[row, 'dispute', 'out', own.order, '45.00']]);
  });

  it('maps each event-code group: withdrawal (payout), fee, chargeback and its reversal, other adjustments', () => {
    // transaction_details entries as PayPal shapes them; event codes: https://developer.paypal.com/docs/transaction-search/transaction-event-codes/.
    const row = (code: string, value: string, extra: Record<string, unknown> = {}) => ({ transaction_info: { transaction_id: `ID${code}`, transaction_event_code: code, transaction_initiation_date: `${DAY}T10:00:00+0000`, transaction_amount: { currency_code: 'USD', value }, transaction_status: 'S', ...extra } });
    const none = () => null;
    expect(paypalSettlementLine(row('T0400', '-500.00'), none)).toMatchObject({ type: 'payout', direction: 'out', gatewayReference: null });
    expect(paypalSettlementLine(row('T0106', '-20.00'), none)).toMatchObject({ type: 'fee', direction: 'out' });
    const chargeback = paypalSettlementLine(row('T1201', '-100.00', { paypal_reference_id: 'CAPTURE1', paypal_reference_id_type: 'TXN' }), (c) => (c === 'CAPTURE1' ? 'ORDER1' : null));
    expect(chargeback).toMatchObject({ type: 'dispute', direction: 'out', gatewayReference: 'ORDER1' });
    expect(paypalSettlementLine(row('T1202', '100.00'), none)).toMatchObject({ type: 'dispute', direction: 'in' });
    expect(paypalSettlementLine(row('T1503', '-5.00'), none)).toMatchObject({ type: 'adjustment', direction: 'out' });
    // A fee returned on a refund (positive fee on a negative amount) lowers what left the balance.
    const refund = paypalSettlementLine(row('T1107', '-25.00', { fee_amount: { currency_code: 'USD', value: '0.75' } }), none);
    expect([refund.type, refund.direction, refund.amount.toString(), refund.fee?.toString(), refund.net?.toString()]).toEqual(['refund', 'out', '25.00', '0.75', '24.25']);
    expect(() => paypalSettlementLine({ transaction_info: { transaction_id: 'X' } }, none)).toThrow(/cannot read|not usable|unusable/i);
  });
});
