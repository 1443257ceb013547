/**
 * Subscriptions run by the gateway's billing engine (Stripe Billing,
 * https://docs.stripe.com/billing/subscriptions/overview) for the merchant's users: start one, read
 * one, a user's list, cancel (now, or at the end of the period), and the audit trail. Prices, trials
 * and retries are the gateway's; Tender mirrors what it reports.
 *
 * @module
 */
import { TenderError } from '@tender/core';
import type { Router } from 'express';
import { CancelSubscriptionBody, CancelSubscriptionQuery, CreateSubscriptionBody, ListSubscriptionsQuery } from '../billing-schemas';
import { validate } from '../schemas';
import { billingTransitionJson, subscriptionJson } from '../serialize-billing';
import { listJson } from '../serialize';
import { assertNoCardData } from './inputs';
import { pageOptions, pathId, pathUserId, stringQuery, type RouteContext } from './shared';

/**
 * Whether a cancel waits for the period's end: `at_period_end` as a query parameter (a DELETE often
 * has no body) or in the body; both given must agree.
 * @throws TenderError 400 `ambiguous_parameter` for two different values.
 */
function atPeriodEnd(query: { at_period_end?: 'true' | 'false' | undefined }, body: { at_period_end?: boolean | null | undefined }): boolean {
  const fromQuery = query.at_period_end === undefined ? undefined : query.at_period_end === 'true';
  const fromBody = body.at_period_end ?? undefined;
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw new TenderError({ type: 'invalid_request_error', code: 'ambiguous_parameter', message: 'at_period_end is given twice (query and body) with different values', param: 'at_period_end' });
  }
  return fromQuery ?? fromBody ?? false;
}

/** Adds the subscription routes to the authenticated API router. */
export function subscriptionRoutes(api: Router, { tender, need, merchantOf, billingOptions }: RouteContext): void {
  api.post('/subscriptions', need('payments:write'), async (req, res) => {
    // As a save's body: card data is refused before anything is validated, sent to the gateway
    // (whose "No such price: '...'" would echo it) or stored (metadata), and never repeated. Values
    // shaped like a card number count too, but for user_id (numeric user ids pass the Luhn check).
    assertNoCardData(req.body, '');
    const { user_id: _userId, ...rest } = (req.body ?? {}) as Record<string, unknown>;
    assertNoCardData(rest, '', { values: true });
    const body = validate(CreateSubscriptionBody, req.body);
    const subscription = await tender.subscriptions.create(
      {
        userId: body.user_id,
        priceId: body.price_id,
        ...(body.payment_method ? { paymentMethod: body.payment_method } : {}),
        ...(body.trial_days != null ? { trialDays: body.trial_days } : {}),
        ...(body.quantity != null ? { quantity: body.quantity } : {}),
        ...(body.gateway ? { gateway: body.gateway } : {}),
        ...(body.metadata ? { metadata: { ...body.metadata } } : {}),
      },
      billingOptions(req),
    );
    res.status(201).json(subscriptionJson(subscription));
  });

  api.get('/subscriptions/:id', need('payments:read'), async (req, res) => {
    res.json(subscriptionJson(await tender.subscriptions.get(pathId(req, 'subscription'), { merchantId: merchantOf(req) })));
  });

  api.get('/users/:user_id/subscriptions', need('payments:read'), async (req, res) => {
    const userId = pathUserId(req);
    const q = validate(ListSubscriptionsQuery, stringQuery(req));
    const page = await tender.subscriptions.list({ merchantId: merchantOf(req), userId, ...pageOptions(q), ...(q.status ? { status: q.status } : {}) });
    res.json(listJson(page.data, page.hasMore, page.nextCursor, subscriptionJson));
  });

  api.delete('/subscriptions/:id', need('payments:write'), async (req, res) => {
    const id = pathId(req, 'subscription');
    const atEnd = atPeriodEnd(validate(CancelSubscriptionQuery, stringQuery(req)), validate(CancelSubscriptionBody, req.body));
    const subscription = await tender.subscriptions.cancel(id, { atPeriodEnd: atEnd }, billingOptions(req));
    res.json(subscriptionJson(subscription));
  });

  api.get('/subscriptions/:id/transitions', need('payments:read'), async (req, res) => {
    const transitions = await tender.subscriptions.transitions(pathId(req, 'subscription'), { merchantId: merchantOf(req) });
    res.json(listJson(transitions, false, null, billingTransitionJson));
  });
}
