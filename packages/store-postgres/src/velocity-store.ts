/**
 * `PostgresVelocityStore`: the risk engine's {@link VelocityStore} on Postgres or PGlite (migration
 * 11's `risk_velocity`), shared by every server instance on the same database.
 *
 * One call is one transaction: it takes a transaction-scoped advisory lock per key value of the
 * attempt (in a fixed order, so two calls never wait on each other in a cycle), inserts the attempt
 * under each key (once: a retried attempt id is not counted again), and counts the windows asked for.
 * The lock is released at COMMIT, after the insert is visible, so of two concurrent attempts sharing a
 * key value the one that locks second counts the first (READ COMMITTED takes a new snapshot per
 * statement: https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED).
 * Advisory locks of two 32-bit keys live apart from the one-bigint locks migrations take
 * (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS); a collision of the
 * 32-bit hash of two key values only makes their attempts wait for each other.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import type { VelocityAttempt, VelocityCount, VelocityQuery, VelocityStore } from '@tender/core';
import pg from 'pg';
import type { Driver } from './driver';
import { createPgDriver } from './drivers/pg';
import { createPGliteDriver } from './drivers/pglite';
import { toStoreError } from './errors';
import { checkSchemaName, DEFAULT_SCHEMA, quoteIdent } from './schema';

/** First key of the velocity store's advisory locks: `'risk'` as a 32-bit integer. */
const LOCK_CLASS = 0x7269736b;

/** The statements of one schema. */
function statements(schema: string) {
  const table = `${quoteIdent(schema)}.risk_velocity`;
  return {
    // unnest keeps the array's order, so the locks are taken in the order sorted below.
    lock: `SELECT count(pg_advisory_xact_lock(${LOCK_CLASS}, k)) AS n FROM unnest($1::int[]) AS k`,
    insert: `INSERT INTO ${table} (kind, key, attempt_id, at, amount_minor, currency)
      SELECT u.kind, u.key, $3::text, $4::timestamptz, $5::bigint, $6::text FROM unnest($1::text[], $2::text[]) AS u (kind, key)
      ON CONFLICT DO NOTHING`,
    // One index range per query: (kind, key, at) with the amounts in the index (an index-only scan).
    // No upper bound on at: an attempt stamped later that locked first (another instance's clock,
    // or a call that waited for the lock) was made before this one and counts.
    count: `SELECT q.n::int AS n, c.count, c.sum FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS q (kind, key, since, n)
      CROSS JOIN LATERAL (SELECT count(*)::int AS count, coalesce(sum(v.amount_minor) FILTER (WHERE v.currency = $4), 0)::text AS sum
        FROM ${table} v WHERE v.kind = q.kind AND v.key = q.key AND v.at > q.since) c
      ORDER BY q.n`,
    prune: `DELETE FROM ${table} WHERE at < $1::timestamptz`,
  };
}

/** The signed 32-bit lock key of a (schema, kind, value). */
function lockKey(schema: string, kind: string, value: string): number {
  return createHash('sha256').update(`${schema}\u0000${kind}\u0000${value}`).digest().readInt32BE(0);
}

/**
 * A {@link VelocityStore} in a Postgres schema migrated to version 11 or later. Get one from a store
 * (`createPostgresVelocityStore({ store })`) or over its own pool (`createPostgresVelocityStore({ connectionString })`).
 */
export class PostgresVelocityStore implements VelocityStore {
  readonly #driver: Driver;
  readonly #schema: string;
  readonly #st: ReturnType<typeof statements>;
  readonly #owned: boolean;

  /** Prefer `createPostgresVelocityStore`. `owned`: `close()` closes the driver. */
  constructor(driver: Driver, schema: string, options: { owned?: boolean } = {}) {
    this.#driver = driver;
    this.#schema = schema;
    this.#st = statements(schema);
    this.#owned = options.owned ?? false;
  }

  async recordAndCount(attempt: VelocityAttempt, queries: readonly VelocityQuery[]): Promise<VelocityCount[]> {
    const keys = Object.entries(attempt.keys).filter((entry): entry is [string, string] => entry[1] !== undefined);
    const asked = queries.map((q, i) => ({ i, kind: q.key, key: attempt.keys[q.key], since: new Date(attempt.at.getTime() - q.windowMs).toISOString() }));
    const answered = asked.filter((q): q is typeof q & { key: string } => q.key !== undefined);
    const locks = [...new Set(keys.map(([kind, value]) => lockKey(this.#schema, kind, value)))].sort((a, b) => a - b);
    const at = attempt.at.toISOString();
    try {
      const rows = await this.#driver.transaction(async (q) => {
        if (keys.length === 0) return [];
        await q.query(this.#st.lock, [locks]);
        await q.query(this.#st.insert, [keys.map(([k]) => k), keys.map(([, v]) => v), attempt.id, at, attempt.amountMinor, attempt.currency]);
        if (answered.length === 0) return [];
        const { rows } = await q.query<{ n: number; count: number; sum: string }>(this.#st.count, [
          answered.map((a) => a.kind),
          answered.map((a) => a.key),
          answered.map((a) => a.since),
          attempt.currency,
        ]);
        return rows;
      });
      const out: VelocityCount[] = queries.map(() => ({ count: 0, sumMinor: 0 }));
      rows.forEach((row, j) => {
        out[answered[j]!.i] = { count: Number(row.count), sumMinor: Number(row.sum) };
      });
      return out;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async prune(before: Date): Promise<void> {
    try {
      await this.#driver.query(this.#st.prune, [before.toISOString()]);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#driver.close();
  }
}

/**
 * Options of {@link createPostgresVelocityStore}: a store's connections (`store`, the usual way), or
 * a pool, a connection string or an open PGlite of a database whose schema the store migrated.
 */
export type CreatePostgresVelocityStoreOptions =
  | { store: { velocityStore(): PostgresVelocityStore } }
  | ({ schema?: string } & ({ pool: pg.Pool } | { connectionString: string; poolConfig?: pg.PoolConfig } | { db: PGlite }));

/**
 * A velocity store on Postgres. It runs no migration: the schema must be at migration 11 (open the
 * `PostgresStore` first, which migrates). With `connectionString` it owns a small pool (`max` 4
 * unless `poolConfig` says otherwise) that `close()` ends; a `pool`, `db` or `store` stays open.
 *
 * @example
 * ```ts
 * const store = await createPostgresStore({ connectionString });
 * const risk = createRiskEngine({ config, velocity: createPostgresVelocityStore({ store }), store });
 * ```
 */
export function createPostgresVelocityStore(options: CreatePostgresVelocityStoreOptions): PostgresVelocityStore {
  if ('store' in options) return options.store.velocityStore();
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  if ('db' in options) return new PostgresVelocityStore(createPGliteDriver(options.db, { ownsDb: false }), schema);
  if ('pool' in options) return new PostgresVelocityStore(createPgDriver(options.pool, { ownsPool: false }), schema);
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 4, connectionTimeoutMillis: 10_000, keepAlive: true, ...options.poolConfig });
  // Without a listener, an idle connection dropped by a Postgres restart would crash the process.
  pool.on('error', () => {});
  return new PostgresVelocityStore(createPgDriver(pool, { ownsPool: true }), schema, { owned: true });
}
