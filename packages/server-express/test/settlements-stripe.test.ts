/**
 * The settlement report over HTTP against the Stripe sandbox: payments made through Tender, the
 * sandbox's balance transactions of the day as Stripe's report, with planted mismatches (an altered
 * amount, an omitted charge, a payment made outside Tender).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, type HttpTransport, type Payment, type Refund } from '@tender/core';
import { FakeClock, MemoryStore } from '@tender/core/testing';
import { signToken } from '@tender/server-express';
import { createStripeGateway } from '@tender/stripe';
import { sandboxStripeFee, startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';
import { createApp } from '../src/app';
import { createLogger } from '../src/logging';
import { SECRET, listen } from './helpers';

const DAY = '2026-03-02';
const NOON = Date.parse(`${DAY}T12:00:00Z`) / 1000;

let sandbox: StripeSandbox;
let transport: HttpTransport;
let url: string;
let close: () => void;
const p: Record<'matched' | 'altered' | 'omitted', Payment> = {} as never;
let refund: Refund;
let foreign: string;

beforeAll(async () => {
  sandbox = await startStripeSandbox();
  transport = createHttpTransport({ gateway: 'stripe', retry: { attempts: 1 } });
  const gateway = createStripeGateway({ secretKey: sandbox.secretKey, baseUrl: sandbox.url, transport });
  const clock = new FakeClock(`${DAY}T12:00:00.000Z`);
  const tender = createTender({ gateways: [gateway], store: new MemoryStore(), clock });
  for (const [name, amount] of [['matched', '20.00'], ['altered', '15.00'], ['omitted', '30.00']] as const) {
    p[name] = await tender.payments.create({ amount, currency: 'USD', paymentMethod: 'pm_card_visa' }, { merchantId: 'm1' });
    expect(p[name].status).toBe('CAPTURED');
  }
  refund = await tender.payments.refund(p.matched.id, { amount: '5.00' }, { merchantId: 'm1' });
  foreign = sandbox.balance.addForeign(700, 'usd');
  // Onto the report day (the sandbox stamps its transactions with the real time), a minute apart.
  [p.matched.gatewayReference!, p.altered.gatewayReference!, p.omitted.gatewayReference!, refund.gatewayReference!, foreign].forEach((id, i) => sandbox.balance.moveTo(id, NOON + i * 60));
  sandbox.balance.alterAmount(p.altered.gatewayReference!, 1450);
  sandbox.balance.omit(p.omitted.gatewayReference!);
  clock.set('2026-03-03T12:00:00.000Z');
  const logger = createLogger({ destination: new Writable({ write: (_chunk, _enc, cb) => cb() }) });
  const server = await listen(createApp(tender, { auth: { secret: SECRET }, rateLimit: false, logger }));
  url = server.url;
  close = () => {
    server.server.closeAllConnections();
    server.server.close();
  };
});
afterAll(async () => {
  close?.();
  await sandbox?.close();
  await transport?.close();
});

const get = async (query: string, scopes: string[], merchantId = 'm1', accept = 'application/json') => {
  const token = await signToken({ secret: SECRET, merchantId, scopes });
  const response = await fetch(`${url}/api/v1/admin/settlements?${query}`, { headers: { authorization: `Bearer ${token}`, accept } });
  return { status: response.status, text: await response.text() };
};

describe('GET /api/v1/admin/settlements?provider=STRIPE against the Stripe sandbox', () => {
  it("classifies the merchant's balance transactions of the day, fees summed per currency", async () => {
    const res = await get(`date=${DAY}&provider=STRIPE`, ['admin:read']);
    expect(res.status).toBe(200);
    const run = JSON.parse(res.text);
    expect(run).toMatchObject({ gateway: 'stripe', date: DAY, merchant_id: 'm1', version: 1 });
    const lines = Object.fromEntries((run.lines as Array<Record<string, string>>).map((l) => [l.refund_id ?? l.payment_id, [l.classification, l.reason, l.reported_amount, l.tender_amount]]));
    expect(lines).toEqual({
      [p.matched.id]: ['matched', null, '20.00', '20.00'],
      [p.altered.id]: ['amount_mismatch', 'amount_differs', '14.50', '15.00'],
      [refund.id]: ['matched', null, '5.00', '5.00'],
      [p.omitted.id]: ['missing_at_gateway', 'not_in_report', null, '30.00'],
    });
    // Stripe's fee on each charge as the sandbox charged it (2.9% + 30c of the original amount).
    const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;
    const fees = sandboxStripeFee(2000) + sandboxStripeFee(1500);
    expect(run.totals).toEqual({ USD: { gross_in: '34.50', gross_out: '5.00', fees: cents(fees), net: cents(3450 - 500 - fees) } });
  });

  it('shows a platform admin the payment made outside Tender, and exports it as CSV', async () => {
    const res = await get(`date=${DAY}&provider=stripe`, ['admin:read', 'platform:admin'], 'ops', 'text/csv');
    expect(res.status).toBe(200);
    const rows = res.text.split('\r\n').filter((r) => r !== '');
    expect(rows).toHaveLength(1 + 5);
    expect(rows.find((r) => r.includes(foreign))).toMatch(/^txn_[^,]+,missing_in_tender,unknown_reference,payment,,pi_[^,]+,,,in,7\.00,USD,/);
  });
});
