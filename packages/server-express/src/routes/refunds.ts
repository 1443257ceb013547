/**
 * Refunds: `POST /payments/:id/refund`, a payment's refunds (`GET /payments/:id/refunds`) and one
 * refund (`GET /refunds/:id`).
 *
 * @module
 */
import type { Router } from 'express';
import { PageQuery, RefundBody, validate } from '../schemas';
import { listJson, refundJson } from '../serialize';
import { refundInputFromBody } from './inputs';
import { pageOf, pathId, stringQuery, type RouteContext } from './shared';

/** Adds the refund routes to the authenticated API router. */
export function refundRoutes(api: Router, { tender, need, merchantOf, requestOptions, timed }: RouteContext): void {
  api.post('/payments/:id/refund', need('refunds:write'), async (req, res) => {
    const id = pathId(req, 'payment');
    const input = await refundInputFromBody(tender, id, merchantOf(req), validate(RefundBody, req.body));
    const refund = await timed('refund', () => 'n/a', () => tender.payments.refund(id, input, requestOptions(req, res)));
    res.status(201).json(refundJson(refund));
  });

  api.get('/payments/:id/refunds', need('payments:read'), async (req, res) => {
    const q = validate(PageQuery, stringQuery(req));
    const refunds = await tender.refunds.list(pathId(req, 'payment'), { merchantId: merchantOf(req) });
    const page = pageOf(refunds, q);
    res.json(listJson(page.data, page.hasMore, page.next, refundJson));
  });

  api.get('/refunds/:id', need('payments:read'), async (req, res) => {
    const refund = await tender.refunds.get(pathId(req, 'refund'), { merchantId: merchantOf(req) });
    res.json(refundJson(refund));
  });
}
