/**
 * Fiuu's checkout: the return URL the customer's browser comes back to
 * (`/api/v1/payments/fiuu/return`), and `GET /api/v1/payments/seamless/config`, which answers what
 * Fiuu's seamless plugin and the `@tender/fiuu` browser bundle expect.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { Money, paymentAmount, TenderError, type CreatePaymentInput, type Payment, type Tender } from '@tender/core';
import { seamlessConfigResponse, type FiuuGateway } from '@tender/fiuu';
import type { Router } from 'express';
import { principalOf } from '../auth';
import { asTenderError, sendError } from '../errors';
import { CreatePaymentBody, SeamlessConfigQuery, validate } from '../schemas';
import { createInputFromBody } from './inputs';
import { isRiskBlocked, riskBlockedError, riskSignalsOf } from '../risk';
import { compact, notFoundId, rawBody, stringQuery, webhookRequest, type RouteContext } from './shared';

function isFiuu(gateway: unknown): gateway is FiuuGateway {
  return typeof gateway === 'object' && gateway !== null && typeof (gateway as { handleReturn?: unknown }).handleReturn === 'function';
}

/**
 * Adds Fiuu's return URL to `router` (the root one: the customer's browser carries no token). It
 * verifies the result and renders the page that reports it to the checkout page.
 */
export function fiuuReturnRoute(router: Router, { tender, options }: RouteContext): void {
  router.all('/api/v1/payments/fiuu/return', rawBody(), async (req, res) => {
    const gateway = tender.gateways.get('fiuu');
    if (!isFiuu(gateway)) throw notFoundId('gateway', 'fiuu');
    const request = webhookRequest(req);
    if (req.method === 'GET') request.rawBody = new TextEncoder().encode(new URLSearchParams(request.query).toString());
    // Records the result on the payment's trail; the status itself changes through the notification.
    await tender.webhooks.handle('fiuu', { ...request, query: { ...request.query, kind: 'return' } }).catch(() => undefined);
    const nonce = randomBytes(16).toString('base64');
    const origin = options.checkoutOrigin ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    const page = gateway.handleReturn(request, { targetOrigin: origin, nonce });
    res.setHeader('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'`);
    res.type('html').send(page.html);
  });
}

/**
 * Adds `GET /payments/seamless/config` to the authenticated API router; it must come before
 * `GET /payments/:id`, which would take `seamless` for an id. With an amount it starts (or reuses) a
 * Fiuu payment; without one it answers the static browser configuration. Errors are in the shape
 * Fiuu's plugin reads as well as the API's.
 */
export function seamlessConfigRoute(api: Router, { tender, requestOptions, timed }: RouteContext): void {
  api.get('/payments/seamless/config', async (req, res) => {
    try {
      const q = validate(SeamlessConfigQuery, stringQuery(req));
      if (q.amount === undefined) {
        if (!principalOf(req).scopes.has('payments:read')) throw new TenderError({ type: 'permission_error', code: 'insufficient_scope', message: "This token lacks the 'payments:read' scope" });
        const config = await tender.clientConfig('fiuu', compact({ paymentMethod: q.payment_method, currency: q.currency?.toUpperCase() }));
        res.json({ status: true, gateway: config.gateway, ...config.params });
        return;
      }
      if (!principalOf(req).scopes.has('payments:write')) throw new TenderError({ type: 'permission_error', code: 'insufficient_scope', message: "This token lacks the 'payments:write' scope" });
      const input = {
        ...createInputFromBody(validate(CreatePaymentBody, compact({ ...q, currency: q.currency ?? 'MYR', gateway: 'fiuu' }))),
        // The browser bundle's deviceFingerprint travels as X-Device-Fingerprint.
        risk: riskSignalsOf(req, {}),
      };
      const { payment, reused } = await timed('create', () => 'fiuu', () => seamlessPayment(tender, input, requestOptions(req, res)));
      if (isRiskBlocked(payment)) throw riskBlockedError();
      res.status(reused ? 200 : 201).json(seamlessConfigResponse(payment));
    } catch (error) {
      const e = asTenderError(error);
      if (e.status >= 500) throw error;
      // Fiuu's plugin reads status/error_code/error_desc; the error member keeps the API's shape.
      sendError(res, e, { status: false, error_code: e.code, error_desc: e.message });
    }
  });
}

// Statuses of a payment for the order that a new checkout must not compete with.
const SEAMLESS_IN_PROGRESS: ReadonlySet<string> = new Set(['PENDING', 'PROCESSING']);
const SEAMLESS_PAID: ReadonlySet<string> = new Set(['AUTHORIZED', 'CAPTURED', 'PARTIALLY_REFUNDED']);
const SEAMLESS_ATTEMPTS = 30;
const SEAMLESS_RETRY_MS = 100;

/**
 * The Fiuu payment behind `GET /api/v1/payments/seamless/config?order_id=...&amount=...`. A browser
 * reloads that GET, so it must not start a payment per call: the merchant's open payment for the order
 * (REQUIRES_ACTION, Fiuu, same amount, currency and payment method) is reused. Otherwise a payment is
 * created under an idempotency key derived from merchant, order, amount, currency and method plus a
 * generation (how many such payments ended unpaid), so that concurrent reloads make one payment
 * between them and a new attempt follows a failed, cancelled, expired or refunded one. A payment of the
 * order still in progress (PENDING, PROCESSING) or paid is a 409, not a second checkout.
 */
async function seamlessPayment(
  tender: Tender,
  input: CreatePaymentInput,
  options: { merchantId: string; idempotencyKey?: string; onReplay?: () => void },
): Promise<{ payment: Payment; reused: boolean }> {
  if (!input.orderId && options.idempotencyKey === undefined) {
    throw new TenderError({
      type: 'invalid_request_error',
      code: 'parameter_missing',
      message: 'order_id is required to start a payment from this GET (each reload must find the same payment); or send an Idempotency-Key',
      param: 'order_id',
    });
  }
  if (!input.orderId) return { payment: await tender.payments.create(input, options), reused: false };
  const wanted = Money.of(input.amount ?? '', input.currency);
  const method = (input.paymentMethod ?? '').toUpperCase();
  const matches = (p: Payment) =>
    p.gateway === 'fiuu' && p.currency === wanted.currency && paymentAmount(p).equals(wanted) && (p.paymentMethod ?? '').toUpperCase() === method;
  for (let attempt = 1; ; attempt++) {
    const same: Payment[] = [];
    let cursor: string | undefined;
    do {
      const page = await tender.payments.list({ merchantId: options.merchantId, orderId: input.orderId, limit: 100, ...(cursor ? { startingAfter: cursor } : {}) });
      same.push(...page.data.filter(matches));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && same.length < 1000);
    // Newest first: the most recent open payment is the one the customer was shown.
    const open = same.find((p) => p.status === 'REQUIRES_ACTION');
    if (open) return { payment: open, reused: true };
    const paid = same.find((p) => SEAMLESS_PAID.has(p.status));
    if (paid) {
      throw new TenderError({ type: 'invalid_request_error', code: 'order_already_paid', status: 409, message: `Order ${input.orderId} is already paid by payment ${paid.id} (${paid.status})`, param: 'order_id' });
    }
    // PENDING is another call's create in flight (it resolves in moments); PROCESSING is the customer's
    // payment under way at Fiuu, which no reload may compete with.
    const busy = same.find((p) => SEAMLESS_IN_PROGRESS.has(p.status));
    if (busy && (busy.status === 'PROCESSING' || attempt >= SEAMLESS_ATTEMPTS)) {
      throw new TenderError({ type: 'invalid_request_error', code: 'payment_in_progress', status: 409, retryable: true, retryAfterSeconds: 1, message: `Payment ${busy.id} of order ${input.orderId} is ${busy.status}; wait for its outcome`, param: 'order_id' });
    }
    if (!busy) {
      const generation = same.length;
      const key =
        options.idempotencyKey ??
        `seamless-config:${createHash('sha256').update(JSON.stringify([options.merchantId, input.orderId, wanted.toString(), wanted.currency, method])).digest('hex').slice(0, 40)}:${generation}`;
      try {
        return { payment: await tender.payments.create(input, { ...options, idempotencyKey: key }), reused: false };
      } catch (error) {
        // Another reload holds the key (409) or finished first with other customer details (422):
        // look again, and the payment it made is found. A key the caller chose is the caller's to retry.
        if (options.idempotencyKey !== undefined || !TenderError.isInstance(error) || error.type !== 'idempotency_error' || attempt >= SEAMLESS_ATTEMPTS) throw error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, SEAMLESS_RETRY_MS));
  }
}
