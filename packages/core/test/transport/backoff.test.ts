import { describe, expect, it } from 'vitest';
import { fullJitterDelay, parseRetryAfter } from '@tender/core';

const opts = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 30_000 };

describe('fullJitterDelay', () => {
  it('is uniform in [0, min(max, base * 2^(retry-1)))', () => {
    expect([1, 2, 3, 4, 5, 6].map((r) => fullJitterDelay(r, opts, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(fullJitterDelay(3, opts, () => 0)).toBe(0);
    expect(fullJitterDelay(3, opts, () => 0.5)).toBe(200);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 7 ', now)).toBe(7_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent or malformed values', () => {
    for (const v of [undefined, '', '-1', '1.5', 'soon', '12abc']) expect(parseRetryAfter(v, now)).toBeUndefined();
  });
});
