/**
 * Test plumbing: every test file works in schemas of its own (`tender_test_<random>`) in the shared
 * `test` database, so suites of other packages using the same database never see its rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The real Postgres the suite runs against (127.0.0.1:5432, database `test`, trust auth). */
export const DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test uses. */
export function uniqueSchema(tag = 't'): string {
  return `tender_test_${tag}_${randomBytes(5).toString('hex')}`;
}

/** A pool on the test database; fails with a clear message when Postgres is not there. */
export async function testPool(config: pg.PoolConfig = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, ...config });
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw new Error(
      `Postgres is required for @tender/store-postgres tests (${DATABASE_URL}); start it with ` +
        `'pg_ctlcluster --skip-systemctl-redirect <version> main start'. Cause: ${String(error)}`,
    );
  }
  return pool;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
