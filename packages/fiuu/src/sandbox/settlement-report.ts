/**
 * The sandbox's settlement report, `GET /RMS/API/settlement/report.php` (Fiuu API Spec v13.86,
 * "Settlement Report", printed pp.87–90): `version` 6.0, `merchant_id`, `token =
 * md5(merchant_id + verify_key + date)`, `date` (`YYYY-MM-DD`), `format=json`, `page`. It answers the
 * records Fiuu documents by `RecordIdentifier`: one `H` header, `D` rows (settled transactions, paged),
 * `R` rows (refunds) and `G` rows (transactions reversed before settlement), both on page 1 only, and
 * an `F` page summary. Amounts are "numeric without decimal and comma" (5331674 = 53,316.74), `Forex`
 * has 8 implied decimals. Errors are JSON `{"success": false, ...}` as Fiuu's.
 *
 * A transaction settles on the day of its `paydate` (Fiuu's time, GMT+8) unless a test moves it; the
 * commission is a flat rate of the gross. Tests plant mismatches with {@link SandboxSettlementControls}.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import { hexEquals, settlementReportToken } from '../signatures';
import { cents, type SandboxLedger, type SandboxTransaction } from './state';

/** How the sandbox builds its settlement reports (see `FiuuSandboxOptions.settlement`). */
export interface SandboxSettlementOptions {
  /** D rows per page (Fiuu's default `page_txn` is 5000). */
  pageSize?: number;
  /** Commission in basis points of the gross (default 150 = 1.5 %). */
  commissionBps?: number;
}

/** A line the report carries that no transaction of the sandbox made (for "missing in Tender" tests). */
export interface SandboxForeignLine {
  /** Settlement date, `YYYY-MM-DD`. */
  date: string;
  tranID: string;
  orderid: string;
  /** Two-decimal gross amount, e.g. `"12.50"`. */
  amount: string;
  currency: string;
}

/** What tests change in the reports, to plant mismatches. */
export interface SandboxSettlementControls {
  /** The settlement date (`YYYY-MM-DD`) the sandbox gives a transaction (its `paydate`'s day, GMT+8, unless moved). */
  dateOf(tranID: string): string;
  /** Settles a transaction (and its refunds) on another day. */
  moveTo(tranID: string, date: string): void;
  /** Reports another gross amount (two decimals) for the transaction's D row. */
  alterAmount(tranID: string, amount: string): void;
  /** Leaves the transaction (and its refunds) out of every report. */
  omit(tranID: string): void;
  /** Adds a D row no sandbox transaction made. */
  addForeign(line: SandboxForeignLine): void;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDate(date: string | undefined): date is string {
  const m = DATE.exec(date ?? '');
  if (!m) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === date;
}

/** `YYYY-MM-DD HH:mm:ss` -> `YYYY-MM-DD`. */
const dayOf = (paydate: string) => paydate.slice(0, 10);
/** Two-decimal text -> Fiuu's report amount (implied decimals, no separator). */
const implied = (value: bigint) => value.toString();

/** The settlement report endpoint over one ledger. */
export class SettlementReports {
  private readonly moved = new Map<string, string>();
  private readonly altered = new Map<string, string>();
  private readonly omitted = new Set<string>();
  private readonly foreign: SandboxForeignLine[] = [];
  readonly controls: SandboxSettlementControls;

  constructor(
    private readonly ledger: SandboxLedger,
    private readonly options: SandboxSettlementOptions = {},
  ) {
    this.controls = {
      dateOf: (tranID) => this.dateOf(this.ledger.require(tranID)),
      moveTo: (tranID, date) => {
        this.ledger.require(tranID);
        if (!validDate(date)) throw new Error(`Fiuu sandbox: '${date}' is not YYYY-MM-DD`);
        this.moved.set(tranID, date);
      },
      alterAmount: (tranID, amount) => {
        this.ledger.require(tranID);
        this.altered.set(tranID, amount);
      },
      omit: (tranID) => void this.omitted.add(tranID),
      addForeign: (line) => void this.foreign.push({ ...line }),
    };
  }

  private dateOf(t: SandboxTransaction): string {
    return this.moved.get(t.tranID) ?? dayOf(t.paydate);
  }

  /** Answers `API/settlement/report.php` with the request's fields. */
  handle(res: ServerResponse, f: Record<string, string>): void {
    const fail = (body: Record<string, unknown>): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: false, ...body }));
    const m = this.ledger.merchants.get(f.merchant_id ?? '');
    if (!m) return fail({ merchant_id: 'invalid merchant id' });
    if (!validDate(f.date)) return fail({ date: 'invalid date format, eg. yyyy-mm-dd' });
    if (!hexEquals(settlementReportToken({ merchantId: m.merchantId, verifyKey: m.verifyKey, date: f.date }), f.token)) return fail({ token: 'invalid token' });
    if (f.format !== undefined && f.format !== 'json') return fail({ format: 'only json is served by the sandbox' });
    const page = Math.max(1, Number.parseInt(f.page ?? '1', 10) || 1);
    const date = f.date;
    const rate = BigInt(this.options.commissionBps ?? 150);
    const commissionOf = (gross: bigint) => (gross * rate + 5000n) / 10000n;
    const settlementDate = date.replaceAll('-', '');
    const ymd = (paydate: string) => paydate.slice(0, 10).replaceAll('-', '');
    const hms = (paydate: string) => paydate.slice(11).replaceAll(':', '');
    const base = (t: { tranID: string; orderid: string; currency: string; paydate: string; channel: string }) => ({
      MerchantId: m.merchantId,
      OrderId: t.orderid,
      Channel: t.channel,
      AcquirerReference: t.tranID,
      TransactionDate: ymd(t.paydate),
      TransactionTime: hms(t.paydate),
      TransactionCurrency: t.currency,
      TransactionGST: '0',
      TransactionGatewayFee: '0',
      TransactionGatewayFeeCurrency: t.currency,
      SettlementCurrency: t.currency,
      Forex: '100000000',
    });
    const mine = this.ledger.all().filter((t) => t.merchantId === m.merchantId && !this.omitted.has(t.tranID) && t.status === '00');
    const dRows: Array<Record<string, string>> = [];
    const gRows: Array<Record<string, string>> = [];
    const rRows: Array<Record<string, string>> = [];
    for (const t of mine) {
      const common = { tranID: t.tranID, orderid: t.orderid, currency: t.currency, paydate: t.paydate, channel: t.channel?.hosted ?? '' };
      // A refund settles (is deducted) on the day it succeeded, unless the test moved its transaction.
      for (const r of t.refunds) {
        if (r.status !== 'success' || (this.moved.get(t.tranID) ?? dayOf(r.lastUpdate)) !== date) continue;
        const amount = cents(r.amount);
        rRows.push({ RecordIdentifier: 'R', ...base({ ...common, paydate: r.lastUpdate }), RefundID: r.refundID, MerchantRefID: r.refID, RefundFees: '0', TransactionGrossAmount: implied(amount), TransactionCommissionAmount: '0', TransactionNetAmount: implied(amount), SettlementNetAmountInProcessingCurrency: `-${implied(amount)}`, SettlementNetAmount: `-${implied(amount)}`, Status: 'REFUND' });
      }
      if (this.dateOf(t) !== date) continue;
      if (t.reversed) {
        gRows.push({ RecordIdentifier: 'G', ...base(common), RefundID: '', MerchantRefID: '', RefundFees: '0', TransactionGrossAmount: implied(cents(t.amount)), TransactionCommissionAmount: '0', TransactionNetAmount: '0', SettlementNetAmountInProcessingCurrency: '0', SettlementNetAmount: '0', Status: 'CANCELLED' });
        continue;
      }
      if (t.captured === null) continue;
      const gross = cents(this.altered.get(t.tranID) ?? t.captured);
      const commission = commissionOf(gross);
      const net = implied(gross - commission);
      dRows.push({ RecordIdentifier: 'D', ...base(common), RefundID: '', MerchantRefID: '', RefundFees: '0', TransactionGrossAmount: implied(gross), TransactionCommissionAmount: implied(commission), TransactionNetAmount: net, SettlementNetAmountInProcessingCurrency: net, SettlementNetAmount: net, Status: 'SETTLED' });
    }
    for (const line of this.foreign) {
      if (line.date !== date) continue;
      const gross = cents(line.amount);
      const commission = commissionOf(gross);
      const net = implied(gross - commission);
      dRows.push({ RecordIdentifier: 'D', ...base({ tranID: line.tranID, orderid: line.orderid, currency: line.currency, paydate: `${line.date} 12:00:00`, channel: 'credit' }), RefundID: '', MerchantRefID: '', RefundFees: '0', TransactionGrossAmount: implied(gross), TransactionCommissionAmount: implied(commission), TransactionNetAmount: net, SettlementNetAmountInProcessingCurrency: net, SettlementNetAmount: net, Status: 'SETTLED' });
    }
    const size = Math.max(1, this.options.pageSize ?? 5000);
    const pages = Math.max(1, Math.ceil(dRows.length / size));
    const shown = dRows.slice((page - 1) * size, page * size);
    const sum = (rows: Array<Record<string, string>>, field: string) => rows.reduce((s, r) => s + BigInt(r[field]!), 0n);
    const currency = dRows[0]?.SettlementCurrency ?? rRows[0]?.SettlementCurrency ?? 'MYR';
    const header = {
      RecordIdentifier: 'H',
      SettlementCurrency: currency,
      SettlementNetAmount: implied(sum(dRows, 'SettlementNetAmount') + sum(rRows, 'SettlementNetAmount')),
      SettlementCommissionAmount: implied(sum(dRows, 'TransactionCommissionAmount')),
      NumberOfTransactions: String(dRows.length),
      BatchReferenceNumber: `SB${m.merchantId}${settlementDate}`,
      SettlementDate: settlementDate,
      SettlementGSTAmount: '0',
      BankAccount: 'SBBKMYKL 000000000000',
      RefundNetAmount: implied(sum(rRows, 'TransactionNetAmount')),
      RefundGSTAmount: '0',
    };
    const footer = {
      RecordIdentifier: 'F',
      NumberOfTransactionsTotal: String(dRows.length),
      NumberOfTransactionsShown: String(shown.length),
      FilterTransactionsTotalPages: String(pages),
      FilterTransactionsLimitPerPage: String(size),
    };
    const records = [header, ...shown, ...(page === 1 ? [...rRows, ...gRows] : []), footer];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(records));
  }
}
