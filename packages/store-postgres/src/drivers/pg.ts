/**
 * node-postgres driver: a `pg.Pool`, optionally with named (server-side prepared) statements so a hot
 * statement is parsed and planned once per connection instead of once per call.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient, PoolConfig, QueryConfig } from 'pg';
import type { Driver, Queryable, QueryResult, Row, Session, TxQueryable } from '../driver';
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
  /**
   * Most connections {@link Driver.session} holds at once (default 2). They come from a second pool,
   * opened on first use with the main pool's settings and pipeline mode on, and ended by `close()`.
   */
  sessions?: number;
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

  // Pipeline mode is a setting of a connection for its whole life, so pipelined sessions get their own
  // pool rather than switching connections of the caller's pool back and forth. Same constructor (so
  // the same pg copy and Client class) and the caller's settings: a pool they configured stays theirs.
  let sessionPool: Pool | null = null;
  const sessions = (): Pool => {
    if (sessionPool === null) {
      const Ctor = pool.constructor as new (config: PoolConfig & { pipeline: boolean }) => Pool;
      sessionPool = new Ctor({ ...(pool as Pool & { options: PoolConfig }).options, max: Math.max(1, options.sessions ?? 2), min: 0, pipeline: true });
      // An idle session connection dropped by a Postgres restart must not crash the process; the next
      // session opens a new one.
      sessionPool.on('error', () => {});
    }
    return sessionPool;
  };

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
    async session<T>(fn: (s: Session) => Promise<T>): Promise<T> {
      const client = await sessions().connect();
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken = error;
      };
      client.on('error', onError);
      // Statements sent in one go leave in one socket write: node-postgres writes each statement as it
      // is queued (one write call each), so the socket is corked until the sending code yields. On a
      // busy host the write calls, not the bytes, are what a batch costs the client.
      // `connection.stream` is node-postgres's socket (absent on some runtimes, hence the checks).
      const stream = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
      let corked = false;
      const uncork = () => {
        corked = false;
        stream!.uncork!();
      };
      const query = <R = Row>(sql: string, params?: readonly unknown[]) => {
        if (!corked && stream?.cork && stream.uncork) {
          corked = true;
          stream.cork();
          queueMicrotask(uncork);
        }
        return run<R>(client, sql, params);
      };
      try {
        return await fn({ query });
      } catch (error) {
        if (isConnectionError(error)) broken = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.removeListener('error', onError);
        // Never hand back a connection still inside a transaction (`fn` gave up half way).
        const status = (client as PoolClient & { getTransactionStatus?: () => string | undefined }).getTransactionStatus?.();
        if (broken === undefined && (status === 'T' || status === 'E')) broken = new Error(`session left in transaction state ${status}`);
        client.release(broken);
      }
    },
    async close() {
      const open = sessionPool;
      sessionPool = null;
      await open?.end();
      if (options.ownsPool) await pool.end();
    },
    poolStats() {
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 10 };
    },
  };
}
