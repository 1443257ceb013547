/**
 * The Postgres velocity store on real Postgres against the conformance suite: two instances over two
 * pools (two servers sharing the database), the concurrent attempts split between them; and two
 * risk engines over them letting exactly one of concurrent attempts pass a max_count of 1.
 */
import { randomUUID } from 'node:crypto';
import { createRiskEngine, Money, parseRiskConfig, type RiskInput } from '@tender/core';
import { runVelocityStoreConformance } from '@tender/core/testing';
import { describe, expect, it } from 'vitest';
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

describe('two risk engines on two pools (two server instances) sharing the window', () => {
  it('lets exactly one of concurrent attempts with the same device pass a max_count of 1', async () => {
    const schema = uniqueSchema('velocity2');
    const pool = await testPool();
    const other = await testPool();
    const store = await createPostgresStore({ pool, schema });
    try {
      const config = parseRiskConfig(JSON.stringify({ block_threshold: 50, rules: [{ id: 'device-once', type: 'velocity', key: 'device', window: '1h', max_count: 1, score: 100 }] }));
      const engines = [createRiskEngine({ config, velocity: createPostgresVelocityStore({ store }) }), createRiskEngine({ config, velocity: createPostgresVelocityStore({ pool: other, schema }) })];
      const device = `dev_${randomUUID()}`;
      const input = (i: number): RiskInput => ({ merchantId: 'm_velocity', paymentId: `pay_${i}_${randomUUID()}`, amount: Money.of('10.00', 'USD'), paymentMethod: 'card', gateway: 'stripe', userId: null, email: null, ip: null, deviceFingerprint: device, cardFingerprint: null, country: null });
      const decisions = await Promise.all(Array.from({ length: 16 }, (_, i) => engines[i % 2]!.evaluate(input(i))));
      expect(decisions.filter((d) => d.action === 'allow')).toHaveLength(1);
      expect(decisions.filter((d) => d.action === 'block')).toHaveLength(15);
    } finally {
      await store.close();
      await other.end();
      await dropSchema(pool, schema);
      await pool.end();
    }
  });
});
