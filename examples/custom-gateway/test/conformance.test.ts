import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpTransport, createTender, rawBodyBytes } from '@tender/core';
import { MemoryStore, runGatewayConformance } from '@tender/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createAcmeGateway, startFakeProvider, type FakeProvider } from '../src/index';

// The whole suite, nothing skipped: what every gateway package must pass.
runGatewayConformance({
  name: 'acme (example custom gateway)',
  setup: async () => {
    const provider = await startFakeProvider();
    const gateway = createAcmeGateway({
      apiKey: provider.apiKey,
      webhookSecret: provider.webhookSecret,
      baseUrl: provider.url,
      transport: createHttpTransport({ gateway: 'acme', retry: { baseDelayMs: 5 } }),
    });
    return {
      gateway,
      currency: 'USD',
      paymentMethod: 'card',
      // The customer's step: approve or decline on the provider's page.
      completeAction: async (payment, outcome) => provider.complete(payment.gatewayReference!, outcome),
      teardown: async () => {
        await gateway.close();
        await provider.close();
      },
    };
  },
});

describe('acme end to end through createTender', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('create → capture → refund → webhook, over loopback', async () => {
    const provider: FakeProvider = await startFakeProvider();
    cleanups.push(() => provider.close());
    const gateway = createAcmeGateway({ apiKey: provider.apiKey, webhookSecret: provider.webhookSecret, baseUrl: provider.url });
    cleanups.push(() => gateway.close());
    const tender = createTender({ gateways: [gateway], store: new MemoryStore() });

    // The merchant's webhook route: the raw bytes go to Tender untouched.
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        tender.webhooks
          .handle('acme', { headers: req.headers, rawBody: rawBodyBytes(Buffer.concat(chunks)) })
          .then((ack) => res.writeHead(ack.status, ack.headers).end(ack.body))
          .catch((error: { status?: number }) => res.writeHead(error.status ?? 500).end());
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/acme`;

    // Create: the provider wants the customer, so the payment waits with a redirect.
    let payment = await tender.payments.create({ amount: '50.00', currency: 'USD', paymentMethod: 'card', captureMethod: 'manual', orderId: 'ORD-E2E' });
    expect(payment.status).toBe('REQUIRES_ACTION');
    expect(payment.nextAction).toMatchObject({ type: 'redirect' });

    // The customer approves; the provider's signed webhook tells Tender the money is authorised.
    provider.complete(payment.gatewayReference!, 'approve');
    expect(await provider.sendWebhook(webhookUrl, payment.gatewayReference!)).toBe(200);
    payment = await tender.payments.get(payment.id);
    expect(payment.status).toBe('AUTHORIZED');

    // Capture part of it, then refund part of the capture.
    payment = await tender.payments.capture(payment.id, { amount: '40.00' });
    expect(payment).toMatchObject({ status: 'CAPTURED', amountCaptured: '40.00' });
    const refund = await tender.payments.refund(payment.id, { amount: '15.00' });
    expect(refund.status).toBe('SUCCEEDED');
    expect((await tender.payments.get(payment.id)).status).toBe('PARTIALLY_REFUNDED');

    // A later webhook about the same charge (now refunded at the provider) changes nothing twice.
    expect(await provider.sendWebhook(webhookUrl, payment.gatewayReference!)).toBe(200);
    const final = await tender.payments.get(payment.id);
    expect(final).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountCaptured: '40.00' });
    expect(await tender.refunds.list(payment.id)).toHaveLength(1);

    // A forged webhook is refused before it touches anything.
    const forged = await fetch(webhookUrl, { method: 'POST', headers: { 'acme-signature': 't=1,v1=00' }, body: '{}' });
    expect(forged.status).toBe(400);
  });
});
