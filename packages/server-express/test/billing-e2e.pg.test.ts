/**
 * The billing end-to-end scenarios (#15) on real Postgres (TEST_DATABASE_URL), a fresh schema per
 * store: see `billing-e2e-scenarios.ts`.
 */
import pg from 'pg';
import { describeBillingScenarios } from './billing-e2e-scenarios';
import { DATABASE_URL, dropSchema, freshSchema, pgStore } from './pg';

describeBillingScenarios('Postgres', async () => {
  const schema = freshSchema('e2e_billing');
  const store = await pgStore(schema);
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  return {
    store,
    schema,
    query: async (sql) => (await client.query(sql)).rows,
    async close() {
      await client.end();
      await store.close();
      await dropSchema(schema);
    },
  };
});
