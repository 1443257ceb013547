/**
 * Store spec v1, analytics part: an OPTIONAL capability beside {@link Store} (as
 * `WebhookEndpointStore` is), read by `tender.analytics`. A store implementing it answers the raw
 * per-group sums of the payments created in a window; the engine turns them into rates, percentiles
 * and the top decline codes. `MemoryStore` and `PostgresStore` implement it and pass
 * `runAnalyticsStoreConformance` from `@tender/core/testing`.
 *
 * Every figure is about a cohort: the payments created in `[from, to)`, counted as they are now
 * (their current status, everything captured or refunded on them so far), grouped by their own
 * gateway, payment method, currency or UTC creation day.
 *
 * @module
 */
import { TenderError } from '../../../errors';
import type { PaymentStatus } from '../../../payment';

/** What analytics figures may be grouped by: the payment's gateway, method, currency, or UTC day of creation. */
export const ANALYTICS_GROUP_BY = ['gateway', 'method', 'currency', 'day'] as const;
/** One of {@link ANALYTICS_GROUP_BY}. */
export type AnalyticsGroupBy = (typeof ANALYTICS_GROUP_BY)[number];

/** The group of payments without a payment method (`paymentMethod` null) when grouping by method. */
export const NO_METHOD_GROUP = 'none';
/**
 * The group of payments whose `paymentMethod` is a gateway's or Tender's id of a payment method
 * (Stripe `pm_...`, `card_...`, `src_...`, `tok_...`, `ba_...`, a saved method `spm_...`) rather
 * than a method name: the id says nothing about the method's type, and one group per id would be one
 * group per payment.
 */
export const TOKEN_METHOD_GROUP = 'token';
const METHOD_TOKEN = /^(pm|card|src|tok|ba|spm)_[A-Za-z0-9_]+$/;

/** The method group of a payment's `paymentMethod` ({@link NO_METHOD_GROUP}, {@link TOKEN_METHOD_GROUP}, or the name itself). */
export function analyticsMethod(paymentMethod: string | null | undefined): string {
  if (paymentMethod === null || paymentMethod === undefined) return NO_METHOD_GROUP;
  return METHOD_TOKEN.test(paymentMethod) ? TOKEN_METHOD_GROUP : paymentMethod;
}

/** A query of {@link AnalyticsStore.paymentAnalytics}. */
export interface PaymentAnalyticsQuery {
  /** Only this merchant's payments; every merchant's when omitted (a platform admin's query). */
  merchantId?: string;
  /** Payments created at or after this instant (ISO 8601, UTC, milliseconds). */
  from: string;
  /** Payments created before this instant. */
  to: string;
  /** One aggregate per group; a single aggregate (group `null`) when omitted. */
  groupBy?: AnalyticsGroupBy;
}

/**
 * The sums of one group of payments, as a store answers them. Money is decimal strings per currency,
 * never summed across currencies; a currency with nothing in it may be absent.
 */
export interface PaymentAnalyticsAggregate {
  /**
   * The group's value: the gateway, the payment method ({@link analyticsMethod}), the
   * currency, or the UTC day (`YYYY-MM-DD`); `null` when the query had no `groupBy`.
   */
  group: string | null;
  /** Payments by current status (statuses with none may be absent). */
  statuses: Partial<Record<PaymentStatus, number>>;
  /** Per currency, the sum of `amountCaptured`. */
  captured: Record<string, string>;
  /** Per currency, the sum of the payments' refunds in status `SUCCEEDED`. */
  refunded: Record<string, string>;
  /**
   * Processing times of the payments whose trail has a transition to `AUTHORIZED` or `CAPTURED`
   * (creation to the first such transition of the payment itself, a note not counting) as a histogram: key the bucket's upper bound in ms ({@link processingTimeBucket},
   * as a decimal integer string), value how many payments fell in it.
   */
  processingMs: Record<string, number>;
  /**
   * `FAILED` payments by decline code: the failure's `declineCode` when the gateway gave one (the
   * issuer's reason, Stripe `decline_code`), else its `code`; `unknown` for a failure without one.
   */
  declines: Record<string, number>;
}

/** Payment analytics: what `tender.analytics` needs beside the `Store`. */
export interface AnalyticsStore {
  /** The sums of the payments created in the query's window, one aggregate per non-empty group (any order). */
  paymentAnalytics(query: PaymentAnalyticsQuery): Promise<PaymentAnalyticsAggregate[]>;
}

/**
 * The histogram bucket of a processing time: its upper bound in whole ms, `ms` rounded up to two
 * significant digits (0-99 ms exactly, 100-990 in steps of 10, 1000-9900 in steps of 100, ...), so a
 * percentile read from buckets is at most 10% above the true one whatever the scale, and a store can
 * keep a bounded number of buckets per day. Negative times (clock skew) count as 0.
 */
export function processingTimeBucket(ms: number): number {
  const v = Math.max(0, Math.ceil(ms));
  if (v < 100) return v;
  // Digits counted on the integer's text: Math.log10 is not exact at powers of ten on every engine.
  const step = 10 ** (String(v).length - 2);
  return Math.ceil(v / step) * step;
}

const ANALYTICS_STORE_METHODS = ['paymentAnalytics'] as const satisfies readonly (keyof AnalyticsStore)[];

/** Whether `store` also implements {@link AnalyticsStore}. */
export function hasAnalytics<S extends object>(store: S): store is S & AnalyticsStore {
  const methods = store as Partial<Record<string, unknown>>;
  return ANALYTICS_STORE_METHODS.every((name) => typeof methods[name] === 'function');
}

/**
 * `store` as an {@link AnalyticsStore}.
 * @throws TenderError 400 `analytics_not_supported` when the store does not implement it.
 */
export function analyticsOf<S extends object>(store: S): S & AnalyticsStore {
  if (hasAnalytics(store)) return store;
  throw new TenderError({
    type: 'invalid_request_error',
    code: 'analytics_not_supported',
    message: 'This store keeps no payment analytics (it does not implement AnalyticsStore)',
  });
}
