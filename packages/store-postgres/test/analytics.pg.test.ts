import { PGlite } from '@electric-sql/pglite';
import { runAnalyticsStoreConformance } from '@tender/core/testing';
import { createPGliteStore, createPostgresStore } from '@tender/store-postgres';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
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
