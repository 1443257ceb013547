/**
 * The merchant's webhook endpoints (where Tender delivers its events): create (also as seed 001's
 * `POST /webhooks`), list, read, delete.
 * Deliveries themselves are the workers' (`../webhook-endpoints`).
 *
 * @module
 */
import { TenderError, webhookEndpointsOf, type WebhookEndpoint } from '@tender/core';
import type { Request, Response, Router } from 'express';
import { assertPublicUrl } from '../public-network';
import { CreateWebhookEndpointBody, PageQuery, validate } from '../schemas';
import { listJson } from '../serialize';
import { newWebhookEndpoint } from '../webhook-endpoints';
import { notFoundId, pageOf, pathId, stringQuery, type RouteContext } from './shared';

/** The wire form of an endpoint; the signing secret only in the answer to its creation. */
function endpointJson(e: WebhookEndpoint, withSecret = false): Record<string, unknown> {
  return { id: e.id, object: 'webhook_endpoint', url: e.url, events: e.events, description: e.description, ...(withSecret ? { secret: e.secret } : {}), created_at: e.createdAt };
}

/** Adds the webhook endpoint routes to the authenticated API router. */
export function webhookEndpointRoutes(api: Router, { tender, options, need, merchantOf }: RouteContext): void {
  const create = async (req: Request, res: Response) => {
    const body = validate(CreateWebhookEndpointBody, req.body);
    if (!/^https?:$/.test(new URL(body.url).protocol)) {
      throw new TenderError({ type: 'invalid_request_error', code: 'invalid_url', message: 'url must be an http(s) URL', param: 'url' });
    }
    if (!options.webhookEndpoints?.allowPrivateNetworks) assertPublicUrl(body.url);
    const endpoint = newWebhookEndpoint(merchantOf(req), { url: body.url, events: body.events ?? null, secret: body.secret ?? null, description: body.description ?? null }, new Date());
    await webhookEndpointsOf(tender.store).createWebhookEndpoint(endpoint);
    res.status(201).json(endpointJson(endpoint, true));
  };
  api.post('/webhook-endpoints', need('payments:write'), create);
  // Seed 001's name for the same creation (the gateways' own notifications go to
  // `POST /webhooks/{gateway}`, outside the authenticated API). A route of its own, so the metrics'
  // route label names the path called.
  api.post('/webhooks', need('payments:write'), create);
  api.get('/webhook-endpoints', need('payments:read'), async (req, res) => {
    const q = validate(PageQuery, stringQuery(req));
    const page = pageOf(await webhookEndpointsOf(tender.store).listWebhookEndpoints(merchantOf(req)), q);
    res.json(listJson(page.data, page.hasMore, page.next, (e) => endpointJson(e)));
  });
  api.get('/webhook-endpoints/:id', need('payments:read'), async (req, res) => {
    const id = pathId(req, 'webhook endpoint');
    const endpoint = await webhookEndpointsOf(tender.store).getWebhookEndpoint(merchantOf(req), id);
    if (!endpoint) throw notFoundId('webhook endpoint', id);
    res.json(endpointJson(endpoint));
  });
  api.delete('/webhook-endpoints/:id', need('payments:write'), async (req, res) => {
    const id = pathId(req, 'webhook endpoint');
    if (!(await webhookEndpointsOf(tender.store).deleteWebhookEndpoint(merchantOf(req), id))) throw notFoundId('webhook endpoint', id);
    res.json({ id, object: 'webhook_endpoint', deleted: true });
  });
}
