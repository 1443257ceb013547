/**
 * `runVelocityStoreConformance`: the vitest suite every {@link VelocityStore} must pass (memory,
 * Postgres, Redis). The factory may return a `second` instance over the same backing data (another
 * process's view: a second pool, a second Redis client), and the concurrency test then splits its
 * attempts between the two, as two server instances sharing a window would.
 *
 * ```ts
 * import { runVelocityStoreConformance } from '@tender/core/testing';
 * runVelocityStoreConformance('redis', async () => ({ store: a, second: b, teardown: async () => {} }));
 * ```
 *
 * Key values are random per test, so one backing store may serve the whole suite.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { VelocityAttempt, VelocityStore } from '../risk/velocity';
import { vitestApi } from './vitest-api';

/** What the factory passed to {@link runVelocityStoreConformance} returns. */
export interface VelocityStoreUnderTest {
  store: VelocityStore;
  /** Another instance over the same data, when the store can be shared between processes. */
  second?: VelocityStore;
  teardown(): Promise<void>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Registers the velocity store conformance suite under `describe(name)`. */
export function runVelocityStoreConformance(name: string, makeStore: () => Promise<VelocityStoreUnderTest>, options: { concurrency?: number } = {}): void {
  const { afterAll, beforeAll, describe, expect, it } = vitestApi();
  describe(`VelocityStore conformance: ${name}`, () => {
    let subject: VelocityStoreUnderTest;
    let store: VelocityStore;
    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.teardown();
    });
    // Times near the wall clock: a store may expire what is older than its retention by its own clock.
    const base = Math.floor(Date.now() / 1000) * 1000;
    const attempt = (over: Partial<VelocityAttempt> & Pick<VelocityAttempt, 'keys'>): VelocityAttempt => ({
      id: `pay_${randomUUID()}`,
      amountMinor: 1000,
      currency: 'USD',
      at: new Date(base),
      ...over,
    });
    const value = () => randomUUID();

    it('counts and sums the attempt itself, per key, and answers 0 for a key the attempt lacks', async () => {
      const ip = value();
      const user = value();
      const first = await store.recordAndCount(attempt({ keys: { ip, user }, amountMinor: 500 }), [
        { key: 'ip', windowMs: HOUR },
        { key: 'user', windowMs: HOUR },
        { key: 'device', windowMs: HOUR },
      ]);
      expect(first).toEqual([
        { count: 1, sumMinor: 500 },
        { count: 1, sumMinor: 500 },
        { count: 0, sumMinor: 0 },
      ]);
      const second = await store.recordAndCount(attempt({ keys: { ip }, amountMinor: 700, at: new Date(base + 1000) }), [
        { key: 'ip', windowMs: HOUR },
        { key: 'user', windowMs: HOUR },
      ]);
      expect(second).toEqual([
        { count: 2, sumMinor: 1200 },
        { count: 0, sumMinor: 0 },
      ]);
    });

    it('keeps kinds and values apart: the same value under another kind, or another value, is not counted', async () => {
      const shared = value();
      await store.recordAndCount(attempt({ keys: { ip: shared } }), []);
      const [asDevice, asOtherIp] = await store.recordAndCount(attempt({ keys: { device: shared, ip: value() }, at: new Date(base + 1) }), [
        { key: 'device', windowMs: HOUR },
        { key: 'ip', windowMs: HOUR },
      ]);
      expect(asDevice).toEqual({ count: 1, sumMinor: 1000 });
      expect(asOtherIp).toEqual({ count: 1, sumMinor: 1000 });
    });

    it('slides the window: only attempts after at - windowMs count, and each window of one call is its own', async () => {
      const email = value();
      await store.recordAndCount(attempt({ keys: { email }, at: new Date(base - 2 * HOUR) }), []);
      await store.recordAndCount(attempt({ keys: { email }, at: new Date(base - 30 * MINUTE) }), []);
      await store.recordAndCount(attempt({ keys: { email }, at: new Date(base - 10 * MINUTE) }), []);
      const counts = await store.recordAndCount(attempt({ keys: { email }, at: new Date(base) }), [
        { key: 'email', windowMs: 10 * MINUTE },
        { key: 'email', windowMs: HOUR },
        { key: 'email', windowMs: 24 * HOUR },
      ]);
      expect(counts.map((c) => c.count)).toEqual([1, 3, 4]);
    });

    it('counts an attempt recorded earlier but stamped later (another instance\'s clock ahead)', async () => {
      const ip = value();
      await store.recordAndCount(attempt({ keys: { ip }, at: new Date(base + 2000) }), []);
      const [count] = await store.recordAndCount(attempt({ keys: { ip }, at: new Date(base) }), [{ key: 'ip', windowMs: HOUR }]);
      expect(count!.count).toBe(2);
    });

    it('sums per currency only, while counting attempts in every currency', async () => {
      const card = value();
      await store.recordAndCount(attempt({ keys: { card_fingerprint: card }, amountMinor: 5_000_000, currency: 'INR' }), []);
      await store.recordAndCount(attempt({ keys: { card_fingerprint: card }, amountMinor: 300, currency: 'USD', at: new Date(base + 1) }), []);
      const [inr] = await store.recordAndCount(attempt({ keys: { card_fingerprint: card }, amountMinor: 100, currency: 'INR', at: new Date(base + 2) }), [{ key: 'card_fingerprint', windowMs: HOUR }]);
      expect(inr).toEqual({ count: 3, sumMinor: 5_000_100 });
    });

    it('records an attempt id once: a retry of the same attempt is not counted again', async () => {
      const user = value();
      const once = attempt({ keys: { user } });
      await store.recordAndCount(once, [{ key: 'user', windowMs: HOUR }]);
      const [again] = await store.recordAndCount(once, [{ key: 'user', windowMs: HOUR }]);
      expect(again).toEqual({ count: 1, sumMinor: 1000 });
    });

    it('counts every one of concurrent attempts (split across instances when there are two): at most k of them see a count of k or less', async () => {
      const n = options.concurrency ?? 20;
      const ip = value();
      const stores = subject.second ? [store, subject.second] : [store];
      const counts = await Promise.all(
        Array.from({ length: n }, (_, i) => stores[i % stores.length]!.recordAndCount(attempt({ keys: { ip }, at: new Date(base + i) }), [{ key: 'ip', windowMs: HOUR }])),
      );
      const seen = counts.map(([c]) => c!.count).sort((a, b) => a - b);
      // With max_count k, no more than k attempts may pass: at most k see a count <= k.
      for (let k = 1; k <= n; k++) expect(seen.filter((c) => c <= k).length, `attempts seeing <= ${k}`).toBeLessThanOrEqual(k);
      expect(Math.max(...seen)).toBe(n);
      const [after] = await store.recordAndCount(attempt({ keys: { ip }, at: new Date(base + n) }), [{ key: 'ip', windowMs: HOUR }]);
      expect(after!.count).toBe(n + 1);
    });

    it('prunes attempts older than a given time (when it can)', async () => {
      if (!store.prune) return;
      const device = value();
      await store.recordAndCount(attempt({ keys: { device }, at: new Date(base - 3 * HOUR) }), []);
      await store.prune(new Date(base - 2 * HOUR));
      const [count] = await store.recordAndCount(attempt({ keys: { device }, at: new Date(base) }), [{ key: 'device', windowMs: 24 * HOUR }]);
      expect(count).toEqual({ count: 1, sumMinor: 1000 });
    });
  });
}
