/**
 * A tiny checkout server for the example page: it serves the page and the IIFE bundle, creates
 * payments for the seamless config endpoint, receives Fiuu's notification and callback, and
 * answers Fiuu's return POST with the page that reports the result to the opener.
 * Uses only `node:http`, so the moving parts are all visible.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TenderError } from '@tender/core';
import type { Tender } from '@tender/core';
import { seamlessConfigResponse } from '@tender/fiuu';
import type { FiuuGateway } from '@tender/fiuu';

export interface CheckoutServerOptions {
  tender: Tender;
  gateway: FiuuGateway;
  /** The IIFE bundle's source (`dist/browser/tender-fiuu.iife.js`). */
  bundle: string;
  port?: number;
}

const page = readFileSync(new URL('./index.html', import.meta.url), 'utf8');

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

export async function startCheckoutServer(options: CheckoutServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const { tender, gateway } = options;
  let origin = '';
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    try {
      if (req.method === 'GET' && url.pathname === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      if (req.method === 'GET' && url.pathname === '/tender-fiuu.iife.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(options.bundle);
      if (req.method === 'GET' && url.pathname === '/api/v1/payments/seamless/config') {
        const q = url.searchParams;
        const payment = await tender.payments.create({
          gateway: 'fiuu',
          orderId: q.get('order_id'),
          amount: q.get('amount') ?? undefined,
          currency: q.get('currency') ?? 'MYR',
          paymentMethod: q.get('payment_method'),
          description: `Order ${q.get('order_id')}`,
          customer: { name: 'Demo Customer', email: 'demo@example.com', phone: '+60123456789' },
          returnUrl: `${origin}/fiuu/return`,
          notifyUrl: `${origin}/api/v1/webhooks/fiuu`,
        });
        return json(res, 200, seamlessConfigResponse(payment));
      }
      if (req.method === 'POST' && url.pathname === '/api/v1/webhooks/fiuu') {
        const handled = await tender.webhooks.handle('fiuu', { headers: req.headers as Record<string, string>, rawBody: new Uint8Array(await body(req)) });
        return void res.writeHead(handled.status, handled.headers).end(handled.body);
      }
      if (req.method === 'POST' && url.pathname === '/fiuu/return') {
        const returned = gateway.handleReturn({ headers: req.headers as Record<string, string>, rawBody: new Uint8Array(await body(req)) }, { targetOrigin: origin, continueUrl: `${origin}/` });
        return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(returned.html);
      }
      const m = /^\/api\/v1\/payments\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        const p = await tender.payments.get(decodeURIComponent(m[1]!));
        return json(res, 200, { id: p.id, status: p.status, amount: p.amount, currency: p.currency, gateway_reference: p.gatewayReference });
      }
      json(res, 404, { error: { type: 'not_found_error', message: 'Not found' } });
    } catch (error) {
      const e = TenderError.isInstance(error) ? error : null;
      json(res, e?.status ?? 500, e ? e.toJSON() : { error: { type: 'api_error', message: 'Internal error' } });
    }
  });
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
