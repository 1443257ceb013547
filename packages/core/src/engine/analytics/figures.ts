/**
 * From a store's sums to the figures callers read: rates, percentiles, the top decline codes. Pure
 * functions of {@link PaymentAnalyticsAggregate}s, so every store's answer is finished the same way.
 *
 * @module
 */
import { Money } from '../../money';
import { PAYMENT_STATUSES, type PaymentStatus } from '../../payment';
import type { PaymentAnalyticsAggregate } from '../../spec/store/v1/analytics';
import type { DisputeFigures, PaymentAnalyticsFigures, Rate } from './types';

/** Statuses a payment rests in once its attempt had an outcome (the denominator of both rates). */
export const OUTCOME_STATUSES: readonly PaymentStatus[] = ['AUTHORIZED', 'CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'FAILED', 'CANCELLED', 'EXPIRED'];
/** Captured or later: the success rate's numerator. */
export const CAPTURED_STATUSES: readonly PaymentStatus[] = ['CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED'];
/** Authorised or later: the authorisation rate's numerator. */
export const AUTHORIZED_STATUSES: readonly PaymentStatus[] = ['AUTHORIZED', ...CAPTURED_STATUSES];
/** How many decline codes are listed. */
export const TOP_DECLINE_CODES = 10;

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number | undefined>>): void {
  for (const [key, n] of Object.entries(from)) if (n) into[key] = (into[key] ?? 0) + n;
}

function addSums(into: Record<string, string>, from: Readonly<Record<string, string>>): void {
  for (const [currency, amount] of Object.entries(from)) {
    into[currency] = Money.of(into[currency] ?? '0', currency).add(Money.of(amount, currency)).toString();
  }
}

/** Sums several aggregates into one (the total of a grouped answer, or partial windows of one group). */
export function mergeAggregates(group: string | null, parts: readonly PaymentAnalyticsAggregate[]): PaymentAnalyticsAggregate {
  const out: PaymentAnalyticsAggregate = { group, statuses: {}, captured: {}, refunded: {}, processingMs: {}, declines: {} };
  for (const part of parts) {
    addCounts(out.statuses, part.statuses);
    addSums(out.captured, part.captured);
    addSums(out.refunded, part.refunded);
    addCounts(out.processingMs, part.processingMs);
    addCounts(out.declines, part.declines);
  }
  return out;
}

/** `count / of` to 4 decimal places, rounded half up, in integer arithmetic (no float ever). */
export function rate(count: number, of: number): Rate {
  if (of === 0) return { rate: null, count, of };
  const scaled = (BigInt(count) * 20_000n + BigInt(of)) / (2n * BigInt(of)); // round(count * 10^4 / of), half up
  const text = scaled.toString().padStart(5, '0');
  return { rate: `${text.slice(0, -4)}.${text.slice(-4)}`, count, of };
}

/** Nearest-rank percentile (https://en.wikipedia.org/wiki/Percentile#The_nearest-rank_method) of a histogram. */
function percentile(histogram: ReadonlyArray<[number, number]>, total: number, p: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (const [bucket, n] of histogram) {
    seen += n;
    if (seen >= rank) return bucket;
  }
  return histogram[histogram.length - 1]![0];
}

/** Normalises each amount to its currency's decimals (a store may answer `100.5000`). */
function normalised(sums: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const currency of Object.keys(sums).sort()) {
    const money = Money.of(sums[currency]!.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''), currency);
    if (!money.isZero()) out[currency] = money.toString();
  }
  return out;
}

/** The figures of one aggregate. */
export function figuresOf(agg: PaymentAnalyticsAggregate, disputes: DisputeFigures | null): PaymentAnalyticsFigures {
  const statuses = Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, agg.statuses[s] ?? 0])) as Record<PaymentStatus, number>;
  const sum = (list: readonly PaymentStatus[]) => list.reduce((n, s) => n + (statuses[s] ?? 0), 0);
  const attempts = sum(OUTCOME_STATUSES);
  const histogram = Object.entries(agg.processingMs)
    .map(([bucket, n]) => [Number(bucket), n] as [number, number])
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const timed = histogram.reduce((n, [, c]) => n + c, 0);
  const topDeclineCodes = Object.entries(agg.declines)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, TOP_DECLINE_CODES)
    .map(([code, count]) => ({ code, count }));
  return {
    payments: Object.values(statuses).reduce((n, c) => n + c, 0),
    statuses,
    attempts,
    successRate: rate(sum(CAPTURED_STATUSES), attempts),
    authorizationRate: rate(sum(AUTHORIZED_STATUSES), attempts),
    revenue: normalised(agg.captured),
    refunds: normalised(agg.refunded),
    processingTimeMs: { p50: percentile(histogram, timed, 50), p95: percentile(histogram, timed, 95), count: timed },
    topDeclineCodes,
    disputes,
  };
}
