/**
 * Retry delays: exponential backoff with full jitter, and the provider's `Retry-After`.
 *
 * @module
 */

/** Retry settings of a transport. */
export interface RetryOptions {
  /** Maximum number of attempts including the first (1 = never retry). Default 3. */
  attempts?: number;
  /** Backoff base: the first retry waits up to this long. Default 200 ms. */
  baseDelayMs?: number;
  /** Cap of the exponential backoff. Default 5 000 ms. */
  maxDelayMs?: number;
  /**
   * A `Retry-After` longer than this stops retrying (the response is returned as is) rather than
   * holding the caller. Default 30 000 ms.
   */
  maxRetryAfterMs?: number;
}

/** {@link RetryOptions} with defaults applied. */
export type ResolvedRetryOptions = Required<RetryOptions>;

/** Applies defaults and validates. */
export function resolveRetryOptions(options: RetryOptions | undefined): ResolvedRetryOptions {
  const resolved = {
    attempts: options?.attempts ?? 3,
    baseDelayMs: options?.baseDelayMs ?? 200,
    maxDelayMs: options?.maxDelayMs ?? 5_000,
    maxRetryAfterMs: options?.maxRetryAfterMs ?? 30_000,
  };
  if (!Number.isInteger(resolved.attempts) || resolved.attempts < 1) throw new RangeError('retry.attempts must be an integer >= 1');
  for (const key of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!Number.isFinite(resolved[key]) || resolved[key] < 0) throw new RangeError(`retry.${key} must be a number >= 0`);
  }
  return resolved;
}

/**
 * Full-jitter backoff ("Exponential Backoff and Jitter", AWS Architecture Blog): a uniform random
 * delay in `[0, min(max, base * 2^(retry-1)))`. `retry` counts from 1.
 */
export function fullJitterDelay(retry: number, options: ResolvedRetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses `Retry-After` (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) into milliseconds from
 * `nowMs`; undefined when absent or unparseable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Waits `ms`, rejecting with the signal's reason as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
