/**
 * The billing end-to-end scenarios (#15) on PGlite, the reference server's embedded database: see
 * `billing-e2e-scenarios.ts`.
 */
import { PGlite } from '@electric-sql/pglite';
import { createPGliteStore } from '@tender/store-postgres';
import { describeBillingScenarios } from './billing-e2e-scenarios';

describeBillingScenarios('PGlite', async () => {
  const db = await PGlite.create();
  const schema = 'tender';
  const store = await createPGliteStore({ db, schema });
  return {
    store,
    schema,
    query: async (sql) => (await db.query<Record<string, unknown>>(sql)).rows,
    async close() {
      await store.close();
      await db.close();
    },
  };
});
