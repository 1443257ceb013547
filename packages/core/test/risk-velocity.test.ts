/** The memory velocity store against the conformance suite the Postgres and Redis stores also run. */
import { MemoryVelocityStore } from '@tender/core';
import { runVelocityStoreConformance } from '@tender/core/testing';

runVelocityStoreConformance('memory', async () => ({ store: new MemoryVelocityStore(), teardown: async () => {} }));
