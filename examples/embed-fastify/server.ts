/**
 * Runs the Fastify example with the in-process test gateway and MemoryStore, so it needs no setup;
 * for real use pass `createStripeGateway(...)` (or another gateway) and `createPostgresStore(...)`.
 *
 *   node --import tsx server.ts
 *   curl -X POST -H 'content-type: application/json' -H 'idempotency-key: order-1' \
 *     -d '{"amount":"10.00","currency":"MYR","orderId":"order-1"}' http://127.0.0.1:3000/checkout
 */
import { createTender } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';
import { buildApp } from './app';

const tender = createTender({ gateways: [createTestGateway()], store: new MemoryStore() });
const app = buildApp(tender);
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
console.log(`listening on ${address}`);
