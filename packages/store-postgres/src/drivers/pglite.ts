/**
 * PGlite driver: Postgres compiled to WASM, embedded in the process. It has a single connection;
 * PGlite itself queues standalone queries behind a running transaction, so statements from concurrent
 * callers never land inside someone else's transaction.
 *
 * @module
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Driver, Queryable, QueryResult, Row } from '../driver';

type Runner = PGlite | Transaction;

function queryable(runner: Runner): Queryable {
  return {
    async query<R = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await runner.query<R>(sql, params as unknown[] | undefined);
      // PGlite reports affectedRows 0 for SELECT; the returned rows count there.
      return { rows: result.rows, rowCount: Math.max(result.affectedRows ?? 0, result.rows.length) };
    },
    async exec(sql: string): Promise<void> {
      await runner.exec(sql);
    },
  };
}

/** Wraps a PGlite instance as a {@link Driver}; `ownsDb` decides whether `close()` closes it. */
export function createPGliteDriver(db: PGlite, options: { ownsDb: boolean }): Driver {
  const direct = queryable(db);
  return {
    kind: 'pglite',
    query: direct.query,
    exec: direct.exec,
    transaction: <T>(fn: (q: Queryable) => Promise<T>) => db.transaction((tx) => fn(queryable(tx))),
    async close() {
      if (options.ownsDb && !db.closed) await db.close();
    },
  };
}
