/**
 * The outbox relay: publishes outbox events to a message broker, at least once and in order per
 * payment. It claims each payment's oldest unpublished event ({@link Store.claimRelay}: leased, so
 * several relays on one database share the work without publishing a row twice at once), publishes it,
 * and marks it published only after the broker confirmed it. A failed publish is retried with
 * backoff and holds back that payment's later events, never other payments'. Because a crash between
 * the confirm and the mark publishes the event again, every message carries the event id for the
 * broker's dedup window (`Nats-Msg-Id`) or the consumer's own dedup.
 *
 * This is the "polling publisher" of the transactional outbox pattern
 * (https://microservices.io/patterns/data/transactional-outbox.html).
 *
 * @module
 */
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { createBrokerEncoder, type BrokerEncoder } from '../events/broker-messages';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import { PublishError, type EventPublisher } from '../spec/event-broker/v1/index';
import type { OutboxRow, Store } from '../spec/store/v1/index';
import { backoffDelay } from './outbox-dispatcher';

/** What happened to one claimed row. */
export type RelayOutcome = 'published' | 'skipped' | 'retry' | 'dead';

/** Options of {@link createOutboxRelay}. */
export interface OutboxRelayOptions {
  store: Store;
  publisher: EventPublisher;
  /** Row to message (default: Tender's version 1 envelope, {@link createBrokerEncoder}). */
  encode?: BrokerEncoder;
  clock?: Clock;
  logger?: Logger;
  /** Rows (payments) claimed per batch (default 100). */
  batchSize?: number;
  /** How long a claimed row is reserved for this relay (default 15 s; at least `publishTimeoutMs` + 5 s). */
  leaseMs?: number;
  /** A publish not confirmed within this counts as failed (default 10 s). */
  publishTimeoutMs?: number;
  /** Poll interval while idle (default 250 ms); {@link OutboxRelay.nudge} runs a batch at once. */
  intervalMs?: number;
  /** First retry delay (default 500 ms), doubling up to `maxDelayMs` (default 30 s), full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Attempts before a row is given up on (default: never, so a broker outage of any length loses
   * nothing). A message the broker can never take ({@link PublishError} with `retryable: false`) is
   * dead at once either way.
   */
  maxAttempts?: number;
  random?: () => number;
  /** Observer for metrics: each row's outcome, with the time from the event's creation to it. */
  onOutcome?(outcome: RelayOutcome, row: OutboxRow, lagMs: number): void;
}

/** A running or runnable relay. */
export interface OutboxRelay {
  /** Claims and publishes one batch; returns how many rows were claimed. */
  runOnce(): Promise<number>;
  /** Polls until `stop()`. */
  start(): void;
  /** Runs the next batch now (e.g. after a commit wrote new events). */
  nudge(): void;
  /** Stops polling and waits for the batch in progress. */
  stop(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishError(`publish not confirmed within ${ms} ms`, { retryable: true })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Creates an outbox relay. */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const encode = options.encode ?? createBrokerEncoder();
  const batchSize = options.batchSize ?? 100;
  const publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
  const leaseMs = Math.max(options.leaseMs ?? 15_000, publishTimeoutMs + 5_000);
  const intervalMs = options.intervalMs ?? 250;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const random = options.random ?? Math.random;
  const { store, publisher } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = true;
  let again = false;

  function report(outcome: RelayOutcome, row: OutboxRow): void {
    try {
      options.onOutcome?.(outcome, row, clock.now().getTime() - Date.parse(row.createdAt));
    } catch {
      // An observer's failure is not the relay's.
    }
  }

  async function relayOne(row: OutboxRow): Promise<void> {
    try {
      const message = await encode(row);
      if (message) await withTimeout(publisher.publish(message), publishTimeoutMs);
      await store.completeRelay(row.id, { status: 'published', at: clock.now().toISOString() });
      report(message ? 'published' : 'skipped', row);
    } catch (error) {
      const attempt = row.relay.attempts + 1;
      const text = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof PublishError && !error.retryable;
      try {
        if (permanent || attempt >= maxAttempts) {
          logger.error({ eventId: row.id, type: row.type, attempts: attempt, error: text }, 'relay gave up on an event; its payment\'s later events go on');
          await store.completeRelay(row.id, { status: 'dead', error: text });
          report('dead', row);
        } else {
          const delay = Math.max(baseDelayMs, backoffDelay(attempt, baseDelayMs, maxDelayMs, random));
          if (attempt === 1 || attempt % 10 === 0) logger.warn({ eventId: row.id, attempts: attempt, error: text }, 'event not published; will retry');
          await store.completeRelay(row.id, { status: 'pending', nextAttemptAt: new Date(clock.now().getTime() + delay).toISOString(), error: text });
          report('retry', row);
        }
      } catch (storeError) {
        // The lease runs out and the row is claimed again: nothing is lost.
        logger.warn({ eventId: row.id, error: String(storeError) }, 'relay outcome not recorded; the row is retried after its lease');
      }
    }
  }

  async function runOnce(): Promise<number> {
    const now = clock.now();
    const rows = await store.claimRelay({ limit: batchSize, now: now.toISOString(), leaseUntil: new Date(now.getTime() + leaseMs).toISOString() });
    await Promise.all(rows.map(relayOne));
    return rows.length;
  }

  function schedule(delay: number): void {
    if (stopped || running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      again = false;
      const batch = runOnce().catch((error: unknown) => {
        logger.warn({ error: String(error) }, 'relay batch failed');
        return 0;
      });
      running = batch;
      void batch.then((claimed) => {
        running = undefined;
        // Rows published may have released their payments' next events, and a nudge during the batch
        // means new ones: go on at once until a claim comes back empty.
        schedule(claimed > 0 || again ? 0 : intervalMs);
      });
    }, delay);
    timer.unref?.();
  }

  return {
    runOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    nudge() {
      if (stopped) return;
      if (running) again = true;
      else schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
