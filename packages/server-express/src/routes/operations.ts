/**
 * Operations routes, served without auth: `GET /health` (the process answers), `GET /ready` (its
 * dependencies answer), `GET /metrics` and `GET /openapi.json`.
 *
 * @module
 */
import type { Tender } from '@tender/core';
import type { Router } from 'express';
import { metricsHandler } from '../metrics';
import { buildOpenApiDocument } from '../openapi';
import { createReadiness, engineGateways, readinessHandler } from '../readiness';
import type { RouteContext } from './shared';

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

/** Adds the operations routes to `router` (the root one: they are outside `/api/v1`). */
export function operationsRoutes(router: Router, { tender, options, logger, metrics }: RouteContext): void {
  const ready = options.ready ?? storeReadiness(tender);
  const readiness = options.readiness ?? createReadiness({ database: ready, gateways: engineGateways(tender) });
  let openapi: Record<string, unknown> | undefined;

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', uptime_seconds: Math.round(process.uptime()) });
  });
  router.get('/ready', readinessHandler(readiness, logger));
  if (metrics && options.metricsEndpoint !== false) router.get('/metrics', metricsHandler(metrics, options.metricsEndpoint ?? {}));
  router.get('/openapi.json', (_req, res) => {
    // Built once, on the first request.
    openapi ??= buildOpenApiDocument(options.openapi);
    res.json(openapi);
  });
}
