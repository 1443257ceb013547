import { describe, expect, it } from 'vitest';
import { newId } from '@tender/core';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The last 60 bits of an id (its last 12 characters), which must be fresh randomness every time. */
function tailBits(id: string): bigint {
  let n = 0n;
  for (const c of id.slice(-12)) n = n * 32n + BigInt(ALPHABET.indexOf(c));
  return n;
}

function popcount(n: bigint): number {
  let count = 0;
  for (let x = n; x > 0n; x >>= 1n) count += Number(x & 1n);
  return count;
}

describe('ids', () => {
  it('sort in creation order, even many in one millisecond, with the time up front', () => {
    const at = Date.UTC(2026, 11, 1);
    const ids = Array.from({ length: 20_000 }, () => newId('pay', at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^pay_[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    const later = newId('pay', at + 1000);
    expect(later > ids[ids.length - 1]!).toBe(true);
  });

  it('tell nothing about their neighbours: the random bits of consecutive ids differ like coin flips', () => {
    const at = Date.UTC(2026, 11, 1, 1);
    const ids = Array.from({ length: 2_000 }, () => newId('evt', at));
    const distances = ids.slice(1).map((id, i) => popcount(tailBits(id) ^ tailBits(ids[i]!)));
    // Independent 60-bit values differ in 30 bits on average; an incremented ULID in one or two.
    const mean = distances.reduce((a, b) => a + b, 0) / distances.length;
    expect(mean).toBeGreaterThan(27);
    expect(mean).toBeLessThan(33);
    expect(Math.min(...distances)).toBeGreaterThan(8);
  });
});
