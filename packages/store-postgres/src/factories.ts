/**
 * Store factories and the operator-facing `migrate()`.
 *
 * @module
 */
import { PGlite } from '@electric-sql/pglite';
import { silentLogger, type Logger } from '@tender/core';
import pg from 'pg';
import type { Driver } from './driver';
import { createPgDriver } from './drivers/pg';
import { createPGliteDriver } from './drivers/pglite';
import { lockDataDir } from './data-dir-lock';
import { checkDataDirVersion } from './data-dir-version';
import { createPGliteFromTemplate, isNewDataDir } from './pglite-template';
import { runMigrations, type MigrationResult } from './migrate';
import { checkSchemaName, DEFAULT_SCHEMA } from './schema';
import { PostgresStore, type PostgresStoreOptions } from './store';

/** The connection option behind the `genericPlans` option of {@link CreatePostgresStoreOptions}, for pools you create. */
export const GENERIC_PLANS_OPTION = '-c plan_cache_mode=force_generic_plan';

/** Options of {@link createPostgresStore}: give a `pool` you own, or a `connectionString` for one the store owns. */
export type CreatePostgresStoreOptions = PostgresStoreOptions & {
  /**
   * Use named prepared statements (default true). Turn off behind a pooler that cannot keep them
   * (PgBouncer in transaction mode before 1.21).
   */
  prepareStatements?: boolean;
  /**
   * Plan every statement once per connection (`plan_cache_mode=force_generic_plan`, sent as a
   * connection option by store-owned pools; default true). Tender's statements are primary-key and
   * index lookups whose plans do not depend on the parameters, and re-planning its write batches on
   * each call costs Postgres more than running them. Turn off behind a pooler that rejects the
   * `options` startup parameter (PgBouncer without `ignore_startup_parameters = options`). For a pool
   * you create, pass {@link GENERIC_PLANS_OPTION} in its `options` to get the same.
   */
  genericPlans?: boolean;
  /** Where errors of idle pool connections are reported (store-owned pools only). */
  logger?: Logger;
} & (
    | {
        /** A pool you manage; `close()` leaves it open. Attach your own `pool.on('error')` handler. */
        pool: pg.Pool;
        connectionString?: never;
      }
    | {
        /** e.g. `postgres://user@127.0.0.1:5432/db`; the store creates and owns the pool. */
        connectionString: string;
        /** Extra settings for the owned pool (`max`, timeouts, TLS...). */
        poolConfig?: pg.PoolConfig;
        pool?: never;
      }
  );

/**
 * A store on node-postgres. Runs pending migrations first unless `migrate: false`.
 *
 * @example
 * ```ts
 * const store = await createPostgresStore({ connectionString: process.env.DATABASE_URL! });
 * const tender = createTender({ gateways, store });
 * ```
 */
export async function createPostgresStore(options: CreatePostgresStoreOptions): Promise<PostgresStore> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  let pool: pg.Pool;
  let owns = false;
  if (options.pool) {
    pool = options.pool;
  } else {
    const startup = [options.genericPlans === false ? '' : GENERIC_PLANS_OPTION, options.poolConfig?.options ?? ''].filter(Boolean).join(' ');
    pool = new pg.Pool({
      connectionString: options.connectionString,
      // Fail fast with a retryable error rather than hang when Postgres is unreachable.
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      ...options.poolConfig,
      ...(startup ? { options: startup } : {}),
    });
    owns = true;
    const logger = options.logger ?? silentLogger;
    // Without a listener, an idle connection dropped by a Postgres restart would crash the process.
    pool.on('error', (error) => logger.warn({ err: error.message }, 'tender store: idle Postgres connection lost'));
  }
  const driver = createPgDriver(pool, { ownsPool: owns, prepare: options.prepareStatements ?? true });
  return open(driver, schema, options.migrate, options.groupCommit);
}

/** Options of {@link createPGliteStore}. */
export type CreatePGliteStoreOptions = PostgresStoreOptions & {
  /**
   * Directory the database persists in; in memory when omitted. One process per directory: the store
   * locks it (`<dataDir>.lock`, beside it) and fails with `data_dir_locked` while another process or
   * store holds it. A killed holder's lock goes stale within 12 s, and the store waits that long. A
   * directory written by another Postgres major (an older PGlite: 0.3.x wrote Postgres 17) fails with
   * `pglite_data_dir_incompatible` and is left as it was; docs/upgrading-pglite.md has the way across.
   */
  dataDir?: string;
  /** An already open PGlite (then `dataDir` is ignored and `close()` leaves it open). */
  db?: PGlite;
  /**
   * Start a new database from a cached copy of an empty one instead of running `initdb` (default
   * true): about a second instead of several. The copy lives in a per-user cache directory under the
   * OS temp directory, one per PGlite version (see `pglite-template.ts`). `false` always runs `initdb`.
   */
  template?: boolean;
};

/**
 * A store on embedded PGlite (Postgres in WASM): the zero-setup default of the reference server.
 * Same schema and statements as {@link createPostgresStore}.
 */
export async function createPGliteStore(options: CreatePGliteStoreOptions = {}): Promise<PostgresStore> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const owns = options.db === undefined;
  // Only a directory this store opens is locked; an open PGlite handed in is the caller's to guard.
  const release = owns && options.dataDir !== undefined ? await lockDataDir(options.dataDir) : null;
  let db: PGlite;
  try {
    // Before PGlite touches it: a directory of another Postgres major fails with a typed error.
    if (owns && options.dataDir !== undefined) checkDataDirVersion(options.dataDir);
    const fresh = options.dataDir === undefined || isNewDataDir(options.dataDir);
    db = options.db ?? (fresh && options.template !== false ? await createPGliteFromTemplate(options.dataDir) : await PGlite.create(options.dataDir));
  } catch (error) {
    await release?.();
    throw error;
  }
  return open(createPGliteDriver(db, { ownsDb: owns, ...(release ? { afterClose: release } : {}) }), schema, options.migrate, options.groupCommit);
}

async function open(driver: Driver, schema: string, migrate = true, groupCommit?: PostgresStoreOptions['groupCommit']): Promise<PostgresStore> {
  const store = new PostgresStore(driver, schema, { groupCommit });
  if (migrate) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
  }
  return store;
}

/**
 * Applies pending migrations (for operators: `tender-server migrate`). Takes a pool, a connection
 * string or a PGlite; safe to run while other instances start.
 */
export async function migrate(
  db: pg.Pool | PGlite | string,
  options: { schema?: string } = {},
): Promise<MigrationResult> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  let driver: Driver;
  if (typeof db === 'string') {
    driver = createPgDriver(new pg.Pool({ connectionString: db, max: 1 }), { ownsPool: true, prepare: false });
  } else if (isPool(db)) {
    driver = createPgDriver(db, { ownsPool: false, prepare: false });
  } else {
    driver = createPGliteDriver(db, { ownsDb: false });
  }
  try {
    return await runMigrations(driver, schema);
  } finally {
    await driver.close();
  }
}

// Duck-typed rather than `instanceof`, which fails across duplicate copies of a driver package.
function isPool(db: pg.Pool | PGlite): db is pg.Pool {
  return typeof (db as pg.Pool).connect === 'function' && typeof (db as PGlite).exec !== 'function';
}
