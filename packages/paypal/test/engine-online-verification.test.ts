/**
 * The same engine path with `webhookVerification: 'online'`: each delivery is checked by the sandbox's
 * `verify-webhook-signature`, no certificate is fetched, and no `certTrust` is configured.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTender, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import type { PayPalGateway } from '@tender/paypal';
import { approveOrder, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { gatewayFor, waitFor } from './helpers';

let sandbox: PayPalSandbox;
let receiver: Server;
let gateway: PayPalGateway;
let tender: Tender;
const acks: number[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      tender.webhooks.handle('paypal', { headers: req.headers as Record<string, string>, rawBody: new Uint8Array(Buffer.concat(chunks)) }).then(
        (ack) => {
          acks.push(ack.status);
          res.writeHead(ack.status).end(ack.body);
        },
        (error: { status?: number }) => {
          acks.push(error.status ?? 500);
          res.writeHead(error.status ?? 500).end();
        },
      );
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  sandbox = await startPayPalSandbox({ webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, retryDelayMs: 10, maxAttempts: 1 } });
  gateway = gatewayFor(sandbox, { webhookVerification: 'online', certTrust: undefined });
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
  await new Promise((r) => receiver?.close(r));
});

it('online verification: approval webhook verified by PayPal, payment CAPTURED; a forged delivery is refused', async () => {
  const payment = await tender.payments.create({ amount: '19.99', currency: 'GBP', paymentMethod: 'paypal', returnUrl: 'https://shop.example/r' });
  await approveOrder((payment.nextAction as { url: string }).url);
  await waitFor(async () => (await tender.payments.get(payment.id)).status === 'CAPTURED', sandbox);
  await sandbox.webhooks.idle();
  expect(acks.length).toBeGreaterThanOrEqual(2);
  expect(acks.every((s) => s === 200)).toBe(true);
  expect(sandbox.requests.filter((r) => r.path === '/v1/notifications/verify-webhook-signature').length).toBe(acks.length);
  expect(sandbox.requests.some((r) => r.path.startsWith('/v1/notifications/certs/'))).toBe(false);
  // A body PayPal did not sign: PayPal's answer is FAILURE, Tender refuses it.
  const body = JSON.stringify({ id: 'WH-FORGED', event_type: 'PAYMENT.CAPTURE.COMPLETED', resource: { id: 'X', status: 'COMPLETED', amount: { currency_code: 'GBP', value: '19.99' }, custom_id: payment.id } });
  const headers = sandbox.webhooks.sign('{"something":"else"}');
  await expect(tender.webhooks.handle('paypal', { headers, rawBody: new TextEncoder().encode(body) })).rejects.toMatchObject({ type: 'webhook_signature_error' });
});
