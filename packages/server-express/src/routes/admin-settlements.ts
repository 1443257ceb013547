/**
 * The settlement report (seed 001's `GET /api/v1/admin/settlements?date&provider`): a gateway's report
 * of one day reconciled line by line against Tender's records by `tender.settlements`, as JSON or,
 * with `Accept: text/csv`, as CSV (RFC 4180: https://www.rfc-editor.org/rfc/rfc4180). `GET` answers
 * the stored run of the day and runs it first when there is none; `refresh=true` (needs `admin:write`)
 * and `POST /admin/settlements/reconcile` run it again (a new version, the older ones kept).
 *
 * Whose lines: a merchant admin token sees its merchant's lines (those whose reference is a Tender
 * record of that merchant); a platform admin names `merchant_id`, or names none and sees the whole
 * gateway account, lines no Tender record has included (see `SettlementOperations` in `@tender/core`).
 *
 * @module
 */
import { TenderError, type SettlementRun, type SettlementRunLine, type Tender } from '@tender/core';
import { stringify } from 'csv-stringify/sync';
import type { Request, Response, Router } from 'express';
import { adminMerchantScope, principalOf, requireScope } from '../auth';
import { stringQuery, type RouteContext } from './shared';

/** The seed's provider names (seed 001) and the gateway ids they stand for; a gateway id is accepted as is. */
const PROVIDER_ALIASES: Readonly<Record<string, string>> = { upi: 'upi', razorpay: 'upi', fiuu: 'fiuu', stripe: 'stripe', paypal: 'paypal' };

/** The CSV's columns, in order: one row per line, its fields as in the JSON `lines`. */
export const SETTLEMENT_CSV_COLUMNS = [
  'line_id',
  'classification',
  'reason',
  'type',
  'merchant_id',
  'gateway_reference',
  'refund_reference',
  'order_id',
  'direction',
  'reported_amount',
  'reported_currency',
  'reported_fee',
  'tender_amount',
  'tender_currency',
  'tender_status',
  'payment_id',
  'refund_id',
  'occurred_at',
] as const;

type LineJson = Record<(typeof SETTLEMENT_CSV_COLUMNS)[number], string | null>;

/** A run line in the API's shape (snake_case, flat: the same fields as a CSV row). */
export function settlementLineJson(line: SettlementRunLine): LineJson {
  return {
    line_id: line.lineId,
    classification: line.classification,
    reason: line.reason,
    type: line.type,
    merchant_id: line.merchantId,
    gateway_reference: line.gatewayReference,
    refund_reference: line.refundReference,
    order_id: line.orderId,
    direction: line.reported?.direction ?? null,
    reported_amount: line.reported?.amount ?? null,
    reported_currency: line.reported?.currency ?? null,
    reported_fee: line.reported?.fee ?? null,
    tender_amount: line.tender?.amount ?? null,
    tender_currency: line.tender?.currency ?? null,
    tender_status: line.tender?.status ?? null,
    payment_id: line.paymentId,
    refund_id: line.refundId,
    occurred_at: line.occurredAt,
  };
}

/** A run in the API's shape. */
export function settlementRunJson(run: SettlementRun): Record<string, unknown> {
  return {
    id: run.id,
    object: 'settlement_reconciliation',
    merchant_id: run.merchantId,
    gateway: run.gateway,
    date: run.date,
    version: run.version,
    created_at: run.createdAt,
    counts: run.counts,
    totals: Object.fromEntries(Object.entries(run.totals).map(([currency, t]) => [currency, { gross_in: t.grossIn, gross_out: t.grossOut, fees: t.fees, net: t.net }])),
    lines: run.lines.map(settlementLineJson),
  };
}

/** The run as CSV: a header row, then one row per line; CRLF line ends; cells a spreadsheet would run as formulas escaped. */
export function settlementRunCsv(run: SettlementRun): string {
  return stringify(
    run.lines.map((line) => {
      const row = settlementLineJson(line);
      return SETTLEMENT_CSV_COLUMNS.map((column) => row[column] ?? '');
    }),
    { header: true, columns: [...SETTLEMENT_CSV_COLUMNS], record_delimiter: 'windows', escape_formulas: true },
  );
}

/** The gateway a `provider` names (a seed alias or a configured gateway id, any case). */
function gatewayOf(tender: Tender, provider: string | undefined): string {
  if (provider === undefined || provider === '') {
    throw new TenderError({ type: 'invalid_request_error', code: 'parameter_missing', message: 'provider is required (UPI, FIUU, STRIPE, PAYPAL or a gateway id)', param: 'provider' });
  }
  const lower = provider.toLowerCase();
  const id = tender.gateways.has(provider) ? provider : (PROVIDER_ALIASES[lower] ?? lower);
  if (!tender.gateways.has(id)) {
    throw new TenderError({ type: 'invalid_request_error', code: 'unknown_provider', message: `No gateway '${provider.slice(0, 64)}' is configured`, param: 'provider' });
  }
  return id;
}

function dateOf(date: unknown): string {
  if (typeof date !== 'string' || date === '') {
    throw new TenderError({ type: 'invalid_request_error', code: 'parameter_missing', message: 'date is required (YYYY-MM-DD)', param: 'date' });
  }
  return date;
}

/** CSV when the caller asks for it (`Accept: text/csv` preferred over JSON), else JSON. */
function send(req: Request, res: Response, run: SettlementRun, status = 200): void {
  if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
    res
      .status(status)
      .type('text/csv; charset=utf-8; header=present')
      .setHeader('Content-Disposition', `attachment; filename="settlement-${run.gateway}-${run.date}-v${run.version}.csv"`)
      .send(settlementRunCsv(run));
    return;
  }
  res.status(status).json(settlementRunJson(run));
}

const KNOWN_QUERY = new Set(['date', 'provider', 'merchant_id', 'refresh']);

function checkedQuery(req: Request): Record<string, string> {
  const query = stringQuery(req);
  for (const key of Object.keys(query)) {
    if (!KNOWN_QUERY.has(key)) throw new TenderError({ type: 'invalid_request_error', code: 'unknown_parameter', message: `Unknown query parameter '${key.slice(0, 64)}'`, param: key });
  }
  if (query.refresh !== undefined && query.refresh !== 'true' && query.refresh !== 'false') {
    throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: 'refresh must be true or false', param: 'refresh' });
  }
  return query;
}

/** Adds the settlement report routes to the authenticated API router. */
export function adminSettlementRoutes(api: Router, { tender, need }: RouteContext): void {
  api.get('/admin/settlements', need('admin:read'), async (req, res) => {
    const query = checkedQuery(req);
    const refresh = query.refresh === 'true';
    // A refresh writes (a new run, its events): it takes the write scope.
    if (refresh) requireScope(principalOf(req), 'admin:write');
    const merchantId = adminMerchantScope(principalOf(req), query.merchant_id) ?? null;
    const run = await tender.settlements.get({ gateway: gatewayOf(tender, query.provider), date: dateOf(query.date) }, { merchantId, refresh });
    send(req, res, run);
  });

  api.post('/admin/settlements/reconcile', need('admin:write'), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: 'The body must be a JSON object' });
    }
    for (const key of Object.keys(body)) {
      if (!['date', 'provider', 'merchant_id'].includes(key)) {
        throw new TenderError({ type: 'invalid_request_error', code: 'unknown_parameter', message: `Unknown field '${key.slice(0, 64)}'`, param: key });
      }
      if (typeof body[key] !== 'string') throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: `${key} must be a string`, param: key });
    }
    const merchantId = adminMerchantScope(principalOf(req), body.merchant_id as string | undefined) ?? null;
    const run = await tender.settlements.reconcile({ gateway: gatewayOf(tender, body.provider as string | undefined), date: dateOf(body.date) }, { merchantId });
    send(req, res, run, 201);
  });
}

/**
 * A `settlement.mismatch` event's data in the API's shape: the run it was found in (`id`, `version`,
 * `gateway`, `date`, `merchant_id`) and the line, as in the report's `lines`. A consumer that wants
 * each mismatch once across re-runs keys it by (`gateway`, `date`, `line.line_id`).
 */
export function settlementEventJson(data: Record<string, unknown>): Record<string, unknown> {
  const { run, line } = data as { run: Pick<SettlementRun, 'id' | 'merchantId' | 'gateway' | 'date' | 'version'>; line: SettlementRunLine };
  return {
    run: { id: run.id, object: 'settlement_reconciliation', merchant_id: run.merchantId, gateway: run.gateway, date: run.date, version: run.version },
    line: settlementLineJson(line),
  };
}
