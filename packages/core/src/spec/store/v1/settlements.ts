/**
 * Store spec v1, settlement part: an OPTIONAL capability beside `Store` (like `WebhookEndpointStore`).
 * A store that implements {@link SettlementStore} keeps settlement reconciliation runs (each run of one
 * gateway's report of one day, versioned, history kept) and answers which of Tender's records moved
 * money on a day. `MemoryStore` and `PostgresStore` implement it and pass
 * `runSettlementStoreConformance` from `@tender/core/testing`.
 *
 * @module
 */
import { TenderError } from '../../../errors';
import type { Payment, Refund } from '../../../payment';
import type { SettlementLineType } from '../../gateway/v1/settlements';
import type { OutboxEvent } from './records';

/**
 * How a line of a reconciliation run came out:
 * - `matched`: the gateway's line and Tender's record agree on amount and currency;
 * - `amount_mismatch`: they disagree (amount, currency or direction);
 * - `missing_in_tender`: the gateway reports money Tender has no record of, or whose Tender record says
 *   no money moved (status not captured / refund not succeeded);
 * - `missing_at_gateway`: Tender has a captured payment or a succeeded refund of the day the report lacks;
 * - `fee`: a fee line of the gateway (its amount is summed into the run's fees);
 * - `other`: a dispute, adjustment or payout line: kept and summed, not matched against a record.
 */
export const SETTLEMENT_CLASSIFICATIONS = ['matched', 'amount_mismatch', 'missing_in_tender', 'missing_at_gateway', 'fee', 'other'] as const;

/** One of {@link SETTLEMENT_CLASSIFICATIONS}. */
export type SettlementClassification = (typeof SETTLEMENT_CLASSIFICATIONS)[number];

/** The classifications that are mismatches (each one an outbox event `settlement.mismatch`). */
export const SETTLEMENT_MISMATCHES: readonly SettlementClassification[] = ['amount_mismatch', 'missing_in_tender', 'missing_at_gateway'];

/** One classified line of a {@link SettlementRun}. Amounts are decimal strings in major units. */
export interface SettlementRunLine {
  /** The gateway's line id; `tender:<payment or refund id>` for a `missing_at_gateway` line. */
  lineId: string;
  classification: SettlementClassification;
  /** Why, in a few words (`amount_differs`, `currency_differs`, `tender_status_FAILED`, `unknown_reference`...); null when matched. */
  reason: string | null;
  type: SettlementLineType;
  /** The merchant the line was attributed to (its Tender record's), or null when no Tender record has its reference. */
  merchantId: string | null;
  gatewayReference: string | null;
  refundReference: string | null;
  orderId: string | null;
  /** What the gateway reported (null for a `missing_at_gateway` line). */
  reported: { amount: string; currency: string; direction: 'in' | 'out'; fee: string | null } | null;
  /** What Tender holds: the captured amount of the payment or the refund's amount (null when no record). */
  tender: { amount: string; currency: string; status: string } | null;
  paymentId: string | null;
  refundId: string | null;
  /** When the money moved: the gateway's `occurredAt`, or the Tender transition's time for `missing_at_gateway`. */
  occurredAt: string | null;
}

/** Sums of a run's lines in one currency (decimal strings, major units; `net` may be negative). */
export interface SettlementTotals {
  /** Gross of the lines that moved money in. */
  grossIn: string;
  /** Gross of the lines that moved money out (refunds, disputes, payouts; fee lines are in `fees`). */
  grossOut: string;
  /** Fees: fee lines plus the fees reported on other lines. */
  fees: string;
  /** grossIn - grossOut - fees. */
  net: string;
}

/** One stored reconciliation of a gateway's report of one day. */
export interface SettlementRun {
  /** `stl_...`. */
  id: string;
  /** The merchant whose lines the run holds, or null for the whole gateway account (every line, a platform view). */
  merchantId: string | null;
  gateway: string;
  /** The gateway's reporting day, `YYYY-MM-DD`. */
  date: string;
  /** 1 for the first run of (merchantId, gateway, date), then 2, 3...: a re-run adds a version, older ones are kept. */
  version: number;
  createdAt: string;
  counts: Record<SettlementClassification, number>;
  /** By currency code; never summed across currencies. */
  totals: Record<string, SettlementTotals>;
  lines: SettlementRunLine[];
}

/** A run without its lines (history listings). */
export type SettlementRunSummary = Omit<SettlementRun, 'lines'>;

/** Which runs: one merchant's (or the whole account's, `merchantId: null`) runs of a gateway's day. */
export interface SettlementRunKey {
  merchantId: string | null;
  gateway: string;
  date: string;
}

/** Options of {@link SettlementStore.listSettledRecords}. */
export interface SettledRecordsQuery {
  gateway: string;
  /** Only this merchant's records; null: every merchant's. */
  merchantId: string | null;
  /** Transitions at or after this instant (ISO-8601). */
  from: string;
  /** Transitions before this instant. */
  to: string;
}

/** Tender's records that moved money in a time window: payments captured and refunds that succeeded in it. */
export interface SettledRecords {
  /** Payments of the gateway whose audit trail moved them to `CAPTURED` in the window, and still captured (also when later refunded). */
  payments: Array<{ payment: Payment; capturedAt: string }>;
  /** Refunds of the gateway's payments whose audit trail moved them to `SUCCEEDED` in the window, and still succeeded. */
  refunds: Array<{ refund: Refund; payment: Payment; succeededAt: string }>;
}

/** Settlement reconciliation runs: what a store keeps for `tender.settlements`. */
export interface SettlementStore {
  /** See {@link SettledRecords}; each record once, ordered by time then id. */
  listSettledRecords(query: SettledRecordsQuery): Promise<SettledRecords>;
  /**
   * Stores a run and its outbox events in one transaction (both or neither).
   * @throws TenderError `state_error`/`duplicate_settlement_run` when (merchantId, gateway, date, version) exists.
   */
  insertSettlementRun(run: SettlementRun, events: readonly OutboxEvent[]): Promise<void>;
  /** The newest version of the key's runs, with its lines. */
  latestSettlementRun(key: SettlementRunKey): Promise<SettlementRun | null>;
  /** A run by id; with `merchantId` (a string or null), only a run of that scope. */
  getSettlementRun(id: string, merchantId?: string | null): Promise<SettlementRun | null>;
  /** Every version of the key's runs, newest first, without lines. */
  listSettlementRuns(key: SettlementRunKey): Promise<SettlementRunSummary[]>;
}

const SETTLEMENT_STORE_METHODS = [
  'listSettledRecords',
  'insertSettlementRun',
  'latestSettlementRun',
  'getSettlementRun',
  'listSettlementRuns',
] as const satisfies readonly (keyof SettlementStore)[];

/** Whether `store` also implements {@link SettlementStore}. */
export function hasSettlementStore<S extends object>(store: S): store is S & SettlementStore {
  const methods = store as Partial<Record<string, unknown>>;
  return SETTLEMENT_STORE_METHODS.every((name) => typeof methods[name] === 'function');
}

/**
 * `store` as a {@link SettlementStore}.
 * @throws TenderError `api_error`/`settlements_unsupported` when the store does not implement it.
 */
export function settlementStoreOf<S extends object>(store: S): S & SettlementStore {
  if (hasSettlementStore(store)) return store;
  throw new TenderError({
    type: 'api_error',
    code: 'settlements_unsupported',
    message: 'This store does not keep settlement runs (it does not implement SettlementStore)',
  });
}
