import { describe, expect, it } from 'vitest';
import { newId } from '@tender/core';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The last 80 bits of an id (its last 16 characters), which must be fresh randomness every time. */
function randomBits(id: string): bigint {
  let n = 0n;
  for (const c of id.slice(-16)) n = n * 32n + BigInt(ALPHABET.indexOf(c));
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
    expect(ids.every((id) => /^pay_[0-9A-HJKMNP-TV-Z]{28}$/.test(id))).toBe(true);
    const later = newId('pay', at + 1000);
    expect(later > ids[ids.length - 1]!).toBe(true);
    // A clock that steps back does not break the order either.
    const back = newId('pay', at - 5000);
    expect(back > later).toBe(true);
    // Within 40 characters (Fiuu's order id limit) and 32 (its seamless mpsorderid) with the prefix.
    expect(ids[0]!.length).toBe(32);
  });

  it('sort after the 26-character ids made before them', () => {
    // An id of the former layout (10 characters of time, 16 random), the largest of its millisecond,
    // against new ids of the next millisecond and a second later.
    const t0 = Date.UTC(2030, 0, 1);
    const old = `${newId('pay', t0).slice(0, 14)}${'Z'.repeat(16)}`;
    expect(old).toMatch(/^pay_[0-9A-Z]{26}$/);
    expect(newId('pay', t0 + 1) > old).toBe(true);
    expect(newId('pay', t0 + 1000) > old).toBe(true);
  });

  it('tell nothing about their neighbours: 80 random bits, fresh for every id, differing like coin flips', () => {
    const at = Date.UTC(2026, 11, 1, 1);
    const ids = Array.from({ length: 2_000 }, () => newId('evt', at));
    const bits = ids.map(randomBits);
    const distances = bits.slice(1).map((b, i) => popcount(b ^ bits[i]!));
    // Independent 80-bit values differ in 40 bits on average; an incremented ULID in one or two.
    const mean = distances.reduce((a, b) => a + b, 0) / distances.length;
    expect(mean).toBeGreaterThan(37);
    expect(mean).toBeLessThan(43);
    expect(Math.min(...distances)).toBeGreaterThan(12);
    // No id is its neighbour plus a small step.
    const gaps = bits.slice(1).map((b, i) => (b > bits[i]! ? b - bits[i]! : bits[i]! - b));
    expect(gaps.every((g) => g > 1n << 40n)).toBe(true);
    // Every one of the 80 bit positions is random: each is set in about half of the ids.
    for (let bit = 0n; bit < 80n; bit++) {
      const set = bits.filter((b) => (b >> bit) & 1n).length / bits.length;
      expect(set, `bit ${bit}`).toBeGreaterThan(0.4);
      expect(set, `bit ${bit}`).toBeLessThan(0.6);
    }
  });
});
