/**
 * `POST /api/v1/webhooks/:gateway`: a gateway's notifications, taken as raw bytes and authenticated
 * by the gateway's signature only (no token), answered as the gateway expects.
 *
 * @module
 */
import type { Router } from 'express';
import { asTenderError } from '../errors';
import { notFoundId, rawBody, webhookRequest, type RouteContext } from './shared';

/** Adds the gateway webhook route to `router` (the root one: it is outside the authenticated API). */
export function gatewayWebhookRoutes(router: Router, { tender, logger, metrics }: RouteContext): void {
  router.post('/api/v1/webhooks/:gateway', rawBody(), async (req, res) => {
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
}
