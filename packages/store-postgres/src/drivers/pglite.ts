/**
 * PGlite driver: Postgres compiled to WASM, embedded in the process, on its single connection.
 *
 * Every call into the WASM module costs about as much as running a small statement, so the driver
 * speaks the wire protocol itself and sends each statement as one call: a named prepared statement
 * (parsed and planned once per connection, like node-postgres's named statements) bound, described and
 * executed with its Sync in one buffer. PGlite's own `query()` makes six calls per statement (parse,
 * describe, bind, describe, execute, sync) and parses and plans it every time. A transaction's BEGIN
 * travels with its first statement, and a transaction that sends only its {@link TxQueryable.last}
 * statement runs it on its own, without BEGIN/COMMIT, in one call with the other lone statements
 * waiting at that moment (in-process group commit; see `sendLone`).
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

/**
 * Wraps a PGlite instance as a {@link Driver}. `ownsDb`: `close()` closes the database. `afterClose`:
 * runs once it is closed, even if closing failed (releases what guarded the database, such as its
 * data-directory lock).
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
   * The prepared statement of `sql`, preparing it (one call) the first time. `prefix` goes ahead of
   * the preparation when there is one; the result says whether it is still to send.
   */
  async function prepare(sql: string, prefix: Uint8Array | null, syncToFs: boolean): Promise<{ statement: Prepared; prefix: Uint8Array | null }> {
    const known = statements.get(sql);
    if (known) return { statement: known, prefix };
    const name = statements.size < MAX_PREPARED ? `tender_${statements.size + 1}` : '';
    const parts = [protocol.serialize.parse({ name, text: sql }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()];
    const messages = await send(concat(prefix ? [prefix, ...parts] : parts), syncToFs);
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
    // Prepared statements outlive a rollback, so a statement prepared inside a transaction stays.
    if (name !== '') statements.set(sql, statement);
    return { statement, prefix: null };
  }

  /** Bind, describe, execute and Sync of a prepared statement: one exchange. */
  function execution(statement: Prepared, params: readonly unknown[]): Uint8Array[] {
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      // PGlite's own serializers for the inferred types: the same text its query() would send.
      const serialize = db.serializers[statement.paramTypes[i]!];
      return serialize ? (serialize(value) as string) : String(value);
    });
    return [
      protocol.serialize.bind({ statement: statement.name, values }),
      protocol.serialize.describe({ type: 'P' }),
      protocol.serialize.execute({}),
      protocol.serialize.sync(),
    ];
  }

  /** The result of the last statement in `messages`. */
  function resultOf<R>(messages: Parameters<typeof parse.parseResults>[0]): QueryResult<R> {
    const results = parse.parseResults(messages, db.parsers);
    const result = results[results.length - 1];
    const rows = (result?.rows ?? []) as R[];
    // PGlite reports affectedRows 0 for SELECT; the returned rows count there.
    return { rows, rowCount: Math.max(result?.affectedRows ?? 0, rows.length) };
  }

  /**
   * Runs one statement with parameters: one call once it is prepared, two the first time. `prefix`:
   * protocol messages sent ahead of it in its first call (the BEGIN of a transaction), so they run
   * before it whatever happens to it.
   */
  async function run<R>(sql: string, params: readonly unknown[], prefix: Uint8Array | null, syncToFs: boolean): Promise<QueryResult<R>> {
    const ready = await prepare(sql, prefix, syncToFs);
    const parts = execution(ready.statement, params);
    // With a BEGIN in front, its own (row-less) result comes first.
    return resultOf<R>(await send(concat(ready.prefix ? [ready.prefix, ...parts] : parts), syncToFs));
  }

  /** A parameterless script, possibly of several statements (simple query protocol). */
  async function script(sql: string, prefix: Uint8Array | null, syncToFs: boolean): Promise<void> {
    const message = protocol.serialize.query(sql);
    await send(prefix ? concat([prefix, message]) : message, syncToFs);
  }

  /** Outside any transaction: both of PGlite's locks, as its own `query()` takes them. */
  const standalone = <T>(fn: () => Promise<T>): Promise<T> => db._runExclusiveTransaction(() => db._runExclusiveQuery(fn));

  /**
   * Group commit, in-process: the lone statements of concurrent transactions (each its transaction's
   * only statement, see {@link TxQueryable.last}) that arrive while the database is busy wait for the
   * next call and go together, each with its own Sync. Postgres runs each as its own implicit
   * transaction, so one failing fails alone, while the batch costs one call into the WASM module
   * instead of one each. A statement that finds the database idle is sent at once, alone.
   */
  let lone: Array<{ sql: string; params: readonly unknown[]; resolve(result: QueryResult): void; reject(error: unknown): void }> = [];
  let loneScheduled = false;
  const sendLone = <R>(sql: string, params: readonly unknown[]): Promise<QueryResult<R>> =>
    new Promise<QueryResult<R>>((resolve, reject) => {
      lone.push({ sql, params, resolve: resolve as (result: QueryResult) => void, reject });
      if (loneScheduled) return;
      loneScheduled = true;
      void standalone(async () => {
        // Statements arriving from now on wait for the next batch.
        loneScheduled = false;
        const batch = lone;
        lone = [];
        const ready: Array<{ unit: (typeof batch)[number]; statement: Prepared }> = [];
        for (const unit of batch) {
          try {
            ready.push({ unit, statement: (await prepare(unit.sql, null, true)).statement });
          } catch (error) {
            unit.reject(error);
          }
        }
        if (ready.length === 0) return;
        let messages: Awaited<ReturnType<typeof send>>;
        try {
          messages = (await db.execProtocol(concat(ready.flatMap((r) => execution(r.statement, r.unit.params))), { syncToFs: true, throwOnError: false })).messages;
        } catch (error) {
          for (const r of ready) r.unit.reject(error);
          return;
        }
        // Each statement's messages end with the ReadyForQuery of its Sync.
        let from = 0;
        for (const r of ready) {
          let to = from;
          while (to < messages.length && messages[to]!.name !== 'readyForQuery') to++;
          const own = messages.slice(from, to + 1);
          from = to + 1;
          // With throwOnError off, an ErrorResponse stays among the messages (PGlite's DatabaseError).
          const failure = own.find((m) => m.name === 'error');
          if (failure) r.unit.reject(failure);
          else r.unit.resolve(resultOf(own));
        }
      }).catch((error: unknown) => {
        for (const unit of lone.splice(0)) unit.reject(error);
      });
    });

  return {
    kind: 'pglite',
    query: <R = Row>(sql: string, params: readonly unknown[] = []) => standalone(() => run<R>(sql, params, null, true)),
    exec: (sql: string) => standalone(() => script(sql, null, true)),
    async transaction<T>(fn: (q: TxQueryable) => Promise<T>): Promise<T> {
      // PGlite's transaction lock is taken with the first statement and held until COMMIT/ROLLBACK, so
      // a transaction that sends only a lone statement never holds it while its caller thinks.
      let locked: Promise<void> | null = null;
      let unlock: () => void = () => {};
      const lock = () =>
        (locked ??= new Promise<void>((acquired, failed) => {
          db._runExclusiveTransaction(
            () =>
              new Promise<void>((release) => {
                unlock = release;
                acquired();
              }),
          ).catch(failed);
        }));
      let begun = false;
      let done = false;
      /** The BEGIN to send with the next exchange, once. */
      const opening = (): Uint8Array | null => {
        if (done) throw new Error('The transaction is finished');
        if (begun) return null;
        begun = true;
        return BEGIN;
      };
      const inTransaction = async <V>(fn: (prefix: Uint8Array | null) => Promise<V>): Promise<V> => {
        await lock();
        return db._runExclusiveQuery(() => fn(opening()));
      };
      const q: TxQueryable = {
        get begun() {
          return begun;
        },
        query: <R = Row>(sql: string, params: readonly unknown[] = []) => inTransaction((prefix) => run<R>(sql, params, prefix, false)),
        exec: (sql: string) => inTransaction((prefix) => script(sql, prefix, false)),
        // Nothing sent yet: the statement is atomic on its own, committed as it runs, batched with
        // other transactions' lone statements. (What the caller reads after it, to explain a failure,
        // opens a transaction like any first statement.)
        last: <R = Row>(sql: string, params: readonly unknown[]) =>
          begun ? db._runExclusiveQuery(() => run<R>(sql, params, null, false)) : sendLone<R>(sql, params),
      };
      try {
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
      } finally {
        unlock();
      }
    },
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
