import { PGlite } from '@electric-sql/pglite';
import { ANALYTICS_DAY0, expectedAggregates, normaliseAggregates, runAnalyticsStoreConformance, writeAnalyticsData } from '@tender/core/testing';
import { analyticsBackfill, createPGliteStore, createPostgresStore } from '@tender/store-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testPool, uniqueSchema } from './helpers';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await testPool({ max: 4 });
});
afterAll(async () => {
  await pool.end();
});

// Group commit on: the rollup triggers run inside batches of several units too.
runAnalyticsStoreConformance('PostgresStore (node-postgres, group commit)', async () => {
  const schema = uniqueSchema('analytics');
  const store = await createPostgresStore({ pool, schema, groupCommit: true });
  return {
    store,
    teardown: async () => {
      await store.close();
      await dropSchema(pool, schema);
    },
  };
});

runAnalyticsStoreConformance('PostgresStore (PGlite)', async () => {
  const db = await PGlite.create();
  const store = await createPGliteStore({ db, schema: 'tender' });
  return {
    store,
    teardown: async () => {
      await store.close();
      await db.close();
    },
  };
});

describe('migration 13 (analytics)', () => {
  it('rolls up what was stored before it: the backfill alone gives the figures the triggers kept', async () => {
    const schema = uniqueSchema('analyticsfill');
    const store = await createPostgresStore({ pool, schema });
    try {
      const plan = await writeAnalyticsData(store, 60, 7);
      const query = { from: new Date(ANALYTICS_DAY0).toISOString(), to: new Date(ANALYTICS_DAY0 + 3 * 86_400_000).toISOString(), groupBy: 'gateway' as const };
      const expected = expectedAggregates(plan, query);
      expect(normaliseAggregates(await store.paymentAnalytics(query))).toEqual(expected);
      // As if the rows had been written before migration 13: its tables empty, then its backfill.
      const client = await pool.connect();
      try {
        await client.query(`SET search_path TO "${schema}"`);
        await client.query('TRUNCATE analytics_payments_daily, analytics_refunds_daily, analytics_latency_daily, analytics_declines_daily');
        expect(normaliseAggregates(await store.paymentAnalytics(query))).toEqual([]);
        await client.query(analyticsBackfill);
        await client.query('RESET search_path');
      } finally {
        client.release();
      }
      expect(normaliseAggregates(await store.paymentAnalytics(query))).toEqual(expected);
    } finally {
      await store.close();
      await dropSchema(pool, schema);
    }
  });
});
