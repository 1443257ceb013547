/**
 * The database metrics of a server on Postgres (DATABASE_URL): the pool (`db_connections_*`), the
 * statements' durations, the schema's size, and `/ready`'s database latency.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer } from '../src/server';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';
import { scrapeMetrics } from './prom-text';

describe('database metrics on Postgres', () => {
  it('exports the pool, statement durations and the schema size; /ready times the database', async () => {
    const schema = freshSchema('db_metrics');
    const secret = randomBytes(32).toString('hex');
    const server = await startTenderServer({
      env: { PORT: '0', DATABASE_URL, DATABASE_SCHEMA: schema, DATABASE_POOL_MAX: '4', JWT_SECRET: secret, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h' },
      logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    });
    try {
      const token = await signToken({ secret, merchantId: 'dbm' });
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${server.url}/api/v1/payments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ amount: '9.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' }),
        });
        expect(res.status).toBe(201);
      }
      const m = await scrapeMetrics(`${server.url}/metrics`);
      expect(m.value('db_connections_max')).toBe(4);
      const active = m.value('db_connections_active')!;
      const idle = m.value('db_connections_idle')!;
      expect(active).toBeGreaterThanOrEqual(0);
      expect(active + idle).toBeGreaterThan(0);
      expect(active + idle).toBeLessThanOrEqual(4);
      expect(m.value('db_connections_waiting')).toBe(0);
      expect(m.value('db_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(10);
      expect(m.value('db_size_bytes')).toBeGreaterThan(8192);
      expect(m.value('tender_reconcile_stuck_payments')).toBe(0);
      expect(m.value('payment_results_total', { gateway: 'stripe', result: 'succeeded' })).toBe(3);

      const ready = (await (await fetch(`${server.url}/ready`)).json()) as any;
      expect(ready.status).toBe('ready');
      expect(ready.checks.database).toMatchObject({ status: 'healthy' });
      expect(ready.checks.database.latency_ms).toBeGreaterThan(0);
    } finally {
      await server.close();
      await dropSchema(schema);
    }
  });
});
