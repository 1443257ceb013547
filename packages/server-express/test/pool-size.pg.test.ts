import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createLogger, signToken, startTenderServer } from '@tender/server-express';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';

describe('the server on Postgres under a burst', () => {
  it('opens no more than DATABASE_POOL_MAX connections, and shuts down at once afterwards', async () => {
    const schema = freshSchema('pool_size');
    const secret = randomBytes(32).toString('hex');
    // The server's connections are told apart by their application_name.
    const url = new URL(DATABASE_URL);
    url.searchParams.set('application_name', schema);
    const server = await startTenderServer({
      env: { PORT: '0', DATABASE_URL: url.toString(), DATABASE_SCHEMA: schema, DATABASE_POOL_MAX: '2', JWT_SECRET: secret },
      logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    });
    const observer = new pg.Client({ connectionString: DATABASE_URL });
    await observer.connect();
    let closed = false;
    try {
      const token = await signToken({ secret, merchantId: 'pool' });
      const create = (i: number) =>
        fetch(`${server.url}/api/v1/payments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `pool-${i}` },
          body: JSON.stringify({ amount: '5.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' }),
        });
      const peak = { n: 0 };
      const watching = (async () => {
        while (!closed) {
          const { rows } = await observer.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`, [schema]);
          peak.n = Math.max(peak.n, rows[0].n);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const statuses = (await Promise.all(Array.from({ length: 24 }, (_, i) => create(i)))).map((r) => r.status);
      expect(statuses).toEqual(Array(24).fill(201));
      // Shutdown right after a burst (the sandbox's webhooks still arriving) does not wait for keep-alive sockets.
      const started = Date.now();
      await server.close();
      closed = true;
      await watching;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(peak.n).toBeGreaterThanOrEqual(1);
      expect(peak.n).toBeLessThanOrEqual(2);
    } finally {
      closed = true;
      await observer.end();
      await server.close();
      await dropSchema(schema);
    }
  });
});
