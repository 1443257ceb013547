/**
 * Embedding `@tender/core` in a Fastify app: your routes call the engine directly, so the request
 * and response shapes are yours. Three routes show the parts that need care:
 *
 * - `POST /checkout`: the client's `Idempotency-Key` header goes to `tender.payments.create`, so a
 *   retried request answers the stored result (`Idempotent-Replayed: true`) instead of paying twice.
 * - `POST /orders/:id/refund`: the same for refunds.
 * - `POST /webhooks/:gateway`: the body is read as raw bytes (a Buffer) and handed to
 *   `tender.webhooks.handle`, which verifies the gateway's signature on exactly those bytes; a body
 *   Fastify had parsed and re-serialised would no longer match the signature.
 *
 * A `TenderError` carries its HTTP status and a public JSON body (`error.toJSON()`), so one error
 * handler maps every engine error.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { TenderError, type Payment, type Tender } from '@tender/core';

/** What this shop answers for a payment (choose your own shape; Tender's is `Payment`). */
function view(payment: Payment) {
  return {
    id: payment.id,
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
    orderId: payment.orderId,
    nextAction: payment.nextAction ?? null,
  };
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** Builds the Fastify app around an engine made by `createTender`. */
export function buildApp(tender: Tender): FastifyInstance {
  const app = Fastify();

  app.setErrorHandler((error, _request, reply) => {
    if (TenderError.isInstance(error)) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.status(error.status).send(error.toJSON());
    }
    // Fastify's own errors (a malformed JSON body is a 400) keep their status; anything else is ours.
    const { statusCode, message } = error as { statusCode?: number; message?: string };
    const status = statusCode ?? 500;
    return reply.status(status).send({ error: { type: status < 500 ? 'invalid_request_error' : 'api_error', message: status < 500 ? String(message) : 'Internal error' } });
  });

  app.post<{ Body: { amount: string; currency: string; orderId?: string; paymentMethod?: string } }>('/checkout', async (request, reply) => {
    let replayed = false;
    const payment = await tender.payments.create(
      { amount: request.body.amount, currency: request.body.currency, orderId: request.body.orderId ?? null, paymentMethod: request.body.paymentMethod ?? null },
      { idempotencyKey: header(request.headers['idempotency-key']), onReplay: () => (replayed = true) },
    );
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(201).send(view(payment));
  });

  app.get<{ Params: { id: string } }>('/orders/:id', async (request) => view(await tender.payments.get(request.params.id)));

  app.post<{ Params: { id: string }; Body: { amount?: string } | undefined }>('/orders/:id/refund', async (request, reply) => {
    let replayed = false;
    const refund = await tender.payments.refund(
      request.params.id,
      { amount: request.body?.amount },
      { idempotencyKey: header(request.headers['idempotency-key']), onReplay: () => (replayed = true) },
    );
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(201).send({ id: refund.id, status: refund.status, amount: refund.amount });
  });

  // Webhooks in their own encapsulated plugin, so only these routes read the body as raw bytes.
  app.register(async (webhooks) => {
    webhooks.removeAllContentTypeParsers();
    webhooks.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    webhooks.post<{ Params: { gateway: string } }>('/webhooks/:gateway', async (request, reply) => {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const query = request.query as Record<string, string>;
      const handled = await tender.webhooks.handle(request.params.gateway, { headers: request.headers, rawBody, query });
      return reply.status(handled.status).headers(handled.headers ?? {}).send(handled.body);
    });
  });

  return app;
}
