/**
 * The risk review queue: payments the risk checks held `REQUIRES_REVIEW`, and an admin's decision
 * on one (`approve` sends it on to its gateway as its create would have; `decline` fails it,
 * `risk_declined`). The decision is on the payment's audit trail with the token's subject as actor.
 *
 * Whose payments: a merchant admin token sees and decides its own merchant's; a platform admin
 * (`platform:admin`) names another merchant with `merchant_id` (its own without it).
 *
 * @module
 */
import { TenderError } from '@tender/core';
import type { Router } from 'express';
import { z } from 'zod';
import { adminMerchantScope, principalOf } from '../auth';
import { apiSchemas, validate } from '../schemas';
import { listJson, paymentJson } from '../serialize';
import { pageOptions, pathId, stringQuery, type RouteContext } from './shared';

const KNOWN_QUERY = new Set(['limit', 'starting_after', 'merchant_id']);

/** `POST /api/v1/admin/payments/:id/review`. */
export const ReviewBody = z
  .strictObject({
    decision: z.enum(['approve', 'decline']).describe('`approve` sends the payment on to its gateway; `decline` fails it (`risk_declined`)'),
    reason: z.string().max(500).regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters').nullish().describe('Why, recorded on the audit trail'),
    merchant_id: z.string().max(64).nullish().describe("A platform admin's merchant of the payment (default: the token's own)"),
  })
  .register(apiSchemas, { id: 'ReviewPayment' });

/** Adds the review queue routes to the authenticated API router. */
export function adminReviewRoutes(api: Router, { tender, need, requestOptions }: RouteContext): void {
  api.get('/admin/reviews', need('admin:read'), async (req, res) => {
    const query = stringQuery(req);
    for (const key of Object.keys(query)) {
      if (!KNOWN_QUERY.has(key)) throw new TenderError({ type: 'invalid_request_error', code: 'unknown_parameter', message: `Unknown query parameter '${key.slice(0, 64)}' (accepted: limit, starting_after, merchant_id)`, param: key.slice(0, 64) });
    }
    const principal = principalOf(req);
    const merchantId = adminMerchantScope(principal, query.merchant_id) ?? principal.merchantId;
    const page = await tender.payments.list({ merchantId, status: 'REQUIRES_REVIEW', ...pageOptions(query) });
    res.json(listJson(page.data, page.hasMore, page.nextCursor, paymentJson));
  });

  api.post('/admin/payments/:id/review', need('admin:write'), async (req, res) => {
    const id = pathId(req, 'payment');
    const body = validate(ReviewBody, req.body);
    const principal = principalOf(req);
    const merchantId = adminMerchantScope(principal, body.merchant_id ?? undefined) ?? principal.merchantId;
    const payment = await tender.payments.review(id, { decision: body.decision, reason: body.reason ?? null }, { ...requestOptions(req, res), merchantId, actor: principal.merchantId });
    res.json(paymentJson(payment));
  });
}
