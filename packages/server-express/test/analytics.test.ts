import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTender, PAYMENT_STATUSES, type PaymentStatus } from '@tender/core';
import { ANALYTICS_DAY0, MemoryStore, createTestGateway, expectedAggregates, writeAnalyticsData, type PlannedPayment } from '@tender/core/testing';
import { signToken } from '@tender/server-express';
import { Writable } from 'node:stream';
import { createApp } from '../src/app';
import { createLogger } from '../src/logging';
import { PAYMENT_ANALYTICS_SCHEMA } from '../src/openapi-analytics';
import { SECRET, listen } from './helpers';

const FROM = new Date(ANALYTICS_DAY0).toISOString().slice(0, 10);
const TO = new Date(ANALYTICS_DAY0 + 3 * 86_400_000).toISOString().slice(0, 10);
const A = 'm_analytics_a';
const B = 'm_analytics_b';

describe('GET /api/v1/admin/analytics/payments', () => {
  let plan: PlannedPayment[];
  let url: string;
  let close: () => void;
  const tokens: Record<string, string> = {};
  const get = async (query: string, token: string) => {
    const response = await fetch(`${url}/api/v1/admin/analytics/payments?${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as any };
  };
  /** Payments of the plan for `merchant` (every merchant when undefined) created in the three days. */
  const planned = (merchant?: string) => plan.filter((p) => merchant === undefined || p.merchantId === merchant);

  beforeAll(async () => {
    const store = new MemoryStore();
    plan = await writeAnalyticsData(store, 120);
    const tender = createTender({ gateways: [createTestGateway({ id: 'test' })], store });
    const logger = createLogger({ destination: new Writable({ write: (_chunk, _enc, cb) => cb() }) });
    const listening = await listen(createApp(tender, { auth: { secret: SECRET }, rateLimit: false, logger }));
    url = listening.url;
    close = () => {
      listening.server.closeAllConnections();
      listening.server.close();
    };
    const token = (merchantId: string, scopes: string[]) => signToken({ secret: SECRET, merchantId, scopes });
    tokens.merchant = await token(A, ['payments:read', 'payments:write', 'refunds:write']);
    tokens.adminA = await token(A, ['admin:read']);
    tokens.platform = await token('ops', ['admin:read', 'platform:admin']);
    tokens.platformWithoutRead = await token('ops', ['platform:admin']);
  });
  afterAll(() => close());

  it('needs admin:read: a merchant token and a platform admin without it are 403', async () => {
    for (const token of [tokens.merchant!, tokens.platformWithoutRead!]) {
      const res = await get(`from=${FROM}&to=${TO}`, token);
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
    }
  });

  it("answers a merchant admin its own merchant's figures, and refuses another merchant", async () => {
    const own = await get(`from=${FROM}&to=${TO}`, tokens.adminA!);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ object: 'payment_analytics', merchant_id: A, group_by: null, groups: [], from: `${FROM}T00:00:00.000Z`, to: `${TO}T00:00:00.000Z` });
    expect(own.body.totals.payments).toBe(planned(A).length);
    expect((await get(`from=${FROM}&to=${TO}&merchant_id=${A}`, tokens.adminA!)).body.totals).toEqual(own.body.totals);
    const other = await get(`from=${FROM}&to=${TO}&merchant_id=${B}`, tokens.adminA!);
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ code: 'merchant_mismatch', param: 'merchant_id' });
  });

  it("answers a platform admin every merchant's figures, or the one it names", async () => {
    const all = await get(`from=${FROM}&to=${TO}`, tokens.platform!);
    expect(all.status).toBe(200);
    expect(all.body.merchant_id).toBeNull();
    expect(all.body.totals.payments).toBe(planned().length);
    const b = await get(`from=${FROM}&to=${TO}&merchant_id=${B}`, tokens.platform!);
    expect(b.body.merchant_id).toBe(B);
    expect(b.body.totals.payments).toBe(planned(B).length);
    expect(planned(B).length).toBeGreaterThan(0);
  });

  it('figures match the hand-computed sums of the data: statuses, revenue and refunds per currency as decimal strings', async () => {
    const [expected] = expectedAggregates(plan, { merchantId: A, from: `${FROM}T00:00:00.000Z`, to: `${TO}T00:00:00.000Z` });
    const { body } = await get(`from=${FROM}&to=${TO}`, tokens.adminA!);
    const statuses = Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, expected!.statuses[s as PaymentStatus] ?? 0]));
    expect(body.totals.statuses).toEqual(statuses);
    expect(body.totals.revenue).toEqual(expected!.captured);
    expect(body.totals.refunds).toEqual(expected!.refunded);
    for (const amount of [...Object.values(body.totals.revenue), ...Object.values(body.totals.refunds)]) expect(amount).toMatch(/^\d+(\.\d+)?$/);
    expect(body.totals.success_rate.rate).toMatch(/^[01]\.\d{4}$/);
    expect(body.totals.processing_time_ms.count).toBe(planned(A).filter((p) => p.processingMs !== null).length);
    expect(body.totals.top_decline_codes.reduce((n: number, d: { count: number }) => n + d.count, 0)).toBe(statuses.FAILED);
  });

  for (const groupBy of ['gateway', 'method', 'currency', 'day'] as const) {
    it(`group_by=${groupBy} answers the same figures per group, ordered by key, and the same totals`, async () => {
      const whole = await get(`from=${FROM}&to=${TO}`, tokens.adminA!);
      const grouped = await get(`from=${FROM}&to=${TO}&group_by=${groupBy}`, tokens.adminA!);
      expect(grouped.status).toBe(200);
      expect(grouped.body.group_by).toBe(groupBy);
      expect(grouped.body.totals).toEqual(whole.body.totals);
      const expected = expectedAggregates(plan, { merchantId: A, from: `${FROM}T00:00:00.000Z`, to: `${TO}T00:00:00.000Z`, groupBy });
      expect(grouped.body.groups.map((g: { key: string; payments: number }) => [g.key, g.payments])).toEqual(
        expected.map((g) => [g.group, Object.values(g.statuses).reduce((n, c) => n + (c ?? 0), 0)]),
      );
      for (const group of grouped.body.groups) expect(Object.keys(group).sort()).toEqual(['key', ...Object.keys(whole.body.totals)].sort());
    });
  }

  it('refuses a bad query with a 400 naming the parameter', async () => {
    const cases: Array<[string, string, string]> = [
      [`to=${TO}`, 'from', 'parameter_missing'],
      [`from=yesterday&to=${TO}`, 'from', 'parameter_invalid'],
      [`from=${FROM}&to=2026-02-30`, 'to', 'parameter_invalid'],
      [`from=${TO}&to=${FROM}`, 'to', 'parameter_invalid'],
      [`from=2025-01-01&to=2026-03-01`, 'to', 'parameter_invalid'],
      [`from=${FROM}&to=${TO}&group_by=hour`, 'group_by', 'parameter_invalid'],
      [`from=${FROM}&to=${TO}&merchant_id=${encodeURIComponent('a b')}`, 'merchant_id', 'parameter_invalid'],
      [`from=${FROM}&to=${TO}&currency=MYR`, 'currency', 'unknown_parameter'],
      [`from=${FROM}&from=${FROM}&to=${TO}`, 'from', 'parameter_invalid'],
    ];
    for (const [query, param, code] of cases) {
      const res = await get(query, tokens.platform!);
      expect(res.status, query).toBe(400);
      expect(res.body.error, query).toMatchObject({ type: 'invalid_request_error', code, param });
    }
  });

  it('answers bodies, grouped or not, valid against the documented schema, as is its example', async () => {
    const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(PAYMENT_ANALYTICS_SCHEMA);
    for (const query of [`from=${FROM}&to=${TO}`, `from=${FROM}&to=${TO}&group_by=method`, `from=${FROM}T06:30:00Z&to=${TO}&group_by=day`]) {
      const { body } = await get(query, tokens.platform!);
      expect(validate(body) ? [] : validate.errors, query).toEqual([]);
    }
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as any;
    const example = doc.paths['/api/v1/admin/analytics/payments'].get.responses['200'].content['application/json'].examples.day.value;
    expect(validate(example) ? [] : validate.errors).toEqual([]);
  });

  it('is in the REST reference under admin:read with its error codes', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as any;
    const operation = doc.paths['/api/v1/admin/analytics/payments'].get;
    expect(operation.security).toEqual([{ bearer: ['admin:read'] }]);
    expect(JSON.stringify(operation.responses['400'])).toContain('analytics_not_supported');
    expect(JSON.stringify(operation.responses['403'])).toContain('merchant_mismatch');
  });
});
