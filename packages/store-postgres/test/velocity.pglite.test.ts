/** The Postgres velocity store on embedded PGlite against the conformance suite (one connection: one instance). */
import { runVelocityStoreConformance } from '@tender/core/testing';
import { createPGliteStore, createPostgresVelocityStore } from '@tender/store-postgres';

runVelocityStoreConformance('postgres (PGlite)', async () => {
  const store = await createPGliteStore();
  return { store: createPostgresVelocityStore({ store }), teardown: () => store.close() };
});
