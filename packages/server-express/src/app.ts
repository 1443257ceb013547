/**
 * The standalone Express app: security headers, CORS allow-list, request logging, the Tender router
 * and JSON 404s. `createTenderRouter` alone is what embedders mount in their own app.
 *
 * @module
 */
import type { Tender } from '@tender/core';
import cors from 'cors';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger as PinoLogger } from 'pino';
import { createDashboardRouter, type DashboardOptions } from './dashboard';
import { errorHandler } from './errors';
import { requestLogging } from './logging';
import { createTenderRouter, type TenderRouterOptions } from './router';
import { TenderError } from '@tender/core';

/** Options of {@link createApp}. */
export interface AppOptions extends TenderRouterOptions {
  logger: PinoLogger;
  /** Origins allowed to call the API from a browser (exact matches). None by default. */
  allowedOrigins?: readonly string[];
  /** Express `trust proxy` (set it behind a load balancer so rate limits see client IPs). */
  trustProxy?: boolean | number | string;
  /** Extra routes mounted before the API (e.g. the simulation-mode demo). */
  before?: RequestHandler[];
  /** The operator dashboard at `/dashboard` (see `createDashboardRouter`); `false` serves none. Default: served, without a development token. */
  dashboard?: DashboardOptions | false;
}

/** Builds the app. */
export function createApp(tender: Tender, options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (options.trustProxy !== undefined) app.set('trust proxy', options.trustProxy);
  app.use(requestLogging(options.logger));
  app.use(helmet());
  const allowed = new Set(options.allowedOrigins ?? []);
  app.use(
    cors({
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
      // Last-Event-ID: a browser resuming a live stream with fetch (not CORS-safelisted).
      // X-Device-Fingerprint: the risk checks' device signal (the Fiuu browser bundle's deviceFingerprint).
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'Last-Event-ID', 'X-Device-Fingerprint'],
      exposedHeaders: ['Idempotent-Replayed', 'X-Request-Id', 'Retry-After'],
      maxAge: 600,
    }),
  );
  if (options.dashboard !== false) app.use(createDashboardRouter(options.dashboard ?? {}));
  for (const handler of options.before ?? []) app.use(handler);
  app.use(createTenderRouter(tender, { ...options, logger: options.logger }));
  app.use((req, _res, next) => {
    next(new TenderError({ type: 'not_found_error', code: 'route_not_found', message: `No route ${req.method} ${req.path.slice(0, 100)}` }));
  });
  app.use(errorHandler(options.logger));
  return app;
}
