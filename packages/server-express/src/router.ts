/**
 * `createTenderRouter`: Tender's REST API (the OpenAPI document at `/openapi.json`) as an Express 5 router over an engine made
 * with `createTender`. It validates shapes (zod), authenticates, maps names between the wire
 * (snake_case) and the engine, and adds no payment logic of its own.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { Money, TenderError, redactingLogger, silentLogger, type CaptureInput, type CreatePaymentInput, type Logger, type Payment, type RefundInput, type Tender, type WebhookEndpoint, type WebhookRequest } from '@tender/core';
import { seamlessConfigResponse, type FiuuGateway } from '@tender/fiuu';
import { createStaticUpiLink, upiQrPngDataUrl, upiQrSvg } from '@tender/upi';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { rateLimit, type Store as RateLimitStore } from 'express-rate-limit';
import { createAuthenticator, principalOf, requireScope, setPrincipal, type AuthOptions, type Principal, type Scope } from './auth';
import { asTenderError, errorHandler, sendError } from './errors';
import { jsonBody } from './json-body';
import { httpMetrics, metricsHandler, timeOperation, type MetricsEndpointOptions, type TenderMetrics } from './metrics';
import { buildOpenApiDocument, type OpenApiInfo } from './openapi';
import { publishedEvent } from './present';
import {
  CancelBody,
  CaptureBody,
  CreatePaymentBody,
  CreateWebhookEndpointBody,
  ListPaymentsQuery,
  PageQuery,
  RefundBody,
  SeamlessConfigQuery,
  StaticUpiLinkBody,
  validate,
} from './schemas';
import { listJson, paymentJson, refundJson, transitionJson } from './serialize';
import { newWebhookEndpoint } from './webhook-endpoints';
import { assertPublicUrl } from './public-network';
import { createLiveStatus, type LiveStatus } from './live';
import { createReadiness, engineGateways, readinessHandler, type ReadinessReport } from './readiness';

/** Limits for one rate limiter. */
export interface RateLimitRule {
  /** Window length in ms (default 60 000). */
  windowMs?: number;
  /** Requests allowed per window. */
  limit: number;
}

/** Options of {@link createTenderRouter}. */
export interface TenderRouterOptions {
  /**
   * How API calls are authenticated (see {@link AuthOptions}). `false` turns auth off: every call acts
   * for `merchantId` with every scope — only for embedding behind your own auth.
   */
  auth: AuthOptions | false;
  /** Merchant used when `auth` is false (default `default`). */
  merchantId?: string;
  /** Metrics; records the HTTP metrics and enables `GET /metrics` (see {@link TenderRouterOptions.metricsEndpoint}). */
  metrics?: TenderMetrics;
  /**
   * How this router serves `GET /metrics` when `metrics` is set: `{ token }` requires
   * `Authorization: Bearer <token>`; `false` serves no `/metrics` here (serve it on a separate listener
   * with {@link metricsHandler}, as `METRICS_PORT` does). Default: served to anyone.
   */
  metricsEndpoint?: false | MetricsEndpointOptions;
  logger?: Logger;
  /** Largest JSON body (default `100kb`); webhooks allow `1mb`. */
  bodyLimit?: number | string;
  /** Readiness check for `GET /ready` (throw when not ready). Default: the store's `ping()` when it has one. */
  ready?: () => Promise<void>;
  /**
   * The full `GET /ready` report (database, Redis, broker, gateway circuits: see `createReadiness`).
   * Default: `ready` as the database check, and each gateway's circuit as far as its `canSend` tells.
   */
  readiness?: () => Promise<ReadinessReport>;
  /**
   * Rate limits per client IP (before auth) and per merchant (after auth). Default: 600 per minute per IP,
   * 1200 per minute per merchant. `false` turns them off.
   */
  rateLimit?: false | { perIp?: RateLimitRule | false; perMerchant?: RateLimitRule | false; store?: (prefix: string) => RateLimitStore };
  /**
   * Accept merchant webhook URLs on loopback, private and link-local addresses (default false). Match
   * the workers' `webhooks.allowPrivateNetworks`, which decides where deliveries may connect.
   */
  webhookEndpoints?: { allowPrivateNetworks?: boolean };
  /** Origin of the checkout page the Fiuu return page reports to (default: the request's own origin). */
  checkoutOrigin?: string;
  /** `info` and `servers` of the OpenAPI document. */
  openapi?: OpenApiInfo;
  /**
   * The merchant's own UPI address and name: enables `POST /api/v1/upi/static-links`, UPI links and
   * QR codes that pay this VPA directly, with no PSP. Such a payment is unverifiable (see the route).
   */
  upiStaticLinks?: { payeeVpa: string; payeeName: string };
  /**
   * Live payment status (`GET /api/v1/payments/{id}/events`, `/ws`). Default: one made with
   * `createLiveStatus(tender)`; pass your own to set its limits and to close its streams on shutdown.
   * WebSocket needs the server's upgrade requests routed to the app (see `createUpgradeHandler`).
   */
  live?: LiveStatus;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const IDEMPOTENT_REPLAYED = 'Idempotent-Replayed';

function notFoundId(resource: string, id: string): TenderError {
  return new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such ${resource}: '${id.slice(0, 64)}'`, param: 'id' });
}

/** A resource id as sent by a caller; one that cannot be an id is a 404 (as an unknown one is). */
export function resourceId(id: unknown, resource: string): string {
  if (typeof id !== 'string' || !ID.test(id)) throw notFoundId(resource, String(id ?? ''));
  return id;
}

function pathId(req: Request, resource: string, name = 'id'): string {
  return resourceId(req.params[name], resource);
}

function idempotencyKey(req: Request): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return undefined;
  return Array.isArray(key) ? key.join(',') : key;
}

function stringQuery(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query)) {
    if (typeof v === 'string') out[k] = v;
    else throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: `${k} must be given once, as a plain value`, param: k });
  }
  return out;
}

function compact<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined || value[key] === null) delete value[key];
  return value;
}

function minorAmount(body: { amount_paisa?: string | number | null; amount_minor?: string | number | null }): string | number | undefined {
  if (body.amount_paisa != null && body.amount_minor != null) {
    throw new TenderError({ type: 'invalid_request_error', code: 'ambiguous_amount', message: 'Give either amount_paisa or amount_minor, not both', param: 'amount_minor' });
  }
  return body.amount_paisa ?? body.amount_minor ?? undefined;
}

/** One value given under either of two names (a common alias and Tender's); two different values are refused. */
function eitherName(value: string | null | undefined, name: string, alias: string | null | undefined, aliasName: string): string | undefined {
  if (value != null && alias != null && value !== alias) {
    throw new TenderError({ type: 'invalid_request_error', code: 'ambiguous_parameter', message: `Give either ${name} or ${aliasName} (the same value), not two different ones`, param: aliasName });
  }
  return value ?? alias ?? undefined;
}

/** Keys of raw card data: refused wherever they appear, and never echoed or logged. */
const CARD_DATA_KEYS = /^(card|card_?number|number|pan|cvv|cvc|cvv2|cvc2|security_?code|expiry_?(month|year|date)?|exp_?(month|year)|track_?\d?)$/i;

/**
 * `payment_details`: `{ "vpa": "name@psp" }` asks for a UPI collect request (the payer's
 * app is asked to approve). Card data is refused (400 `raw_card_data_not_allowed`, without echoing
 * any value): cards are taken by the gateways' own hosted fields, so card numbers never reach this
 * server. Anything else is a 400 naming the field.
 */
function paymentDetails(value: unknown): { vpa?: string } {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: 'payment_details must be an object such as { "vpa": "name@bank" }', param: 'payment_details' });
  }
  const keys = Object.keys(value);
  if (keys.some((k) => CARD_DATA_KEYS.test(k))) {
    throw new TenderError({
      type: 'invalid_request_error',
      code: 'raw_card_data_not_allowed',
      message: 'Raw card data is never accepted: collect cards with the gateway\'s hosted fields (Stripe Elements, Fiuu seamless) and send the token they give (payment_method: "pm_...")',
      param: 'payment_details',
    });
  }
  const other = keys.find((k) => k !== 'vpa');
  if (other !== undefined) {
    throw new TenderError({ type: 'invalid_request_error', code: 'parameter_unsupported', message: `payment_details.${other.slice(0, 40)} is not supported: payment_details takes only vpa (a UPI collect request)`, param: `payment_details.${other.slice(0, 40)}` });
  }
  const vpa = (value as { vpa?: unknown }).vpa;
  if (typeof vpa !== 'string') throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: 'payment_details.vpa must be a UPI address such as name@bank', param: 'payment_details.vpa' });
  return { vpa };
}

/**
 * Maps the validated wire body to the engine's create input. The common alias names are honoured:
 * `description` is `bill_description`, `callback_url` is `notify_url`, `user_id` is kept as
 * `metadata.user_id`, `payment_details.vpa` is the payer's UPI address (a collect request).
 * `merchant_id` is checked against the caller by the router, not here.
 * @throws TenderError 400 for two different values under two names of one field, or payment_details
 * other than a vpa (raw card data: `raw_card_data_not_allowed`).
 */
export function createInputFromBody(body: ReturnType<typeof CreatePaymentBody.parse>): CreatePaymentInput {
  const { vpa } = paymentDetails(body.payment_details);
  const customer = compact({ name: body.bill_name ?? undefined, email: body.bill_email ?? undefined, phone: body.bill_mobile ?? undefined, vpa });
  let metadata = body.metadata ? { ...body.metadata } : undefined;
  if (body.user_id != null) {
    eitherName(body.user_id, 'user_id', metadata?.user_id, 'metadata.user_id');
    metadata = { ...metadata, user_id: body.user_id };
  }
  return compact({
    amount: body.amount ?? undefined,
    amountMinor: minorAmount(body),
    currency: body.currency,
    paymentMethod: body.payment_method ?? undefined,
    gateway: body.gateway ?? undefined,
    captureMethod: body.capture_method ?? undefined,
    orderId: body.order_id ?? undefined,
    description: eitherName(body.bill_description, 'bill_description', body.description, 'description'),
    customer: Object.keys(customer).length > 0 ? customer : undefined,
    returnUrl: body.return_url ?? undefined,
    notifyUrl: eitherName(body.notify_url, 'notify_url', body.callback_url, 'callback_url'),
    metadata,
  } as CreatePaymentInput & Record<string, unknown>);
}

/** A `merchant_id` in a body must name the caller: a token acts for its own merchant only. */
function assertOwnMerchant(merchantId: string | null | undefined, caller: string): void {
  if (merchantId != null && merchantId !== caller) {
    throw new TenderError({ type: 'permission_error', code: 'merchant_mismatch', message: "merchant_id is not the merchant of this token (the token's sub); leave it out or give your own", param: 'merchant_id' });
  }
}

function endpointJson(e: WebhookEndpoint, withSecret = false): Record<string, unknown> {
  return { id: e.id, object: 'webhook_endpoint', url: e.url, events: e.events, description: e.description, ...(withSecret ? { secret: e.secret } : {}), created_at: e.createdAt };
}

function pageOf<T extends { id: string }>(items: T[], query: { limit?: string; starting_after?: string }): { data: T[]; hasMore: boolean; next: string | null } {
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new TenderError({ type: 'invalid_request_error', code: 'invalid_limit', message: 'limit must be an integer from 1 to 100', param: 'limit' });
  let start = 0;
  if (query.starting_after) {
    const at = items.findIndex((i) => i.id === query.starting_after);
    if (at < 0) throw new TenderError({ type: 'invalid_request_error', code: 'invalid_cursor', message: 'starting_after is not in this list', param: 'starting_after' });
    start = at + 1;
  }
  const data = items.slice(start, start + limit);
  const hasMore = start + limit < items.length;
  return { data, hasMore, next: hasMore ? data[data.length - 1]!.id : null };
}

function webhookRequest(req: Request): WebhookRequest {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') query[k] = v;
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  return { headers, rawBody: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), query };
}

function isFiuu(gateway: unknown): gateway is FiuuGateway {
  return typeof gateway === 'object' && gateway !== null && typeof (gateway as { handleReturn?: unknown }).handleReturn === 'function';
}

/**
 * Creates the Express router serving Tender's REST API (every route is in the OpenAPI document, `GET /openapi.json`).
 * Mount it at the root of an app: `app.use(createTenderRouter(tender, { auth: { secret } }))`.
 */
export function createTenderRouter(tender: Tender, options: TenderRouterOptions): Router {
  const router = Router();
  // Embedders may pass a logger that redacts nothing: everything the router logs is redacted first.
  const logger = redactingLogger(options.logger ?? silentLogger);
  const metrics = options.metrics;
  const fixedMerchant = options.merchantId ?? 'default';
  const authenticate =
    options.auth === false
      ? async (): Promise<Principal> => ({ merchantId: fixedMerchant, scopes: new Set(['payments:read', 'payments:write', 'refunds:write']) })
      : createAuthenticator(options.auth);
  const ready = options.ready ?? storeReadiness(tender);
  const readiness = options.readiness ?? createReadiness({ database: ready, gateways: engineGateways(tender) });
  let openapi: Record<string, unknown> | undefined;

  if (metrics) router.use(httpMetrics(metrics));

  // ---- Operations (no auth) ----
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', uptime_seconds: Math.round(process.uptime()) });
  });
  router.get('/ready', readinessHandler(readiness, logger));
  if (metrics && options.metricsEndpoint !== false) router.get('/metrics', metricsHandler(metrics, options.metricsEndpoint ?? {}));
  router.get('/openapi.json', (_req, res) => {
    openapi ??= buildOpenApiDocument(options.openapi);
    res.json(openapi);
  });

  // ---- Gateway webhooks: raw bytes, authenticated by signature only ----
  const raw = express.raw({ type: () => true, limit: '1mb' });
  router.post('/api/v1/webhooks/:gateway', raw, async (req, res) => {
    const gatewayId = String(req.params.gateway);
    if (!tender.gateways.has(gatewayId)) throw notFoundId('gateway', gatewayId);
    try {
      const handled = await tender.webhooks.handle(gatewayId, webhookRequest(req));
      for (const o of handled.outcomes) metrics?.webhookEvents.inc({ gateway: gatewayId, outcome: o.outcome });
      for (const [k, v] of Object.entries(handled.headers ?? {})) res.setHeader(k, v);
      res.status(handled.status).send(handled.body);
    } catch (error) {
      const e = asTenderError(error);
      metrics?.webhookEvents.inc({ gateway: gatewayId, outcome: e.type === 'webhook_signature_error' ? 'invalid_signature' : e.status < 500 ? 'rejected' : 'error' });
      if (e.status < 500) logger.warn({ gateway: gatewayId, code: e.code }, 'webhook rejected');
      throw e;
    }
  });

  // Fiuu's return URL: verifies the result and renders the page that reports it to the checkout page.
  router.all('/api/v1/payments/fiuu/return', raw, async (req, res) => {
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

  // ---- The authenticated API ----
  const api = Router();
  router.use('/api/v1', api);
  const limits = options.rateLimit === false ? null : (options.rateLimit ?? {});
  const limiter = (rule: RateLimitRule, prefix: string, key: (req: Request) => string): RequestHandler =>
    rateLimit({
      windowMs: rule.windowMs ?? 60_000,
      limit: rule.limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      keyGenerator: key,
      passOnStoreError: true,
      validate: { keyGeneratorIpFallback: false },
      ...(limits?.store ? { store: limits.store(prefix) } : {}),
      handler: (_req, res) => {
        sendError(res, new TenderError({ type: 'rate_limit_error', code: 'rate_limited', message: 'Too many requests; slow down', retryAfterSeconds: Math.ceil((rule.windowMs ?? 60_000) / 1000) }));
      },
    });
  if (limits && limits.perIp !== false) {
    api.use(limiter(limits.perIp ?? { limit: 600 }, 'tender-ip:', (req) => `ip:${req.ip ?? 'unknown'}`));
  }
  // Live streams (SSE, WebSocket) are counted apart in failed_auth_total{api}.
  const authApi = (req: Request) => (/^\/payments\/[^/]+\/(events|ws)$/.test(req.path) ? 'live' : 'rest');
  api.use(async (req, _res, next) => {
    try {
      setPrincipal(req, await authenticate(req));
    } catch (error) {
      metrics?.recordAuthFailure(authApi(req), error);
      throw error;
    }
    next();
  });
  if (limits && limits.perMerchant !== false) {
    api.use(limiter(limits.perMerchant ?? { limit: 1200 }, 'tender-merchant:', (req) => `m:${principalOf(req).merchantId}`));
  }
  api.use(jsonBody({ limit: options.bodyLimit ?? '100kb' }));

  const need =
    (scope: Scope): RequestHandler =>
    (req, _res, next) => {
      try {
        requireScope(principalOf(req), scope);
      } catch (error) {
        metrics?.recordAuthFailure(authApi(req), error);
        throw error;
      }
      next();
    };
  const merchantOf = (req: Request) => principalOf(req).merchantId;
  const requestOptions = (req: Request, res: Response) => {
    const key = idempotencyKey(req);
    return {
      merchantId: merchantOf(req),
      ...(key !== undefined ? { idempotencyKey: key } : {}),
      onReplay: () => res.setHeader(IDEMPOTENT_REPLAYED, 'true'),
    };
  };
  const timed = <T>(operation: string, gateway: () => string, fn: () => Promise<T>): Promise<T> => timeOperation(metrics, operation, gateway, fn);

  api.post('/payments', need('payments:write'), async (req, res) => {
    const body = validate(CreatePaymentBody, req.body);
    assertOwnMerchant(body.merchant_id, merchantOf(req));
    const input = createInputFromBody(body);
    let gatewayLabel = body.gateway ?? 'auto';
    const payment = await timed('create', () => gatewayLabel, async () => {
      const p = await tender.payments.create(input, requestOptions(req, res));
      gatewayLabel = p.gateway;
      return p;
    });
    res.status(201).json(paymentJson(payment));
  });

  api.get('/payments', need('payments:read'), async (req, res) => {
    const q = validate(ListPaymentsQuery, stringQuery(req));
    const page = await tender.payments.list({
      merchantId: merchantOf(req),
      ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      ...(q.starting_after ? { startingAfter: q.starting_after } : {}),
      ...(q.order_id ? { orderId: q.order_id } : {}),
      ...(q.status ? { status: q.status } : {}),
    });
    res.json(listJson(page.data, page.hasMore, page.nextCursor, paymentJson));
  });

  // Fiuu seamless: with an amount, starts a Fiuu payment and answers what Fiuu's seamless plugin (and
  // the @tender/fiuu browser bundle) expect; without one, the static browser configuration.
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
      const input = createInputFromBody(
        validate(CreatePaymentBody, compact({ ...q, currency: q.currency ?? 'MYR', gateway: 'fiuu' })),
      );
      const { payment, reused } = await timed('create', () => 'fiuu', () => seamlessPayment(tender, input, requestOptions(req, res)));
      res.status(reused ? 200 : 201).json(seamlessConfigResponse(payment));
    } catch (error) {
      const e = asTenderError(error);
      if (e.status >= 500) throw error;
      // Fiuu's plugin reads status/error_code/error_desc; the error member keeps the API's shape.
      sendError(res, e, { status: false, error_code: e.code, error_desc: e.message });
    }
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

  api.get('/refunds/:id', need('payments:read'), async (req, res) => {
    const refund = await tender.refunds.get(pathId(req, 'refund'), { merchantId: merchantOf(req) });
    res.json(refundJson(refund));
  });

  // A static UPI link pays the merchant's VPA directly: no PSP sees it, so nothing can confirm it and
  // no payment is recorded; the merchant reconciles by `tr` against the bank statement.
  api.post('/upi/static-links', need('payments:write'), async (req, res) => {
    const body = validate(StaticUpiLinkBody, req.body);
    const payee = options.upiStaticLinks;
    if (!payee) {
      throw new TenderError({ type: 'invalid_request_error', code: 'static_links_not_configured', status: 404, message: 'Static UPI links are off: set UPI_MERCHANT_VPA and UPI_MERCHANT_NAME' });
    }
    const link = createStaticUpiLink({
      ...payee,
      ...(body.amount_paisa != null ? { amountPaise: Number(body.amount_paisa) } : {}),
      ...(body.reference != null ? { reference: body.reference } : {}),
      ...(body.note != null ? { note: body.note } : {}),
    });
    res.status(201).json({
      object: 'upi_static_link',
      payment_url: link,
      qr_code: await upiQrPngDataUrl(link),
      qr_svg: await upiQrSvg(link),
      verifiable: false,
      warning: 'No PSP sees a static link: nothing confirms that it was paid, and no payment is recorded. Reconcile by the reference (tr) against your bank statement; use a UPI payment (POST /api/v1/payments) when it must be confirmed.',
    });
  });

  // ---- Merchant webhook endpoints and events ----
  api.post('/webhook-endpoints', need('payments:write'), async (req, res) => {
    const body = validate(CreateWebhookEndpointBody, req.body);
    if (!/^https?:$/.test(new URL(body.url).protocol)) {
      throw new TenderError({ type: 'invalid_request_error', code: 'invalid_url', message: 'url must be an http(s) URL', param: 'url' });
    }
    if (!options.webhookEndpoints?.allowPrivateNetworks) assertPublicUrl(body.url);
    const endpoint = newWebhookEndpoint(merchantOf(req), { url: body.url, events: body.events ?? null, secret: body.secret ?? null, description: body.description ?? null }, new Date());
    await tender.store.createWebhookEndpoint(endpoint);
    res.status(201).json(endpointJson(endpoint, true));
  });
  api.get('/webhook-endpoints', need('payments:read'), async (req, res) => {
    const q = validate(PageQuery, stringQuery(req));
    const page = pageOf(await tender.store.listWebhookEndpoints(merchantOf(req)), q);
    res.json(listJson(page.data, page.hasMore, page.next, (e) => endpointJson(e)));
  });
  api.get('/webhook-endpoints/:id', need('payments:read'), async (req, res) => {
    const id = pathId(req, 'webhook endpoint');
    const endpoint = await tender.store.getWebhookEndpoint(merchantOf(req), id);
    if (!endpoint) throw notFoundId('webhook endpoint', id);
    res.json(endpointJson(endpoint));
  });
  api.delete('/webhook-endpoints/:id', need('payments:write'), async (req, res) => {
    const id = pathId(req, 'webhook endpoint');
    if (!(await tender.store.deleteWebhookEndpoint(merchantOf(req), id))) throw notFoundId('webhook endpoint', id);
    res.json({ id, object: 'webhook_endpoint', deleted: true });
  });
  const ownEvent = async (req: Request) => {
    const id = pathId(req, 'event');
    const row = await tender.store.getOutboxEvent(id);
    if (!row || row.merchantId !== merchantOf(req)) throw notFoundId('event', id);
    return row;
  };
  api.get('/events/:id', need('payments:read'), async (req, res) => {
    const row = await ownEvent(req);
    res.json({
      ...publishedEvent(row),
      delivery: { status: row.status, attempts: row.attempts, next_attempt_at: row.nextAttemptAt, last_error: row.lastError, delivered_at: row.deliveredAt },
      relay: { status: row.relay.status, attempts: row.relay.attempts, next_attempt_at: row.relay.nextAttemptAt, last_error: row.relay.lastError, published_at: row.relay.publishedAt },
    });
  });
  api.post('/events/:id/redeliver', need('payments:write'), async (req, res) => {
    const row = await ownEvent(req);
    await tender.store.requeueOutbox(row.id, new Date().toISOString());
    res.status(202).json({ id: row.id, object: 'event', delivery: { status: 'pending' } });
  });

  api.use((req, _res, next) => {
    next(notFoundId('route', `${req.method} ${req.baseUrl}${req.path}`.slice(0, 120)));
  });
  router.use(errorHandler(logger));
  return router;
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
    p.gateway === 'fiuu' && p.currency === wanted.currency && Money.of(p.amount, p.currency).equals(wanted) && (p.paymentMethod ?? '').toUpperCase() === method;
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

/**
 * The engine's readiness check: the store's `ping()` when it has one, else a read. Throws when the
 * store cannot answer (`GET /ready`, the gRPC health service).
 */
export function storeReadiness(tender: Tender): () => Promise<void> {
  return async () => {
    const store = tender.store as { ping?: () => Promise<void> };
    if (store.ping) await store.ping();
    else await tender.store.getPayment('pay_readiness_check');
  };
}

/**
 * Maps a validated capture body to the engine's input. One amount, never one of two silently
 * preferred; minor units are converted in the payment's currency (the caller's own payment only).
 * @throws TenderError 400 `ambiguous_amount` for both `amount` and `amount_paisa`.
 */
export async function captureInputFromBody(tender: Tender, paymentId: string, merchantId: string, body: ReturnType<typeof CaptureBody.parse>): Promise<CaptureInput> {
  return compact({ amount: await amountFromBody(tender, paymentId, merchantId, body) });
}

/** Maps a validated refund body to the engine's input (amounts as {@link captureInputFromBody}). */
export async function refundInputFromBody(tender: Tender, paymentId: string, merchantId: string, body: ReturnType<typeof RefundBody.parse>): Promise<RefundInput> {
  const amount = await amountFromBody(tender, paymentId, merchantId, body);
  return compact({ amount, reason: body.reason ?? body.refund_reason ?? undefined, metadata: body.metadata ? { ...body.metadata } : undefined });
}

async function amountFromBody(
  tender: Tender,
  paymentId: string,
  merchantId: string,
  body: { amount?: string | number | null; amount_paisa?: string | number | null },
): Promise<string | number | undefined> {
  if (body.amount != null && body.amount_paisa != null) {
    throw new TenderError({ type: 'invalid_request_error', code: 'ambiguous_amount', message: 'Give either amount or amount_paisa, not both', param: 'amount' });
  }
  return body.amount_paisa != null ? minorToMajor(tender, paymentId, merchantId, body.amount_paisa) : (body.amount ?? undefined);
}

async function minorToMajor(tender: Tender, paymentId: string, merchantId: string, minor: string | number): Promise<string> {
  const payment = await tender.payments.get(paymentId, { merchantId });
  return Money.fromMinor(minor, payment.currency, 'amount_paisa').toString();
}
