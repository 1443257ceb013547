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
