import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createTender, type Store, type Tender, type GatewayV1 } from '@tender/core';
import { MemoryStore, createTestGateway, type TestGateway } from '@tender/core/testing';
import { createMetrics, signToken } from '@tender/server-express';
import { Writable } from 'node:stream';
import { createApp, type AppOptions } from '../src/app';
import { createLogger } from '../src/logging';

export const SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface Harness {
  url: string;
  tender: Tender;
  gateway: TestGateway;
  store: Store;
  logs: string[];
  token(merchantId?: string, scopes?: string[], expiresIn?: string | number): Promise<string>;
  /** fetch with a merchant token (merchant `m1` with every scope unless given). */
  call(method: string, path: string, init?: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string | null }): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

export async function listen(app: import('express').Express): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function startHarness(options: { store?: Store; gateways?: GatewayV1[]; gateway?: TestGateway; app?: Partial<AppOptions> } = {}): Promise<Harness> {
  const gateway = options.gateway ?? createTestGateway();
  const store = options.store ?? new MemoryStore();
  const tender = createTender({ gateways: options.gateways ?? [gateway], store });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ destination });
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.observeTender(tender);
  const app = createApp(tender, { auth: { secret: SECRET }, logger, metrics, rateLimit: false, ...options.app });
  const { server, url } = await listen(app);
  const defaultToken = await signToken({ secret: SECRET, merchantId: 'm1' });
  const harness: Harness = {
    url,
    tender,
    gateway,
    store,
    logs,
    token: (merchantId = 'm1', scopes, expiresIn) => signToken({ secret: SECRET, merchantId, ...(scopes ? { scopes } : {}), ...(expiresIn !== undefined ? { expiresIn } : {}) }),
    async call(method, path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      const token = init.token === undefined ? defaultToken : init.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (init.raw !== undefined) body = init.raw;
      else if (init.body !== undefined) body = JSON.stringify(init.body);
      if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
  return harness;
}

export const fiuuCreateBody = {
  order_id: 'ORD123456',
  amount: 100.5,
  currency: 'MYR',
  payment_method: 'FPX',
  bill_name: 'John Doe',
  bill_email: 'john@example.com',
  bill_mobile: '01234567890',
  bill_description: 'Test Payment',
  return_url: 'https://example.com/return',
  notify_url: 'https://example.com/webhook',
};
