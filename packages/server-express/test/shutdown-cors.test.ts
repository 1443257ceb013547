import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startStripeSandbox } from '@tender/stripe/sandbox';
import { describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer } from '../src/server';
import { startHarness } from './helpers';

describe('CORS allow-list', () => {
  it('answers the preflight of an allowed origin, and gives any other origin nothing', async () => {
    const h = await startHarness({ app: { allowedOrigins: ['https://shop.example'] } });
    try {
      const preflight = (origin: string) =>
        fetch(`${h.url}/api/v1/payments`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
        });
      const allowed = await preflight('https://shop.example');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('Idempotency-Key');
      const other = await preflight('https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const simple = await h.call('GET', '/api/v1/payments', { headers: { origin: 'https://shop.example' } });
      expect(simple.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(simple.headers.get('access-control-expose-headers')).toContain('Idempotent-Replayed');
    } finally {
      await h.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, finishes the request in flight, then resolves', async () => {
    const sandbox = await startStripeSandbox();
    const dir = mkdtempSync(join(tmpdir(), 'tender-stop-'));
    const secret = randomBytes(32).toString('hex');
    const server = await startTenderServer({
      env: { PORT: '0', TENDER_DATA_DIR: dir, JWT_SECRET: secret, STRIPE_SECRET_KEY: sandbox.secretKey, STRIPE_BASE_URL: sandbox.url, RECONCILE_INTERVAL: '0' },
      logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    });
    try {
      const token = await signToken({ secret, merchantId: 'stopping' });
      // The provider takes 800 ms over this payment, so shutdown starts while it is in flight.
      sandbox.faults.add({ kind: 'delay', delayMs: 800, match: /POST \/v1\/payment_intents$/ });
      const before = sandbox.requestCount;
      const inFlight = fetch(`${server.url}/api/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'stop-1' },
        body: JSON.stringify({ amount: '7.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' }),
      });
      // Shut down once the payment has reached the provider.
      while (sandbox.requestCount === before) await new Promise((resolve) => setTimeout(resolve, 10));
      let closed = false;
      const closing = server.close().then(() => (closed = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // No new connections once shutdown has begun.
      await expect(fetch(`${server.url}/health`)).rejects.toThrow();
      expect(closed).toBe(false);
      const response = await inFlight;
      expect(response.status).toBe(201);
      expect(((await response.json()) as { status: string }).status).toBe('CAPTURED');
      await closing;
      expect(closed).toBe(true);
    } finally {
      await server.close();
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
