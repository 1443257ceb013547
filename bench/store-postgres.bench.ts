/**
 * store-postgres: payments created and captured through the engine, persisted by PostgresStore on the
 * real Postgres, with 16 callers, against `raw_engine_effect`: the same rows written and committed at
 * the same points in hand-written SQL (a payment and three later versions of it, four transitions,
 * four outbox events, an idempotency key written and completed; one statement per commit, four
 * commits, see raw-sql.ts) through the same `pg.Pool`. The ratio is what the store and engine code
 * cost over the least any code doing this work could send. Rounds alternate A/B/A/B.
 *
 * Also recorded (`extra`): the older baseline, the fewest statements with a similar durable effect
 * (two commits, four rows: no audit trail, one outbox row, no intermediate states); the raw
 * statements' effect through the Store API (the store layer alone); the engine on MemoryStore (its
 * own ceiling on this machine). Both sides share a pool opened as store-owned pools are
 * (`GENERIC_PLANS_OPTION`). Needs Postgres at BENCH_DATABASE_URL / TEST_DATABASE_URL.
 */
import { randomBytes } from 'node:crypto';
import { newId, type Payment, type Store } from '@tender/core';
import { MemoryStore, samplePayment } from '@tender/core/testing';
import { GENERIC_PLANS_OPTION, createPostgresStore } from '@tender/store-postgres';
import pg from 'pg';
import { alternateThroughput, compare, round3, roundsText, throughput, withTarget, type BenchResult } from './lib';
import { rawEngineEffectOp, rawOp } from './raw-sql';
import { engineOp } from './store-engine-op';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONCURRENCY = 16;
const ROUNDS = 4;
const ROUND_MS = 1500;
const TARGET = 0.9;

/** The raw statements' effect issued through the Store API (same two transactions). */
function storeApiOp(store: Store): () => Promise<void> {
  return async () => {
    const now = new Date().toISOString();
    const payment: Payment = samplePayment({ merchantId: 'default', status: 'AUTHORIZED', captureMethod: 'manual', createdAt: now, updatedAt: now });
    await store.transaction(async (tx) => {
      await tx.claimIdempotencyKey({
        merchantId: 'default', key: `api-${payment.id}`, fingerprint: 'fp', state: 'completed', lockedUntil: null, recoveryPoint: 'finished',
        resourceType: 'payment', resourceId: payment.id, response: null, createdAt: now, expiresAt: now,
      });
      await tx.insertPayment(payment);
    });
    await store.transaction(async (tx) => {
      const captured = { ...payment, status: 'CAPTURED' as const, amountCaptured: payment.amount, version: 2 };
      await tx.updatePayment(captured);
      await tx.enqueueOutbox({ id: newId('evt'), merchantId: 'default', type: 'payment.captured', paymentId: payment.id, refundId: null, data: { id: payment.id }, createdAt: now });
    });
  };
}

async function measure(fn: () => Promise<void>, ms: number): Promise<number> {
  await throughput(fn, { ms: 300, concurrency: CONCURRENCY });
  return throughput(fn, { ms, concurrency: CONCURRENCY });
}

export default async function storePostgres(): Promise<BenchResult> {
  const schema = `tender_bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: CONCURRENCY, options: GENERIC_PLANS_OPTION });
  pool.on('error', () => {});
  const store = await createPostgresStore({ pool, schema });
  try {
    const engine = engineOp(store);
    const effect = rawEngineEffectOp(pool, schema);
    const main = await alternateThroughput(engine, effect, { rounds: ROUNDS, ms: ROUND_MS, concurrency: CONCURRENCY });
    const minimal = await alternateThroughput(engine, rawOp(pool, schema), { rounds: 2, ms: ROUND_MS, concurrency: CONCURRENCY });
    const api = await measure(storeApiOp(store), 1000);
    const memory = await measure(engineOp(new MemoryStore()), 1000);
    const result = compare('store-postgres', main.meanA, 'create+capture/s', 'raw_engine_effect: the engine\'s rows and commits in hand-written SQL, same pg.Pool (create+capture/s)', main.meanB, {
      concurrency: CONCURRENCY,
      pool_max: CONCURRENCY,
      rounds: roundsText(main),
      median_round_ratio: round3(main.medianRatio),
      raw_minimal_c16: Math.round(minimal.meanB),
      engine_vs_raw_minimal_c16: round3(minimal.medianRatio),
      store_api_c16: Math.round(api),
      store_api_vs_raw_minimal_c16: round3(api / minimal.meanB),
      engine_memorystore_c16: Math.round(memory),
      per_op: 'engine and raw_engine_effect: 4 commits (the payment persisted before each gateway call), 4 transitions, 4 outbox events; raw minimal: 8 statements, 2 commits, 4 rows',
    });
    return withTarget(result, `ratio >= ${TARGET}`, result.ratio! >= TARGET);
  } finally {
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}
