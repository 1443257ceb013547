/**
 * The one seam between the SQL layer and a driver. node-postgres and PGlite both speak the extended
 * query protocol with `$1` parameters, so every statement in this package runs unchanged on either.
 *
 * @module
 */

/** A result row as the driver parsed it (numeric as string, timestamptz as Date, jsonb as value). */
export type Row = Record<string, unknown>;

/** What a statement returned. */
export interface QueryResult<R = Row> {
  rows: R[];
  /** Rows inserted, updated, deleted or returned. */
  rowCount: number;
}

/** Something that runs statements: a pool, a connection inside a transaction, or PGlite. */
export interface Queryable {
  /** One statement with `$n` parameters. */
  query<R = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** A parameterless script that may hold several statements (migrations). */
  exec(sql: string): Promise<void>;
}

/** The connection of one transaction. */
export interface TxQueryable extends Queryable {
  /** True once a statement was sent, so the transaction holds a BEGIN (and possibly locks). */
  readonly begun: boolean;
  /**
   * Sends the transaction's last statement. When no statement was sent before it, a driver may run it
   * on its own, outside BEGIN ... COMMIT: a single statement is atomic by itself, and the two round
   * trips are saved. The caller guarantees nothing follows it and that it fails as a whole (no partial
   * effect it would need to roll back).
   */
  last<R = Row>(sql: string, params: readonly unknown[]): Promise<QueryResult<R>>;
}

/**
 * A connection lent for statements the caller frames itself (its own BEGIN ... COMMIT and savepoints).
 * Statements sent before the earlier ones have answered travel together where the driver can pipeline
 * them (node-postgres pipeline mode), and are answered in the order they were sent.
 */
export interface Session {
  /** One statement; without `params` it goes as a simple query (BEGIN, COMMIT, SAVEPOINT). */
  query<R = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** A database the store can run on. */
export interface Driver extends Queryable {
  /** `pg` (node-postgres pool) or `pglite` (embedded). */
  readonly kind: 'pg' | 'pglite';
  /**
   * Runs `fn` as one transaction on a single connection: BEGIN is sent with its first statement (none
   * when it sends nothing, or only a {@link TxQueryable.last} statement), COMMIT when it resolves,
   * ROLLBACK when it throws (then rethrown). Errors are the driver's own; callers map them.
   */
  transaction<T>(fn: (q: TxQueryable) => Promise<T>): Promise<T>;
  /**
   * Lends a pipelining connection to `fn` (group commit sends a whole batch in one round trip on it).
   * The connection is discarded when `fn` leaves it inside a transaction or after a connection error.
   * Optional: without it, group commit runs its batches through {@link Driver.transaction}.
   */
  session?<T>(fn: (s: Session) => Promise<T>): Promise<T>;
  /** Releases what the driver owns (a pool it created, a PGlite it opened); leaves borrowed ones open. */
  close(): Promise<void>;
  /** Connections of a pool (`pg`); absent for PGlite, which has one connection and no pool. */
  poolStats?(): PoolStats;
}

/** Connections of a node-postgres pool, as `pg.Pool` counts them. */
export interface PoolStats {
  /** Open connections (idle and in use). */
  total: number;
  /** Open connections waiting in the pool for a statement. */
  idle: number;
  /** Callers waiting for a connection because every one allowed is in use. */
  waiting: number;
  /** Most connections the pool opens (`max`). */
  max: number;
}
