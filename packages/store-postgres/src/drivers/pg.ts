/**
 * node-postgres driver: a `pg.Pool`, optionally with named (server-side prepared) statements so a hot
 * statement is parsed and planned once per connection instead of once per call.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { Driver, Queryable, QueryResult, Row, TxQueryable } from '../driver';
import { isConnectionError } from '../errors';

/** Options of {@link createPgDriver}. */
export interface PgDriverOptions {
  /** Whether {@link Driver.close} ends the pool (true when the store created it). */
  ownsPool: boolean;
  /**
   * Use named prepared statements (default true). Turn off behind a pooler that cannot keep them
   * (PgBouncer in transaction mode before 1.21).
   */
  prepare?: boolean;
}

type Runner = Pool | PoolClient;

/** Wraps a pool as a {@link Driver}. */
export function createPgDriver(pool: Pool, options: PgDriverOptions): Driver {
  const prepare = options.prepare ?? true;
  const names = new Map<string, string>();

  const config = (sql: string, params: readonly unknown[] | undefined): QueryConfig => {
    if (!prepare || params === undefined) return { text: sql, values: params as unknown[] | undefined };
    let name = names.get(sql);
    if (name === undefined) {
      // A digest of the text keeps names unique per statement (and per schema, which is part of the text).
      name = `tender_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
      names.set(sql, name);
    }
    return { name, text: sql, values: params as unknown[] };
  };

  const run = async <R>(runner: Runner, sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
    const result = await runner.query(config(sql, params));
    return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
  };

  const queryable = (runner: Runner): Queryable => ({
    query: <R = Row>(sql: string, params?: readonly unknown[]) => run<R>(runner, sql, params ?? []),
    exec: async (sql: string) => {
      await runner.query(sql);
    },
  });

  const pooled = queryable(pool);

  return {
    kind: 'pg',
    query: pooled.query,
    exec: pooled.exec,
    async transaction<T>(fn: (q: TxQueryable) => Promise<T>): Promise<T> {
      // The connection and BEGIN are taken at the first statement: a unit of work whose only statement
      // is its last one runs it alone on the pool, one round trip instead of three.
      let client: PoolClient | null = null;
      let begun = false;
      // A connection that failed mid-transaction must not go back to the pool.
      let broken: Error | undefined;
      // pg-pool stops listening to a client's 'error' while it is checked out; a connection dropped
      // between two statements (Postgres restart) would otherwise be an uncaught exception. The next
      // statement then fails and the transaction rolls back as usual.
      const onError = (error: Error) => {
        broken = error;
      };
      // One promise, so statements issued together (Promise.all inside `fn`) share the connection and
      // the single BEGIN instead of racing for two.
      let starting: Promise<PoolClient> | null = null;
      const begin = (): Promise<PoolClient> =>
        (starting ??= (async () => {
          begun = true;
          const connected = await pool.connect();
          client = connected;
          connected.on('error', onError);
          await connected.query('BEGIN');
          return connected;
        })());
      const q: TxQueryable = {
        get begun() {
          return begun;
        },
        query: async <R = Row>(sql: string, params?: readonly unknown[]) => run<R>(await begin(), sql, params ?? []),
        exec: async (sql: string) => {
          await (await begin()).query(sql);
        },
        last: async <R = Row>(sql: string, params: readonly unknown[]) => (begun ? run<R>(await begin(), sql, params) : run<R>(pool, sql, params)),
      };
      try {
        const result = await fn(q);
        if (begun) await (await begin()).query('COMMIT');
        return result;
      } catch (error) {
        if (isConnectionError(error)) {
          broken = error instanceof Error ? error : new Error(String(error));
        } else if (begun && client !== null) {
          try {
            await (client as PoolClient).query('ROLLBACK');
          } catch (rollbackError) {
            broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
          }
        }
        throw error;
      } finally {
        if (client !== null) {
          (client as PoolClient).removeListener('error', onError);
          (client as PoolClient).release(broken);
        }
      }
    },
    async close() {
      if (options.ownsPool) await pool.end();
    },
    poolStats() {
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 10 };
    },
  };
}
