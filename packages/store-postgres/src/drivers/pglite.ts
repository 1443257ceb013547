/**
 * PGlite driver: Postgres compiled to WASM, embedded in the process. It has a single connection;
 * PGlite itself queues standalone queries behind a running transaction, so statements from concurrent
 * callers never land inside someone else's transaction.
 *
 * @module
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Driver, Queryable, QueryResult, Row, TxQueryable } from '../driver';

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
/**
 * `ownsDb`: `close()` closes the database. `afterClose`: runs once it is closed, even if closing failed
 * (releases what guarded the database, such as its data-directory lock).
 */
export function createPGliteDriver(db: PGlite, options: { ownsDb: boolean; afterClose?: () => Promise<void> }): Driver {
  const direct = queryable(db);
  return {
    kind: 'pglite',
    query: direct.query,
    exec: direct.exec,
    // One connection: PGlite's own transaction queue is what keeps callers apart, so BEGIN is eager.
    transaction: <T>(fn: (q: TxQueryable) => Promise<T>) =>
      db.transaction((tx) => {
        const q = queryable(tx);
        return fn({ ...q, begun: true, last: q.query });
      }),
    async close() {
      try {
        if (options.ownsDb && !db.closed) await db.close();
      } finally {
        await options.afterClose?.();
      }
    },
  };
}
