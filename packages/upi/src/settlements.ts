/**
 * Razorpay's settlement reconciliation as Gateway spec v1 `settlements`:
 * `GET /v1/settlements/recon/combined?year&month&day&count&skip` (https://razorpay.com/docs/api/settlements/fetch-recon/),
 * every payment, refund, transfer and adjustment settled on the day, paged by `count` / `skip`. The
 * day is a UTC day (Razorpay's docs name no time zone for it).
 *
 * Item fields: `entity_id` (`pay_…` for a payment: what the UPI gateway stores as `gatewayReference`;
 * `rfnd_…` for a refund, whose `payment_id` names the payment), `type`, `amount` (paise), `fee`
 * (Razorpay's fee, GST included; `tax` is that GST), `credit` / `debit` (what reached or left the
 * merchant's balance: the net), `settlement_id`, `settled_at`, `dispute_id`.
 *
 * @module
 */
import { invalidRequest, Money, TenderError } from '@tender/core';
import type { GatewayCallContext, GatewaySettlementsV1, SettlementLine, SettlementLineType, SettlementReportInput } from '@tender/core';
import { z } from 'zod';
import { unusableAnswer } from './schemas';

/** What {@link razorpaySettlements} needs: an authenticated GET answering the JSON of a 2xx (throwing a TenderError otherwise). */
export interface RazorpaySettlementsDeps {
  get(path: string, operation: string, ctx: GatewayCallContext): Promise<unknown>;
  /** Items asked per page (default 100). */
  pageSize?: number;
}

/** Pages read at most for one day: a bound against a report that never ends. */
const MAX_PAGES = 10_000;

const minor = z.union([z.number().int().nonnegative(), z.string().regex(/^[0-9]+$/).transform(Number)]);
const ReconItem = z.looseObject({
  entity_id: z.string().min(1),
  type: z.string(),
  debit: minor,
  credit: minor,
  amount: minor,
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  fee: minor.nullable().optional(),
  tax: minor.nullable().optional(),
  on_hold: z.boolean().optional(),
  settled: z.boolean().optional(),
  created_at: z.number().int(),
  settled_at: z.number().int().nullable().optional(),
  settlement_id: z.string().nullable().optional(),
  payment_id: z.string().nullable().optional(),
  order_receipt: z.string().nullable().optional(),
  dispute_id: z.string().nullable().optional(),
});
const Collection = z.looseObject({ items: z.array(z.unknown()) });

/** The line type of a recon item. */
export function razorpayLineType(type: string, disputeId: string | null | undefined): SettlementLineType {
  if (disputeId) return 'dispute';
  if (type === 'payment') return 'payment';
  if (type === 'refund') return 'refund';
  return 'adjustment';
}

/** Maps one recon item to a line. */
export function razorpaySettlementLine(raw: unknown): SettlementLine {
  const parsed = ReconItem.safeParse(raw);
  if (!parsed.success) throw unusableAnswer('settlement_report', parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`), false);
  const item = parsed.data;
  const currency = item.currency.toUpperCase();
  const money = (paise: number) => Money.fromMinor(paise, currency);
  const type = razorpayLineType(item.type, item.dispute_id);
  // A payment is credited, a refund or transfer debited; an adjustment or dispute says by which column it fills.
  const direction = item.type === 'payment' ? 'in' : item.type === 'refund' || item.type === 'transfer' ? 'out' : item.credit > 0 ? 'in' : 'out';
  const entityIsPayment = item.entity_id.startsWith('pay_');
  return {
    lineId: item.entity_id,
    type,
    gatewayReference: entityIsPayment ? item.entity_id : (item.payment_id ?? null),
    refundReference: type === 'refund' ? item.entity_id : null,
    // The order's receipt is Tender's own payment id here, not a merchant order reference: nothing to echo.
    orderId: null,
    amount: money(item.amount),
    direction,
    fee: item.fee === null || item.fee === undefined ? null : money(item.fee),
    net: money(direction === 'in' ? item.credit : item.debit),
    occurredAt: new Date(item.created_at * 1000).toISOString(),
    settledAt: item.settled_at ? new Date(item.settled_at * 1000).toISOString() : null,
    settlementId: item.settlement_id ?? null,
    gatewayStatus: item.on_hold ? 'on_hold' : item.settled === false ? 'unsettled' : 'settled',
  };
}

/** The `settlements` member of the UPI (Razorpay) gateway. */
export function razorpaySettlements(deps: RazorpaySettlementsDeps): GatewaySettlementsV1 {
  const count = deps.pageSize ?? 100;
  return {
    async fetchReport(input: SettlementReportInput, ctx: GatewayCallContext): Promise<SettlementLine[]> {
      const date = input?.date;
      const day = typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) ? new Date(`${date}T00:00:00Z`) : null;
      if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== date) {
        throw invalidRequest('invalid_date', 'date must be a calendar day written YYYY-MM-DD', 'date');
      }
      const [year, month, dd] = date.split('-').map(Number) as [number, number, number];
      const lines: SettlementLine[] = [];
      const seen = new Set<string>();
      for (let n = 0, skip = 0; n < MAX_PAGES; n++) {
        const json = await deps.get(`settlements/recon/combined?year=${year}&month=${month}&day=${dd}&count=${count}&skip=${skip}`, 'settlement_report', ctx);
        const page = Collection.safeParse(json);
        if (!page.success) throw unusableAnswer('settlement_report', ['the answer is not a collection'], false);
        // A page may hold fewer items than asked (Razorpay caps `count`): only an empty page ends the report.
        if (page.data.items.length === 0) return lines;
        for (const raw of page.data.items) {
          const line = razorpaySettlementLine(raw);
          if (seen.has(line.lineId)) continue;
          seen.add(line.lineId);
          lines.push(line);
        }
        skip += page.data.items.length;
      }
      throw new TenderError({ type: 'gateway_error', code: 'settlement_report_too_long', message: `Razorpay's recon for ${date} has more than ${MAX_PAGES} pages` });
    },
  };
}
