/**
 * store-postgres-batched: payments created and captured through the engine on PostgresStore with
 * group commit (the store factories' `groupCommit` option: concurrent units of work share one
 * transaction and one commit), 32 callers, against the per-request raw baseline: the fewest statements
 * with a similar durable effect, each request on its own (two commits, four rows; raw-sql.ts `rawOp`),
 * the same 32 callers on the same pool. Rounds alternate A/B/A/B.
 *
 * When the built `@tender/store-postgres` has no `groupCommit` option the figure is the engine without
 * it, marked `group_commit: not available`, and the target is not met.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GENERIC_PLANS_OPTION, createPostgresStore } from '@tender/store-postgres';
import pg from 'pg';
import { alternateThroughput, compare, round3, roundsText, withTarget, type BenchResult } from './lib';
import { rawOp } from './raw-sql';
import { engineOp } from './store-engine-op';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONCURRENCY = 32;
/** Both sides' pool: on a 2-core machine more backends than this make every statement dearer. */
const POOL_MAX = 16;
const ROUNDS = 4;
const ROUND_MS = 1500;
const TARGET = 1.2;

/** Whether the built store takes the option: its published types are what users compile against. */
function groupCommitAvailable(): boolean {
  const types = readFileSync(new URL('../packages/store-postgres/dist/index.d.ts', import.meta.url), 'utf8');
  return /\bgroupCommit\??:/.test(types);
}

export default async function storePostgresBatched(): Promise<BenchResult> {
  const available = groupCommitAvailable();
  const schema = `tender_bench_gc_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: POOL_MAX, options: GENERIC_PLANS_OPTION });
  pool.on('error', () => {});
  // A spread, so this compiles against a store without the option too (it is then not passed).
  const groupCommit: Record<string, unknown> = available ? { groupCommit: true } : {};
  const store = await createPostgresStore({ pool, schema, ...groupCommit });
  try {
    const main = await alternateThroughput(engineOp(store), rawOp(pool, schema), { rounds: ROUNDS, ms: ROUND_MS, concurrency: CONCURRENCY });
    const result = compare(
      'store-postgres-batched',
      main.meanA,
      available ? 'create+capture/s (engine, group commit)' : 'create+capture/s (engine; group commit not available)',
      'raw SQL per request: 2 commits, 4 rows, same pg.Pool (create+capture/s)',
      main.meanB,
      {
        group_commit: available ? 'on (defaults)' : 'not available in the built @tender/store-postgres',
        concurrency: CONCURRENCY,
        pool_max: POOL_MAX,
        rounds: roundsText(main),
        median_round_ratio: round3(main.medianRatio),
      },
    );
    return withTarget(result, `ratio >= ${TARGET} with group commit`, available && result.ratio! >= TARGET);
  } finally {
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}
