/**
 * Payments: create, list (all, or one user's), read, the status check, authorize (a payment created
 * with `confirm: false`), capture, cancel, the audit trail (`/transitions`) and live status (`/events`
 * as SSE, `/ws` as WebSocket).
 *
 * @module
 */
import type { Request, Router } from 'express';
import { AuthorizeBody } from '../billing-schemas';
import { createLiveStatus } from '../live';
import { CancelBody, CaptureBody, CreatePaymentBody, ListPaymentsQuery, validate } from '../schemas';
import { isRiskBlocked, riskBlockedError, riskSignalsOf } from '../risk';
import { listJson, paymentJson, transitionJson } from '../serialize';
import { assertOwnMerchant, captureInputFromBody, createInputFromBody } from './inputs';
import { pageOptions, pathId, pathUserId, stringQuery, type RouteContext } from './shared';

/** Adds the payment routes to the authenticated API router. */
export function paymentRoutes(api: Router, { tender, options, logger, metrics, need, merchantOf, requestOptions, timed }: RouteContext): void {
  api.post('/payments', need('payments:write'), async (req, res) => {
    const body = validate(CreatePaymentBody, req.body);
    assertOwnMerchant(body.merchant_id, merchantOf(req));
    const input = { ...createInputFromBody(body), risk: riskSignalsOf(req, body) };
    let gatewayLabel = body.gateway ?? 'auto';
    const payment = await timed('create', () => gatewayLabel, async () => {
      const p = await tender.payments.create(input, requestOptions(req, res));
      gatewayLabel = p.gateway;
      return p;
    });
    // Stored FAILED and sent nowhere: the caller is told it was declined, not why (no rule or score).
    if (isRiskBlocked(payment)) throw riskBlockedError();
    res.status(201).json(paymentJson(payment));
  });

  const list = async (req: Request, userId?: string) => {
    const q = validate(ListPaymentsQuery, stringQuery(req));
    const page = await tender.payments.list({
      merchantId: merchantOf(req),
      ...pageOptions(q),
      ...(q.order_id ? { orderId: q.order_id } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.gateway ? { gateway: q.gateway } : {}),
      ...(q.created_from !== undefined ? { createdFrom: q.created_from } : {}),
      ...(q.created_before !== undefined ? { createdBefore: q.created_before } : {}),
      ...(userId !== undefined ? { userId } : {}),
    });
    return listJson(page.data, page.hasMore, page.nextCursor, paymentJson);
  };
  api.get('/payments', need('payments:read'), async (req, res) => {
    res.json(await list(req));
  });
  // The same query and pages as GET /payments, of the payments made with this user_id.
  api.get('/users/:user_id/payments', need('payments:read'), async (req, res) => {
    res.json(await list(req, pathUserId(req)));
  });

  api.get('/payments/:id', need('payments:read'), async (req, res) => {
    const payment = await tender.payments.get(pathId(req, 'payment'), { merchantId: merchantOf(req) });
    res.json(paymentJson(payment));
  });

  // The status route: like GET /payments/:id, but an open payment is first checked with the
  // gateway (at most every 2 s per payment), so a buyer back from an approval page sees the outcome
  // without waiting for the webhook. Only the gateway's answer can change the payment.
  api.get('/payments/:id/status', need('payments:read'), async (req, res) => {
    const payment = await tender.payments.sync(pathId(req, 'payment'), { merchantId: merchantOf(req) });
    res.json(paymentJson(payment));
  });

  // Two-step authorize: a payment created with `confirm: false` is PENDING, not yet at the gateway;
  // this sends it (as the create would have), answering what the gateway says.
  api.post('/payments/:id/authorize', need('payments:write'), async (req, res) => {
    const id = pathId(req, 'payment');
    validate(AuthorizeBody, req.body);
    const payment = await timed('authorize', () => 'n/a', () => tender.payments.authorize(id, requestOptions(req, res)));
    res.json(paymentJson(payment));
  });

  api.post('/payments/:id/capture', need('payments:write'), async (req, res) => {
    const id = pathId(req, 'payment');
    const input = await captureInputFromBody(tender, id, merchantOf(req), validate(CaptureBody, req.body));
    const payment = await timed('capture', () => 'n/a', () => tender.payments.capture(id, input, requestOptions(req, res)));
    res.json(paymentJson(payment));
  });

  api.post('/payments/:id/cancel', need('payments:write'), async (req, res) => {
    const id = pathId(req, 'payment');
    validate(CancelBody, req.body);
    const payment = await timed('cancel', () => 'n/a', () => tender.payments.cancel(id, requestOptions(req, res)));
    res.json(paymentJson(payment));
  });

  api.get('/payments/:id/transitions', need('payments:read'), async (req, res) => {
    const transitions = await tender.transitions(pathId(req, 'payment'), { merchantId: merchantOf(req) });
    res.json(listJson(transitions, false, null, transitionJson));
  });

  // Live status: the payment's audit trail pushed as it grows (see docs/live-status.md).
  const live = options.live ?? createLiveStatus(tender, { logger, ...(metrics ? { metrics } : {}) });
  api.get('/payments/:id/events', need('payments:read'), async (req, res) => {
    await live.eventStream(req, res, { merchantId: merchantOf(req), paymentId: pathId(req, 'payment') });
  });
  api.get('/payments/:id/ws', need('payments:read'), async (req, res) => {
    await live.webSocket(req, res, { merchantId: merchantOf(req), paymentId: pathId(req, 'payment') });
  });
}
