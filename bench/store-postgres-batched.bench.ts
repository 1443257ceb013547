/**
 * store-postgres-batched: payments created and captured through the engine on PostgresStore with
 * group commit (the store factories' `groupCommit` option: concurrent units of work share one
 * transaction and one commit), 32 callers, against the per-request raw baseline: the fewest statements
 * with a similar durable effect, each request on its own (two commits, four rows; raw-sql.ts `rawOp`),
 * the same 32 callers on the same pool. Rounds alternate A/B/A/B.
 *
 * When the built `@tender/store-postgres` has no group commit (the store reports no
 * `groupCommitStats()`) the figure is the engine without it, marked `group_commit: not available`,
 * and the target is not met. With it, `extra` has the batches' counters.
 */
import { randomBytes } from 'node:crypto';
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

/** The part of the store's group-commit counters reported here. */
interface Counters {
  units: number;
  batches: number;
  largestBatch: number;
  savepointRuns: number;
}

/** The store's group-commit counters, or null when the built store has none or it is off. */
function counters(store: object): Counters | null {
  const stats = (store as { groupCommitStats?: () => Counters | null }).groupCommitStats;
  return typeof stats === 'function' ? stats.call(store) : null;
}

export default async function storePostgresBatched(): Promise<BenchResult> {
  const schema = `tender_bench_gc_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: POOL_MAX, options: GENERIC_PLANS_OPTION });
  pool.on('error', () => {});
  // A spread, so this compiles against a built store whose types lack the option (it is then ignored,
  // and the counters below say so).
  const groupCommit: Record<string, unknown> = { groupCommit: true };
  const store = await createPostgresStore({ pool, schema, ...groupCommit });
  try {
    const main = await alternateThroughput(engineOp(store), rawOp(pool, schema), { rounds: ROUNDS, ms: ROUND_MS, concurrency: CONCURRENCY });
    const stats = counters(store);
    const available = stats !== null;
    const result = compare(
      'store-postgres-batched',
      main.meanA,
      available ? 'create+capture/s (engine, group commit)' : 'create+capture/s (engine; group commit not available)',
      'raw SQL per request: 2 commits, 4 rows, same pg.Pool (create+capture/s)',
      main.meanB,
      {
        group_commit: available ? 'on (defaults)' : 'not available in the built @tender/store-postgres',
        ...(stats
          ? { units_batched: stats.units, batches: stats.batches, mean_batch: round3(stats.units / Math.max(1, stats.batches)), largest_batch: stats.largestBatch, savepoint_runs: stats.savepointRuns }
          : {}),
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
