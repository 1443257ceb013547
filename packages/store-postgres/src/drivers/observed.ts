/**
 * A driver wrapper that reports how long each statement took (for the `db_query_duration_seconds`
 * metric of the reference server). With no listener it only adds a set-size check per statement.
 *
 * @module
 */
import type { Driver, Queryable, QueryResult, Row, Session, TxQueryable } from '../driver';

/** Called once per statement with its duration in seconds and whether it failed. */
export type QueryListener = (seconds: number, failed: boolean) => void;

/** A {@link Driver} whose statements are timed for the listeners added with `observe`. */
export interface ObservedDriver extends Driver {
  observe(listener: QueryListener): () => void;
}

/** Wraps `driver` so every statement (inside transactions too) is reported to the listeners. */
export function observedDriver(driver: Driver): ObservedDriver {
  const listeners = new Set<QueryListener>();
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    if (listeners.size === 0) return work();
    const started = performance.now();
    let failed = true;
    try {
      const result = await work();
      failed = false;
      return result;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      for (const listener of listeners) {
        try {
          listener(seconds, failed);
        } catch {
          // A failing metrics listener must not fail a statement.
        }
      }
    }
  };
  const wrap = <Q extends Queryable>(q: Q): Queryable => ({
    query: <R = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> => timed(() => q.query<R>(sql, params)),
    exec: (sql: string) => timed(() => q.exec(sql)),
  });
  const direct = wrap(driver);
  return {
    kind: driver.kind,
    query: direct.query,
    exec: direct.exec,
    transaction: <T>(fn: (q: TxQueryable) => Promise<T>) =>
      driver.transaction((tx) => {
        const inner = wrap(tx);
        return fn({
          get begun() {
            return tx.begun;
          },
          query: inner.query,
          exec: inner.exec,
          last: <R = Row>(sql: string, params: readonly unknown[]) => timed(() => tx.last<R>(sql, params)),
        });
      }),
    ...(driver.session
      ? {
          session: <T>(fn: (s: Session) => Promise<T>) =>
            driver.session!((s) => fn({ query: <R = Row>(sql: string, params?: readonly unknown[]) => timed(() => s.query<R>(sql, params)) })),
        }
      : {}),
    close: () => driver.close(),
    ...(driver.poolStats ? { poolStats: () => driver.poolStats!() } : {}),
    observe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
