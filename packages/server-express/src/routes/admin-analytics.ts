/**
 * Payment analytics (seed 001's `GET /api/v1/admin/analytics/payments?from&to`): the figures of the
 * payments created in a window from `tender.analytics`, in total and per `group_by` group. Money is
 * per currency as decimal strings, never floats and never summed across currencies; rates are decimal
 * strings with their counts. Every definition is in `PaymentAnalyticsFigures` (`@tender/core`) and
 * the REST reference.
 *
 * Whose payments: a merchant admin token (`admin:read`) sees its own merchant's; a platform admin
 * (`platform:admin`) names `merchant_id`, or names none and sees every merchant's.
 *
 * @module
 */
import { TenderError, type PaymentAnalytics, type PaymentAnalyticsFigures } from '@tender/core';
import type { Router } from 'express';
import { adminMerchantScope, principalOf } from '../auth';
import { stringQuery, type RouteContext } from './shared';

const KNOWN_QUERY = new Set(['from', 'to', 'group_by', 'merchant_id']);

/** One set of figures in the API's shape (snake_case). */
export function analyticsFiguresJson(f: PaymentAnalyticsFigures): Record<string, unknown> {
  return {
    payments: f.payments,
    statuses: f.statuses,
    attempts: f.attempts,
    success_rate: f.successRate,
    authorization_rate: f.authorizationRate,
    revenue: f.revenue,
    refunds: f.refunds,
    processing_time_ms: f.processingTimeMs,
    top_decline_codes: f.topDeclineCodes,
    disputes: f.disputes,
  };
}

/** The answer in the API's shape. */
export function paymentAnalyticsJson(a: PaymentAnalytics): Record<string, unknown> {
  return {
    object: 'payment_analytics',
    from: a.from,
    to: a.to,
    merchant_id: a.merchantId,
    group_by: a.groupBy,
    totals: analyticsFiguresJson(a.totals),
    groups: a.groups.map((g) => ({ key: g.key, ...analyticsFiguresJson(g) })),
  };
}

/** Adds the analytics routes to the authenticated API router. */
export function adminAnalyticsRoutes(api: Router, { tender, need }: RouteContext): void {
  api.get('/admin/analytics/payments', need('admin:read'), async (req, res) => {
    const query = stringQuery(req);
    for (const key of Object.keys(query)) {
      if (!KNOWN_QUERY.has(key)) throw new TenderError({ type: 'invalid_request_error', code: 'unknown_parameter', message: `Unknown query parameter '${key.slice(0, 64)}' (accepted: from, to, group_by, merchant_id)`, param: key.slice(0, 64) });
    }
    const merchantId = adminMerchantScope(principalOf(req), query.merchant_id) ?? null;
    const answer = await tender.analytics.payments({ from: query.from ?? '', to: query.to ?? '', ...(query.group_by !== undefined ? { groupBy: query.group_by } : {}) }, { merchantId });
    res.json(paymentAnalyticsJson(answer));
  });
}
