/**
 * Refunds: `POST /payments/:id/refund` (and the Stripe seed's `POST /refunds`, the payment named in
 * the body as `transaction_id`), a payment's refunds (`GET /payments/:id/refunds`) and one refund
 * (`GET /refunds/:id`).
 *
 * @module
 */
import type { Request, Response, Router } from 'express';
import { badRequest } from '../errors';
import { CreateRefundBody, PageQuery, RefundBody, validate } from '../schemas';
import { listJson, refundJson } from '../serialize';
import { eitherName, refundInputFromBody } from './inputs';
import { pageOf, pathId, resourceId, stringQuery, type RouteContext } from './shared';

/** Adds the refund routes to the authenticated API router. */
export function refundRoutes(api: Router, { tender, need, merchantOf, requestOptions, timed }: RouteContext): void {
  // One path for both routes, so POST /refunds answers exactly what POST /payments/:id/refund does.
  const refund = async (req: Request, res: Response, id: string, body: ReturnType<typeof RefundBody.parse>) => {
    const input = await refundInputFromBody(tender, id, merchantOf(req), body);
    const made = await timed('refund', () => 'n/a', () => tender.payments.refund(id, input, requestOptions(req, res)));
    res.status(201).json(refundJson(made));
  };

  api.post('/payments/:id/refund', need('refunds:write'), async (req, res) => {
    await refund(req, res, pathId(req, 'payment'), validate(RefundBody, req.body));
  });

  api.post('/refunds', need('refunds:write'), async (req, res) => {
    const { transaction_id, payment_id, ...body } = validate(CreateRefundBody, req.body);
    const id = eitherName(transaction_id, 'transaction_id', payment_id, 'payment_id');
    if (id === undefined) throw badRequest('parameter_missing', 'transaction_id: the payment to refund (its id, pay_...) is required', 'transaction_id');
    await refund(req, res, resourceId(id, 'payment'), body);
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
