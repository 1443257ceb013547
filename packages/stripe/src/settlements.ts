/**
 * Stripe's balance transactions as Gateway spec v1 `settlements`: every balance transaction created on
 * the UTC day, `GET /v1/balance_transactions?created[gte]&created[lt]&limit=100&expand[]=data.source`
 * with cursor pagination (https://docs.stripe.com/api/balance_transactions/list,
 * https://docs.stripe.com/api/pagination). The expanded `source` (a Charge, Refund or Dispute) names
 * the PaymentIntent, which is what the Stripe gateway stores as a payment's `gatewayReference`.
 *
 * `amount` is signed on the wire (+ money in, − money out) and becomes a magnitude and a direction;
 * `fee` is positive, `net = amount − fee`. Types map as Stripe's `type` and `reporting_category` say
 * (https://docs.stripe.com/reports/reporting-categories).
 *
 * @module
 */
import { invalidRequest, TenderError } from '@tender/core';
import type { GatewayCallContext, GatewaySettlementsV1, SettlementLine, SettlementLineType, SettlementReportInput } from '@tender/core';
import { z } from 'zod';
import { fromStripeAmount } from './amounts';
import { unusableAnswer } from './schemas';
import type { StripeRequester } from './stripe-requests';
import { stripeErrorToTenderError } from './transformers';
import type { StripeErrorObject } from './stripe-types';

/** Options of {@link stripeSettlements}. */
export interface StripeSettlementsOptions {
  /** Balance transactions per page, 1–100 (default 100, Stripe's maximum). */
  pageSize?: number;
}

/** Pages read at most for one day: a bound against a list that never ends. */
const MAX_PAGES = 10_000;

const Source = z.looseObject({ id: z.string(), object: z.string(), payment_intent: z.string().nullable().optional(), charge: z.union([z.string(), z.looseObject({ id: z.string() })]).nullable().optional() });
const BalanceTransaction = z.looseObject({
  id: z.string(),
  object: z.literal('balance_transaction'),
  amount: z.number().int(),
  available_on: z.number().int(),
  created: z.number().int(),
  currency: z.string(),
  fee: z.number().int(),
  net: z.number().int(),
  reporting_category: z.string(),
  source: z.union([z.string(), Source]).nullable(),
  status: z.string(),
  type: z.string(),
});
const Page = z.looseObject({ object: z.literal('list'), data: z.array(z.unknown()), has_more: z.boolean() });

/** `YYYY-MM-DD` -> the UTC day's `[start, end)` in unix seconds. */
function utcDay(date: unknown): [number, number] {
  const day = typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) ? new Date(`${date}T00:00:00Z`) : null;
  if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== date) {
    throw invalidRequest('invalid_date', 'date must be a calendar day written YYYY-MM-DD', 'date');
  }
  const start = day.getTime() / 1000;
  return [start, start + 86_400];
}

/** Which kind of line a balance transaction is. */
export function stripeLineType(type: string, reportingCategory: string): SettlementLineType {
  if (reportingCategory === 'dispute' || reportingCategory === 'dispute_reversal') return 'dispute';
  switch (type) {
    case 'charge':
    case 'payment':
      return 'payment';
    case 'refund':
    case 'payment_refund':
    case 'refund_failure':
    case 'payment_failure_refund':
      return 'refund';
    case 'payout':
    case 'payout_cancel':
    case 'payout_failure':
      return 'payout';
    case 'stripe_fee':
    case 'stripe_fx_fee':
    case 'tax_fee':
    case 'application_fee':
      return 'fee';
    default:
      return 'adjustment';
  }
}

/** Maps one balance transaction (with `source` expanded, or not) to a line. */
export function stripeSettlementLine(raw: unknown): SettlementLine {
  const parsed = BalanceTransaction.safeParse(raw);
  if (!parsed.success) throw unusableAnswer('settlement_report', parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`), false);
  const t = parsed.data;
  const type = stripeLineType(t.type, t.reporting_category);
  const source = typeof t.source === 'object' ? t.source : null;
  const sourceId = typeof t.source === 'string' ? t.source : (source?.id ?? null);
  // Charges, refunds and disputes all carry payment_intent: the gatewayReference Tender stored.
  const gatewayReference = source?.payment_intent ?? (sourceId?.startsWith('pi_') ? sourceId : null);
  const money = (minor: number) => fromStripeAmount(Math.abs(minor), t.currency);
  return {
    lineId: t.id,
    type,
    gatewayReference: type === 'payout' ? null : gatewayReference,
    refundReference: type === 'refund' && sourceId?.startsWith('re_') ? sourceId : null,
    orderId: null,
    amount: money(t.amount),
    direction: t.amount < 0 ? 'out' : 'in',
    fee: money(t.fee),
    net: money(t.net),
    occurredAt: new Date(t.created * 1000).toISOString(),
    settledAt: new Date(t.available_on * 1000).toISOString(),
    settlementId: type === 'payout' ? sourceId : null,
    gatewayStatus: t.status,
  };
}

/** The `settlements` member of the Stripe gateway, over its requester. */
export function stripeSettlements(requester: StripeRequester, options: StripeSettlementsOptions = {}): GatewaySettlementsV1 {
  const pageSize = options.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw invalidRequest('invalid_configuration', 'pageSize must be 1-100', 'pageSize');
  return {
    async fetchReport(input: SettlementReportInput, ctx: GatewayCallContext): Promise<SettlementLine[]> {
      const [start, end] = utcDay(input?.date);
      const lines: SettlementLine[] = [];
      let startingAfter: string | undefined;
      for (let n = 0; n < MAX_PAGES; n++) {
        const res = await requester.send(
          'GET',
          'balance_transactions',
          { created: { gte: start, lt: end }, limit: pageSize, expand: ['data.source'], ...(startingAfter ? { starting_after: startingAfter } : {}) },
          { operation: 'settlement_report', ...(ctx.signal ? { signal: ctx.signal } : {}) },
        );
        if (res.status < 200 || res.status >= 300) {
          throw stripeErrorToTenderError((res.json as { error?: StripeErrorObject } | undefined)?.error, { status: res.status, headers: res.headers, mutating: false, operation: 'settlement_report' });
        }
        const page = Page.safeParse(res.json);
        if (!page.success) throw unusableAnswer('settlement_report', ['the answer is not a list'], false);
        const items = page.data.data.map(stripeSettlementLine);
        lines.push(...items);
        if (!page.data.has_more || items.length === 0) return lines;
        startingAfter = items[items.length - 1]!.lineId;
      }
      throw new TenderError({ type: 'gateway_error', code: 'settlement_report_too_long', message: `Stripe listed more than ${MAX_PAGES} pages of balance transactions for ${input.date}` });
    },
  };
}
