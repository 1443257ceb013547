/**
 * The Fastify example over a real socket: checkout with an Idempotency-Key (replay, reuse with another
 * body, validation), a refund, and a signed webhook delivered as raw bytes (and its duplicate).
 */
import { createTender, type Tender } from '@tender/core';
import { MemoryStore, createTestGateway, type TestGateway } from '@tender/core/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app';

let gateway: TestGateway;
let tender: Tender;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  gateway = createTestGateway({ flow: 'redirect' });
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
  app = buildApp(tender);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('examples/embed-fastify', () => {
  it('creates a payment once per Idempotency-Key and replays it', async () => {
    const first = await post('/checkout', { amount: '25.50', currency: 'MYR', orderId: 'order-1' }, { 'idempotency-key': 'checkout-order-1' });
    expect(first.status).toBe(201);
    const payment = (await first.json()) as { id: string; status: string; amount: string; currency: string };
    expect(payment).toMatchObject({ amount: '25.50', currency: 'MYR', status: 'REQUIRES_ACTION' });
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const again = await post('/checkout', { amount: '25.50', currency: 'MYR', orderId: 'order-1' }, { 'idempotency-key': 'checkout-order-1' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(payment.id);

    const reused = await post('/checkout', { amount: '99.00', currency: 'MYR', orderId: 'order-1' }, { 'idempotency-key': 'checkout-order-1' });
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
  });

  it('answers a TenderError with its status and JSON body', async () => {
    const tooPrecise = await post('/checkout', { amount: '1.005', currency: 'MYR' });
    expect(tooPrecise.status).toBe(400);
    expect(await tooPrecise.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'amount_too_precise', param: 'amount' } });
    const missing = await fetch(`${base}/orders/pay_does_not_exist`);
    expect(missing.status).toBe(404);
  });

  it('verifies a webhook on its raw bytes, applies it once, then refunds', async () => {
    const created = await post('/checkout', { amount: '40.00', currency: 'MYR', orderId: 'order-2' }, { 'idempotency-key': 'checkout-order-2' });
    const { id } = (await created.json()) as { id: string };
    gateway.complete(id, 'approve');
    const webhook = gateway.webhookFor(id, { eventId: 'evt-order-2' });
    const headers = Object.fromEntries(Object.entries(webhook.headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const deliver = () => fetch(`${base}/webhooks/test`, { method: 'POST', headers, body: Buffer.from(webhook.rawBody) });

    expect((await deliver()).status).toBe(200);
    expect((await (await fetch(`${base}/orders/${id}`)).json()) as { status: string }).toMatchObject({ status: 'CAPTURED' });
    // The same event again (gateways redeliver): acknowledged, no second effect.
    expect((await deliver()).status).toBe(200);
    const transitions = await tender.transitions(id);
    expect(transitions.filter((t) => t.to === 'CAPTURED')).toHaveLength(1);

    // A tampered body fails the signature check: the bytes are what is verified.
    const tampered = Buffer.from(new TextDecoder().decode(webhook.rawBody).replace('40.00', '4.00'));
    const forged = await fetch(`${base}/webhooks/test`, { method: 'POST', headers, body: tampered });
    expect(forged.status).toBe(400);

    const refund = await post(`/orders/${id}/refund`, { amount: '15.00' }, { 'idempotency-key': 'refund-order-2' });
    expect(refund.status).toBe(201);
    expect(await refund.json()).toMatchObject({ amount: '15.00' });
    const replay = await post(`/orders/${id}/refund`, { amount: '15.00' }, { 'idempotency-key': 'refund-order-2' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });
});
