/**
 * The OpenAPI path items of the settlement report (`routes/admin-settlements.ts`): its schemas and
 * examples. `openapi.ts` adds them to the document and their error codes to each operation.
 *
 * @module
 */
import { SETTLEMENT_CLASSIFICATIONS } from '@tender/core';
import { z } from 'zod';
import { SETTLEMENT_CSV_COLUMNS } from './routes/admin-settlements';

type Json = Record<string, unknown>;

const decimal = { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$', description: 'Decimal string in major units' };
const nullableString = { type: ['string', 'null'] };

const LINE_SCHEMA: Json = {
  type: 'object',
  description: 'One line of the report (or, for `missing_at_gateway`, a Tender record the report lacks), classified',
  required: [...SETTLEMENT_CSV_COLUMNS],
  properties: {
    ...Object.fromEntries(SETTLEMENT_CSV_COLUMNS.map((c) => [c, nullableString])),
    line_id: { type: 'string', description: "The gateway's line id; `tender:<payment or refund id>` for a missing_at_gateway line" },
    classification: { enum: [...SETTLEMENT_CLASSIFICATIONS] },
    type: { enum: ['payment', 'refund', 'dispute', 'fee', 'adjustment', 'payout'] },
    direction: { enum: ['in', 'out', null], description: 'Which way the reported amount moved (null when the report lacks the line)' },
  },
};

/** A stored reconciliation run. */
export const SETTLEMENT_RUN_SCHEMA: Json = {
  type: 'object',
  required: ['id', 'object', 'merchant_id', 'gateway', 'date', 'version', 'created_at', 'counts', 'totals', 'lines'],
  properties: {
    id: { type: 'string' },
    object: { const: 'settlement_reconciliation' },
    merchant_id: { type: ['string', 'null'], description: "The merchant whose lines these are; null: the whole gateway account (a platform admin's view)" },
    gateway: { type: 'string' },
    date: { type: 'string', format: 'date' },
    version: { type: 'integer', minimum: 1, description: 'A re-run adds a version; older versions are kept' },
    created_at: { type: 'string', format: 'date-time' },
    counts: { type: 'object', required: [...SETTLEMENT_CLASSIFICATIONS], properties: Object.fromEntries(SETTLEMENT_CLASSIFICATIONS.map((c) => [c, { type: 'integer', minimum: 0 }])) },
    totals: {
      type: 'object',
      description: 'By currency (never summed across currencies): what the report said',
      additionalProperties: { type: 'object', required: ['gross_in', 'gross_out', 'fees', 'net'], properties: { gross_in: decimal, gross_out: decimal, fees: decimal, net: decimal } },
    },
    lines: { type: 'array', items: LINE_SCHEMA },
  },
};

const SAMPLE_RUN: Json = {
  id: 'stl_01JQF7A2B3C4D5E6F7G8H9J0K1',
  object: 'settlement_reconciliation',
  merchant_id: 'merchant_123',
  gateway: 'stripe',
  date: '2026-03-01',
  version: 1,
  created_at: '2026-03-02T01:00:00.000Z',
  counts: { matched: 1, amount_mismatch: 1, missing_in_tender: 0, missing_at_gateway: 0, fee: 0, other: 0 },
  totals: { USD: { gross_in: '44.50', gross_out: '0.00', fees: '1.59', net: '42.91' } },
  lines: [
    {
      line_id: 'txn_3OgYcN2eZvKYlo2C0vX1',
      classification: 'matched',
      reason: null,
      type: 'payment',
      merchant_id: 'merchant_123',
      gateway_reference: 'pi_3OgYcN2eZvKYlo2C1abc',
      refund_reference: null,
      order_id: null,
      direction: 'in',
      reported_amount: '25.00',
      reported_currency: 'USD',
      reported_fee: '1.03',
      tender_amount: '25.00',
      tender_currency: 'USD',
      tender_status: 'CAPTURED',
      payment_id: 'pay_01JQF2A1B2C3D4E5F6G7H8J9K0',
      refund_id: null,
      occurred_at: '2026-03-01T09:12:00.000Z',
    },
    {
      line_id: 'txn_3OgYdR2eZvKYlo2C0vX2',
      classification: 'amount_mismatch',
      reason: 'amount_differs',
      type: 'payment',
      merchant_id: 'merchant_123',
      gateway_reference: 'pi_3OgYdR2eZvKYlo2C1def',
      refund_reference: null,
      order_id: null,
      direction: 'in',
      reported_amount: '19.50',
      reported_currency: 'USD',
      reported_fee: '0.56',
      tender_amount: '20.00',
      tender_currency: 'USD',
      tender_status: 'CAPTURED',
      payment_id: 'pay_01JQF2B7C8D9E0F1G2H3J4K5M6',
      refund_id: null,
      occurred_at: '2026-03-01T10:40:00.000Z',
    },
  ],
};

const CSV_EXAMPLE = `${SETTLEMENT_CSV_COLUMNS.join(',')}\r\ntxn_3OgYdR2eZvKYlo2C0vX2,amount_mismatch,amount_differs,payment,merchant_123,pi_3OgYdR2eZvKYlo2C1def,,,in,19.50,USD,0.56,20.00,USD,CAPTURED,pay_01JQF2B7C8D9E0F1G2H3J4K5M6,,2026-03-01T10:40:00.000Z\r\n`;

const DESCRIPTION =
  "The gateway's report of the day (`provider`: UPI, RAZORPAY, FIUU, STRIPE, PAYPAL or a gateway id) matched line by line against Tender's payments and refunds: `matched`, `amount_mismatch`, `missing_in_tender` (the gateway has money Tender has no record of, or whose record says none moved), `missing_at_gateway` (a payment captured or refund succeeded that day, by Tender's audit trail in UTC, that the report lacks, and the next day's report too: a one-day settlement lag), `fee`, `other` (disputes, adjustments, payouts). A line is a merchant's when its reference is a Tender record of that merchant; a platform admin (`platform:admin`) names `merchant_id`, or names none for the whole account, unattributed lines included. Each mismatch is a `settlement.mismatch` event once per run. `Accept: text/csv` answers CSV (RFC 4180, a header row, one row per line, formula-like cells escaped).";

const runResponse = (description: string): Json => ({
  description,
  content: {
    'application/json': { schema: SETTLEMENT_RUN_SCHEMA, examples: { run: { summary: 'A day with one amount mismatch', value: SAMPLE_RUN } } },
    'text/csv': { schema: { type: 'string' }, examples: { csv: { summary: 'The same run as CSV (one line shown)', value: CSV_EXAMPLE } } },
  },
});

const query = (name: string, required: boolean, schema: Json, description: string): Json => ({ name, in: 'query', required, description, schema });

/** The settlement report's path items, keyed by path. */
export function settlementPaths(): Record<string, Json> {
  return {
    '/api/v1/admin/settlements': {
      get: {
        operationId: 'getSettlementReport',
        summary: "The settlement reconciliation of a gateway's day (run on first read)",
        description: `${DESCRIPTION} The stored run is answered; with none stored, it is run first. \`refresh=true\` runs it again (a new version) and needs \`admin:write\`.`,
        security: [{ bearer: ['admin:read'] }],
        parameters: [
          query('date', true, { type: 'string', format: 'date' }, "The gateway's reporting day, YYYY-MM-DD"),
          query('provider', true, { type: 'string' }, 'UPI, RAZORPAY, FIUU, STRIPE, PAYPAL or a configured gateway id (any case)'),
          query('merchant_id', false, { type: 'string' }, 'A platform admin: the merchant whose lines to show (none: the whole account). Others: their own merchant only'),
          query('refresh', false, { enum: ['true', 'false'] }, 'Run the reconciliation again (needs admin:write)'),
        ],
        responses: { '200': runResponse('The newest stored run of the day') },
      },
    },
    '/api/v1/admin/settlements/reconcile': {
      post: {
        operationId: 'reconcileSettlements',
        summary: "Run a gateway's day's reconciliation again (a new version)",
        description: DESCRIPTION,
        security: [{ bearer: ['admin:write'] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['date', 'provider'],
                additionalProperties: false,
                properties: { date: { type: 'string', format: 'date' }, provider: { type: 'string' }, merchant_id: { type: 'string' } },
              },
              examples: { rerun: { summary: "Reconcile Stripe's 1 March again", value: { date: '2026-03-01', provider: 'STRIPE' } } },
            },
          },
        },
        responses: { '201': runResponse('The new run') },
      },
    },
  };
}

/**
 * The data of a `settlement.mismatch` event (zod, for the event schemas): the run the mismatch was
 * found in and the line, as the report's `lines` has it.
 */
export const SettlementMismatchData = z
  .object({
    run: z.object({
      id: z.string(),
      object: z.literal('settlement_reconciliation'),
      merchant_id: z.string().nullable().describe('null: the whole gateway account'),
      gateway: z.string(),
      date: z.string().describe("The gateway's reporting day, YYYY-MM-DD"),
      version: z.number().int().min(1),
    }),
    line: z
      .object(Object.fromEntries(SETTLEMENT_CSV_COLUMNS.map((c) => [c, z.string().nullable()])) as Record<(typeof SETTLEMENT_CSV_COLUMNS)[number], z.ZodNullable<z.ZodString>>)
      .extend({ line_id: z.string(), classification: z.enum(['amount_mismatch', 'missing_in_tender', 'missing_at_gateway']) }),
  })
  .describe('The reconciliation run (id, version, gateway, date) and the mismatched line; key a mismatch across re-runs by (gateway, date, line.line_id)');
