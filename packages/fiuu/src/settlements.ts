/**
 * Fiuu's settlement report as Gateway spec v1 `settlements`: `GET {api}/RMS/API/settlement/report.php`
 * with `version=6.0`, `merchant_id`, `token = md5(merchant_id + verify_key + date)`, `date`,
 * `format=json` and `page` (Fiuu API Spec v13.86, "Settlement Report", printed pp.87–90;
 * github.com/FiuuPayment/Documentation-Fiuu_API_Spec). Version 6.0 is sent explicitly because an omitted
 * version means 1.0, which leaves refunds and chargebacks out.
 *
 * Records by `RecordIdentifier`: `D` (settled transaction) is a payment line, `R` (refund or
 * chargeback) a refund line, `G` (a transaction fully refunded or reversed before settlement, nothing
 * settled) an adjustment of zero; `H` (header) and `F` (page summary, `FilterTransactionsTotalPages`)
 * are read for paging only. Amounts are "numeric without decimal and comma" (5331674 = 53,316.74).
 *
 * @module
 */
import { invalidRequest, Money, TenderError } from '@tender/core';
import type { GatewayCallContext, GatewaySettlementsV1, HttpTransport, SettlementLine, SettlementReportInput } from '@tender/core';
import { settlementReportToken } from './signatures';
import { parseAmount } from './transformers';

/** What {@link fiuuSettlements} needs of the gateway. */
export interface FiuuSettlementsDeps {
  merchantId: string;
  verifyKey: string;
  /** `…/RMS/API/settlement/report.php` on the API host. */
  url: string;
  transport: HttpTransport;
  /**
   * Waits for the slot of a query (Fiuu allows "at most 1 query every 5 s" and blocks a massive querier's
   * IP, Fiuu API Spec v13.86 p.66): the gateway's requery pacer, so report pages and requeries share it.
   */
  pace?: (key: string, signal?: AbortSignal) => Promise<void>;
}

/** Fiuu's report version (6.0: refunds and chargebacks included, paged D records). */
export const FIUU_SETTLEMENT_REPORT_VERSION = '6.0';
/** Pages fetched at most for one day (5000 D rows each): a bound against a report that never ends. */
const MAX_PAGES = 1000;

function reportError(code: string, message: string, retryable: boolean, details?: Record<string, unknown>): TenderError {
  return new TenderError({ type: 'gateway_error', code, message, retryable, ...(details ? { details } : {}) });
}

/** Validates `YYYY-MM-DD` (a real calendar day). */
export function checkReportDate(date: unknown): string {
  const day = typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) ? new Date(`${date}T00:00:00Z`) : null;
  if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== date) {
    throw invalidRequest('invalid_date', 'date must be a calendar day written YYYY-MM-DD', 'date');
  }
  return date as string;
}

/** Fiuu's implied-decimal report amount (`"5331674"`, maybe signed) as Money and a direction. */
function impliedAmount(value: unknown, currency: string, field: string): { money: Money; negative: boolean } {
  const text = String(value ?? '').trim();
  const m = /^(-?)([0-9]+)$/.exec(text);
  if (!m) throw reportError('invalid_response', `Fiuu settlement report field ${field} is not an amount`, false, { field });
  const digits = m[2]!.padStart(3, '0');
  // Two implied decimals whatever the currency (Fiuu's amounts always carry 2 dp), parsed into the currency's own exponent.
  return { money: parseAmount(`${digits.slice(0, -2)}.${digits.slice(-2)}`, currency), negative: m[1] === '-' };
}

const field = (r: Record<string, unknown>, name: string) => (r[name] === undefined || r[name] === null ? '' : String(r[name]));

/** `YYYYMMDD` + `HHmmss` (Fiuu time, GMT+8) -> ISO-8601 UTC. */
function isoOf(date: string, time: string): string {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  const t = /^(\d{2})(\d{2})(\d{2})$/.exec(time.padStart(6, '0'));
  if (!d || !t) throw reportError('invalid_response', 'Fiuu settlement report row has no usable TransactionDate/TransactionTime', false);
  return new Date(`${d[1]}-${d[2]}-${d[3]}T${t[1]}:${t[2]}:${t[3]}+08:00`).toISOString();
}

/** Maps one D, R or G record to a line (null for H and F). */
export function fiuuSettlementLine(r: Record<string, unknown>, settledAt: string | null, settlementId: string | null): SettlementLine | null {
  const kind = field(r, 'RecordIdentifier');
  if (kind !== 'D' && kind !== 'R' && kind !== 'G') return null;
  const currency = field(r, 'TransactionCurrency') || field(r, 'SettlementCurrency') || 'MYR';
  const tranID = field(r, 'AcquirerReference');
  const gross = impliedAmount(r.TransactionGrossAmount, currency, 'TransactionGrossAmount');
  const common = {
    gatewayReference: tranID || null,
    orderId: field(r, 'OrderId') || null,
    occurredAt: isoOf(field(r, 'TransactionDate'), field(r, 'TransactionTime')),
    settledAt,
    settlementId,
    gatewayStatus: field(r, 'Status') || null,
  };
  if (kind === 'G') {
    // Refunded or reversed before settlement: nothing moved.
    const zero = Money.zero(currency);
    return { lineId: `G:${tranID}`, type: 'adjustment', ...common, amount: zero, direction: 'in', fee: null, net: zero };
  }
  const gst = impliedAmount(r.TransactionGST || '0', currency, 'TransactionGST').money;
  // What reaches (or leaves) the merchant in the processing currency, GST included, when the report says.
  const settledNet = r.SettlementNetAmountInProcessingCurrency === undefined || r.SettlementNetAmountInProcessingCurrency === '' ? null : impliedAmount(r.SettlementNetAmountInProcessingCurrency, currency, 'SettlementNetAmountInProcessingCurrency').money;
  if (kind === 'R') {
    const refundId = field(r, 'RefundID');
    const fee = impliedAmount(r.RefundFees || '0', currency, 'RefundFees').money.add(gst);
    // R: TransactionNetAmount = Gross + RefundFees; SettlementNetAmountInProcessingCurrency = -(Gross + RefundFees + GST - Commission).
    const net = settledNet ?? impliedAmount(r.TransactionNetAmount, currency, 'TransactionNetAmount').money;
    return { lineId: `R:${refundId || tranID}`, type: 'refund', ...common, refundReference: refundId || null, amount: gross.money, direction: 'out', fee: fee.isZero() ? null : fee, net };
  }
  // D: fee = commission + GST; SettlementNetAmountInProcessingCurrency = Gross - Commission - GST.
  const commission = impliedAmount(r.TransactionCommissionAmount || '0', currency, 'TransactionCommissionAmount').money;
  const net = settledNet ?? impliedAmount(r.TransactionNetAmount, currency, 'TransactionNetAmount').money;
  return { lineId: `D:${tranID}`, type: 'payment', ...common, amount: gross.money, direction: 'in', fee: commission.add(gst), net };
}

/** The `settlements` member of the Fiuu gateway. */
export function fiuuSettlements(deps: FiuuSettlementsDeps): GatewaySettlementsV1 {
  async function page(date: string, n: number, ctx: GatewayCallContext): Promise<Array<Record<string, unknown>>> {
    const query = new URLSearchParams({
      version: FIUU_SETTLEMENT_REPORT_VERSION,
      merchant_id: deps.merchantId,
      token: settlementReportToken({ merchantId: deps.merchantId, verifyKey: deps.verifyKey, date }),
      date,
      format: 'json',
      page: String(n),
    });
    // Keyed by day like requeries by transaction: the pages of one report are spaced, other days' reports are not held up.
    await deps.pace?.(`settlement_report:${date}`, ctx.signal);
    const response = await deps.transport.request({ method: 'GET', url: `${deps.url}?${query}`, operation: 'settlement_report', ...(ctx.signal ? { signal: ctx.signal } : {}) });
    if (response.status >= 500 || response.status === 429) throw reportError('gateway_unavailable_response', `Fiuu settlement report answered HTTP ${response.status}`, true);
    let body: unknown;
    try {
      body = JSON.parse(response.text());
    } catch {
      throw reportError('invalid_response', `Fiuu settlement report answered HTTP ${response.status} with something that is not JSON`, false);
    }
    if (!Array.isArray(body)) {
      const b = (body ?? {}) as Record<string, unknown>;
      if (b.success === false) {
        // Errors are `{"success": false, <field>: <reason>}`; the field names what was refused.
        const problems = Object.entries(b).filter(([k]) => k !== 'success').map(([k, v]) => `${k}: ${String(v)}`);
        const auth = 'token' in b || 'merchant_id' in b;
        throw reportError(auth ? 'gateway_authentication_failed' : 'settlement_report_refused', `Fiuu refused the settlement report (${problems.join('; ') || 'no reason'})`, false, { problems });
      }
      throw reportError('invalid_response', 'Fiuu settlement report is not a list of records', false);
    }
    return body.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null);
  }

  return {
    async fetchReport(input: SettlementReportInput, ctx: GatewayCallContext): Promise<SettlementLine[]> {
      const date = checkReportDate(input?.date);
      const lines: SettlementLine[] = [];
      const seen = new Set<string>();
      for (let n = 1, pages = 1; n <= pages && n <= MAX_PAGES; n++) {
        const records = await page(date, n, ctx);
        const header = records.find((r) => r.RecordIdentifier === 'H');
        const footer = records.find((r) => r.RecordIdentifier === 'F');
        if (footer) pages = Math.max(1, Number.parseInt(field(footer, 'FilterTransactionsTotalPages'), 10) || 1);
        const settlementDate = header ? field(header, 'SettlementDate') : '';
        const settledAt = /^\d{8}$/.test(settlementDate) ? `${settlementDate.slice(0, 4)}-${settlementDate.slice(4, 6)}-${settlementDate.slice(6)}` : date;
        const batch = header ? field(header, 'BatchReferenceNumber') || null : null;
        for (const r of records) {
          const line = fiuuSettlementLine(r, settledAt, batch);
          if (!line || seen.has(line.lineId)) continue;
          seen.add(line.lineId);
          lines.push(line);
        }
      }
      return lines;
    },
  };
}
