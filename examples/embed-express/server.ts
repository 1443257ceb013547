/**
 * Embedding Tender in an existing Express app: your routes and auth stay yours, the payments API is
 * one `app.use(...)`. Uses the in-process test gateway and MemoryStore so it runs with no setup;
 * swap in `createFiuuGateway` / `createStripeGateway` and `createPostgresStore` for real use.
 *
 *   JWT_SECRET=$(openssl rand -hex 32) node --import tsx server.ts
 */
import express from 'express';
import { createTender } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';
import { createMetrics, createTenderRouter, createWebhookDeliverer, presentEvent, signToken } from '@tender/server-express';
import { createOutboxDispatcher } from '@tender/core';

const secret = process.env.JWT_SECRET ?? 'change-me-change-me-change-me-change-me';
const tender = createTender({ gateways: [createTestGateway()], store: new MemoryStore() });
const metrics = createMetrics();
metrics.observeTender(tender);

const app = express();
app.get('/', (_req, res) => {
  res.send('My shop. The payments API lives under /api/v1.');
});
// Everything of the REST contract: /api/v1/..., /health, /ready, /metrics, /openapi.json.
app.use(createTenderRouter(tender, { auth: { secret }, metrics }));

// Merchant webhooks: deliver the outbox to the endpoints registered through the API (kept in the store).
// Endpoints must be on public addresses; for a receiver on this machine pass `allowPrivateNetworks: true`
// here and `webhookEndpoints: { allowPrivateNetworks: true }` to the router.
const dispatcher = createOutboxDispatcher({ store: tender.store, deliver: createWebhookDeliverer({ store: tender.store, present: presentEvent }) });
dispatcher.start();

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', async () => {
  console.log(`listening on http://127.0.0.1:${port}`);
  console.log(`try: curl -H "Authorization: Bearer ${await signToken({ secret, merchantId: 'shop-1' })}" http://127.0.0.1:${port}/api/v1/payments`);
});
