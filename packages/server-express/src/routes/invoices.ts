/**
 * Invoices of the merchant's subscriptions, mirrored from the gateway: one invoice, a user's, a
 * subscription's, and an invoice's audit trail.
 *
 * @module
 */
import type { Router } from 'express';
import { PageQuery, validate } from '../schemas';
import { billingTransitionJson, invoiceJson } from '../serialize-billing';
import { listJson } from '../serialize';
import { pageOptions, pathId, pathUserId, stringQuery, type RouteContext } from './shared';

/** Adds the invoice routes to the authenticated API router. */
export function invoiceRoutes(api: Router, { tender, need, merchantOf }: RouteContext): void {
  api.get('/invoices/:id', need('payments:read'), async (req, res) => {
    res.json(invoiceJson(await tender.invoices.get(pathId(req, 'invoice'), { merchantId: merchantOf(req) })));
  });

  api.get('/users/:user_id/invoices', need('payments:read'), async (req, res) => {
    const userId = pathUserId(req);
    const q = validate(PageQuery, stringQuery(req));
    const page = await tender.invoices.list({ merchantId: merchantOf(req), userId, ...pageOptions(q) });
    res.json(listJson(page.data, page.hasMore, page.nextCursor, invoiceJson));
  });

  // Another merchant's subscription is a 404 (the engine checks it belongs to the caller).
  api.get('/subscriptions/:id/invoices', need('payments:read'), async (req, res) => {
    const subscriptionId = pathId(req, 'subscription');
    const q = validate(PageQuery, stringQuery(req));
    const page = await tender.invoices.list({ merchantId: merchantOf(req), subscriptionId, ...pageOptions(q) });
    res.json(listJson(page.data, page.hasMore, page.nextCursor, invoiceJson));
  });

  api.get('/invoices/:id/transitions', need('payments:read'), async (req, res) => {
    const transitions = await tender.invoices.transitions(pathId(req, 'invoice'), { merchantId: merchantOf(req) });
    res.json(listJson(transitions, false, null, billingTransitionJson));
  });
}
