/**
 * The Postgres velocity store on real Postgres against the conformance suite: two instances over two
 * pools (two servers sharing the database), the concurrent attempts split between them.
 */
import { runVelocityStoreConformance } from '@tender/core/testing';
import { createPostgresStore, createPostgresVelocityStore } from '@tender/store-postgres';
import { dropSchema, testPool, uniqueSchema } from './helpers';

runVelocityStoreConformance(
  'postgres',
  async () => {
    const schema = uniqueSchema('velocity');
    const pool = await testPool();
    const store = await createPostgresStore({ pool, schema });
    const other = await testPool();
    return {
      store: createPostgresVelocityStore({ store }),
      second: createPostgresVelocityStore({ pool: other, schema }),
      teardown: async () => {
        await store.close();
        await other.end();
        await dropSchema(pool, schema);
        await pool.end();
      },
    };
  },
  { concurrency: 40 },
);
