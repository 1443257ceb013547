/**
 * Disputes (chargebacks and inquiries) of the merchant's payments, recorded from the gateways'
 * webhooks: the merchant's list, one dispute, a payment's disputes with the amount they hold, and a
 * dispute's audit trail. Another merchant's dispute or payment is a 404.
 *
 * @module
 */
import type { Router } from 'express';
import { ListDisputesQuery } from '../dispute-schemas';
import { validate } from '../schemas';
import { listJson } from '../serialize';
import { disputeJson, disputeTransitionJson, paymentDisputesJson } from '../serialize-disputes';
import { pageOptions, pathId, stringQuery, type RouteContext } from './shared';

/** Adds the dispute routes to the authenticated API router. */
export function disputeRoutes(api: Router, { tender, need, merchantOf }: RouteContext): void {
  api.get('/disputes', need('payments:read'), async (req, res) => {
    const q = validate(ListDisputesQuery, stringQuery(req));
    const page = await tender.disputes.list({
      merchantId: merchantOf(req),
      ...pageOptions(q),
      ...(q.status ? { status: q.status } : {}),
      ...(q.payment_id ? { paymentId: q.payment_id } : {}),
    });
    res.json(listJson(page.data, page.hasMore, page.nextCursor, disputeJson));
  });

  api.get('/disputes/:id', need('payments:read'), async (req, res) => {
    res.json(disputeJson(await tender.disputes.get(pathId(req, 'dispute'), { merchantId: merchantOf(req) })));
  });

  api.get('/disputes/:id/transitions', need('payments:read'), async (req, res) => {
    const transitions = await tender.disputes.transitions(pathId(req, 'dispute'), { merchantId: merchantOf(req) });
    res.json(listJson(transitions, false, null, disputeTransitionJson));
  });

  api.get('/payments/:id/disputes', need('payments:read'), async (req, res) => {
    const merchantId = merchantOf(req);
    const paymentId = pathId(req, 'payment');
    const disputes = await tender.disputes.listForPayment(paymentId, { merchantId });
    res.json(paymentDisputesJson(await tender.payments.get(paymentId, { merchantId }), disputes));
  });
}
