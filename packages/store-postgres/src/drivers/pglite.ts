/**
 * PGlite driver: Postgres compiled to WASM, embedded in the process, on its single connection.
 *
 * Every call into the WASM module costs about as much as running a small statement, so the driver
 * speaks the wire protocol itself and sends each statement as one call: a named prepared statement
 * (parsed and planned once per connection, like node-postgres's named statements) bound, described and
 * executed with its Sync in one buffer. PGlite's own `query()` makes six calls per statement (parse,
 * describe, bind, describe, execute, sync) and parses and plans it every time. A transaction's BEGIN
 * travels with its first statement, and a transaction that sends only its {@link TxQueryable.last}
 * statement runs it on its own, without BEGIN/COMMIT.
 *
 * Exclusion: PGlite keeps two locks, one per transaction and one per protocol exchange, and its own
 * `query()`/`exec()`/`transaction()` take them. This driver takes the same two, so code sharing the
 * PGlite instance (a `db` handed to the store) never runs a statement inside one of the store's
 * transactions, nor interleaves protocol messages with it.
 *
 * @module
 */
import { parse, protocol, type PGlite } from '@electric-sql/pglite';
import type { Driver, Queryable, QueryResult, Row, TxQueryable } from '../driver';

/** A statement prepared on the connection: its name and the types Postgres inferred for its parameters. */
interface Prepared {
  name: string;
  paramTypes: number[];
}

/**
 * Prepared statements live on the connection, so drivers sharing one PGlite share their names (a
 * second store on the same instance reuses what the first prepared rather than colliding with it).
 */
const preparedByDb = new WeakMap<PGlite, Map<string, Prepared>>();

/**
 * Statements prepared per instance at most. The store's statement set is bounded (a few hundred SQL
 * texts per schema); past this, new SQL runs unnamed (parsed each time, two calls) so a caller
 * building unbounded SQL cannot grow the connection's memory without end.
 */
const MAX_PREPARED = 2_000;

const BEGIN = protocol.serialize.query('BEGIN');

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A transaction that failed earlier and was rolled back by COMMIT (as PGlite's own `transaction()` reports it). */
function abortedError(): Error {
  return Object.assign(new Error('The transaction was aborted by an earlier error; COMMIT rolled it back'), { code: '25P02' });
}

/** Wraps a PGlite instance as a {@link Driver}; `ownsDb` decides whether `close()` closes it. */
/**
 * `ownsDb`: `close()` closes the database. `afterClose`: runs once it is closed, even if closing failed
 * (releases what guarded the database, such as its data-directory lock).
 */
export function createPGliteDriver(db: PGlite, options: { ownsDb: boolean; afterClose?: () => Promise<void> }): Driver {
  let prepared = preparedByDb.get(db);
  if (!prepared) {
    prepared = new Map();
    preparedByDb.set(db, prepared);
  }
  const statements = prepared;

  /** One protocol exchange; `syncToFs` once the data is committed (outside a transaction). */
  const send = async (message: Uint8Array, syncToFs: boolean) => (await db.execProtocol(message, { syncToFs })).messages;

  /**
   * Runs one statement with parameters: one call once it is prepared, two the first time. `prefix`:
   * protocol messages sent ahead of it in its first call (the BEGIN of a transaction), so they run
   * before it whatever happens to it.
   */
  async function run<R>(sql: string, params: readonly unknown[], prefix: Uint8Array | null, syncToFs: boolean): Promise<QueryResult<R>> {
    let pending = prefix;
    let statement = statements.get(sql);
    if (!statement) {
      const name = statements.size < MAX_PREPARED ? `tender_${statements.size + 1}` : '';
      const parts = [protocol.serialize.parse({ name, text: sql }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()];
      const messages = await send(concat(pending ? [pending, ...parts] : parts), syncToFs);
      pending = null;
      statement = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
      // Prepared statements outlive a rollback, so a statement prepared inside a transaction stays.
      if (name !== '') statements.set(sql, statement);
    }
    const { name, paramTypes } = statement;
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      // PGlite's own serializers for the inferred types: the same text its query() would send.
      const serialize = db.serializers[paramTypes[i]!];
      return serialize ? (serialize(value) as string) : String(value);
    });
    const parts = [
      protocol.serialize.bind({ statement: name, values }),
      protocol.serialize.describe({ type: 'P' }),
      protocol.serialize.execute({}),
      protocol.serialize.sync(),
    ];
    const messages = await send(concat(pending ? [pending, ...parts] : parts), syncToFs);
    // With a BEGIN in front, its own (row-less) result comes first.
    const results = parse.parseResults(messages, db.parsers);
    const result = results[results.length - 1];
    const rows = (result?.rows ?? []) as R[];
    // PGlite reports affectedRows 0 for SELECT; the returned rows count there.
    return { rows, rowCount: Math.max(result?.affectedRows ?? 0, rows.length) };
  }

  /** A parameterless script, possibly of several statements (simple query protocol). */
  async function script(sql: string, prefix: Uint8Array | null, syncToFs: boolean): Promise<void> {
    const message = protocol.serialize.query(sql);
    await send(prefix ? concat([prefix, message]) : message, syncToFs);
  }

  /** Outside any transaction: both of PGlite's locks, as its own `query()` takes them. */
  const standalone = <T>(fn: () => Promise<T>): Promise<T> => db._runExclusiveTransaction(() => db._runExclusiveQuery(fn));

  return {
    kind: 'pglite',
    query: <R = Row>(sql: string, params: readonly unknown[] = []) => standalone(() => run<R>(sql, params, null, true)),
    exec: (sql: string) => standalone(() => script(sql, null, true)),
    transaction: <T>(fn: (q: TxQueryable) => Promise<T>) =>
      db._runExclusiveTransaction(async () => {
        let begun = false;
        let done = false;
        /** The BEGIN to send with the next exchange, once. */
        const opening = (): Uint8Array | null => {
          if (done) throw new Error('The transaction is finished');
          if (begun) return null;
          begun = true;
          return BEGIN;
        };
        const q: TxQueryable = {
          get begun() {
            return begun;
          },
          query: <R = Row>(sql: string, params: readonly unknown[] = []) => db._runExclusiveQuery(() => run<R>(sql, params, opening(), false)),
          exec: (sql: string) => db._runExclusiveQuery(() => script(sql, opening(), false)),
          // Nothing sent yet: the statement is atomic on its own, committed as it runs. (What the caller
          // reads after it, to explain a failure, opens a transaction like any first statement.)
          last: <R = Row>(sql: string, params: readonly unknown[]) =>
            db._runExclusiveQuery(() => (begun ? run<R>(sql, params, null, false) : run<R>(sql, params, null, true))),
        };
        let result: T;
        try {
          result = await fn(q);
        } catch (error) {
          if (begun && !done) {
            done = true;
            await db._runExclusiveQuery(() => script('ROLLBACK', null, false));
          }
          throw error;
        }
        if (begun && !done) {
          done = true;
          const messages = await db._runExclusiveQuery(() => send(protocol.serialize.query('COMMIT'), true));
          const tag = messages.find((m) => m.name === 'commandComplete') as { text?: string } | undefined;
          if (tag?.text === 'ROLLBACK') throw abortedError();
        }
        return result;
      }),
    async close() {
      try {
        if (options.ownsDb && !db.closed) await db.close();
      } finally {
        if (options.ownsDb) preparedByDb.delete(db);
        await options.afterClose?.();
      }
    },
  };
}
