/**
 * The engine's analytics API: `tender.analytics`.
 *
 * @module
 */
import type { PaymentStatus } from '../../payment';
import type { AnalyticsGroupBy } from '../../spec/store/v1/analytics';

/** A query of {@link AnalyticsOperations.payments}, as a caller sends it (REST query strings pass through as they are). */
export interface PaymentAnalyticsInput {
  /** `YYYY-MM-DD` (00:00 UTC of that day) or an ISO 8601 instant with a zone (`Z` or `+08:00`); inclusive. */
  from: string;
  /** As `from`; exclusive (a date means up to 00:00 UTC of that day). At most 366 days after `from`. */
  to: string;
  /** `gateway`, `method`, `currency` or `day` (UTC): the same figures per group as well as in total. */
  groupBy?: AnalyticsGroupBy | (string & {});
}

/** Whose payments: one merchant's (default: the engine's default merchant) or, with `null`, every merchant's. */
export interface AnalyticsScopeOptions {
  merchantId?: string | null;
}

/** A rate as a ratio of two counts; `rate` is the quotient to 4 decimal places (half up), null when `of` is 0. */
export interface Rate {
  /** Decimal string from `"0.0000"` to `"1.0000"`, never a float; null when there was nothing to divide by. */
  rate: string | null;
  /** The numerator. */
  count: number;
  /** The denominator. */
  of: number;
}

/** Disputes opened in the window: how many, and the disputed amounts per currency. */
export interface DisputeFigures {
  count: number;
  /** Per currency, decimal strings in major units. */
  amount: Record<string, string>;
}

/**
 * The figures of a set of payments: those created in the window (and, per group, in the group).
 *
 * Definitions (the REST reference repeats them):
 * - `attempts`: payments that reached an outcome: current status `AUTHORIZED`, `CAPTURED`,
 *   `PARTIALLY_REFUNDED`, `REFUNDED`, `FAILED`, `CANCELLED` or `EXPIRED`. Payments still in flight
 *   (`PENDING`, `REQUIRES_REVIEW`, `REQUIRES_ACTION`, `PROCESSING`) are in `statuses` only.
 * - `successRate`: payments captured or later (`CAPTURED`, `PARTIALLY_REFUNDED`, `REFUNDED`) of `attempts`.
 * - `authorizationRate`: payments authorised or later (`AUTHORIZED` and the three above) of `attempts`.
 *   A voided or expired authorisation counts as not authorised: rates are of where the money is now.
 * - `revenue`: per currency, the sum of what was captured on them; `refunds`: per currency, their
 *   refunds that `SUCCEEDED`. Money is never summed across currencies.
 * - `processingTimeMs`: from a payment's creation to its first transition to `AUTHORIZED` or `CAPTURED`,
 *   over the payments that have one; nearest-rank p50 and p95, read at two significant digits (the
 *   store keeps a histogram: 1234 ms is reported as 1300; values under 100 ms exactly).
 * - `topDeclineCodes`: `FAILED` payments by the issuer's `declineCode` when the gateway gave one, else
 *   the failure `code`; the 10 most frequent, most first (ties by code).
 * - `disputes`: disputes opened in the window (by the gateway's time), of any payment; null when the
 *   store keeps no dispute records.
 */
export interface PaymentAnalyticsFigures {
  /** Every payment created in the window. */
  payments: number;
  /** Payments by current status; every status is present (0 when none). */
  statuses: Record<PaymentStatus, number>;
  attempts: number;
  successRate: Rate;
  authorizationRate: Rate;
  revenue: Record<string, string>;
  refunds: Record<string, string>;
  processingTimeMs: { p50: number | null; p95: number | null; count: number };
  topDeclineCodes: Array<{ code: string; count: number }>;
  disputes: DisputeFigures | null;
}

/** One group's figures (see {@link PaymentAnalytics.groups}). */
export interface PaymentAnalyticsGroup extends PaymentAnalyticsFigures {
  /** The gateway, payment method (`none` for payments without one), currency, or UTC day `YYYY-MM-DD`. */
  key: string;
}

/** The answer of {@link AnalyticsOperations.payments}. */
export interface PaymentAnalytics {
  /** The window as an instant range, `[from, to)`. */
  from: string;
  to: string;
  /** The merchant, or null for every merchant. */
  merchantId: string | null;
  groupBy: AnalyticsGroupBy | null;
  /** The whole window. */
  totals: PaymentAnalyticsFigures;
  /** With `groupBy`: one entry per group that has payments (or disputes), ordered by key; empty without it. */
  groups: PaymentAnalyticsGroup[];
}

/** Payment analytics (needs a store implementing `AnalyticsStore`). */
export interface AnalyticsOperations {
  /**
   * The figures of the payments created in `[from, to)` (see {@link PaymentAnalyticsFigures}).
   * @throws TenderError 400 `parameter_invalid` naming `from`, `to` or `group_by`;
   * 400 `analytics_not_supported` when the store keeps no analytics.
   */
  payments(query: PaymentAnalyticsInput, options?: AnalyticsScopeOptions): Promise<PaymentAnalytics>;
}
