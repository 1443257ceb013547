/**
 * PayPal's Transaction Search as Gateway spec v1 `settlements`:
 * `GET /v1/reporting/transactions?start_date&end_date&fields=all&page_size&page`
 * (https://developer.paypal.com/docs/api/transaction-search/v1/), over the UTC day (PayPal takes RFC
 * 3339 times with their offset; a day is well inside its 31-day range), every page up to `total_pages`.
 * The REST app needs the Transaction Search permission (scope
 * `https://uri.paypal.com/services/reporting/search/read`).
 *
 * The PayPal gateway stores a payment's order id as its `gatewayReference`, while a row's
 * `transaction_id` is the capture (or refund): a capture row names its order in `paypal_reference_id`
 * (`paypal_reference_id_type` `ODR`); a refund or reversal row names the capture (`TXN`), resolved to its
 * order through the capture rows of the same report, or else `GET /v2/payments/captures/{id}`
 * (`supplementary_data.related_ids.order_id`). Amounts are signed strings (`"-5.00"`), fees negative
 * when charged; event codes: https://developer.paypal.com/docs/transaction-search/transaction-event-codes/.
 *
 * @module
 */
import { invalidRequest, TenderError } from '@tender/core';
import type { GatewayCallContext, GatewaySettlementsV1, Money, SettlementLine, SettlementLineType, SettlementReportInput } from '@tender/core';
import { z } from 'zod';
import { fromPayPalMoney } from './amounts';
import { unusableAnswer } from './schemas';

/** What {@link paypalSettlements} needs: an authenticated GET answering the JSON of a 2xx, or null for PayPal's 404. */
export interface PayPalSettlementsDeps {
  get(path: string, operation: string, signal: AbortSignal | undefined): Promise<unknown | null>;
  /** Rows asked per page, 1–500 (default 500, PayPal's maximum). */
  pageSize?: number;
}

/** Pages read at most for one day: a bound against a search that never ends. */
const MAX_PAGES = 10_000;

const Money_ = z.looseObject({ currency_code: z.string().regex(/^[A-Za-z]{3}$/), value: z.string().regex(/^[+-]?[0-9]+(\.[0-9]+)?$/) });
const TransactionInfo = z.looseObject({
  transaction_id: z.string().min(1),
  paypal_reference_id: z.string().optional(),
  paypal_reference_id_type: z.string().optional(),
  transaction_event_code: z.string().regex(/^T\d{4}$/),
  transaction_initiation_date: z.string(),
  transaction_updated_date: z.string().optional(),
  transaction_amount: Money_,
  fee_amount: Money_.optional(),
  transaction_status: z.string().optional(),
  invoice_id: z.string().optional(),
  custom_field: z.string().optional(),
});
const Detail = z.looseObject({ transaction_info: TransactionInfo });
const Page = z.looseObject({ transaction_details: z.array(z.unknown()).optional(), page: z.number().int().optional(), total_pages: z.number().int().optional() });
const CaptureOrder = z.looseObject({ supplementary_data: z.looseObject({ related_ids: z.looseObject({ order_id: z.string().optional() }).optional() }).optional() });

/** The line type of a transaction event code. */
export function paypalLineType(code: string): SettlementLineType {
  if (code === 'T1107' || code === 'T1108') return 'refund';
  if (code === 'T1106' || code === 'T1201' || code === 'T1202' || code === 'T1110' || code === 'T1111') return 'dispute';
  if (code.startsWith('T00')) return 'payment';
  if (code.startsWith('T01')) return 'fee';
  if (code.startsWith('T04')) return 'payout';
  return 'adjustment';
}

/** `2021-09-23T16:52:04+0000` (PayPal's report form) -> ISO-8601 UTC. */
function isoOf(text: string): string {
  const normalised = text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(normalised);
  if (Number.isNaN(ms)) throw unusableAnswer('settlement_report', [`transaction_initiation_date '${text}' is not a date`], false);
  return new Date(ms).toISOString();
}

/** A signed PayPal amount as a magnitude and a sign. */
function signed(amount: { currency_code: string; value: string }): { money: Money; negative: boolean } {
  const negative = amount.value.startsWith('-');
  return { money: fromPayPalMoney({ currency_code: amount.currency_code, value: amount.value.replace(/^[+-]/, '') }), negative };
}

/**
 * Maps one `transaction_details[]` entry to a line; `orderOf` names the order of a capture id (null
 * when unknown). The line's `gatewayReference` is the order id.
 */
export function paypalSettlementLine(raw: unknown, orderOf: (captureId: string) => string | null): SettlementLine {
  const parsed = Detail.safeParse(raw);
  if (!parsed.success) throw unusableAnswer('settlement_report', parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`), false);
  const t = parsed.data.transaction_info;
  const type = paypalLineType(t.transaction_event_code);
  const gross = signed(t.transaction_amount);
  const fee = t.fee_amount ? signed(t.fee_amount) : null;
  const reference = t.paypal_reference_id ?? null;
  const order = t.paypal_reference_id_type === 'ODR' ? reference : type === 'payment' ? orderOf(t.transaction_id) : reference && t.paypal_reference_id_type === 'TXN' ? orderOf(reference) : null;
  const direction = gross.negative ? 'out' : 'in';
  // A fee charged is negative and lowers the net; a fee given back (a refunded fee) is positive and raises it.
  let net: Money | null = null;
  if (!fee || fee.money.isZero()) net = gross.money;
  else if (fee.negative === gross.negative) net = gross.money.add(fee.money);
  else net = gross.money.compare(fee.money) >= 0 ? gross.money.subtract(fee.money) : fee.money.subtract(gross.money);
  return {
    lineId: t.transaction_id,
    type,
    gatewayReference: type === 'payout' || type === 'fee' ? null : order,
    refundReference: type === 'refund' ? t.transaction_id : null,
    // The gateway sends no merchant order reference (invoice_id carries a refund's Tender id).
    orderId: null,
    amount: gross.money,
    direction,
    fee: fee ? fee.money : null,
    net,
    occurredAt: isoOf(t.transaction_initiation_date),
    settledAt: null,
    settlementId: null,
    gatewayStatus: t.transaction_status ?? null,
  };
}

/** The `settlements` member of the PayPal gateway. */
export function paypalSettlements(deps: PayPalSettlementsDeps): GatewaySettlementsV1 {
  const pageSize = deps.pageSize ?? 500;
  return {
    async fetchReport(input: SettlementReportInput, ctx: GatewayCallContext): Promise<SettlementLine[]> {
      const date = input?.date;
      const day = typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) ? new Date(`${date}T00:00:00Z`) : null;
      if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== date) {
        throw invalidRequest('invalid_date', 'date must be a calendar day written YYYY-MM-DD', 'date');
      }
      const details: unknown[] = [];
      for (let page = 1, pages = 1; page <= pages; page++) {
        if (page > MAX_PAGES) throw new TenderError({ type: 'gateway_error', code: 'settlement_report_too_long', message: `PayPal's transaction search for ${date} has more than ${MAX_PAGES} pages` });
        const query = new URLSearchParams({ start_date: `${date}T00:00:00Z`, end_date: `${date}T23:59:59Z`, fields: 'all', page_size: String(pageSize), page: String(page) });
        const json = await deps.get(`/v1/reporting/transactions?${query}`, 'settlement_report', ctx.signal);
        const parsed = Page.safeParse(json);
        if (!parsed.success) throw unusableAnswer('settlement_report', ['the answer is not a transaction search page'], false);
        details.push(...(parsed.data.transaction_details ?? []));
        pages = Math.max(1, parsed.data.total_pages ?? 1);
      }
      // Capture -> order from the report's own capture rows first; the rest by asking PayPal, once each.
      const orders = new Map<string, string | null>();
      for (const d of details) {
        const t = Detail.safeParse(d);
        if (t.success && t.data.transaction_info.paypal_reference_id_type === 'ODR' && t.data.transaction_info.paypal_reference_id) {
          orders.set(t.data.transaction_info.transaction_id, t.data.transaction_info.paypal_reference_id);
        }
      }
      const unknown = new Set<string>();
      const first = details.map((d) => paypalSettlementLine(d, (captureId) => {
        if (orders.has(captureId)) return orders.get(captureId)!;
        unknown.add(captureId);
        return null;
      }));
      if (unknown.size === 0) return first;
      for (const captureId of unknown) {
        const capture = await deps.get(`/v2/payments/captures/${encodeURIComponent(captureId)}`, 'get_capture', ctx.signal);
        const parsed = capture === null ? null : CaptureOrder.safeParse(capture);
        orders.set(captureId, parsed?.success ? (parsed.data.supplementary_data?.related_ids?.order_id ?? null) : null);
      }
      return details.map((d) => paypalSettlementLine(d, (captureId) => orders.get(captureId) ?? null));
    },
  };
}
