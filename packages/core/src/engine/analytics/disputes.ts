/**
 * The disputes figure of analytics: disputes opened in the window, read from the store's dispute
 * records (`listDisputes` of the disputes part of the store spec). A store without dispute records
 * answers `null` for it, not zero: "none recorded" is not "none happened".
 *
 * @module
 */
import type { Dispute } from '../../dispute';
import { Money } from '../../money';
import type { Payment } from '../../payment';
import type { AnalyticsGroupBy, ListDisputesQuery, Store } from '../../spec/store/v1/index';
import { analyticsMethod } from '../../spec/store/v1/analytics';
import type { DisputeFigures } from './types';

/** The dispute reads analytics uses; a store has them once it keeps dispute records. */
interface DisputeSource {
  listDisputes(query: ListDisputesQuery): Promise<Dispute[]>;
}

/** The store's dispute records, or null when it keeps none (the seam a store without disputes goes through). */
export function disputeSourceOf(store: Store): DisputeSource | null {
  const candidate = store as Partial<DisputeSource>;
  return typeof candidate.listDisputes === 'function' ? (store as unknown as DisputeSource) : null;
}

function add(figures: DisputeFigures, dispute: Dispute): void {
  figures.count += 1;
  figures.amount[dispute.currency] = Money.of(figures.amount[dispute.currency] ?? '0', dispute.currency).add(Money.of(dispute.amount, dispute.currency)).toString();
}

/**
 * Disputes opened in `[from, to)`: in total and per group. A dispute's gateway and currency are its
 * own; its method is its payment's; its day is the UTC day it was opened.
 */
export async function disputeFigures(
  store: Store,
  query: { merchantId: string | undefined; from: string; to: string; groupBy: AnalyticsGroupBy | undefined },
): Promise<{ total: DisputeFigures; groups: Map<string, DisputeFigures> } | null> {
  const source = disputeSourceOf(store);
  if (!source) return null;
  const disputes = await source.listDisputes({ ...(query.merchantId !== undefined ? { merchantId: query.merchantId } : {}), from: query.from, to: query.to });
  const total: DisputeFigures = { count: 0, amount: {} };
  const groups = new Map<string, DisputeFigures>();
  const payments = new Map<string, Payment | null>();
  for (const dispute of disputes) {
    add(total, dispute);
    if (!query.groupBy) continue;
    let key: string;
    if (query.groupBy === 'gateway') key = dispute.gateway;
    else if (query.groupBy === 'currency') key = dispute.currency;
    else if (query.groupBy === 'day') key = dispute.openedAt.slice(0, 10);
    else {
      if (!payments.has(dispute.paymentId)) payments.set(dispute.paymentId, await store.getPayment(dispute.paymentId));
      key = analyticsMethod(payments.get(dispute.paymentId)?.paymentMethod);
    }
    let figures = groups.get(key);
    if (!figures) groups.set(key, (figures = { count: 0, amount: {} }));
    add(figures, dispute);
  }
  return { total, groups };
}
