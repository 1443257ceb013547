import { runStoreConformance, runWebhookEndpointStoreConformance } from '@tender/core/testing';
import { createPostgresStore } from '@tender/store-postgres';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { dropSchema, testPool, uniqueSchema } from './helpers';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await testPool({ max: 12 });
});
afterAll(async () => {
  await pool.end();
});

// A fresh schema per test: the suites expect an empty store each time.
async function freshStore() {
  const schema = uniqueSchema('conf');
  const store = await createPostgresStore({ pool, schema });
  return {
    store,
    teardown: async () => {
      await store.close();
      await dropSchema(pool, schema);
    },
  };
}
runStoreConformance('PostgresStore (node-postgres)', freshStore);
runWebhookEndpointStoreConformance('PostgresStore (node-postgres)', freshStore);

// The same suite with group commit on: every write-only unit goes through a batch.
runStoreConformance('PostgresStore (node-postgres, group commit)', async () => {
  const schema = uniqueSchema('confgc');
  const store = await createPostgresStore({ pool, schema, groupCommit: true });
  return {
    store,
    teardown: async () => {
      await store.close();
      await dropSchema(pool, schema);
    },
  };
});
