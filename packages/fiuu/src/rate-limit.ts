/**
 * Requery pacing. Fiuu allows "at most 1 query every 5 s" and blocks the IP of a massive querier
 * without notice (Fiuu API Spec v13.86 p.66), so calls wait their turn rather than fail: at most `perSecond` calls
 * overall, and at least `minIntervalMs` between two queries of the same transaction.
 *
 * @module
 */
import { TenderError } from '@tender/core';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new TenderError({ type: 'gateway_unavailable', code: 'aborted', message: 'Requery aborted while waiting for its rate-limit slot', details: { requestSent: false } }));
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Paces calls per key and overall. */
export class RequeryPacer {
  private nextGlobal = 0;
  private readonly lastByKey = new Map<string, number>();

  constructor(
    private readonly minIntervalMs: number,
    private readonly perSecond: number,
  ) {}

  /** Waits until a query of `key` may be sent, then reserves the slot. */
  async acquire(key: string, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const spacing = 1000 / this.perSecond;
    const keyReady = (this.lastByKey.get(key) ?? -Infinity) + this.minIntervalMs;
    const at = Math.max(now, this.nextGlobal, keyReady);
    // Reserve before waiting so concurrent callers queue behind this one.
    this.nextGlobal = at + spacing;
    this.lastByKey.set(key, at);
    if (this.lastByKey.size > 10_000) this.prune(now);
    await sleep(at - now, signal);
  }

  private prune(now: number): void {
    for (const [key, at] of this.lastByKey) if (at + this.minIntervalMs < now) this.lastByKey.delete(key);
  }
}
