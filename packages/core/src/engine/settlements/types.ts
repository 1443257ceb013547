/**
 * The engine's settlement reconciliation API: `tender.settlements`.
 *
 * @module
 */
import type { SettlementRun, SettlementRunSummary } from '../../spec/store/v1/settlements';

/** Which report: a gateway's reporting day. */
export interface SettlementReportKey {
  /** The gateway's id (`stripe`, `fiuu`, `upi`, `paypal`...). */
  gateway: string;
  /** `YYYY-MM-DD`, the gateway's reporting day (UTC unless the gateway documents another zone). */
  date: string;
}

/** Whose lines: one merchant's (default: the engine's default merchant) or, with `null`, the whole gateway account's. */
export interface SettlementScopeOptions {
  /**
   * The merchant whose lines the run holds. A line is the merchant's when its reference is a Tender
   * record of that merchant; `null` runs the whole account (every line, also those no Tender record
   * has: a platform view). Absent: the engine's default merchant.
   */
  merchantId?: string | null;
}

/** Options of {@link SettlementOperations.get}. */
export interface GetSettlementOptions extends SettlementScopeOptions {
  /** Run the reconciliation again even when a stored run exists (a new version). */
  refresh?: boolean;
}

/**
 * Settlement reconciliation: a gateway's report of one day matched line by line against Tender's
 * payments and refunds of that gateway, stored (versioned, history kept), each mismatch an outbox
 * event `settlement.mismatch` (once per run and line). Needs a gateway with `capabilities.settlements`
 * and a store implementing `SettlementStore`.
 *
 * Rules:
 * - Attribution: a line is a merchant's when its `refundReference`, `gatewayReference` or `orderId`
 *   resolves to a Tender payment (or refund) of that gateway and merchant. A line resolving to no
 *   record belongs to no merchant: it appears (as `missing_in_tender`, or `fee` / `other`) only in the
 *   account-wide run (`merchantId: null`), so one merchant never sees another's lines on a shared account.
 * - "Of that day": Tender's records of day D are payments whose audit trail moved them to `CAPTURED`,
 *   and refunds moved to `SUCCEEDED`, within D (00:00 to 24:00 UTC, the reporting day).
 * - One-day settlement lag: a gateway may report a capture of late on D in the report of D+1. A record
 *   of D that D's report lacks is `missing_at_gateway` only if the report of D+1 lacks it too (fetched
 *   once D+1 has begun by the engine's clock); one found there is matched in D+1's run, not in D's.
 *   A line of D's report whose record is of D-1 (or any earlier day) is matched by reference as usual.
 */
export interface SettlementOperations {
  /** Fetches the report and stores a new run (version = previous + 1). */
  reconcile(key: SettlementReportKey, options?: SettlementScopeOptions): Promise<SettlementRun>;
  /** The newest stored run of the day, reconciling first when there is none (or with `refresh`). */
  get(key: SettlementReportKey, options?: GetSettlementOptions): Promise<SettlementRun>;
  /** Every stored version of the day's runs, newest first, without lines. */
  history(key: SettlementReportKey, options?: SettlementScopeOptions): Promise<SettlementRunSummary[]>;
}
