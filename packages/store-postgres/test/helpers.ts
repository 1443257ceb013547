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

/** A parameter value as the text of a Postgres literal (arrays as array literals). */
export function literal(value: unknown): string {
  if (Array.isArray(value)) {
    const item = (v: unknown) => (v === null || v === undefined ? 'NULL' : `"${literal(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
    return `{${value.map(item).join(',')}}`;
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** A statement as a store sent it: its text and parameter values. */
export interface SentStatement {
  text: string;
  values: unknown[];
}

/** A pool on the test database that records every statement sent through it into `sent`. */
export function recordingPool(sent: SentStatement[], config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, ...config });
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const [first, second] = args as [string | { text: string; values?: unknown[] }, unknown[] | undefined];
      if (typeof first === 'string') sent.push({ text: first, values: second ?? [] });
      else if (first && typeof first.text === 'string') sent.push({ text: first.text, values: first.values ?? [] });
      return query(...args);
    };
  });
  return pool;
}

/**
 * The generic plan (what a store-owned pool runs, `plan_cache_mode=force_generic_plan`) of a sent
 * statement with its values, as EXPLAIN prints it. Nothing it runs is kept.
 */
export async function genericPlan(client: pg.PoolClient, { text, values }: SentStatement): Promise<string> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await client.query(`PREPARE planned_statement AS ${text}`);
    // EXECUTE takes its arguments as literals (no $n in a utility statement); each is coerced to the
    // type Postgres inferred for the parameter.
    const args = values.map((v) => (v === null || v === undefined ? 'NULL' : client.escapeLiteral(literal(v)))).join(', ');
    const { rows } = await client.query(`EXPLAIN EXECUTE planned_statement${args ? `(${args})` : ''}`);
    return rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK');
    // Prepared statements outlive the transaction.
    await client.query('DEALLOCATE ALL');
  }
}
