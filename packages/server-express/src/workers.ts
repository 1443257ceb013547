/**
 * Background work inside the server process: the outbox dispatcher (merchant webhooks) and the
 * reconciler (stuck PROCESSING / expired REQUIRES_ACTION payments), plus an hourly purge (with
 * DATA_RETENTION_DAYS, also the anonymisation of old payments' personal data). All of it
 * is safe with several instances on one Postgres: outbox rows are leased with SKIP LOCKED and the
 * reconciler changes a payment only under its row lock and only if nobody changed it meanwhile.
 *
 * @module
 */
import {
  applyRetention,
  createBrokerEncoder,
  createOutboxDispatcher,
  createOutboxRelay,
  webhookEndpointsOf,
  type EventFormat,
  type EventPublisher,
  type Logger,
  type OutboxDispatcher,
  type OutboxRelay,
  type ReconcileOptions,
  type Tender,
} from '@tender/core';
import type { TenderMetrics } from './metrics';
import { publishedEvent } from './present';
import { createWebhookDeliverer, type WebhookDelivererOptions } from './webhook-endpoints';

/** Options of {@link startWorkers}. */
export interface WorkerOptions {
  tender: Tender;
  logger: Logger;
  metrics?: TenderMetrics;
  outbox?: { intervalMs?: number; baseDelayMs?: number; maxAttempts?: number; maxDelayMs?: number; batchSize?: number };
  /** Reconciler period (default 30 s); `0` turns it off. */
  reconcileIntervalMs?: number;
  reconcile?: ReconcileOptions;
  /** Purge period (default 1 h); `0` turns it off. */
  purgeIntervalMs?: number;
  /** DATA_RETENTION_DAYS: the purge also anonymises payments older than this (see `applyRetention`). */
  retentionDays?: number;
  /** Merchant webhook deliveries: see {@link WebhookDelivererOptions.allowPrivateNetworks}. */
  webhooks?: { allowPrivateNetworks?: boolean };
  /** Publish outbox events to a broker (EVENT_BROKER_URL): the relay runs while this is set. */
  relay?: { publisher: EventPublisher; format?: EventFormat; intervalMs?: number; baseDelayMs?: number; maxDelayMs?: number };
}

/** Running workers. */
export interface Workers {
  dispatcher: OutboxDispatcher;
  /** The broker relay, when one is configured. */
  relay: OutboxRelay | null;
  /** Runs one reconciliation now (also what the timer runs). */
  reconcileOnce(): Promise<void>;
  /** Runs one purge (retention included) now, as the timer does. */
  purgeOnce(): Promise<void>;
  /** Stops the timers and waits for the batches in progress. */
  stop(): Promise<void>;
}

/** A periodic task that never overlaps itself and can be awaited when stopped. */
function every(ms: number, task: () => Promise<void>): { stop(): Promise<void>; runNow(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const run = () => {
    if (running || stopped) return running ?? Promise.resolve();
    running = task().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = ms > 0 ? setInterval(() => void run(), ms) : null;
  timer?.unref();
  return {
    runNow: run,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

/** Starts the dispatcher, the reconciler and the purge. */
export function startWorkers(options: WorkerOptions): Workers {
  const { tender, logger, metrics } = options;
  const deliver = createWebhookDeliverer({
    store: webhookEndpointsOf(tender.store),
    present: publishedEvent,
    onAttempt: (outcome) => metrics?.outboxDeliveries.inc({ outcome }),
    ...(options.webhooks?.allowPrivateNetworks ? { allowPrivateNetworks: true } : {}),
  });
  const dispatcher = createOutboxDispatcher({
    store: tender.store,
    deliver,
    logger,
    ...(options.outbox?.intervalMs !== undefined ? { intervalMs: options.outbox.intervalMs } : {}),
    ...(options.outbox?.baseDelayMs !== undefined ? { baseDelayMs: options.outbox.baseDelayMs } : {}),
    ...(options.outbox?.maxDelayMs !== undefined ? { maxDelayMs: options.outbox.maxDelayMs } : {}),
    ...(options.outbox?.maxAttempts !== undefined ? { maxAttempts: options.outbox.maxAttempts } : {}),
    ...(options.outbox?.batchSize !== undefined ? { batchSize: options.outbox.batchSize } : {}),
  });
  dispatcher.start();
  let relay: OutboxRelay | null = null;
  let stopNudging = () => {};
  if (options.relay) {
    const r = options.relay;
    relay = createOutboxRelay({
      store: tender.store,
      publisher: r.publisher,
      encode: createBrokerEncoder({ format: r.format ?? 'tender', reader: tender.store, document: publishedEvent }),
      logger,
      ...(r.intervalMs !== undefined ? { intervalMs: r.intervalMs } : {}),
      ...(r.baseDelayMs !== undefined ? { baseDelayMs: r.baseDelayMs } : {}),
      ...(r.maxDelayMs !== undefined ? { maxDelayMs: r.maxDelayMs } : {}),
      onOutcome(outcome, _row, lagMs) {
        metrics?.relayEvents.inc({ outcome });
        if (outcome === 'published') metrics?.relayLag.observe(lagMs / 1000);
      },
    });
    relay.start();
    // Events committed in this process go out at once; other instances' are found by the poll.
    const running = relay;
    stopNudging = tender.events.on(() => running.nudge());
  }
  const reconciler = every(options.reconcileIntervalMs ?? 30_000, async () => {
    try {
      const report = await tender.reconcile(options.reconcile);
      if (report.errors > 0) metrics?.reconcileErrors.inc(report.errors);
      if (report.updated + report.expired + report.errors > 0) logger.info({ ...report }, 'reconciliation run');
    } catch (error) {
      metrics?.reconcileErrors.inc();
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'reconciliation failed; will retry');
    }
  });
  // Retention batches stop when the workers do (the next run, here or on another instance, goes on).
  const stopping = new AbortController();
  const purge = every(options.purgeIntervalMs ?? 3_600_000, async () => {
    try {
      const report = await applyRetention(tender.store, {
        ...(options.retentionDays !== undefined ? { retentionDays: options.retentionDays } : {}),
        keepUnpublished: relay !== null,
        signal: stopping.signal,
      });
      if (report.anonymized?.payments) logger.info({ ...report.anonymized, created_before: report.createdBefore }, 'retention: payments anonymised');
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'purge failed');
    }
  });
  return {
    dispatcher,
    relay,
    reconcileOnce: () => reconciler.runNow(),
    purgeOnce: () => purge.runNow(),
    async stop() {
      stopNudging();
      stopping.abort();
      await Promise.all([dispatcher.stop(), relay?.stop(), reconciler.stop(), purge.stop()]);
    },
  };
}
