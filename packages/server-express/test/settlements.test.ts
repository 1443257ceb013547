import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Money, createTender, type OutboxEvent, type Payment, type SettlementLine, type Tender } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway, type TestGateway } from '@tender/core/testing';
import { signToken } from '@tender/server-express';
import { Writable } from 'node:stream';
import Ajv2020 from 'ajv/dist/2020';
import { createApp } from '../src/app';
import { eventJsonSchemas } from '../src/event-schemas';
import { createLogger } from '../src/logging';
import { SECRET, listen } from './helpers';

const DAY = '2026-03-01';

/** A server over a test gateway serving settlement reports, two merchants' payments of one day, planted mismatches. */
async function start() {
  const clock = new FakeClock('2026-03-01T09:00:00.000Z');
  const gateway = createTestGateway({ id: 'test', capabilities: { settlements: true } });
  const plain = createTestGateway({ id: 'plain' });
  const tender: Tender = createTender({ gateways: [gateway, plain], store: new MemoryStore(), clock });
  const events: OutboxEvent[] = [];
  tender.events.on((e) => void (e.type === 'settlement.mismatch' && events.push(e)));
  const pay = (amount: string, merchantId: string): Promise<Payment> => tender.payments.create({ amount, currency: 'MYR', paymentMethod: 'card' }, { merchantId });
  const matched = await pay('10.00', 'm1');
  const short = await pay('20.00', 'm1');
  const unreported = await pay('30.00', 'm1');
  const other = await pay('40.00', 'm2');
  const line = (p: Payment) => gateway.settlementLine(p.id, { occurredAt: '2026-03-01T09:00:00.000Z' });
  // A line no Tender record has, whose id and reference a CSV must quote and a spreadsheet must not run.
  const ghost: SettlementLine = { ...line(matched), lineId: 'bt_"odd",1', gatewayReference: '=HYPERLINK("http://x")', amount: Money.of('7.00', 'MYR'), net: null };
  gateway.settlementReports.set(DAY, [line(matched), { ...line(short), amount: Money.of('19.50', 'MYR') }, line(other), ghost]);
  clock.set('2026-03-02T12:00:00.000Z');
  const logger = createLogger({ destination: new Writable({ write: (_chunk, _enc, cb) => cb() }) });
  const app = createApp(tender, { auth: { secret: SECRET }, rateLimit: false, logger });
  const { server, url } = await listen(app);
  const token = (merchantId: string, scopes: string[]) => signToken({ secret: SECRET, merchantId, scopes });
  const call = async (method: string, path: string, init: { token: string; accept?: string; body?: unknown }) => {
    const headers: Record<string, string> = { authorization: `Bearer ${init.token}` };
    if (init.accept) headers.accept = init.accept;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${url}${path}`, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // CSV
    }
    return { status: response.status, headers: response.headers, body, text };
  };
  return {
    tender,
    gateway: gateway as TestGateway,
    events,
    p: { matched, short, unreported, other },
    call,
    token,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('GET /api/v1/admin/settlements', () => {
  let s: Awaited<ReturnType<typeof start>>;
  let reader: string;
  let writer: string;
  let platform: string;
  beforeAll(async () => {
    s = await start();
    reader = await s.token('m1', ['admin:read']);
    writer = await s.token('m1', ['admin:read', 'admin:write']);
    platform = await s.token('ops', ['admin:read', 'platform:admin']);
  });
  afterAll(() => s.close());

  it("runs the day's reconciliation on first read and answers the merchant's lines as JSON", async () => {
    const res = await s.call('GET', `/api/v1/admin/settlements?date=${DAY}&provider=test`, { token: reader });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'settlement_reconciliation', merchant_id: 'm1', gateway: 'test', date: DAY, version: 1 });
    const lines = Object.fromEntries((res.body.lines as Array<Record<string, string>>).map((l) => [l.payment_id, [l.classification, l.reason]]));
    expect(lines).toEqual({
      [s.p.matched.id]: ['matched', null],
      [s.p.short.id]: ['amount_mismatch', 'amount_differs'],
      [s.p.unreported.id]: ['missing_at_gateway', 'not_in_report'],
    });
    expect(res.body.counts).toEqual({ matched: 1, amount_mismatch: 1, missing_in_tender: 0, missing_at_gateway: 1, fee: 0, other: 0 });
    expect(res.body.totals).toEqual({ MYR: { gross_in: '29.50', gross_out: '0.00', fees: '0.00', net: '29.50' } });
    expect(res.body.lines.find((l: Record<string, string>) => l.payment_id === s.p.short.id)).toMatchObject({ reported_amount: '19.50', tender_amount: '20.00', direction: 'in', tender_status: 'CAPTURED' });
  });

  it('answers the stored run again (no new fetch, no new events) and as CSV with Accept: text/csv', async () => {
    const fetches = s.gateway.calls.fetchReport;
    const events = s.events.length;
    const json = await s.call('GET', `/api/v1/admin/settlements?date=${DAY}&provider=TEST`, { token: reader });
    const csv = await s.call('GET', `/api/v1/admin/settlements?date=${DAY}&provider=test`, { token: reader, accept: 'text/csv' });
    expect(s.gateway.calls.fetchReport).toBe(fetches);
    expect(s.events.length).toBe(events);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="settlement-test-${DAY}-v1.csv"`);
    const rows = csv.text.split('\r\n');
    expect(rows[0]).toBe(
      'line_id,classification,reason,type,merchant_id,gateway_reference,refund_reference,order_id,direction,reported_amount,reported_currency,reported_fee,tender_amount,tender_currency,tender_status,payment_id,refund_id,occurred_at',
    );
    expect(rows.at(-1)).toBe('');
    expect(rows).toHaveLength(json.body.lines.length + 2);
    const shortLine = json.body.lines.find((l: Record<string, string>) => l.payment_id === s.p.short.id);
    expect(rows).toContain(
      `${shortLine.line_id},amount_mismatch,amount_differs,payment,m1,${shortLine.gateway_reference},,,in,19.50,MYR,,20.00,MYR,CAPTURED,${s.p.short.id},,2026-03-01T09:00:00.000Z`,
    );
  });

  it('shows a platform admin the whole account (quoted and formula-escaped in CSV) or the merchant it names', async () => {
    const all = await s.call('GET', `/api/v1/admin/settlements?date=${DAY}&provider=test`, { token: platform, accept: 'text/csv' });
    expect(all.status).toBe(200);
    expect(all.text).toContain(`"bt_""odd"",1",missing_in_tender,unknown_reference,payment,,"'=HYPERLINK(""http://x"")",`);
    const m2 = await s.call('GET', `/api/v1/admin/settlements?date=${DAY}&provider=test&merchant_id=m2`, { token: platform });
    expect(m2.body.merchant_id).toBe('m2');
    expect(m2.body.lines.map((l: Record<string, string>) => [l.payment_id, l.classification])).toEqual([[s.p.other.id, 'matched']]);
    const named = await s.call('GET', `/api/v1/admin/settlements?date=${DAY}&provider=test&merchant_id=m2`, { token: reader });
    expect([named.status, named.body.error?.code ?? named.body.code]).toEqual([403, 'merchant_mismatch']);
  });

  it('re-runs with POST /reconcile (admin:write): version 2, the mismatches as events once more, version 1 kept', async () => {
    const before = s.events.length;
    const refused = await s.call('POST', '/api/v1/admin/settlements/reconcile', { token: reader, body: { date: DAY, provider: 'test' } });
    expect(refused.status).toBe(403);
    const refresh = await s.call('GET', `/api/v1/admin/settlements?date=${DAY}&provider=test&refresh=true`, { token: reader });
    expect(refresh.status).toBe(403);
    expect(s.events.length).toBe(before);
    const rerun = await s.call('POST', '/api/v1/admin/settlements/reconcile', { token: writer, body: { date: DAY, provider: 'test' } });
    expect(rerun.status).toBe(201);
    expect(rerun.body.version).toBe(2);
    const mine = s.events.slice(before);
    expect(mine.map((e) => e.paymentId).sort()).toEqual([s.p.short.id, s.p.unreported.id].sort());
    expect(mine.every((e) => (e.data.run as { id: string }).id === rerun.body.id && e.merchantId === 'm1')).toBe(true);
    expect((await s.tender.settlements.history({ gateway: 'test', date: DAY }, { merchantId: 'm1' })).map((r) => r.version)).toEqual([2, 1]);
    const latest = await s.call('GET', `/api/v1/admin/settlements?date=${DAY}&provider=test`, { token: reader });
    expect(latest.body.id).toBe(rerun.body.id);
  });

  it('publishes settlement.mismatch in the API shape (GET /events/:id)', async () => {
    const event = s.events.find((e) => e.paymentId === s.p.short.id)!;
    const res = await s.call('GET', `/api/v1/events/${event.id}`, { token: await s.token('m1', ['payments:read']) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'settlement.mismatch', merchant_id: 'm1', payment_id: s.p.short.id });
    const { delivery: _d, relay: _r, ...published } = res.body;
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(eventJsonSchemas().tender['settlement.mismatch'] as object);
    expect(validate(published), JSON.stringify(validate.errors)).toBe(true);
    expect(res.body.data).toMatchObject({
      run: { object: 'settlement_reconciliation', gateway: 'test', date: DAY },
      line: { classification: 'amount_mismatch', reported_amount: '19.50', tender_amount: '20.00', payment_id: s.p.short.id },
    });
  });

  it('refuses a bad date, an unknown provider, a gateway without settlement reports and a token without admin:read', async () => {
    const get = (query: string, token = reader) => s.call('GET', `/api/v1/admin/settlements?${query}`, { token });
    const codes = async (query: string, token?: string) => {
      const res = await get(query, token);
      return [res.status, res.body.error?.code ?? res.body.code, res.body.error?.param ?? res.body.param];
    };
    expect(await codes(`date=2026-02-30&provider=test`)).toEqual([400, 'invalid_date', 'date']);
    expect(await codes(`date=2099-01-01&provider=test`)).toEqual([400, 'invalid_date', 'date']);
    expect(await codes(`provider=test`)).toEqual([400, 'parameter_missing', 'date']);
    expect(await codes(`date=${DAY}&provider=NOPE`)).toEqual([400, 'unknown_provider', 'provider']);
    expect(await codes(`date=${DAY}&provider=plain`)).toEqual([400, 'settlements_not_supported', 'gateway']);
    expect(await codes(`date=${DAY}&provider=test&extra=1`)).toEqual([400, 'unknown_parameter', 'extra']);
    expect((await get(`date=${DAY}&provider=test`, await s.token('m1', ['payments:read']))).status).toBe(403);
  });
});
