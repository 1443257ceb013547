/**
 * Saved payment methods of the merchant's users: save a gateway token (`POST /payment-methods`, and
 * seed 001's `POST /payment-methods/tokenize`, which refuses raw card data), list them (all the
 * merchant's, or one user's), read one, make one the default, remove one.
 *
 * Card numbers never reach this server: the browser gives them to the gateway's hosted fields
 * (Stripe Elements, https://docs.stripe.com/payments/elements; Fiuu seamless) and sends the token it
 * gets back. A body carrying card data is refused before anything is parsed further, logged or stored.
 *
 * @module
 */
import type { Request, Response, Router } from 'express';
import { ListPaymentMethodsQuery, NoFieldsBody, SavePaymentMethodBody } from '../billing-schemas';
import { PageQuery, validate } from '../schemas';
import { paymentMethodJson } from '../serialize-billing';
import { listJson } from '../serialize';
import { assertNoCardData } from './inputs';
import { pageOptions, pathId, pathUserId, stringQuery, type RouteContext } from './shared';

/** Adds the payment method routes to the authenticated API router. */
export function paymentMethodRoutes(api: Router, { tender, need, merchantOf, billingOptions }: RouteContext): void {
  const save = async (req: Request, res: Response) => {
    // Before validation: an unknown field holding a card number must be refused as card data, not
    // named as an unknown parameter; and no value of it is ever echoed. Values shaped like a card
    // number are refused too, but for user_id: numeric user ids (snowflakes) pass the Luhn check.
    assertNoCardData(req.body, '');
    const { user_id: _userId, ...rest } = (req.body ?? {}) as Record<string, unknown>;
    assertNoCardData(rest, '', { values: true });
    const body = validate(SavePaymentMethodBody, req.body);
    const method = await tender.paymentMethods.save(
      { userId: body.user_id, token: body.payment_method, ...(body.gateway ? { gateway: body.gateway } : {}), ...(body.set_default != null ? { setDefault: body.set_default } : {}) },
      billingOptions(req),
    );
    res.status(201).json(paymentMethodJson(method));
  };
  api.post('/payment-methods', need('payments:write'), save);
  api.post('/payment-methods/tokenize', need('payments:write'), save);

  api.get('/payment-methods', need('payments:read'), async (req, res) => {
    const q = validate(ListPaymentMethodsQuery, stringQuery(req));
    const page = await tender.paymentMethods.list({ merchantId: merchantOf(req), ...pageOptions(q), ...(q.user_id ? { userId: q.user_id } : {}) });
    res.json(listJson(page.data, page.hasMore, page.nextCursor, paymentMethodJson));
  });

  api.get('/users/:user_id/payment-methods', need('payments:read'), async (req, res) => {
    const userId = pathUserId(req);
    const q = validate(PageQuery, stringQuery(req));
    const page = await tender.paymentMethods.list({ merchantId: merchantOf(req), userId, ...pageOptions(q) });
    res.json(listJson(page.data, page.hasMore, page.nextCursor, paymentMethodJson));
  });

  api.get('/payment-methods/:id', need('payments:read'), async (req, res) => {
    res.json(paymentMethodJson(await tender.paymentMethods.get(pathId(req, 'payment method'), { merchantId: merchantOf(req) })));
  });

  api.post('/payment-methods/:id/default', need('payments:write'), async (req, res) => {
    const id = pathId(req, 'payment method');
    validate(NoFieldsBody, req.body);
    const method = await tender.paymentMethods.setDefault(id, billingOptions(req));
    res.json(paymentMethodJson(method));
  });

  api.delete('/payment-methods/:id', need('payments:write'), async (req, res) => {
    const id = pathId(req, 'payment method');
    const method = await tender.paymentMethods.remove(id, billingOptions(req));
    res.json(paymentMethodJson(method));
  });
}
