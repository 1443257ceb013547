/**
 * `tender.analytics`: payment figures of a window, from a store implementing `AnalyticsStore`.
 *
 * @module
 */
import type { EngineContext } from '../context';
import { analyticsOf } from '../../spec/store/v1/analytics';
import { disputeFigures } from './disputes';
import { figuresOf, mergeAggregates } from './figures';
import type { AnalyticsOperations, PaymentAnalytics, PaymentAnalyticsGroup } from './types';
import { analyticsWindow } from './window';

/** The engine's {@link AnalyticsOperations}. */
export function createAnalyticsOperations(ctx: EngineContext): AnalyticsOperations {
  return {
    async payments(input, options = {}): Promise<PaymentAnalytics> {
      const window = analyticsWindow(input);
      const store = analyticsOf(ctx.store);
      const merchantId = options.merchantId === null ? undefined : (options.merchantId ?? ctx.defaultMerchantId);
      const query = { ...(merchantId !== undefined ? { merchantId } : {}), from: window.from, to: window.to, ...(window.groupBy ? { groupBy: window.groupBy } : {}) };
      const [aggregates, disputes] = await Promise.all([store.paymentAnalytics(query), disputeFigures(ctx.store, { merchantId, from: window.from, to: window.to, groupBy: window.groupBy })]);
      const totals = figuresOf(mergeAggregates(null, aggregates), disputes?.total ?? null);
      const groups: PaymentAnalyticsGroup[] = [];
      if (window.groupBy) {
        const byKey = new Map<string, typeof aggregates>();
        for (const agg of aggregates) {
          const key = agg.group ?? '';
          byKey.set(key, [...(byKey.get(key) ?? []), agg]);
        }
        for (const key of disputes?.groups.keys() ?? []) if (!byKey.has(key)) byKey.set(key, []);
        for (const key of [...byKey.keys()].sort()) {
          const figures = figuresOf(mergeAggregates(key, byKey.get(key)!), disputes ? (disputes.groups.get(key) ?? { count: 0, amount: {} }) : null);
          groups.push({ key, ...figures });
        }
      }
      return { from: window.from, to: window.to, merchantId: merchantId ?? null, groupBy: window.groupBy ?? null, totals, groups };
    },
  };
}
