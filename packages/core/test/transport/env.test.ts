import { describe, expect, it } from 'vitest';
import { parseDurationMs, transportOptionsFromEnv } from '@tender/core';

describe('parseDurationMs', () => {
  it.each([
    ['30s', 30_000],
    ['1s', 1_000],
    ['500ms', 500],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['250us', 0.25],
    ['45', 45_000],
  ])('%s -> %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', 's', '30 s', '30sec', '-1s', 'abc', '1s2'])('rejects %j', (text) => {
    expect(() => parseDurationMs(text, 'FIUU_TIMEOUT')).toThrowError(expect.objectContaining({ type: 'invalid_request_error', param: 'FIUU_TIMEOUT' }));
  });
});

describe('transportOptionsFromEnv', () => {
  it('maps the documented per-gateway variables (FIUU_TIMEOUT=30s, FIUU_RETRY_ATTEMPTS=3, FIUU_RETRY_DELAY=1s)', () => {
    expect(transportOptionsFromEnv('fiuu', 'FIUU', { FIUU_TIMEOUT: '30s', FIUU_RETRY_ATTEMPTS: '3', FIUU_RETRY_DELAY: '1s', OTHER: 'x' })).toEqual({
      gateway: 'fiuu',
      timeoutMs: 30_000,
      retry: { attempts: 3, baseDelayMs: 1_000 },
    });
  });

  it('reads circuit and pool settings, and leaves unset or blank ones to the defaults', () => {
    expect(
      transportOptionsFromEnv('stripe', 'STRIPE', {
        STRIPE_TIMEOUT: ' ',
        STRIPE_CIRCUIT_THRESHOLD: '0.5',
        STRIPE_CIRCUIT_WINDOW: '1m',
        STRIPE_CIRCUIT_MIN_REQUESTS: '10',
        STRIPE_CIRCUIT_OPEN: '30s',
        STRIPE_CIRCUIT_HALF_OPEN_TRIALS: '2',
        STRIPE_RETRY_MAX_DELAY: '5s',
        STRIPE_POOL_CONNECTIONS: '16',
      }),
    ).toEqual({
      gateway: 'stripe',
      retry: { maxDelayMs: 5_000 },
      circuit: { failureThreshold: 0.5, windowMs: 60_000, minimumRequests: 10, openMs: 30_000, halfOpenTrials: 2 },
      pool: { connections: 16 },
    });
    expect(transportOptionsFromEnv('upi', 'UPI', {})).toEqual({ gateway: 'upi' });
  });

  it('names the malformed variable', () => {
    expect(() => transportOptionsFromEnv('fiuu', 'FIUU', { FIUU_RETRY_ATTEMPTS: 'three' })).toThrowError(/FIUU_RETRY_ATTEMPTS/);
    expect(() => transportOptionsFromEnv('fiuu', 'FIUU', { FIUU_RETRY_DELAY: '1 second' })).toThrowError(/FIUU_RETRY_DELAY/);
  });
});
