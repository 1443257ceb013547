import { MemoryStore, runStoreConformance, runWebhookEndpointStoreConformance } from '@tender/core/testing';

runStoreConformance('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, teardown: async () => {} };
});

runWebhookEndpointStoreConformance('MemoryStore', async () => ({ store: new MemoryStore(), teardown: async () => {} }));
