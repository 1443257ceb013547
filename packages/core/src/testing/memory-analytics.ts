/**
 * The `AnalyticsStore` part of `MemoryStore`: the sums of a window's payments, computed by a scan of
 * the records (the reference the Postgres rollup is checked against by the conformance suite).
 *
 * @module
 */
import { Money } from '../money';
import type { Payment, Refund, Transition } from '../payment';
import { analyticsMethod, processingTimeBucket, type PaymentAnalyticsAggregate, type PaymentAnalyticsQuery } from '../spec/store/v1/analytics';

/** What the scan reads of a `MemoryStore`'s state. */
export interface AnalyticsSource {
  payments: ReadonlyMap<string, Payment>;
  refunds: ReadonlyMap<string, Refund>;
  refundsByPayment: ReadonlyMap<string, readonly string[]>;
  transitionsByPayment: ReadonlyMap<string, readonly Transition[]>;
}

/** The group value of a payment under `groupBy` (see {@link PaymentAnalyticsAggregate.group}). */
function groupOf(payment: Payment, groupBy: PaymentAnalyticsQuery['groupBy']): string | null {
  switch (groupBy) {
    case undefined:
      return null;
    case 'gateway':
      return payment.gateway;
    case 'method':
      return analyticsMethod(payment.paymentMethod);
    case 'currency':
      return payment.currency;
    case 'day':
      return payment.createdAt.slice(0, 10);
  }
}

function addMoney(sums: Record<string, string>, amount: string, currency: string): void {
  sums[currency] = Money.of(sums[currency] ?? '0', currency).add(Money.of(amount, currency)).toString();
}

/** The first transition of the payment itself (not a refund's, not a note) into `AUTHORIZED` or `CAPTURED`. */
function firstAuthorization(trail: readonly Transition[] | undefined): Transition | undefined {
  return trail?.find((t) => t.refundId === null && t.from !== t.to && (t.to === 'AUTHORIZED' || t.to === 'CAPTURED'));
}

/** {@link AnalyticsStore.paymentAnalytics} over in-memory records. */
export function memoryPaymentAnalytics(source: AnalyticsSource, query: PaymentAnalyticsQuery): PaymentAnalyticsAggregate[] {
  const from = Date.parse(query.from);
  const to = Date.parse(query.to);
  const groups = new Map<string | null, PaymentAnalyticsAggregate>();
  for (const payment of source.payments.values()) {
    if (query.merchantId !== undefined && payment.merchantId !== query.merchantId) continue;
    const created = Date.parse(payment.createdAt);
    if (created < from || created >= to) continue;
    const key = groupOf(payment, query.groupBy);
    let agg = groups.get(key);
    if (!agg) {
      agg = { group: key, statuses: {}, captured: {}, refunded: {}, processingMs: {}, declines: {} };
      groups.set(key, agg);
    }
    agg.statuses[payment.status] = (agg.statuses[payment.status] ?? 0) + 1;
    addMoney(agg.captured, payment.amountCaptured, payment.currency);
    for (const id of source.refundsByPayment.get(payment.id) ?? []) {
      const refund = source.refunds.get(id);
      if (refund?.status === 'SUCCEEDED') addMoney(agg.refunded, refund.amount, refund.currency);
    }
    const authorized = firstAuthorization(source.transitionsByPayment.get(payment.id));
    if (authorized) {
      const bucket = String(processingTimeBucket(Date.parse(authorized.at) - created));
      agg.processingMs[bucket] = (agg.processingMs[bucket] ?? 0) + 1;
    }
    if (payment.status === 'FAILED') {
      const code = payment.failure?.declineCode ?? payment.failure?.code ?? 'unknown';
      agg.declines[code] = (agg.declines[code] ?? 0) + 1;
    }
  }
  return [...groups.values()];
}
