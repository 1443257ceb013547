/**
 * Group commit: the units of work of concurrent callers that each come down to one self-contained
 * statement (see {@link TxQueryable.last}) are written together, in one transaction on one connection,
 * and each caller is answered once the COMMIT holding its rows has returned. N units then cost Postgres
 * one commit (one WAL flush) and, on node-postgres, one round trip, instead of N of each.
 *
 * Scheduling is adaptive and adds no wait to a lone caller: a unit that finds no batch in flight is
 * sent at once, alone. Units arriving while a batch is in flight queue for the next one, which starts
 * as soon as the running batch ends, or after `maxWaitMs` on a second connection when the first is
 * still busy, or at once when `maxBatch` units are waiting.
 *
 * Per-unit outcome, as if each unit had run alone:
 * - The fast path pipelines `BEGIN`, the batch's statements and `COMMIT` in one go. Any statement
 *   failing makes Postgres roll the whole transaction back, and the batch runs again with a savepoint
 *   before each unit (one extra round trip per failing unit): a unit whose statement fails (duplicate
 *   key or gateway reference, version conflict, deadlock) fails alone and the others commit.
 * - A failure of the batch itself (lost connection, killed backend) is resolved from the batch's
 *   transaction id (`pg_xact_status`): not committed, each unit runs again alone; committed, the units
 *   whose answers arrived get them; unknown, they fail with a retryable `storage_unavailable`. A caller
 *   is never told a unit succeeded that did not commit.
 *
 * Units that read between writes (`lockPayment`, claiming an idempotency key, the refund-total check)
 * never come here: they hold row locks across round trips while the engine decides, so inside a shared
 * transaction they would hold every other unit of the batch (and its commit) behind their think time.
 * They run in transactions of their own, as without group commit.
 *
 * node-postgres only (a driver with {@link Driver.session}); see {@link GroupCommitter.supports} for
 * why PGlite runs each unit alone.
 *
 * @module
 */
import { TenderError } from '@tender/core';
import type { Driver, QueryResult, Row } from './driver';
import { isConnectionError } from './errors';

/** Settings of group commit (`groupCommit` option of the store factories). */
export interface GroupCommitOptions {
  /**
   * Most units in one batch (default 32). Each unit of a batch that needs savepoints takes a
   * subtransaction; Postgres tracks up to 64 per transaction cheaply, so larger values mostly lengthen
   * the time one slow unit holds the others.
   */
  maxBatch?: number;
  /**
   * Longest a queued unit waits, while a batch is already in flight, before a second batch starts on
   * another connection (default 1 ms; 0 starts it at once). A unit that finds nothing in flight never
   * waits.
   */
  maxWaitMs?: number;
}

/** Counters of a store's group commit since it was created (`PostgresStore.groupCommitStats`). */
export interface GroupCommitStats {
  /** Units written through batches. */
  units: number;
  /** Batches run (each one transaction and one COMMIT). */
  batches: number;
  /** Units of the largest batch so far. */
  largestBatch: number;
  /** Batches started by the `maxWaitMs` timer rather than at once. */
  timedStarts: number;
  /** Batches that ran again with a savepoint per unit because a unit's statement failed. */
  savepointRuns: number;
  /** Units run again alone after their batch failed as a whole without committing. */
  retriedAlone: number;
}

/** Batches in flight at once; each holds one connection. */
const CONNECTIONS = 2;
const DEFAULT_MAX_BATCH = 32;
const DEFAULT_MAX_WAIT_MS = 1;
/** How often an unknown batch outcome is asked again while Postgres still reports it in progress. */
const STATUS_ATTEMPTS = 10;

type Outcome = { ok: true; result: QueryResult } | { ok: false; error: unknown };

interface Unit {
  sql: string;
  params: readonly unknown[];
  resolve(result: QueryResult): void;
  reject(error: unknown): void;
}

/** The batch as a whole failed; `outcomes` holds what is known per unit, `commitSent` whether it may have committed. */
class BatchFailure extends Error {
  constructor(
    readonly reason: unknown,
    readonly commitSent: boolean,
    readonly xid: string | null,
    readonly outcomes: ReadonlyArray<Outcome | undefined>,
  ) {
    super('group commit batch failed');
  }
}

/** A statement sender: calls made before earlier ones answered may be pipelined. */
type Send = (sql: string, params?: readonly unknown[]) => Promise<QueryResult>;

const XID = 'SELECT pg_current_xact_id()::text AS xid';
const SAVEPOINT = 'SAVEPOINT tender_unit';
const ROLLBACK_TO = 'ROLLBACK TO SAVEPOINT tender_unit';

/** The write batcher of one store. */
export class GroupCommitter {
  readonly #driver: Driver;
  readonly #session: NonNullable<Driver['session']>;
  readonly #maxBatch: number;
  readonly #maxWaitMs: number;
  #queue: Unit[] = [];
  #inFlight = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #drained: Array<() => void> = [];
  readonly #stats: GroupCommitStats = { units: 0, batches: 0, largestBatch: 0, timedStarts: 0, savepointRuns: 0, retriedAlone: 0 };

  /** `driver` must lend sessions ({@link Driver.session}); see {@link GroupCommitter.supports}. */
  constructor(driver: Driver, options: GroupCommitOptions = {}) {
    if (!driver.session) throw new TypeError(`group commit needs a driver with sessions; ${driver.kind} has none`);
    this.#driver = driver;
    this.#session = driver.session.bind(driver);
    this.#maxBatch = Math.max(1, Math.floor(options.maxBatch ?? DEFAULT_MAX_BATCH));
    this.#maxWaitMs = Math.max(0, options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
  }

  /**
   * Whether `driver` can group-commit. PGlite cannot, and needs not: it has a single connection whose
   * transactions already run one at a time under PGlite's own transaction lock, which a unit holds
   * while it runs, so a unit waiting for a batch would wait on itself; and what batching saves (round
   * trips, a connection per unit, one WAL flush each on a busy server) barely exists in-process.
   */
  static supports(driver: Driver): boolean {
    return typeof driver.session === 'function';
  }

  /** A copy of the counters. */
  stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /**
   * Writes one self-contained statement (atomic on its own, nothing of it to roll back when it fails)
   * in the next batch; resolves with its result once the batch's COMMIT returned, or rejects with the
   * error it would have had alone.
   */
  submit(sql: string, params: readonly unknown[]): Promise<QueryResult> {
    return new Promise<QueryResult>((resolve, reject) => {
      this.#queue.push({ sql, params, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once no batch is queued or in flight (for `close()`). */
  drain(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #schedule(): void {
    while (this.#queue.length > 0 && this.#inFlight < CONNECTIONS) {
      // Nothing in flight: go now (a lone caller never waits). Otherwise the queue fills until the
      // running batch ends, and a second connection joins in only for a full batch or after maxWaitMs.
      if (this.#inFlight > 0 && this.#queue.length < this.#maxBatch && this.#maxWaitMs > 0) {
        this.#timer ??= setTimeout(() => {
          this.#timer = null;
          if (this.#queue.length > 0 && this.#inFlight < CONNECTIONS) {
            this.#stats.timedStarts++;
            this.#start();
            this.#schedule();
          }
        }, this.#maxWaitMs);
        return;
      }
      this.#start();
    }
  }

  #start(): void {
    const batch = this.#queue.splice(0, this.#maxBatch);
    this.#inFlight++;
    this.#stats.batches++;
    this.#stats.units += batch.length;
    this.#stats.largestBatch = Math.max(this.#stats.largestBatch, batch.length);
    void this.#execute(batch).finally(() => {
      this.#inFlight--;
      if (this.#inFlight === 0 && this.#timer !== null) {
        clearTimeout(this.#timer);
        this.#timer = null;
      }
      this.#schedule();
      if (this.#inFlight === 0 && this.#queue.length === 0) for (const resolve of this.#drained.splice(0)) resolve();
    });
  }

  async #execute(batch: Unit[]): Promise<void> {
    let outcomes: ReadonlyArray<Outcome>;
    try {
      outcomes = await this.#run(batch);
    } catch (error) {
      outcomes = await this.#recover(batch, error);
    }
    batch.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) unit.resolve(outcome.result);
      else unit.reject(outcome.error);
    });
  }

  /** One transaction for the batch; throws {@link BatchFailure} when it failed as a whole. */
  async #run(batch: Unit[]): Promise<Outcome[]> {
    return this.#session(async (s) => {
      const send: Send = (sql, params) => s.query(sql, params);
      return (await this.#optimistic(send, batch)) ?? (await this.#withSavepoints(send, batch));
    });
  }

  /**
   * BEGIN, every statement and COMMIT in one round trip. Null when a statement failed (Postgres then
   * rolled everything back, COMMIT included): the batch must run again with savepoints.
   */
  async #optimistic(send: Send, batch: Unit[]): Promise<Outcome[] | null> {
    const calls = [send('BEGIN'), send(XID), ...batch.map((u) => send(u.sql, u.params)), send('COMMIT')];
    const settled = await Promise.allSettled(calls);
    const xid = settled[1]!.status === 'fulfilled' ? String((settled[1]!.value.rows[0] as Row | undefined)?.xid ?? '') || null : null;
    const lost = settled.find((r) => r.status === 'rejected' && isConnectionError(r.reason));
    if (lost) {
      const outcomes = settled.slice(2, -1).map((r): Outcome | undefined => (r.status === 'fulfilled' ? { ok: true, result: r.value } : undefined));
      throw new BatchFailure((lost as PromiseRejectedResult).reason, true, xid, outcomes);
    }
    if (settled.every((r) => r.status === 'fulfilled')) {
      return settled.slice(2, -1).map((r) => ({ ok: true, result: (r as PromiseFulfilledResult<QueryResult>).value }));
    }
    if (settled[0]!.status === 'rejected') throw new BatchFailure(settled[0]!.reason, false, null, []);
    return null;
  }

  /**
   * The batch with a savepoint before each unit: the first failing unit is rolled back to its
   * savepoint and keeps its error, the units after it are sent again, and so on; then COMMIT.
   */
  async #withSavepoints(send: Send, batch: Unit[]): Promise<Outcome[]> {
    this.#stats.savepointRuns++;
    const outcomes: Array<Outcome | undefined> = new Array(batch.length);
    let head: Array<Promise<QueryResult>> = [send('BEGIN'), send(XID)];
    let xid: string | null = null;
    let from = 0;
    while (from < batch.length) {
      const headCount = head.length;
      const calls = [...head];
      for (let i = from; i < batch.length; i++) calls.push(send(SAVEPOINT), send(batch[i]!.sql, batch[i]!.params));
      const settled = await Promise.allSettled(calls);
      for (const r of settled.slice(0, headCount)) {
        if (r.status === 'rejected') throw new BatchFailure(r.reason, false, xid, outcomes);
        const found = (r.value.rows[0] as Row | undefined)?.xid;
        if (found !== undefined && xid === null) xid = String(found);
      }
      head = [];
      const rest = settled.slice(headCount);
      const failedAt = rest.findIndex((r) => r.status === 'rejected');
      const upTo = failedAt === -1 ? rest.length : failedAt;
      for (let j = 1; j < upTo; j += 2) outcomes[from + (j - 1) / 2] = { ok: true, result: (rest[j] as PromiseFulfilledResult<QueryResult>).value };
      if (failedAt === -1) break;
      const error = (rest[failedAt] as PromiseRejectedResult).reason;
      // A SAVEPOINT itself failing, or the connection going, is the batch's failure, not a unit's.
      if (failedAt % 2 === 0 || isConnectionError(error)) throw new BatchFailure(error, false, xid, outcomes);
      const unit = from + (failedAt - 1) / 2;
      outcomes[unit] = { ok: false, error };
      head = [send(ROLLBACK_TO)];
      from = unit + 1;
    }
    if (head.length > 0) {
      try {
        await Promise.all(head);
      } catch (error) {
        throw new BatchFailure(error, false, xid, outcomes);
      }
    }
    try {
      await send('COMMIT');
    } catch (error) {
      throw new BatchFailure(error, true, xid, outcomes);
    }
    return outcomes as Outcome[];
  }

  /** What each unit of a batch that failed as a whole gets: its own run alone, its known outcome, or a retryable error. */
  async #recover(batch: Unit[], error: unknown): Promise<Outcome[]> {
    // Anything else was thrown before a statement went out (no connection to be had).
    const failure = error instanceof BatchFailure ? error : new BatchFailure(error, false, null, []);
    const status = failure.commitSent ? await this.#status(failure.xid) : 'aborted';
    if (status === 'aborted') {
      // Nothing of the batch committed: each unit runs as it would have without group commit.
      this.#stats.retriedAlone += batch.length;
      return Promise.all(
        batch.map(async (unit): Promise<Outcome> => {
          try {
            return { ok: true, result: await this.#driver.transaction((q) => q.last(unit.sql, unit.params)) };
          } catch (cause) {
            return { ok: false, error: cause };
          }
        }),
      );
    }
    const unknown = (): Outcome => ({ ok: false, error: outcomeUnknown(failure.reason) });
    if (status === 'committed') return batch.map((_, i) => failure.outcomes[i] ?? unknown());
    return batch.map(unknown);
  }

  /** Whether the transaction `xid` committed, as Postgres records it; 'unknown' when it cannot tell. */
  async #status(xid: string | null): Promise<'committed' | 'aborted' | 'unknown'> {
    if (xid === null) return 'unknown';
    for (let attempt = 0; attempt < STATUS_ATTEMPTS; attempt++) {
      try {
        const { rows } = await this.#driver.query<{ status: string | null }>('SELECT pg_xact_status($1::xid8) AS status', [xid]);
        const status = rows[0]?.status;
        if (status === 'committed' || status === 'aborted') return status;
        if (status !== 'in progress') return 'unknown';
      } catch {
        return 'unknown';
      }
      // The killed backend has not finished rolling back yet.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return 'unknown';
  }
}

function outcomeUnknown(cause: unknown): TenderError {
  return new TenderError({
    type: 'storage_error',
    code: 'storage_unavailable',
    message: 'The database connection was lost while the write was being committed; it may or may not have been applied. Retry with the same idempotency key',
    retryable: true,
    retryAfterSeconds: 1,
    cause,
  });
}
