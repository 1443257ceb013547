/**
 * Data retention: anonymise the personal data of old payments ({@link Store.anonymizePayments}) and
 * purge what is no longer needed ({@link Store.purge}: expired idempotency records, delivered outbox
 * rows). Both run in bounded batches that several processes may run at once (payments are taken with
 * `SKIP LOCKED`, purges delete disjoint batches), so every server instance can run it on a timer.
 *
 * @module
 */
import type { AnonymizeResult, Store } from '../spec/store/v1/index';

const DAY_MS = 86_400_000;
/** How long delivered outbox rows are kept by default (the server's purge has always kept 7 days). */
export const DEFAULT_DELIVERED_RETENTION_MS = 7 * DAY_MS;

/** Options of {@link applyRetention}. */
export interface RetentionOptions {
  /** Default: the current time. */
  now?: Date;
  /**
   * Anonymise payments created more than this many days ago (`DATA_RETENTION_DAYS`); unset: nothing
   * is anonymised, only the purge runs.
   */
  retentionDays?: number;
  /**
   * Delivered outbox rows older than this are deleted (default 7 days, or `retentionDays` when that
   * is shorter, so no row outlives the retention period).
   */
  deliveredRetentionMs?: number;
  /** Keep rows the broker relay has not published yet (set when a relay runs). */
  keepUnpublished?: boolean;
  /** Payments per anonymisation batch, each one transaction (default 500). */
  batchSize?: number;
  /** Count only: nothing changes. */
  dryRun?: boolean;
  /** Stops between batches. */
  signal?: AbortSignal;
}

/** What {@link applyRetention} did (or would do, for a dry run). */
export interface RetentionReport {
  dryRun: boolean;
  /** Payments created before this are anonymised; null when `retentionDays` is unset. */
  createdBefore: string | null;
  /** Records anonymised (or due), null when `retentionDays` is unset. */
  anonymized: Omit<AnonymizeResult, 'paymentIds'> | null;
  /** Delivered outbox rows delivered before this are purged. */
  deliveredBefore: string;
  /** Records deleted (or due). */
  purged: { idempotency: number; outbox: number };
}

/**
 * Runs retention once: every due payment is anonymised (batch after batch until none is left or
 * `signal` aborts), then the purge.
 */
export async function applyRetention(store: Store, options: RetentionOptions = {}): Promise<RetentionReport> {
  const now = options.now ?? new Date();
  const days = options.retentionDays;
  if (days !== undefined && !(Number.isInteger(days) && days > 0)) throw new RangeError('retentionDays must be a positive whole number');
  const batch = Math.max(1, Math.floor(options.batchSize ?? 500));
  const dryRun = options.dryRun === true;
  let createdBefore: string | null = null;
  let anonymized: RetentionReport['anonymized'] = null;
  if (days !== undefined) {
    createdBefore = new Date(now.getTime() - days * DAY_MS).toISOString();
    if (dryRun) {
      const { paymentIds: _ids, ...counts } = await store.anonymizePayments({ createdBefore, limit: batch, dryRun: true });
      anonymized = counts;
    } else {
      anonymized = { payments: 0, refunds: 0, outbox: 0, idempotency: 0 };
      while (!options.signal?.aborted) {
        const done = await store.anonymizePayments({ createdBefore, limit: batch });
        anonymized.payments += done.payments;
        anonymized.refunds += done.refunds;
        anonymized.outbox += done.outbox;
        anonymized.idempotency += done.idempotency;
        // A short batch is the last one (others' locked payments are left for the next run).
        if (done.payments < batch) break;
      }
    }
  }
  const keepMs = Math.min(options.deliveredRetentionMs ?? DEFAULT_DELIVERED_RETENTION_MS, days !== undefined ? days * DAY_MS : Infinity);
  const deliveredBefore = new Date(now.getTime() - keepMs).toISOString();
  const purged = options.signal?.aborted
    ? { idempotency: 0, outbox: 0 }
    : await store.purge({ now: now.toISOString(), deliveredBefore, dryRun, ...(options.keepUnpublished ? { keepUnpublished: true } : {}) });
  return { dryRun, createdBefore, anonymized, deliveredBefore, purged };
}
