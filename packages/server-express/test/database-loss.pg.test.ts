import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, signToken, startTenderServer } from '@tender/server-express';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';
import { cuttableRelay } from './tcp-relay';

describe('the server when Postgres goes away', () => {
  it('answers 503 (retryable, never 500) and not ready, then recovers on its own with nothing lost', async () => {
    const schema = freshSchema('db_loss');
    const target = new URL(DATABASE_URL);
    const relay = await cuttableRelay(target.hostname, Number(target.port || 5432));
    const secret = randomBytes(32).toString('hex');
    const server = await startTenderServer({
      env: { PORT: '0', DATABASE_URL: relay.via(DATABASE_URL), DATABASE_SCHEMA: schema, JWT_SECRET: secret, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '0' },
      logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    });
    try {
      const token = await signToken({ secret, merchantId: 'dbloss' });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const create = (key: string) =>
        fetch(`${server.url}/api/v1/payments`, { method: 'POST', headers: { ...headers, 'idempotency-key': key }, body: JSON.stringify({ amount: '9.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' }) });
      const before = await create('loss-1');
      expect(before.status).toBe(201);
      const paid = (await before.json()) as { id: string };

      relay.cut();
      expect((await fetch(`${server.url}/ready`)).status).toBe(503);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      for (const response of [await create('loss-2'), await fetch(`${server.url}/api/v1/payments/${paid.id}`, { headers })]) {
        expect(response.status).toBe(503);
        const body = (await response.json()) as { error: { type: string } };
        expect(body.error.type).toBe('storage_error');
      }

      relay.restore();
      let ready = 0;
      for (let i = 0; i < 100 && ready !== 200; i++) {
        ready = (await fetch(`${server.url}/ready`)).status;
        if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(ready).toBe(200);
      // The key refused during the outage is new: the retry makes the payment, once.
      const retried = await create('loss-2');
      expect(retried.status).toBe(201);
      const again = await create('loss-2');
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const kept = await fetch(`${server.url}/api/v1/payments/${paid.id}`, { headers });
      expect(kept.status).toBe(200);
      expect(((await kept.json()) as { status: string }).status).toBe('CAPTURED');
    } finally {
      await server.close();
      await relay.close();
      await dropSchema(schema);
    }
  });
});
