/**
 * The sandbox's Transaction Search, `GET /v1/reporting/transactions`
 * (https://developer.paypal.com/docs/api/transaction-search/v1/): `start_date` and `end_date`
 * (RFC 3339 with seconds, at most 31 days apart), `fields` (`transaction_info` by default, `all`),
 * `page_size` (1–500, default 100) and `page` (from 1), answering `transaction_details[]` with
 * `page`, `total_items`, `total_pages`.
 *
 * Each completed capture is a `T0006` row (PayPal Checkout APIs) whose `paypal_reference_id` is its
 * order (`paypal_reference_id_type` `ODR`), with the PayPal fee as a negative `fee_amount`; each
 * completed refund a `T1107` row with a negative `transaction_amount` whose `paypal_reference_id` is
 * the refunded capture (`TXN`); a dispute resolved for the buyer (`dispute_outcome.amount_refunded`) a
 * `T1201` chargeback row naming the disputed capture, at its resolution
 * (event codes: https://developer.paypal.com/docs/transaction-search/transaction-event-codes/).
 * Tests plant reconciliation mismatches with {@link SandboxReportingControls}.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { invalid, type Amount, type SandboxAccount } from './state';

/** What tests change in the search results. Ids are capture or refund ids (a row's `transaction_id`). */
export interface SandboxReportingControls {
  /** Reports another gross value (e.g. `"29.00"`) for the row. */
  alterAmount(transactionId: string, value: string): void;
  /** Moves the row to another time (RFC 3339), e.g. onto a fixed report day. */
  moveTo(transactionId: string, at: string): void;
  /** Leaves the row out of every search. */
  omit(transactionId: string): void;
  /** The `transaction_id` of the T1201 chargeback row of a dispute resolved for the buyer. */
  chargebackId(disputeId: string): string;
  /** Adds a completed T0006 sale of an order this sandbox never made; answers its ids. */
  addForeign(row: { amount: Amount; at: string }): { transactionId: string; orderId: string };
}

/** Options of the search (see `PayPalSandboxOptions.reporting`). */
export interface SandboxReportingOptions {
  /** Rows a page holds at most, whatever `page_size` asks (default 500, PayPal's maximum), so tests can make pages. */
  maxPageSize?: number;
}

type Row = { id: string; at: string; info: Record<string, unknown> };

const MAX_RANGE_MS = 31 * 86_400_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
/** PayPal writes report times as `2021-09-23T16:52:04+0000`. */
const reportTime = (iso: string) => `${new Date(iso).toISOString().slice(0, 19)}+0000`;
const negate = (a: Amount): Amount => ({ currency_code: a.currency_code, value: a.value.startsWith('-') ? a.value.slice(1) : `-${a.value}` });
const isZero = (a: Amount) => /^-?0+(\.0+)?$/.test(a.value);
/** One chargeback row per dispute, its id derived from the case id so every search shows the same row. */
const chargebackId = (disputeId: string) => `CB${disputeId.replace(/[^A-Z0-9]/gi, '').toUpperCase()}`.slice(0, 17);

/** Transaction Search over one account. */
export class SandboxReporting {
  private readonly altered = new Map<string, string>();
  private readonly moved = new Map<string, string>();
  private readonly omitted = new Set<string>();
  private readonly foreign: Row[] = [];
  readonly controls: SandboxReportingControls;

  constructor(
    private readonly account: SandboxAccount,
    private readonly options: SandboxReportingOptions = {},
  ) {
    this.controls = {
      alterAmount: (id, value) => void this.altered.set(id, value),
      moveTo: (id, at) => void this.moved.set(id, new Date(at).toISOString()),
      omit: (id) => void this.omitted.add(id),
      chargebackId,
      addForeign: ({ amount, at }) => {
        const id = randomBytes(9).toString('hex').toUpperCase().slice(0, 17);
        const orderId = randomBytes(9).toString('hex').toUpperCase().slice(0, 17);
        const when = new Date(at).toISOString();
        this.foreign.push({ id, at: when, info: this.info(id, 'T0006', orderId, 'ODR', amount, null, when, undefined, undefined) });
        return { transactionId: id, orderId };
      },
    };
  }

  private info(id: string, code: string, reference: string | null, referenceType: 'ODR' | 'TXN' | null, amount: Amount, fee: Amount | null, at: string, customId: string | undefined, invoiceId: string | undefined): Record<string, unknown> {
    return {
      paypal_account_id: 'SANDBOXBUYER0001',
      transaction_id: id,
      ...(reference ? { paypal_reference_id: reference, paypal_reference_id_type: referenceType } : {}),
      transaction_event_code: code,
      transaction_initiation_date: reportTime(at),
      transaction_updated_date: reportTime(at),
      transaction_amount: amount,
      ...(fee && !isZero(fee) ? { fee_amount: fee } : {}),
      transaction_status: 'S',
      protection_eligibility: '01',
      ...(invoiceId ? { invoice_id: invoiceId } : {}),
      ...(customId ? { custom_field: customId } : {}),
    };
  }

  private rows(): Row[] {
    const rows: Row[] = [];
    for (const c of this.account.captures.values()) {
      if (c.status !== 'COMPLETED' && c.status !== 'PARTIALLY_REFUNDED' && c.status !== 'REFUNDED') continue;
      const json = this.account.getCapture(c.id) as { seller_receivable_breakdown?: { paypal_fee?: Amount } };
      const fee = json.seller_receivable_breakdown?.paypal_fee;
      const amount = { currency_code: c.amount.currency_code, value: this.altered.get(c.id) ?? c.amount.value };
      const at = this.moved.get(c.id) ?? c.createTime;
      rows.push({ id: c.id, at, info: this.info(c.id, 'T0006', c.orderId, 'ODR', amount, fee ? negate(fee) : null, at, c.customId, c.invoiceId) });
    }
    for (const r of this.account.refunds.values()) {
      if (r.status !== 'COMPLETED') continue;
      const amount = negate({ currency_code: r.amount.currency_code, value: this.altered.get(r.id) ?? r.amount.value });
      const at = this.moved.get(r.id) ?? r.createTime;
      rows.push({ id: r.id, at, info: this.info(r.id, 'T1107', r.captureId, 'TXN', amount, null, at, r.customId, r.invoiceId) });
    }
    for (const d of this.account.disputes.values()) {
      const outcome = d.dispute_outcome as { amount_refunded?: Amount } | undefined;
      const captureId = (d.disputed_transactions as Array<{ seller_transaction_id?: string }> | undefined)?.[0]?.seller_transaction_id;
      if (!outcome?.amount_refunded || !captureId) continue;
      const id = chargebackId(String(d.dispute_id));
      const amount = negate({ currency_code: outcome.amount_refunded.currency_code, value: this.altered.get(id) ?? outcome.amount_refunded.value });
      const at = this.moved.get(id) ?? new Date(String(d.update_time)).toISOString();
      rows.push({ id, at, info: this.info(id, 'T1201', captureId, 'TXN', amount, null, at, undefined, undefined) });
    }
    rows.push(...this.foreign);
    return rows.filter((row) => !this.omitted.has(row.id)).sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  }

  /** Answers `GET /v1/reporting/transactions`. */
  search(query: URLSearchParams): Record<string, unknown> {
    const start = query.get('start_date');
    const end = query.get('end_date');
    if (!start) throw invalid('MISSING_REQUIRED_PARAMETER', 'start_date');
    if (!end) throw invalid('MISSING_REQUIRED_PARAMETER', 'end_date');
    if (!RFC3339.test(start) || Number.isNaN(Date.parse(start))) throw invalid('INVALID_PARAMETER_SYNTAX', 'start_date');
    if (!RFC3339.test(end) || Number.isNaN(Date.parse(end))) throw invalid('INVALID_PARAMETER_SYNTAX', 'end_date');
    const from = Date.parse(start);
    const to = Date.parse(end);
    if (to < from) throw invalid('INVALID_PARAMETER_VALUE', 'end_date');
    if (to - from > MAX_RANGE_MS) throw invalid('INVALID_DATE_RANGE', 'end_date');
    const asked = Number(query.get('page_size') ?? 100);
    const page = Number(query.get('page') ?? 1);
    if (!Number.isInteger(asked) || asked < 1 || asked > 500) throw invalid('INVALID_PARAMETER_VALUE', 'page_size');
    const pageSize = Math.min(asked, this.options.maxPageSize ?? 500);
    if (!Number.isInteger(page) || page < 1) throw invalid('INVALID_PARAMETER_VALUE', 'page');
    const all = query.get('fields') === 'all';
    const matching = this.rows().filter((row) => {
      const t = Date.parse(row.at);
      return t >= from && t <= to;
    });
    const totalPages = Math.max(1, Math.ceil(matching.length / pageSize));
    const details = matching.slice((page - 1) * pageSize, page * pageSize).map((row) => ({
      transaction_info: row.info,
      ...(all ? { payer_info: { account_id: 'SANDBOXBUYER0001', address_status: 'Y', payer_status: 'Y' }, shipping_info: {}, cart_info: {}, store_info: {}, auction_info: {}, incentive_info: {} } : {}),
    }));
    return {
      transaction_details: details,
      account_number: 'SANDBOXMERCHANT01',
      start_date: reportTime(start),
      end_date: reportTime(end),
      last_refreshed_datetime: reportTime(new Date().toISOString()),
      page,
      total_items: matching.length,
      total_pages: totalPages,
      links: [],
    };
  }
}
