/**
 * `createTenderRouter`: Tender's REST API (the OpenAPI document at `/openapi.json`) as an Express 5 router over an engine made
 * with `createTender`. It validates shapes (zod), authenticates, maps names between the wire
 * (snake_case) and the engine, and adds no payment logic of its own.
 *
 * The routes are in `routes/`, one module per resource; this module holds the middleware they share
 * (metrics, rate limits, auth, the JSON body parser, the 404 and the error handler) and mounts them.
 *
 * @module
 */
import { redactingLogger, silentLogger, TenderError, type Logger, type Tender } from '@tender/core';
import { Router, type Request, type RequestHandler } from 'express';
import { rateLimit, type Store as RateLimitStore } from 'express-rate-limit';
import { createAuthenticator, principalOf, setPrincipal, type AuthOptions, type Principal } from './auth';
import { errorHandler, sendError } from './errors';
import { jsonBody } from './json-body';
import type { LiveStatus } from './live';
import { httpMetrics, type MetricsEndpointOptions, type TenderMetrics } from './metrics';
import type { OpenApiInfo } from './openapi';
import type { ReadinessReport } from './readiness';
import { adminSettlementRoutes } from './routes/admin-settlements';
import { adminReviewRoutes } from './routes/admin-reviews';
import { adminAnalyticsRoutes } from './routes/admin-analytics';
import { disputeRoutes } from './routes/disputes';
import { eventRoutes } from './routes/events';
import { fiuuReturnRoute, seamlessConfigRoute } from './routes/fiuu-checkout';
import { gatewayWebhookRoutes } from './routes/gateway-webhooks';
import { invoiceRoutes } from './routes/invoices';
import { operationsRoutes } from './routes/operations';
import { paymentMethodRoutes } from './routes/payment-methods';
import { paymentRoutes } from './routes/payments';
import { refundRoutes } from './routes/refunds';
import { authApi, notFoundId, routeContext } from './routes/shared';
import { subscriptionRoutes } from './routes/subscriptions';
import { upiStaticLinkRoutes } from './routes/upi-static-links';
import { webhookEndpointRoutes } from './routes/webhook-endpoints';

// The gRPC service, the server and the package index take these from here.
export { captureInputFromBody, createInputFromBody, refundInputFromBody } from './routes/inputs';
export { storeReadiness } from './routes/operations';
export { resourceId } from './routes/shared';

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
      ? async (): Promise<Principal> => ({ merchantId: fixedMerchant, scopes: new Set(['payments:read', 'payments:write', 'refunds:write', 'admin:read', 'admin:write']) })
      : createAuthenticator(options.auth);
  const context = routeContext(tender, options, logger);

  if (metrics) router.use(httpMetrics(metrics));

  // Outside the authenticated API: operations (no auth), and gateway traffic (raw bytes, authenticated
  // by the gateway's signature, or a customer's browser coming back).
  operationsRoutes(router, context);
  gatewayWebhookRoutes(router, context);
  fiuuReturnRoute(router, context);

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

  // Before the payment routes: `GET /payments/:id` would take `seamless` for an id.
  seamlessConfigRoute(api, context);
  paymentRoutes(api, context);
  refundRoutes(api, context);
  paymentMethodRoutes(api, context);
  subscriptionRoutes(api, context);
  invoiceRoutes(api, context);
  disputeRoutes(api, context);
  upiStaticLinkRoutes(api, context);
  webhookEndpointRoutes(api, context);
  eventRoutes(api, context);
  adminSettlementRoutes(api, context);
  adminReviewRoutes(api, context);
  adminAnalyticsRoutes(api, context);

  api.use((req, _res, next) => {
    next(notFoundId('route', `${req.method} ${req.baseUrl}${req.path}`.slice(0, 120)));
  });
  router.use(errorHandler(logger));
  return router;
}
