/**
 * The Redis velocity store (REDIS_URL) against the velocity conformance suite on the local Redis:
 * two clients (two server instances) sharing the windows, the concurrent attempts split between
 * them; and the same attempts fired through two stores at a max_count of 1 let exactly one pass.
 */
import { randomUUID } from 'node:crypto';
import { createRiskEngine, Money, parseRiskConfig, type RiskInput } from '@tender/core';
import { runVelocityStoreConformance } from '@tender/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisVelocityStore } from '../src/risk-velocity-redis';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `tender:test:velocity:${randomUUID()}:`;

runVelocityStoreConformance(
  'redis',
  async () => {
    const store = createRedisVelocityStore(REDIS_URL, { prefix });
    const second = createRedisVelocityStore(REDIS_URL, { prefix });
    return {
      store,
      second,
      teardown: async () => {
        await store.prune(new Date(Date.now() + 86_400_000));
        await store.close();
        await second.close();
      },
    };
  },
  { concurrency: 40 },
);

describe('Redis velocity shared by two risk engines (two instances)', () => {
  const a = createRedisVelocityStore(REDIS_URL, { prefix });
  const b = createRedisVelocityStore(REDIS_URL, { prefix });
  afterAll(async () => {
    await a.prune(new Date(Date.now() + 86_400_000));
    await a.close();
    await b.close();
  });

  it('lets exactly one of concurrent attempts from the same IP pass a max_count of 1', async () => {
    const config = parseRiskConfig(JSON.stringify({ block_threshold: 50, rules: [{ id: 'ip-once', type: 'velocity', key: 'ip', window: '1h', max_count: 1, score: 100 }] }));
    const engines = [createRiskEngine({ config, velocity: a }), createRiskEngine({ config, velocity: b })];
    const ip = `203.0.113.7 ${randomUUID()}`;
    const input = (): RiskInput => ({
      merchantId: 'm_velocity',
      paymentId: `pay_${randomUUID()}`,
      amount: Money.of('10.00', 'USD'),
      paymentMethod: 'card',
      gateway: 'stripe',
      userId: null,
      email: null,
      ip,
      deviceFingerprint: null,
      cardFingerprint: null,
      country: null,
    });
    const decisions = await Promise.all(Array.from({ length: 16 }, (_, i) => engines[i % 2]!.evaluate(input())));
    expect(decisions.filter((d) => d.action === 'allow')).toHaveLength(1);
    expect(decisions.filter((d) => d.action === 'block')).toHaveLength(15);
  });
});
