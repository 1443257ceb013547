import { describe, expect, it } from 'vitest';
import { pushBounded, retentionLimit, setBounded } from '@tender/core';

describe('setBounded', () => {
  it('keeps the newest `limit` entries and reports each forgotten one', () => {
    const map = new Map<string, number>();
    const evicted: Array<[string, number]> = [];
    for (let i = 1; i <= 5; i++) setBounded(map, `k${i}`, i, 3, (k, v) => evicted.push([k, v]));
    expect([...map.keys()]).toEqual(['k3', 'k4', 'k5']);
    expect(evicted).toEqual([['k1', 1], ['k2', 2]]);
  });

  it('replacing a remembered key evicts nothing', () => {
    const map = new Map([['a', 1], ['b', 2]]);
    setBounded(map, 'a', 10, 2);
    expect(Object.fromEntries(map)).toEqual({ a: 10, b: 2 });
  });
});

describe('pushBounded', () => {
  it('never holds more than twice the limit, and always the newest `limit` items in order', () => {
    const history: number[] = [];
    for (let i = 1; i <= 100; i++) {
      pushBounded(history, i, 10);
      expect(history.length).toBeLessThanOrEqual(20);
      expect(history.slice(-Math.min(i, 10))).toEqual(Array.from({ length: Math.min(i, 10) }, (_, j) => i - Math.min(i, 10) + 1 + j));
    }
  });
});

describe('retentionLimit', () => {
  it('takes the fallback when absent and refuses anything but a positive integer, naming the option', () => {
    expect(retentionLimit(undefined, 100, 'retention.objects')).toBe(100);
    expect(retentionLimit(5, 100, 'retention.objects')).toBe(5);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => retentionLimit(bad, 100, 'retention.objects')).toThrow(/^retention\.objects must be a positive integer/);
    }
  });
});

describe('setBounded at scale', () => {
  it('forgets in arrival order across many evictions, also after other code deleted keys', () => {
    const map = new Map<number, number>();
    const evicted: number[] = [];
    for (let i = 0; i < 5000; i++) setBounded(map, i, i, 1000, (k) => evicted.push(k));
    expect(map.size).toBe(1000);
    expect([...map.keys()]).toEqual(Array.from({ length: 1000 }, (_, j) => 4000 + j));
    expect(evicted).toEqual(Array.from({ length: 4000 }, (_, j) => j));
    // Keys released elsewhere (as the idempotency ledger does) are skipped, not counted.
    for (let i = 4000; i < 4500; i++) map.delete(i);
    for (let i = 5000; i < 5600; i++) setBounded(map, i, i, 1000);
    expect([...map.keys()]).toEqual([...Array.from({ length: 400 }, (_, j) => 4600 + j), ...Array.from({ length: 600 }, (_, j) => 5000 + j)]);
  });

  it('a map whose keys are mostly deleted by other code stays within its limit and keeps its order', () => {
    const map = new Map<number, number>();
    for (let i = 0; i < 50_000; i++) {
      setBounded(map, i, i, 10);
      if (i % 2 === 0) map.delete(i);
    }
    expect([...map.keys()]).toEqual([49981, 49983, 49985, 49987, 49989, 49991, 49993, 49995, 49997, 49999]);
  });

  it('keeps a limit of 100,000 exactly, one eviction per new key once full', () => {
    const map = new Map<number, number>();
    let evictions = 0;
    for (let i = 0; i < 300_000; i++) setBounded(map, i, i, 100_000, () => evictions++);
    expect(evictions).toBe(200_000);
    expect(map.keys().next().value).toBe(200_000);
  });
});
