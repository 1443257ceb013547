/**
 * Delivers outbox events (the merchant-facing event stream) with retries: exponential backoff with full
 * jitter, dead-lettering after the last attempt, and leases so several dispatchers (several server
 * instances) share the work without delivering a row twice at once.
 *
 * @module
 */
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import type { OutboxRow, Store } from '../spec/store/v1/index';

/** Options of {@link createOutboxDispatcher}. */
export interface OutboxDispatcherOptions {
  store: Store;
  /** Delivers one event; throw to have it retried. */
  deliver(event: OutboxRow): Promise<void>;
  clock?: Clock;
  logger?: Logger;
  /** Attempts before the row is dead-lettered (default 12: with the defaults, retries span about 9 hours). */
  maxAttempts?: number;
  /** First retry delay (default 30 s); doubles each attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  /** Largest retry delay (default 4 h). */
  maxDelayMs?: number;
  /** Rows claimed per batch (default 20). */
  batchSize?: number;
  /** How long a claimed row is reserved for this dispatcher (default 60 s). */
  leaseMs?: number;
  /** Poll interval of `start()` (default 1 s). */
  intervalMs?: number;
  /** Randomness for jitter (default Math.random). */
  random?: () => number;
}

/** A running or runnable dispatcher. */
export interface OutboxDispatcher {
  /** Claims and delivers one batch; returns how many rows were attempted. */
  runOnce(): Promise<number>;
  /** Polls until `stop()`. */
  start(): void;
  /** Stops polling and waits for the batch in progress. */
  stop(): Promise<void>;
}

/** The delay before retry number `attempt` (1-based): full jitter over an exponential cap. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

/** Creates an outbox dispatcher. */
export function createOutboxDispatcher(options: OutboxDispatcherOptions): OutboxDispatcher {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxAttempts = options.maxAttempts ?? 12;
  const baseDelayMs = options.baseDelayMs ?? 30_000;
  const maxDelayMs = options.maxDelayMs ?? 4 * 60 * 60_000;
  const batchSize = options.batchSize ?? 20;
  const leaseMs = options.leaseMs ?? 60_000;
  const random = options.random ?? Math.random;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = true;

  async function deliverOne(row: OutboxRow): Promise<void> {
    try {
      await options.deliver(row);
      await options.store.completeOutbox(row.id, { status: 'delivered', at: clock.now().toISOString() });
    } catch (error) {
      const attempt = row.attempts + 1;
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= maxAttempts) {
        logger.error({ eventId: row.id, attempts: attempt, error: message }, 'outbox event dead-lettered');
        await options.store.completeOutbox(row.id, { status: 'dead', error: message });
      } else {
        const delay = Math.max(1000, backoffDelay(attempt, baseDelayMs, maxDelayMs, random));
        await options.store.completeOutbox(row.id, {
          status: 'pending',
          nextAttemptAt: new Date(clock.now().getTime() + delay).toISOString(),
          error: message,
        });
      }
    }
  }

  async function runOnce(): Promise<number> {
    const now = clock.now();
    const rows = await options.store.claimOutbox({
      limit: batchSize,
      now: now.toISOString(),
      leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
    });
    await Promise.all(rows.map(deliverOne));
    return rows.length;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce()
        .catch((error: unknown) => {
          logger.warn({ error: String(error) }, 'outbox batch failed');
          return 0;
        })
        .finally(schedule);
    }, options.intervalMs ?? 1000);
    timer.unref?.();
  }

  return {
    runOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
