/**
 * The OpenAPI path item of payment analytics (`routes/admin-analytics.ts`): its schema, the exact
 * definition of every figure, and an example. `openapi.ts` adds it to the document and its error
 * codes to the operation.
 *
 * @module
 */
import { PAYMENT_STATUSES } from '@tender/core';

type Json = Record<string, unknown>;

const decimal = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$', description: 'Decimal string in major units, with the currency\'s decimals' };
const perCurrency = (description: string): Json => ({ type: 'object', description, additionalProperties: decimal, propertyNames: { pattern: '^[A-Z]{3}$' } });
const count = { type: 'integer', minimum: 0 };
const RATE: Json = {
  type: 'object',
  required: ['rate', 'count', 'of'],
  properties: {
    rate: { type: ['string', 'null'], pattern: '^[01]\\.[0-9]{4}$', description: '`count / of` to 4 decimal places (half up), as a string, never a float; null when `of` is 0' },
    count,
    of: count,
  },
};

/** The definitions, as the figures' TSDoc (`PaymentAnalyticsFigures` in `@tender/core`) states them. */
const DEFINITIONS = [
  'Every figure is about the payments **created** in `[from, to)`, counted as they are now (current status, everything captured or refunded on them so far).',
  '- `attempts`: payments that reached an outcome: current status `AUTHORIZED`, `CAPTURED`, `PARTIALLY_REFUNDED`, `REFUNDED`, `FAILED`, `CANCELLED` or `EXPIRED`. Payments still in flight (`PENDING`, `REQUIRES_REVIEW`, `REQUIRES_ACTION`, `PROCESSING`) appear in `statuses` only.',
  '- `success_rate`: payments captured or later (`CAPTURED`, `PARTIALLY_REFUNDED`, `REFUNDED`) of `attempts`.',
  '- `authorization_rate`: payments authorised or later (`AUTHORIZED` and the three above) of `attempts`; a voided or expired authorisation counts as not authorised.',
  '- `revenue`: per currency, the sum captured on them; `refunds`: per currency, their refunds that `SUCCEEDED`. Money is never summed across currencies.',
  '- `processing_time_ms`: creation to the first transition to `AUTHORIZED` or `CAPTURED`, over the payments that have one; nearest-rank p50 and p95, read at two significant digits (1234 ms is reported as 1300; under 100 ms exactly).',
  '- `top_decline_codes`: `FAILED` payments by the issuer\'s decline code when the gateway gave one (Stripe `decline_code`), else the failure code; the 10 most frequent.',
  '- `disputes`: disputes opened in the window (the gateway\'s time), with their amounts per currency; null when the store keeps no dispute records.',
  'With `group_by`, `groups` holds the same figures per gateway, payment method (`none` for payments without one), currency or UTC day of creation, ordered by `key`; `totals` is the whole window.',
  'A merchant admin token (`admin:read`) sees its own merchant; a platform admin (`platform:admin`) names `merchant_id`, or names none for every merchant.',
].join('\n');

const FIGURES: Json = {
  type: 'object',
  required: ['payments', 'statuses', 'attempts', 'success_rate', 'authorization_rate', 'revenue', 'refunds', 'processing_time_ms', 'top_decline_codes', 'disputes'],
  properties: {
    payments: { ...count, description: 'Payments created in the window' },
    statuses: { type: 'object', description: 'Payments by current status (every status present)', required: [...PAYMENT_STATUSES], properties: Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, count])) },
    attempts: { ...count, description: 'Payments that reached an outcome (see the definitions)' },
    success_rate: RATE,
    authorization_rate: RATE,
    revenue: perCurrency('Captured, per currency'),
    refunds: perCurrency('Succeeded refunds, per currency'),
    processing_time_ms: {
      type: 'object',
      required: ['p50', 'p95', 'count'],
      properties: { p50: { type: ['integer', 'null'] }, p95: { type: ['integer', 'null'] }, count: { ...count, description: 'Payments timed' } },
    },
    top_decline_codes: { type: 'array', maxItems: 10, items: { type: 'object', required: ['code', 'count'], properties: { code: { type: 'string' }, count } } },
    disputes: { type: ['object', 'null'], required: ['count', 'amount'], properties: { count, amount: perCurrency('Disputed, per currency') } },
  },
};

/** The answer of `GET /api/v1/admin/analytics/payments`. */
export const PAYMENT_ANALYTICS_SCHEMA: Json = {
  type: 'object',
  required: ['object', 'from', 'to', 'merchant_id', 'group_by', 'totals', 'groups'],
  properties: {
    object: { const: 'payment_analytics' },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time', description: 'Exclusive' },
    merchant_id: { type: ['string', 'null'], description: 'null: every merchant (a platform admin)' },
    group_by: { enum: ['gateway', 'method', 'currency', 'day', null] },
    totals: FIGURES,
    groups: { type: 'array', items: { allOf: [FIGURES, { type: 'object', required: ['key'], properties: { key: { type: 'string' } } }] } },
  },
};

const figuresExample = {
  payments: 7,
  statuses: { ...Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, 0])), CAPTURED: 3, AUTHORIZED: 1, FAILED: 2, REQUIRES_ACTION: 1 },
  attempts: 6,
  success_rate: { rate: '0.5000', count: 3, of: 6 },
  authorization_rate: { rate: '0.6667', count: 4, of: 6 },
  revenue: { JPY: '1200', MYR: '150.50' },
  refunds: { JPY: '200' },
  processing_time_ms: { p50: 400, p95: 3000, count: 4 },
  top_decline_codes: [
    { code: 'bank_declined', count: 1 },
    { code: 'insufficient_funds', count: 1 },
  ],
  disputes: { count: 0, amount: {} },
};

const query = (name: string, required: boolean, schema: Json, description: string): Json => ({ name, in: 'query', required, description, schema });

/** The analytics path item, keyed by path. */
export function analyticsPaths(): Record<string, Json> {
  return {
    '/api/v1/admin/analytics/payments': {
      get: {
        operationId: 'getPaymentAnalytics',
        summary: 'Payment analytics of a window: counts by status, success and authorisation rates, revenue and refunds per currency, processing times, decline codes, disputes',
        description: DEFINITIONS,
        security: [{ bearer: ['admin:read'] }],
        parameters: [
          query('from', true, { type: 'string' }, 'Inclusive: a date `YYYY-MM-DD` (00:00 UTC) or an ISO 8601 instant with a zone'),
          query('to', true, { type: 'string' }, 'Exclusive: a date (00:00 UTC of that day, so `to=2026-04-01` ends with 31 March) or an instant; at most 366 days after `from`'),
          query('group_by', false, { enum: ['gateway', 'method', 'currency', 'day'] }, 'The same figures per group as well'),
          query('merchant_id', false, { type: 'string' }, 'A platform admin: the merchant (none: every merchant). Others: their own merchant only'),
        ],
        responses: {
          '200': {
            description: 'The figures',
            content: {
              'application/json': {
                schema: PAYMENT_ANALYTICS_SCHEMA,
                examples: {
                  day: {
                    summary: 'One merchant, one day',
                    value: { object: 'payment_analytics', from: '2026-04-01T00:00:00.000Z', to: '2026-04-02T00:00:00.000Z', merchant_id: 'merchant_123', group_by: null, totals: figuresExample, groups: [] },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}
