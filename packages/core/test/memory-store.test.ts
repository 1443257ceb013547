import { MemoryStore, runStoreConformance } from '@tender/core/testing';

runStoreConformance('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, teardown: async () => {} };
});
